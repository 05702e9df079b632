/**
 * One benchmark scenario on one target, with the same client and workload for every target:
 *  0. a short unmeasured warm-up produce (into the latency topic);
 *  1. max-rate produce (kafka-producer-perf-test): throughput, and agent CPU seconds per GB of that run;
 *  2. consume of what was just produced (kafka-consumer-perf-test): consume throughput;
 *  3. rate-limited produce with a kcat consumer tailing the topic: produce latency p50/p99/p99.9 and
 *     end-to-end latency (record timestamp → kcat output);
 *  4. for agents, a wait until compaction has caught up (no ingestion file left uncompacted);
 *  5. the agents' /metrics (DynamoDB units, S3 requests, bytes produced) and peak RSS.
 *
 * CPU seconds per GB come in two figures: the whole scenario's (steps 0–4: both produce runs, the
 * consumers, compaction, the log's tails and heartbeats) per GB produced in it, and the max-rate produce
 * run's alone.
 */
import { writeFileSync } from "node:fs";
import { measuredRatesFromText } from "../../cli/cost-model/measured.js";
import type { MeasuredRates } from "../../cli/cost-model/model.js";
import { startLatencyConsumer } from "./e2e-latency.js";
import {
  breakdownBetween,
  describeCall,
  type EntryAttempts,
  type RuntimeDuring,
  type StoreCallRow,
} from "./store-calls.js";
import { consumePerf, producePerf, type ConsumeResult, type ProduceResult } from "./perf-tools.js";
import { sampleProcesses } from "./proc-stats.js";
import type { Percentiles } from "./stats.js";
import { createTopic, type StoreKind, type Target } from "./targets.js";

export interface Workload {
  readonly recordSize: number;
  readonly partitions: number;
  /** Records of the max-rate run, per store kind (DynamoDB Local is slower than a local disk). */
  readonly throughputRecords: Readonly<Record<StoreKind, number>>;
  /** Records/s and seconds of the latency run. */
  readonly latencyRate: number;
  readonly latencySeconds: number;
}

export interface ScenarioResult {
  readonly label: string;
  readonly store: StoreKind;
  readonly agents: number;
  readonly batchTimeoutMs: number | null;
  readonly produce: ProduceResult;
  readonly consume: ConsumeResult;
  readonly latency: ProduceResult;
  readonly e2e: Percentiles & { readonly count: number };
  /** CPU seconds of the whole scenario (warm-up to compaction caught up) per GB produced in it. */
  readonly cpuSecondsPerGb: number;
  /** CPU seconds of the max-rate produce run per GB it produced. */
  readonly produceCpuSecondsPerGb: number;
  readonly peakRssMb: number;
  readonly measured?: MeasuredRates;
  /** The agents' store calls and fetches during the consume run (agent targets). */
  readonly consumeStoreCalls?: readonly StoreCallRow[];
  /** The agents' store calls and ingestion files during the latency run (agent targets). */
  readonly latencyStoreCalls?: readonly StoreCallRow[];
  /** The agents' event-loop delay and GC pauses during the latency run (agent targets). */
  readonly latencyRuntime?: RuntimeDuring;
  /** This run's log entries during the latency run: how many, their append attempts, those that took 3 or more. */
  readonly latencyLogEntries?: EntryAttempts;
  readonly wallSeconds: number;
}

export async function runScenario(
  target: Target,
  w: Workload,
  metricsFile: string | null,
  log: (line: string) => void,
): Promise<ScenarioResult> {
  const started = Date.now();
  await createTopic(target.bootstrap, "tput", w.partitions);
  await createTopic(target.bootstrap, "lat", w.partitions);

  // Warm-up, not measured: JIT of the broker or agent, connections, caches, and partition leadership of
  // the latency topic (a producer's first records to a brand-new topic wait for its metadata). A tenth of
  // the max-rate run, into the latency topic; the latency consumer starts after it, at the end.
  const records = w.throughputRecords[target.store];
  const scenarioCpuBefore = sampleProcesses(target.pids()).cpuSeconds;
  const warmup = await producePerf(target.bootstrap, "lat", Math.ceil(records / 10), w.recordSize, -1);

  const cpuBefore = sampleProcesses(target.pids()).cpuSeconds;
  const produce = await producePerf(target.bootstrap, "tput", records, w.recordSize, -1);
  const cpuAfter = sampleProcesses(target.pids()).cpuSeconds;
  const gb = (produce.records * w.recordSize) / 1e9;
  log(`  produce: ${produce.mbPerSec} MB/s, ${Math.round(produce.recordsPerSec)} rec/s`);

  // The consume reads compacted objects, as the consume target names it: agents first compact what was
  // produced (Kafka has nothing to wait for).
  if (target.store !== "kafka") await compactionCaughtUp(target, log);
  const metricsBeforeConsume = target.store === "kafka" ? null : await target.metrics();
  const consume = await consumePerf(target.bootstrap, "tput", produce.records);
  log(`  consume: ${consume.mbPerSec} MB/s`);
  const consumeStoreCalls =
    metricsBeforeConsume === null ? undefined : breakdownBetween(metricsBeforeConsume, await target.metrics()).calls;
  for (const c of consumeStoreCalls ?? []) log(`    ${describeCall(c)}`);

  const tail = await startLatencyConsumer(target.bootstrap, "lat", w.partitions);
  const metricsBeforeLatency = target.store === "kafka" ? null : await target.metrics();
  const latency = await producePerf(
    target.bootstrap,
    "lat",
    w.latencyRate * w.latencySeconds,
    w.recordSize,
    w.latencyRate,
  );
  const latencyRun =
    metricsBeforeLatency === null ? undefined : breakdownBetween(metricsBeforeLatency, await target.metrics());
  await new Promise((r) => setTimeout(r, 1500));
  const e2e = await tail.stop();
  log(
    `  latency at ${w.latencyRate} rec/s: produce p50 ${latency.p50Ms} p99 ${latency.p99Ms} p99.9 ${latency.p999Ms} ms; end-to-end p50 ${e2e.p50Ms} p99 ${e2e.p99Ms} p99.9 ${e2e.p999Ms} ms (${e2e.count} records)`,
  );

  if (latencyRun) {
    const { calls, entries: e, runtime: t } = latencyRun;
    for (const c of calls) log(`    ${describeCall(c)}`);
    log(
      `    log entries: ${e.entries}, ${e.attempts} append attempts, ${e.threeOrMore} took 3 or more (most ${e.most})`,
    );
    log(
      `    agents' runtime: event-loop delay max ${t.eventLoopLagMaxMs.toFixed(1)} ms (highest p99 ${t.eventLoopLagP99Ms.toFixed(1)} ms); ${t.gcPauses} GC pauses, ${t.gcMs.toFixed(0)} ms in all`,
    );
  }
  if (target.store !== "kafka") await compactionCaughtUp(target, log);
  const scenarioCpu = sampleProcesses(target.pids()).cpuSeconds - scenarioCpuBefore;
  const scenarioGb = ((warmup.records + produce.records + latency.records) * w.recordSize) / 1e9;

  let measured: MeasuredRates | undefined;
  if (metricsFile !== null) {
    const text = await target.metrics();
    writeFileSync(metricsFile, text);
    measured = measuredRatesFromText(text, metricsFile.replace(/^.*\/bench\//, "bench/"));
  }
  const peak = sampleProcesses(target.pids()).peakRssBytes;
  return {
    label: target.label,
    store: target.store,
    agents: target.agents,
    batchTimeoutMs: target.batchTimeoutMs,
    produce,
    consume,
    latency,
    e2e,
    cpuSecondsPerGb: Math.round((scenarioCpu / scenarioGb) * 10) / 10,
    produceCpuSecondsPerGb: Math.round(((cpuAfter - cpuBefore) / gb) * 10) / 10,
    peakRssMb: Math.round(peak / 1024 / 1024),
    ...(measured ? { measured } : {}),
    ...(consumeStoreCalls ? { consumeStoreCalls } : {}),
    ...(latencyRun
      ? {
          latencyStoreCalls: latencyRun.calls,
          latencyRuntime: latencyRun.runtime,
          latencyLogEntries: latencyRun.entries,
        }
      : {}),
    wallSeconds: Math.round((Date.now() - started) / 1000),
  };
}

/** A hang guard, not a threshold: compaction normally catches up within seconds of the last produce. */
const COMPACTION_WAIT_MS = 180_000;

/** Waits until the agents report no ingestion file left uncompacted (their backlog gauge at 0). */
export async function compactionCaughtUp(target: Target, log: (line: string) => void): Promise<void> {
  const began = Date.now();
  for (;;) {
    const text = await target.metrics();
    const ages = [...text.matchAll(/^warp_oldest_uncompacted_file_age_seconds\s+(\S+)$/gm)].map((m) => Number(m[1]));
    if (ages.length > 0 && ages.every((age) => age === 0)) {
      log(`  compaction caught up ${((Date.now() - began) / 1000).toFixed(1)} s after the last produce`);
      return;
    }
    if (Date.now() - began > COMPACTION_WAIT_MS) {
      log(`  compaction had not caught up after ${COMPACTION_WAIT_MS / 1000} s; CPU counted up to now`);
      return;
    }
    await new Promise((r) => setTimeout(r, 500));
  }
}
