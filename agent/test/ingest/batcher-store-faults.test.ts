/**
 * The batcher under store failures: a file whose write fails while the previous file is still being
 * committed fails its own producers only (with a retriable IngestionError) and does not take the
 * process down as an unhandled rejection; the files around it are committed.
 */
import assert from "node:assert/strict";
import { componentLogger } from "../../../common/logger.js";
import { IngestionBatcher, IngestionError } from "../../src/ingest/batcher.js";
import type { IncomingBatch } from "../../src/ingest/batcher.js";
import { IngestionHealth } from "../../src/ingest/health.js";
import { MemObjectStore } from "../../src/store/mem.js";
import type { PutOptions } from "../../src/store/types.js";
import { incomingBatch, openLogWithTopic } from "./support.js";

/** The batcher reads only the header; the bytes are stored verbatim. */
const batch = (partition: number): IncomingBatch => incomingBatch(partition, 70);

/** The first put waits until released (a slow write); the second fails at once. */
class FaultyObjectStore extends MemObjectStore {
  puts = 0;
  gate: Promise<void> = Promise.resolve();
  override async put(key: string, data: Buffer, options?: PutOptions): Promise<void> {
    const n = this.puts++;
    if (n === 0) await this.gate;
    if (n === 1) throw new Error("injected store failure");
    return super.put(key, data, options);
  }
}

describe("ingestion batcher: store failures", () => {
  it("fails only the file whose write failed, without an unhandled rejection", async () => {
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown): void => void unhandled.push(reason);
    const listeners = process.listeners("unhandledRejection");
    process.removeAllListeners("unhandledRejection");
    process.on("unhandledRejection", onUnhandled);
    try {
      const log = await openLogWithTopic(3);
      const store = new FaultyObjectStore();
      const batcher = new IngestionBatcher({
        store,
        log,
        batchTimeoutMs: 1_000_000,
        maxFileBytes: 64,
        keyPrefix: "test/",
        logger: componentLogger("test"),
      });
      let release!: () => void;
      store.gate = new Promise<void>((r) => (release = r));
      // maxFileBytes 64: each add seals its own file at once.
      const first = batcher.add([batch(0)]);
      const second = batcher.add([batch(1)]);
      const third = batcher.add([batch(2)]);
      const secondOutcome = second.then(
        () => "acknowledged",
        (err: unknown) => err,
      );
      // Let the second file's write fail while the first file is still being written.
      await new Promise((r) => setTimeout(r, 50));
      release();
      const [a] = await first;
      const [c] = await third;
      const e = await secondOutcome;
      assert.ok(
        e instanceof IngestionError,
        `the failed file's producer gets a retriable IngestionError (got ${String(e)})`,
      );
      assert.equal(a!.errorCode, 0);
      assert.equal(c!.errorCode, 0);
      await batcher.close();
      await log.close();
      await new Promise((r) => setTimeout(r, 10));
      assert.deepEqual(unhandled, []);
    } finally {
      process.removeListener("unhandledRejection", onUnhandled);
      for (const l of listeners) process.on("unhandledRejection", l);
    }
  });

  it("tells its IngestionHealth of stuck, failed and succeeding files", async () => {
    const log = await openLogWithTopic(3);
    const store = new FaultyObjectStore();
    let release!: () => void;
    store.gate = new Promise<void>((r) => (release = r));
    const health = new IngestionHealth({ stuckAfterMs: 30, rememberFailureMs: 60_000 });
    const batcher = new IngestionBatcher({
      store,
      log,
      batchTimeoutMs: 1_000_000,
      maxFileBytes: 64,
      keyPrefix: "test/",
      logger: componentLogger("test"),
      health,
    });
    const first = batcher.add([batch(0)]); // its write waits for the gate
    await new Promise((r) => setTimeout(r, 60));
    assert.match(health.problem() ?? "", /pending/, "a write held past stuckAfterMs is a problem");
    release();
    await first;
    assert.equal(health.problem(), null);
    await assert.rejects(batcher.add([batch(1)]), IngestionError); // the second put fails
    assert.match(health.problem() ?? "", /failed .* ago: writing ingestion file/);
    await batcher.add([batch(2)]);
    assert.equal(health.problem(), null, "a later success clears the failure");
    await batcher.close();
    await log.close();
  });
});
