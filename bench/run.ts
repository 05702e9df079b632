/**
 * `npm run bench`: produce throughput and latency of an agent on the embedded file store, measured
 * with Apache Kafka's own kafka-producer-perf-test (a real client in its own JVM) against an agent
 * running as its own process. Prints a table and writes bench/results/latest.json.
 *
 *   WARP_BENCH_RECORDS    records per run (default 200000)
 *   WARP_BENCH_RECORD_SIZE bytes per record (default 1024)
 */
import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { Kafka, logLevel } from "kafkajs";
import { ensureKafkaTools, runKafkaTool } from "../e2e/support/kafka-tools.js";
import { REPO_ROOT, spawnAgentProcess, tempDir } from "../agent/test/support/agents.js";

interface PerfResult {
  readonly scenario: string;
  readonly records: number;
  readonly recordsPerSec: number;
  readonly mbPerSec: number;
  readonly avgMs: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly p999Ms: number;
}

const RECORDS = Number(process.env.WARP_BENCH_RECORDS ?? 200_000);
const RECORD_SIZE = Number(process.env.WARP_BENCH_RECORD_SIZE ?? 1024);

function parsePerf(scenario: string, out: string): PerfResult {
  // "200000 records sent, 41152.263374 records/sec (40.19 MB/sec), 512.37 ms avg latency, 1062.00 ms max latency,
  //  498 ms 50th, 901 ms 95th, 1003 ms 99th, 1055 ms 99.9th."
  const line = out.split("\n").reverse().find((l) => /records sent/.test(l) && /99\.9th/.test(l));
  if (!line) throw new Error(`kafka-producer-perf-test printed no summary:\n${out}`);
  const num = (re: RegExp) => Number(re.exec(line)?.[1] ?? NaN);
  return {
    scenario,
    records: num(/^(\d+) records sent/),
    recordsPerSec: num(/([\d.]+) records\/sec/),
    mbPerSec: num(/\(([\d.]+) MB\/sec\)/),
    avgMs: num(/([\d.]+) ms avg latency/),
    p50Ms: num(/(\d+) ms 50th/),
    p99Ms: num(/(\d+) ms 99th/),
    p999Ms: num(/(\d+) ms 99\.9th/),
  };
}

async function runScenario(batchTimeout: string, throughput: number): Promise<PerfResult> {
  const dir = tempDir("bench");
  const agent = await spawnAgentProcess(["-bucketURL", `file://${dir.path}`, "-batchTimeout", batchTimeout]);
  try {
    const admin = new Kafka({ brokers: [agent.bootstrap], logLevel: logLevel.NOTHING }).admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: "bench", numPartitions: 6 }] });
    await admin.disconnect();
    const scenario = `file store, batchTimeout ${batchTimeout}, ${throughput < 0 ? "max rate" : `${throughput} rec/s`}`;
    const r = await runKafkaTool(
      "producer-perf-test",
      [
        "--topic", "bench",
        "--num-records", String(throughput < 0 ? RECORDS : Math.min(RECORDS, throughput * 20)),
        "--record-size", String(RECORD_SIZE),
        "--throughput", String(throughput),
        "--producer-props", `bootstrap.servers=${agent.bootstrap}`, "acks=all", "linger.ms=5", "batch.size=262144", "max.in.flight.requests.per.connection=5",
      ],
      { timeoutMs: 600_000 },
    );
    if (r.code !== 0) throw new Error(`kafka-producer-perf-test failed (${r.code}):\n${r.stderr}`);
    return parsePerf(scenario, r.stdout);
  } finally {
    await agent.kill("SIGTERM");
    dir.remove();
  }
}

async function main(): Promise<void> {
  await ensureKafkaTools();
  const results: PerfResult[] = [];
  for (const [timeout, rate] of [["250ms", -1], ["50ms", -1], ["250ms", 2000], ["50ms", 2000], ["25ms", 2000]] as const) {
    const r = await runScenario(timeout, rate);
    results.push(r);
    console.log(`${r.scenario}: ${r.mbPerSec.toFixed(2)} MB/s, ${Math.round(r.recordsPerSec)} rec/s, p50 ${r.p50Ms} ms, p99 ${r.p99Ms} ms, p99.9 ${r.p999Ms} ms`);
  }
  console.log("\n| scenario | MB/s | records/s | p50 ms | p99 ms | p99.9 ms |\n|---|---|---|---|---|---|");
  for (const r of results) console.log(`| ${r.scenario} | ${r.mbPerSec.toFixed(2)} | ${Math.round(r.recordsPerSec)} | ${r.p50Ms} | ${r.p99Ms} | ${r.p999Ms} |`);
  const out = path.join(REPO_ROOT, "bench", "results");
  mkdirSync(out, { recursive: true });
  writeFileSync(path.join(out, "latest.json"), JSON.stringify({ recordSize: RECORD_SIZE, date: new Date().toISOString(), results }, null, 2));
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
