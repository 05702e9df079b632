/**
 * The produce buffer limit (-maxProduceBufferSize): while stored-but-uncommitted and batching files
 * hold the limit, new produce requests wait in arrival order; they are taken as files complete; a
 * request whose signal aborts while waiting is dropped (nothing of it is written) with a retriable
 * IngestionError; an oversized request is taken alone.
 */
import assert from "node:assert/strict";
import { componentLogger } from "../../../common/logger.js";
import { IngestionBatcher, IngestionError } from "../../src/ingest/batcher.js";
import type { MetadataLog } from "../../src/metadata/log.js";
import { MemObjectStore } from "../../src/store/mem.js";
import type { PutOptions } from "../../src/store/types.js";
import { incomingBatch as batch, openLogWithTopic } from "./support.js";

/** Every put waits until the test opens the gate (a store that has stalled). */
class GatedObjectStore extends MemObjectStore {
  readonly keys: string[] = [];
  private open!: () => void;
  private gate = new Promise<void>((r) => (this.open = r));
  release(): void {
    this.open();
  }
  override async put(key: string, data: Buffer, options?: PutOptions): Promise<void> {
    await this.gate;
    this.keys.push(key);
    return super.put(key, data, options);
  }
}

async function setup(
  maxBufferedBytes: number,
): Promise<{ batcher: IngestionBatcher; store: GatedObjectStore; log: MetadataLog }> {
  const log = await openLogWithTopic(4);
  const store = new GatedObjectStore();
  // maxFileBytes 100: each 100-byte request seals its own file at once.
  const batcher = new IngestionBatcher({
    store,
    log,
    batchTimeoutMs: 1_000_000,
    maxFileBytes: 100,
    maxBufferedBytes,
    keyPrefix: "buf/",
    logger: componentLogger("test"),
  });
  return { batcher, store, log };
}

const settle = () => new Promise((r) => setImmediate(r));

describe("ingestion batcher: produce buffer limit", () => {
  it("holds requests beyond the limit until earlier files are committed, in arrival order", async () => {
    const { batcher, store } = await setup(250);
    const a = batcher.add([batch(0, 100)]);
    const b = batcher.add([batch(1, 100)]);
    assert.equal(batcher.bufferedBytes, 200);
    const order: string[] = [];
    const c = batcher.add([batch(2, 100)]).then((r) => (order.push("c"), r));
    const d = batcher.add([batch(3, 100)]).then((r) => (order.push("d"), r));
    await settle();
    // c and d wait: 200 + 100 > 250. Nothing of theirs has been handed to the store.
    assert.equal(batcher.bufferedBytes, 200);
    store.release();
    const results = await Promise.all([a, b, c, d]);
    assert.deepEqual(order, ["c", "d"]);
    assert.deepEqual(
      results.map((r) => r[0]!.baseOffset),
      [0, 0, 0, 0],
      "one batch per partition, each committed at offset 0",
    );
    assert.equal(store.keys.length, 4);
    await settle();
    assert.equal(batcher.bufferedBytes, 0);
  });

  it("drops a waiting request when its signal aborts, writing nothing of it", async () => {
    const { batcher, store } = await setup(150);
    const a = batcher.add([batch(0, 100)]);
    const abort = new AbortController();
    const b = batcher.add([batch(1, 100)], abort.signal);
    const c = batcher.add([batch(2, 100)]);
    abort.abort();
    await assert.rejects(b, (e: unknown) => e instanceof IngestionError && /produce buffer full/.test(e.message));
    store.release();
    await Promise.all([a, c]);
    assert.equal(store.keys.length, 2, "the dropped request was never written");
  });

  it("takes a request larger than the limit when nothing else is held", async () => {
    const { batcher, store } = await setup(50);
    const big = batcher.add([batch(0, 100)]);
    assert.equal(batcher.bufferedBytes, 100);
    store.release();
    const [r] = await big;
    assert.equal(r!.baseOffset, 0);
  });
});
