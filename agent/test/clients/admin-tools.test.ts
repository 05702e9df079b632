/**
 * The admin APIs operators reach for, through Apache Kafka's own tools (4.1.1) and kafkajs against a
 * real agent: kafka-delete-records (DeleteRecords) and what a consumer group below the new log start
 * does then, kafka-get-offsets (earliest = the new log start), kafka-consumer-groups --delete-offsets
 * (OffsetDelete) with Kafka's refusals, kafka-transactions describe-producers (DescribeProducers) and
 * kafka-log-dirs --describe (DescribeLogDirs).
 */
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import path from "node:path";
import { Kafka, logLevel } from "kafkajs";
import type { Consumer } from "kafkajs";
import { eventually } from "../../../e2e/support/eventually.js";
import { ensureKafkaTools, type KafkaTool, runKafkaTool } from "../../../e2e/support/kafka-tools.js";
import { startTestAgent, tempDir } from "../support/agents.js";
import type { TestAgent } from "../support/agents.js";

describe("admin tools: delete records and offsets, describe producers and log dirs (Kafka 4.1.1 tools, kafkajs)", function () {
  this.timeout(600_000);
  let agent: TestAgent;
  let dir: ReturnType<typeof tempDir>;
  let consumer: Consumer | null = null;

  /** Runs a tool against the agent; returns its stdout and stderr together, asserting exit code 0. */
  async function tool(name: KafkaTool, args: readonly string[], input?: string): Promise<string> {
    const r = await runKafkaTool(name, ["--bootstrap-server", agent.bootstrap, ...args], {
      timeoutMs: 120_000,
      ...(input !== undefined ? { input } : {}),
    });
    const out = `${r.stdout}\n${r.stderr}`;
    assert.equal(r.code, 0, `${name} ${args.join(" ")}:\n${out}`);
    return out;
  }

  async function produce(topic: string, values: readonly string[]): Promise<void> {
    await tool("console-producer", ["--topic", topic], values.join("\n") + "\n");
  }

  /** kafka-delete-records with an offset JSON file. */
  function deleteRecords(topic: string, partition: number, offset: number): Promise<string> {
    const file = path.join(dir.path, `delete-${topic}-${partition}-${offset}.json`);
    writeFileSync(file, JSON.stringify({ partitions: [{ topic, partition, offset }], version: 1 }));
    return tool("delete-records", ["--offset-json-file", file]);
  }

  async function earliest(topic: string): Promise<string> {
    return (await tool("get-offsets", ["--topic", topic, "--time", "-2"])).trim().split("\n")[0]!;
  }

  /** The rows of kafka-consumer-groups --delete-offsets output: "topic partition status". */
  function statusRows(out: string, topic: string): string[] {
    return out
      .split("\n")
      .filter((l) => l.startsWith(`${topic} `))
      .map((l) =>
        l
          .trim()
          .split(/\s{2,}/)
          .join(" | "),
      );
  }

  before(async () => {
    await ensureKafkaTools();
    dir = tempDir("admin-tools");
    agent = await startTestAgent({ autoCreateTopics: "false" });
  });
  after(async () => {
    await consumer?.disconnect().catch(() => undefined);
    await agent?.stop();
    dir?.remove();
  });

  it("kafka-delete-records moves the log start; a group committed below it resets to the new start", async () => {
    await tool("topics", ["--create", "--topic", "records", "--partitions", "1"]);
    await produce(
      "records",
      Array.from({ length: 10 }, (_, i) => `r${i}`),
    );
    await tool("consumer-groups", [
      "--reset-offsets",
      "--group",
      "behind",
      "--topic",
      "records",
      "--to-offset",
      "2",
      "--execute",
    ]);

    const deleted = await deleteRecords("records", 0, 6);
    assert.match(deleted, /partition: records-0\tlow_watermark: 6/, deleted);
    assert.equal(await earliest("records"), "records:0:6");

    // The group's committed offset (2) is below the log start now: its fetch is out of range, and the
    // Java consumer resets as auto.offset.reset says (earliest: the new log start, not offset 0 or 2).
    const consumed = await tool("console-consumer", [
      "--topic",
      "records",
      "--group",
      "behind",
      "--consumer-property",
      "auto.offset.reset=earliest",
      "--max-messages",
      "4",
      "--timeout-ms",
      "60000",
    ]);
    assert.deepEqual(
      consumed.split("\n").filter((l) => /^r\d$/.test(l)),
      ["r6", "r7", "r8", "r9"],
      consumed,
    );

    const beyond = await deleteRecords("records", 0, 11);
    assert.match(beyond, /partition: records-0\terror: .*OffsetOutOfRangeException/, beyond);
    const below = await deleteRecords("records", 0, 3);
    assert.match(below, /partition: records-0\tlow_watermark: 6/, "an offset below the log start changes nothing");
    const all = await deleteRecords("records", 0, -1);
    assert.match(all, /partition: records-0\tlow_watermark: 10/, "-1 deletes up to the high watermark");
    assert.equal(await earliest("records"), "records:0:10");
  });

  it("kafkajs deleteTopicRecords moves the log start the same way", async () => {
    const kafka = new Kafka({ brokers: [agent.bootstrap], logLevel: logLevel.NOTHING });
    const admin = kafka.admin();
    await admin.connect();
    try {
      await admin.createTopics({ topics: [{ topic: "kafkajs-records", numPartitions: 2 }] });
      const producer = kafka.producer();
      await producer.connect();
      await producer.send({
        topic: "kafkajs-records",
        messages: Array.from({ length: 8 }, (_, i) => ({ partition: i % 2, value: `v${i}` })),
      });
      await producer.disconnect();
      // kafkajs looks the leader up in its cached metadata only: load the topic's first.
      await admin.fetchTopicMetadata({ topics: ["kafkajs-records"] });
      await admin.deleteTopicRecords({ topic: "kafkajs-records", partitions: [{ partition: 1, offset: "3" }] });
      const offsets = await admin.fetchTopicOffsets("kafkajs-records");
      assert.deepEqual(offsets.map((o) => [o.partition, o.low, o.high]).sort(), [
        [0, "0", "4"],
        [1, "3", "4"],
      ]);
    } finally {
      await admin.disconnect();
    }
  });

  it("kafka-consumer-groups --delete-offsets deletes an idle group's offsets of a topic, and refuses as Kafka does", async () => {
    await tool("topics", ["--create", "--topic", "del-a", "--partitions", "2"]);
    await tool("topics", ["--create", "--topic", "del-b", "--partitions", "1"]);
    await produce("del-b", ["b0", "b1", "b2"]);
    for (const group of ["idle", "busy"])
      await tool("consumer-groups", [
        "--reset-offsets",
        "--group",
        group,
        "--topic",
        "del-a",
        "--topic",
        "del-b",
        "--to-earliest",
        "--execute",
      ]);

    const deleted = await tool("consumer-groups", ["--delete-offsets", "--group", "idle", "--topic", "del-a"]);
    assert.match(deleted, /Request succeeded for deleting offsets/, deleted);
    assert.deepEqual(statusRows(deleted, "del-a"), ["del-a | 0 | Successful", "del-a | 1 | Successful"]);
    const described = await tool("consumer-groups", ["--describe", "--group", "idle"]);
    assert.doesNotMatch(described, /del-a/, described);
    assert.match(described, /del-b/, described);

    const unknown = await tool("consumer-groups", ["--delete-offsets", "--group", "nobody", "--topic", "del-a"]);
    assert.match(unknown, /GroupIdNotFoundException/, unknown);

    // A group whose member is consuming del-b: its del-b offsets stay (GROUP_SUBSCRIBED_TO_TOPIC), those
    // of del-a, which no member subscribes to, may go.
    consumer = new Kafka({ brokers: [agent.bootstrap], logLevel: logLevel.NOTHING }).consumer({ groupId: "busy" });
    await consumer.connect();
    await consumer.subscribe({ topic: "del-b" });
    await consumer.run({ eachMessage: async () => {} });
    const groups = agent.running.context.groups;
    await eventually(() => groups.groupState("busy") === "Stable", {
      what: "the kafkajs consumer's group to be Stable",
      timeoutMs: 60_000,
    });
    const refused = await tool("consumer-groups", ["--delete-offsets", "--group", "busy", "--topic", "del-b"]);
    assert.deepEqual(
      statusRows(refused, "del-b").map((r) =>
        r.replace(/Error: .*GroupSubscribedToTopicException.*/, "Error: subscribed"),
      ),
      ["del-b | 0 | Error: subscribed"],
      refused,
    );
    const allowed = await tool("consumer-groups", ["--delete-offsets", "--group", "busy", "--topic", "del-a"]);
    assert.deepEqual(statusRows(allowed, "del-a"), ["del-a | 0 | Successful", "del-a | 1 | Successful"], allowed);
    const busy = groups.fetchOffsets("busy", null);
    assert.deepEqual(
      busy.topics.map((t) => t.topic),
      ["del-b"],
      "del-a's offsets are gone, del-b's kept",
    );
    await consumer.disconnect();
    consumer = null;
  });

  it("kafka-transactions describe-producers lists the idempotent producer's state", async () => {
    await tool("topics", ["--create", "--topic", "producers", "--partitions", "1"]);
    const before = Date.now();
    // The Java console producer is idempotent by default (Kafka 4.x): one producer id, sequences 0..4.
    await produce("producers", ["p0", "p1", "p2", "p3", "p4"]);
    const after = Date.now();
    const out = await tool("transactions", ["describe-producers", "--topic", "producers", "--partition", "0"]);
    const lines = out.split("\n").filter((l) => l.trim() !== "");
    const header = lines.findIndex((l) => l.startsWith("ProducerId"));
    assert.ok(header >= 0, out);
    const rows = lines.slice(header + 1).filter((l) => /^\d/.test(l));
    assert.equal(rows.length, 1, out);
    const [producerId, epoch, coordinatorEpoch, lastSequence, lastTimestamp, txnStart] = rows[0]!.trim().split(/\s+/);
    assert.ok(Number(producerId) >= 0, out);
    assert.equal(epoch, "0");
    assert.equal(coordinatorEpoch, "-1");
    assert.equal(lastSequence, "4", "the sequence of the last record");
    assert.ok(
      Number(lastTimestamp) >= before && Number(lastTimestamp) <= after,
      `last timestamp ${lastTimestamp} within the produce run [${before}, ${after}]`,
    );
    assert.equal(txnStart, "None");
  });

  it("kafka-log-dirs --describe answers with the agent's one log directory and its partitions", async () => {
    const out = await tool("log-dirs", ["--describe"]);
    const json = out.split("\n").find((l) => l.startsWith("{"));
    assert.ok(json, out);
    const parsed = JSON.parse(json) as {
      brokers: Array<{
        broker: number;
        logDirs: Array<{
          logDir: string;
          error: string | null;
          partitions: Array<{ partition: string; size: number; offsetLag: number; isFuture: boolean }>;
        }>;
      }>;
    };
    assert.equal(parsed.brokers.length, 1);
    const [logDir] = parsed.brokers[0]!.logDirs;
    assert.equal(parsed.brokers[0]!.logDirs.length, 1);
    assert.match(logDir!.logDir, /^mem:\/\//);
    assert.equal(logDir!.error, null);
    const state = agent.running.context.metadata.state;
    const expected = [...state.topics.values()]
      .flatMap((t) => t.partitions.map((p, i) => [`${t.name}-${i}`, p.bytes] as const))
      .sort();
    assert.deepEqual(
      logDir!.partitions.map((p) => [p.partition, p.size] as const).sort(),
      expected,
      "every partition with the bytes the store holds for it",
    );
    assert.ok(logDir!.partitions.every((p) => p.offsetLag === 0 && !p.isFuture));
    assert.ok(expected.some(([name, bytes]) => name === "producers-0" && bytes > 0));
  });
});
