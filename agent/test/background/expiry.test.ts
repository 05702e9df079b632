import assert from "node:assert/strict";
import winston from "winston";
import { ExpiryExtender } from "../../src/background/expiry.js";
import { startBackgroundJobs } from "../../src/background/jobs.js";
import { MemMetadataStore, MemObjectStore } from "../../src/store/mem.js";
import type { PutOptions } from "../../src/store/types.js";
import {
  closeFixture,
  createTopic,
  logger,
  openFixture,
  produceFile,
  segmentStores,
  verifyReadBack,
} from "./support.js";

/** Ingestion files written with an expiry `ttlMs` ahead, as the batcher writes them to DynamoDB. */
class ExpiringStore extends MemObjectStore {
  readonly extensions: Array<{ key: string; expiresAt: number }> = [];
  /** Keys setExpiry answers as gone. */
  readonly gone = new Set<string>();

  constructor(private readonly ttlMs: number) {
    super();
  }

  override put(key: string, data: Buffer, options?: PutOptions): Promise<void> {
    return super.put(key, data, { expiresAt: options?.expiresAt ?? new Date(Date.now() + this.ttlMs) });
  }

  override async setExpiry(key: string, expiresAt: Date): Promise<boolean> {
    this.extensions.push({ key, expiresAt: expiresAt.getTime() });
    if (this.gone.has(key)) return false;
    return super.setExpiry(key, expiresAt);
  }
}

/** A compaction store whose writes fail while `failing` is set (an unreachable bucket). */
class SwitchableStore extends MemObjectStore {
  failing = true;

  override put(key: string, data: Buffer, options?: PutOptions): Promise<void> {
    if (this.failing) return Promise.reject(new Error("The specified bucket does not exist"));
    return super.put(key, data, options);
  }
}

describe("expiry of ingestion files while compaction is stalled", () => {
  it("extends referenced files once a third of the TTL has passed, again a third of the TTL later, never compacted ones", async () => {
    const ttl = 60_000;
    const ingestion = new ExpiringStore(ttl);
    const f = await openFixture(1, { ingestion, compaction: new MemObjectStore(), metadata: new MemMetadataStore() });
    try {
      await createTopic(f, "t", 1);
      const written = Date.now();
      const key = await produceFile(f, 0, [{ topic: "t", partition: 0, records: 2 }], written);
      const gone = await produceFile(f, 0, [{ topic: "t", partition: 0, records: 1 }], written);
      ingestion.gone.add(gone);
      const extender = new ExpiryExtender({ ingestion, log: f.logs[0]!, logger }, { ttlMs: ttl });

      assert.deepEqual(await extender.runOnce(written + 19_000), { extended: [], lost: [] }, "not due yet");
      const first = await extender.runOnce(written + 21_000);
      assert.deepEqual(first, { extended: [key], lost: [gone] });
      assert.deepEqual(ingestion.extensions.at(-2), { key, expiresAt: written + 21_000 + ttl });
      // Extended files count from their new expiry; a lost file is reported once and left alone.
      assert.deepEqual(await extender.runOnce(written + 40_000), { extended: [], lost: [] });
      const second = await extender.runOnce(written + 42_000);
      assert.deepEqual(second, { extended: [key], lost: [] });
      assert.deepEqual(ingestion.extensions.at(-1), { key, expiresAt: written + 42_000 + ttl });
      assert.equal(ingestion.extensions.filter((e) => e.key === gone).length, 1);
    } finally {
      await closeFixture(f);
    }
  });

  it("the lease holder keeps acknowledged data readable through a compaction outage longer than the TTL", async function () {
    this.timeout(30_000);
    const ttl = 3000;
    const ingestion = new ExpiringStore(ttl);
    const compaction = new SwitchableStore();
    const metadata = new MemMetadataStore();
    const f = await openFixture(1, { ingestion, compaction, metadata });
    const jobs = startBackgroundJobs({
      stores: { ingestion, compaction, metadata },
      log: f.logs[0]!,
      // Each failed pass of the outage would log a warning.
      logger: winston.createLogger({ silent: true }),
      options: {
        compactionIntervalMs: 100,
        leaseRenewMs: 50,
        ingestionFilesExpire: true,
        ingestionTtlMs: ttl,
        compactor: { minAgeMs: 0 },
        gc: { graceMs: 60_000 },
      },
    });
    try {
      await createTopic(f, "t", 2);
      const keys = [
        await produceFile(f, 0, [{ topic: "t", partition: 0, records: 3 }], Date.now()),
        await produceFile(f, 0, [{ topic: "t", partition: 1, records: 2 }], Date.now()),
      ];
      // The compaction store stays unreachable for twice the TTL.
      await new Promise((r) => setTimeout(r, 2 * ttl));
      assert.deepEqual(segmentStores(f.logs[0]!, "t", 0), ["i"], "nothing was compacted during the outage");
      for (const key of keys) assert.ok((await ingestion.get(key)).length > 0, `${key} is still readable`);
      assert.equal(await verifyReadBack(f, f.logs[0]!), 2);

      compaction.failing = false;
      const deadline = Date.now() + 10_000;
      while (segmentStores(f.logs[0]!, "t", 0)[0] !== "c" || segmentStores(f.logs[0]!, "t", 1)[0] !== "c") {
        assert.ok(Date.now() < deadline, "compaction caught up after the outage");
        await new Promise((r) => setTimeout(r, 50));
      }
      assert.equal(
        await verifyReadBack(f, f.logs[0]!),
        2,
        "every acknowledged batch reads back from the compacted object",
      );
    } finally {
      await jobs.stop();
      await closeFixture(f);
    }
  });
});
