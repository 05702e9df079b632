/**
 * kcat (librdkafka 2.0.2, Debian package) against a real agent: 100,000 keyed messages to a
 * 6-partition topic and back, per partition in order; with gzip, lz4, zstd and idempotence.
 */
import assert from "node:assert/strict";
import { Kafka, logLevel } from "kafkajs";
import { ensureKcat, runKcat } from "../../../e2e/support/kcat.js";
import { startTestAgent } from "../support/agents.js";
import type { TestAgent } from "../support/agents.js";

interface Consumed {
  partition: number;
  offset: number;
  key: string;
  value: string;
}

/** Produces `count` lines "key-i:i" with kcat and returns them. */
async function produce(agent: TestAgent, topic: string, count: number, extra: string[]): Promise<void> {
  const lines = Array.from({ length: count }, (_, i) => `key-${i % 997}:${i}`).join("\n") + "\n";
  const r = await runKcat(["-b", agent.bootstrap, "-P", "-t", topic, "-K:", "-X", "acks=all", ...extra], {
    input: lines,
    timeoutMs: 300_000,
  });
  assert.equal(r.code, 0, `kcat produce failed: ${r.stderr}`);
}

async function consume(agent: TestAgent, topic: string): Promise<Consumed[]> {
  const r = await runKcat(
    ["-b", agent.bootstrap, "-C", "-t", topic, "-o", "beginning", "-e", "-q", "-f", "%p %o %k %s\\n"],
    { timeoutMs: 300_000 },
  );
  assert.equal(r.code, 0, `kcat consume failed: ${r.stderr}`);
  return r.stdout
    .split("\n")
    .filter((l) => l.length > 0)
    .map((l) => {
      const [p, o, k, v] = l.split(" ");
      return { partition: Number(p), offset: Number(o), key: k!, value: v! };
    });
}

function checkComplete(records: Consumed[], count: number): void {
  assert.equal(records.length, count, "every message consumed once");
  const values = new Set(records.map((r) => Number(r.value)));
  assert.equal(values.size, count, "no duplicates");
  const byPartition = new Map<number, Consumed[]>();
  for (const r of records) {
    let list = byPartition.get(r.partition);
    if (!list) byPartition.set(r.partition, (list = []));
    list.push(r);
  }
  const keyPartition = new Map<string, number>();
  for (const [p, list] of byPartition) {
    list.forEach((r, i) => assert.equal(r.offset, i, `partition ${p}: offsets gap-free from 0`));
    for (let i = 1; i < list.length; i++)
      assert.ok(
        Number(list[i]!.value) > Number(list[i - 1]!.value),
        `partition ${p}: produce order kept at offset ${i}`,
      );
    for (const r of list) {
      const seen = keyPartition.get(r.key);
      assert.ok(seen === undefined || seen === p, `key ${r.key} always in one partition`);
      keyPartition.set(r.key, p);
    }
  }
  assert.equal(byPartition.size, 6, "keys spread over all six partitions");
}

describe("kcat (librdkafka)", function () {
  this.timeout(600_000);
  let agent: TestAgent;

  before(async () => {
    await ensureKcat();
    agent = await startTestAgent({ batchTimeout: "50ms" });
    const admin = new Kafka({ brokers: [agent.bootstrap], logLevel: logLevel.NOTHING }).admin();
    await admin.connect();
    await admin.createTopics({
      topics: ["plain", "gzip", "lz4", "zstd", "idempotent"].map((topic) => ({ topic, numPartitions: 6 })),
    });
    await admin.disconnect();
  });
  after(async () => agent?.stop());

  it("lists the agent and topics in metadata", async () => {
    const r = await runKcat(["-b", agent.bootstrap, "-L", "-t", "plain"], { timeoutMs: 30_000 });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /1 brokers:/);
    assert.match(r.stdout, /topic "plain" with 6 partitions/);
  });

  it("produces 100,000 keyed messages and consumes exactly those, in order per partition", async () => {
    await produce(agent, "plain", 100_000, []);
    checkComplete(await consume(agent, "plain"), 100_000);
  });

  for (const codec of ["gzip", "lz4", "zstd"]) {
    it(`round-trips with -z ${codec}`, async () => {
      await produce(agent, codec, 20_000, ["-z", codec]);
      checkComplete(await consume(agent, codec), 20_000);
    });
  }

  it("round-trips with enable.idempotence=true", async () => {
    await produce(agent, "idempotent", 20_000, ["-X", "enable.idempotence=true"]);
    checkComplete(await consume(agent, "idempotent"), 20_000);
  });
});
