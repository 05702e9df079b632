/**
 * Transactions with Apache Kafka's Java client (4.x, agent/test/clients/java/Transactions.java) and
 * librdkafka (confluent-kafka, e2e/support/python/transactions.py) on an agent
 * (transactions on, the default): a transactional producer commits some transactions and aborts others across several
 * partitions, a read_committed consumer sees exactly the committed records in order and a read_uncommitted
 * one sees all; a second producer with the same transactional.id fences the first; a transaction left open
 * past its timeout is aborted and the last stable offset moves on; a read-process-write loop commits its
 * consumed offsets with its output (sendOffsetsToTransaction); kafka-transactions lists and describes an
 * open transaction. With -transactions=false, transactional ids are refused (transactions-refused.test.ts).
 */
import assert from "node:assert/strict";
import path from "node:path";
import { Kafka, logLevel } from "kafkajs";
import { ensureKafkaTools, runKafkaTool, startJavaProgram } from "../../../e2e/support/kafka-tools.js";
import { ensureConfluentKafka, jsonLines, runPythonScript } from "../../../e2e/support/python-client.js";
import * as metrics from "../../src/metrics/metrics.js";
import { ApiKey, ErrorCode } from "../../src/protocol/index.js";
import { startTestAgent } from "../support/agents.js";
import type { TestAgent } from "../support/agents.js";
import { RawKafkaClient } from "../support/raw-kafka-client.js";

const SOURCE = path.join(import.meta.dirname, "java", "Transactions.java");
const PARTITIONS = 3;

interface Run {
  readonly code: number | null;
  readonly lines: string[];
  readonly stderr: string;
}

async function java(args: readonly string[], timeoutMs = 120_000): Promise<Run> {
  const lines: string[] = [];
  const command = await startJavaProgram(SOURCE, args, { onStdoutLine: (l) => lines.push(l), timeoutMs });
  command.endInput("");
  const r = await command.result;
  return { code: r.code, lines, stderr: r.stderr };
}

/** The values a consumer of `isolation` reads from every partition of `topic`, per partition in offset order. */
async function consume(bootstrap: string, topic: string, isolation: string): Promise<Map<number, string[]>> {
  const run = await java(["consume", bootstrap, topic, String(PARTITIONS), isolation, "3000"]);
  assert.equal(run.code, 0, run.stderr.slice(-3000));
  const byPartition = new Map<number, string[]>();
  for (const line of run.lines) {
    const m = /^RECORD (\d+) (\d+) (.*)$/.exec(line);
    if (!m) continue;
    const p = Number(m[1]);
    if (!byPartition.has(p)) byPartition.set(p, []);
    byPartition.get(p)!.push(m[3]!);
  }
  return byPartition;
}

/** What the Java producer's plan step sends to partition `p`, in order (Transactions.java). */
function stepValues(id: string, step: number, kind: string, n: number, p: number): string[] {
  const out: string[] = [];
  for (let i = 0; i < n; i++) if (i % PARTITIONS === p) out.push(`${id}-${step}-${kind}-${i}`);
  return out;
}

describe("transactions with the Java client and librdkafka", function () {
  this.timeout(300_000);
  let agent: TestAgent;
  let kafka: Kafka;
  let raw: RawKafkaClient;

  async function createTopic(name: string): Promise<void> {
    const admin = kafka.admin();
    await admin.connect();
    try {
      await admin.createTopics({ topics: [{ topic: name, numPartitions: PARTITIONS }] });
    } finally {
      await admin.disconnect();
    }
  }

  async function offsets(topic: string, isolationLevel: number): Promise<bigint[]> {
    const out = await raw.request(ApiKey.ListOffsets, 7, {
      replicaId: -1,
      isolationLevel,
      topics: [
        {
          name: topic,
          partitions: Array.from({ length: PARTITIONS }, (_, partitionIndex) => ({
            partitionIndex,
            currentLeaderEpoch: -1,
            timestamp: -1n,
          })),
        },
      ],
    });
    return out.topics[0]!.partitions.map((p) => {
      assert.equal(p.errorCode, ErrorCode.NONE);
      return p.offset;
    });
  }

  before(async () => {
    await ensureKafkaTools();
    await ensureConfluentKafka();
    // Transactions are on by default.
    // Compaction every pass (it waits for 4 MiB or 30 s by default): the test reads the runs it writes.
    agent = await startTestAgent({ compactionMinBytes: "0" });
    kafka = new Kafka({ clientId: "txn-test", brokers: [agent.bootstrap], logLevel: logLevel.NOTHING });
    raw = await RawKafkaClient.connect(agent.port);
  });

  after(async () => {
    raw?.close();
    await agent?.stop();
  });

  it("read_committed sees exactly the committed transactions, in order; read_uncommitted sees every record", async () => {
    const topic = "txn-mixed";
    await createTopic(topic);
    const id = "mixed";
    const plan: Array<[string, number]> = [
      ["commit", 5],
      ["abort", 4],
      ["commit", 3],
      ["abort", 6],
      ["commit", 2],
    ];
    const run = await java([
      "produce",
      agent.bootstrap,
      topic,
      String(PARTITIONS),
      id,
      plan.map(([k, n]) => `${k}:${n}`).join(","),
    ]);
    assert.equal(run.code, 0, run.stderr.slice(-3000));
    assert.deepEqual(
      run.lines.filter((l) => /^(COMMITTED|ABORTED|DONE)/.test(l)),
      ["COMMITTED 0", "ABORTED 1", "COMMITTED 2", "ABORTED 3", "COMMITTED 4", "DONE"],
    );
    const committed = await consume(agent.bootstrap, topic, "read_committed");
    const uncommitted = await consume(agent.bootstrap, topic, "read_uncommitted");
    for (let p = 0; p < PARTITIONS; p++) {
      const expectCommitted = plan.flatMap(([kind, n], step) =>
        kind === "commit" ? stepValues(id, step, kind, n, p) : [],
      );
      const expectAll = plan.flatMap(([kind, n], step) => stepValues(id, step, kind, n, p));
      assert.deepEqual(committed.get(p) ?? [], expectCommitted, `read_committed, partition ${p}`);
      assert.deepEqual(uncommitted.get(p) ?? [], expectAll, `read_uncommitted, partition ${p}`);
    }
    // Every transaction ended: the last stable offsets are the high watermarks (markers included).
    assert.deepEqual(await offsets(topic, 1), await offsets(topic, 0));

    // Compacted into runs (markers and aborted batches copied as they are), the data reads the same.
    const state = () => agent.running.context.metadata.state;
    const deadline = Date.now() + 90_000;
    const compacted = () =>
      Array.from({ length: PARTITIONS }, (_, p) => state().partition(topic, p)!).every(
        (p) => p.segments.length > 0 && p.segments.every((s) => s.location.store === "c"),
      );
    while (!compacted() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 250));
    assert.ok(compacted(), "every partition of the topic was compacted");
    assert.deepEqual(
      await consume(agent.bootstrap, topic, "read_committed"),
      committed,
      "read_committed after compaction",
    );
    assert.deepEqual(
      await consume(agent.bootstrap, topic, "read_uncommitted"),
      uncommitted,
      "read_uncommitted after compaction",
    );
  });

  it("a second producer with the same transactional.id fences the first, whose transaction is aborted", async () => {
    const topic = "txn-fence";
    await createTopic(topic);
    const run = await java(["fence", agent.bootstrap, topic, "fenced-id"]);
    assert.equal(run.code, 0, run.stderr.slice(-3000));
    assert.ok(
      run.lines.some((l) => /^FENCED .*(ProducerFencedException|InvalidProducerEpochException)/.test(l)),
      run.lines.join("\n"),
    );
    assert.ok(run.lines.includes("SECOND-COMMITTED"), run.lines.join("\n"));
    const committed = await consume(agent.bootstrap, topic, "read_committed");
    assert.deepEqual(committed.get(0), ["fence-second-0"], "the fenced producer's record was aborted");
  });

  it("aborts a transaction left open past its timeout, and the last stable offset moves on", async () => {
    const topic = "txn-timeout";
    await createTopic(topic);
    const open = await java([
      "produce",
      agent.bootstrap,
      topic,
      String(PARTITIONS),
      "abandoned",
      "open:3",
      "transaction.timeout.ms=2000",
    ]);
    assert.equal(open.code, 0, open.stderr.slice(-3000));
    assert.ok(open.lines.includes("OPEN 0"));
    const stable = await offsets(topic, 1);
    assert.deepEqual(stable, [0n, 0n, 0n], "the open transaction holds every last stable offset at its start");
    const deadline = Date.now() + 30_000;
    let lso = stable;
    let hw = await offsets(topic, 0);
    while (Date.now() < deadline) {
      lso = await offsets(topic, 1);
      hw = await offsets(topic, 0);
      if (lso.every((o, i) => o === hw[i] && o > 1n)) break;
      await new Promise((r) => setTimeout(r, 250));
    }
    assert.deepEqual(lso, hw, "aborted by the coordinator: markers written, the last stable offset is the end again");
    const later = await java(["produce", agent.bootstrap, topic, String(PARTITIONS), "later", "commit:3"]);
    assert.equal(later.code, 0, later.stderr.slice(-3000));
    const committed = await consume(agent.bootstrap, topic, "read_committed");
    for (let p = 0; p < PARTITIONS; p++)
      assert.deepEqual(
        committed.get(p),
        stepValues("later", 0, "commit", 3, p),
        `partition ${p}: only the later transaction`,
      );
  });

  it("a read-process-write loop commits its consumed offsets with its output (sendOffsetsToTransaction)", async () => {
    const input = "txn-input";
    const output = "txn-output";
    await createTopic(input);
    await createTopic(output);
    const producer = kafka.producer();
    await producer.connect();
    await producer.send({
      topic: input,
      messages: Array.from({ length: 9 }, (_, i) => ({ partition: i % PARTITIONS, value: `in-${i}` })),
    });
    await producer.disconnect();
    const run = await java(["read-process-write", agent.bootstrap, input, output, "rpw-group", "rpw", "9"]);
    assert.equal(run.code, 0, run.stderr.slice(-3000));
    assert.ok(run.lines.includes("DONE"));
    const out = await consume(agent.bootstrap, output, "read_committed");
    assert.deepEqual([...out.values()].flat().sort(), Array.from({ length: 9 }, (_, i) => `out-in-${i}`).sort());
    const admin = kafka.admin();
    await admin.connect();
    try {
      const [group] = await admin.fetchOffsets({ groupId: "rpw-group", topics: [input] });
      assert.deepEqual(
        group!.partitions.map((p) => p.offset).sort(),
        ["3", "3", "3"],
        "the consumed offsets were committed with the transactions",
      );
    } finally {
      await admin.disconnect();
    }
  });

  it("librdkafka's transactional producer commits and aborts; its read_committed consumer sees the commits", async () => {
    const topic = "txn-librdkafka";
    await createTopic(topic);
    const plan: Array<[string, number]> = [
      ["commit", 4],
      ["abort", 5],
      ["commit", 3],
    ];
    const produced = await runPythonScript("transactions.py", [
      "produce",
      agent.bootstrap,
      topic,
      String(PARTITIONS),
      "rdkafka",
      plan.map(([k, n]) => `${k}:${n}`).join(","),
    ]);
    assert.equal(produced.code, 0, produced.stderr.slice(-3000));
    assert.deepEqual(jsonLines<Record<string, unknown>>(produced.stdout), [
      { step: 0, ended: "commit" },
      { step: 1, ended: "abort" },
      { step: 2, ended: "commit" },
      { done: true },
    ]);
    for (const [isolation, kinds] of [
      ["read_committed", ["commit"]],
      ["read_uncommitted", ["commit", "abort"]],
    ] as const) {
      const read = await runPythonScript("transactions.py", ["read", agent.bootstrap, topic, isolation, "3"]);
      assert.equal(read.code, 0, read.stderr.slice(-3000));
      const records = jsonLines<{ p?: number; v?: string }>(read.stdout).filter((r) => r.v !== undefined);
      for (let p = 0; p < PARTITIONS; p++) {
        const expected = plan.flatMap(([kind, n], step) =>
          (kinds as readonly string[]).includes(kind) ? stepValues("rdkafka", step, kind, n, p) : [],
        );
        assert.deepEqual(
          records.filter((r) => r.p === p).map((r) => r.v),
          expected,
          `${isolation}, partition ${p}`,
        );
      }
    }
    // The Java client reads the same: librdkafka's markers are the agent's, whoever produced.
    const java = await consume(agent.bootstrap, topic, "read_committed");
    assert.equal([...java.values()].flat().length, 7);
  });

  it("holds TxnOffsetCommit's offsets until the transaction commits; requireStable fetches answer UNSTABLE_OFFSET_COMMIT meanwhile", async () => {
    const topic = "txn-stable";
    await createTopic(topic);
    const transactionalId = "raw-offsets";
    const groupId = "stable-group";
    const init = await raw.request(ApiKey.InitProducerId, 4, {
      transactionalId,
      transactionTimeoutMs: 60_000,
      producerId: -1n,
      producerEpoch: -1,
    });
    assert.equal(init.errorCode, ErrorCode.NONE);
    const producer = { transactionalId, producerId: init.producerId, producerEpoch: init.producerEpoch };
    assert.equal((await raw.request(ApiKey.AddOffsetsToTxn, 3, { ...producer, groupId })).errorCode, ErrorCode.NONE);
    const commit = await raw.request(ApiKey.TxnOffsetCommit, 3, {
      ...producer,
      groupId,
      generationId: -1,
      memberId: "",
      groupInstanceId: null,
      topics: [
        {
          name: topic,
          partitions: [{ partitionIndex: 1, committedOffset: 42n, committedLeaderEpoch: -1, committedMetadata: "" }],
        },
      ],
    });
    assert.equal(commit.topics[0]!.partitions[0]!.errorCode, ErrorCode.NONE);
    const fetch = async (requireStable: boolean) => {
      const out = await raw.request(ApiKey.OffsetFetch, 7, {
        groupId,
        topics: [{ name: topic, partitionIndexes: [1] }],
        requireStable,
      });
      const p = out.topics[0]!.partitions[0]!;
      return [p.errorCode, p.committedOffset];
    };
    assert.deepEqual(await fetch(true), [ErrorCode.UNSTABLE_OFFSET_COMMIT, -1n]);
    assert.deepEqual(await fetch(false), [ErrorCode.NONE, -1n], "not committed yet");
    const end = await raw.request(ApiKey.EndTxn, 3, { ...producer, committed: true });
    assert.equal(end.errorCode, ErrorCode.NONE);
    assert.deepEqual(await fetch(true), [ErrorCode.NONE, 42n]);
    // A retry of the end is answered as it was; an end of the other kind is refused.
    assert.equal((await raw.request(ApiKey.EndTxn, 3, { ...producer, committed: true })).errorCode, ErrorCode.NONE);
    assert.equal(
      (await raw.request(ApiKey.EndTxn, 3, { ...producer, committed: false })).errorCode,
      ErrorCode.INVALID_TXN_STATE,
    );
    // A new producer of the id (epoch + 1) fences this one: PRODUCER_FENCED from v2, INVALID_PRODUCER_EPOCH before.
    const next = await raw.request(ApiKey.InitProducerId, 4, {
      transactionalId,
      transactionTimeoutMs: 60_000,
      producerId: -1n,
      producerEpoch: -1,
    });
    assert.deepEqual(
      [next.errorCode, next.producerId, next.producerEpoch],
      [ErrorCode.NONE, producer.producerId, producer.producerEpoch + 1],
    );
    assert.equal(
      (await raw.request(ApiKey.EndTxn, 3, { ...producer, committed: true })).errorCode,
      ErrorCode.PRODUCER_FENCED,
    );
    assert.equal(
      (await raw.request(ApiKey.EndTxn, 1, { ...producer, committed: true })).errorCode,
      ErrorCode.INVALID_PRODUCER_EPOCH,
    );
  });

  it("kafka-transactions lists and describes an open transaction", async () => {
    const topic = "txn-tool";
    await createTopic(topic);
    const open = await java([
      "produce",
      agent.bootstrap,
      topic,
      String(PARTITIONS),
      "listed",
      "open:2",
      "transaction.timeout.ms=60000",
    ]);
    assert.equal(open.code, 0, open.stderr.slice(-3000));
    const list = await runKafkaTool("transactions", ["--bootstrap-server", agent.bootstrap, "list"]);
    assert.equal(list.code, 0, list.stderr);
    assert.match(list.stdout, /listed\s+\d+\s+\d+\s+Ongoing/);
    const describe = await runKafkaTool("transactions", [
      "--bootstrap-server",
      agent.bootstrap,
      "describe",
      "--transactional-id",
      "listed",
    ]);
    assert.equal(describe.code, 0, describe.stderr);
    assert.match(describe.stdout, /Ongoing/);
    assert.match(describe.stdout, /txn-tool-0/);
  });

  it("was spoken to at the versions Kafka 4.x clients send while transaction.version 2 is not advertised", async () => {
    const used = new Map<string, Set<string>>();
    for (const v of (await metrics.requests.get()).values) {
      const api = String(v.labels.api);
      if (!used.has(api)) used.set(api, new Set());
      used.get(api)!.add(String(v.labels.version));
    }
    // The metric's api label is the API key.
    const versions = (api: keyof typeof ApiKey) => [...(used.get(String(ApiKey[api])) ?? [])].sort();
    const apis = ["InitProducerId", "AddPartitionsToTxn", "AddOffsetsToTxn", "TxnOffsetCommit", "EndTxn"] as const;
    console.log(`      versions used: ${apis.map((a) => `${a} ${versions(a).join("/")}`).join(", ")}`);
    // The classic flow's newest versions: AddPartitionsToTxn v3 (v4+ is brokers'), EndTxn and TxnOffsetCommit
    // v4 (v5 would need transaction.version 2), with librdkafka's older ones beside them.
    assert.ok(versions("AddPartitionsToTxn").includes("3"), versions("AddPartitionsToTxn").join(","));
    assert.ok(versions("EndTxn").includes("4"), versions("EndTxn").join(","));
    assert.ok(versions("TxnOffsetCommit").includes("4"), versions("TxnOffsetCommit").join(","));
    assert.ok(versions("AddOffsetsToTxn").includes("4"), versions("AddOffsetsToTxn").join(","));
  });
});
