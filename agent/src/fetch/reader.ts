/**
 * Reads a partition's stored batches from a fetch offset: finds the segments in the state's index,
 * reads their bytes from whichever store holds them (ingestion files through the cache, compacted
 * objects by ranged reads) and rewrites base offsets of ingestion batches, which were stored verbatim.
 * Returns whole batches only; at least one batch even when it is larger than maxBytes.
 */
import type { Location } from "../metadata/commands.js";
import type { PartitionState, Segment } from "../metadata/state.js";
import { iterateBatches, rewriteBatchOffset } from "../records/record-batch.js";
import type { ObjectStore } from "../store/types.js";
import type { ObjectCache } from "./object-cache.js";

export interface ReadResult {
  readonly chunks: Buffer[];
  readonly bytes: number;
}

/** Partition leader epoch written into served batches: -1 tells clients not to validate epochs. */
const SERVED_LEADER_EPOCH = -1;

export class PartitionReader {
  constructor(
    private readonly ingestion: ObjectStore,
    private readonly compaction: ObjectStore,
    private readonly cache: ObjectCache,
  ) {}

  private async readIngestion(loc: Location, length: number): Promise<Buffer> {
    const file = await this.cache.getOrLoad(loc.key, () => this.ingestion.get(loc.key));
    return file.subarray(loc.pos, loc.pos + length);
  }

  async read(p: PartitionState, offset: number, maxBytes: number): Promise<ReadResult> {
    const chunks: Buffer[] = [];
    let bytes = 0;
    let i = p.findSegment(offset);
    // Snapshot the segments we will read: the fold may replace them (compaction) while we await.
    const segments: Segment[] = [];
    let planned = 0;
    for (; i < p.segments.length; i++) {
      const s = p.segments[i]!;
      if (segments.length > 0 && planned + s.location.len > maxBytes) break;
      segments.push(s);
      planned += s.location.len;
    }
    let g = 0;
    while (g < segments.length) {
      const first = segments[g]!;
      if (first.location.store === "c") {
        const chunk = await this.readRun(first, offset, chunks.length === 0 ? maxBytes : maxBytes - bytes);
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

  /**
   * A compacted run holds many batches with their final offsets (compaction keeps runs to a few MiB).
   * The run is read once and cached; batches ending before `offset` are skipped, and whole batches
   * are returned up to maxBytes (at least one).
   */
  private async readRun(s: Segment, offset: number, maxBytes: number): Promise<Buffer> {
    const loc = s.location;
    const run = await this.cache.getOrLoad(`${loc.key}@${loc.pos}`, () =>
      this.compaction.get(loc.key, { offset: loc.pos, length: loc.len }),
    );
    let start = -1;
    let end = 0;
    for (const b of iterateBatches(run)) {
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
