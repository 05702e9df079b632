/**
 * `npm run bench`: the agent against Apache Kafka, same client (Kafka's own perf tools and kcat),
 * same workload, same run. For the file store (1 agent) and DynamoDB Local + an S3 server (1 and 3
 * agents; WARP_BENCH_S3: the Versity S3 Gateway, default, or moto), at batchTimeout 25, 50, 100 and 250 ms, and for one Kafka 4.x broker:
 * produce throughput, produce latency p50/p99/p99.9, end-to-end latency, consume throughput, agent CPU
 * seconds per GB and peak RSS, DynamoDB units and S3 requests per MB (for `warp cost --measured`);
 * then a short CPU profile of an agent. Writes bench/results/latest.{json,md}, the /metrics of the
 * DynamoDB runs, docs/bench-*.png and (full runs only) the results section of docs/benchmarks.md and
 * the README's "Configure your clients" tables (scripts/gen-client-docs.ts renders them again).
 *
 *   WARP_BENCH_RECORD_SIZE        bytes per record (default 1024)
 *   WARP_BENCH_RECORDS            records of the max-rate runs on the file store and Kafka (default 100000)
 *   WARP_BENCH_DYNAMO_RECORDS     records of the max-rate runs on DynamoDB (default 50000)
 *   WARP_BENCH_LATENCY_RATE       records/s of the latency runs (default 1000)
 *   WARP_BENCH_LATENCY_SECONDS    seconds of each latency run (default 15)
 *   WARP_BENCH_TIMEOUTS           batch timeouts in ms (default 25,50,100,250)
 *   WARP_BENCH_DYNAMO_AGENTS      agent counts of the DynamoDB batch-timeout sweep (default 1,3; empty: none,
 *                                 only the `-sealMode eager` row)
 *   WARP_BENCH_ONLY               comma-separated subset of kafka,file,dynamodb,small,inflight,profile,logsize,scale,idle,lowrate (default all)
 *   WARP_BENCH_SCALE_*            the `scale` scenario's settings (bench/scale.ts)
 *   WARP_BENCH_IDLE_*             the `idle` scenario's settings (bench/idle-cost.ts)
 *   WARP_BENCH_LOWRATE_*          the `lowrate` scenario's settings (bench/low-rate-cost.ts)
 *   WARP_BENCH_UNTUNED_RECORDS    records of the untuned produce run of `small` (default 200000)
 *   WARP_BENCH_BASELINE_RECORDS   the same for its `-sealMode window` targets (default 20000)
 *   WARP_BENCH_SEQUENTIAL_SECONDS seconds of the sequential produce run of `small` (default 15)
 *   WARP_BENCH_SMALL_TARGETS      targets of `small`: subset of kafka,file,file-window,dynamodb-eager,dynamodb (default all)
 *   WARP_BENCH_OUT                name of the results files in bench/results (default latest)
 *   WARP_BENCH_S3                 the DynamoDB targets' S3 server: versitygw (default) or moto
 *
 * `small` runs small requests (small-requests.ts): the untuned Java producer (one partition, defaults
 * but acks=all) and sequential single-record produce, against Kafka, the file-store agent with default
 * flags (as `npm start`) and with -sealMode window, and three agents on DynamoDB Local at batchTimeout
 * 50ms with -sealMode eager and with the default (window).
 *
 * Sub-benchmarks: `npx tsx bench/profile.ts` (CPU profile only), `npx tsx bench/inflight.ts` (producer
 * in-flight limit against batching), `npx tsx bench/log-contention.ts`,
 * `npx tsx bench/protocol-codec.ts`, `npx tsx bench/log-entry-size.ts` (metadata log bytes per partition
 * batch; also part of this run), `npx tsx bench/fetch-sessions.ts` (what fetch sessions save),
 * `npx tsx bench/consume.ts` (the consume alone), `npx tsx bench/s3-reads.ts` (ranged reads from the S3
 * server alone), `npx tsx bench/dynamodb-reads.ts` (chunk reads from DynamoDB Local alone, and how long one
 * answer holds the event loop), `npx tsx bench/object-cache-churn.ts` (the fetch cache under a compaction pass's offers).
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { REPO_ROOT } from "../agent/test/support/agents.js";
import { ensureKafkaTools } from "../e2e/support/kafka-tools.js";
import { ensureKcat } from "../e2e/support/kcat.js";
import { renderClientTables, replaceClientSection } from "./lib/client-table.js";
import { runInflight, type InflightResult } from "./lib/inflight.js";
import { logEntrySizeTable, measureLogEntrySizes, type LogEntrySizeRow } from "./lib/log-entry-size.js";
import { runScale, scaleOptionsFromEnv, type ScaleResult } from "./lib/scale.js";
import { idleCostReport, runIdleCost, type IdleCostResult } from "./lib/idle-cost.js";
import { lowRateOptionsFromEnv, lowRateReport, runLowRateCost, type LowRateResult } from "./lib/low-rate-cost.js";
import { renderPlots } from "./lib/plots.js";
import { profileAgent, type ProfileSummary } from "./lib/profile.js";
import { markdownReport, replaceResultsSection, type BenchReport } from "./lib/report.js";
import { runScenario, type ScenarioResult, type Workload } from "./lib/scenario.js";
import { runSmallRequests, type SmallRequestsResult } from "./lib/small-requests.js";
import {
  s3ServerDescription,
  startAwsLocal,
  startDynamoTarget,
  startFileTarget,
  startKafkaTarget,
  type Target,
} from "./lib/targets.js";

const env = (name: string, dflt: string): string => process.env[name] ?? dflt;
const WORKLOAD: Workload = {
  recordSize: Number(env("WARP_BENCH_RECORD_SIZE", "1024")),
  partitions: 6,
  throughputRecords: {
    file: Number(env("WARP_BENCH_RECORDS", "100000")),
    kafka: Number(env("WARP_BENCH_RECORDS", "100000")),
    dynamodb: Number(env("WARP_BENCH_DYNAMO_RECORDS", "50000")),
  },
  latencyRate: Number(env("WARP_BENCH_LATENCY_RATE", "1000")),
  latencySeconds: Number(env("WARP_BENCH_LATENCY_SECONDS", "15")),
};
const TIMEOUTS = env("WARP_BENCH_TIMEOUTS", "25,50,100,250").split(",").map(Number);
const DYNAMO_AGENTS = env("WARP_BENCH_DYNAMO_AGENTS", "1,3")
  .split(",")
  .filter((a) => a !== "")
  .map(Number);
const ONLY = new Set(
  env("WARP_BENCH_ONLY", "kafka,file,dynamodb,small,inflight,profile,logsize,scale,idle,lowrate").split(","),
);
const SMALL = {
  untunedRecords: Number(env("WARP_BENCH_UNTUNED_RECORDS", "200000")),
  sequentialSeconds: Number(env("WARP_BENCH_SEQUENTIAL_SECONDS", "15")),
};
const SMALL_TARGETS = new Set(
  env("WARP_BENCH_SMALL_TARGETS", "kafka,file,file-window,dynamodb-eager,dynamodb").split(","),
);
const BASELINE_RECORDS = Number(env("WARP_BENCH_BASELINE_RECORDS", "20000"));
const OUT = env("WARP_BENCH_OUT", "latest");
const RESULTS = path.join(REPO_ROOT, "bench", "results");
const DOCS = path.join(REPO_ROOT, "docs");

function log(line: string): void {
  process.stdout.write(`${line}\n`);
}

async function measure(start: () => Promise<Target>, metricsFile: string | null): Promise<ScenarioResult> {
  const target = await start();
  log(`${target.label} (${target.bootstrap})`);
  try {
    return await runScenario(target, WORKLOAD, metricsFile, log);
  } finally {
    await target.stop();
  }
}

async function main(): Promise<void> {
  const began = Date.now();
  // Other processes on the machine move every figure: the 1-minute load average is part of the report.
  const loadAtStart = os.loadavg()[0]!;
  await ensureKafkaTools();
  await ensureKcat();
  mkdirSync(path.join(RESULTS, "metrics"), { recursive: true });
  const results: ScenarioResult[] = [];

  if (ONLY.has("kafka")) results.push(await measure(startKafkaTarget, null));
  // The batch-timeout sweep measures the window: on the file store eager sealing (its default) hardly
  // waits for it (`small` measures that).
  if (ONLY.has("file"))
    for (const t of TIMEOUTS) results.push(await measure(() => startFileTarget(t, ["-sealMode", "window"]), null));
  if (ONLY.has("dynamodb")) {
    const aws = await startAwsLocal();
    try {
      for (const agents of DYNAMO_AGENTS) {
        for (const t of TIMEOUTS) {
          const file = path.join(RESULTS, "metrics", `dynamodb-${agents}agents-${t}ms.prom`);
          results.push(await measure(() => startDynamoTarget(aws, t, agents), file));
        }
      }
      // The latency target's set-up with the flag that trades DynamoDB writes for latency.
      const eager = path.join(RESULTS, "metrics", "dynamodb-3agents-50ms-eager.prom");
      results.push(await measure(() => startDynamoTarget(aws, 50, 3, ["-sealMode", "eager"]), eager));
    } finally {
      await aws.stop();
    }
  }
  let small: SmallRequestsResult[] | undefined;
  if (ONLY.has("small")) {
    log("small requests: untuned producer and sequential produce");
    small = [];
    const baseline = { ...SMALL, untunedRecords: BASELINE_RECORDS };
    const run = async (start: () => Promise<Target>, w = SMALL): Promise<void> => {
      const target = await start();
      log(`${target.label} (${target.bootstrap})`);
      try {
        small!.push(await runSmallRequests(target, w, log));
      } finally {
        await target.stop();
      }
    };
    if (SMALL_TARGETS.has("kafka")) await run(startKafkaTarget);
    if (SMALL_TARGETS.has("file")) await run(() => startFileTarget(250));
    if (SMALL_TARGETS.has("file-window")) await run(() => startFileTarget(250, ["-sealMode", "window"]), baseline);
    if (SMALL_TARGETS.has("dynamodb-eager") || SMALL_TARGETS.has("dynamodb")) {
      const aws = await startAwsLocal();
      try {
        if (SMALL_TARGETS.has("dynamodb-eager")) await run(() => startDynamoTarget(aws, 50, 3, ["-sealMode", "eager"]));
        if (SMALL_TARGETS.has("dynamodb")) await run(() => startDynamoTarget(aws, 50, 3), baseline);
      } finally {
        await aws.stop();
      }
    }
  }
  let inflight: InflightResult[] | undefined;
  if (ONLY.has("inflight")) {
    log("produce latency vs the Java producer's in-flight limit (file store, batchTimeout 250ms)");
    inflight = await runInflight(250, WORKLOAD.latencyRate, WORKLOAD.latencySeconds);
    for (const r of inflight) log(`  ${r.settings}: p50 ${r.p50Ms} p99 ${r.p99Ms} p99.9 ${r.p999Ms} ms`);
  }
  let profile: ProfileSummary | undefined;
  if (ONLY.has("profile")) {
    log("CPU profile of a file-store agent (batchTimeout 50ms) under max-rate produce and consume");
    try {
      profile = await profileAgent(WORKLOAD, path.join(RESULTS, "profile"));
    } catch (err) {
      log(`profile failed: ${err instanceof Error ? err.message : String(err)}`);
    }
  }

  let logEntrySizes: LogEntrySizeRow[] | undefined;
  if (ONLY.has("logsize")) {
    logEntrySizes = measureLogEntrySizes();
    log(`metadata log bytes per partition batch\n${logEntrySizeTable(logEntrySizes)}`);
  }

  let scale: ScaleResult | undefined;
  if (ONLY.has("scale")) scale = await runScale(scaleOptionsFromEnv(), log);

  let idle: IdleCostResult | undefined;
  if (ONLY.has("idle")) {
    idle = await runIdleCost(log);
    log(`idle cluster\n${idleCostReport(idle)}`);
  }

  let lowRate: LowRateResult | undefined;
  if (ONLY.has("lowrate")) {
    lowRate = await runLowRateCost(lowRateOptionsFromEnv(), log);
    log(`0.1 MB/s\n${lowRateReport(lowRate)}`);
  }

  const report: BenchReport = {
    date: new Date().toISOString(),
    machine: {
      cpus: os.cpus().length,
      node: process.version,
      loadAverage: { start: loadAtStart, end: os.loadavg()[0]! },
    },
    workload: WORKLOAD,
    s3Server: s3ServerDescription(),
    wallSeconds: Math.round((Date.now() - began) / 1000),
    results,
    ...(small ? { smallRequests: { workload: { ...SMALL, baselineRecords: BASELINE_RECORDS }, results: small } } : {}),
    ...(inflight ? { inflight } : {}),
    ...(profile ? { profile } : {}),
    ...(logEntrySizes ? { logEntrySizes } : {}),
    ...(scale ? { scale } : {}),
    ...(idle ? { idle } : {}),
    ...(lowRate ? { lowRate } : {}),
  };
  const md = markdownReport(report);
  writeFileSync(path.join(RESULTS, `${OUT}.json`), JSON.stringify(report, null, 2) + "\n");
  writeFileSync(path.join(RESULTS, `${OUT}.md`), md);
  if (results.length > 0) for (const f of await renderPlots(report, DOCS)) log(`wrote ${path.relative(REPO_ROOT, f)}`);
  // A full run also refreshes the figures in docs/benchmarks.md (between its markers).
  const doc = path.join(DOCS, "benchmarks.md");
  if (!process.env.WARP_BENCH_ONLY && existsSync(doc)) {
    const updated = replaceResultsSection(readFileSync(doc, "utf8"), md);
    if (updated !== null) writeFileSync(doc, updated);
  }
  // ... and the README's client tables, from the results just written.
  if (!process.env.WARP_BENCH_ONLY && OUT === "latest") {
    const readme = path.join(REPO_ROOT, "README.md");
    writeFileSync(readme, replaceClientSection(readFileSync(readme, "utf8"), renderClientTables(report)));
  }
  log("\n" + md);
  log(`bench wall time: ${report.wallSeconds} s`);
}

main().then(
  // Every result is written; a kafkajs retry timer left behind once the agents are gone (the idle
  // scenario's consumers) must not keep the run alive.
  () => process.exit(0),
  (err: unknown) => {
    console.error(err instanceof Error ? (err.stack ?? err.message) : err);
    process.exit(1);
  },
);
