/**
 * A partition's log start, moved by DeleteRecords (TopicService.deleteRecords) through the `truncate`
 * command retention uses: inside a segment or at its edge, never back, never past the high watermark,
 * never onto a re-created topic; the same on every agent folding the log and after a snapshot; and
 * compaction, retention and GC afterwards never make what lies below it readable again.
 */
import assert from "node:assert/strict";
import { Compactor } from "../../src/background/compactor.js";
import { GarbageCollector } from "../../src/background/gc.js";
import { planRetention, RetentionEnforcer } from "../../src/background/retention.js";
import { ObjectCache } from "../../src/fetch/object-cache.js";
import { PartitionReader } from "../../src/fetch/reader.js";
import type { BatchMeta, Command } from "../../src/metadata/commands.js";
import { ClusterState, FoldError } from "../../src/metadata/state.js";
import { LOG_UNAVAILABLE, TopicService } from "../../src/metadata/topics.js";
import { iterateBatches } from "../../src/records/record-batch.js";
import {
  closeFixture,
  createTopic,
  listKeys,
  logger,
  openFixture,
  produceFile,
  verifyReadBack,
} from "../background/support.js";
import type { Fixture } from "../background/support.js";

const T0 = Date.UTC(2026, 0, 1);
const TOPIC_A = "a".repeat(32);
const TOPIC_B = "b".repeat(32);

function apply(state: ClusterState, ...commands: Command[]) {
  return state.apply(state.appliedIndex + 1n, { proposer: "test", seq: 1, commands });
}

function batch(count: number): BatchMeta {
  return {
    topic: "t",
    partition: 0,
    pos: 0,
    len: 100,
    count,
    maxTimestamp: 1000,
    producerId: -1,
    producerEpoch: -1,
    baseSequence: -1,
  };
}

/** Topic t (id `topicId`) with files f1, f2, f3 of three records each: segments 0-2, 3-5, 6-8. */
function threeSegments(topicId = TOPIC_A): ClusterState {
  const s = new ClusterState();
  apply(s, { type: "createTopic", name: "t", topicId, partitions: 1, configs: {} });
  for (const key of ["f1", "f2", "f3"]) apply(s, { type: "commitFile", key, size: 100, time: 1, batches: [batch(3)] });
  return s;
}

const bounds = (s: ClusterState) => s.partition("t", 0)!.segments.map((g) => [g.baseOffset, g.lastOffset]);

describe("the log start (DeleteRecords and retention's truncate)", () => {
  describe("in the fold", () => {
    it("moves inside a segment: that segment stays whole, those wholly below go with their objects", () => {
      const s = threeSegments();
      const [r] = apply(s, { type: "truncate", topic: "t", partition: 0, offset: 4, topicId: TOPIC_A });
      assert.deepEqual(r, { errorCode: FoldError.NONE, logStartOffset: 4 });
      const p = s.partition("t", 0)!;
      assert.equal(p.logStartOffset, 4);
      assert.deepEqual(bounds(s), [
        [3, 5],
        [6, 8],
      ]);
      assert.deepEqual([...s.objectRefs.keys()].sort(), ["f2", "f3"], "f1 is left to garbage collection");
      assert.equal(p.bytes, 200);
    });

    it("never moves back, and never past the high watermark", () => {
      const s = threeSegments();
      apply(s, { type: "truncate", topic: "t", partition: 0, offset: 4, topicId: TOPIC_A });
      const [back] = apply(s, { type: "truncate", topic: "t", partition: 0, offset: 1, topicId: TOPIC_A });
      assert.deepEqual(back, { errorCode: FoldError.NONE, logStartOffset: 4 });
      const [past] = apply(s, { type: "truncate", topic: "t", partition: 0, offset: 50, topicId: TOPIC_A });
      assert.deepEqual(past, { errorCode: FoldError.NONE, logStartOffset: 9 });
      assert.deepEqual(bounds(s), []);
      apply(s, { type: "commitFile", key: "f4", size: 100, time: 2, batches: [batch(2)] });
      assert.deepEqual(bounds(s), [[9, 10]], "offsets go on from the high watermark");
    });

    it("leaves a topic re-created since the truncation was decided alone (entries without a topic id go by name)", () => {
      const s = threeSegments();
      apply(s, { type: "deleteTopic", name: "t" });
      apply(s, { type: "createTopic", name: "t", topicId: TOPIC_B, partitions: 1, configs: {} });
      apply(s, { type: "commitFile", key: "g1", size: 100, time: 1, batches: [batch(5)] });
      const [stale] = apply(s, { type: "truncate", topic: "t", partition: 0, offset: 4, topicId: TOPIC_A });
      assert.equal(stale!.errorCode, FoldError.UNKNOWN_TOPIC_OR_PARTITION);
      assert.equal(s.partition("t", 0)!.logStartOffset, 0);
      const [byName] = apply(s, { type: "truncate", topic: "t", partition: 0, offset: 2 });
      assert.deepEqual(byName, { errorCode: FoldError.NONE, logStartOffset: 2 });
    });

    it("is carried by snapshots", () => {
      const s = threeSegments();
      apply(s, { type: "truncate", topic: "t", partition: 0, offset: 4, topicId: TOPIC_A });
      const restored = ClusterState.fromSnapshot(s.toSnapshot());
      assert.equal(restored.partition("t", 0)!.logStartOffset, 4);
      assert.deepEqual(bounds(restored), bounds(s));
      assert.deepEqual(restored.toSnapshot(), s.toSnapshot());
    });
  });

  describe("DeleteRecords on agents sharing a log, then compaction, retention and GC", () => {
    let f: Fixture;
    let topics: TopicService;
    beforeEach(async () => {
      f = await openFixture(2);
      topics = new TopicService(f.logs[1]!, { autoCreate: false, defaultPartitions: 1, logger });
      await createTopic(f, "t", 2);
      for (let i = 0; i < 3; i++) await produceFile(f, 0, [{ topic: "t", partition: 0, records: 3 }], T0 + i);
      await f.logs[1]!.catchUp();
    });
    afterEach(async () => {
      await closeFixture(f);
    });

    it("answers each partition as Kafka does, and every agent folds the new log start", async () => {
      const results = await topics.deleteRecords(
        [
          { topic: "t", partition: 0, offset: 4n },
          { topic: "t", partition: 1, offset: -1n },
          { topic: "t", partition: 1, offset: 1n },
          { topic: "t", partition: 0, offset: -2n },
          { topic: "t", partition: 2, offset: 0n },
          { topic: "nope", partition: 0, offset: 0n },
        ],
        true,
      );
      assert.deepEqual(results, [
        { errorCode: FoldError.NONE, lowWatermark: 4n },
        { errorCode: FoldError.NONE, lowWatermark: 0n },
        { errorCode: FoldError.OFFSET_OUT_OF_RANGE, lowWatermark: -1n },
        { errorCode: FoldError.OFFSET_OUT_OF_RANGE, lowWatermark: -1n },
        { errorCode: FoldError.UNKNOWN_TOPIC_OR_PARTITION, lowWatermark: -1n },
        { errorCode: FoldError.UNKNOWN_TOPIC_OR_PARTITION, lowWatermark: -1n },
      ]);
      await f.logs[0]!.catchUp();
      assert.equal(f.logs[0]!.state.partition("t", 0)!.logStartOffset, 4, "the other agent folds it too");

      assert.deepEqual(
        await topics.deleteRecords(
          [
            { topic: "t", partition: 0, offset: 2n },
            { topic: "t", partition: 0, offset: 10n },
            { topic: "t", partition: 0, offset: -1n },
          ],
          true,
        ),
        [
          { errorCode: FoldError.NONE, lowWatermark: 4n },
          { errorCode: FoldError.OFFSET_OUT_OF_RANGE, lowWatermark: -1n },
          { errorCode: FoldError.NONE, lowWatermark: 9n },
        ],
        "below the log start nothing changes; beyond the high watermark is out of range; -1 is the high watermark",
      );
    });

    it("does not answer from a view of the log that may trail it: retriable instead of out of range", async () => {
      // This agent's view has offsets 0-8; another agent appends 9-11 that this one has not read.
      await produceFile(f, 0, [{ topic: "t", partition: 0, records: 3 }], T0 + 3);
      const results = await topics.deleteRecords(
        [
          { topic: "t", partition: 0, offset: 10n },
          { topic: "t", partition: 0, offset: -1n },
          { topic: "t", partition: 0, offset: 3n },
        ],
        false,
      );
      assert.deepEqual(
        results.map((r) => r.errorCode),
        [LOG_UNAVAILABLE, LOG_UNAVAILABLE, FoldError.NONE],
      );
    });

    it("keeps what lies below the log start unreadable through compaction, retention and GC", async () => {
      await topics.deleteRecords([{ topic: "t", partition: 0, offset: 4n }], true);
      const log = f.logs[0]!;
      const compactor = new Compactor(
        { ingestion: f.ingestion, compaction: f.compaction, log, logger, isLeader: () => true },
        { minAgeMs: 0, deleteCompactedIngestionFiles: false },
      );
      const stats = await compactor.runOnce(T0 + 60_000);
      assert.ok(stats.appliedRuns > 0, "the remaining segments were compacted");
      const p = log.state.partition("t", 0)!;
      assert.equal(p.logStartOffset, 4, "compaction leaves the log start where it is");
      assert.ok(p.segments.every((s) => s.location.store === "c"));
      assert.ok(p.segments[0]!.baseOffset <= 4 && p.segments[0]!.lastOffset >= 4);

      // A read at the log start gets the whole batch holding it (base offset 3), as Kafka serves it.
      const reader = new PartitionReader(f.ingestion, f.compaction, new ObjectCache(1 << 20));
      const read = await reader.read(p, 4, 1 << 20);
      const first = iterateBatches(Buffer.concat(read.chunks)).next();
      assert.ok(!first.done);
      assert.equal(first.value.baseOffset, 3);
      assert.equal(await verifyReadBack(f, log), 1, "the batch wholly above the log start reads back intact");

      // Retention cuts from the log start: a cut at a segment boundary below it changes nothing.
      assert.deepEqual(planRetention(log.state, T0 + 60_000), []);
      await f.logs[1]!.propose([{ type: "alterConfigs", name: "t", set: { "retention.ms": "1000" }, replace: false }]);
      await new RetentionEnforcer({ log, logger }).runOnce(T0 + 120_000);
      assert.equal(p.logStartOffset, 9, "retention moved it on to the high watermark");

      // Nothing references the ingestion file below the log start any more: GC deletes it.
      const gc = new GarbageCollector(
        { ingestion: f.ingestion, compaction: f.compaction, log, logger },
        { graceMs: 0, collectIngestionFiles: true },
      );
      await gc.runOnce(T0 + 200_000);
      await gc.runOnce(T0 + 300_000);
      assert.deepEqual(await listKeys(f.ingestion, "ingest/"), []);
      await f.logs[1]!.catchUp();
      assert.equal(f.logs[1]!.state.partition("t", 0)!.logStartOffset, 9);
    });
  });
});
