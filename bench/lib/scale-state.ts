/**
 * The metadata state at scale, in this process (no store): the fold of `topics` × `partitionsPerTopic`
 * partitions, each with `segmentsPerPartition` segments committed by ingestion files of 1,000 partitions,
 * as the agents build it. Measures the heap the state takes and, for the JSON snapshots agents wrote before
 * binary ones ("before") and the binary ones they write now ("after"), in the same run: the size, the
 * longest the event loop was held (JSON: the whole stringify; binary: the capture, or one 5 ms slice),
 * its event-loop delay p99 and max (perf_hooks.monitorEventLoopDelay, 1 ms resolution, while encoding),
 * and the time to decode it and rebuild the state (the heart of a cold start), with the heap of the
 * rebuilt state.
 */
import { monitorEventLoopDelay, performance } from "node:perf_hooks";
import { setImmediate as yieldToEventLoop } from "node:timers/promises";
import v8 from "node:v8";
import vm from "node:vm";
import type { BatchMeta, Command, CompactCommand } from "../../agent/src/metadata/commands.js";
import { encodeBinarySnapshot } from "../../agent/src/metadata/snapshot-binary.js";
import { ClusterState } from "../../agent/src/metadata/state.js";
import { planCompaction, type PlannedRun } from "../../agent/src/background/compaction-plan.js";
import { archiveCommand, planPages } from "../../agent/src/background/run-archiver.js";
import { encodeRunPage } from "../../agent/src/metadata/run-page.js";
import { TimeSlicer } from "../../common/time-slicer.js";
import { createScaleTopic, SCALE_TIME0, scaleTopicName } from "./scale-topics.js";
import { mib, round1 } from "./stats.js";

export interface StateScaleShape {
  readonly topics: number;
  readonly partitionsPerTopic: number;
  readonly segmentsPerPartition: number;
}

export interface SnapshotFigures {
  readonly bytes: number;
  /** Longest the event loop was held at once while writing it (ms). */
  readonly longestHoldMs: number;
  /** From capture to encoded (ms). */
  readonly totalMs: number;
  /** Event-loop delay while encoding (ms). */
  readonly loopDelayP99Ms: number;
  readonly loopDelayMaxMs: number;
  /** Decoding it and rebuilding the state (ms). */
  readonly decodeMs: number;
  /** Heap of the rebuilt state (bytes). */
  readonly decodedHeapBytes: number;
}

/** Planning one compaction pass over the folded state (every segment an ingestion candidate). */
export interface PlanFigures {
  /** Segments the pass took (a 64 MiB budget, at most 44,000 partitions, as on DynamoDB). */
  readonly segments: number;
  readonly runs: number;
  /** From start to plan, median of five plans (ms; the plan gives the loop back every 5 ms). */
  readonly medianMs: number;
  /** Longest the event loop was held at once (ms). */
  readonly longestHoldMs: number;
}

export interface StateScaleResult {
  readonly shape: StateScaleShape;
  readonly partitions: number;
  readonly segments: number;
  /** Heap the folded state takes (bytes, after a full GC). */
  readonly heapBytes: number;
  readonly json: SnapshotFigures;
  readonly binary: SnapshotFigures;
  readonly plan: PlanFigures;
}

/** A full GC, through V8's `gc` function exposed at run time. */
const gc: () => void = (() => {
  v8.setFlagsFromString("--expose-gc");
  return vm.runInNewContext("gc") as () => void;
})();

function heapUsed(): number {
  gc();
  gc();
  return process.memoryUsage().heapUsed;
}

const BATCHES_PER_FILE = 1000;

const TIME0 = SCALE_TIME0;
const topicName = scaleTopicName;

/** A state holding `topics` topics of `partitionsPerTopic` partitions, and `apply` to fold one more entry. */
function stateWithTopics(
  topics: number,
  partitionsPerTopic: number,
): { state: ClusterState; apply: (commands: Command[], time: number) => void } {
  const state = new ClusterState();
  let index = 0n;
  const apply = (commands: Command[], time: number) => {
    index++;
    state.apply(index, { proposer: "0011223344556677", seq: Number(index), time, commands });
  };
  for (let t = 0; t < topics; t++) apply([createScaleTopic(t, partitionsPerTopic)], TIME0);
  return { state, apply };
}

function buildState(shape: StateScaleShape): ClusterState {
  const { state, apply } = stateWithTopics(shape.topics, shape.partitionsPerTopic);
  let file = 0;
  for (let round = 0; round < shape.segmentsPerPartition; round++) {
    let batches: BatchMeta[] = [];
    const commit = () => {
      const time = TIME0 + file * 50;
      apply([{ type: "commitFile", key: `ingest/scale-${file++}`, size: batches.length * 1000, time, batches }], time);
      batches = [];
    };
    for (let t = 0; t < shape.topics; t++) {
      for (let p = 0; p < shape.partitionsPerTopic; p++) {
        batches.push({
          topic: topicName(t),
          partition: p,
          pos: batches.length * 1000,
          len: 1000,
          count: 10,
          maxTimestamp: TIME0 + file * 50 - 5,
          producerId: 1000 + (p % 4),
          producerEpoch: 0,
          baseSequence: round * 10,
        });
        if (batches.length === BATCHES_PER_FILE) commit();
      }
    }
    if (batches.length > 0) commit();
  }
  return state;
}

/** Runs `work` with the event-loop delay monitor on; returns its result and the delay p99 and max (ms). */
async function withLoopDelay<T>(work: () => Promise<T>): Promise<{ value: T; p99Ms: number; maxMs: number }> {
  const h = monitorEventLoopDelay({ resolution: 1 });
  h.enable();
  // Let the monitor's timer start before the work.
  await yieldToEventLoop();
  const value = await work();
  await yieldToEventLoop();
  h.disable();
  return { value, p99Ms: h.percentile(99) / 1e6, maxMs: h.max / 1e6 };
}

function decodeFigures(data: Buffer): { decodeMs: number; decodedHeapBytes: number } {
  const before = heapUsed();
  const started = performance.now();
  const state = ClusterState.fromSnapshot(data);
  const decodeMs = performance.now() - started;
  // Measured while `state` is live (it is read below, so the collector keeps it).
  const decodedHeapBytes = heapUsed() - before;
  if (state.partitionTotal === 0) throw new Error("decoded an empty state");
  return { decodeMs, decodedHeapBytes };
}

/**
 * Writes a snapshot with `write` (which says how long it held the event loop at once) under the event-loop
 * monitor, inside a macrotask so that the monitor sees a synchronous write's block; then decodes it.
 */
async function snapshotFigures(write: () => Promise<{ data: Buffer; holdMs: number }>): Promise<SnapshotFigures> {
  const run = await withLoopDelay(async () => {
    await yieldToEventLoop();
    const started = performance.now();
    const written = await write();
    return { ...written, totalMs: performance.now() - started };
  });
  const decoded = decodeFigures(run.value.data);
  return {
    bytes: run.value.data.length,
    longestHoldMs: round1(run.value.holdMs),
    totalMs: round1(run.value.totalMs),
    loopDelayP99Ms: round1(run.p99Ms),
    loopDelayMaxMs: round1(run.maxMs),
    decodeMs: round1(decoded.decodeMs),
    decodedHeapBytes: decoded.decodedHeapBytes,
  };
}

export async function measureStateAtScale(shape: StateScaleShape): Promise<StateScaleResult> {
  const before = heapUsed();
  const state = buildState(shape);
  const heapBytes = heapUsed() - before;
  let segments = 0;
  for (const t of state.topics.values()) for (const p of t.partitions) segments += p.segments.length;

  // Before: the JSON snapshot, stringified in one go.
  const json = await snapshotFigures(async () => {
    const started = performance.now();
    const data = state.toSnapshot();
    return { data, holdMs: performance.now() - started };
  });
  // After: capture (synchronous), then the binary encoding in slices, as MetadataLog writes it.
  const binary = await snapshotFigures(async () => {
    const started = performance.now();
    const capture = state.captureSnapshot();
    const captureMs = performance.now() - started;
    const encoded = await encodeBinarySnapshot(capture.view);
    capture.release();
    return { data: encoded.data, holdMs: Math.max(captureMs, encoded.longestHoldMs) };
  });
  return { shape, partitions: state.partitionTotal, segments, heapBytes, json, binary, plan: await planFigures(state) };
}

/** Times planCompaction as the lease holder runs it on DynamoDB (section 9 of docs/metadata-log.md). */
async function planFigures(state: ClusterState): Promise<PlanFigures> {
  const options = {
    now: TIME0 + 24 * 3_600_000,
    minAgeMs: 2_000,
    maxObjectBytes: 64 * 1024 * 1024,
    maxRunBytes: 4 * 1024 * 1024,
    mergeRunsBelowBytes: 1024 * 1024,
    mergeAfterMs: 60_000,
    maxPartitions: 44_000,
  };
  const times: number[] = [];
  let longest = 0;
  let plan: PlannedRun[] = [];
  for (let i = 0; i < 5; i++) {
    const slicer = new TimeSlicer();
    const started = performance.now();
    plan = await planCompaction(state, options, slicer);
    times.push(performance.now() - started);
    longest = Math.max(longest, slicer.longestMs);
  }
  times.sort((a, b) => a - b);
  return {
    segments: plan.reduce((n, r) => n + r.segments.length, 0),
    runs: plan.length,
    medianMs: round1(times[2]!),
    longestHoldMs: round1(longest),
  };
}

/** The figures as a Markdown table (before: JSON; after: binary). */
export function stateScaleTable(r: StateScaleResult): string {
  const row = (what: string, f: (s: SnapshotFigures) => string) => `| ${what} | ${f(r.json)} | ${f(r.binary)} |`;
  return [
    `${r.partitions.toLocaleString("en-US")} partitions (${r.shape.topics} topics × ${r.shape.partitionsPerTopic}), ${r.segments.toLocaleString("en-US")} segments; the folded state takes ${mib(r.heapBytes)} MiB of heap`,
    "",
    "| snapshot | JSON (before) | binary (now) |",
    "|---|---:|---:|",
    row("size", (s) => `${mib(s.bytes)} MiB`),
    row("longest event-loop hold", (s) => `${s.longestHoldMs} ms`),
    row("capture to encoded", (s) => `${s.totalMs} ms`),
    row("event-loop delay while encoding, p99 / max", (s) => `${s.loopDelayP99Ms} / ${s.loopDelayMaxMs} ms`),
    row("decode and rebuild the state", (s) => `${s.decodeMs} ms`),
    row("heap of the rebuilt state", (s) => `${mib(s.decodedHeapBytes)} MiB`),
    "",
    `Planning one compaction pass over it (64 MiB, at most 44,000 partitions): ${r.plan.segments.toLocaleString("en-US")} segments in ${r.plan.runs.toLocaleString("en-US")} runs, ${r.plan.medianMs} ms (median of five), the event loop held at most ${r.plan.longestHoldMs} ms at once.`,
  ].join("\n");
}

/** What retained compacted runs cost each agent: the bounded-heap plan's figures (metadata-log.md 14.3). */
export interface RunsScaleResult {
  readonly partitions: number;
  readonly runsPerPartition: number;
  readonly runs: number;
  /** Heap the runs add to the folded state (bytes per run, after a full GC). */
  readonly heapBytesPerRun: number;
  /** Bytes each run adds to a binary snapshot. */
  readonly snapshotBytesPerRun: number;
  /** After archiving into index pages of PAGE_RUNS runs (run-archiver.ts) until none is due: */
  readonly paged: {
    readonly pageRuns: number;
    readonly pages: number;
    /** Runs still held as segments (the newest of each partition). */
    readonly runsInHeap: number;
    /** Heap and snapshot bytes of all the runs, per run, with the pages. */
    readonly heapBytesPerRun: number;
    readonly snapshotBytesPerRun: number;
    /** The same per archived run: what is left once the runs still held are counted at their own cost. */
    readonly heapBytesPerArchivedRun: number;
    readonly snapshotBytesPerArchivedRun: number;
    /** Bytes of page objects per archived run (in the compaction bucket). */
    readonly pageObjectBytesPerRun: number;
  };
}

/** Runs per index page, as the agents write them (RunArchiver's default). */
const PAGE_RUNS = 64;

/**
 * Folds `partitions` partitions, then `runsPerPartition` rounds of one batch to every partition, each
 * round's batches compacted into one object (a `compact` command per round, as a compaction pass writes
 * one object for many partitions), so that every partition ends with that many compacted runs and no
 * ingestion segment. Batches carry no producer (−1), so only the runs grow. Measures the heap and the
 * snapshot bytes the runs add.
 */
export async function measureRetainedRuns(partitions: number, runsPerPartition: number): Promise<RunsScaleResult> {
  const topics = Math.max(1, Math.ceil(partitions / 100));
  const perTopic = Math.ceil(partitions / topics);
  const { state, apply } = stateWithTopics(topics, perTopic);
  const snapshotBytes = async () => {
    const capture = state.captureSnapshot();
    try {
      return (await encodeBinarySnapshot(capture.view)).data.length;
    } finally {
      capture.release();
    }
  };
  const heapBefore = heapUsed();
  const snapshotBefore = await snapshotBytes();
  for (let round = 0; round < runsPerPartition; round++) {
    const time = TIME0 + (round + 1) * 60_000;
    const batches: BatchMeta[] = [];
    const runs: Array<CompactCommand["runs"][number]> = [];
    for (let t = 0; t < topics; t++)
      for (let p = 0; p < perTopic; p++) {
        const pos = batches.length * 1000;
        const where = { topic: topicName(t), partition: p, pos, len: 1000, maxTimestamp: time - 5 };
        batches.push({ ...where, count: 10, producerId: -1, producerEpoch: -1, baseSequence: -1 });
        runs.push({ ...where, baseOffset: round * 10, lastOffset: round * 10 + 9 });
      }
    const file = `ingest/runs-${round}`;
    apply([{ type: "commitFile", key: file, size: batches.length * 1000, time, batches }], time);
    apply(
      [{ type: "compact", key: `compacted/runs-${round}`, size: batches.length * 1000, runs, replacedFiles: [file] }],
      time + 1,
    );
  }
  const heapAfter = heapUsed();
  const snapshotAfter = await snapshotBytes();
  let runsHeld = 0;
  for (const t of state.topics.values())
    for (const p of t.partitions) runsHeld += p.segments.filter((seg) => seg.location.store === "c").length;
  const expected = topics * perTopic * runsPerPartition;
  if (runsHeld !== expected) throw new Error(`the fold holds ${runsHeld} compacted runs, expected ${expected}`);
  // The lease holder's archiving, folded the way agents fold it, until no page is due.
  let pages = 0;
  let pageObjectBytes = 0;
  for (let pass = 0; ; pass++) {
    const due = await planPages(state, { pageRuns: PAGE_RUNS, maxPages: Infinity, before: Infinity });
    if (due.length === 0) break;
    const commands = due.map((page, i) => {
      const size = encodeRunPage(page).length;
      pageObjectBytes += size;
      return archiveCommand(page, `compacted/page-${pass}-${i}`, size);
    });
    pages += commands.length;
    apply(commands, TIME0 + (runsPerPartition + 2 + pass) * 60_000);
  }
  const heapPaged = heapUsed();
  const snapshotPaged = await snapshotBytes();
  let runsInHeap = 0;
  for (const t of state.topics.values())
    for (const p of t.partitions) runsInHeap += p.segments.filter((seg) => seg.location.store === "c").length;
  return {
    partitions: topics * perTopic,
    runsPerPartition,
    runs: runsHeld,
    heapBytesPerRun: Math.round((heapAfter - heapBefore) / runsHeld),
    snapshotBytesPerRun: round1((snapshotAfter - snapshotBefore) / runsHeld),
    paged: {
      pageRuns: PAGE_RUNS,
      pages,
      runsInHeap,
      heapBytesPerRun: Math.round((heapPaged - heapBefore) / runsHeld),
      snapshotBytesPerRun: round1((snapshotPaged - snapshotBefore) / runsHeld),
      heapBytesPerArchivedRun: Math.round(
        (heapPaged - heapBefore - (runsInHeap * (heapAfter - heapBefore)) / runsHeld) /
          Math.max(1, runsHeld - runsInHeap),
      ),
      snapshotBytesPerArchivedRun: round1(
        (snapshotPaged - snapshotBefore - (runsInHeap * (snapshotAfter - snapshotBefore)) / runsHeld) /
          Math.max(1, runsHeld - runsInHeap),
      ),
      pageObjectBytesPerRun: round1(pageObjectBytes / Math.max(1, runsHeld - runsInHeap)),
    },
  };
}
