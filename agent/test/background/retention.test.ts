import assert from "node:assert/strict";
import { Compactor } from "../../src/background/compactor.js";
import { GarbageCollector, keyTime } from "../../src/background/gc.js";
import { planRetention, RetentionEnforcer } from "../../src/background/retention.js";
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
const MINUTE = 60_000;

describe("retention", () => {
  let f: Fixture;
  beforeEach(async () => {
    f = await openFixture(2);
  });
  afterEach(async () => {
    await closeFixture(f);
  });

  it("truncates by retention.ms at segment boundaries, by append time and record time", async () => {
    await createTopic(f, "short", 2, { "retention.ms": String(10 * MINUTE) });
    await createTopic(f, "forever", 1, { "retention.ms": "-1" });
    await createTopic(f, "default", 1);
    for (let i = 0; i < 4; i++) {
      await produceFile(
        f,
        i % 2,
        [
          { topic: "short", partition: 0, records: 2 },
          { topic: "short", partition: 1, records: 3 },
          { topic: "forever", partition: 0, records: 1 },
          { topic: "default", partition: 0, records: 1 },
        ],
        T0 + i * MINUTE,
      );
    }
    // Records stamped long ago but appended now are kept for retention.ms after they were appended.
    await produceFile(
      f,
      0,
      [{ topic: "short", partition: 1, records: 1, timestamp: T0 - 1000 * MINUTE }],
      T0 + 4 * MINUTE,
    );

    const retention = new RetentionEnforcer({ log: f.logs[1]!, logger });
    assert.deepEqual(await retention.runOnce(T0 + 10 * MINUTE), [], "nothing is older than 10 minutes yet");
    const cuts = await retention.runOnce(T0 + 12 * MINUTE + 1);
    const shortId = f.logs[1]!.state.topics.get("short")!.topicId;
    assert.deepEqual(cuts, [
      { type: "truncate", topic: "short", partition: 0, offset: 6, topicId: shortId },
      { type: "truncate", topic: "short", partition: 1, offset: 9, topicId: shortId },
    ]);
    await f.logs[0]!.catchUp();
    const p0 = f.logs[0]!.state.partition("short", 0)!;
    assert.equal(p0.logStartOffset, 6);
    assert.equal(p0.segments.length, 1);
    assert.equal(
      f.logs[0]!.state.partition("short", 1)!.segments.length,
      2,
      "the old-timestamped batch appended late is kept",
    );
    assert.equal(await verifyReadBack(f, f.logs[0]!), 1 + 2 + 4 + 4);

    const all = await retention.runOnce(T0 + 20 * MINUTE);
    assert.deepEqual(
      all.map((c) => [c.topic, c.partition, c.offset]),
      [
        ["short", 0, 8],
        ["short", 1, 13],
      ],
    );
    assert.equal(f.logs[1]!.state.partition("short", 1)!.segments.length, 0);
    assert.equal(f.logs[1]!.state.partition("short", 1)!.nextOffset, 13, "offsets go on from the high watermark");
    assert.deepEqual(
      planRetention(f.logs[1]!.state, T0 + 6 * 24 * 60 * MINUTE),
      [],
      "default retention (7 days) not reached yet",
    );
  });

  it("keeps everything of a topic whose cleanup.policy is compact alone; compact,delete is retained by time", async () => {
    await createTopic(f, "changelog", 1, { "retention.ms": String(MINUTE), "cleanup.policy": "compact" });
    await createTopic(f, "both", 1, { "retention.ms": String(MINUTE), "cleanup.policy": "compact,delete" });
    for (let i = 0; i < 3; i++)
      await produceFile(
        f,
        0,
        [
          { topic: "changelog", partition: 0, records: 1 },
          { topic: "both", partition: 0, records: 1 },
        ],
        T0 + i,
      );
    const cuts = planRetention(f.logs[0]!.state, T0 + 60 * MINUTE);
    assert.deepEqual(
      cuts.map((c) => [c.topic, c.offset]),
      [["both", 3]],
      "a compacted topic's records are not compacted by key here, so none may go",
    );
  });

  it("truncates by retention.bytes keeping at least that many bytes, and applies config changes", async () => {
    await createTopic(f, "t", 1, { "retention.bytes": "-1" });
    for (let i = 0; i < 6; i++)
      await produceFile(f, 0, [{ topic: "t", partition: 0, records: 1, valueBytes: 100 }], T0 + i);
    const p = f.logs[0]!.state.partition("t", 0)!;
    const len = p.segments[0]!.location.len;
    assert.deepEqual(planRetention(f.logs[0]!.state, T0), []);
    await f.logs[1]!.propose([
      { type: "alterConfigs", name: "t", set: { "retention.bytes": String(2 * len + 1) }, replace: false },
    ]);
    const retention = new RetentionEnforcer({ log: f.logs[0]!, logger });
    const cuts = await retention.runOnce(T0);
    assert.deepEqual(
      cuts,
      [{ type: "truncate", topic: "t", partition: 0, offset: 3, topicId: f.logs[0]!.state.topics.get("t")!.topicId }],
      "three segments are kept (dropping a fourth would leave less than retention.bytes)",
    );
    assert.equal(p.bytes, 3 * len);
    assert.deepEqual(await retention.runOnce(T0), [], "nothing more to do");
  });

  it("lets GC delete compacted objects once retention left them unreferenced, after the grace period", async () => {
    await createTopic(f, "t", 1, { "retention.ms": String(MINUTE) });
    await createTopic(f, "other", 1);
    const compactor = new Compactor(
      { ingestion: f.ingestion, compaction: f.compaction, log: f.logs[0]!, logger },
      { mergeRunsBelowBytes: 0 },
    );
    await produceFile(f, 0, [{ topic: "t", partition: 0, records: 2 }], T0);
    const old = await compactor.runOnce(T0 + 5000);
    await produceFile(
      f,
      1,
      [
        { topic: "t", partition: 0, records: 2 },
        { topic: "other", partition: 0, records: 1 },
      ],
      T0 + 10 * MINUTE,
    );
    const recent = await compactor.runOnce(T0 + 10 * MINUTE + 5000);
    assert.deepEqual(segmentStores(f.logs[0]!, "t", 0), ["c", "c"]);

    const gc = new GarbageCollector(
      { ingestion: f.ingestion, compaction: f.compaction, log: f.logs[1]!, logger },
      { graceMs: 5 * MINUTE },
    );
    const now = T0 + 11 * MINUTE;
    assert.deepEqual((await gc.runOnce(now)).deletedCompacted, [], "everything is referenced");
    await new RetentionEnforcer({ log: f.logs[1]!, logger }).runOnce(now);
    assert.deepEqual(segmentStores(f.logs[1]!, "t", 0), ["c"]);
    assert.equal(f.logs[1]!.state.objectRefs.has(old.key!), false);

    assert.deepEqual((await gc.runOnce(now)).deletedCompacted, [], "first seen unreferenced: within the grace period");
    assert.deepEqual((await gc.runOnce(now + 4 * MINUTE)).deletedCompacted, [], "still within the grace period");
    assert.deepEqual((await gc.runOnce(now + 5 * MINUTE)).deletedCompacted, [old.key]);
    assert.deepEqual(await listKeys(f.compaction, "compacted/"), [recent.key]);
    assert.equal(await verifyReadBack(f, f.logs[0]!), 2, "the batches after the log start still read back");
  });

  it("collects unreferenced ingestion files only when asked (stores without TTL), sparing young uncommitted ones", async () => {
    await createTopic(f, "t", 1, { "retention.ms": String(MINUTE) });
    const committed = await produceFile(f, 0, [{ topic: "t", partition: 0, records: 1 }], T0);
    const kept = await produceFile(f, 0, [{ topic: "t", partition: 0, records: 1 }], T0 + 10 * MINUTE);
    const uncommitted = `ingest/agent1-${(T0 + 11 * MINUTE).toString(36)}-zz`;
    await f.ingestion.put(uncommitted, Buffer.from("written, commit in flight"));
    await new RetentionEnforcer({ log: f.logs[0]!, logger }).runOnce(T0 + 10 * MINUTE);
    assert.equal(f.logs[0]!.state.objectRefs.has(committed), false);
    assert.equal(keyTime(uncommitted), T0 + 11 * MINUTE);

    const ttlStores = new GarbageCollector(
      { ingestion: f.ingestion, compaction: f.compaction, log: f.logs[0]!, logger },
      { graceMs: MINUTE },
    );
    assert.deepEqual((await ttlStores.runOnce(T0 + 12 * MINUTE)).deletedIngestion, []);
    assert.deepEqual((await ttlStores.runOnce(T0 + 30 * MINUTE)).deletedIngestion, [], "left to the store's TTL");

    const gc = new GarbageCollector(
      { ingestion: f.ingestion, compaction: f.compaction, log: f.logs[0]!, logger },
      { graceMs: MINUTE, collectIngestionFiles: true },
    );
    assert.deepEqual((await gc.runOnce(T0 + 11 * MINUTE + 30_000)).deletedIngestion, []);
    assert.deepEqual(
      (await gc.runOnce(T0 + 11 * MINUTE + 59_000)).deletedIngestion,
      [],
      "the uncommitted file is younger than the grace period",
    );
    const later = await gc.runOnce(T0 + 12 * MINUTE + 30_000);
    assert.deepEqual(later.deletedIngestion, [committed, uncommitted].sort());
    assert.deepEqual(await listKeys(f.ingestion, ""), [kept]);
  });

  it("parses creation times from object keys", () => {
    assert.equal(keyTime("compacted/1767225600000-abcdef"), 1767225600000);
    assert.equal(keyTime(`ingest/0a1b2c3d-${(1767225600000).toString(36)}-1f`), 1767225600000);
    assert.equal(keyTime("something/else"), null);
  });
});
