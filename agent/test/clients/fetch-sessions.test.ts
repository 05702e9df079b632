/**
 * Fetch sessions with real clients. The Java consumer (Kafka 4.1's console consumer) uses them by
 * default: it opens a session and fetches incrementally; when its session is evicted it is answered
 * FETCH_SESSION_ID_NOT_FOUND and starts over with a full fetch, which a full cache answers without a
 * session; across an agent restart it carries on with a new session. librdkafka (kcat 2.0.2, the
 * Python client's 2.16) and kafkajs never ask for one: every fetch is sessionless (epoch −1).
 */
import assert from "node:assert/strict";
import { Kafka, logLevel } from "kafkajs";
import { eventually } from "../../../e2e/support/eventually.js";
import { ensureKafkaTools, startKafkaTool } from "../../../e2e/support/kafka-tools.js";
import { runKcat } from "../../../e2e/support/kcat.js";
import { ensureConfluentKafka, jsonLines, runPythonScript } from "../../../e2e/support/python-client.js";
import type { FetchSessionOutcome } from "../../src/fetch/sessions.js";
import { ApiKey, ErrorCode } from "../../src/protocol/index.js";
import { buildBatch } from "../records/batch-builder.js";
import { startTestAgent } from "../support/agents.js";
import type { TestAgent } from "../support/agents.js";
import { RawKafkaClient } from "../support/raw-kafka-client.js";

const PARTITIONS = 4;

type Counts = Record<FetchSessionOutcome | "evicted", number>;

const counts = (agent: TestAgent): Counts => ({ ...agent.running.context.fetchSessions.counts });

/** How much each count grew since `before`. */
function grown(agent: TestAgent, before: Counts): Counts {
  const now = counts(agent);
  return Object.fromEntries(Object.entries(now).map(([k, v]) => [k, v - before[k as keyof Counts]])) as Counts;
}

async function createTopic(agent: TestAgent, name: string, partitions = PARTITIONS): Promise<void> {
  const client = await RawKafkaClient.connect(agent.port);
  try {
    const r = await client.request(ApiKey.CreateTopics, 4, {
      topics: [{ name, numPartitions: partitions, replicationFactor: 1, assignments: [], configs: [] }],
      timeoutMs: 10_000,
      validateOnly: false,
    });
    assert.equal(r.topics[0]!.errorCode, ErrorCode.NONE);
  } finally {
    client.close();
  }
}

/** Produces `values` round-robin over the topic's partitions, one batch per partition. */
async function produce(agent: TestAgent, topic: string, values: readonly string[]): Promise<void> {
  const client = await RawKafkaClient.connect(agent.port);
  try {
    const r = await client.request(ApiKey.Produce, 7, {
      transactionalId: null,
      acks: -1,
      timeoutMs: 10_000,
      topicData: [
        {
          name: topic,
          partitionData: Array.from({ length: PARTITIONS }, (_, p) => ({
            index: p,
            records: buildBatch(values.filter((_, i) => i % PARTITIONS === p).map((value) => ({ value }))),
          })),
        },
      ],
    });
    for (const p of r.responses[0]!.partitionResponses) assert.equal(p.errorCode, ErrorCode.NONE);
  } finally {
    client.close();
  }
}

const values = (prefix: string, n: number): string[] => Array.from({ length: n }, (_, i) => `${prefix}-${i}`);

/** A console consumer left running: it prints each value and exits after `max` records. */
async function startConsoleConsumer(bootstrap: string, topic: string, max: number) {
  const lines: string[] = [];
  const consumer = await startKafkaTool(
    "console-consumer",
    [
      "--bootstrap-server",
      bootstrap,
      "--topic",
      topic,
      "--from-beginning",
      "--max-messages",
      String(max),
      "--timeout-ms",
      "90000",
      // Reconnect quickly to an agent that comes back.
      "--consumer-property",
      "reconnect.backoff.max.ms=200",
    ],
    { timeoutMs: 180_000, onStdoutLine: (line) => lines.push(line) },
  );
  return { lines, consumer };
}

describe("Fetch sessions with real clients", function () {
  this.timeout(300_000);

  before(async () => {
    await ensureKafkaTools();
  });

  describe("the Java consumer (console consumer, Kafka 4.1.1)", () => {
    let agent: TestAgent | undefined;
    afterEach(async () => {
      await agent?.stop();
      agent = undefined;
    });

    it("opens a session, fetches incrementally, and closes the session when it exits", async () => {
      agent = await startTestAgent({ autoCreateTopics: "false" });
      await createTopic(agent, "java-sessions");
      await produce(agent, "java-sessions", values("a", 200));
      const { lines, consumer } = await startConsoleConsumer(agent.bootstrap, "java-sessions", 400);
      try {
        await eventually(() => lines.length >= 200, { what: "the first 200 records", timeoutMs: 90_000 });
        // Long polls on an idle topic: incremental fetches of the same session, answered nothing.
        const idle = counts(agent);
        await eventually(() => grown(agent!, idle).incremental >= 3, {
          what: "incremental fetches",
          timeoutMs: 30_000,
        });
        await produce(agent, "java-sessions", values("b", 200));
        const result = await consumer.result;
        assert.equal(result.code, 0, result.stderr);
      } finally {
        consumer.kill();
      }
      assert.deepEqual(new Set(lines), new Set([...values("a", 200), ...values("b", 200)]));
      const c = counts(agent);
      assert.ok(c.created >= 1, `a session was created (${JSON.stringify(c)})`);
      assert.ok(c.incremental >= 3, `incremental fetches (${JSON.stringify(c)})`);
      assert.equal(c.id_not_found + c.invalid_epoch, 0, JSON.stringify(c));
      // On close it sends a final fetch (epoch −1) naming its session, which closes it.
      assert.ok(c.sessionless >= 1, JSON.stringify(c));
      assert.equal(agent.running.context.fetchSessions.size, 0);
    });

    it("starts over with a full fetch when its session is evicted, and goes on without one when the cache is full", async () => {
      // One slot; a session may give way to a larger one once used 2 s after its creation (Kafka: 2 minutes).
      const EVICTION_MS = 2_000;
      agent = await startTestAgent(
        { autoCreateTopics: "false", fetchSessionCacheSlots: "1" },
        { fetchSessionEvictionMs: EVICTION_MS },
      );
      await createTopic(agent, "java-evicted");
      await createTopic(agent, "other", PARTITIONS + 1);
      await produce(agent, "java-evicted", values("a", 100));
      const { lines, consumer } = await startConsoleConsumer(agent.bootstrap, "java-evicted", 200);
      const sessions = agent.running.context.fetchSessions;
      const raw = await RawKafkaClient.connect(agent.port);
      const rawFetch = (sessionId: number, sessionEpoch: number, partitions: number) =>
        raw.request(ApiKey.Fetch, 12, {
          replicaId: -1,
          maxWaitMs: 200,
          minBytes: 1,
          maxBytes: 1 << 20,
          isolationLevel: 0,
          sessionId,
          sessionEpoch,
          topics:
            partitions === 0
              ? []
              : [
                  {
                    topic: "other",
                    partitions: Array.from({ length: partitions }, (_, partition) => ({
                      partition,
                      fetchOffset: 0n,
                      partitionMaxBytes: 1 << 20,
                    })),
                  },
                ],
          forgottenTopicsData: [],
          rackId: "",
        });
      let keepingAlive = true;
      let keepAlive: Promise<void> = Promise.resolve();
      try {
        await eventually(() => lines.length >= 100, { what: "the first 100 records", timeoutMs: 90_000 });
        const [javaSession] = sessions.sessionIds();
        assert.ok(javaSession !== undefined, "the consumer holds the one slot");
        // Its session is used (long polls) past the eviction time after its creation.
        await new Promise((r) => setTimeout(r, EVICTION_MS + 1_000));
        assert.deepEqual(sessions.sessionIds(), [javaSession], "still the consumer's");

        // A session of one partition more takes the slot, and is kept in use.
        const larger = await rawFetch(0, 0, PARTITIONS + 1);
        assert.notEqual(larger.sessionId, 0, "the larger session took the slot");
        assert.deepEqual(sessions.sessionIds(), [larger.sessionId]);
        assert.equal(counts(agent).evicted, 1);
        keepAlive = (async () => {
          for (let epoch = 1; keepingAlive; epoch++) {
            const r = await rawFetch(larger.sessionId, epoch, 0);
            assert.equal(r.errorCode, ErrorCode.NONE);
          }
        })();

        // The consumer's next incremental fetch is answered FETCH_SESSION_ID_NOT_FOUND; its full fetch
        // finds no free slot and is answered with session id 0; it goes on with full fetches.
        await eventually(() => counts(agent!).id_not_found >= 1, {
          what: "FETCH_SESSION_ID_NOT_FOUND",
          timeoutMs: 30_000,
        });
        await eventually(() => counts(agent!).not_created >= 1, {
          what: "a full fetch without a slot",
          timeoutMs: 30_000,
        });
        await produce(agent, "java-evicted", values("b", 100));
        const result = await consumer.result;
        assert.equal(result.code, 0, result.stderr);
      } finally {
        keepingAlive = false;
        await keepAlive;
        raw.close();
        consumer.kill();
      }
      assert.deepEqual(new Set(lines), new Set([...values("a", 100), ...values("b", 100)]));
      const c = counts(agent);
      assert.equal(c.id_not_found, 1, JSON.stringify(c));
      assert.equal(c.created, 2, `the consumer's session and the larger one only (${JSON.stringify(c)})`);
      assert.ok(c.not_created >= 2, `the consumer kept fetching without a session (${JSON.stringify(c)})`);
    });

    // The consumer sees its connection drop, so its first fetch to the restarted agent is a full fetch
    // naming its old session (FetchSessionHandler.handleError: nextCloseExisting), not an incremental one:
    // the new agent opens a session for it. (An incremental fetch there would be answered
    // FETCH_SESSION_ID_NOT_FOUND, as after an eviction above.)
    it("carries on across an agent restart with a session on the new agent", async () => {
      const bucketURL = `mem://java-restart-${process.pid}-${Date.now()}`;
      const first = await startTestAgent({ bucketURL, autoCreateTopics: "false" });
      agent = first;
      await createTopic(first, "java-restart");
      await produce(first, "java-restart", values("a", 100));
      const { lines, consumer } = await startConsoleConsumer(first.bootstrap, "java-restart", 200);
      try {
        await eventually(() => lines.length >= 100, { what: "the first 100 records", timeoutMs: 90_000 });
        await eventually(() => counts(first).incremental >= 2, { what: "incremental fetches", timeoutMs: 30_000 });
        const oldSession = first.running.context.fetchSessions.sessionIds()[0];
        assert.ok(oldSession !== undefined);
        // The same node id and port, a new process: no sessions.
        await first.stop();
        agent = undefined;
        const second = await startTestAgent({ bucketURL, autoCreateTopics: "false", kafkaPort: String(first.port) });
        agent = second;
        await produce(second, "java-restart", values("b", 100));
        const result = await consumer.result;
        assert.equal(result.code, 0, result.stderr);
        assert.deepEqual(new Set(lines), new Set([...values("a", 100), ...values("b", 100)]));
        const c = counts(second);
        assert.ok(c.created >= 1, `a session on the new agent (${JSON.stringify(c)})`);
        assert.ok(c.incremental >= 1, `incremental fetches on the new agent (${JSON.stringify(c)})`);
        assert.ok(!second.running.context.fetchSessions.sessionIds().includes(oldSession));
      } finally {
        consumer.kill();
      }
    });
  });

  describe("clients that never ask for a session", () => {
    let agent: TestAgent;
    before(async () => {
      agent = await startTestAgent({ autoCreateTopics: "false" });
      await createTopic(agent, "sessionless");
      await produce(agent, "sessionless", values("v", 100));
    });
    after(async () => agent?.stop());

    it("kcat (librdkafka 2.0.2) sends every fetch sessionless", async () => {
      const before = counts(agent);
      const r = await runKcat(["-b", agent.bootstrap, "-C", "-t", "sessionless", "-o", "beginning", "-e", "-q"]);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout.split("\n").filter((l) => l.startsWith("v-")).length, 100);
      const c = grown(agent, before);
      assert.ok(c.sessionless >= 1, JSON.stringify(c));
      assert.equal(c.created + c.incremental + c.not_created, 0, JSON.stringify(c));
    });

    it("confluent-kafka (Python, bundled librdkafka) sends every fetch sessionless", async () => {
      const { librdkafkaVersion } = await ensureConfluentKafka();
      const before = counts(agent);
      const r = await runPythonScript("read_topic.py", [agent.bootstrap, "sessionless"]);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(jsonLines<{ v: string }>(r.stdout).length, 100);
      const c = grown(agent, before);
      assert.ok(c.sessionless >= 1, `librdkafka ${librdkafkaVersion}: ${JSON.stringify(c)}`);
      assert.equal(
        c.created + c.incremental + c.not_created,
        0,
        `librdkafka ${librdkafkaVersion}: ${JSON.stringify(c)}`,
      );
    });

    it("kafkajs sends every fetch sessionless", async () => {
      const before = counts(agent);
      const kafka = new Kafka({ brokers: [agent.bootstrap], clientId: "kafkajs-sessions", logLevel: logLevel.NOTHING });
      const consumer = kafka.consumer({ groupId: "kafkajs-sessions", maxWaitTimeInMs: 100 });
      const seen = new Set<string>();
      await consumer.connect();
      try {
        await consumer.subscribe({ topic: "sessionless", fromBeginning: true });
        await consumer.run({
          eachMessage: async ({ message }) => {
            seen.add(message.value!.toString());
          },
        });
        await eventually(() => seen.size === 100, { what: "100 records", timeoutMs: 60_000 });
      } finally {
        await consumer.disconnect();
      }
      const c = grown(agent, before);
      assert.ok(c.sessionless >= 1, JSON.stringify(c));
      assert.equal(c.created + c.incremental + c.not_created, 0, JSON.stringify(c));
    });
  });
});
