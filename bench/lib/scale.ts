/**
 * The `scale` scenario (bench/scale.ts, and `npm run bench` with WARP_BENCH_ONLY including scale): the
 * metadata state in this process (scale-state.ts) and real agents on DynamoDB Local (scale-cluster.ts).
 */
import { ENTRY_BODY_STRIPES } from "../../agent/src/store/dynamodb/entry-bodies.js";
import {
  allSnapshotsText,
  LOG_ENTRIES_AT_SCALE,
  LOOP_TARGET_MS,
  measureClusterAtScale,
  type ClusterScaleResult,
} from "./scale-cluster.js";
import {
  measureRetainedRuns,
  measureStateAtScale,
  stateScaleTable,
  type RunsScaleResult,
  type StateScaleResult,
} from "./scale-state.js";
import { mib } from "./stats.js";
import { startAwsLocal } from "./targets.js";

export interface ScaleOptions {
  readonly topics: number;
  readonly partitionsPerTopic: number;
  readonly agents: number;
  readonly produceSeconds: number;
  readonly snapshotEntries: number;
  readonly unitsSeconds: number;
  /** Produce calls a second in the many-partitions run (0: back to back). */
  readonly callsPerSecond: number;
  /** "state", "runs", "cluster", comma-separated. */
  readonly only: string;
  /** ClusterScaleShape.servicesNiceness. */
  readonly servicesNiceness: number;
}

/** The scenario's settings from the environment (bench/scale.ts documents the variables). */
export function scaleOptionsFromEnv(env: NodeJS.ProcessEnv = process.env): ScaleOptions {
  const num = (name: string, fallback: number) => Number(env[name] ?? fallback);
  return {
    topics: num("WARP_BENCH_SCALE_TOPICS", 1000),
    partitionsPerTopic: num("WARP_BENCH_SCALE_PARTITIONS", 100),
    agents: num("WARP_BENCH_SCALE_AGENTS", 3),
    produceSeconds: num("WARP_BENCH_SCALE_SECONDS", 60),
    snapshotEntries: num("WARP_BENCH_SCALE_SNAPSHOT_ENTRIES", 200),
    unitsSeconds: num("WARP_BENCH_SCALE_UNITS_SECONDS", 15),
    callsPerSecond: num("WARP_BENCH_SCALE_CALLS_PER_SECOND", 4),
    only: env.WARP_BENCH_SCALE_ONLY ?? "state,runs,cluster",
    servicesNiceness: num("WARP_BENCH_SCALE_NICE", 0),
  };
}

export interface ScaleResult {
  readonly date: string;
  readonly options: ScaleOptions;
  readonly state?: StateScaleResult;
  readonly runs?: RunsScaleResult;
  readonly cluster?: ClusterScaleResult;
}

export async function runScale(options: ScaleOptions, log: (line: string) => void): Promise<ScaleResult> {
  const only = new Set(options.only.split(","));
  let state: StateScaleResult | undefined;
  if (only.has("state")) {
    log(`scale: the folded state of ${options.topics * options.partitionsPerTopic} partitions, in this process`);
    state = await measureStateAtScale({
      topics: options.topics,
      partitionsPerTopic: options.partitionsPerTopic,
      segmentsPerPartition: 5,
    });
    log(stateScaleTable(state));
  }
  let runs: RunsScaleResult | undefined;
  if (only.has("runs")) {
    log(`scale: retained compacted runs, ${RUNS_PARTITIONS} partitions × ${RUNS_PER_PARTITION}, in this process`);
    runs = await measureRetainedRuns(RUNS_PARTITIONS, RUNS_PER_PARTITION);
    log(runsScaleText(runs));
  }
  let cluster: ClusterScaleResult | undefined;
  if (only.has("cluster")) {
    log(`scale: ${options.agents} agents on DynamoDB Local`);
    const aws = await startAwsLocal({ niceness: options.servicesNiceness });
    try {
      cluster = await measureClusterAtScale(aws, options, log);
    } finally {
      await aws.stop();
    }
  }
  return {
    date: new Date().toISOString(),
    options,
    ...(state ? { state } : {}),
    ...(runs ? { runs } : {}),
    ...(cluster ? { cluster } : {}),
  };
}

/** The retained-runs measurement: enough runs that a run's own cost stands out of the partitions'. */
/** 500,000 runs; 200 a partition, so that each partition gets index pages (more than 2 × 64 runs). */
const RUNS_PARTITIONS = 2_500;
const RUNS_PER_PARTITION = 200;
/** Runs that 1 and 10 MB/s kept 7 days make, in runs of at most 4 MiB (metadata-log.md 14.1). */
const RETAINED_RUNS_AT = [
  { rate: "1 MB/s", runs: 144_000 },
  { rate: "10 MB/s", runs: 1_440_000 },
] as const;

function runsScaleText(r: RunsScaleResult): string {
  const at = RETAINED_RUNS_AT.map(
    (x) =>
      `${x.rate} kept 7 days (about ${x.runs.toLocaleString("en-US")} runs): ${mib(x.runs * r.heapBytesPerRun)} MiB of heap in every agent, ${mib(x.runs * r.snapshotBytesPerRun)} MiB in every snapshot`,
  ).join("; ");
  const g = r.paged;
  const pagedAt = RETAINED_RUNS_AT.map(
    (x) =>
      `${x.rate} kept 7 days: ${mib(x.runs * g.heapBytesPerArchivedRun)} MiB of heap, ${mib(x.runs * g.snapshotBytesPerArchivedRun)} MiB of snapshot`,
  ).join("; ");
  return [
    `${r.runs.toLocaleString("en-US")} compacted runs (${r.partitions.toLocaleString("en-US")} partitions × ${r.runsPerPartition}, each round of runs one object): ${r.heapBytesPerRun} bytes of heap and ${r.snapshotBytesPerRun} bytes of binary snapshot a run. At that cost, ${at}.`,
    "",
    `With index pages of ${g.pageRuns} runs (archived until none is due: ${g.pages.toLocaleString("en-US")} pages, ${g.runsInHeap.toLocaleString("en-US")} runs left as segments): ${g.heapBytesPerRun} bytes of heap and ${g.snapshotBytesPerRun} bytes of snapshot a run in all; ${g.heapBytesPerArchivedRun} bytes of heap, ${g.snapshotBytesPerArchivedRun} bytes of snapshot and ${g.pageObjectBytesPerRun} bytes of page object a run archived. A partition keeps about 128 runs as segments (a page is due past 128, one a pass); with the rest archived, ${pagedAt}, plus those 128 runs a partition at the cost above.`,
  ].join("\n");
}

/** The result as Markdown, its headings at `level` (2: "##"). */
export function scaleReport(r: ScaleResult, level = 1): string {
  const h = (n: number) => "#".repeat(level + n);
  const out = [`${h(0)} Metadata log at scale (${r.date})`, ""];
  if (r.state) out.push(`${h(1)} The folded state, in one process`, "", stateScaleTable(r.state), "");
  if (r.runs) out.push(`${h(1)} Retained compacted runs, in one process`, "", runsScaleText(r.runs), "");
  const c = r.cluster;
  if (c) {
    out.push(
      `${h(1)} ${c.shape.agents} agents on DynamoDB Local`,
      "",
      `Log units (all agents): on the log's partition key, per MB and per entry, and on the stripes holding the bodies of entries over 1 KiB (${ENTRY_BODY_STRIPES} keys; the busiest takes one share). "At 1 GB/s" multiplies the units per MB by 1,000; for the log's key that is the bound only while entries stay under 1 KiB, past which each entry costs it one unit whatever its size, so its column "at ${LOG_ENTRIES_AT_SCALE} entries/s" (12 agents, an entry per 50 ms window each) is its bound at any rate:`,
      "",
      `| partitions per request | record | batches per file | files | MB | log key WCU/MB | RCU/MB | at 1 GB/s: WCU/s | RCU/s | entries | log key WCU per entry | at ${LOG_ENTRIES_AT_SCALE} entries/s: WCU/s | bodies WCU/MB | RCU/MB | at 1 GB/s, per stripe: WCU/s | RCU/s |`,
      "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
      ...c.logUnits.map(
        (u) =>
          `| ${u.partitions} | ${u.recordBytes} B | ${u.batchesPerFile} | ${u.files} | ${u.producedMB} | ${u.logWriteUnitsPerMB} | ${u.logReadUnitsPerMB} | ${u.writeUnitsPerSecondAt1GBps.toLocaleString("en-US")} | ${u.readUnitsPerSecondAt1GBps.toLocaleString("en-US")} | ${u.entries} | ${u.logWriteUnitsPerEntry} | ${u.logWriteUnitsPerSecondAtScale.toLocaleString("en-US")} | ${u.bodyWriteUnitsPerMB} | ${u.bodyReadUnitsPerMB} | ${u.stripeWriteUnitsPerSecondAt1GBps.toLocaleString("en-US")} | ${u.stripeReadUnitsPerSecondAt1GBps.toLocaleString("en-US")} |`,
      ),
      "",
      `${c.partitions.toLocaleString("en-US")} partitions (${c.shape.topics} topics × ${c.shape.partitionsPerTopic}) created in ${c.createSeconds} s; ${c.shape.produceSeconds} s of one record to every partition, ${c.produced.partitionsPerRequest.toLocaleString("en-US")} partitions per request to an agent (kafkajs sendBatch calls, ${c.produced.callsPerSecond > 0 ? `${c.produced.callsPerSecond} a second, ` : "back to back, "}at most ${c.produced.callsInFlight} in flight): ${c.produced.requests} calls, ${c.produced.records.toLocaleString("en-US")} records, ${c.produced.MB} MB; snapshots every ${c.shape.snapshotEntries} entries.${c.shape.servicesNiceness ? ` DynamoDB Local, the S3 server and the producing clients at niceness ${c.shape.servicesNiceness}, the agents at 0.` : ""}`,
      "",
      `| agent | heap before → after (MiB) | heap peak | RSS peak | snapshots | snapshot size | longest hold | event-loop p99, worst second | the same, with a snapshot | while writing each snapshot: p99 | all samples while writing snapshots: p99 of how many | seconds over ${LOOP_TARGET_MS} ms | event-loop max | CPU | GC: major s (longest) / minor s | worst second: CPU / GC ms, machine busy |`,
      "|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---|",
      ...c.agents.map(
        (a, i) =>
          `| ${i + 1} | ${a.heapBeforeMiB} → ${a.heapAfterMiB} | ${a.heapPeakMiB} | ${a.rssPeakMiB} | ${a.snapshots} | ${a.snapshotBytes > 0 ? `${mib(a.snapshotBytes)} MiB` : "–"} | ${a.snapshotHoldMs} ms | ${a.loopP99WorstMs} ms | ${a.loopP99WorstWithSnapshotMs ?? "–"} ms | ${a.duringSnapshots?.length ? `${a.duringSnapshots.map((x) => x.loopP99Ms).join(", ")} ms` : "–"} | ${allSnapshotsText(a.duringSnapshots ?? [])} | ${a.loopSeconds ? `${a.loopSecondsOverTarget} of ${a.loopSeconds}` : "?"} | ${a.loopMaxMs} ms | ${a.cpuPercent} % | ${a.gcMajorSeconds ?? "?"} (${a.gcMajorLongestMs ?? "?"} ms) / ${a.gcMinorSeconds ?? "?"} | ${a.worstSecond ? `${a.worstSecond.cpuMs} / ${a.worstSecond.gcMs} ms, ${a.worstSecond.machineBusyPercent} %` : "?"} |`,
      ),
      "",
      `Event-loop delay p99 of one-second windows, p99 over all agents and windows: ${c.loopP99AllWindowsMs} ms.${c.idleProcessLoop ? ` An idle Node process beside the agents (the machine's floor, bench/lib/loop-floor.ts): p99 worst second ${c.idleProcessLoop.p99WorstMs} ms, median second ${c.idleProcessLoop.p99MedianMs} ms, ${c.idleProcessLoop.secondsOver} of ${c.idleProcessLoop.seconds} seconds over ${LOOP_TARGET_MS} ms.` : ""} Oldest ingestion file not yet compacted when producing stopped: ${c.oldestUncompactedSeconds} s old.`,
      "",
      `Cold start (one agent started again on the same tables): ${c.coldStart.seconds} s to listening; snapshot ${c.coldStart.snapshotBytes !== null ? `${mib(c.coldStart.snapshotBytes)} MiB` : "none"}, loaded and replayed in ${c.coldStart.replaySeconds ?? "?"} s; heap ${c.coldStart.heapMiB} MiB.`,
    );
  }
  return out.join("\n");
}
