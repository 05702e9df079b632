import assert from "node:assert/strict";
import { startBackgroundJobs, type BackgroundJobOptions, type BackgroundJobHooks } from "../../src/background/jobs.js";
import type { CompactionStats } from "../../src/background/compactor.js";
import { ClusterState } from "../../src/metadata/state.js";
import * as metrics from "../../src/metrics/metrics.js";
import {
  closeFixture,
  createTopic,
  logger,
  openFixture,
  produceFile,
  verifyReadBack,
  type Fixture,
} from "./support.js";

/**
 * Background jobs on every agent of `f`, at test pace: passes every 5 ms, GC with no grace (compacted
 * objects go as soon as they are unreferenced; ingestion files are left alone: with no grace, GC would
 * race files written but not yet committed).
 */
function jobsOnEveryAgent(
  f: Fixture,
  options: Pick<BackgroundJobOptions, "compactor" | "archiver">,
  hooks: BackgroundJobHooks = {},
) {
  const stores = { ingestion: f.ingestion, compaction: f.compaction, metadata: f.metadata };
  return f.logs.map((log) =>
    startBackgroundJobs({
      stores,
      log,
      logger,
      options: {
        compactionIntervalMs: 5,
        leaseRenewMs: 20,
        gcIntervalMs: 5,
        gc: { graceMs: 0, collectIngestionFiles: false },
        ...options,
      },
      hooks,
    }),
  );
}

describe("background jobs", () => {
  it("archives old runs into index pages while three agents produce and compact, losing nothing", async () => {
    const f = await openFixture(3);
    try {
      await createTopic(f, "a", 2);
      const jobs = jobsOnEveryAgent(f, {
        compactor: { minAgeMs: 0, maxRunBytes: 1500, mergeAfterMs: 0, mergeRunsBelowBytes: 600 },
        archiver: { pageRuns: 2, minAgeMs: 0 },
      });
      await Promise.all(
        f.logs.map(async (_, agent) => {
          for (let i = 0; i < 40; i++) {
            const batches = [{ topic: "a", partition: (i + agent) % 2, records: 2, valueBytes: 200 }];
            await produceFile(f, agent, batches, Date.now());
            await new Promise((r) => setTimeout(r, 1));
          }
        }),
      );
      // Passes go on until each partition's runs are paged (more than 4 compacted runs get a page).
      const paged = () =>
        [0, 1].every((p) => f.logs[0]!.state.partition("a", p)!.segments.some((s) => s.location.store === "p"));
      for (let wait = 0; wait < 200 && !paged(); wait++) {
        await new Promise((r) => setTimeout(r, 25));
        await f.logs[0]!.catchUp();
      }
      for (const j of jobs) await j.stop();
      assert.ok(paged(), "both partitions hold index pages");
      for (const log of f.logs) assert.equal(await verifyReadBack(f, log), 3 * 40);
      const snapshots = f.logs.map((l) => l.state.toSnapshot().toString());
      assert.equal(new Set(snapshots).size, 1, "all agents folded the same state");
      const restored = ClusterState.fromSnapshot(f.logs[0]!.state.toSnapshot());
      assert.deepEqual([...restored.objectRefs].sort(), [...f.logs[0]!.state.objectRefs].sort());
      // GC ran with no grace: every page and object the state references is still there.
      const left = new Set<string>();
      for await (const o of f.compaction.list("compacted/")) left.add(o.key);
      for (const k of f.logs[0]!.state.objectRefs.keys())
        if (k.startsWith("compacted/")) assert.ok(left.has(k), `${k} is referenced and kept`);
    } finally {
      await closeFixture(f);
    }
  });

  it("compacts and merges while three agents keep producing, without losing or moving an offset", async () => {
    const f = await openFixture(3);
    try {
      await createTopic(f, "a", 4);
      await createTopic(f, "b", 1);
      const counter = async (c: typeof metrics.compactionRuns) => (await c.get()).values[0]?.value ?? 0;
      const runsBefore = await counter(metrics.compactionRuns);
      const bytesBefore = await counter(metrics.compactedBytes);
      const stats: CompactionStats[] = [];
      const jobs = jobsOnEveryAgent(
        f,
        {
          compactor: {
            minAgeMs: 0,
            maxRunBytes: 1500,
            mergeAfterMs: 0,
            mergeRunsBelowBytes: 1200,
            maxObjectBytes: 20_000,
          },
        },
        { onCompaction: (s) => stats.push(s) },
      );
      await Promise.all(
        f.logs.map(async (_, agent) => {
          for (let i = 0; i < 40; i++) {
            const batches = [
              { topic: "a", partition: (i + agent) % 4, records: 1 + (i % 3) },
              { topic: "a", partition: (i + agent + 1) % 4, records: 2 },
              { topic: "b", partition: 0, records: 1, valueBytes: 50 },
            ];
            await produceFile(f, agent, batches, Date.now());
            await new Promise((r) => setTimeout(r, 1));
          }
        }),
      );
      for (const j of jobs) await j.stop();
      assert.ok(stats.length > 1, `compaction ran (${stats.length} passes)`);
      assert.ok(stats.some((s) => s.appliedRuns > 0));
      const written = stats.filter((s) => s.key !== null);
      assert.equal(
        (await counter(metrics.compactionRuns)) - runsBefore,
        written.length,
        "warp_compaction_runs_total counts passes",
      );
      assert.equal(
        (await counter(metrics.compactedBytes)) - bytesBefore,
        written.reduce((n, s) => n + s.bytes, 0),
      );
      // Whatever state compaction left, every offset reads back identically on every agent.
      for (const log of f.logs) assert.equal(await verifyReadBack(f, log), 3 * 40 * 3);
      const snapshots = f.logs.map((l) => l.state.toSnapshot().toString());
      assert.equal(new Set(snapshots).size, 1, "all agents folded the same state");
      // A restarted agent (from a snapshot) holds the same index, object references included.
      const restored = ClusterState.fromSnapshot(f.logs[0]!.state.toSnapshot());
      assert.deepEqual([...restored.objectRefs].sort(), [...f.logs[0]!.state.objectRefs].sort());
      // GC ran with no grace: only referenced compacted objects remain.
      const left: string[] = [];
      for await (const o of f.compaction.list("compacted/")) left.push(o.key);
      const referenced = [...f.logs[0]!.state.objectRefs.keys()].filter((k) => k.startsWith("compacted/"));
      assert.ok(
        referenced.every((k) => left.includes(k)),
        "no referenced object was collected",
      );
    } finally {
      await closeFixture(f);
    }
  });
});
