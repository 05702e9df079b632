import assert from "node:assert/strict";
import { WorkQueue } from "../../src/controller/queue.js";

describe("WorkQueue", () => {
  it("dedupes keys waiting in the queue", async () => {
    const q = new WorkQueue({ baseDelayMs: 10, maxDelayMs: 100 });
    q.add("a");
    q.add("b");
    q.add("a");
    assert.equal(q.length, 2);
    assert.equal(await q.get(), "a");
    assert.equal(await q.get(), "b");
    q.shutdown();
  });

  it("never hands out a key being processed; a re-add while processing is queued after done", async () => {
    const q = new WorkQueue({ baseDelayMs: 10, maxDelayMs: 100 });
    q.add("a");
    const key = await q.get();
    q.add("a");
    assert.equal(q.length, 0, "not queued while processing");
    q.done(key!);
    assert.equal(q.length, 1);
    assert.equal(await q.get(), "a");
    q.shutdown();
  });

  it("backs off exponentially per key up to the cap, and forget resets it", () => {
    const q = new WorkQueue({ baseDelayMs: 10, maxDelayMs: 50 });
    assert.deepEqual(
      [q.addRateLimited("k"), q.addRateLimited("k"), q.addRateLimited("k"), q.addRateLimited("k")],
      [10, 20, 40, 50],
    );
    assert.equal(q.addRateLimited("other"), 10);
    q.forget("k");
    assert.equal(q.addRateLimited("k"), 10);
    q.shutdown();
  });

  it("delivers delayed keys, the earliest pending delay winning", async () => {
    const q = new WorkQueue({ baseDelayMs: 10, maxDelayMs: 100 });
    q.addAfter("k", 60_000);
    q.addAfter("k", 5);
    assert.equal(await q.get(), "k");
    q.shutdown();
  });

  it("wakes waiting workers with null on shutdown", async () => {
    const q = new WorkQueue({ baseDelayMs: 10, maxDelayMs: 100 });
    const waiting = q.get();
    q.shutdown();
    assert.equal(await waiting, null);
  });
});
