import assert from "node:assert/strict";
import type { BatchMeta, Command } from "../../src/metadata/commands.js";
import { ClusterState, FoldError } from "../../src/metadata/state.js";

let index = 0n;
function apply(state: ClusterState, ...commands: Command[]) {
  index = state.appliedIndex + 1n;
  return state.apply(index, { proposer: "test", seq: Number(index), commands });
}

function meta(partition: number, count: number, extra: Partial<BatchMeta> = {}): BatchMeta {
  return {
    topic: "t",
    partition,
    pos: 0,
    len: 100,
    count,
    maxTimestamp: 1000,
    producerId: -1,
    producerEpoch: -1,
    baseSequence: -1,
    ...extra,
  };
}

describe("metadata state fold", () => {
  it("assigns gap-free offsets per partition in commit order", () => {
    const s = new ClusterState();
    apply(s, { type: "createTopic", name: "t", topicId: "a".repeat(32), partitions: 2, configs: {} });
    const [r1] = apply(s, {
      type: "commitFile",
      key: "f1",
      size: 300,
      time: 1,
      batches: [meta(0, 3), meta(1, 2), meta(0, 4)],
    });
    assert.deepEqual(
      r1!.batches!.map((b) => b.baseOffset),
      [0, 0, 3],
    );
    const [r2] = apply(s, { type: "commitFile", key: "f2", size: 100, time: 2, batches: [meta(0, 1)] });
    assert.equal(r2!.batches![0]!.baseOffset, 7);
    assert.equal(s.partition("t", 0)!.nextOffset, 8);
    assert.equal(s.partition("t", 1)!.nextOffset, 2);
  });

  it("folds another agent's entry to the same state without making its batches' results", () => {
    const entries: Command[][] = [
      [{ type: "createTopic", name: "t", topicId: "a".repeat(32), partitions: 2, configs: {} }],
      [
        {
          type: "commitFile",
          key: "f1",
          size: 300,
          time: 1,
          batches: [meta(0, 3, { producerId: 9, producerEpoch: 0, baseSequence: 0 }), meta(1, 2), meta(5, 1)],
        },
      ],
      // A duplicate, a gap and a new batch of the same producer.
      [
        {
          type: "commitFile",
          key: "f2",
          size: 300,
          time: 2,
          batches: [
            meta(0, 3, { producerId: 9, producerEpoch: 0, baseSequence: 0 }),
            meta(0, 1, { producerId: 9, producerEpoch: 0, baseSequence: 7 }),
            meta(0, 2, { producerId: 9, producerEpoch: 0, baseSequence: 3 }),
          ],
        },
      ],
    ];
    const ours = new ClusterState();
    const theirs = new ClusterState();
    entries.forEach((commands, i) => {
      const entry = { proposer: "p", seq: i + 1, commands };
      const [mine] = ours.apply(BigInt(i + 1), entry);
      const [other] = theirs.apply(BigInt(i + 1), entry, false);
      assert.equal(other!.errorCode, mine!.errorCode);
      if (commands[0]!.type === "commitFile") {
        assert.equal(mine!.batches!.length, 3, "the proposer gets a result per batch");
        assert.equal(other!.batches?.length ?? 0, 0, "another agent gets none");
      }
    });
    assert.equal(theirs.toSnapshot().toString(), ours.toSnapshot().toString());
  });

  it("answers an idempotent duplicate with the original offset and rejects gaps", () => {
    const s = new ClusterState();
    apply(s, { type: "createTopic", name: "t", topicId: "a".repeat(32), partitions: 1, configs: {} });
    const p = { producerId: 7, producerEpoch: 0 };
    const [a] = apply(s, {
      type: "commitFile",
      key: "f1",
      size: 1,
      time: 1,
      batches: [meta(0, 5, { ...p, baseSequence: 0 })],
    });
    assert.equal(a!.batches![0]!.baseOffset, 0);
    const [dup] = apply(s, {
      type: "commitFile",
      key: "f2",
      size: 1,
      time: 1,
      batches: [meta(0, 5, { ...p, baseSequence: 0 })],
    });
    assert.deepEqual([dup!.batches![0]!.errorCode, dup!.batches![0]!.baseOffset], [0, 0]);
    assert.equal(s.partition("t", 0)!.nextOffset, 5, "a duplicate is not appended again");
    const [gap] = apply(s, {
      type: "commitFile",
      key: "f3",
      size: 1,
      time: 1,
      batches: [meta(0, 1, { ...p, baseSequence: 7 })],
    });
    assert.equal(gap!.batches![0]!.errorCode, FoldError.OUT_OF_ORDER_SEQUENCE_NUMBER);
    const [next] = apply(s, {
      type: "commitFile",
      key: "f4",
      size: 1,
      time: 1,
      batches: [meta(0, 1, { ...p, baseSequence: 5 })],
    });
    assert.deepEqual([next!.batches![0]!.errorCode, next!.batches![0]!.baseOffset], [0, 5]);
    const [bumped] = apply(s, {
      type: "commitFile",
      key: "f5",
      size: 1,
      time: 1,
      batches: [meta(0, 1, { producerId: 7, producerEpoch: 1, baseSequence: 3 })],
    });
    assert.equal(
      bumped!.batches![0]!.errorCode,
      FoldError.OUT_OF_ORDER_SEQUENCE_NUMBER,
      "a new epoch starts at sequence 0",
    );
  });

  it("rejects an old producer epoch", () => {
    const s = new ClusterState();
    apply(s, { type: "createTopic", name: "t", topicId: "a".repeat(32), partitions: 1, configs: {} });
    apply(s, {
      type: "commitFile",
      key: "f1",
      size: 1,
      time: 1,
      batches: [meta(0, 1, { producerId: 9, producerEpoch: 3, baseSequence: 0 })],
    });
    const [old] = apply(s, {
      type: "commitFile",
      key: "f2",
      size: 1,
      time: 1,
      batches: [meta(0, 1, { producerId: 9, producerEpoch: 2, baseSequence: 1 })],
    });
    assert.equal(old!.batches![0]!.errorCode, FoldError.INVALID_PRODUCER_EPOCH);
  });

  it("creates, rejects duplicates, deletes topics and grows partitions", () => {
    const s = new ClusterState();
    assert.equal(
      apply(s, { type: "createTopic", name: "t", topicId: "a".repeat(32), partitions: 1, configs: {} })[0]!.errorCode,
      0,
    );
    assert.equal(
      apply(s, { type: "createTopic", name: "t", topicId: "b".repeat(32), partitions: 1, configs: {} })[0]!.errorCode,
      FoldError.TOPIC_ALREADY_EXISTS,
    );
    assert.equal(
      apply(s, {
        type: "createTopic",
        name: "u",
        topicId: "c".repeat(32),
        partitions: 1,
        configs: { "retention.ms": "abc" },
      })[0]!.errorCode,
      FoldError.INVALID_CONFIG,
    );
    assert.equal(apply(s, { type: "createPartitions", name: "t", count: 3 })[0]!.errorCode, 0);
    assert.equal(s.topics.get("t")!.partitions.length, 3);
    assert.equal(
      apply(s, { type: "createPartitions", name: "t", count: 2 })[0]!.errorCode,
      FoldError.INVALID_PARTITIONS,
    );
    apply(s, { type: "commitFile", key: "f1", size: 1, time: 1, batches: [meta(2, 1)] });
    assert.equal(s.objectRefs.get("f1"), 1);
    assert.equal(apply(s, { type: "deleteTopic", name: "t" })[0]!.errorCode, 0);
    assert.equal(s.objectRefs.has("f1"), false, "a deleted topic releases its objects");
  });

  it("compaction swaps segments and truncation moves the log start", () => {
    const s = new ClusterState();
    apply(s, { type: "createTopic", name: "t", topicId: "a".repeat(32), partitions: 1, configs: {} });
    apply(s, { type: "commitFile", key: "f1", size: 1, time: 1, batches: [meta(0, 2)] });
    apply(s, { type: "commitFile", key: "f2", size: 1, time: 2, batches: [meta(0, 3)] });
    apply(s, {
      type: "compact",
      key: "c1",
      size: 200,
      runs: [{ topic: "t", partition: 0, baseOffset: 0, lastOffset: 4, maxTimestamp: 1000, pos: 0, len: 200 }],
      replacedFiles: ["f1", "f2"],
    });
    const p = s.partition("t", 0)!;
    assert.equal(p.segments.length, 1);
    assert.equal(p.segments[0]!.location.store, "c");
    assert.deepEqual([...s.objectRefs.keys()], ["c1"]);
    apply(s, { type: "commitFile", key: "f3", size: 1, time: 3, batches: [meta(0, 1)] });
    apply(s, { type: "truncate", topic: "t", partition: 0, offset: 5 });
    assert.equal(p.logStartOffset, 5);
    assert.deepEqual([...s.objectRefs.keys()], ["f3"]);
  });

  it("ignores a compaction run planned for an earlier topic of the same name", () => {
    const s = new ClusterState();
    apply(s, { type: "createTopic", name: "t", topicId: "a".repeat(32), partitions: 1, configs: {} });
    apply(s, { type: "deleteTopic", name: "t" });
    apply(s, { type: "createTopic", name: "t", topicId: "b".repeat(32), partitions: 1, configs: {} });
    apply(s, { type: "commitFile", key: "f1", size: 1, time: 1, batches: [meta(0, 2)] });
    const run = { topic: "t", partition: 0, baseOffset: 0, lastOffset: 1, maxTimestamp: 1000, pos: 0, len: 100 };
    apply(s, {
      type: "compact",
      key: "old",
      size: 100,
      runs: [{ ...run, topicId: "a".repeat(32) }],
      replacedFiles: [],
    });
    assert.equal(s.partition("t", 0)!.segments[0]!.location.key, "f1", "the run for the deleted topic is ignored");
    apply(s, {
      type: "compact",
      key: "new",
      size: 100,
      runs: [{ ...run, topicId: "b".repeat(32) }],
      replacedFiles: ["f1"],
    });
    assert.equal(s.partition("t", 0)!.segments[0]!.location.key, "new");
  });

  it("round-trips through a snapshot", () => {
    const s = new ClusterState();
    apply(s, {
      type: "createTopic",
      name: "t",
      topicId: "a".repeat(32),
      partitions: 2,
      configs: { "retention.ms": "1000" },
    });
    apply(s, {
      type: "commitFile",
      key: "f1",
      size: 1,
      time: 1,
      batches: [meta(0, 2, { producerId: 3, producerEpoch: 0, baseSequence: 0 }), meta(1, 1)],
    });
    apply(s, {
      type: "commitOffsets",
      group: "g",
      offsets: [{ topic: "t", partition: 0, offset: 2, leaderEpoch: -1, metadata: null, time: 5 }],
    });
    apply(s, { type: "allocateProducerId" });
    const copy = ClusterState.fromSnapshot(s.toSnapshot());
    assert.equal(copy.toSnapshot().toString(), s.toSnapshot().toString());
    assert.equal(copy.appliedIndex, s.appliedIndex);
    assert.equal(copy.partition("t", 0)!.nextOffset, 2);
    const [dup] = copy.apply(copy.appliedIndex + 1n, {
      proposer: "x",
      seq: 1,
      commands: [
        {
          type: "commitFile",
          key: "f9",
          size: 1,
          time: 1,
          batches: [meta(0, 2, { producerId: 3, producerEpoch: 0, baseSequence: 0 })],
        },
      ],
    });
    assert.equal(dup!.batches![0]!.baseOffset, 0, "producer state survives the snapshot");
  });

  it("keeps each producer's last sequence and last timestamp per partition (DescribeProducers), in snapshots too", () => {
    const s = new ClusterState();
    apply(s, { type: "createTopic", name: "t", topicId: "a".repeat(32), partitions: 1, configs: {} });
    const producer = (producerId: number, baseSequence: number, count: number, maxTimestamp: number) =>
      meta(0, count, { producerId, producerEpoch: 2, baseSequence, maxTimestamp });
    apply(s, { type: "commitFile", key: "f1", size: 1, time: 1, batches: [producer(11, 0, 3, 500), meta(0, 1)] });
    apply(s, {
      type: "commitFile",
      key: "f2",
      size: 1,
      time: 2,
      batches: [producer(11, 3, 2, 700), producer(4, 0, 1, 600)],
    });
    const expected = [
      { producerId: 4, epoch: 2, lastSequence: 0, lastTimestamp: 600 },
      { producerId: 11, epoch: 2, lastSequence: 4, lastTimestamp: 700 },
    ];
    assert.deepEqual(s.partition("t", 0)!.producerSummaries(), expected);
    const copy = ClusterState.fromSnapshot(s.toSnapshot());
    assert.deepEqual(copy.partition("t", 0)!.producerSummaries(), expected);

    // A snapshot written before the fold kept the timestamp: unknown (−1), the rest as it was.
    const older = JSON.parse(s.toSnapshot().toString("utf8")) as {
      topics: Array<{ partitions: Array<{ prods: unknown[][] }> }>;
    };
    for (const prod of older.topics[0]!.partitions[0]!.prods) prod.length = 4;
    assert.deepEqual(
      ClusterState.fromSnapshot(Buffer.from(JSON.stringify(older)))
        .partition("t", 0)!
        .producerSummaries(),
      expected.map((e) => ({ ...e, lastTimestamp: -1 })),
    );
    for (const prod of older.topics[0]!.partitions[0]!.prods) prod[4] = "noon";
    assert.throws(
      () => ClusterState.fromSnapshot(Buffer.from(JSON.stringify(older))),
      /snapshot: producer 11 of t-0 has a last timestamp that is not a number/,
    );
  });
});
