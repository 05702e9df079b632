/**
 * Small requests, where the batch window costs most: on a fresh target,
 *  1. sequential produce: one record at a time, each waiting for its acknowledgement (sequential.ts), into
 *     a topic of 6 partitions;
 *  2. untuned produce, after an unmeasured tenth of it: `kafka-producer-perf-test --num-records N
 *     --record-size 1000 --throughput -1 --producer-props acks=all` (every other producer setting the Java
 *     client's default: linger.ms 5, batch.size 16 KiB, 5 requests in flight, idempotent) into a topic of
 *     one partition.
 * For agents, the ingestion files written and the DynamoDB write units consumed during each run come
 * from the difference of their /metrics before and after it.
 */
import { measuredCounts, parsePrometheusText, sumSamples } from "../../cli/cost-model/measured.js";
import { producePerf, type ProduceResult } from "./perf-tools.js";
import { sequentialProduce, type SequentialRun } from "./sequential.js";
import { createTopic, type StoreKind, type Target } from "./targets.js";

/** The Java producer's defaults but acks=all. */
export const UNTUNED_PRODUCER_PROPS: readonly string[] = ["acks=all"];
export const UNTUNED_RECORD_SIZE = 1000;
export const SEQUENTIAL_RECORD_SIZE = 1000;

export interface SmallRequestsWorkload {
  /** Records of the untuned run (the figure: 200000). */
  readonly untunedRecords: number;
  /** Seconds of the sequential run. */
  readonly sequentialSeconds: number;
}

/** What the agents did during one run (from /metrics); absent for Kafka. */
export interface AgentWork {
  readonly files: number;
  readonly producedBytes: number;
  /** DynamoDB write units (0 on the file store). */
  readonly writeUnits: number;
}

export interface SmallRequestsResult {
  readonly label: string;
  readonly store: StoreKind;
  readonly agents: number;
  readonly batchTimeoutMs: number | null;
  readonly untuned: ProduceResult & { readonly work?: AgentWork };
  readonly sequential: SequentialRun & { readonly work?: AgentWork };
}

interface Counters {
  readonly files: number;
  readonly producedBytes: number;
  readonly writeUnits: number;
}

async function counters(target: Target): Promise<Counters | null> {
  if (target.store === "kafka") return null;
  const samples = parsePrometheusText(await target.metrics());
  const c = measuredCounts(samples);
  return {
    files: sumSamples(samples, "warp_ingestion_files_total"),
    producedBytes: c.producedBytes,
    writeUnits: c.dynamoWriteUnits,
  };
}

function diff(before: Counters | null, after: Counters | null): { work?: AgentWork } {
  if (!before || !after) return {};
  return {
    work: {
      files: after.files - before.files,
      producedBytes: after.producedBytes - before.producedBytes,
      writeUnits: Math.round(after.writeUnits - before.writeUnits),
    },
  };
}

export async function runSmallRequests(
  target: Target,
  w: SmallRequestsWorkload,
  log: (line: string) => void,
): Promise<SmallRequestsResult> {
  await createTopic(target.bootstrap, "untuned", 1);
  await createTopic(target.bootstrap, "sequential", 6);
  // Sequential first: the compaction of the untuned run's hundreds of MB would otherwise run during it,
  // competing for the store and adding its log entries to the sequential run's write units.
  let before: Counters | null = null;
  const sequential = await sequentialProduce(
    target.bootstrap,
    "sequential",
    6,
    SEQUENTIAL_RECORD_SIZE,
    w.sequentialSeconds,
    async () => void (before = await counters(target)),
  );
  const sequentialWork = diff(before, await counters(target));
  log(
    `  sequential produce: ${sequential.count} sends, p50 ${sequential.p50Ms} p99 ${sequential.p99Ms} p99.9 ${sequential.p999Ms} ms${workText(sequentialWork.work)}`,
  );

  // Warm-up, not measured (JIT, connections, leadership): a tenth of the run into another topic.
  await createTopic(target.bootstrap, "warmup", 1);
  await producePerf(
    target.bootstrap,
    "warmup",
    Math.ceil(w.untunedRecords / 10),
    UNTUNED_RECORD_SIZE,
    -1,
    UNTUNED_PRODUCER_PROPS,
  );
  before = await counters(target);
  const untuned = await producePerf(
    target.bootstrap,
    "untuned",
    w.untunedRecords,
    UNTUNED_RECORD_SIZE,
    -1,
    UNTUNED_PRODUCER_PROPS,
  );
  const untunedWork = diff(before, await counters(target));
  log(
    `  untuned produce: ${untuned.mbPerSec} MB/s, p50 ${untuned.p50Ms} p99 ${untuned.p99Ms} ms${workText(untunedWork.work)}`,
  );
  return {
    label: target.label,
    store: target.store,
    agents: target.agents,
    batchTimeoutMs: target.batchTimeoutMs,
    untuned: { ...untuned, ...untunedWork },
    sequential: { ...sequential, ...sequentialWork },
  };
}

function workText(work: AgentWork | undefined): string {
  if (!work) return "";
  const units = work.writeUnits > 0 ? `, ${work.writeUnits} WRU` : "";
  return ` (${work.files} files, ${(work.producedBytes / 1e6).toFixed(1)} MB${units})`;
}

/** The kafka-producer-perf-test command of the untuned run, as a person would type it. */
export function untunedCommand(records: number): string {
  return `kafka-producer-perf-test --topic untuned --num-records ${records} --record-size ${UNTUNED_RECORD_SIZE} --throughput -1 --producer-props ${UNTUNED_PRODUCER_PROPS.join(" ")} bootstrap.servers=<target>`;
}
