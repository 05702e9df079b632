import assert from "node:assert/strict";
import { eventually } from "../../../e2e/support/eventually.js";
import { startBackgroundJobs } from "../../src/background/jobs.js";
import { Lease } from "../../src/background/lease.js";
import { MemMetadataStore } from "../../src/store/mem.js";
import {
  closeFixture,
  createTopic,
  logger,
  openFixture,
  produceFile,
  segmentStores,
  verifyReadBack,
} from "./support.js";

/** Checks every 10 ms, for a generous minute. */
const POLL = { timeoutMs: 60_000, intervalMs: 10 } as const;

describe("compaction lease", () => {
  it("has one holder; another takes over only after the holder stops renewing and its lease expired", async () => {
    const store = new MemMetadataStore();
    const a = new Lease({ store, key: "lease/compaction", owner: "a", renewMs: 200, logger });
    const b = new Lease({ store, key: "lease/compaction", owner: "b", renewMs: 200, logger });
    assert.equal(await a.attempt(), true);
    assert.equal(await b.attempt(), false);
    assert.equal(await a.attempt(), true, "the holder renews");
    assert.ok(a.isHeld() && !b.isHeld());

    a.paused = true; // hung holder: no renewals
    a.start();
    b.start();
    await eventually(() => b.isHeld(), { ...POLL, what: "b to acquire the lease" });
    assert.equal(a.isHeld(), false, "the old holder stopped believing it holds the lease before it expired");
    const item = await store.getItem("lease/compaction");
    assert.equal(JSON.parse(item!.value.toString()).owner, "b");

    // The old holder wakes up: its renewal fails and it does not take the lease back.
    a.paused = false;
    assert.equal(await a.attempt(), false);
    assert.ok(b.isHeld() && !a.isHeld());
    await a.stop();
    await b.stop();
    assert.equal(await store.getItem("lease/compaction"), null, "a holder releases the lease when it stops");
  });

  it("an agent that does not hold it reads the lease and writes nothing while another holds it", async () => {
    /** Counts conditional puts: on DynamoDB one that fails is billed as a write. */
    class CountingStore extends MemMetadataStore {
      puts = 0;
      override async putItem(...args: Parameters<MemMetadataStore["putItem"]>): Promise<number | null> {
        this.puts++;
        return super.putItem(...args);
      }
    }
    const store = new CountingStore();
    const a = new Lease({ store, key: "lease/compaction", owner: "a", renewMs: 200, logger });
    const b = new Lease({ store, key: "lease/compaction", owner: "b", renewMs: 200, logger });
    assert.equal(await a.attempt(), true);
    store.puts = 0;
    for (let i = 0; i < 3; i++) assert.equal(await b.attempt(), false);
    assert.equal(store.puts, 0, "no put (billed even when it fails) while the lease is held by another");
    // A holder whose write landed but whose answer was lost finds its own lease and keeps it.
    const again = new Lease({ store, key: "lease/compaction", owner: "a", renewMs: 200, logger });
    assert.equal(await again.attempt(), true);
    assert.equal(JSON.parse((await store.getItem("lease/compaction"))!.value.toString()).owner, "a");
    // Released: the next agent to ask takes it with one put.
    await again.stop();
    store.puts = 0;
    assert.equal(await b.attempt(), true);
    assert.equal(store.puts, 1);
    await a.stop();
    await b.stop();
  });

  it("a deferring agent leaves a free lease to the others, and takes it once nobody has for deferAtMostMs", async () => {
    const store = new MemMetadataStore();
    const key = "lease/compaction";
    const a = new Lease({ store, key, owner: "a", renewMs: 200, logger, defer: () => true, deferAtMostMs: 300 });
    const b = new Lease({ store, key, owner: "b", renewMs: 200, logger });
    assert.equal(await a.attempt(), false, "free, but a leaves it to the others");
    assert.equal(await b.attempt(), true);
    assert.equal(await a.attempt(), false);
    await b.release();
    assert.equal(b.isHeld(), false);
    assert.equal(await store.getItem(key), null, "released: the item is gone at once");
    assert.equal(await a.attempt(), false, "a's wait starts again from this sight of a free lease");
    await new Promise((r) => setTimeout(r, 350));
    assert.equal(await a.attempt(), true, "nobody took it for deferAtMostMs: a does");
    assert.equal(await a.attempt(), true, "and renews it, deferring or not");
    assert.equal(await b.attempt(), false, "b, released, competes as before");
    await a.stop();
    await b.stop();
  });

  it("the sequencer's holder hands the compaction lease over between passes and leaves it to the others", async () => {
    const f = await openFixture(2);
    try {
      const stores = { ingestion: f.ingestion, compaction: f.compaction, metadata: f.metadata };
      const options = { compactionIntervalMs: 20, leaseRenewMs: 200 };
      // Agent 0 holds the sequencer's lease; alone, it compacts too.
      let othersLive = false;
      const sequencer = startBackgroundJobs({ stores, log: f.logs[0]!, logger, options, handOver: () => othersLive });
      await eventually(() => sequencer.isLeader(), { ...POLL, what: "agent 0, alone, to take the lease" });
      // Agent 1 joins: agent 0 gives the lease up after its next pass, and agent 1 takes it.
      othersLive = true;
      const other = startBackgroundJobs({ stores, log: f.logs[1]!, logger, options });
      await eventually(() => other.isLeader(), { ...POLL, what: "agent 0 to hand the lease over to agent 1" });
      assert.equal(sequencer.isLeader(), false);
      await new Promise((r) => setTimeout(r, 1500));
      assert.ok(other.isLeader() && !sequencer.isLeader(), "agent 0 does not take it back while agent 1 renews it");
      // Agent 1 stops while agent 0 still counts it live: agent 0 takes the lease after two lifetimes.
      await other.stop();
      await eventually(() => sequencer.isLeader(), { ...POLL, what: "agent 0 to take it when nobody else does" });
      await sequencer.stop();
    } finally {
      await closeFixture(f);
    }
  });

  it("moves compaction to another agent when the holder stops, and the new holder compacts", async () => {
    const f = await openFixture(2);
    try {
      await createTopic(f, "t", 1);
      const stores = { ingestion: f.ingestion, compaction: f.compaction, metadata: f.metadata };
      const options = { compactionIntervalMs: 20, leaseRenewMs: 200, compactor: { minAgeMs: 0 } };
      const compactedBy: number[] = [];
      const jobs = f.logs.map((log, i) =>
        startBackgroundJobs({
          stores,
          log,
          logger,
          options,
          hooks: { onCompaction: (s) => s.key && compactedBy.push(i) },
        }),
      );
      await eventually(() => jobs.some((j) => j.isLeader()), { ...POLL, what: "one agent to hold the lease" });
      const holder = jobs.findIndex((j) => j.isLeader());
      assert.equal(jobs.filter((j) => j.isLeader()).length, 1);
      await produceFile(f, 0, [{ topic: "t", partition: 0, records: 2 }], Date.now() - 10);
      await eventually(() => compactedBy.length === 1, { ...POLL, what: "the holder to compact" });
      assert.deepEqual(compactedBy, [holder]);

      await jobs[holder]!.stop();
      const other = 1 - holder;
      await eventually(() => jobs[other]!.isLeader(), { ...POLL, what: "the other agent to take the lease" });
      await produceFile(f, 1, [{ topic: "t", partition: 0, records: 3 }], Date.now() - 10);
      await eventually(() => compactedBy.length >= 2, { ...POLL, what: "the new holder to compact" });
      assert.equal(compactedBy[1], other);
      await jobs[other]!.stop();
      await f.logs[0]!.catchUp();
      assert.ok(segmentStores(f.logs[0]!, "t", 0).every((s) => s === "c"));
      assert.equal(await verifyReadBack(f, f.logs[0]!), 2);
    } finally {
      await closeFixture(f);
    }
  });
});
