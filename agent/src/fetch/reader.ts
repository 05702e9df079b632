/**
 * Reads a partition's stored batches from a fetch offset: finds the segments in the state's index,
 * reads their bytes from whichever store holds them (ingestion files through the cache, compacted
 * objects by ranged reads) and rewrites base offsets of ingestion batches, which were stored verbatim.
 * Returns whole batches only; at least one batch even when it is larger than maxBytes.
 *
 * Reads from the stores go through the cache (object-cache.ts) in units of loads: a whole ingestion
 * file, or one compacted run (a ranged read of its object). Two things keep a consumer that reads old
 * data from waiting on one store round trip after another:
 *  - `warm` starts the loads a fetch will need for every partition at once, before the handler reads
 *    the partitions one by one;
 *  - after a fetch's reads, the loads that follow them in each partition (up to READ_AHEAD_BYTES past
 *    the read) are started as read-ahead (`readAheadAll`), bounded and dropped when unread by the cache.
 * Runs of one object needed at the same time are read with one ranged read where they lie close.
 *
 * A partition's oldest runs may be listed in an index page (metadata/run-page.ts) rather than held in the
 * state: a read or a lookup that reaches a page segment loads the page through the cache (one GET, kept
 * like any load) and goes on with the runs it lists; one read stays within one page.
 */
import type { Location } from "../metadata/commands.js";
import { decodeRunPage } from "../metadata/run-page.js";
import { findSegment, type PartitionState, type Segment } from "../metadata/state.js";
import { iterateBatches, rewriteBatchOffset } from "../records/record-batch.js";
import type { GetOptions, ObjectStore } from "../store/types.js";
import type { ObjectCache } from "./object-cache.js";

export interface ReadResult {
  readonly chunks: Buffer[];
  readonly bytes: number;
}

/** A stored batch: its base offset and the largest timestamp of its records. */
export interface BatchPosition {
  readonly offset: number;
  readonly maxTimestamp: number;
}

/** Ingestion files a segment names were written once and committed: a replica's copy is the file. */
const COMMITTED: GetOptions = { consistent: false };

/** Partition leader epoch written into served batches: -1 tells clients not to validate epochs. */
const SERVED_LEADER_EPOCH = -1;

/** How far past a read (in stored bytes of the partition) read-ahead loads; two 4 MiB runs. */
export const READ_AHEAD_BYTES = 8 * 1024 * 1024;
/** Segments looked at per read-ahead (ingestion segments are single batches, possibly small). */
const READ_AHEAD_MAX_SEGMENTS = 256;

/**
 * Runs of one object needed at the same time are read with one ranged GET when the bytes between them
 * are at most this many (they are read and held for nothing)...
 */
export const COALESCE_GAP_BYTES = 1024 * 1024;
/** ... and the whole range is at most this long. */
export const COALESCE_MAX_BYTES = 16 * 1024 * 1024;

/** One store read: a whole ingestion file, or one compacted run. */
interface Load {
  readonly key: string;
  /** Expected bytes (for ingestion files a lower bound: the end of the last segment seen). */
  readonly size: number;
  readonly load: () => Promise<Buffer>;
  /** For a compacted run: where it lies in its object. */
  readonly run?: Location;
}

/** A read from `offset` of a partition, of at most maxBytes. */
export interface ReadRequest {
  readonly p: PartitionState;
  readonly offset: number;
  readonly maxBytes: number;
}

/**
 * How long after a read of a partition its newly compacted runs are still offered to the cache (ms): a
 * consumer behind the ingestion files fetches it again within a fetch's wait (500 ms by default), and
 * an offer left unread for 10 s is dropped anyway (ObjectCache readAheadStaleMs).
 */
export const RECENT_READ_MS = 60_000;

export class PartitionReader {
  constructor(
    private readonly ingestion: ObjectStore,
    private readonly compaction: ObjectStore,
    private readonly cache: ObjectCache,
  ) {}

  /** Runs of the pages read, by the cached bytes they were decoded from (decoded once while cached). */
  private readonly decodedPages = new WeakMap<Buffer, readonly Segment[]>();
  /** When each partition was last read here (Date.now()); a state reloaded from a snapshot starts afresh. */
  private readonly lastRead = new WeakMap<PartitionState, number>();

  /** Whether partition `p` was read here in the last `withinMs` (compaction offers such partitions' runs). */
  readRecently(p: PartitionState, withinMs = RECENT_READ_MS): boolean {
    const at = this.lastRead.get(p);
    return at !== undefined && Date.now() - at <= withinMs;
  }

  /** The store read that holds segment `s`, keyed as the cache keys it. */
  private loadOf(s: Segment): Load {
    const loc = s.location;
    if (loc.store === "c") return this.runLoad(loc);
    if (loc.store === "p") return { key: loc.key, size: s.page?.size ?? 0, load: () => this.compaction.get(loc.key) };
    return { key: loc.key, size: loc.pos + loc.len, load: () => this.ingestion.get(loc.key, undefined, COMMITTED) };
  }

  private runLoad(loc: Location): Load {
    return {
      key: runKey(loc),
      size: loc.len,
      load: () => this.compaction.get(loc.key, { offset: loc.pos, length: loc.len }),
      run: loc,
    };
  }

  /** The segments a read from `offset` of at most maxBytes covers (at least one). */
  private plan(p: PartitionState, offset: number, maxBytes: number, endOffset = Infinity): Segment[] {
    const segments: Segment[] = [];
    let planned = 0;
    for (let i = p.findSegment(offset); i < p.segments.length; i++) {
      const s = p.segments[i]!;
      if (s.baseOffset >= endOffset) break;
      if (segments.length > 0 && planned + s.location.len > maxBytes) break;
      segments.push(s);
      planned += s.location.len;
    }
    return segments;
  }

  /**
   * Starts the loads that are neither cached nor loading: ingestion files one by one, compacted runs of
   * one object together where they lie close (COALESCE_GAP_BYTES, COALESCE_MAX_BYTES): one ranged read,
   * cut into runs. `speculative`: as read-ahead (bounded by the cache, dropped when unread). Errors are
   * left to the reads that need the bytes, which load again and report them.
   */
  private start(loads: readonly Load[], speculative: boolean): void {
    const seen = new Set<string>();
    const runs = new Map<string, Location[]>();
    const single = (l: Load): void => {
      if (speculative) this.cache.prefetch(l.key, l.size, l.load);
      else this.cache.getOrLoad(l.key, l.load).catch(() => undefined);
    };
    for (const l of loads) {
      if (seen.has(l.key) || this.cache.has(l.key)) continue;
      seen.add(l.key);
      if (!l.run) single(l);
      else runs.set(l.run.key, [...(runs.get(l.run.key) ?? []), l.run]);
    }
    for (const [object, locs] of runs) {
      locs.sort((a, b) => a.pos - b.pos);
      let group: Location[] = [];
      const flush = (): void => {
        if (group.length === 1) single(this.runLoad(group[0]!));
        else if (group.length > 1) {
          const parts = group;
          const from = parts[0]!.pos;
          const to = parts[parts.length - 1]!.pos + parts[parts.length - 1]!.len;
          this.cache.loadTogether(
            parts.map((r) => ({ key: runKey(r), size: r.len })),
            async () => {
              const span = await this.compaction.get(object, { offset: from, length: to - from });
              // Copies: views would keep the whole span alive while any one run of it stays cached.
              return parts.map((r) => {
                if (r.pos - from >= span.length) return Buffer.alloc(0);
                const run = Buffer.allocUnsafeSlow(Math.max(0, Math.min(r.len, span.length - (r.pos - from))));
                span.copy(run, 0, r.pos - from, r.pos - from + run.length);
                return run;
              });
            },
            speculative,
          );
        }
        group = [];
      };
      for (const r of locs) {
        const first = group[0];
        const last = group[group.length - 1];
        if (
          first &&
          last &&
          (r.pos - (last.pos + last.len) > COALESCE_GAP_BYTES || r.pos + r.len - first.pos > COALESCE_MAX_BYTES)
        )
          flush();
        group.push(r);
      }
      flush();
    }
  }

  /** Starts, without waiting, the store reads that `read(p, offset, maxBytes)` will need. */
  warm(p: PartitionState, offset: number, maxBytes: number): void {
    this.warmAll([{ p, offset, maxBytes }]);
  }

  /** `warm` for the partitions of one fetch at once, so that runs of one object are read together. */
  warmAll(reads: readonly ReadRequest[]): void {
    this.start(
      reads.flatMap((r) => this.plan(r.p, r.offset, r.maxBytes).map((s) => this.loadOf(s))),
      false,
    );
  }

  /**
   * Read-ahead after a read from `offset`: the loads holding the next READ_AHEAD_BYTES of the partition
   * past `maxBytes` that are not cached yet start in the background, as far as the cache's read-ahead
   * bound allows.
   */
  readAhead(p: PartitionState, offset: number, maxBytes: number): void {
    this.readAheadAll([{ p, offset, maxBytes }]);
  }

  /** `readAhead` after the reads of one fetch, so that runs of one object are read together. */
  readAheadAll(reads: readonly ReadRequest[]): void {
    const loads: Load[] = [];
    for (const { p, offset, maxBytes } of reads) {
      const limit = maxBytes + READ_AHEAD_BYTES;
      let walked = 0;
      let n = 0;
      for (let i = p.findSegment(offset); i < p.segments.length && n < READ_AHEAD_MAX_SEGMENTS; i++, n++) {
        const s = p.segments[i]!;
        if (walked >= limit) break;
        // A page whose runs are known (cached and decoded): read ahead through its runs, as through the
        // partition's own; one not cached yet is loaded itself.
        const runs = s.location.store === "p" ? this.cachedPageRuns(s) : undefined;
        if (runs) {
          for (let r = findSegment(runs, offset); r < runs.length && walked < limit; r++) {
            walked += runs[r]!.location.len;
            loads.push(this.runLoad(runs[r]!.location));
          }
          continue;
        }
        walked += s.location.len;
        loads.push(this.loadOf(s));
      }
    }
    this.start(loads, true);
  }

  private async readIngestion(loc: Location, length: number): Promise<Buffer> {
    const file = await this.cache.getOrLoad(loc.key, () => this.ingestion.get(loc.key, undefined, COMMITTED));
    return file.subarray(loc.pos, loc.pos + length);
  }

  /**
   * Whole batches from `offset`, up to about `maxBytes` (at least one batch), none starting at or past
   * `endOffset` (a read_committed fetch stops at the last stable offset, which lies on a batch boundary).
   */
  async read(p: PartitionState, offset: number, maxBytes: number, endOffset = Infinity): Promise<ReadResult> {
    this.lastRead.set(p, Date.now());
    // Pages come before every other segment: a read that starts in one stays in it.
    const at = p.segments[p.findSegment(offset)];
    if (at?.location.store === "p") return this.readPage(at, offset, maxBytes, endOffset);
    const chunks: Buffer[] = [];
    let bytes = 0;
    // Snapshot the segments we will read: the fold may replace them (compaction) while we await.
    const segments = this.plan(p, offset, maxBytes, endOffset);
    let g = 0;
    while (g < segments.length) {
      const first = segments[g]!;
      if (first.location.store === "c") {
        const chunk = await this.readRun(first, offset, chunks.length === 0 ? maxBytes : maxBytes - bytes, endOffset);
        if (chunk.length > 0) {
          chunks.push(chunk);
          bytes += chunk.length;
        }
        g++;
        continue;
      }
      // Consecutive batches of one ingestion file lie side by side: one read for all of them.
      let end = g + 1;
      while (
        end < segments.length &&
        segments[end]!.location.store === "i" &&
        segments[end]!.location.key === first.location.key &&
        segments[end]!.location.pos === segments[end - 1]!.location.pos + segments[end - 1]!.location.len
      ) {
        end++;
      }
      const last = segments[end - 1]!;
      const length = last.location.pos + last.location.len - first.location.pos;
      const data = await this.readIngestion(first.location, length);
      for (let k = g; k < end; k++) {
        const s = segments[k]!;
        rewriteBatchOffset(data, s.location.pos - first.location.pos, s.baseOffset, SERVED_LEADER_EPOCH);
      }
      chunks.push(data);
      bytes += data.length;
      g = end;
    }
    return { chunks, bytes };
  }

  /** The runs index page `s` lists, loaded through the cache. */
  async pageRuns(s: Segment): Promise<readonly Segment[]> {
    const load = this.loadOf(s);
    const data = await this.cache.getOrLoad(load.key, load.load);
    let runs = this.decodedPages.get(data);
    if (!runs) {
      runs = decodeRunPage(data, `index page ${s.location.key}`).runs;
      this.decodedPages.set(data, runs);
    }
    return runs;
  }

  /** The runs of page `s` when its bytes are cached and were decoded, without waiting; else undefined. */
  private cachedPageRuns(s: Segment): readonly Segment[] | undefined {
    const data = this.cache.peek(s.location.key);
    return data && this.decodedPages.get(data);
  }

  /** `read` from a page's runs: the runs it needs are started together, then read in order. */
  private async readPage(page: Segment, offset: number, maxBytes: number, endOffset: number): Promise<ReadResult> {
    const runs = await this.pageRuns(page);
    const planned: Segment[] = [];
    let size = 0;
    for (let i = findSegment(runs, offset); i < runs.length; i++) {
      const r = runs[i]!;
      if (r.baseOffset >= endOffset || (planned.length > 0 && size + r.location.len > maxBytes)) break;
      planned.push(r);
      size += r.location.len;
    }
    this.start(
      planned.map((r) => this.runLoad(r.location)),
      false,
    );
    const chunks: Buffer[] = [];
    let bytes = 0;
    for (const r of planned) {
      const chunk = await this.readRun(r, offset, chunks.length === 0 ? maxBytes : maxBytes - bytes, endOffset);
      if (chunk.length === 0) continue;
      chunks.push(chunk);
      bytes += chunk.length;
    }
    return { chunks, bytes };
  }

  /**
   * The first batch of segment `s` that ends at or after `fromOffset` and whose max timestamp
   * satisfies `match`, or null. An ingestion segment is one batch; a compacted run holds many, so it
   * is read (through the cache) and their headers scanned: lookups by time answer at batch granularity
   * in both.
   */
  async findBatch(
    s: Segment,
    fromOffset: number,
    match: (maxTimestamp: number) => boolean,
  ): Promise<BatchPosition | null> {
    if (s.location.store === "p") {
      // A run can hold a match only if its own max timestamp does (the page's is the largest of them).
      for (const r of await this.pageRuns(s)) {
        if (r.lastOffset < fromOffset || !match(r.maxTimestamp)) continue;
        const batch = await this.findBatch(r, fromOffset, match);
        if (batch) return batch;
      }
      return null;
    }
    if (s.location.store !== "c") {
      const fits = s.lastOffset >= fromOffset && match(s.maxTimestamp);
      return fits ? { offset: s.baseOffset, maxTimestamp: s.maxTimestamp } : null;
    }
    const run = await this.loadRun(s.location);
    for (const b of iterateBatches(run)) {
      if (b.baseOffset + b.header.lastOffsetDelta < fromOffset) continue;
      if (match(b.header.maxTimestamp)) return { offset: b.baseOffset, maxTimestamp: b.header.maxTimestamp };
    }
    return null;
  }

  /** A compacted run's bytes, read once and cached. */
  private loadRun(loc: Location): Promise<Buffer> {
    return this.cache.getOrLoad(runKey(loc), () => this.compaction.get(loc.key, { offset: loc.pos, length: loc.len }));
  }

  /**
   * A compacted run holds many batches with their final offsets (compaction keeps runs to a few MiB).
   * The run is read once and cached; batches ending before `offset` are skipped, and whole batches
   * are returned up to maxBytes (at least one).
   */
  private async readRun(s: Segment, offset: number, maxBytes: number, endOffset = Infinity): Promise<Buffer> {
    const run = await this.loadRun(s.location);
    let start = -1;
    let end = 0;
    for (const b of iterateBatches(run)) {
      if (b.baseOffset >= endOffset) break;
      const batchEnd = b.position + b.header.size;
      if (start < 0) {
        if (b.baseOffset + b.header.lastOffsetDelta < offset) continue;
        start = b.position;
      } else if (batchEnd - start > maxBytes) {
        break;
      }
      end = batchEnd;
    }
    return start < 0 ? Buffer.alloc(0) : run.subarray(start, end);
  }
}

/** The cache key of a compacted run: its object and position (compaction offers runs under it too). */
export function runKey(loc: Pick<Location, "key" | "pos">): string {
  return `${loc.key}@${loc.pos}`;
}
