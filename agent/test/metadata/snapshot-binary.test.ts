/**
 * Binary snapshots (metadata/snapshot-binary.ts, snapshot-codec.ts; docs/metadata-log.md "Snapshots"):
 * a state decoded from its binary snapshot is the state it was captured from (compared through the JSON
 * snapshot, the older format's own round trip); encoding gives the event loop back in slices while the
 * fold goes on, and the snapshot holds the state as it was captured; agents write binary only while every
 * live agent reads it (entry format level 7), JSON before; a log with a JSON snapshot moves to binary at
 * its next snapshot; malformed binary snapshots are refused naming the snapshot and the byte.
 */
import assert from "node:assert/strict";
import { setImmediate as tick } from "node:timers/promises";
import type { BatchMeta, Command } from "../../src/metadata/commands.js";
import { ENTRY_FORMAT } from "../../src/metadata/commands.js";
import { MetadataFormatError } from "../../src/metadata/format.js";
import { MetadataLog } from "../../src/metadata/log.js";
import { encodeBinarySnapshot, joinSliced } from "../../src/metadata/snapshot-binary.js";
import { ClusterState, type Segment } from "../../src/metadata/state.js";
import { MemMetadataStore } from "../../src/store/mem.js";
import { componentLogger } from "../../../common/logger.js";
import { TimeSlicer } from "../../../common/time-slicer.js";
import { seededRandom } from "../../../e2e/support/fault-proxy.js";
import { consumerGroupRecord, plainBatch } from "../support/log-entries.js";
import { turnsDuring } from "../support/event-loop.js";

function apply(state: ClusterState, ...commands: Command[]) {
  const index = state.appliedIndex + 1n;
  return state.apply(index, {
    proposer: "test",
    seq: Number(index),
    time: 1_700_000_000_000 + Number(index),
    commands,
  });
}

const topicId = (i: number) => i.toString(16).padStart(32, "0");

const batch = (topic: string, partition: number, pos: number, extra: Partial<BatchMeta> = {}) =>
  plainBatch(topic, partition, pos, 1_700_000_000_000 + pos, extra);

const groupRecord = consumerGroupRecord(3, topicId(1));

/**
 * Encodes a capture of `s` in slices of 0 ms while `change(n)` (n = 1, 2, …) changes the state between
 * them; returns the snapshot and how many changes the fold made meanwhile.
 */
async function encodeWhileFolding(
  s: ClusterState,
  change: (n: number) => void,
): Promise<{ data: Buffer; changes: number }> {
  const capture = s.captureSnapshot();
  let encoding = true;
  const encoded = encodeBinarySnapshot(capture.view, 0).finally(() => (encoding = false));
  let changes = 0;
  while (encoding) {
    await tick();
    change(++changes);
  }
  const { data } = await encoded;
  capture.release();
  return { data, changes };
}

/** A `compact` command replacing a partition's first two segments by one run. */
const compactFirstTwo = (topic: string, partition: number, segments: readonly Segment[], key: string): Command => ({
  type: "compact",
  key,
  size: 100,
  runs: [
    {
      topic,
      partition,
      baseOffset: segments[0]!.baseOffset,
      lastOffset: segments[1]!.lastOffset,
      maxTimestamp: 1,
      pos: 0,
      len: 100,
    },
  ],
  replacedFiles: [],
});

/** A state with something in every part a snapshot holds. */
function richState(): ClusterState {
  const s = new ClusterState();
  apply(s, {
    type: "createTopic",
    name: "t",
    topicId: topicId(1),
    partitions: 3,
    configs: { "retention.ms": "60000" },
  });
  apply(s, { type: "createTopic", name: "ü-topic", topicId: topicId(2), partitions: 1, configs: {} });
  apply(s, {
    type: "commitFile",
    key: "ingest/f1",
    size: 400,
    time: 1,
    batches: [
      batch("t", 0, 0),
      batch("t", 1, 100, { producerId: 1000, producerEpoch: 2, baseSequence: 0 }),
      batch("ü-topic", 0, 200),
    ],
  });
  apply(s, {
    type: "commitFile",
    key: "ingest/f2",
    size: 300,
    time: 2,
    batches: [batch("t", 0, 0), batch("t", 1, 100, { producerId: 1000, producerEpoch: 2, baseSequence: 3 })],
  });
  apply(s, {
    type: "compact",
    key: "compacted/c1",
    size: 200,
    runs: [
      { topic: "t", partition: 0, baseOffset: 0, lastOffset: 5, maxTimestamp: 1_700_000_000_100, pos: 0, len: 200 },
    ],
    replacedFiles: [],
  });
  apply(s, { type: "commitFile", key: "ingest/f3", size: 100, time: 3, batches: [batch("t", 0, 0)] });
  apply(s, { type: "truncate", topic: "t", partition: 2, offset: 0 });
  apply(s, { type: "allocateProducerId" });
  apply(s, { type: "coordinateGroup", group: "g", coordinator: "agent-1" });
  apply(s, {
    type: "commitOffsets",
    group: "g",
    offsets: [
      { topic: "t", partition: 0, offset: 2, leaderEpoch: -1, metadata: null, time: 5 },
      { topic: "t", partition: 1, offset: 1, leaderEpoch: 4, metadata: "m", time: 6 },
    ],
  });
  apply(s, { type: "consumerGroupState", group: "g", coordinatorEpoch: 1, state: groupRecord });
  apply(s, {
    type: "createAcls",
    acls: [
      {
        resourceType: "TOPIC",
        resourceName: "t",
        patternType: "LITERAL",
        principal: "User:alice",
        host: "*",
        operation: "READ",
        permissionType: "ALLOW",
      },
    ],
  });
  apply(s, {
    type: "alterScramCredentials",
    user: "alice",
    upsertions: [
      {
        mechanism: "SCRAM-SHA-256",
        iterations: 4096,
        salt: Buffer.alloc(24, 1).toString("base64"),
        storedKey: Buffer.alloc(32, 2).toString("base64"),
        serverKey: Buffer.alloc(32, 3).toString("base64"),
      },
    ],
    deletions: [],
  });
  return s;
}

/** The state as a JSON snapshot says it, parsed (key order aside). */
const asJson = (s: ClusterState): unknown => JSON.parse(s.toSnapshot().toString("utf8"));

/** `topics` topics of `partitions` partitions, each with `files` ingestion files' segments. */
function largeState(topics: number, partitions: number, files: number): ClusterState {
  const s = new ClusterState();
  for (let t = 0; t < topics; t++)
    apply(s, { type: "createTopic", name: `topic-${t}`, topicId: topicId(t + 1), partitions, configs: {} });
  for (let f = 0; f < files; f++) {
    const batches: BatchMeta[] = [];
    for (let t = 0; t < topics; t++)
      for (let p = 0; p < partitions; p++) batches.push(batch(`topic-${t}`, p, batches.length * 100));
    apply(s, { type: "commitFile", key: `ingest/file-${f}`, size: batches.length * 100, time: f, batches });
  }
  return s;
}

const logger = componentLogger("test");

/** A binary snapshot of `state` now: captured, encoded, released. */
async function binarySnapshot(state: ClusterState, sliceMs?: number) {
  const capture = state.captureSnapshot();
  try {
    return await encodeBinarySnapshot(capture.view, sliceMs);
  } finally {
    capture.release();
  }
}

describe("binary metadata snapshots", () => {
  it("decode to the state they were captured from, which folds on as the original does", async () => {
    const s = richState();
    const { data } = await binarySnapshot(s);
    assert.equal(data.toString("latin1", 0, 2), "WS");
    assert.equal(data[2], 5, "binary snapshot format 5");
    const copy = ClusterState.fromSnapshot(data, s.appliedIndex);
    assert.deepEqual(asJson(copy), asJson(s));
    assert.deepEqual(copy.objectRefs, s.objectRefs);
    assert.equal(copy.partitionTotal, s.partitionTotal);
    // An idempotent producer's retry is still recognised after the restore.
    const retry: Command = {
      type: "commitFile",
      key: "ingest/f9",
      size: 100,
      time: 9,
      batches: [batch("t", 1, 0, { producerId: 1000, producerEpoch: 2, baseSequence: 3 })],
    };
    assert.deepEqual(apply(copy, retry), apply(s, retry));
    assert.deepEqual(asJson(copy), asJson(s));
  });

  it("decode in slices to the state decoded at once, and refuse a malformed one with the same error", async () => {
    // Steps: each topic, and every 256 partitions of a large one: 3 × (4 + 1) + 3 × (4 + 1) here.
    const s = largeState(3, 1200, 2);
    const { data } = await binarySnapshot(s);
    const slicer = new TimeSlicer(0, 1);
    const sliced = await ClusterState.fromSnapshotSliced(data, s.appliedIndex, slicer);
    assert.ok(slicer.pauseCount >= 20, `${slicer.pauseCount} pauses for 3,600 partitions`);
    assert.deepEqual(asJson(sliced), asJson(ClusterState.fromSnapshot(data, s.appliedIndex)));
    assert.deepEqual(sliced.objectRefs, s.objectRefs);
    const truncated = data.subarray(0, data.length - 3);
    const sync = (() => {
      try {
        ClusterState.fromSnapshot(truncated, 40n);
      } catch (err) {
        return err;
      }
      return null;
    })();
    assert.ok(sync instanceof MetadataFormatError);
    await assert.rejects(ClusterState.fromSnapshotSliced(truncated, 40n, new TimeSlicer(0, 1)), (err: unknown) => {
      assert.ok(err instanceof MetadataFormatError);
      assert.equal(err.message, sync.message);
      return true;
    });
  });

  it("say each object key once and are a fraction of the JSON snapshot's size", async () => {
    const s = largeState(10, 100, 5);
    const json = s.toSnapshot();
    const { data } = await binarySnapshot(s);
    assert.deepEqual(asJson(ClusterState.fromSnapshot(data)), JSON.parse(json.toString("utf8")));
    assert.equal(data.toString("latin1").split("ingest/file-3").length - 1, 1, "each key is written once");
    assert.ok(data.length * 3 < json.length, `binary ${data.length} B against JSON ${json.length} B`);
  });

  it("give the event loop back while encoding, and hold the state as it was captured", async () => {
    const s = largeState(20, 1000, 4);
    const capturedAt = s.appliedIndex;
    const capture = s.captureSnapshot();
    let ticks = 0;
    let encoding = true;
    const ticker = (async () => {
      while (encoding) {
        await tick();
        ticks++;
      }
    })();
    const encoded = encodeBinarySnapshot(capture.view, 1);
    // The fold goes on meanwhile: a new topic and more data on an existing partition.
    apply(s, { type: "createTopic", name: "later", topicId: topicId(999), partitions: 1, configs: {} });
    apply(s, { type: "commitFile", key: "ingest/later", size: 100, time: 99, batches: [batch("topic-0", 0, 0)] });
    const { data, longestHoldMs } = await encoded;
    capture.release();
    encoding = false;
    await ticker;
    assert.ok(ticks > 0, "other work ran while the snapshot was encoded");
    assert.ok(Number.isFinite(longestHoldMs) && longestHoldMs > 0);
    const copy = ClusterState.fromSnapshot(data);
    assert.equal(copy.appliedIndex, capturedAt);
    assert.equal(copy.topics.has("later"), false);
    assert.equal(copy.partition("topic-0", 0)!.nextOffset, 12, "4 files × 3 records, not the 5th");
    assert.equal(s.partition("topic-0", 0)!.nextOffset, 15);
  });

  it("that outgrow their size hint are joined in slices, byte for byte the encoding that had room", async () => {
    const s = largeState(10, 2000, 6);
    const capture = s.captureSnapshot();
    try {
      const roomy = await encodeBinarySnapshot(capture.view, Infinity, 8 << 20);
      // A hint of 4 KiB: the writer spills into 1 MiB parts, which are joined at the end.
      const { turns, result: tight } = await turnsDuring(() => encodeBinarySnapshot(capture.view, 0, 4096));
      assert.ok(roomy.data.length > 1 << 20, `${roomy.data.length} bytes: more than one spill part`);
      assert.ok(tight.data.equals(roomy.data));
      assert.ok(turns > 10, `the event loop turned ${turns} times`);
    } finally {
      capture.release();
    }
  });

  it("join their parts a step at a time, giving the event loop back between steps", async () => {
    const parts = [0, 1, 2].map((i) => Buffer.alloc(2 << 20, i + 1));
    const slicer = new TimeSlicer(0, 1);
    const joined = await joinSliced(parts, slicer);
    assert.ok(joined.equals(Buffer.concat(parts)));
    assert.ok(slicer.pauseCount >= 90, `${slicer.pauseCount} pauses while joining 6 MiB`);
  });

  it("hold the captured state whatever the fold changes between the encoder's slices (copy on write)", async () => {
    for (let seed = 1; seed <= 12; seed++) {
      const random = seededRandom(seed);
      const pick = (n: number) => Math.floor(random() * n);
      const s = new ClusterState();
      let index = 0n;
      // Entries without a time first: producers' last-use times stay unknown (0) until the first timed
      // entry stamps them, a change of the captured state the fold makes without a command.
      const fold = (time: number | undefined, ...commands: Command[]) => {
        index = s.appliedIndex + 1n;
        s.apply(index, { proposer: "p", seq: Number(index), ...(time === undefined ? {} : { time }), commands });
      };
      const topics = ["a", "b", "c"];
      for (const [i, name] of topics.entries())
        fold(undefined, { type: "createTopic", name, topicId: topicId(i + 1), partitions: 40, configs: {} });
      let file = 0;
      const sequences = new Map<string, number>();
      const commit = (time: number | undefined) => {
        const batches: BatchMeta[] = [];
        for (let i = 0; i < 30; i++) {
          const topic = topics[pick(topics.length)]!;
          const partition = pick(40);
          const producerId = 1000 + pick(3);
          const key = `${topic}-${partition}-${producerId}`;
          const seq = sequences.get(key) ?? 0;
          if (batches.some((b) => b.topic === topic && b.partition === partition && b.producerId === producerId))
            continue;
          sequences.set(key, seq + 3);
          batches.push(batch(topic, partition, i * 100, { producerId, producerEpoch: 0, baseSequence: seq }));
        }
        fold(time, { type: "commitFile", key: `ingest/${file++}`, size: 3000, time: time ?? 0, batches });
      };
      for (let i = 0; i < 20; i++) commit(undefined);
      const DAY = 24 * 3_600_000;
      let time = 1_700_000_000_000;
      if (seed % 2 === 0) for (let i = 0; i < 20; i++) commit((time += 1000));

      const expected: unknown = asJson(s);
      const capturedAt = s.appliedIndex;
      // Between slices: data, compaction, truncation, expiry (a day later), topic deletion and growth.
      const { data, changes } = await encodeWhileFolding(s, (change) => {
        const topic = topics[pick(topics.length)]!;
        const p = s.partition(topic, pick(40));
        // Each kind of change first meets partitions not saved yet: truncation first, compaction second.
        switch (change === 1 ? 3 : change === 2 ? 2 : pick(7)) {
          case 0:
          case 1:
            commit((time += 1000));
            break;
          case 2:
            if (p && p.segments.length >= 2) {
              const partition = s.topics.get(topic)!.partitions.indexOf(p);
              fold((time += 1000), compactFirstTwo(topic, partition, p.segments, `compacted/${change}`));
            }
            break;
          case 3:
            if (p)
              fold((time += 1000), {
                type: "truncate",
                topic,
                partition: s.topics.get(topic)!.partitions.indexOf(p),
                offset: p.nextOffset,
              });
            break;
          case 4:
            commit((time += DAY + 1000));
            break;
          case 5:
            if (s.topics.has(topic) && s.topics.size > 1) fold((time += 1000), { type: "deleteTopic", name: topic });
            break;
          case 6:
            if (s.topics.has(topic)) {
              const count = s.topics.get(topic)!.partitions.length + 1;
              fold((time += 1000), { type: "createPartitions", name: topic, count });
            }
            break;
        }
      });
      assert.ok(changes > 3, `seed ${seed}: the fold changed the state ${changes} times while encoding`);
      assert.notDeepEqual(asJson(s), expected, `seed ${seed}: the state moved on`);
      const copy = ClusterState.fromSnapshot(data);
      assert.equal(copy.appliedIndex, capturedAt);
      assert.deepEqual(asJson(copy), expected, `seed ${seed}: the snapshot holds the state at the capture`);
    }
  });

  it("hold a long partition as captured while the fold appends to it and compacts it between slices", async () => {
    // Short partitions are written at once from the live state; a long one (over 2,048 segments) from a
    // copy, in slices: the fold may change it while it is half written.
    const s = new ClusterState();
    apply(s, { type: "createTopic", name: "long", topicId: topicId(1), partitions: 2, configs: {} });
    for (let f = 0; f < 6000; f++)
      apply(s, { type: "commitFile", key: `ingest/${f}`, size: 100, time: f, batches: [batch("long", 0, 0)] });
    const expected: unknown = asJson(s);
    const { data, changes } = await encodeWhileFolding(s, (change) =>
      apply(
        s,
        { type: "commitFile", key: `ingest/more-${change}`, size: 100, time: 7000, batches: [batch("long", 0, 0)] },
        compactFirstTwo("long", 0, s.partition("long", 0)!.segments, `compacted/${change}`),
      ),
    );
    assert.ok(changes > 3, `the fold changed the partition ${changes} times while it was encoded`);
    assert.deepEqual(asJson(ClusterState.fromSnapshot(data)), expected);
  });

  it("keep no copy of a partition the encoder has read for good (readNow) when the fold changes it later", () => {
    const s = new ClusterState();
    apply(s, { type: "createTopic", name: "t", topicId: topicId(1), partitions: 3, configs: {} });
    apply(s, {
      type: "commitFile",
      key: "ingest/a",
      size: 300,
      time: 1,
      batches: [0, 1, 2].map((p) => batch("t", p, 0)),
    });
    const capture = s.captureSnapshot();
    try {
      const t = capture.view.topics[0]!;
      assert.equal(t.partition(0, true).next, 3, "the encoder reads partition 0 and moves on");
      assert.equal(t.partition(2).next, 3, "partition 2 read as a copy: it may be asked for again");
      apply(s, {
        type: "commitFile",
        key: "ingest/b",
        size: 300,
        time: 2,
        batches: [0, 1, 2].map((p) => batch("t", p, 100)),
      });
      assert.equal(capture.saved(), 2, "partitions 1 and 2 saved as captured, not partition 0");
      assert.equal(t.partition(1, true).next, 3);
      assert.equal(t.partition(2, true).next, 3);
      assert.equal(s.partition("t", 0)!.nextOffset, 6);
    } finally {
      capture.release();
    }
    // The next capture saves partition 0 again: the mark was the last capture's.
    const next = s.captureSnapshot();
    apply(s, { type: "commitFile", key: "ingest/c", size: 100, time: 3, batches: [batch("t", 0, 200)] });
    assert.equal(next.saved(), 1);
    assert.equal(next.view.topics[0]!.partition(0).next, 6);
    next.release();
  });

  it("allow one capture at a time, and another once it is released", () => {
    const s = richState();
    const first = s.captureSnapshot();
    assert.throws(() => s.captureSnapshot(), /a snapshot capture of this state is still being encoded/);
    first.release();
    s.captureSnapshot().release();
  });

  it("are written by the log without holding the event loop for the whole state", async () => {
    const store = new MemMetadataStore();
    const log = new MetadataLog(store, {
      tailIntervalMs: 0,
      snapshotEveryEntries: 0,
      keepEntriesAfterSnapshot: 10,
      writesSnapshots: () => true,
      logger,
    });
    await log.open();
    const big = largeState(20, 1000, 4);
    const commands: Command[] = [];
    for (const t of big.topics.values())
      commands.push({ type: "createTopic", name: t.name, topicId: t.topicId, partitions: 1000, configs: {} });
    await log.propose(commands);
    for (let f = 0; f < 4; f++) {
      const batches: BatchMeta[] = [];
      for (const t of big.topics.values())
        for (let p = 0; p < 1000; p++) batches.push(batch(t.name, p, batches.length * 100));
      await log.propose([
        { type: "commitFile", key: `ingest/file-${f}`, size: batches.length * 100, time: f, batches },
      ]);
    }
    // Count event-loop turns between asking for the snapshot and the store receiving it: an encoding
    // that holds the loop for the whole state (one JSON.stringify) lets none through.
    let ticks = 0;
    let atPut = -1;
    const put = store.putSnapshot.bind(store);
    store.putSnapshot = (snapshot) => {
      atPut = ticks;
      return put(snapshot);
    };
    let running = true;
    const ticker = (async () => {
      while (running) {
        await tick();
        ticks++;
      }
    })();
    await log.snapshotNow();
    running = false;
    await ticker;
    assert.ok(atPut > 0, `event-loop turns while the snapshot was encoded: ${atPut}`);
    const snapshot = await store.latestSnapshot();
    assert.equal(snapshot!.data.toString("latin1", 0, 2), "WS");
    assert.deepEqual(asJson(ClusterState.fromSnapshot(snapshot!.data)), asJson(log.state));
    await log.close();
  });

  it("are written only while every live agent reads them; a JSON snapshot moves to binary at the next one", async () => {
    const store = new MemMetadataStore();
    let readers: number = ENTRY_FORMAT.binarySnapshot - 1;
    const options = {
      tailIntervalMs: 0,
      snapshotEveryEntries: 0,
      keepEntriesAfterSnapshot: 10,
      writesSnapshots: () => true,
      readersFormat: () => readers,
      logger,
    };
    const first = new MetadataLog(store, options);
    await first.open();
    await first.propose([{ type: "createTopic", name: "t", topicId: topicId(1), partitions: 2, configs: {} }]);
    await first.propose([{ type: "commitFile", key: "ingest/a", size: 100, time: 1, batches: [batch("t", 1, 0)] }]);
    await first.snapshotNow();
    const json = await store.latestSnapshot();
    assert.equal(json!.data.toString("latin1", 0, 1), "{", "an agent of level 6 is live: JSON");
    await first.close();

    // The older agent left: the next agent starts from the JSON snapshot and writes binary.
    readers = ENTRY_FORMAT.latest;
    const second = new MetadataLog(store, options);
    await second.open();
    assert.equal(second.state.partition("t", 1)!.nextOffset, 3);
    await second.propose([{ type: "commitFile", key: "ingest/b", size: 100, time: 2, batches: [batch("t", 0, 0)] }]);
    await second.snapshotNow();
    const binary = await store.latestSnapshot();
    assert.equal(binary!.data.toString("latin1", 0, 2), "WS");
    assert.ok(binary!.index > json!.index);
    await second.close();

    const third = new MetadataLog(store, options);
    await third.open();
    assert.deepEqual(asJson(third.state), asJson(second.state));
    await third.close();
  });

  it("refuse malformed binary snapshots, naming the snapshot and the byte", async () => {
    const { data } = await binarySnapshot(richState());
    const refused = (bytes: Buffer, pattern: RegExp) =>
      assert.throws(
        () => ClusterState.fromSnapshot(bytes, 40n),
        (err: unknown) => err instanceof MetadataFormatError && pattern.test(err.message),
      );
    refused(
      data.subarray(0, data.length - 3),
      /^metadata snapshot at log index 40 \(binary, format 5\) is malformed at byte \d+: truncated/,
    );
    refused(Buffer.concat([data, Buffer.from([0])]), /is malformed at byte \d+: 1 bytes after the end$/);
    // A huge topic count is refused before anything is allocated.
    const header = data.subarray(0, 3);
    const forged = Buffer.concat([header, Buffer.from([1, 0, 0, 0xff, 0xff, 0xff, 0xff, 0x0f])]);
    refused(forged, /topic count 4294967295 exceeds the \d+ bytes left/);
    // Format 2 exists only as JSON.
    refused(
      Buffer.from([0x57, 0x53, 2, 0]),
      /^metadata snapshot at log index 40 \(binary\) has format version 2, which is never written in binary/,
    );
  });
});
