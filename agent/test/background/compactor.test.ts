import assert from "node:assert/strict";
import { setImmediate as yieldToEventLoop, setTimeout as sleep } from "node:timers/promises";
import { Compactor, COMPACTED_PREFIX } from "../../src/background/compactor.js";
import { planCompaction } from "../../src/background/compaction-plan.js";
import type { Command } from "../../src/metadata/commands.js";
import { ClusterState, type Segment } from "../../src/metadata/state.js";
import { seededRandom } from "../../../e2e/support/fault-proxy.js";
import { TimeSlicer } from "../../../common/time-slicer.js";
import { turnsDuring } from "../support/event-loop.js";
import { iterateBatches } from "../../src/records/record-batch.js";
import { GarbageCollector } from "../../src/background/gc.js";
import { ObjectCache } from "../../src/fetch/object-cache.js";
import { PartitionReader, runKey } from "../../src/fetch/reader.js";
import type { ObjectStore } from "../../src/store/types.js";
import { MemMetadataStore, MemObjectStore } from "../../src/store/mem.js";
import { decodeEntry } from "../../src/metadata/entry-codec.js";
import {
  closeFixture,
  createTopic,
  listKeys,
  logger,
  openFixture,
  produceFile,
  segmentStores,
  verifyReadBack,
} from "./support.js";
import type { Fixture } from "./support.js";

const T0 = Date.UTC(2026, 0, 1);

/** Log entries of at most 4 KiB: a `compact` command of about a hundred runs fills one. */
class SmallEntryStore extends MemMetadataStore {
  override readonly maxEntryBytes = 4096;
}

/** A plain 100-byte batch of one record to partition `p` of topic "t" (states built by hand). */
function oneRecordBatch(p: number, maxTimestamp: number) {
  return {
    topic: "t",
    partition: p,
    pos: 0,
    len: 100,
    count: 1,
    maxTimestamp,
    producerId: -1,
    producerEpoch: -1,
    baseSequence: -1,
  };
}

/** Every agent produces `files` files of one batch per partition, times T0 + i. */
async function produceMany(
  f: Fixture,
  topics: ReadonlyArray<{ name: string; partitions: number }>,
  files: number,
): Promise<void> {
  await Promise.all(
    f.logs.map(async (_, agent) => {
      for (let i = 0; i < files; i++) {
        const batches = topics.flatMap((t) =>
          Array.from({ length: t.partitions }, (_, p) => ({
            topic: t.name,
            partition: p,
            records: 1 + ((i + p + agent) % 4),
          })),
        );
        await produceFile(f, agent, batches, T0 + i * 10 + agent);
      }
    }),
  );
  for (const l of f.logs) await l.catchUp();
}

describe("compaction", () => {
  let f: Fixture;
  beforeEach(async () => {
    f = await openFixture(3);
  });
  afterEach(async () => {
    await closeFixture(f);
  });

  it("moves ingestion data into one compacted object with final offsets, readable by every agent", async () => {
    await createTopic(f, "a", 3);
    await createTopic(f, "b", 2);
    await produceMany(
      f,
      [
        { name: "a", partitions: 3 },
        { name: "b", partitions: 2 },
      ],
      6,
    );
    const before = await verifyReadBack(f, f.logs[2]!);
    assert.equal(before, 3 * 6 * 5);

    const compactions: number[] = [];
    const compactor = new Compactor(
      {
        ingestion: f.ingestion,
        compaction: f.compaction,
        log: f.logs[1]!,
        logger,
        isLeader: () => true,
        onCompaction: (s) => compactions.push(s.bytes),
      },
      { maxRunBytes: 700, deleteCompactedIngestionFiles: true },
    );
    const stats = await compactor.runOnce(T0 + 60_000);
    assert.ok(stats.key?.startsWith(COMPACTED_PREFIX), `object key ${stats.key}`);
    assert.equal(stats.appliedRuns, stats.runs);
    assert.equal(stats.replacedFiles.length, 18);
    assert.deepEqual(compactions, [stats.bytes]);
    assert.deepEqual(await listKeys(f.compaction, ""), [stats.key]);
    assert.deepEqual(await listKeys(f.ingestion, ""), [], "replaced ingestion files were deleted");

    for (const log of f.logs) await log.catchUp();
    for (const log of f.logs) {
      for (const [topic, n] of [
        ["a", 3],
        ["b", 2],
      ] as const) {
        for (let p = 0; p < n; p++)
          assert.ok(
            segmentStores(log, topic, p).every((s) => s === "c"),
            `${topic}/${p} is compacted`,
          );
      }
      assert.deepEqual([...log.state.objectRefs.keys()], [stats.key]);
    }
    // Each run holds consecutive batches with their final offsets, is at most maxRunBytes (or one batch).
    const object = await f.compaction.get(stats.key!);
    for (const s of f.logs[0]!.state.partition("a", 1)!.segments) {
      const run = object.subarray(s.location.pos, s.location.pos + s.location.len);
      let expected = s.baseOffset;
      let batches = 0;
      for (const b of iterateBatches(run)) {
        assert.equal(b.baseOffset, expected);
        expected += b.header.lastOffsetDelta + 1;
        batches++;
      }
      assert.equal(expected, s.lastOffset + 1);
      assert.ok(s.location.len <= 700 || batches === 1, `run of ${s.location.len} bytes`);
    }
    // Ingestion files are gone: every offset is served from the compaction store, on every agent.
    for (const log of f.logs) assert.equal(await verifyReadBack(f, log), before);
  });

  it("skips a segment whose bytes are missing, malformed or do not hold its offsets, and compacts the rest", async () => {
    await createTopic(f, "a", 3);
    const batches = [0, 1, 2].map((partition) => ({ topic: "a", partition, records: 1 }));
    const [fileA, , fileC] = [
      await produceFile(f, 0, batches, T0),
      await produceFile(f, 0, batches, T0 + 10),
      await produceFile(f, 0, batches, T0 + 20),
    ];
    const log = f.logs[0]!;
    await log.catchUp();
    const located = (partition: number, key: string) =>
      log.state.partition("a", partition)!.segments.find((s) => s.location.key === key)!.location;
    // The mem store hands out the stored buffer: write into it. Partition 0's batch in file A gets magic 1,
    // partition 1's a last offset delta of 1 (two offsets for a segment of one); file C is gone.
    const a = await f.ingestion.get(fileA);
    a.writeInt8(1, located(0, fileA).pos + 16);
    a.writeInt32BE(1, located(1, fileA).pos + 23);
    await f.ingestion.delete([fileC]);

    const stats = await new Compactor({
      ingestion: f.ingestion,
      compaction: f.compaction,
      log,
      logger,
      isLeader: () => true,
    }).runOnce(T0 + 60_000);
    assert.equal(stats.sourceObjects, 2, "files A and B read, C missing");
    await log.catchUp();
    const where = (partition: number) =>
      log.state.partition("a", partition)!.segments.map((s) => `${s.location.store}:${s.baseOffset}-${s.lastOffset}`);
    // Partitions 0 and 1: file A's segment stays, file B's alone is a run of one ingestion segment, which is
    // compacted; C stays. Partition 2: A and B in one run.
    assert.deepEqual(where(0), ["i:0-0", "c:1-1", "i:2-2"]);
    assert.deepEqual(where(1), ["i:0-0", "c:1-1", "i:2-2"]);
    assert.deepEqual(where(2), ["c:0-1", "i:2-2"]);
    assert.equal(stats.appliedRuns, 3);
  });

  it("never writes into the bytes it read (the mem store and the fetch cache hand out shared buffers)", async () => {
    await createTopic(f, "a", 2);
    await produceMany(f, [{ name: "a", partitions: 2 }], 4);
    const keys = await listKeys(f.ingestion, "");
    const original = new Map<string, Buffer>();
    for (const k of keys) original.set(k, Buffer.from(await f.ingestion.get(k)));
    const compactor = new Compactor(
      { ingestion: f.ingestion, compaction: f.compaction, log: f.logs[0]!, logger, isLeader: () => true },
      { deleteCompactedIngestionFiles: false },
    );
    const stats = await compactor.runOnce(T0 + 60_000);
    assert.ok(stats.key, "a pass ran");
    assert.equal(stats.replacedFiles.length, keys.length);
    for (const k of keys)
      assert.ok((await f.ingestion.get(k)).equals(original.get(k)!), `ingestion file ${k} is unchanged`);
  });

  it("reads the ingestion files the fetch cache holds from it, and offers the cache the runs it wrote", async () => {
    await createTopic(f, "a", 2);
    await produceMany(f, [{ name: "a", partitions: 2 }], 4);
    const keys = await listKeys(f.ingestion, "");
    const cache = new ObjectCache(64 << 20);
    // The cache holds half the files (as the agent that wrote them does); the rest come from the store.
    const cached = keys.filter((_, i) => i % 2 === 0);
    for (const k of cached) cache.put(k, await f.ingestion.get(k));
    const read: string[] = [];
    const ingestion = Object.assign(Object.create(f.ingestion) as ObjectStore, {
      get: (key: string) => {
        read.push(key);
        return f.ingestion.get(key);
      },
    });
    // The object as the compactor wrote it (the mem store keeps a copy).
    const written = new Map<string, Buffer>();
    const compactionStore = Object.assign(Object.create(f.compaction) as ObjectStore, {
      put: (key: string, data: Buffer) => {
        written.set(key, data);
        return f.compaction.put(key, data);
      },
    });
    const compactor = new Compactor(
      { ingestion, compaction: compactionStore, log: f.logs[0]!, logger, isLeader: () => true, cache },
      { deleteCompactedIngestionFiles: false },
    );
    const stats = await compactor.runOnce(T0 + 60_000);
    assert.ok(stats.key, "a pass ran");
    assert.deepEqual(read.sort(), keys.filter((_, i) => i % 2 === 1).sort(), "only uncached files were read");
    // Every run of the object is in the cache as read-ahead, under the key fetch reads it by; a reader
    // over the compaction store serves it without reading the store.
    await f.logs[0]!.catchUp();
    const object = await f.compaction.get(stats.key);
    for (let p = 0; p < 2; p++) {
      for (const s of f.logs[0]!.state.partition("a", p)!.segments) {
        assert.equal(s.location.store, "c");
        const run = cache.peek(runKey(s.location));
        assert.ok(run?.equals(object.subarray(s.location.pos, s.location.pos + s.location.len)), "run offered");
        // Copied (small runs share a slab of at most 64 KiB, which the cache counts whole): not a view
        // keeping the whole object alive.
        assert.notEqual(run!.buffer, written.get(stats.key)!.buffer, "a copy of the run");
        assert.ok(run!.buffer.byteLength <= 64 * 1024);
      }
    }
    assert.ok(cache.readAheadSize > 0);
    const reads: string[] = [];
    const compaction = Object.assign(Object.create(f.compaction) as ObjectStore, {
      get: (key: string) => {
        reads.push(key);
        return f.compaction.get(key);
      },
    });
    const reader = new PartitionReader(f.ingestion, compaction, cache);
    const r = await reader.read(f.logs[0]!.state.partition("a", 0)!, 0, 1 << 20);
    assert.ok(r.bytes > 0);
    assert.deepEqual(reads, []);
    assert.ok(cache.readAheadUsed > 0);
  });

  it("keeps the bytes of its source reads in flight within readBytesInFlight", async () => {
    await createTopic(f, "a", 4);
    await produceMany(f, [{ name: "a", partitions: 4 }], 4);
    const sizes = new Map<string, number>();
    for (const k of await listKeys(f.ingestion, "")) sizes.set(k, (await f.ingestion.get(k)).length);
    assert.equal(sizes.size, 12);
    const budget = 3 * Math.max(...sizes.values());
    let reading = 0;
    let running = 0;
    let peakBytes = 0;
    let peakReads = 0;
    // Answers take a few milliseconds, so reads overlap as they would over the network.
    const ingestion = Object.assign(Object.create(f.ingestion) as ObjectStore, {
      get: async (key: string) => {
        reading += sizes.get(key)!;
        running++;
        peakBytes = Math.max(peakBytes, reading);
        peakReads = Math.max(peakReads, running);
        await sleep(5);
        reading -= sizes.get(key)!;
        running--;
        return f.ingestion.get(key);
      },
    });
    const compactor = new Compactor(
      { ingestion, compaction: f.compaction, log: f.logs[0]!, logger, isLeader: () => true },
      { deleteCompactedIngestionFiles: false, readBytesInFlight: budget },
    );
    const stats = await compactor.runOnce(T0 + 60_000);
    assert.equal(stats.replacedFiles.length, 12);
    assert.ok(peakBytes <= budget, `${peakBytes} bytes read at once, budget ${budget}`);
    assert.ok(peakReads >= 2, `reads overlap within the budget (${peakReads} at most)`);
    await f.logs[0]!.catchUp();
    assert.equal(await verifyReadBack(f, f.logs[0]!), 3 * 4 * 4);
  });

  it("offers the cache only the runs of partitions read here lately", async () => {
    await createTopic(f, "a", 3);
    await produceMany(f, [{ name: "a", partitions: 3 }], 3);
    const cache = new ObjectCache(64 << 20);
    const reader = new PartitionReader(f.ingestion, f.compaction, cache);
    const state = () => f.logs[0]!.state;
    // A consumer behind the ingestion files read partition 1 here; partitions 0 and 2 nobody read.
    assert.ok((await reader.read(state().partition("a", 1)!, 0, 1 << 20)).bytes > 0);
    assert.ok(reader.readRecently(state().partition("a", 1)!));
    assert.ok(!reader.readRecently(state().partition("a", 0)!));
    const compactor = new Compactor(
      {
        ingestion: f.ingestion,
        compaction: f.compaction,
        log: f.logs[0]!,
        logger,
        isLeader: () => true,
        cache,
        readsPartition: (topic, partition) => reader.readRecently(state().partition(topic, partition)!),
      },
      { deleteCompactedIngestionFiles: false },
    );
    assert.ok((await compactor.runOnce(T0 + 60_000)).key, "a pass ran");
    await f.logs[0]!.catchUp();
    const offered = (partition: number) =>
      state()
        .partition("a", partition)!
        .segments.map((s) => {
          assert.equal(s.location.store, "c");
          return cache.peek(runKey(s.location)) !== undefined;
        });
    assert.deepEqual(offered(1), [true]);
    assert.deepEqual(offered(0), [false]);
    assert.deepEqual(offered(2), [false]);
    // Long enough ago, a read no longer counts.
    assert.ok(!reader.readRecently(state().partition("a", 1)!, -1));
  });

  it("leaves segments younger than minAgeMs and keeps data produced during the pass", async () => {
    await createTopic(f, "t", 2);
    await produceFile(
      f,
      0,
      [
        { topic: "t", partition: 0, records: 2 },
        { topic: "t", partition: 1, records: 1 },
      ],
      T0,
    );
    await produceFile(f, 1, [{ topic: "t", partition: 0, records: 3 }], T0 + 5000);
    const compactor = new Compactor(
      { ingestion: f.ingestion, compaction: f.compaction, log: f.logs[2]!, logger },
      { minAgeMs: 2000 },
    );
    const stats = await compactor.runOnce(T0 + 4000);
    assert.equal(stats.appliedRuns, 2);
    await f.logs[2]!.catchUp();
    assert.deepEqual(segmentStores(f.logs[2]!, "t", 0), ["c", "i"]);
    assert.deepEqual(segmentStores(f.logs[2]!, "t", 1), ["c"]);
    assert.equal(stats.replacedFiles.length, 1);
    assert.equal(stats.oldestIngestionAgeMs > 0, true);
    assert.equal(await verifyReadBack(f, f.logs[0]!), 3);
    const again = await compactor.runOnce(T0 + 4001);
    assert.equal(again.key, null, "nothing old enough is left");
  });

  it("keeps each pass under maxObjectBytes, oldest data first", async () => {
    await createTopic(f, "t", 1);
    for (let i = 0; i < 10; i++)
      await produceFile(f, i % 3, [{ topic: "t", partition: 0, records: 5, valueBytes: 100 }], T0 + i);
    const compactor = new Compactor(
      { ingestion: f.ingestion, compaction: f.compaction, log: f.logs[0]!, logger },
      { maxObjectBytes: 2000 },
    );
    const first = await compactor.runOnce(T0 + 60_000);
    assert.ok(first.bytes <= 2000 && first.bytes > 0, `object of ${first.bytes} bytes`);
    assert.equal(segmentStores(f.logs[0]!, "t", 0)[0], "c", "the oldest segments went first");
    let passes = 1;
    while ((await compactor.runOnce(T0 + 60_000)).key !== null) passes++;
    assert.ok(passes > 1);
    assert.ok(segmentStores(f.logs[0]!, "t", 0).every((s) => s === "c"));
    assert.equal(await verifyReadBack(f, f.logs[1]!), 10);
  });

  it("waits for waitForBytes of ingestion data or until its oldest file is waitAtMostMs old; merges do not wait", async () => {
    await createTopic(f, "t", 2);
    const compactor = new Compactor(
      { ingestion: f.ingestion, compaction: f.compaction, log: f.logs[0]!, logger },
      { waitForBytes: 3000, waitAtMostMs: 30_000, mergeAfterMs: 60_000 },
    );
    await produceFile(f, 0, [{ topic: "t", partition: 0, records: 2, valueBytes: 100 }], T0);
    const small = await compactor.runOnce(T0 + 10_000);
    assert.deepEqual([small.key, small.waited], [null, true], "a few hundred bytes, 10 s old: the pass waits");
    assert.deepEqual(segmentStores(f.logs[0]!, "t", 0), ["i"]);
    // Enough data: compacted at once, the waiting file with it.
    for (let i = 1; i <= 4; i++)
      await produceFile(f, i % 3, [{ topic: "t", partition: 1, records: 5, valueBytes: 200 }], T0 + 10_000 + i);
    const enough = await compactor.runOnce(T0 + 15_000);
    assert.ok(enough.key !== null && enough.bytes >= 3000, `${enough.bytes} bytes`);
    assert.ok([0, 1].every((p) => segmentStores(f.logs[0]!, "t", p).every((s) => s === "c")));
    // A little data again: it waits until its oldest file is 30 s old.
    await produceFile(f, 1, [{ topic: "t", partition: 0, records: 1 }], T0 + 20_000);
    assert.equal((await compactor.runOnce(T0 + 49_000)).waited, true);
    const due = await compactor.runOnce(T0 + 50_001);
    assert.ok(due.key !== null && !due.waited, "30 s old: compacted whatever its size");
    assert.equal(await verifyReadBack(f, f.logs[1]!), 6, "every batch reads back");
    // Small compacted runs to merge go at once, whatever their size.
    const merge = await compactor.runOnce(T0 + 200_000);
    assert.ok(merge.key !== null && !merge.waited);
    assert.deepEqual(segmentStores(f.logs[0]!, "t", 0), ["c"]);
  });

  it("skips runs whose segments changed before the commit (retention, deletion) and deletes an object nothing uses", async () => {
    await createTopic(f, "keep", 1);
    await createTopic(f, "gone", 1);
    await produceFile(
      f,
      0,
      [
        { topic: "keep", partition: 0, records: 2 },
        { topic: "gone", partition: 0, records: 2 },
      ],
      T0,
    );
    await produceFile(
      f,
      1,
      [
        { topic: "keep", partition: 0, records: 2 },
        { topic: "gone", partition: 0, records: 2 },
      ],
      T0 + 1,
    );
    // Test seam: while the compacted object is being written, another agent truncates "gone".
    let hook: (() => Promise<void>) | null = async () => {
      await f.logs[2]!.propose([{ type: "truncate", topic: "gone", partition: 0, offset: 2 }]);
    };
    const compaction: ObjectStore = {
      kind: "mem",
      put: async (key, data, options) => {
        const h = hook;
        hook = null;
        if (h) await h();
        return f.compaction.put(key, data, options);
      },
      get: (key, range) => f.compaction.get(key, range),
      setExpiry: (key, expiresAt) => f.compaction.setExpiry(key, expiresAt),
      delete: (keys) => f.compaction.delete(keys),
      list: (prefix) => f.compaction.list(prefix),
      close: async () => {},
    };
    const compactor = new Compactor({ ingestion: f.ingestion, compaction, log: f.logs[0]!, logger });
    const stats = await compactor.runOnce(T0 + 60_000);
    assert.equal(stats.runs, 1, "only the unchanged partition's run is proposed");
    assert.equal(stats.appliedRuns, 1);
    assert.deepEqual(segmentStores(f.logs[0]!, "keep", 0), ["c"]);
    assert.deepEqual(segmentStores(f.logs[0]!, "gone", 0), ["i"]);
    assert.equal(f.logs[0]!.state.partition("gone", 0)!.logStartOffset, 2);
    assert.equal(await verifyReadBack(f, f.logs[0]!), 3);

    // A pass whose every run is overtaken: the object is deleted at once.
    hook = async () => {
      await f.logs[1]!.propose([{ type: "deleteTopic", name: "gone" }]);
    };
    const stats2 = await compactor.runOnce(T0 + 60_000);
    assert.equal(stats2.key, null);
    assert.deepEqual(await listKeys(f.compaction, ""), [stats.key]);
  });

  it("abandons its object when the lease was lost before the commit", async () => {
    await createTopic(f, "t", 1);
    await produceFile(f, 0, [{ topic: "t", partition: 0, records: 1 }], T0);
    const compactor = new Compactor({
      ingestion: f.ingestion,
      compaction: f.compaction,
      log: f.logs[0]!,
      logger,
      isLeader: () => false,
    });
    const stats = await compactor.runOnce(T0 + 60_000);
    assert.equal(stats.key, null);
    assert.deepEqual(segmentStores(f.logs[0]!, "t", 0), ["i"]);
    assert.deepEqual(await listKeys(f.compaction, ""), []);
  });

  it("merges small compacted runs into larger ones, and GC removes the objects they came from", async () => {
    await createTopic(f, "t", 2);
    const compactor = new Compactor(
      { ingestion: f.ingestion, compaction: f.compaction, log: f.logs[0]!, logger },
      { mergeAfterMs: 30_000 },
    );
    for (let pass = 0; pass < 4; pass++) {
      await produceFile(
        f,
        pass % 3,
        [
          { topic: "t", partition: 0, records: 3 },
          { topic: "t", partition: 1, records: 2 },
        ],
        T0 + pass * 1000,
      );
      await produceFile(f, (pass + 1) % 3, [{ topic: "t", partition: 0, records: 1 }], T0 + pass * 1000 + 1);
      await compactor.runOnce(T0 + pass * 1000 + 3000);
    }
    assert.deepEqual(segmentStores(f.logs[0]!, "t", 0), ["c", "c", "c", "c"]);
    const l0 = await listKeys(f.compaction, COMPACTED_PREFIX);
    assert.equal(l0.length, 4);

    const merged = await compactor.runOnce(T0 + 100_000);
    assert.ok(merged.key !== null);
    assert.deepEqual(segmentStores(f.logs[0]!, "t", 0), ["c"]);
    assert.deepEqual(segmentStores(f.logs[0]!, "t", 1), ["c"]);
    assert.equal(await verifyReadBack(f, f.logs[1]!), 12);

    await f.logs[1]!.catchUp();
    const gc = new GarbageCollector(
      { ingestion: f.ingestion, compaction: f.compaction, log: f.logs[1]!, logger },
      { graceMs: 0 },
    );
    const result = await gc.runOnce(T0 + 200_000);
    assert.deepEqual([...result.deletedCompacted].sort(), l0);
    assert.deepEqual(await listKeys(f.compaction, COMPACTED_PREFIX), [merged.key]);
    assert.equal(await verifyReadBack(f, f.logs[2]!), 12);
  });

  it("plans nothing for a single compacted run and never splits a batch", async () => {
    await createTopic(f, "t", 1);
    await produceFile(f, 0, [{ topic: "t", partition: 0, records: 20, valueBytes: 200 }], T0);
    await produceFile(f, 0, [{ topic: "t", partition: 0, records: 20, valueBytes: 200 }], T0 + 1);
    const compactor = new Compactor(
      { ingestion: f.ingestion, compaction: f.compaction, log: f.logs[0]!, logger },
      { maxRunBytes: 100, mergeAfterMs: 0 },
    );
    const stats = await compactor.runOnce(T0 + 10_000);
    assert.equal(stats.runs, 2, "each oversized batch is a run of its own");
    const plan = await planCompaction(f.logs[0]!.state, {
      now: T0 + 10_000,
      minAgeMs: 0,
      maxObjectBytes: 1 << 30,
      maxRunBytes: 100,
      mergeRunsBelowBytes: 1 << 20,
      mergeAfterMs: 0,
    });
    assert.deepEqual(plan, []);
    assert.equal(await verifyReadBack(f, f.logs[0]!), 2);
  });

  it("plans from the tail of long partitions: ingestion data and small runs after large compacted runs", async () => {
    const state = new ClusterState();
    let index = 0n;
    const apply = (...commands: Command[]) => state.apply(++index, { proposer: "test", seq: Number(index), commands });
    apply({ type: "createTopic", name: "t", topicId: "0".repeat(32), partitions: 1, configs: {} });
    const meta = (len: number) => ({
      topic: "t",
      partition: 0,
      pos: 0,
      len,
      count: 10,
      maxTimestamp: T0,
      producerId: -1,
      producerEpoch: -1,
      baseSequence: -1,
    });
    // 40 large compacted runs, then a small run, then two ingestion segments.
    for (let i = 0; i < 40; i++) {
      apply({ type: "commitFile", key: `ingest/x-${i}`, size: 2_000_000, time: T0, batches: [meta(2_000_000)] });
      apply({
        type: "compact",
        key: `compacted/${i}`,
        size: 2_000_000,
        replacedFiles: [],
        runs: [
          {
            topic: "t",
            partition: 0,
            baseOffset: i * 10,
            lastOffset: i * 10 + 9,
            maxTimestamp: T0,
            pos: 0,
            len: 2_000_000,
          },
        ],
      });
    }
    apply({ type: "commitFile", key: "ingest/small", size: 100, time: T0, batches: [meta(100)] });
    apply({
      type: "compact",
      key: "compacted/small",
      size: 100,
      replacedFiles: [],
      runs: [{ topic: "t", partition: 0, baseOffset: 400, lastOffset: 409, maxTimestamp: T0, pos: 0, len: 100 }],
    });
    apply({ type: "commitFile", key: "ingest/a", size: 100, time: T0, batches: [meta(100)] });
    apply({ type: "commitFile", key: "ingest/b", size: 100, time: T0 + 10_000, batches: [meta(100)] });
    const options = {
      minAgeMs: 2000,
      maxObjectBytes: 64 << 20,
      maxRunBytes: 4 << 20,
      mergeRunsBelowBytes: 1 << 20,
      mergeAfterMs: 60_000,
    };
    const young = await planCompaction(state, { ...options, now: T0 + 5000 });
    assert.deepEqual(
      young.map((r) => r.segments.map((s) => s.location.key)),
      [["ingest/a"]],
      "the small run is not old enough to merge yet",
    );
    const old = await planCompaction(state, { ...options, now: T0 + 100_000 });
    assert.deepEqual(
      old.map((r) => r.segments.map((s) => s.location.key)),
      [["compacted/small", "ingest/a", "ingest/b"]],
    );
  });
  it("takes segments from at most maxPartitions partitions per pass, those with the oldest data first", async () => {
    const state = new ClusterState();
    let index = 0n;
    const apply = (...commands: Command[]) => state.apply(++index, { proposer: "test", seq: Number(index), commands });
    apply({ type: "createTopic", name: "t", topicId: "0".repeat(32), partitions: 10, configs: {} });
    // Partition p gets a file at T0 + (10 - p) s: partition 9 holds the oldest data, 0 the newest.
    for (let p = 0; p < 10; p++)
      apply({
        type: "commitFile",
        key: `ingest/f${p}`,
        size: 100,
        time: T0 + (10 - p) * 1000,
        batches: [oneRecordBatch(p, T0)],
      });
    const options = {
      now: T0 + 100_000,
      minAgeMs: 2000,
      maxObjectBytes: 64 << 20,
      maxRunBytes: 4 << 20,
      mergeRunsBelowBytes: 1 << 20,
      mergeAfterMs: 60_000,
    };
    assert.equal((await planCompaction(state, options)).length, 10);
    const bounded = await planCompaction(state, { ...options, maxPartitions: 3 });
    assert.deepEqual(
      bounded.map((r) => r.partition).sort((a, b) => a - b),
      [7, 8, 9],
    );
  });
  it("plans in slices: the event loop turns while it plans, and the plan is the one made at once", async () => {
    // 3,000 partitions of 2 ingestion segments each, appended in an order unlike their ages, so that the
    // sliced sort (chunks merged pair by pair) has to agree with the native one across chunk boundaries.
    const state = new ClusterState();
    let index = 0n;
    const apply = (time: number, ...commands: Command[]) =>
      state.apply(++index, { proposer: "test", seq: Number(index), time, commands });
    apply(T0, { type: "createTopic", name: "t", topicId: "0".repeat(32), partitions: 3000, configs: {} });
    for (let round = 0; round < 2; round++)
      for (let p = 0; p < 3000; p++) {
        const time = T0 + round * 10_000 + ((p * 7919) % 3000);
        apply(time, {
          type: "commitFile",
          key: `ingest/r${round}-p${p}`,
          size: 100,
          time,
          batches: [oneRecordBatch(p, time)],
        });
      }
    const options = {
      now: T0 + 100_000,
      minAgeMs: 2000,
      maxObjectBytes: 150_000,
      maxRunBytes: 4 << 20,
      mergeRunsBelowBytes: 1 << 20,
      mergeAfterMs: 60_000,
      maxPartitions: 1000,
    };
    const atOnce = await planCompaction(state, options, new TimeSlicer(Infinity));
    const { turns, result: sliced } = await turnsDuring(() => planCompaction(state, options, new TimeSlicer(0)));
    assert.ok(turns > 10, `the event loop turned ${turns} times while planning`);
    const keys = (plan: typeof atOnce) => plan.map((r) => `${r.partition}:${r.segments.map((x) => x.location.key)}`);
    assert.deepEqual(keys(sliced), keys(atOnce));
    // The budget (1,500 segments of 100 B) took the 1,000 partitions with the oldest round-0 files (the
    // partition bound), then round-1 segments of those partitions, oldest first.
    assert.equal(sliced.length, 1000);
    assert.equal(
      sliced.reduce((n, r) => n + r.segments.length, 0),
      1500,
    );
    const oldestLeft = Math.min(
      ...[...state.topics.get("t")!.partitions.entries()]
        .filter(([p]) => !sliced.some((r) => r.partition === p))
        .map(([, part]) => part.segments[0]!.appendTime),
    );
    for (const r of sliced) assert.ok(r.segments[0]!.appendTime <= oldestLeft);
  });

  it("plans what one stable sort of every candidate by age would, whatever the order the times came in", async () => {
    // The oracle: every candidate of the state sorted at once (ingestion first, then small runs), taken in
    // that order under the byte budget and the partition bound, as the planner did before it merged the
    // partitions' lists. Append times step back (proposers' clocks) and tie often.
    const oracle = (state: ClusterState, o: Parameters<typeof planCompaction>[1]): string[] => {
      type Candidate = { partition: number; segment: Segment };
      const ingestion: Candidate[] = [];
      const merges: Candidate[] = [];
      state.topics.get("t")!.partitions.forEach((p, partition) => {
        for (const segment of p.segments) {
          if (segment.location.store === "i") {
            if (segment.appendTime <= o.now - o.minAgeMs) ingestion.push({ partition, segment });
          } else if (segment.location.len < o.mergeRunsBelowBytes && segment.appendTime <= o.now - o.mergeAfterMs)
            merges.push({ partition, segment });
        }
      });
      const byAge = (a: Candidate, b: Candidate) => a.segment.appendTime - b.segment.appendTime;
      const chosen = new Set<Segment>();
      const partitions = new Set<number>();
      let budget = o.maxObjectBytes;
      for (const c of [...ingestion.sort(byAge), ...merges.sort(byAge)]) {
        if (c.segment.location.len > budget && chosen.size > 0) continue;
        if (o.maxPartitions !== undefined && !partitions.has(c.partition)) {
          if (partitions.size >= o.maxPartitions) continue;
          partitions.add(c.partition);
        }
        chosen.add(c.segment);
        budget -= c.segment.location.len;
        if (budget <= 0) break;
      }
      // Runs: consecutive chosen segments of a partition up to maxRunBytes; one compacted segment alone is
      // no run (it would only be copied).
      const runs: string[] = [];
      state.topics.get("t")!.partitions.forEach((p, partition) => {
        let run: Segment[] = [];
        let bytes = 0;
        const close = () => {
          if (run.length > 1 || (run.length === 1 && run[0]!.location.store === "i"))
            runs.push(`${partition}:${run.map((x) => x.location.key).join(",")}`);
          run = [];
          bytes = 0;
        };
        for (const segment of p.segments) {
          if (!chosen.has(segment)) {
            close();
            continue;
          }
          if (run.length > 0 && bytes + segment.location.len > o.maxRunBytes) close();
          run.push(segment);
          bytes += segment.location.len;
        }
        close();
      });
      return runs;
    };
    for (let seed = 1; seed <= 100; seed++) {
      const random = seededRandom(seed);
      const pick = (n: number) => Math.floor(random() * n);
      const state = new ClusterState();
      let index = 0n;
      const apply = (time: number, ...commands: Command[]) =>
        state.apply(++index, { proposer: "test", seq: Number(index), time, commands });
      const partitions = 1 + pick(30);
      apply(T0, { type: "createTopic", name: "t", topicId: "0".repeat(32), partitions, configs: {} });
      let clock = T0;
      for (let f = 0; f < 200; f++) {
        clock += pick(3) * 1000 - 900;
        const partition = pick(partitions);
        const p = state.topics.get("t")!.partitions[partition]!;
        if (random() < 0.2 && p.segments.length > 0) {
          // A small or large compacted run over the partition's first segment.
          const first = p.segments[0]!;
          apply(clock, {
            type: "compact",
            key: `compacted/${f}`,
            size: 100,
            runs: [
              {
                topic: "t",
                partition,
                baseOffset: first.baseOffset,
                lastOffset: first.lastOffset,
                maxTimestamp: 1,
                pos: 0,
                len: random() < 0.5 ? 50 : 5000,
              },
            ],
            replacedFiles: [],
          });
        } else {
          // Now and then a file too large for what is left of the budget: skipped, the next ones still fit.
          const len = random() < 0.15 ? 2000 + pick(2000) : 50 + pick(4) * 50;
          apply(clock, {
            type: "commitFile",
            key: `ingest/${f}`,
            size: len,
            time: clock,
            batches: [{ ...oneRecordBatch(partition, clock), len }],
          });
        }
      }
      const options = {
        now: clock + pick(20_000),
        minAgeMs: 2000,
        maxObjectBytes: 500 + pick(8000),
        maxRunBytes: 100 + pick(1000),
        mergeRunsBelowBytes: 1000,
        mergeAfterMs: pick(30_000),
        ...(random() < 0.7 ? { maxPartitions: 1 + pick(partitions) } : {}),
      };
      const plan = await planCompaction(state, options, new TimeSlicer(0));
      const planned = plan.map((r) => `${r.partition}:${r.segments.map((x) => x.location.key).join(",")}`);

      assert.deepEqual(planned, oracle(state, options), `seed ${seed}`);
    }
  });

  it("compacts correctly while other agents commit and the log folds between its slices", async () => {
    await createTopic(f, "t", 40);
    const batches = (records: number) =>
      Array.from({ length: 40 }, (_, p) => ({ topic: "t", partition: p, records: 1 + ((p + records) % 3) }));
    for (let i = 0; i < 4; i++) await produceFile(f, i % 3, batches(i), T0 + i);
    const compactor = new Compactor(
      { ingestion: f.ingestion, compaction: f.compaction, log: f.logs[1]!, logger, isLeader: () => true },
      { sliceMs: 0, maxRunBytes: 300 },
    );
    const pass = compactor.runOnce(T0 + 60_000);
    // Agents 0 and 2 keep committing files while the pass plans, builds and commits in slices.
    for (let i = 4; i < 12; i++) {
      await produceFile(f, i % 2 === 0 ? 0 : 2, batches(i), T0 + i);
      await yieldToEventLoop();
    }
    const stats = await pass;
    assert.ok(stats.pauses > 0, "the pass gave the event loop back");
    assert.ok(stats.appliedRuns > 0, "runs were applied");
    // Every batch of all 12 files reads back with its bytes and offsets on every agent.
    for (const l of f.logs) assert.equal(await verifyReadBack(f, l), 12 * 40);
    assert.ok(segmentStores(f.logs[0]!, "t", 0).includes("c"), "partition 0 has a compacted run");
  });
  it("commits a pass over more partitions than one log entry holds through several compact commands", async () => {
    await closeFixture(f);
    const metadata = new SmallEntryStore();
    f = await openFixture(1, { ingestion: new MemObjectStore(), compaction: new MemObjectStore(), metadata });
    await createTopic(f, "wide", 300);
    for (let from = 0; from < 300; from += 60)
      await produceFile(
        f,
        0,
        Array.from({ length: 60 }, (_, i) => ({ topic: "wide", partition: from + i, records: 2 })),
        T0 + from,
      );
    const log = f.logs[0]!;
    const compactor = new Compactor({ ingestion: f.ingestion, compaction: f.compaction, log, logger });
    const stats = await compactor.runOnce(T0 + 60_000);
    // One command holds about 150 runs here, and a pass was planned with 120 (entry limit ÷ 32 B): one
    // pass now takes 4 commands' worth, all 300 partitions.
    assert.equal(stats.appliedRuns, 300);
    for (let p = 0; p < 300; p++) assert.deepEqual(segmentStores(log, "wide", p), ["c"], `partition ${p}`);
    const compacts = (await metadata.read(1n, 1000))
      .map((r) => decodeEntry(r.data, r.index, log.state.numbering))
      .flatMap((e) => e.commands)
      .filter((c) => c.type === "compact");
    assert.ok(compacts.length >= 2, `${compacts.length} compact commands`);
    assert.ok(new Set(compacts.map((c) => c.type === "compact" && c.key)).size === 1, "all for one object");
    assert.equal(await verifyReadBack(f, log), 300);
  });
});
