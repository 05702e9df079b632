/**
 * The fold forgets idempotent-producer state a day after a producer's last batch on a partition, and a
 * group's committed offsets seven days after its last commit, measured in log time (the entries'
 * timestamps): the same state is dropped at the same log position on every agent, and in snapshots.
 */
import assert from "node:assert/strict";
import { componentLogger } from "../../../common/logger.js";
import type { BatchMeta, Command, LogEntry, OffsetCommitEntry } from "../../src/metadata/commands.js";
import { decodeEntry, encodeEntry } from "../../src/metadata/entry-codec.js";
import {
  ExpiryList,
  ExpiryQueue,
  OFFSETS_RETENTION_MS,
  PRODUCER_ID_EXPIRATION_MS,
  type Expiring,
} from "../../src/metadata/expiry.js";
import { MetadataLog } from "../../src/metadata/log.js";
import { ClusterState } from "../../src/metadata/state.js";
import { MemMetadataStore } from "../../src/store/mem.js";

const T0 = Date.UTC(2026, 0, 1);
const HOUR = 3_600_000;

/** Applies one entry stamped `time` (undefined: an entry without a timestamp). */
function at(state: ClusterState, time: number | undefined, ...commands: Command[]) {
  const entry: LogEntry = { proposer: "test", seq: 1, ...(time !== undefined ? { time } : {}), commands };
  return state.apply(state.appliedIndex + 1n, entry);
}

const createTopic: Command = { type: "createTopic", name: "t", topicId: "a".repeat(32), partitions: 2, configs: {} };

function batch(partition: number, producerId: number, baseSequence: number): BatchMeta {
  return {
    topic: "t",
    partition,
    pos: 0,
    len: 10,
    count: 1,
    maxTimestamp: 0,
    producerId,
    producerEpoch: 0,
    baseSequence,
  };
}

const produce = (...batches: BatchMeta[]): Command => ({ type: "commitFile", key: "f", size: 10, time: 0, batches });

const commit = (group: string, offset = 1): Command => ({
  type: "commitOffsets",
  group,
  offsets: [{ topic: "t", partition: 0, offset, leaderEpoch: -1, metadata: null, time: 0 } satisfies OffsetCommitEntry],
});

/** Producer ids with state, per partition of t. */
function producers(s: ClusterState): number[][] {
  return s.topics.get("t")!.partitions.map((p) => [...p.producers.keys()].sort((a, b) => a - b));
}

const groups = (s: ClusterState) => [...s.groupOffsets.keys()].sort();

describe("metadata fold: expiry in log time", () => {
  it("drops a producer's state on a partition a day after its last batch there", () => {
    const s = new ClusterState();
    at(s, T0, createTopic, produce(batch(0, 7, 0), batch(1, 7, 0), batch(0, 8, 0)));
    at(s, T0 + 12 * HOUR, produce(batch(0, 8, 1)));
    at(s, T0 + PRODUCER_ID_EXPIRATION_MS - 1);
    assert.deepEqual(producers(s), [[7, 8], [7]], "kept until the period has passed");

    at(s, T0 + PRODUCER_ID_EXPIRATION_MS);
    assert.deepEqual(producers(s), [[8], []], "producer 7 expired on both partitions; 8 wrote since");
    assert.doesNotMatch(s.toSnapshot().toString(), /\[7,0,/, "and is gone from snapshots");

    at(s, T0 + 12 * HOUR + PRODUCER_ID_EXPIRATION_MS);
    assert.deepEqual(producers(s), [[], []]);
  });

  it("keeps producer state while the producer writes, across an epoch bump", () => {
    const s = new ClusterState();
    at(s, T0, createTopic, produce(batch(0, 7, 0)));
    at(s, T0 + 20 * HOUR, produce({ ...batch(0, 7, 0), producerEpoch: 1 }));
    at(s, T0 + PRODUCER_ID_EXPIRATION_MS + HOUR);
    assert.deepEqual(producers(s), [[7], []]);
    const [dup] = at(s, T0 + PRODUCER_ID_EXPIRATION_MS + HOUR, produce({ ...batch(0, 7, 0), producerEpoch: 1 }));
    assert.equal(dup!.batches![0]!.baseOffset, 1, "still answered as a duplicate");
  });

  it("drops a group's offsets seven days after its last commit", () => {
    const s = new ClusterState();
    at(s, T0, createTopic, commit("g"), commit("h"));
    at(s, T0 + 3 * 24 * HOUR, commit("h", 2));
    at(s, T0 + OFFSETS_RETENTION_MS - 1);
    assert.deepEqual(groups(s), ["g", "h"]);
    at(s, T0 + OFFSETS_RETENTION_MS);
    assert.deepEqual(groups(s), ["h"]);
    at(s, T0 + 3 * 24 * HOUR + OFFSETS_RETENTION_MS);
    assert.deepEqual(groups(s), []);
  });

  it("does not move the log time back for an entry from an agent whose clock is behind", () => {
    const s = new ClusterState();
    at(s, T0, createTopic, commit("g"));
    at(s, T0 + OFFSETS_RETENTION_MS - HOUR, commit("h"));
    at(s, T0, commit("h"));
    assert.equal(s.logTime, T0 + OFFSETS_RETENTION_MS - HOUR);
    at(s, T0 + OFFSETS_RETENTION_MS);
    assert.deepEqual(groups(s), ["h"], "h's last commit counts at the log time it was folded at");
  });

  it("forgets a deleted group or topic, and later expiry does not trip over it", () => {
    const s = new ClusterState();
    at(s, T0, createTopic, commit("g"), produce(batch(0, 7, 0)));
    at(s, T0 + HOUR, { type: "deleteGroup", group: "g" }, { type: "deleteTopic", name: "t" });
    at(s, T0 + HOUR, createTopic, commit("g"), produce(batch(0, 7, 5)));
    at(s, T0 + PRODUCER_ID_EXPIRATION_MS + 30 * 60_000);
    assert.deepEqual(producers(s), [[7], []], "the new topic's producer state counts from its own batch");
    at(s, T0 + OFFSETS_RETENTION_MS + 30 * 60_000);
    assert.deepEqual(groups(s), ["g"], "the group's new commit counts");
  });

  it("expires the same state at the same position on an agent that started from a snapshot", () => {
    const folded = new ClusterState();
    at(folded, T0, createTopic, produce(batch(0, 7, 0), batch(1, 8, 0)), commit("g"));
    at(folded, T0 + 2 * 24 * HOUR, produce(batch(0, 8, 0)), commit("h"));
    const restarted = ClusterState.fromSnapshot(folded.toSnapshot());
    assert.equal(restarted.toSnapshot().toString(), folded.toSnapshot().toString());
    for (const time of [T0 + PRODUCER_ID_EXPIRATION_MS, T0 + 3 * 24 * HOUR, T0 + 8 * 24 * HOUR, T0 + 10 * 24 * HOUR]) {
      at(folded, time, produce(batch(1, 9, 0)));
      at(restarted, time, produce(batch(1, 9, 0)));
      assert.equal(restarted.toSnapshot().toString(), folded.toSnapshot().toString(), `at ${time - T0} ms`);
    }
    assert.deepEqual(groups(folded), []);
    assert.deepEqual(producers(folded), [[], [9]]);
  });

  it("counts state from entries without timestamps from the first entry that has one", () => {
    const s = new ClusterState();
    at(s, undefined, createTopic, produce(batch(0, 7, 0)), commit("g"));
    assert.equal(s.logTime, 0);
    at(s, T0);
    assert.deepEqual([producers(s), groups(s)], [[[7], []], ["g"]], "not dropped at the first timestamp");
    at(s, T0 + PRODUCER_ID_EXPIRATION_MS);
    assert.deepEqual(producers(s), [[], []]);
    const legacy = JSON.parse(s.toSnapshot().toString()) as { logTime?: number; groups: unknown[][] };
    delete legacy.logTime;
    for (const g of legacy.groups) g.length = 2;
    const loaded = ClusterState.fromSnapshot(Buffer.from(JSON.stringify(legacy)));
    at(loaded, T0 + 8 * 24 * HOUR);
    assert.deepEqual(groups(loaded), ["g"], "a snapshot without times keeps its offsets a full period");
    at(loaded, T0 + 15 * 24 * HOUR);
    assert.deepEqual(groups(loaded), []);
  });

  it("carries the entry's timestamp through the log encoding", () => {
    const entry: LogEntry = { proposer: "p", seq: 3, time: T0, commands: [] };
    assert.deepEqual(decodeEntry(encodeEntry(entry)), entry);
    const old = Buffer.from(JSON.stringify({ v: 1, proposer: "p", seq: 3, commands: [] }));
    assert.deepEqual(decodeEntry(old), { proposer: "p", seq: 3, commands: [] });
  });

  it("stamps each entry it appends with the proposer's clock", async () => {
    const store = new MemMetadataStore();
    const log = new MetadataLog(store, {
      tailIntervalMs: 0,
      snapshotEveryEntries: 0,
      keepEntriesAfterSnapshot: 10,
      writesSnapshots: () => false,
      logger: componentLogger("test"),
    });
    await log.open();
    const before = Date.now();
    await log.propose([{ type: "allocateProducerId" }]);
    const after = Date.now();
    const [record] = await store.read(1n, 1);
    const time = decodeEntry(record!.data).time ?? 0;
    assert.ok(time >= before && time <= after, `entry time ${time}`);
    assert.equal(log.state.logTime, time);
    await log.close();
  });
});

describe("expiry lists (the fold's order of last use)", () => {
  interface Item extends Expiring<Item> {
    readonly name: string;
  }
  const item = (name: string): Item => ({ name, expiryTime: 0, expiryPrev: null, expiryNext: null });
  const names = (items: readonly Item[]) => items.map((i) => i.name);

  it("expires items oldest first, a used item moved to the end, a deleted one never", () => {
    const list = new ExpiryList<Item>();
    const [a, b, c, d] = ["a", "b", "c", "d"].map(item) as [Item, Item, Item, Item];
    list.touch(a, 1);
    list.touch(b, 2);
    list.touch(c, 3);
    list.touch(d, 4);
    list.touch(a, 5); // the head, used again
    list.touch(c, 6); // from the middle
    list.touch(c, 6); // the tail, again
    list.delete(d); // the tail before it
    list.delete(d); // not held: nothing
    assert.equal(list.size, 3);
    const told: string[] = [];
    assert.deepEqual(
      names(list.expire(5, (i) => told.push(`${i.name}@${i.expiryTime}`))),
      ["b", "a"],
      "last used at or before 5, oldest first",
    );
    assert.deepEqual(told, ["b@2", "a@5"]);
    assert.equal(list.size, 1);
    // An expired item can come back, after the ones still held.
    list.touch(b, 7);
    assert.deepEqual(names(list.expire(Infinity)), ["c", "b"]);
    assert.equal(list.size, 0);
    assert.deepEqual(names(list.expire(Infinity)), []);
  });

  it("builds from items in any order, and stamps the ones of unknown time (0) at the first time known", () => {
    const items = ["x", "y", "z", "w"].map(item);
    items[0]!.expiryTime = 30;
    items[1]!.expiryTime = 0;
    items[2]!.expiryTime = 10;
    items[3]!.expiryTime = 0;
    const list = ExpiryList.of(items);
    const stamped: string[] = [];
    list.stampUnknown(20, (i) => stamped.push(i.name));
    assert.deepEqual(stamped, ["y", "w"], "in the order they were given, at the front");
    assert.deepEqual(
      list.expire(25).map((i) => `${i.name}@${i.expiryTime}`),
      ["y@20", "w@20", "z@10"],
    );
    assert.equal(list.size, 1);
  });

  it("keys (group ids) in a queue: the same order, times read by key", () => {
    const queue = ExpiryQueue.of([
      ["g2", 20],
      ["g1", 10],
    ]);
    queue.touch("g3", 30);
    queue.touch("g1", 40);
    assert.equal(queue.timeOf("g1"), 40);
    queue.delete("g3");
    assert.equal(queue.timeOf("g3"), undefined);
    assert.equal(queue.size, 2);
    assert.deepEqual(queue.expire(40), ["g2", "g1"]);
    assert.equal(queue.size, 0);
    assert.equal(queue.timeOf("g1"), undefined);
  });
});
