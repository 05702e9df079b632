/**
 * PartitionReader over compacted runs and ingestion files: reads stay exact at run and object
 * boundaries with warm-up and read-ahead, and read-ahead loads only what follows, within its bound.
 */
import assert from "node:assert/strict";
import { ObjectCache } from "../../src/fetch/object-cache.js";
import { PartitionReader, READ_AHEAD_BYTES, runKey } from "../../src/fetch/reader.js";
import type { Location } from "../../src/metadata/commands.js";
import { PartitionState } from "../../src/metadata/state.js";
import { iterateBatches } from "../../src/records/record-batch.js";
import { MemObjectStore } from "../../src/store/mem.js";
import type { ByteRange, ObjectStore } from "../../src/store/types.js";
import { buildBatch } from "../records/batch-builder.js";

/** A store that records every get (key and range): the seam the assertions look through. */
class CountingStore extends MemObjectStore {
  readonly gets: string[] = [];
  override async get(key: string, range?: ByteRange): Promise<Buffer> {
    this.gets.push(range ? `${key}@${range.offset}+${range.length}` : key);
    return super.get(key, range);
  }
}

/** A batch of `records` records with its final base offset written in (as compaction stores them). */
function batchAt(offset: number, records: number, valueBytes: number): Buffer {
  const b = buildBatch(Array.from({ length: records }, (_, i) => ({ value: "v".repeat(valueBytes) + (offset + i) })));
  b.writeBigInt64BE(BigInt(offset), 0);
  return b;
}

interface Layout {
  readonly p: PartitionState;
  readonly compaction: CountingStore;
  readonly ingestion: CountingStore;
}

/**
 * One partition: `objects` compacted objects, each with `runsPerObject` runs of `batchesPerRun` batches
 * of 10 records (the run of another partition sits between two of ours, as in a multi-partition object),
 * then one ingestion file of 3 single-batch segments.
 */
async function layout(
  objects: number,
  runsPerObject: number,
  batchesPerRun: number,
  valueBytes = 100,
): Promise<Layout> {
  const compaction = new CountingStore();
  const ingestion = new CountingStore();
  const p = new PartitionState();
  let offset = 0;
  for (let o = 0; o < objects; o++) {
    const parts: Buffer[] = [];
    let pos = 0;
    for (let r = 0; r < runsPerObject; r++) {
      const other = batchAt(0, 2, 10);
      parts.push(other);
      pos += other.length;
      const base = offset;
      const batches = Array.from({ length: batchesPerRun }, () => {
        const b = batchAt(offset, 10, valueBytes);
        offset += 10;
        return b;
      });
      const run = Buffer.concat(batches);
      parts.push(run);
      const location: Location = { store: "c", key: `compacted/${o}`, pos, len: run.length };
      p.segments.push({ baseOffset: base, lastOffset: offset - 1, maxTimestamp: 0, location, appendTime: 0 });
      pos += run.length;
    }
    await compaction.put(`compacted/${o}`, Buffer.concat(parts));
  }
  const file: Buffer[] = [Buffer.from("other partitions' bytes first")];
  let pos = file[0]!.length;
  for (let s = 0; s < 3; s++) {
    const b = buildBatch(Array.from({ length: 10 }, (_, i) => ({ value: `i${offset + i}` })));
    const location: Location = { store: "i", key: "ingest/f1", pos, len: b.length };
    p.segments.push({ baseOffset: offset, lastOffset: offset + 9, maxTimestamp: 0, location, appendTime: 0 });
    file.push(b);
    pos += b.length;
    offset += 10;
  }
  await ingestion.put("ingest/f1", Buffer.concat(file));
  p.nextOffset = offset;
  return { p, compaction, ingestion };
}

/** Base offsets of the batches a read returned, checking each batch is whole. */
function offsetsOf(chunks: readonly Buffer[]): number[] {
  const out: number[] = [];
  for (const c of chunks) {
    let end = 0;
    for (const b of iterateBatches(c)) {
      out.push(b.baseOffset);
      end = b.position + b.header.size;
    }
    assert.equal(end, c.length, "chunks hold whole batches only");
  }
  return out;
}

const settle = (): Promise<void> => new Promise((r) => setTimeout(r, 10));

describe("PartitionReader", () => {
  it("reads every offset once, in order, across runs, objects and the ingestion file, whatever maxBytes", async () => {
    for (const maxBytes of [1, 700, 1500, 5000, 1 << 20]) {
      const { p, compaction, ingestion } = await layout(3, 2, 4);
      const reader = new PartitionReader(ingestion, compaction, new ObjectCache(64 << 20));
      const seen: number[] = [];
      let offset = 0;
      while (offset < p.nextOffset) {
        reader.warm(p, offset, maxBytes);
        const r = await reader.read(p, offset, maxBytes);
        reader.readAhead(p, offset, maxBytes);
        const got = offsetsOf(r.chunks);
        assert.ok(got.length > 0, `progress at ${offset} (maxBytes ${maxBytes})`);
        seen.push(...got);
        offset = got[got.length - 1]! + 10;
      }
      assert.deepEqual(
        seen,
        Array.from({ length: p.nextOffset / 10 }, (_, i) => i * 10),
        `maxBytes ${maxBytes}`,
      );
      // Each run and the ingestion file were read from the store once, read-ahead included (two runs of
      // one object close together are one ranged read).
      assert.equal(new Set(compaction.gets).size, compaction.gets.length);
      assert.ok(compaction.gets.length >= 3 && compaction.gets.length <= 6, compaction.gets.join(" "));
      assert.deepEqual(ingestion.gets, ["ingest/f1"]);
    }
  });

  it("a read starting inside a run returns the batch holding the offset, not the run's start", async () => {
    const { p, compaction, ingestion } = await layout(1, 2, 4);
    const reader = new PartitionReader(ingestion, compaction, new ObjectCache(64 << 20));
    const r = await reader.read(p, 15, 1 << 20);
    assert.equal(offsetsOf(r.chunks)[0], 10);
    // At the last offset of a run, the next read starts with the next run's first batch.
    const r2 = await reader.read(p, 40, 1 << 20);
    assert.equal(offsetsOf(r2.chunks)[0], 40);
  });

  it("reads ahead the runs that follow the read, up to READ_AHEAD_BYTES, and nothing behind it", async () => {
    // Runs of about 1 MiB: read-ahead covers about READ_AHEAD_BYTES of them past the read.
    const { p, compaction, ingestion } = await layout(12, 1, 8, 13_000);
    const runBytes = p.segments[0]!.location.len;
    const cache = new ObjectCache(256 << 20);
    const reader = new PartitionReader(ingestion, compaction, cache);
    const at = p.segments[3]!.baseOffset;
    await reader.read(p, at, 1);
    reader.readAhead(p, at, 1);
    await settle();
    const loaded = compaction.gets.map((g) => Number(/compacted\/(\d+)@/.exec(g)![1]));
    assert.equal(loaded[0], 3, "the run read first");
    const ahead = loaded.slice(1);
    assert.ok(ahead.length > 0);
    assert.ok(
      ahead.every((o, i) => o === 4 + i),
      `runs after the read, in order: ${ahead.join(",")}`,
    );
    assert.ok(ahead.length <= Math.ceil(READ_AHEAD_BYTES / runBytes) + 1, `${ahead.length} runs read ahead`);
    assert.ok(cache.readAheadSize > 0);
    // The next read finds them cached: no store read.
    const before = compaction.gets.length;
    await reader.read(p, p.segments[4]!.baseOffset, 1);
    assert.ok(compaction.gets.slice(before).every((g) => !g.startsWith("compacted/4@")));
    assert.ok(cache.readAheadUsed >= 1);
  });

  it("read-ahead stays within the cache's bound", async () => {
    const { p, compaction, ingestion } = await layout(12, 1, 8, 13_000);
    // Room for two runs ahead (runs grow by a few bytes as the offsets written in the values do), not three.
    const bound = p.segments[1]!.location.len + p.segments[2]!.location.len + 1000;
    const cache = new ObjectCache(256 << 20, { readAheadBytes: bound });
    const reader = new PartitionReader(ingestion, compaction, cache);
    await reader.read(p, 0, 1);
    reader.readAhead(p, 0, 1);
    await settle();
    assert.equal(compaction.gets.length, 3, `the run read, and two ahead: ${compaction.gets.join(" ")}`);
    assert.ok(cache.readAheadSize <= bound);
  });

  it("warm starts every load a read will need at once, and the read waits for those loads", async () => {
    const { p, compaction, ingestion } = await layout(3, 1, 2);
    const store: ObjectStore = compaction;
    let inFlight = 0;
    let most = 0;
    const slow = Object.assign(Object.create(store) as ObjectStore, {
      get: async (key: string, range?: ByteRange) => {
        inFlight++;
        most = Math.max(most, inFlight);
        await settle();
        inFlight--;
        return store.get(key, range);
      },
    });
    const reader = new PartitionReader(ingestion, slow, new ObjectCache(64 << 20, { readAheadBytes: 0 }));
    reader.warm(p, 0, 1 << 20);
    const r = await reader.read(p, 0, 1 << 20);
    assert.equal(most, 3, "the three runs were read at the same time");
    assert.equal(compaction.gets.length, 3);
    assert.equal(offsetsOf(r.chunks).length, 6 + 3);
  });

  it("runs of one object that several partitions need are read with one ranged read, and served exactly", async () => {
    // Two partitions whose runs share objects (their runs alternate in each object).
    const a = await layout(2, 1, 3);
    const b = await layout(2, 1, 3);
    const compaction = new CountingStore();
    const pa = new PartitionState();
    const pb = new PartitionState();
    for (let o = 0; o < 2; o++) {
      const ra = await a.compaction.get(`compacted/${o}`);
      const rb = await b.compaction.get(`compacted/${o}`);
      await compaction.put(`compacted/${o}`, Buffer.concat([ra, rb]));
      const sa = a.p.segments[o]!;
      const sb = b.p.segments[o]!;
      pa.segments.push(sa);
      pb.segments.push({ ...sb, location: { ...sb.location, pos: ra.length + sb.location.pos } });
    }
    pa.nextOffset = pb.nextOffset = a.p.segments[1]!.lastOffset + 1;
    const cache = new ObjectCache(64 << 20);
    const reader = new PartitionReader(new MemObjectStore(), compaction, cache);
    // Each read takes its partition's first run exactly.
    const reads = [
      { p: pa, offset: 0, maxBytes: pa.segments[0]!.location.len },
      { p: pb, offset: 0, maxBytes: pb.segments[0]!.location.len },
    ];
    reader.warmAll(reads);
    const [ra, rb] = await Promise.all(reads.map((r) => reader.read(r.p, r.offset, r.maxBytes)));
    assert.equal(compaction.gets.length, 1, compaction.gets.join(" "));
    for (const s of [pa.segments[0]!, pb.segments[0]!]) {
      const run = cache.peek(runKey(s.location))!;
      assert.equal(run.buffer.byteLength, run.length, "each run is its own copy, not a view of the range");
    }
    assert.deepEqual(offsetsOf(ra!.chunks), [0, 10, 20]);
    assert.deepEqual(offsetsOf(rb!.chunks), [0, 10, 20]);
    reader.readAheadAll(reads);
    await settle();
    assert.equal(compaction.gets.length, 2, "the next object's two runs: one read");
    assert.ok(compaction.gets[1]!.startsWith("compacted/1@"));
    const next = await reader.read(pb, 30, 1 << 20);
    assert.deepEqual(offsetsOf(next.chunks), [30, 40, 50]);
    assert.equal(compaction.gets.length, 2);
  });

  it("run keys are the object key and position (compaction offers runs under them)", () => {
    assert.equal(runKey({ key: "compacted/x", pos: 42 }), "compacted/x@42");
  });
});
