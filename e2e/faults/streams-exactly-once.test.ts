/**
 * Kafka Streams with processing.guarantee=exactly_once_v2 (kafka-streams 4.1.1 from Maven Central,
 * agent/test/clients/java/StreamsCount.java: a count per key, its cache off so every input record gives one
 * output update) on three agents over DynamoDB Local and the S3 server, while one agent
 * is SIGKILLed and restarted. The output read with read_committed (the Java consumer) is exactly the
 * expected result: for each key the counts 1, 2, ..., n in order, no duplicate and no gap, whatever the
 * application had to abort and redo when the agent died under it.
 */
import assert from "node:assert/strict";
import os from "node:os";
import path from "node:path";
import { mkdtempSync, rmSync } from "node:fs";
import { Kafka, logLevel, type Message } from "kafkajs";
import { ensureKafkaStreams, ensureKafkaTools, startJavaProgram } from "../support/kafka-tools.js";
import type { RunningCommand } from "../support/processes.js";
import { faultSuite } from "./fixture.js";
import { SCALE } from "./run.js";

const SOURCE = path.join(import.meta.dirname, "..", "..", "agent", "test", "clients", "java", "StreamsCount.java");
const PARTITIONS = 6;
const KEYS = 12;
const RECORDS = 1_200;

/** The output's values (`<key>=<count>`), per partition in offset order, read with read_committed. */
async function readOutput(bootstrap: string, topic: string, classpath: string): Promise<string[][]> {
  const lines: string[] = [];
  const reader = await startJavaProgram(SOURCE, ["read", bootstrap, topic, String(PARTITIONS), "3000"], {
    classpath,
    onStdoutLine: (l) => lines.push(l),
    timeoutMs: 120_000,
  });
  reader.endInput("");
  const r = await reader.result;
  assert.equal(r.code, 0, r.stderr.slice(-3000));
  const byPartition: string[][] = Array.from({ length: PARTITIONS }, () => []);
  for (const line of lines) {
    const m = /^RECORD (\d+) (\d+) (.*)$/.exec(line);
    if (m) byPartition[Number(m[1])]!.push(m[3]!);
  }
  return byPartition;
}

/** Per key, the counts in the order the output holds them. */
function countsByKey(output: readonly string[][]): Map<string, number[]> {
  const byKey = new Map<string, number[]>();
  for (const values of output)
    for (const v of values) {
      const [key, count] = v.split("=");
      if (!byKey.has(key!)) byKey.set(key!, []);
      byKey.get(key!)!.push(Number(count));
    }
  return byKey;
}

describe("faults: Kafka Streams exactly_once_v2 while an agent is SIGKILLed", function () {
  this.timeout(600_000);
  const suite = faultSuite({ agents: 3, seed: SCALE.seed, name: "streams-eos" });
  let classpath = "";
  let app: RunningCommand | null = null;
  const stateDir = mkdtempSync(path.join(os.tmpdir(), "warp-streams-"));

  before(async () => {
    await ensureKafkaTools();
    classpath = await ensureKafkaStreams();
  });

  after(async () => {
    app?.kill();
    rmSync(stateDir, { recursive: true, force: true });
  });

  it("the output read with read_committed is exactly the counts 1..n of every key", async () => {
    const { cluster } = suite;
    // Retries outlast the killed agent's stay in the metadata (its session, 10 s); kafkajs's default
    // five give up after about 10 s.
    const kafka = new Kafka({
      clientId: "streams-eos",
      brokers: cluster.bootstrap(),
      logLevel: logLevel.NOTHING,
      retry: { retries: 20, maxRetryTime: 3_000 },
    });
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({
      topics: [
        { topic: "words", numPartitions: PARTITIONS },
        { topic: "counts", numPartitions: PARTITIONS },
      ],
    });
    await admin.disconnect();
    const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    const expected = new Map<string, number>();
    // One partition per send, each key always in the same partition (Streams counts a key in the task of
    // its partition): kafkajs retries a send spanning several agents by re-sending, with new sequence
    // numbers, partitions already acknowledged, and skips partitions that moved to an agent that had
    // answered (docs/reliability.md, "kafkajs and multi-agent sends"). The input would then hold
    // duplicates and gaps that no broker can tell from new records.
    const send = async (from: number, to: number) => {
      for (let i = from; i < to; i += 50) {
        const perPartition = Array.from({ length: PARTITIONS }, () => [] as Message[]);
        for (let j = i; j < Math.min(to, i + 50); j++) {
          const key = `k${j % KEYS}`;
          expected.set(key, (expected.get(key) ?? 0) + 1);
          const partition = (j % KEYS) % PARTITIONS;
          perPartition[partition]!.push({ key, value: `v${j}`, partition });
        }
        for (const messages of perPartition)
          if (messages.length > 0) await producer.send({ topic: "words", messages, acks: -1 });
      }
    };
    await send(0, RECORDS / 2);

    const states: string[] = [];
    app = await startJavaProgram(
      SOURCE,
      ["run", cluster.bootstrap().join(","), "eos-count", "words", "counts", stateDir, "exactly_once_v2"],
      { classpath, onStdoutLine: (l) => states.push(l), timeoutMs: 600_000 },
    );
    const deadline = Date.now() + 120_000;
    while (!states.includes("STATE RUNNING") && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
    assert.ok(states.includes("STATE RUNNING"), `the application runs: ${states.join(", ")}\n${cluster.logs(2000)}`);

    // The second half arrives while an agent dies and comes back.
    const sending = send(RECORDS / 2, RECORDS);
    await new Promise((r) => setTimeout(r, 1_500));
    await cluster.kill(1);
    await new Promise((r) => setTimeout(r, 3_000));
    await cluster.start(1);
    await sending;
    await producer.disconnect();

    // Wait until every key's last count is the number of its records.
    let output: string[][];
    const done = Date.now() + 240_000;
    for (;;) {
      output = await readOutput(cluster.bootstrap().join(","), "counts", classpath);
      const byKey = countsByKey(output);
      if ([...expected].every(([k, n]) => byKey.get(k)?.at(-1) === n)) break;
      // A count past its key's records cannot come back down: go on to the checks.
      if ([...expected].some(([k, n]) => (byKey.get(k)?.at(-1) ?? 0) > n)) break;
      if (Date.now() > done) break;
      await new Promise((r) => setTimeout(r, 2_000));
    }
    // The input first: an idempotent producer's retries through the kill must not have stored a record twice
    // or dropped one, or the counts below would be wrong through no fault of the transactions.
    const stored = new Map<string, number>();
    for (const v of (await readOutput(cluster.bootstrap().join(","), "words", classpath)).flat())
      stored.set(v, (stored.get(v) ?? 0) + 1);
    const sent = Array.from({ length: RECORDS }, (_, j) => `v${j}`);
    assert.deepEqual(
      { duplicated: [...stored].filter(([, n]) => n > 1), missing: sent.filter((v) => !stored.has(v)) },
      { duplicated: [], missing: [] },
      "the input holds every record once",
    );
    const byKey = countsByKey(output);
    if (![...expected].every(([k, n]) => (byKey.get(k)?.at(-1) ?? 0) >= n))
      assert.fail(
        `the application did not catch up: ${JSON.stringify([...byKey].map(([k, c]) => [k, c.at(-1), expected.get(k)]))}\n${states.join("\n")}\n${cluster.logs(3000)}`,
      );
    for (const [key, n] of expected)
      assert.deepEqual(
        byKey.get(key),
        Array.from({ length: n }, (_, i) => i + 1),
        `key ${key}: every count once, in order (no duplicate, no gap)`,
      );
    assert.equal([...byKey.values()].flat().length, RECORDS, "one output update per input record");
    app.endInput("stop\n");
    const r = await app.result;
    app = null;
    assert.ok(r.stdout.includes("CLOSED") || states.includes("CLOSED"), r.stderr.slice(-3000));
  });
});
