/** The fetch cache's read-ahead: bounded, promoted on first use, dropped when unread. */
import assert from "node:assert/strict";
import { ObjectCache } from "../../src/fetch/object-cache.js";

const bytes = (n: number, fill = 1): Buffer => Buffer.alloc(n, fill);

/** A load the test resolves by hand, counting how often it ran. */
function manualLoad(data: Buffer): { load: () => Promise<Buffer>; calls: () => number; resolve: () => void } {
  let calls = 0;
  let release: () => void = () => undefined;
  const gate = new Promise<void>((r) => (release = r));
  return {
    load: async () => {
      calls++;
      await gate;
      return data;
    },
    calls: () => calls,
    resolve: () => release(),
  };
}

describe("ObjectCache read-ahead", () => {
  it("starts no read-ahead beyond its bound, and counts bytes still loading", async () => {
    const cache = new ObjectCache(1000, { readAheadBytes: 250 });
    const a = manualLoad(bytes(100));
    const b = manualLoad(bytes(100));
    const c = manualLoad(bytes(100));
    assert.equal(cache.prefetch("a", 100, a.load), true);
    assert.equal(cache.prefetch("b", 100, b.load), true);
    assert.equal(cache.prefetch("c", 100, c.load), false, "300 bytes would pass the 250-byte bound");
    assert.equal(c.calls(), 0);
    assert.equal(cache.readAheadSize, 200);
    a.resolve();
    b.resolve();
    await cache.getOrLoad("a", () => Promise.reject(new Error("loaded twice")));
    assert.equal(cache.readAheadSize, 100, "a was read: no longer speculative");
  });

  it("a request for a key being read ahead waits for that load instead of starting another", async () => {
    const cache = new ObjectCache(1000);
    const a = manualLoad(bytes(10, 7));
    cache.prefetch("a", 10, a.load);
    const got = cache.getOrLoad("a", () => Promise.reject(new Error("second load")));
    a.resolve();
    assert.deepEqual(await got, bytes(10, 7));
    assert.equal(a.calls(), 1);
    assert.equal(cache.readAheadUsed, 1);
    assert.equal(cache.readAheadSize, 0);
  });

  it("does not read ahead what is cached or loading", () => {
    const cache = new ObjectCache(1000);
    cache.put("a", bytes(10));
    assert.equal(
      cache.prefetch("a", 10, () => Promise.reject(new Error("no"))),
      false,
    );
    void cache.getOrLoad("b", () => new Promise<Buffer>(() => undefined));
    assert.equal(
      cache.prefetch("b", 10, () => Promise.reject(new Error("no"))),
      false,
    );
  });

  it("a failed read-ahead is forgotten: its room is freed and the next request loads again", async () => {
    const cache = new ObjectCache(1000);
    cache.prefetch("a", 50, () => Promise.reject(new Error("store down")));
    await new Promise((r) => setImmediate(r));
    assert.equal(cache.readAheadSize, 0);
    assert.deepEqual(await cache.getOrLoad("a", async () => bytes(5, 3)), bytes(5, 3));
  });

  it("drops unread read-ahead once stale to make room for a new one, and counts it", async () => {
    let now = 0;
    const cache = new ObjectCache(1000, { readAheadBytes: 150, readAheadStaleMs: 10_000, now: () => now });
    cache.prefetch("old", 100, async () => bytes(100));
    await new Promise((r) => setImmediate(r));
    assert.equal(
      cache.prefetch("new", 100, async () => bytes(100)),
      false,
      "old is not stale yet",
    );
    now = 10_001;
    assert.equal(
      cache.prefetch("new", 100, async () => bytes(100)),
      true,
    );
    assert.equal(cache.readAheadDropped, 1);
    assert.equal(cache.peek("old"), undefined, "the unread entry is gone");
    await new Promise((r) => setImmediate(r));
    assert.ok(cache.peek("new"));
  });

  it("offer evicts the oldest unread speculative entries, never data that was asked for", () => {
    const cache = new ObjectCache(1000, { readAheadBytes: 200 });
    cache.put("asked", bytes(300));
    cache.offer("r1", bytes(100));
    cache.offer("r2", bytes(100));
    assert.ok(cache.get("r2"), "r2 read: now ordinary");
    cache.offer("r3", bytes(100));
    cache.offer("r4", bytes(100));
    assert.equal(cache.peek("r1"), undefined, "r1 (oldest unread) dropped");
    assert.ok(cache.peek("asked"));
    assert.ok(cache.peek("r2"));
    assert.ok(cache.peek("r3"));
    assert.ok(cache.peek("r4"));
    assert.equal(cache.readAheadDropped, 1);
    assert.equal(cache.readAheadSize, 200);
    cache.offer("too-big", bytes(201));
    assert.equal(cache.peek("too-big"), undefined);
  });

  it("loads several keys with one read, within the read-ahead bound, and forgets them all when it fails", async () => {
    const cache = new ObjectCache(1000, { readAheadBytes: 150 });
    let reads = 0;
    const two = [
      { key: "x", size: 100 },
      { key: "y", size: 100 },
    ];
    assert.equal(
      cache.loadTogether(two, async () => [bytes(100)], true),
      false,
      "200 bytes do not fit a 150-byte read-ahead bound",
    );
    assert.equal(
      cache.loadTogether(
        two,
        async () => {
          reads++;
          return [bytes(100, 1), bytes(100, 2)];
        },
        false,
      ),
      true,
    );
    assert.deepEqual(await cache.getOrLoad("y", () => Promise.reject(new Error("loaded twice"))), bytes(100, 2));
    assert.deepEqual(cache.get("x"), bytes(100, 1));
    assert.equal(reads, 1);
    cache.loadTogether(
      [
        { key: "p", size: 50 },
        { key: "q", size: 50 },
      ],
      () => Promise.reject(new Error("store down")),
      true,
    );
    await new Promise((r) => setImmediate(r));
    assert.equal(cache.readAheadSize, 0);
    assert.equal(cache.has("p") || cache.has("q"), false);
  });

  it("speculative entries leave with LRU eviction and give back their room", () => {
    const cache = new ObjectCache(300, { readAheadBytes: 100 });
    cache.offer("r", bytes(100));
    cache.put("a", bytes(150));
    cache.put("b", bytes(100));
    assert.equal(cache.peek("r"), undefined);
    assert.equal(cache.readAheadSize, 0);
    assert.equal(cache.readAheadDropped, 1);
    assert.equal(cache.size, 250);
  });

  it("counts a slab of offered views once, until its last view leaves", () => {
    const cache = new ObjectCache(1000, { readAheadBytes: 1000 });
    const slab = Buffer.allocUnsafeSlow(300);
    for (let i = 0; i < 3; i++) slab.fill(i + 1, i * 100, (i + 1) * 100);
    cache.offerViews(
      slab,
      [0, 1, 2].map((i) => ({ key: `v${i}`, offset: i * 100, length: 100 })),
    );
    assert.equal(cache.size, 300);
    assert.equal(cache.readAheadSize, 300);
    assert.deepEqual(cache.get("v1"), Buffer.alloc(100, 2), "a view reads its own range");
    cache.put("big", bytes(650));
    assert.equal(cache.size, 950);
    // Over the bound: the oldest entries go until the bytes fit, and the slab's only go with its last view.
    cache.put("more", bytes(100));
    assert.ok(cache.peek("more") && cache.peek("big"));
    assert.equal([0, 1, 2].filter((i) => cache.peek(`v${i}`)).length, 0);
    assert.equal(cache.size, 750);
    assert.equal(cache.readAheadSize, 0);
    assert.equal(cache.readAheadDropped, 2, "v0 and v2 left unread; v1 had been read");
  });

  it("keeps its bound with slabs: evicts until what its entries hold in memory fits", () => {
    const cache = new ObjectCache(500, { readAheadBytes: 500 });
    const slab = Buffer.allocUnsafeSlow(400);
    cache.offerViews(
      slab,
      [0, 1, 2, 3].map((i) => ({ key: `s${i}`, offset: i * 100, length: 100 })),
    );
    assert.equal(cache.size, 400);
    cache.put("asked", bytes(200));
    assert.ok(cache.size <= 500, `${cache.size} bytes held`);
    assert.ok(cache.peek("asked"));
    assert.equal([0, 1, 2, 3].filter((i) => cache.peek(`s${i}`)).length, 0, "every view of the slab left");
    assert.equal(cache.size, 200);
    assert.equal(cache.readAheadSize, 0);
    assert.throws(() => cache.offerViews(slab.subarray(0, 100), [{ key: "x", offset: 0, length: 10 }]), /its own/);
  });

  it("frees a slab only when its last view is replaced or evicted", () => {
    const cache = new ObjectCache(1000, { readAheadBytes: 1000 });
    cache.offerViews(
      Buffer.allocUnsafeSlow(300),
      [0, 1, 2].map((i) => ({ key: `v${i}`, offset: i * 100, length: 100 })),
    );
    cache.put("v0", bytes(10));
    assert.equal(cache.size, 310, "two views keep the whole slab");
    cache.put("v1", bytes(10));
    assert.equal(cache.size, 320);
    cache.put("v2", bytes(10));
    assert.equal(cache.size, 30, "the last view replaced: the slab is no longer held");
  });

  it("makes read-ahead room a few entries at a time when asked to", () => {
    const cache = new ObjectCache(1000, { readAheadBytes: 500 });
    for (let i = 0; i < 5; i++) cache.offer(`r${i}`, bytes(100));
    assert.deepEqual(cache.readAheadRoom(300, 2), { room: false, dropped: 2 });
    assert.equal(cache.peek("r0") ?? cache.peek("r1"), undefined, "the oldest went first");
    assert.deepEqual(cache.readAheadRoom(300, 2), { room: true, dropped: 1 });
    assert.deepEqual(cache.readAheadRoom(300, 2), { room: true, dropped: 0 });
    assert.equal(cache.readAheadDropped, 3);
    assert.deepEqual(cache.readAheadRoom(600, 2), { room: false, dropped: 0 }, "more than the bound: never room");
  });

  it("counts a view put back under another key as its own bytes, and the same bytes put twice once", () => {
    const cache = new ObjectCache(1000, { readAheadBytes: 1000 });
    cache.offerViews(
      Buffer.allocUnsafeSlow(300),
      [0, 1, 2].map((i) => ({ key: `v${i}`, offset: i * 100, length: 100 })),
    );
    cache.put("copy", cache.get("v0")!);
    assert.equal(cache.size, 400);
    for (let i = 0; i < 3; i++) cache.put(`v${i}`, bytes(10));
    assert.equal(cache.size, 130, "the slab is released with its last view; the other key keeps its 100");
    const same = bytes(50);
    cache.put("same", same);
    cache.put("same", same);
    assert.equal(cache.size, 180);
  });
});
