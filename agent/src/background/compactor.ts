/**
 * Compaction: copies ingestion data (small multi-partition files in the ingestion store, DynamoDB) into
 * large multi-partition objects in the compaction store (S3), and commits the swap to the metadata log.
 *
 * One pass (run by the holder of the compaction lease, see jobs.ts):
 *  1. catch up with the log; pick (compaction-plan.ts) ingestion segments ("i") older than minAgeMs,
 *     oldest first, up to maxObjectBytes; also small compacted runs ("c", < mergeRunsBelowBytes, older than mergeAfterMs)
 *     so that the many small runs of busy passes merge into fewer, larger ones (L0 → L1);
 *  2. per partition, group consecutive picked segments into runs of at most maxRunBytes (a batch is
 *     never split; fetch caches whole runs, so runs stay a few MiB);
 *  3. read each ingestion file once (whole), and each compacted object once (the span of its picked runs);
 *  4. build ONE object: runs back to back, every batch's base offset rewritten to its final offset and
 *     its leader epoch to -1, so fetch serves compacted bytes as they are;
 *     (steps 3 and 4, and the write of step 5, are the data path: compaction-copy.ts, run in a worker
 *     thread on DynamoDB and S3, compaction-copier.ts)
 *  5. write it as compacted/<ms>-<id>, re-check the picked segments against the caught-up state and the
 *     lease, and propose one `compact` command. The fold applies only runs whose segments are still
 *     exactly there (retention, topic deletion and other compactors may have changed them); an object
 *     none of whose runs applied is deleted at once, one partly applied holds a little dead data until
 *     retention removes it.
 *  6. ingestion files no longer referenced expire by TTL (written with expiresAt by the batcher), or
 *     are deleted now when deleteCompactedIngestionFiles is set; GC (gc.ts) deletes the rest.
 */
import { randomBytes } from "node:crypto";
import type { Logger } from "../../../common/logger.js";
import { errorMessage } from "../../../common/logger.js";
import { TimeSlicer } from "../../../common/time-slicer.js";
import type { CompactCommand } from "../metadata/commands.js";
import type { MetadataLog } from "../metadata/log.js";
import type { ClusterState, Segment } from "../metadata/state.js";
import { runKey } from "../fetch/reader.js";
import type { ObjectStore } from "../store/types.js";
import { oldestUncompactedWrite } from "./backlog.js";
import {
  SEGMENT_FIELDS,
  SEGMENT_LEN,
  SEGMENT_OFFSETS,
  SEGMENT_POS,
  SEGMENT_SOURCE,
  SEGMENT_BASE_OFFSET,
  SegmentStatus,
  SOURCE_COMPACTION,
  SOURCE_INGESTION,
  DEFAULT_COPY_LIMITS,
  type CopyChecks,
  type CopyRequest,
} from "./compaction-copy.js";
import { InProcessCopier, type CompactionCopier } from "./compaction-copier.js";
import { compactCommands, type ObjectRun } from "./compact-commands.js";
import { planCompaction, type PlannedRun } from "./compaction-plan.js";

export const COMPACTED_PREFIX = "compacted/";
const MiB = 1024 * 1024;

export interface CompactorOptions {
  /** Ingestion segments younger than this are left for the next pass; default 2000 ms. */
  readonly minAgeMs?: number;
  /** Bytes of data per pass (one object); default 64 MiB. */
  readonly maxObjectBytes?: number;
  /** Largest run of one partition; default 4 MiB (a larger single batch makes a run of its own). */
  readonly maxRunBytes?: number;
  /** Compacted runs smaller than this are merged with their neighbours; default 1 MiB (0: never). */
  readonly mergeRunsBelowBytes?: number;
  /** Compacted runs are merged once this old; default 60000 ms. */
  readonly mergeAfterMs?: number;
  /**
   * Delete ingestion files as soon as nothing references them, instead of leaving them to their TTL or
   * to GC. Costs a DynamoDB write per KB deleted, and an agent lagging behind the log may still try to
   * read a deleted file (its fetch then fails and the client retries); off by default.
   */
  readonly deleteCompactedIngestionFiles?: boolean;
  /**
   * A pass whose work is only ingestion data, less than this many bytes of it, waits (compacts nothing)
   * until its oldest file is waitAtMostMs old: fewer, larger objects at low throughput, each an S3 PUT and
   * a log entry. Default 0: every pass compacts what it finds.
   */
  readonly waitForBytes?: number;
  /** See waitForBytes; default 30000 ms. */
  readonly waitAtMostMs?: number;
  /**
   * Parallel reads of source objects; default 8. For the data path in this event loop: a copier given in
   * CompactorDeps has its own limits.
   */
  readonly readConcurrency?: number;
  /**
   * Bytes of source reads in flight at most (one read always runs, however large); default 2 MiB. Answers
   * in flight can arrive together, and the DynamoDB client decodes each in one synchronous step (~7 ms a
   * MiB of chunks): eight 1 MB ingestion files in flight could hold the event loop ~60 ms at once, 2 MiB
   * ~15 ms. At DynamoDB's 10-30 ms a call, 2 MiB in flight still reads 70-200 MB/s. Like readConcurrency,
   * for the data path in this event loop.
   */
  readonly readBytesInFlight?: number;
  /** The pass gives the event loop back after about this long (ms); default 5 (common/time-slicer.ts). */
  readonly sliceMs?: number;
}

export interface CompactionStats {
  /** Key of the object written, or null when there was nothing to compact (or the pass waited). */
  readonly key: string | null;
  /** The pass found less than waitForBytes of ingestion data, none of it waitAtMostMs old, and waited. */
  readonly waited?: boolean;
  readonly bytes: number;
  readonly runs: number;
  /** Runs the fold applied (the rest were overtaken by retention, deletion or another compactor). */
  readonly appliedRuns: number;
  readonly segments: number;
  readonly sourceObjects: number;
  readonly replacedFiles: readonly string[];
  readonly seconds: number;
  /** Age (ms) of the oldest ingestion file still referenced after this pass (backlog.ts); 0 when none. */
  readonly oldestIngestionAgeMs: number;
  /** The longest the pass held the event loop at once (ms): its work runs in slices of a few ms. */
  readonly longestHoldMs: number;
  /** How many times the pass gave the event loop back. */
  readonly pauses: number;
}

export interface CompactorDeps {
  readonly ingestion: ObjectStore;
  readonly compaction: ObjectStore;
  readonly log: MetadataLog;
  readonly logger: Logger;
  /** Checked before committing: a compactor that lost its lease abandons its object. */
  readonly isLeader?: () => boolean;
  /**
   * The fetch cache: ingestion files it holds are not read from the store again, and the runs of each
   * object written are offered to it (as read-ahead) under the key fetch reads them by.
   */
  readonly cache?: CompactionCache;
  /**
   * Whether this agent served a fetch of the partition lately (fetch/reader.ts readRecently): only those
   * partitions' runs are offered to the cache. A consumer reading behind the ingestion files has; runs of
   * partitions nobody reads here would only push each other out (44,000 offers a pass at 100,000
   * partitions, about a tenth of the lease holder's CPU in the scale benchmark). Absent: every run.
   */
  readonly readsPartition?: (topic: string, partition: number) => boolean;
  readonly onCompaction?: (stats: CompactionStats) => void;
  /**
   * Where the data path runs (compaction-copier.ts): a WorkerCopier on DynamoDB and S3. Absent: in this
   * event loop, on `ingestion` and `compaction`, in slices.
   */
  readonly copier?: CompactionCopier;
}

/** What compaction uses of the fetch cache (fetch/object-cache.ts). */
export interface CompactionCache {
  peek(key: string): Buffer | undefined;
  offer(key: string, data: Buffer): void;
  offerViews(
    slab: Buffer,
    views: ReadonlyArray<{ readonly key: string; readonly offset: number; readonly length: number }>,
  ): void;
  readAheadRoom(size: number, maxDrops: number): { room: boolean; dropped: number };
}

interface BuiltRun extends ObjectRun {
  /** Its segments' numbers in the pass's CopyRequest, in order. */
  readonly parts: readonly number[];
}

/**
 * Bytes a `compact` command is planned with per run (a binary run takes about 20; JSON entries, written
 * while an older agent is live, more: the pass then drops runs until its commands fit).
 */
const PLANNED_BYTES_PER_RUN = 32;
/**
 * Most `compact` commands (log entries) one pass commits its object with. One entry holds about 11,000
 * runs on DynamoDB; with one command a pass, compaction covered at most 11,000 partitions every pass, and
 * a cluster writing to all of 100,000 partitions fell further behind at every pass.
 */
const COMMANDS_PER_PASS = 4;
/** Room of a command kept for its list of replaced files (informational: the fold does not use it). */
const REPLACED_FILES_SHARE = 0.25;

function sameSegment(a: Segment, b: Segment): boolean {
  return (
    a.baseOffset === b.baseOffset &&
    a.lastOffset === b.lastOffset &&
    a.location.store === b.location.store &&
    a.location.key === b.location.key &&
    a.location.pos === b.location.pos &&
    a.location.len === b.location.len
  );
}

/** Whether the run's segments are still, exactly, in the partition (so the fold will apply it). */
function stillThere(state: ClusterState, run: BuiltRun): boolean {
  const p = state.partition(run.topic, run.partition);
  if (!p) return false;
  const first = p.findSegment(run.segments[0]!.baseOffset);
  for (let k = 0; k < run.segments.length; k++) {
    const s = p.segments[first + k];
    if (!s || !sameSegment(s, run.segments[k]!)) return false;
  }
  return true;
}

/**
 * The ingestion files every reference of which is in `runs` (the pass replaces them whole), as many as
 * `maxBytes` of keys hold: the list only lets the pass delete them early (deleteCompactedIngestionFiles);
 * the others expire by TTL or GC as usual.
 */
function replacedFiles(runs: readonly BuiltRun[], state: ClusterState, maxBytes: number): string[] {
  const perFile = new Map<string, number>();
  for (const r of runs)
    for (const s of r.segments)
      if (s.location.store === "i") perFile.set(s.location.key, (perFile.get(s.location.key) ?? 0) + 1);
  const out: string[] = [];
  let bytes = 0;
  for (const [file, n] of perFile) {
    if (state.objectRefs.get(file) !== n) continue;
    bytes += Buffer.byteLength(file) + 2;
    if (bytes > maxBytes) break;
    out.push(file);
  }
  return out;
}

export class Compactor {
  private readonly minAgeMs: number;
  private readonly maxObjectBytes: number;
  private readonly maxRunBytes: number;
  private readonly mergeRunsBelowBytes: number;
  private readonly mergeAfterMs: number;
  private readonly copier: CompactionCopier;

  constructor(
    private readonly deps: CompactorDeps,
    private readonly options: CompactorOptions = {},
  ) {
    this.minAgeMs = options.minAgeMs ?? 2000;
    this.maxObjectBytes = options.maxObjectBytes ?? 64 * MiB;
    this.maxRunBytes = options.maxRunBytes ?? 4 * MiB;
    this.mergeRunsBelowBytes = options.mergeRunsBelowBytes ?? 1 * MiB;
    this.mergeAfterMs = options.mergeAfterMs ?? 60_000;
    this.copier =
      deps.copier ??
      new InProcessCopier(
        { ingestion: deps.ingestion, compaction: deps.compaction },
        {
          readConcurrency: options.readConcurrency ?? DEFAULT_COPY_LIMITS.readConcurrency,
          readBytesInFlight: options.readBytesInFlight ?? DEFAULT_COPY_LIMITS.readBytesInFlight,
        },
      );
  }

  /** One compaction pass. */
  async runOnce(now = Date.now()): Promise<CompactionStats> {
    const started = process.hrtime.bigint();
    const { log, logger } = this.deps;
    await log.catchUp();
    // One slicer for the whole pass: its longest slice is how long the pass held the event loop at once.
    const slicer = new TimeSlicer(this.options.sliceMs);
    const plan = await planCompaction(
      log.state,
      {
        now,
        minAgeMs: this.minAgeMs,
        maxObjectBytes: this.maxObjectBytes,
        maxRunBytes: this.maxRunBytes,
        mergeRunsBelowBytes: this.mergeRunsBelowBytes,
        mergeAfterMs: this.mergeAfterMs,
        maxPartitions: Math.max(1, Math.floor(log.maxCommandBytes / PLANNED_BYTES_PER_RUN) * COMMANDS_PER_PASS),
      },
      slicer,
    );
    const seconds = () => Number(process.hrtime.bigint() - started) / 1e9;
    const empty = (): CompactionStats => ({
      key: null,
      bytes: 0,
      runs: 0,
      appliedRuns: 0,
      segments: 0,
      sourceObjects: 0,
      replacedFiles: [],
      seconds: seconds(),
      oldestIngestionAgeMs: this.oldestIngestionAge(now),
      longestHoldMs: slicer.longestMs,
      pauses: slicer.pauseCount,
    });
    if (plan.length === 0) return empty();
    if (this.belowWaitForBytes(plan)) {
      const waiting = empty();
      if (waiting.oldestIngestionAgeMs < (this.options.waitAtMostMs ?? 30_000)) return { ...waiting, waited: true };
    }

    const reads = this.deps.readsPartition;
    const checks = await this.copier.read(await this.copyRequest(plan, slicer), slicer);
    let written: { readonly bytes: number; readonly data?: Buffer };
    let built: BuiltRun[];
    let commands: CompactCommand[];
    const key = `${COMPACTED_PREFIX}${String(now).padStart(13, "0")}-${randomBytes(6).toString("hex")}`;
    try {
      built = await this.build(plan, checks, slicer);
      if (built.length === 0) return empty();
      commands = await this.commands(key, built, log.state, slicer);
      // Keep the pass within COMMANDS_PER_PASS entries: drop the newest runs until its commands fit.
      while (commands.length > COMMANDS_PER_PASS && built.length > 1) {
        built = built.slice(0, Math.max(1, Math.floor(built.length * 0.8)));
        commands = await this.commands(key, built, log.state, slicer);
      }
      const offers = this.deps.cache !== undefined && (!reads || built.some((r) => reads(r.topic, r.partition)));
      written = await this.copier.write(checks.pass, key, objectOrder(built), offers, slicer);
    } finally {
      this.copier.release(checks.pass);
    }

    // Segments may have changed while we read and wrote: only propose what is still there.
    await log.catchUp();
    const valid: BuiltRun[] = [];
    slicer.begin();
    for (const r of built) {
      if (stillThere(log.state, r)) valid.push(r);
      if (slicer.due()) await slicer.pause();
    }
    slicer.end();
    if (valid.length === 0 || (this.deps.isLeader && !this.deps.isLeader())) {
      logger.info("compaction abandoned: segments changed or lease lost", { key });
      await this.deps.compaction.delete([key]);
      return empty();
    }
    if (valid.length < built.length) commands = await this.commands(key, built, log.state, slicer, new Set(valid));
    // The commands are applied one by one (each run on its own, section 9 of docs/metadata-log.md).
    await log.propose(commands);
    const replacedFiles = commands.flatMap((c) => c.replacedFiles);
    if (this.deps.cache && written.data) {
      const offered = reads ? valid.filter((r) => reads(r.topic, r.partition)) : valid;
      if (offered.length > 0) await offerRuns(this.deps.cache, key, written.data, built, new Set(offered), slicer);
    }

    const appliedRuns = log.state.objectRefs.get(key) ?? 0;
    if (appliedRuns === 0) {
      logger.info("compaction overtaken: no run applied; deleting the object", { key });
      await this.deps.compaction.delete([key]);
    }
    const unreferenced = replacedFiles.filter((f) => !log.state.objectRefs.has(f));
    if (this.options.deleteCompactedIngestionFiles && unreferenced.length > 0) {
      await this.deps.ingestion
        .delete(unreferenced)
        .catch((err: unknown) =>
          logger.warn("deleting compacted ingestion files failed", { error: errorMessage(err) }),
        );
    }
    const stats: CompactionStats = {
      key: appliedRuns > 0 ? key : null,
      bytes: appliedRuns > 0 ? written.bytes : 0,
      runs: commands.reduce((n, c) => n + c.runs.length, 0),
      appliedRuns,
      segments: valid.reduce((n, r) => n + r.segments.length, 0),
      sourceObjects: checks.sourceObjects,
      replacedFiles,
      seconds: seconds(),
      oldestIngestionAgeMs: this.oldestIngestionAge(Date.now()),
      longestHoldMs: slicer.longestMs,
      pauses: slicer.pauseCount,
    };
    logger.debug("compaction pass", {
      key,
      bytes: written.bytes,
      runs: stats.runs,
      appliedRuns,
      segments: stats.segments,
      sources: stats.sourceObjects,
      longestHoldMs: Math.round(stats.longestHoldMs * 10) / 10,
    });
    this.deps.onCompaction?.(stats);
    return stats;
  }

  /** The pass's commands (compact-commands.ts); `keep`: the runs still there (all when undefined). */
  private commands(
    key: string,
    runs: readonly BuiltRun[],
    state: ClusterState,
    slicer: TimeSlicer,
    keep?: ReadonlySet<BuiltRun>,
  ): Promise<CompactCommand[]> {
    const log = this.deps.log;
    const kept = keep ? runs.filter((r) => keep.has(r)) : runs;
    const replaced = replacedFiles(kept, state, log.maxCommandBytes * REPLACED_FILES_SHARE);
    return compactCommands(key, runs, kept, state, log, replaced, slicer);
  }

  /**
   * Whether the plan is only ingestion data, less than CompactorOptions.waitForBytes of it: the pass then
   * waits unless the oldest is waitAtMostMs old (runOnce). Merges never wait.
   */
  private belowWaitForBytes(plan: readonly PlannedRun[]): boolean {
    const min = this.options.waitForBytes ?? 0;
    if (min <= 0) return false;
    let bytes = 0;
    for (const run of plan) {
      for (const s of run.segments) if (s.location.store !== "i") return false;
      bytes += run.bytes;
    }
    return bytes < min;
  }

  private oldestIngestionAge(now: number): number {
    const oldest = oldestUncompactedWrite(this.deps.log.state);
    return oldest === null ? 0 : Math.max(0, now - oldest);
  }

  /**
   * What the data path reads and checks (compaction-copy.ts): every source once, ingestion files whole and
   * compacted objects as the span of their picked runs, and every planned segment in plan order. Ingestion
   * files the fetch cache holds go along instead of being read again.
   */
  private async copyRequest(plan: readonly PlannedRun[], slicer: TimeSlicer): Promise<CopyRequest> {
    // Per store, by key: no key string made per segment (a pass has hundreds of thousands).
    const index = { i: new Map<string, number>(), c: new Map<string, number>() };
    const keys: string[] = [];
    const stores: number[] = [];
    const spans: number[] = [];
    let count = 0;
    for (const run of plan) count += run.segments.length;
    const segments = new Float64Array(count * SEGMENT_FIELDS);
    let n = 0;
    slicer.begin();
    for (let k = 0; k < plan.length; k++) {
      const planned = plan[k]!.segments;
      for (let j = 0; j < planned.length; j++, n += SEGMENT_FIELDS) {
        if (slicer.due()) await slicer.pause();
        const s = planned[j]!;
        const { store, key, pos, len } = s.location;
        segments[n + SEGMENT_POS] = pos;
        segments[n + SEGMENT_LEN] = len;
        segments[n + SEGMENT_BASE_OFFSET] = s.baseOffset;
        segments[n + SEGMENT_OFFSETS] = s.lastOffset - s.baseOffset + 1;
        // Plans hold ingestion segments and compacted runs only (compaction-plan.ts), never pages.
        if (store === "p") {
          segments[n + SEGMENT_SOURCE] = -1;
          continue;
        }
        let source = index[store].get(key);
        if (source === undefined) {
          source = keys.length;
          index[store].set(key, source);
          keys.push(key);
          stores.push(store === "i" ? SOURCE_INGESTION : SOURCE_COMPACTION);
          // Ingestion files are read whole, from 0.
          spans.push(store === "i" ? 0 : pos, pos + len);
        } else {
          spans[2 * source] = Math.min(spans[2 * source]!, store === "i" ? 0 : pos);
          spans[2 * source + 1] = Math.max(spans[2 * source + 1]!, pos + len);
        }
        segments[n + SEGMENT_SOURCE] = source;
      }
    }
    slicer.end();
    const held: Array<[number, Buffer]> = [];
    const cache = this.deps.cache;
    if (cache)
      for (const [key, source] of index.i) {
        const data = cache.peek(key);
        if (data) held.push([source, data]);
      }
    return { keys, stores: Uint8Array.from(stores), spans: Float64Array.from(spans), segments, held };
  }

  /**
   * Each planned run's segments the data path found sound, in runs. A segment whose bytes are missing or
   * do not hold exactly its offsets splits the run (it stays where it is and is reported).
   */
  private async build(plan: readonly PlannedRun[], checks: CopyChecks, slicer: TimeSlicer): Promise<BuiltRun[]> {
    const logger = this.deps.logger;
    for (const key of checks.missing)
      logger.error("compaction source object is missing; its segments are skipped", { key });
    const malformed = new Map(checks.malformed);
    slicer.begin();
    const out: BuiltRun[] = [];
    let n = 0;
    for (let k = 0; k < plan.length; k++) {
      const r = plan[k]!;
      let segments: Segment[] = [];
      let parts: number[] = [];
      let len = 0;
      let maxTimestamp = -1;
      const flush = () => {
        if (segments.length > 0 && !(segments.length === 1 && segments[0]!.location.store === "c")) {
          out.push({ topic: r.topic, partition: r.partition, segments, parts, len, maxTimestamp });
        }
        segments = [];
        parts = [];
        len = 0;
        maxTimestamp = -1;
      };
      for (let j = 0; j < r.segments.length; j++, n++) {
        const s = r.segments[j]!;
        if (slicer.due()) await slicer.pause();
        const status = checks.status[n];
        if (status !== SegmentStatus.ok) {
          this.reportSkipped(s, status, malformed.get(n));
          flush();
          continue;
        }
        segments.push(s);
        parts.push(n);
        len += s.location.len;
        maxTimestamp = Math.max(maxTimestamp, s.maxTimestamp);
      }
      flush();
    }
    slicer.end();
    return out;
  }

  /** Logs why a segment stays where it is (a missing source was logged once, by key). */
  private reportSkipped(s: Segment, status: number | undefined, why: string | undefined): void {
    const where = { key: s.location.key, pos: s.location.pos };
    const logger = this.deps.logger;
    if (status === SegmentStatus.short)
      logger.error("compaction source is shorter than its segment; segment skipped", { ...where, len: s.location.len });
    else if (status === SegmentStatus.malformed)
      logger.error("compaction found a malformed batch; segment skipped", { ...where, error: why ?? "" });
    else if (status === SegmentStatus.offsets)
      logger.error("compaction segment bytes do not match its offsets; segment skipped", {
        ...where,
        baseOffset: s.baseOffset,
        lastOffset: s.lastOffset,
      });
  }
}

/** The segments of the runs, in the order the object holds them (their numbers in the CopyRequest). */
function objectOrder(runs: readonly BuiltRun[]): Int32Array {
  const order = new Int32Array(runs.reduce((n, r) => n + r.parts.length, 0));
  let at = 0;
  for (const r of runs) for (const part of r.parts) order[at++] = part;
  return order;
}

/** Runs up to this size are offered as views of a shared slab (ObjectCache.offerViews); larger ones alone. */
const SLAB_RUN_BYTES = 16 * 1024;
/** Size of the slabs small runs are copied into. */
const SLAB_BYTES = 64 * 1024;
/** Read-ahead entries dropped at a time to make room for what a pass offers (ObjectCache.readAheadRoom). */
const ROOM_DROPS_PER_STEP = 8;

/**
 * Offers the fetch cache the runs of a just-written object that were proposed (`keep`), under the key
 * fetch reads them by (fetch/reader.ts runKey): a consumer reading behind the ingestion files finds the
 * compacted bytes in memory instead of reading them back from the store. Runs are copies, not views of
 * the object: a view would keep the whole object (up to maxObjectBytes) alive as long as any one of its
 * runs stays cached, beyond what the cache counts. Small runs are copied into shared slabs of 64 KiB,
 * which the cache counts whole: a pass over 100,000 partitions offers about 44,000 runs of 1 KiB, and a
 * buffer each (44,000 allocations a pass) made the lease holder collect garbage in long pauses.
 */
async function offerRuns(
  cache: CompactionCache,
  key: string,
  data: Buffer,
  runs: readonly BuiltRun[],
  keep: ReadonlySet<BuiltRun>,
  slicer: TimeSlicer,
): Promise<void> {
  slicer.begin();
  let group: Array<{ key: string; from: number; length: number }> = [];
  let groupBytes = 0;
  // Room first, a few entries at a time between slices: one offer of a large run could otherwise drop
  // thousands of small unread ones at once (hundreds of milliseconds in the `scale` benchmark).
  const room = async (bytes: number): Promise<void> => {
    for (;;) {
      const { room, dropped } = cache.readAheadRoom(bytes, ROOM_DROPS_PER_STEP);
      if (room || dropped === 0) return;
      if (slicer.due()) await slicer.pause();
    }
  };
  const flush = async (): Promise<void> => {
    if (group.length === 0) return;
    await room(groupBytes);
    const slab = Buffer.allocUnsafeSlow(groupBytes);
    let at = 0;
    const views = group.map((g) => {
      data.copy(slab, at, g.from, g.from + g.length);
      at += g.length;
      return { key: g.key, offset: at - g.length, length: g.length };
    });
    cache.offerViews(slab, views);
    group = [];
    groupBytes = 0;
  };
  let pos = 0;
  for (const r of runs) {
    if (slicer.due()) await slicer.pause();
    if (keep.has(r)) {
      const runKeyOf = runKey({ key, pos });
      if (r.len > SLAB_RUN_BYTES) {
        await room(r.len);
        const run = Buffer.allocUnsafeSlow(r.len);
        data.copy(run, 0, pos, pos + r.len);
        cache.offer(runKeyOf, run);
      } else {
        if (groupBytes + r.len > SLAB_BYTES) await flush();
        group.push({ key: runKeyOf, from: pos, length: r.len });
        groupBytes += r.len;
      }
    }
    pos += r.len;
  }
  await flush();
  slicer.end();
}
