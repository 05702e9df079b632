import assert from "node:assert/strict";
import { promises as fs } from "node:fs";
import os from "node:os";
import path from "node:path";
import { eventually } from "../../../e2e/support/eventually.js";
import { startBackgroundJobs } from "../../src/background/jobs.js";
import { openFileStores } from "../../src/store/file/index.js";
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

describe("background jobs on the embedded file store (one agent, one store for everything)", () => {
  it("compacts, enforces retention and collects ingestion files and objects in one directory", async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), "warp-jobs-"));
    const stores = await openFileStores(dir);
    const f = await openFixture(1, stores);
    try {
      await createTopic(f, "t", 2, { "retention.ms": "60000" });
      await createTopic(f, "kept", 1);
      const old = Date.now() - 10 * 60_000;
      for (let i = 0; i < 3; i++) {
        await produceFile(
          f,
          0,
          [
            { topic: "t", partition: 0, records: 2 },
            { topic: "t", partition: 1, records: 1 },
            { topic: "kept", partition: 0, records: 1 },
          ],
          old + i,
        );
      }
      const ingestKeys = await listKeys(stores.ingestion, "ingest/");
      assert.equal(ingestKeys.length, 3);
      const jobs = startBackgroundJobs({
        stores,
        log: f.logs[0]!,
        logger,
        options: {
          compactionIntervalMs: 10,
          leaseRenewMs: 100,
          retentionIntervalMs: 10,
          gcIntervalMs: 10,
          gc: { graceMs: 0 },
        },
      });
      try {
        // Compaction moves the data to one object, retention drops "t" (older than retention.ms), and GC
        // deletes the ingestion files (no TTL needed on this store) once nothing references them.
        await eventually(
          async () =>
            (await listKeys(stores.ingestion, "ingest/")).length === 0 &&
            segmentStores(f.logs[0]!, "kept", 0).every((s) => s === "c"),
          { what: "compaction and GC to finish", timeoutMs: 60_000, intervalMs: 10 },
        );
      } finally {
        await jobs.stop();
      }
      assert.deepEqual(segmentStores(f.logs[0]!, "kept", 0), ["c"]);
      await f.logs[0]!.catchUp();
      for (const p of f.logs[0]!.state.topics.get("t")!.partitions) {
        assert.deepEqual(p.segments, [], "retention.ms dropped the old data");
        assert.equal(p.logStartOffset, p.nextOffset);
      }
      const compacted = await listKeys(stores.compaction, "compacted/");
      const referenced = [...f.logs[0]!.state.objectRefs.keys()];
      assert.deepEqual(compacted.sort(), referenced.sort(), "only referenced compacted objects remain");
      assert.equal(compacted.length, 1);
      assert.equal(await verifyReadBack(f, f.logs[0]!), 3);
    } finally {
      await closeFixture(f);
      await stores.close();
      await fs.rm(dir, { recursive: true, force: true });
    }
  });
});
