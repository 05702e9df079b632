/**
 * Compaction's data path, apart from its plan: read the source objects a pass picked, check that each
 * picked segment's bytes hold exactly its offsets, then copy the segments into one object with final
 * offsets and write it. It runs in the agent's event loop (mem and file stores) or in a worker thread
 * with its own store clients (compaction-worker.ts), so that decoding tens of MiB of DynamoDB answers,
 * copying them and digesting the S3 upload never hold the loop that serves Kafka clients.
 *
 * What crosses between the compactor and the data path is flat: source keys once, and the segments as
 * numbers in one Float64Array (no object per segment: a pass has hundreds of thousands), so that a
 * worker gets them without a structured clone of a large object graph.
 */
import { errorMessage } from "../../../common/logger.js";
import { mapWithinBudget } from "../../../common/map-limit.js";
import type { TimeSlicer } from "../../../common/time-slicer.js";
import { offsetsInBatches, rewriteBatchOffsets } from "../records/record-batch.js";
import type { ObjectStore } from "../store/types.js";
import { ObjectNotFoundError } from "../store/types.js";

/** Leader epoch written into compacted batches (what fetch serves: clients skip epoch validation). */
const SERVED_LEADER_EPOCH = -1;

/** Numbers per segment in CopyRequest.segments. */
export const SEGMENT_FIELDS = 5;
/** Field positions within a segment's numbers. */
export const SEGMENT_SOURCE = 0;
export const SEGMENT_POS = 1;
export const SEGMENT_LEN = 2;
export const SEGMENT_BASE_OFFSET = 3;
export const SEGMENT_OFFSETS = 4;

/** Where a source object is: the ingestion store (whole files) or the compaction store (a span). */
export const SOURCE_INGESTION = 0;
export const SOURCE_COMPACTION = 1;

/** What the data path found of one segment (CopyChecks.status). */
export const SegmentStatus = {
  ok: 0,
  /** Its source object is gone (reported in CopyChecks.missing). */
  missing: 1,
  /** Its source is shorter than the segment. */
  short: 2,
  /** Its bytes are not whole, well-formed batches (CopyChecks.malformed says why). */
  malformed: 3,
  /** Its batches hold another number of offsets than the segment. */
  offsets: 4,
} as const;

export interface CopyRequest {
  /** Source objects, each once. */
  readonly keys: readonly string[];
  /** Per source: SOURCE_INGESTION or SOURCE_COMPACTION. */
  readonly stores: Uint8Array;
  /** Per source: the span read, start and end (ingestion files are read whole: start 0). */
  readonly spans: Float64Array;
  /** Per segment, SEGMENT_FIELDS numbers: source index, position, length, base offset, offsets held. */
  readonly segments: Float64Array;
  /** Sources already in memory here (the fetch cache), by source index: not read again. */
  readonly held: ReadonlyArray<readonly [number, Uint8Array]>;
}

export interface CopyChecks {
  /** Per segment, a SegmentStatus value. */
  readonly status: Uint8Array;
  /** Segments found malformed, with why. */
  readonly malformed: ReadonlyArray<readonly [number, string]>;
  /** Source keys that were not found. */
  readonly missing: readonly string[];
  /** How many sources were read (or found held). */
  readonly sourceObjects: number;
}

export interface WrittenObject {
  readonly bytes: number;
  /** The object's bytes, when asked for (to offer its runs to the fetch cache). */
  readonly data?: Buffer;
}

export interface CopyStores {
  readonly ingestion: ObjectStore;
  readonly compaction: ObjectStore;
}

export interface CopyLimits {
  /** Parallel source reads. */
  readonly readConcurrency: number;
  /** Bytes of source reads in flight at most (one read always runs). */
  readonly readBytesInFlight: number;
}

/** The compactor's defaults (CompactorOptions readConcurrency, readBytesInFlight). */
export const DEFAULT_COPY_LIMITS: CopyLimits = { readConcurrency: 8, readBytesInFlight: 2 * 1024 * 1024 };

interface Source {
  readonly start: number;
  readonly data: Buffer;
}

function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/**
 * One pass's data path: `read` fetches and checks, `write` assembles the segments the compactor kept and
 * writes the object. The sources stay in memory from one to the other, and are dropped after `write`.
 */
export class CopySession {
  private sources: Array<Source | undefined> = [];
  private segments: Float64Array = new Float64Array(0);

  constructor(
    private readonly stores: CopyStores,
    private readonly limits: CopyLimits,
  ) {}

  /** Reads every source once and checks every segment without copying it. */
  async read(request: CopyRequest, slicer: TimeSlicer): Promise<CopyChecks> {
    const { keys, stores, spans } = request;
    this.segments = request.segments;
    this.sources = new Array<Source | undefined>(keys.length);
    for (const [index, bytes] of request.held) this.sources[index] = { start: 0, data: asBuffer(bytes) };
    const missing: string[] = [];
    const toRead: number[] = [];
    for (let k = 0; k < keys.length; k++) if (!this.sources[k]) toRead.push(k);
    const weight = (k: number) => spans[2 * k + 1]! - spans[2 * k]!;
    const { readConcurrency: limit, readBytesInFlight: budget } = this.limits;
    await mapWithinBudget(toRead, { limit, budget, weight }, async (k) => {
      const key = keys[k]!;
      const start = spans[2 * k]!;
      try {
        const data =
          stores[k] === SOURCE_INGESTION
            ? await this.stores.ingestion.get(key, undefined, { consistent: false })
            : await this.stores.compaction.get(key, { offset: start, length: spans[2 * k + 1]! - start });
        this.sources[k] = { start, data };
      } catch (err) {
        if (!(err instanceof ObjectNotFoundError)) throw err;
        missing.push(key);
      }
    });

    const segments = this.segments;
    const count = segments.length / SEGMENT_FIELDS;
    const status = new Uint8Array(count);
    const malformed: Array<[number, string]> = [];
    slicer.begin();
    for (let n = 0; n < count; n++) {
      if (slicer.due()) await slicer.pause();
      const at = n * SEGMENT_FIELDS;
      const src = this.sources[segments[at + SEGMENT_SOURCE]!];
      if (!src) {
        status[n] = SegmentStatus.missing;
        continue;
      }
      const from = segments[at + SEGMENT_POS]! - src.start;
      const to = from + segments[at + SEGMENT_LEN]!;
      if (from < 0 || to > src.data.length) {
        status[n] = SegmentStatus.short;
        continue;
      }
      let offsets: number;
      try {
        offsets = offsetsInBatches(src.data, from, to);
      } catch (err) {
        status[n] = SegmentStatus.malformed;
        malformed.push([n, errorMessage(err)]);
        continue;
      }
      status[n] = offsets === segments[at + SEGMENT_OFFSETS] ? SegmentStatus.ok : SegmentStatus.offsets;
    }
    slicer.end();
    return { status, malformed, missing, sourceObjects: this.sources.filter((s) => s !== undefined).length };
  }

  /**
   * The object: the segments of `order` (indexes into the request's segments, each checked ok) copied
   * back to back, each batch's base offset (and leader epoch) rewritten in the copy, written under `key`.
   * The sources are never written to (store reads may hand out shared buffers: the mem store, the cache).
   */
  async write(key: string, order: Int32Array, keepData: boolean, slicer: TimeSlicer): Promise<WrittenObject> {
    const segments = this.segments;
    let size = 0;
    for (let k = 0; k < order.length; k++) size += segments[order[k]! * SEGMENT_FIELDS + SEGMENT_LEN]!;
    // Not from the shared pool: a worker hands the object back by transferring its memory.
    const data = Buffer.allocUnsafeSlow(size);
    let at = 0;
    slicer.begin();
    for (let k = 0; k < order.length; k++) {
      if (slicer.due()) await slicer.pause();
      const s = order[k]! * SEGMENT_FIELDS;
      const src = this.sources[segments[s + SEGMENT_SOURCE]!];
      if (!src) throw new Error(`compaction source of segment ${order[k]} was not read`);
      const from = segments[s + SEGMENT_POS]! - src.start;
      const len = segments[s + SEGMENT_LEN]!;
      src.data.copy(data, at, from, from + len);
      rewriteBatchOffsets(data, at, at + len, segments[s + SEGMENT_BASE_OFFSET]!, SERVED_LEADER_EPOCH);
      at += len;
    }
    slicer.end();
    this.release();
    await this.stores.compaction.put(key, data);
    return keepData ? { bytes: size, data } : { bytes: size };
  }

  /** Drops the sources (write does; a pass that writes nothing calls this). */
  release(): void {
    this.sources = [];
    this.segments = new Float64Array(0);
  }
}
