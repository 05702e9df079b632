import assert from "node:assert/strict";
import { componentLogger } from "../../../common/logger.js";
import { MetadataLog } from "../../src/metadata/log.js";
import { turnsDuring } from "../support/event-loop.js";
import type { MetadataLogOptions, SnapshotWritten } from "../../src/metadata/log.js";
import { capturedLogger } from "../support/captured-logger.js";
import { MemMetadataStore } from "../../src/store/mem.js";
import type { LogRecord, MetadataStore, ReadOptions } from "../../src/store/types.js";

const options: MetadataLogOptions = {
  tailIntervalMs: 0,
  snapshotEveryEntries: 0,
  keepEntriesAfterSnapshot: 10,
  writesSnapshots: () => true,
  logger: componentLogger("test"),
};

function meta(partition: number, count: number) {
  return {
    topic: "t",
    partition,
    pos: 0,
    len: 10,
    count,
    maxTimestamp: 0,
    producerId: -1,
    producerEpoch: -1,
    baseSequence: -1,
  };
}

/**
 * A writer that has committed `files` files to every one of `partitions` partitions of topic t (`count`:
 * the records of file i's batches), and a second log on the same store that folds in 0 ms slices.
 */
async function writerAndSlicedReader(partitions: number, files: number, count: (i: number) => number = () => 1) {
  const store = new MemMetadataStore();
  const writer = new MetadataLog(store, options);
  const reader = new MetadataLog(store, { ...options, foldSliceMs: 0 });
  await writer.open();
  await reader.open();
  await writer.propose([{ type: "createTopic", name: "t", topicId: "a".repeat(32), partitions, configs: {} }]);
  for (let i = 0; i < files; i++)
    await writer.propose([
      {
        type: "commitFile",
        key: `f${i}`,
        size: 10 * partitions,
        time: 0,
        batches: Array.from({ length: partitions }, (_, p) => meta(p, count(i))),
      },
    ]);
  return { store, writer, reader };
}

describe("metadata log", () => {
  it("groups concurrent proposals into entries and returns each command's result", async () => {
    const store = new MemMetadataStore();
    const log = new MetadataLog(store, options);
    await log.open();
    await log.propose([{ type: "createTopic", name: "t", topicId: "a".repeat(32), partitions: 1, configs: {} }]);
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        log.propose([{ type: "commitFile", key: `f${i}`, size: 10, time: 0, batches: [meta(0, 1)] }]),
      ),
    );
    const offsets = results.map((r) => r[0]!.batches![0]!.baseOffset).sort((a, b) => a - b);
    assert.deepEqual(
      offsets,
      Array.from({ length: 20 }, (_, i) => i),
    );
    assert.ok(log.state.appliedIndex < 21n, `proposals were grouped (${log.state.appliedIndex} entries)`);
    await log.close();
  });

  it("keeps offsets gap-free and identical across agents racing for the same indexes", async () => {
    const store = new MemMetadataStore();
    const logs = [new MetadataLog(store, options), new MetadataLog(store, options), new MetadataLog(store, options)];
    for (const l of logs) await l.open();
    await logs[0]!.propose([{ type: "createTopic", name: "t", topicId: "a".repeat(32), partitions: 1, configs: {} }]);
    const all = await Promise.all(
      logs.flatMap((l, a) =>
        Array.from({ length: 30 }, (_, i) =>
          l.propose([{ type: "commitFile", key: `a${a}-${i}`, size: 10, time: 0, batches: [meta(0, 2)] }]),
        ),
      ),
    );
    const offsets = all.map((r) => r[0]!.batches![0]!.baseOffset).sort((x, y) => x - y);
    assert.deepEqual(
      offsets,
      Array.from({ length: 90 }, (_, i) => i * 2),
    );
    for (const l of logs) await l.catchUp();
    const snapshots = logs.map((l) => l.state.toSnapshot().toString());
    assert.equal(snapshots[1], snapshots[0]);
    assert.equal(snapshots[2], snapshots[0]);
    for (const l of logs) await l.close();
  });

  it("tells each applied entry's append attempts and where its time went", async () => {
    const store = new MemMetadataStore();
    const entries: Array<{ attempts: number; queuedSeconds: number; appendingSeconds: number }> = [];
    const other = new MetadataLog(store, options);
    const log = new MetadataLog(store, { ...options, onEntry: (e) => entries.push(e) });
    await other.open();
    await log.open();
    await log.propose([{ type: "createTopic", name: "t", topicId: "a".repeat(32), partitions: 1, configs: {} }]);
    assert.equal(entries.length, 1);
    assert.equal(entries[0]!.attempts, 1, "nobody else wrote: one append");
    // Another writer takes the next index behind this log's back (it does not tail): a conflict first.
    await other.catchUp();
    await other.propose([{ type: "commitFile", key: "other", size: 10, time: 0, batches: [meta(0, 1)] }]);
    await log.propose([{ type: "commitFile", key: "mine", size: 10, time: 0, batches: [meta(0, 1)] }]);
    assert.equal(entries.length, 2, "only this log's entries are told");
    assert.equal(entries[1]!.attempts, 2, "one conflict, then the next free index");
    for (const e of entries) assert.ok(e.queuedSeconds >= 0 && e.appendingSeconds >= 0, JSON.stringify(e));
    await other.close();
    await log.close();
  });

  it("measures the event-loop delay while it writes a snapshot, and logs it with the snapshot", async () => {
    // A store whose snapshot put takes 100 ms, during which something else holds the loop for 60 ms.
    class SlowSnapshots extends MemMetadataStore {
      override async putSnapshot(...args: Parameters<MemMetadataStore["putSnapshot"]>): Promise<void> {
        await new Promise((r) => setTimeout(r, 20));
        const until = performance.now() + 60;
        while (performance.now() < until);
        await new Promise((r) => setTimeout(r, 20));
        return super.putSnapshot(...args);
      }
    }
    const { logger, lines } = capturedLogger("info");
    const written: SnapshotWritten[] = [];
    const log = new MetadataLog(new SlowSnapshots(), { ...options, logger, onSnapshot: (info) => written.push(info) });
    await log.open();
    await log.propose([{ type: "createTopic", name: "t", topicId: "a".repeat(32), partitions: 1, configs: {} }]);
    await log.snapshotNow();
    assert.equal(written.length, 1);
    const [w] = written;
    assert.ok(w!.seconds >= 0.1, `${w!.seconds} s from capture to stored`);
    // The 10 ms timer waited through the 60 ms hold.
    assert.ok(w!.loopDelayMaxSeconds >= 0.05, `max delay ${w!.loopDelayMaxSeconds} s`);
    assert.ok(w!.loopDelayP99Seconds > 0 && w!.loopDelayP99Seconds <= w!.loopDelayMaxSeconds);
    const line = lines.find((l) => l.message === "metadata snapshot written");
    assert.ok(line, "logged at info");
    assert.equal(line.index, "1");
    assert.equal(line.bytes, w!.bytes);
    assert.equal(line.loopDelayMaxMs, Math.round(w!.loopDelayMaxSeconds * 10_000) / 10);
    assert.equal(typeof line.loopDelayP99Ms, "number");
    // The first snapshot's samples are all the snapshots' so far.
    const samples = Number(line.loopDelaySamples);
    assert.ok(samples >= 3, `${samples} samples over ${w!.seconds} s`);
    assert.equal(line.loopDelaySamplesAllSnapshots, samples);
    assert.equal(w!.loopDelayP99AllSnapshotsSeconds, w!.loopDelayP99Seconds);
    // A second snapshot (its put holds the loop 60 ms too) adds its samples to them.
    await log.propose([{ type: "createTopic", name: "u", topicId: "b".repeat(32), partitions: 1, configs: {} }]);
    await log.snapshotNow();
    const lines2 = lines.filter((l) => l.message === "metadata snapshot written");
    assert.equal(lines2.length, 2);
    const second = lines2[1]!;
    assert.equal(second.loopDelaySamplesAllSnapshots, samples + Number(second.loopDelaySamples));
    assert.ok(written[1]!.loopDelayMaxSeconds >= 0.05, "the second snapshot's own hold is measured too");
    assert.ok(
      written[1]!.loopDelayP99AllSnapshotsSeconds >= 0.05,
      `p99 of all ${written[1]!.loopDelaySamplesAllSnapshots} samples: ${written[1]!.loopDelayP99AllSnapshotsSeconds} s`,
    );
    await log.close();
  });

  it("encodes a snapshot into the buffer of the last one stored, not after a failed put", async () => {
    // Which buffer each snapshot came in (the mem store copies what it keeps, as the contract asks).
    class Recording extends MemMetadataStore {
      readonly buffers: ArrayBufferLike[] = [];
      failNext = false;
      override async putSnapshot(...args: Parameters<MemMetadataStore["putSnapshot"]>): Promise<void> {
        this.buffers.push(args[0].data.buffer);
        if (this.failNext) {
          this.failNext = false;
          throw new Error("put failed");
        }
        return super.putSnapshot(...args);
      }
    }
    const store = new Recording();
    const log = new MetadataLog(store, options);
    await log.open();
    // 80,000 partitions: a snapshot of several hundred KiB, past the size below which buffers are not kept.
    await log.propose([{ type: "createTopic", name: "t", topicId: "a".repeat(32), partitions: 80_000, configs: {} }]);
    const snapshotAfter = async (key: string) => {
      await log.propose([{ type: "commitFile", key, size: 10, time: 0, batches: [meta(7, 1)] }]);
      await log.snapshotNow();
      return (await store.latestSnapshot())!;
    };
    // The first snapshot's buffer is sized from an estimate, generous before any snapshot; the second's
    // from the first snapshot's size, and kept.
    await snapshotAfter("f1");
    const second = await snapshotAfter("f2");
    assert.ok(second.data.length > 256 * 1024, `${second.data.length} bytes`);
    const secondBytes = Buffer.from(second.data);
    const third = await snapshotAfter("f3");
    assert.equal(store.buffers[2], store.buffers[1], "the third snapshot was encoded into the second one's buffer");
    assert.ok(second.data.equals(secondBytes), "the stored second snapshot is untouched");
    store.failNext = true;
    await assert.rejects(snapshotAfter("f4"), /put failed/);
    assert.equal(store.buffers[3], store.buffers[1]);
    await snapshotAfter("f5");
    assert.notEqual(store.buffers[4], store.buffers[1], "after a failed put, a new buffer");
    // The stored snapshot is the state: an agent starting from it sees every file.
    const reader = new MetadataLog(store, options);
    await reader.open();
    assert.equal(reader.state.partition("t", 7)!.nextOffset, 5);
    assert.ok(third.index < reader.state.appliedIndex);
    await reader.close();
    await log.close();
  });

  it("sizes a new snapshot buffer for what the state grew by between the last two snapshots", async () => {
    const sizes: Array<{ bytes: number; buffer: number }> = [];
    class Recording extends MemMetadataStore {
      override async putSnapshot(...args: Parameters<MemMetadataStore["putSnapshot"]>): Promise<void> {
        sizes.push({ bytes: args[0].data.length, buffer: args[0].data.buffer.byteLength });
        return super.putSnapshot(...args);
      }
    }
    const log = new MetadataLog(new Recording(), options);
    await log.open();
    // Three snapshots, the state growing by a third between the last two: more than a tenth of it.
    for (const [i, partitions] of [80_000, 40_000, 40_000].entries()) {
      const topicId = String(i + 1).repeat(32);
      await log.propose([{ type: "createTopic", name: `t${i}`, topicId, partitions, configs: {} }]);
      await log.snapshotNow();
    }
    const [, second, third] = sizes;
    assert.ok(third!.bytes - second!.bytes > second!.bytes / 10, JSON.stringify(sizes));
    // Encoded into a buffer sized ahead, not spilled past it and joined into one of its exact size.
    assert.ok(third!.buffer > third!.bytes, JSON.stringify(sizes));
    await log.close();
  });

  it("restarts from a snapshot plus the entries after it, and reloads when entries were trimmed", async () => {
    const store = new MemMetadataStore();
    const written: Array<{ encodeSeconds: number; bytes: number }> = [];
    const writer = new MetadataLog(store, {
      ...options,
      snapshotEveryEntries: 5,
      keepEntriesAfterSnapshot: 1,
      onSnapshot: (info) => written.push(info),
    });
    await writer.open();
    await writer.propose([{ type: "createTopic", name: "t", topicId: "a".repeat(32), partitions: 1, configs: {} }]);
    for (let i = 0; i < 12; i++)
      await writer.propose([{ type: "commitFile", key: `f${i}`, size: 10, time: 0, batches: [meta(0, 1)] }]);
    await new Promise((r) => setTimeout(r, 20));
    const snap = await store.latestSnapshot();
    assert.ok(snap && snap.index >= 5n, "a snapshot was written");
    assert.ok(written.length >= 1, "onSnapshot was told");
    assert.ok(written.every((w) => w.encodeSeconds >= 0 && w.bytes > 0));
    const first = await store.read(1n, 1);
    assert.ok(first.length === 0 || first[0]!.index > 1n, "old entries were trimmed");
    const reader = new MetadataLog(store, options);
    await reader.open();
    assert.equal(reader.state.partition("t", 0)!.nextOffset, 12);
    assert.equal(reader.state.appliedIndex, writer.state.appliedIndex);
    await writer.close();
    await reader.close();
  });

  it("fails proposals when the store fails, and recovers", async () => {
    const inner = new MemMetadataStore();
    let fail = true;
    const flaky: MetadataStore = Object.assign(Object.create(inner) as MetadataStore, {
      append: (i: bigint, d: Buffer) =>
        fail ? Promise.reject(new Error("injected store failure")) : inner.append(i, d),
    });
    const log = new MetadataLog(flaky, options);
    await log.open();
    await assert.rejects(log.propose([{ type: "allocateProducerId" }]), /injected store failure/);
    fail = false;
    const [r] = await log.propose([{ type: "allocateProducerId" }]);
    assert.equal(r!.producerId, 1000);
    await log.close();
  });
  it("folds a long backlog in slices: the event loop turns between entries, and the state is the writer's", async () => {
    const { writer, reader } = await writerAndSlicedReader(50, 120, (i) => 1 + (i % 3));
    const { turns } = await turnsDuring(() => reader.catchUp());
    assert.ok(turns > 100, `the event loop turned ${turns} times while 121 entries were folded`);
    assert.equal(reader.state.appliedIndex, writer.state.appliedIndex);
    assert.deepEqual(reader.state.toSnapshot(), writer.state.toSnapshot());
    await writer.close();
    await reader.close();
  });
  it("folds entries handed to it (a sequencer's answer) in slices: the event loop turns between them", async () => {
    const { writer, reader } = await writerAndSlicedReader(50, 60);
    const handed = writer.recentEntries(1n, writer.state.appliedIndex)!;
    assert.equal(handed.length, 61);
    const { turns, result } = await turnsDuring(() => reader.foldRecords(handed));
    assert.equal(result, 61);
    assert.ok(turns > 30, `the event loop turned ${turns} times while 61 handed entries were folded`);
    // Folding them again (the tail read them meanwhile) folds none; the state is the writer's.
    assert.equal(await reader.foldRecords(handed), 0);
    assert.deepEqual(reader.state.toSnapshot(), writer.state.toSnapshot());
    await writer.close();
    await reader.close();
  });
  it("a lagging agent reloads from a snapshot in slices: the event loop turns, and the state is the writer's", async () => {
    const { store, writer, reader: lagging } = await writerAndSlicedReader(3000, 3);
    await writer.snapshotNow();
    // Trimmed as the snapshot writer does, keeping the newest entry: the lagging agent's next entry is
    // gone and it must start again from the snapshot.
    await store.trim(writer.state.appliedIndex);
    const { turns } = await turnsDuring(() => lagging.catchUp());
    // Decoding and restoring 3,000 partitions at once lets no turn through (as before).
    assert.ok(turns > 20, `the event loop turned ${turns} times while the snapshot was reloaded`);
    assert.equal(lagging.state.appliedIndex, writer.state.appliedIndex);
    assert.deepEqual(lagging.state.toSnapshot(), writer.state.toSnapshot());
    await writer.close();
    await lagging.close();
  });
  it("polls the tail eventually consistent; catchUpNow and a replica's gap read strongly consistent", async () => {
    /** Records each read's consistency; an eventually consistent read misses entry 3 (a stale replica). */
    class ReplicaStore extends MemMetadataStore {
      readonly reads: boolean[] = [];
      override async read(from: bigint, limit: number, options: ReadOptions = {}): Promise<LogRecord[]> {
        const consistent = options.consistent ?? true;
        this.reads.push(consistent);
        const records = await super.read(from, limit);
        return consistent ? records : records.filter((r) => r.index !== 3n);
      }
    }
    const store = new ReplicaStore();
    const writer = new MetadataLog(store, options);
    const tailer = new MetadataLog(store, { ...options, tailIntervalMs: 5 });
    await writer.open();
    await tailer.open();
    await writer.propose([{ type: "createTopic", name: "t", topicId: "a".repeat(32), partitions: 1, configs: {} }]);
    for (let i = 0; i < 4; i++)
      await writer.propose([{ type: "commitFile", key: `f${i}`, size: 10, time: 0, batches: [meta(0, 1)] }]);
    const deadline = Date.now() + 5000;
    while (tailer.state.appliedIndex < writer.state.appliedIndex && Date.now() < deadline)
      await new Promise((resolve) => setTimeout(resolve, 5));
    // Polls read eventually consistent; the poll that saw 4 after 2 (no 3) read again from the leader.
    assert.ok(store.reads.includes(false), "tail polls are eventually consistent");
    assert.equal(tailer.state.appliedIndex, writer.state.appliedIndex);
    assert.deepEqual(tailer.state.toSnapshot(), writer.state.toSnapshot());
    store.reads.length = 0;
    await tailer.catchUpNow();
    assert.equal(store.reads.at(-1), true, "catchUpNow reads strongly consistent");
    await writer.close();
    await tailer.close();
  });
});
