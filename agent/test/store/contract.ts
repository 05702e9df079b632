/**
 * Contract suites for the store interfaces (agent/src/store/types.ts). Every backend runs the same
 * suites (mem.test.ts, file.test.ts, dynamodb.test.ts, s3.test.ts); a backend is done when they pass.
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import type { MetadataStore, ObjectStore, ObjectInfo } from "../../src/store/types.js";
import { ObjectNotFoundError } from "../../src/store/types.js";

export interface ObjectStoreFixture {
  readonly store: ObjectStore;
  cleanup(): Promise<void>;
}

export interface MetadataStoreFixture {
  readonly store: MetadataStore;
  /**
   * Another handle on the same stored data, as a second agent would open it (DynamoDB: a new client).
   * Absent for single-process backends (file), whose only handle is `store`.
   */
  readonly peer?: () => Promise<MetadataStore>;
  cleanup(): Promise<void>;
}

export interface ContractOptions {
  /** Keys to write in the pagination test; more than one listing page of the backend. */
  readonly manyKeys?: number;
  /** Size of the large object/snapshot tests, in bytes. */
  readonly largeBytes?: number;
}

async function collect(it: AsyncIterable<ObjectInfo>): Promise<ObjectInfo[]> {
  const out: ObjectInfo[] = [];
  for await (const o of it) out.push(o);
  return out;
}

function b(s: string): Buffer {
  return Buffer.from(s, "utf8");
}

export function runObjectStoreContract(
  name: string,
  make: () => Promise<ObjectStoreFixture>,
  options: ContractOptions = {},
): void {
  const manyKeys = options.manyKeys ?? 1050;
  const largeBytes = options.largeBytes ?? 3 * 1024 * 1024 + 12345;

  describe(`ObjectStore contract: ${name}`, function () {
    let fx: ObjectStoreFixture;
    let store: ObjectStore;
    beforeEach(async function () {
      fx = await make();
      store = fx.store;
    });
    afterEach(async function () {
      await fx.store.close();
      await fx.cleanup();
    });

    it("reads back what was put, whole and by ranges", async function () {
      const data = randomBytes(10_000);
      await store.put("ingest/a", data);
      assert.deepEqual(await store.get("ingest/a"), data);
      assert.deepEqual(await store.get("ingest/a", { offset: 0, length: 10 }), data.subarray(0, 10));
      assert.deepEqual(await store.get("ingest/a", { offset: 1234, length: 5000 }), data.subarray(1234, 6234));
      assert.deepEqual(await store.get("ingest/a", { offset: 9_999, length: 1 }), data.subarray(9_999));
    });

    it("a ranged read past the end returns what exists", async function () {
      const data = randomBytes(100);
      await store.put("k", data);
      assert.deepEqual(await store.get("k", { offset: 90, length: 50 }), data.subarray(90));
      assert.equal((await store.get("k", { offset: 100, length: 10 })).length, 0);
      assert.equal((await store.get("k", { offset: 500, length: 10 })).length, 0);
    });

    it("stores empty objects", async function () {
      await store.put("empty", Buffer.alloc(0));
      assert.equal((await store.get("empty")).length, 0);
      assert.deepEqual(await collect(store.list("empty")), [{ key: "empty", size: 0 }]);
    });

    it("large objects round-trip and ranged reads cross internal boundaries", async function () {
      const data = randomBytes(largeBytes);
      await store.put("big/one", data);
      assert.deepEqual(await store.get("big/one"), data);
      for (const [offset, length] of [
        [0, 1],
        [350 * 1024 - 7, 20],
        [358_390, 30],
        [1_000_000, 800_000],
        [largeBytes - 5, 100],
      ] as const) {
        assert.deepEqual(
          await store.get("big/one", { offset, length }),
          data.subarray(offset, offset + length),
          `range ${offset}+${length}`,
        );
      }
      assert.deepEqual(await collect(store.list("big/")), [{ key: "big/one", size: largeBytes }]);
    });

    it("overwrites an object, also with a smaller one", async function () {
      const big = randomBytes(900_000);
      await store.put("over", big);
      await store.put("over", b("second"));
      assert.deepEqual(await store.get("over"), b("second"));
      assert.deepEqual(await collect(store.list("over")), [{ key: "over", size: 6 }]);
    });

    it("get of an absent key throws ObjectNotFoundError naming the key", async function () {
      await assert.rejects(
        store.get("nope/x"),
        (err: unknown) => err instanceof ObjectNotFoundError && err.key === "nope/x",
      );
      await assert.rejects(store.get("nope/x", { offset: 0, length: 1 }), ObjectNotFoundError);
    });

    it("delete removes objects and ignores absent keys", async function () {
      await store.put("d/1", b("1"));
      await store.put("d/2", b("2"));
      await store.put("d/3", b("3"));
      await store.delete(["d/1", "d/absent", "d/3"]);
      await store.delete([]);
      await assert.rejects(store.get("d/1"), ObjectNotFoundError);
      await assert.rejects(store.get("d/3"), ObjectNotFoundError);
      assert.deepEqual(await store.get("d/2"), b("2"));
      assert.deepEqual(await collect(store.list("d/")), [{ key: "d/2", size: 1 }]);
    });

    it("lists by prefix in key order, with sizes", async function () {
      for (const k of ["p/b", "p/a/2", "p/a/1", "q/a", "p", "pa", "p/c/deeper/x"]) await store.put(k, b(k));
      assert.deepEqual(
        (await collect(store.list("p/"))).map((o) => o.key),
        ["p/a/1", "p/a/2", "p/b", "p/c/deeper/x"],
      );
      assert.deepEqual(
        (await collect(store.list("p"))).map((o) => o.key),
        ["p", "p/a/1", "p/a/2", "p/b", "p/c/deeper/x", "pa"],
      );
      assert.deepEqual(await collect(store.list("p/a/")), [
        { key: "p/a/1", size: 5 },
        { key: "p/a/2", size: 5 },
      ]);
      assert.deepEqual(await collect(store.list("zzz")), []);
      assert.equal((await collect(store.list(""))).length, 7);
    });

    it(`lists many keys across pages (${manyKeys} keys)`, async function () {
      this.timeout(300_000);
      const keys: string[] = [];
      for (let i = 0; i < manyKeys; i++) keys.push(`many/${String(i).padStart(5, "0")}`);
      const shuffled = [...keys].sort(() => Math.random() - 0.5);
      for (let i = 0; i < shuffled.length; i += 50) {
        await Promise.all(shuffled.slice(i, i + 50).map((k) => store.put(k, b(k))));
      }
      await store.put("manz", b("outside"));
      const listed = await collect(store.list("many/"));
      assert.equal(listed.length, manyKeys);
      assert.deepEqual(
        listed.map((o) => o.key),
        keys,
      );
      assert.ok(listed.every((o) => o.size === 10));
      await store.delete(keys);
      assert.deepEqual(await collect(store.list("many/")), []);
    });

    it("accepts the expiresAt hint and serves the object until then", async function () {
      const expiresAt = new Date(Date.now() + 3600_000);
      await store.put("exp/1", b("soon gone"), { expiresAt });
      assert.deepEqual(await store.get("exp/1"), b("soon gone"));
      assert.deepEqual(await collect(store.list("exp/")), [{ key: "exp/1", size: 9 }]);
    });

    it("setExpiry keeps an object past its first expiry, and is false for an absent key", async function () {
      await store.put("exp/moved", b("kept"), { expiresAt: new Date(Date.now() + 1500) });
      assert.equal(await store.setExpiry("exp/moved", new Date(Date.now() + 3600_000)), true);
      await new Promise((r) => setTimeout(r, 1600));
      assert.deepEqual(await store.get("exp/moved"), b("kept"));
      assert.deepEqual(await collect(store.list("exp/")), [{ key: "exp/moved", size: 4 }]);
      assert.equal(await store.setExpiry("exp/absent", new Date(Date.now() + 3600_000)), false);
    });

    it("keys with unusual characters", async function () {
      const keys = ["sp ace/x", "uni/é€", "dots/../x", "pct/%41", "plus/a+b", "colon/a:b=c&d"];
      for (const k of keys) await store.put(k, b(k));
      for (const k of keys) assert.deepEqual(await store.get(k), b(k), k);
      assert.deepEqual(
        (await collect(store.list(""))).map((o) => o.key),
        [...keys].sort(),
      );
    });

    it("concurrent puts of different keys all land", async function () {
      const puts = Array.from({ length: 40 }, (_, i) =>
        store.put(`c/${String(i).padStart(2, "0")}`, randomBytes(i * 100)),
      );
      await Promise.all(puts);
      const listed = await collect(store.list("c/"));
      assert.equal(listed.length, 40);
      assert.deepEqual(
        listed.map((o) => o.size),
        Array.from({ length: 40 }, (_, i) => i * 100),
      );
    });
  });
}

export function runMetadataStoreContract(
  name: string,
  make: () => Promise<MetadataStoreFixture>,
  options: ContractOptions = {},
): void {
  const largeBytes = options.largeBytes ?? 5 * 1024 * 1024 + 777;

  describe(`MetadataStore contract: ${name}`, function () {
    let fx: MetadataStoreFixture;
    let store: MetadataStore;
    const peers: MetadataStore[] = [];
    beforeEach(async function () {
      fx = await make();
      store = fx.store;
    });
    afterEach(async function () {
      for (const p of peers.splice(0)) await p.close();
      await fx.store.close();
      await fx.cleanup();
    });

    describe("log", function () {
      it("appends at a free index and refuses a taken one", async function () {
        assert.equal(await store.append(1n, b("one")), true);
        assert.equal(await store.append(2n, b("two")), true);
        assert.equal(await store.append(2n, b("again")), false);
        assert.equal(await store.append(1n, b("again")), false);
        assert.deepEqual(await store.read(1n, 10), [
          { index: 1n, data: b("one") },
          { index: 2n, data: b("two") },
        ]);
      });

      it("rejects index 0 and entries above maxEntryBytes", async function () {
        await assert.rejects(store.append(0n, b("x")), RangeError);
        assert.ok(store.maxEntryBytes >= 64 * 1024, `maxEntryBytes ${store.maxEntryBytes} too small`);
        await assert.rejects(store.append(1n, Buffer.alloc(store.maxEntryBytes + 1)), RangeError);
        assert.deepEqual(await store.read(1n, 10), []);
      });

      it("stores an entry of exactly maxEntryBytes", async function () {
        const data = randomBytes(store.maxEntryBytes);
        assert.equal(await store.append(1n, data), true);
        const [rec] = await store.read(1n, 1);
        assert.ok(rec);
        assert.deepEqual(rec.data, data);
      });

      it("reads ranges with limits, in order", async function () {
        for (let i = 1n; i <= 30n; i++) assert.equal(await store.append(i, b(`e${i}`)), true);
        const all = await store.read(1n, 1000);
        assert.deepEqual(
          all.map((r) => r.index),
          Array.from({ length: 30 }, (_, i) => BigInt(i + 1)),
        );
        assert.deepEqual(all[29], { index: 30n, data: b("e30") });
        const mid = await store.read(10n, 5);
        assert.deepEqual(
          mid.map((r) => [r.index, r.data.toString()]),
          [
            [10n, "e10"],
            [11n, "e11"],
            [12n, "e12"],
            [13n, "e13"],
            [14n, "e14"],
          ],
        );
        assert.deepEqual(await store.read(31n, 10), []);
        assert.deepEqual(
          (await store.read(29n, 10)).map((r) => r.index),
          [29n, 30n],
        );
        assert.deepEqual(
          (await store.read(1n, 1)).map((r) => r.index),
          [1n],
        );
      });

      it("a read returns the entries at or after `from`, skipping absent indexes", async function () {
        for (const i of [1n, 2n, 4n, 5n, 9n]) assert.equal(await store.append(i, b(`e${i}`)), true);
        assert.deepEqual(
          (await store.read(1n, 10)).map((r) => r.index),
          [1n, 2n, 4n, 5n, 9n],
        );
        assert.deepEqual(
          (await store.read(3n, 10)).map((r) => r.index),
          [4n, 5n, 9n],
        );
        assert.deepEqual(
          (await store.read(1n, 3)).map((r) => r.index),
          [1n, 2n, 4n],
        );
        assert.deepEqual(
          (await store.read(6n, 10)).map((r) => [r.index, r.data.toString()]),
          [[9n, "e9"]],
        );
        assert.deepEqual(await store.read(10n, 10), []);
        assert.equal(await store.append(3n, b("e3")), true);
        assert.deepEqual(
          (await store.read(1n, 4)).map((r) => r.index),
          [1n, 2n, 3n, 4n],
        );
      });

      it("reads many entries past one response page", async function () {
        this.timeout(120_000);
        const size = 100 * 1024;
        for (let i = 1n; i <= 25n; i++) assert.equal(await store.append(i, Buffer.alloc(size, Number(i))), true);
        const got = await store.read(1n, 100);
        assert.equal(got.length, 25);
        got.forEach((r, i) => {
          assert.equal(r.index, BigInt(i + 1));
          assert.equal(r.data.length, size);
          assert.equal(r.data[size - 1], i + 1);
        });
        assert.equal((await store.read(3n, 20)).length, 20);
      });

      it("concurrent appenders racing for the same index: exactly one wins", async function () {
        this.timeout(60_000);
        const handles: MetadataStore[] = [store];
        if (fx.peer) {
          for (let i = 0; i < 3; i++) {
            const p = await fx.peer();
            peers.push(p);
            handles.push(p);
          }
        }
        for (let index = 1n; index <= 5n; index++) {
          const contenders = Array.from({ length: 8 }, (_, i) => ({
            handle: handles[i % handles.length]!,
            data: b(`${index}:${i}`),
          }));
          const results = await Promise.all(contenders.map((c) => c.handle.append(index, c.data)));
          assert.equal(results.filter((r) => r).length, 1, `index ${index}: ${results.join(",")}`);
          const winner = contenders[results.indexOf(true)]!;
          for (const h of handles) {
            const [rec] = await h.read(index, 1);
            assert.deepEqual(rec, { index, data: winner.data });
          }
        }
        assert.equal((await store.read(1n, 100)).length, 5);
      });

      it("a peer sees entries appended through another handle", async function () {
        // Single-process backends (file) have no second handle by design; the store itself stands in.
        const other = fx.peer ? await fx.peer() : store;
        if (other !== store) peers.push(other);
        assert.equal(await store.append(1n, b("from a")), true);
        assert.deepEqual(await other.read(1n, 10), [{ index: 1n, data: b("from a") }]);
        assert.equal(await other.append(1n, b("from b")), false);
        assert.equal(await other.append(2n, b("from b")), true);
        assert.deepEqual(
          (await store.read(1n, 10)).map((r) => r.data.toString()),
          ["from a", "from b"],
        );
      });

      it("returns copies: mutating a read or appended buffer does not change the log", async function () {
        const data = b("immutable");
        assert.equal(await store.append(1n, data), true);
        data.fill(0);
        const [first] = await store.read(1n, 1);
        assert.deepEqual(first?.data, b("immutable"));
      });
    });

    describe("snapshots and trim", function () {
      it("has no snapshot at first; the latest snapshot wins", async function () {
        assert.equal(await store.latestSnapshot(), null);
        await store.putSnapshot({ index: 5n, data: b("five") });
        assert.deepEqual(await store.latestSnapshot(), { index: 5n, data: b("five") });
        await store.putSnapshot({ index: 9n, data: b("nine") });
        assert.deepEqual(await store.latestSnapshot(), { index: 9n, data: b("nine") });
        await store.putSnapshot({ index: 7n, data: b("seven, late") });
        assert.deepEqual(await store.latestSnapshot(), { index: 9n, data: b("nine") });
      });

      it(`stores a large snapshot (${largeBytes} bytes)`, async function () {
        this.timeout(120_000);
        const data = randomBytes(largeBytes);
        await store.putSnapshot({ index: 3n, data });
        const snap = await store.latestSnapshot();
        assert.equal(snap?.index, 3n);
        assert.ok(snap.data.equals(data));
        const next = randomBytes(1000);
        await store.putSnapshot({ index: 4n, data: next });
        assert.deepEqual(await store.latestSnapshot(), { index: 4n, data: next });
      });

      it("keeps no reference to a stored snapshot's bytes: the caller may write the next one into them", async function () {
        this.timeout(120_000);
        // Large enough to be kept apart from the store's own records (in chunks, or an object of its own).
        const data = randomBytes(largeBytes);
        const copy = Buffer.from(data);
        await store.putSnapshot({ index: 3n, data });
        randomBytes(largeBytes).copy(data);
        const snap = await store.latestSnapshot();
        assert.equal(snap?.index, 3n);
        assert.ok(snap.data.equals(copy), "the snapshot as it was put");
      });

      it("concurrent snapshots: the highest index wins", async function () {
        this.timeout(60_000);
        const handles: MetadataStore[] = [store];
        if (fx.peer) {
          const p = await fx.peer();
          peers.push(p);
          handles.push(p);
        }
        await Promise.all(
          [10n, 12n, 11n, 3n].map((i, n) => handles[n % handles.length]!.putSnapshot({ index: i, data: b(`s${i}`) })),
        );
        assert.deepEqual(await store.latestSnapshot(), { index: 12n, data: b("s12") });
      });

      it("trim drops entries below the mark and keeps the rest; appends at covered indexes fail", async function () {
        for (let i = 1n; i <= 20n; i++) assert.equal(await store.append(i, b(`e${i}`)), true);
        await store.putSnapshot({ index: 12n, data: b("state@12") });
        await store.trim(13n);
        // A read from a trimmed index returns what is left; its first index above `from` tells the
        // reader that it must reload from the snapshot.
        const left = [13n, 14n, 15n, 16n, 17n, 18n, 19n, 20n];
        assert.deepEqual(
          (await store.read(1n, 100)).map((r) => r.index),
          left,
        );
        assert.deepEqual(
          (await store.read(12n, 100)).map((r) => r.index),
          left,
        );
        assert.deepEqual(
          (await store.read(13n, 100)).map((r) => r.index),
          left,
        );
        assert.deepEqual(
          (await store.read(1n, 2)).map((r) => r.index),
          [13n, 14n],
        );
        // An index the snapshot covers is taken, even though its entry was dropped.
        assert.equal(await store.append(5n, b("late writer")), false);
        assert.equal(await store.append(12n, b("late writer")), false);
        assert.equal(await store.append(21n, b("e21")), true);
        assert.equal((await store.read(1n, 100)).length, 9);
        assert.equal((await store.read(13n, 100)).length, 9);
        assert.deepEqual(await store.latestSnapshot(), { index: 12n, data: b("state@12") });
      });

      it("trim twice, and appends continue after it", async function () {
        for (let i = 1n; i <= 10n; i++) assert.equal(await store.append(i, b(`e${i}`)), true);
        await store.putSnapshot({ index: 4n, data: b("s4") });
        await store.trim(5n);
        for (let i = 11n; i <= 15n; i++) assert.equal(await store.append(i, b(`e${i}`)), true);
        await store.putSnapshot({ index: 12n, data: b("s12") });
        await store.trim(13n);
        assert.deepEqual(
          (await store.read(13n, 100)).map((r) => r.data.toString()),
          ["e13", "e14", "e15"],
        );
        assert.deepEqual(
          (await store.read(5n, 100)).map((r) => r.data.toString()),
          ["e13", "e14", "e15"],
        );
      });
    });

    describe("items", function () {
      it("absent condition: first put creates version 1, a second absent put fails", async function () {
        assert.equal(await store.getItem("agents/a"), null);
        assert.equal(await store.putItem("agents/a", b("v1"), { kind: "absent" }), 1);
        assert.equal(await store.putItem("agents/a", b("v1 again"), { kind: "absent" }), null);
        assert.deepEqual(await store.getItem("agents/a"), { key: "agents/a", value: b("v1"), version: 1 });
      });

      it("version condition: matching version succeeds and grows the version; stale fails", async function () {
        assert.equal(await store.putItem("lease", b("a"), { kind: "absent" }), 1);
        assert.equal(await store.putItem("lease", b("b"), { kind: "version", version: 1 }), 2);
        assert.equal(await store.putItem("lease", b("c"), { kind: "version", version: 1 }), null);
        assert.equal(await store.putItem("lease", b("c"), { kind: "version", version: 3 }), null);
        assert.equal(await store.putItem("lease", b("c"), { kind: "version", version: 2 }), 3);
        assert.equal(await store.putItem("missing", b("x"), { kind: "version", version: 1 }), null);
        assert.equal(await store.getItem("missing"), null);
        const item = await store.getItem("lease");
        assert.deepEqual(item, { key: "lease", value: b("c"), version: 3 });
      });

      it("any condition writes whatever exists", async function () {
        assert.equal(await store.putItem("k", b("1"), { kind: "any" }), 1);
        assert.equal(await store.putItem("k", b("2"), { kind: "any" }), 2);
        assert.deepEqual((await store.getItem("k"))?.value, b("2"));
      });

      it("conflicting writers: exactly one of the same-version puts wins", async function () {
        const handles: MetadataStore[] = [store];
        if (fx.peer) {
          const p = await fx.peer();
          peers.push(p);
          handles.push(p);
        }
        assert.equal(await store.putItem("race", b("0"), { kind: "absent" }), 1);
        const results = await Promise.all(
          Array.from({ length: 6 }, (_, i) =>
            handles[i % handles.length]!.putItem("race", b(`w${i}`), { kind: "version", version: 1 }),
          ),
        );
        assert.equal(results.filter((r) => r === 2).length, 1, results.join(","));
        assert.equal(results.filter((r) => r === null).length, 5);
        const winner = results.findIndex((r) => r === 2);
        assert.deepEqual(await store.getItem("race"), { key: "race", value: b(`w${winner}`), version: 2 });

        const absent = await Promise.all(
          Array.from({ length: 6 }, (_, i) =>
            handles[i % handles.length]!.putItem("fresh", b(`f${i}`), { kind: "absent" }),
          ),
        );
        assert.equal(absent.filter((r) => r === 1).length, 1, absent.join(","));
      });

      it("expiry: an expired item is absent, can be re-created, and cannot be updated by version", async function () {
        const future = new Date(Date.now() + 3600_000);
        assert.equal(await store.putItem("exp/live", b("live"), { kind: "absent" }, future), 1);
        const live = await store.getItem("exp/live");
        assert.equal(live?.expiresAt?.getTime(), future.getTime());

        const past = new Date(Date.now() - 1000);
        assert.equal(await store.putItem("exp/dead", b("dead"), { kind: "any" }, past), 1);
        assert.equal(await store.getItem("exp/dead"), null);
        assert.deepEqual(
          (await store.listItems("exp/")).map((i) => i.key),
          ["exp/live"],
        );
        assert.equal(await store.putItem("exp/dead", b("x"), { kind: "version", version: 1 }), null);
        assert.equal(await store.deleteItem("exp/dead", 1), false);
        const v = await store.putItem("exp/dead", b("reborn"), { kind: "absent" });
        assert.ok(v !== null && v >= 1);
        const reborn = await store.getItem("exp/dead");
        assert.deepEqual(reborn?.value, b("reborn"));
        assert.equal(reborn?.version, v);
        assert.equal(reborn?.expiresAt, undefined);
      });

      it("an item expires once its time passes", async function () {
        this.timeout(20_000);
        assert.equal(await store.putItem("short", b("x"), { kind: "absent" }, new Date(Date.now() + 1500)), 1);
        assert.ok(await store.getItem("short"));
        await new Promise((r) => setTimeout(r, 1600));
        assert.equal(await store.getItem("short"), null);
        assert.equal(await store.putItem("short", b("y"), { kind: "version", version: 1 }), null);
      });

      it("a put without expiresAt clears an earlier expiry", async function () {
        assert.equal(await store.putItem("k", b("1"), { kind: "absent" }, new Date(Date.now() + 3600_000)), 1);
        assert.equal(await store.putItem("k", b("2"), { kind: "version", version: 1 }), 2);
        assert.equal((await store.getItem("k"))?.expiresAt, undefined);
      });

      it("listItems returns live items by prefix in key order", async function () {
        for (const k of ["agents/zone-b/2", "agents/zone-a/1", "leases/compaction", "agents/zone-a/0", "agentsX"]) {
          assert.equal(await store.putItem(k, b(k), { kind: "absent" }), 1);
        }
        const agents = await store.listItems("agents/");
        assert.deepEqual(
          agents.map((i) => i.key),
          ["agents/zone-a/0", "agents/zone-a/1", "agents/zone-b/2"],
        );
        assert.deepEqual(agents[0], { key: "agents/zone-a/0", value: b("agents/zone-a/0"), version: 1 });
        assert.equal((await store.listItems("")).length, 5);
        assert.deepEqual(await store.listItems("nothing/"), []);
      });

      it("listItems returns many items", async function () {
        this.timeout(120_000);
        const value = Buffer.alloc(2000, 7);
        const keys = Array.from({ length: 600 }, (_, i) => `many/${String(i).padStart(4, "0")}`);
        for (let i = 0; i < keys.length; i += 50)
          await Promise.all(keys.slice(i, i + 50).map((k) => store.putItem(k, value, { kind: "any" })));
        const listed = await store.listItems("many/");
        assert.deepEqual(
          listed.map((i) => i.key),
          keys,
        );
      });

      it("deleteItem: unconditional, with the right version, with a stale version", async function () {
        assert.equal(await store.putItem("a", b("1"), { kind: "absent" }), 1);
        assert.equal(await store.putItem("a", b("2"), { kind: "version", version: 1 }), 2);
        assert.equal(await store.deleteItem("a", 1), false);
        assert.deepEqual((await store.getItem("a"))?.value, b("2"));
        assert.equal(await store.deleteItem("a", 2), true);
        assert.equal(await store.getItem("a"), null);
        assert.equal(await store.deleteItem("a", 2), false);
        assert.equal(await store.putItem("b", b("x"), { kind: "any" }), 1);
        assert.equal(await store.deleteItem("b"), true);
        assert.equal(await store.getItem("b"), null);
        assert.equal(await store.deleteItem("never"), true);
        assert.equal(await store.putItem("a", b("new"), { kind: "absent" }), 1);
      });

      it("items and the log do not collide", async function () {
        assert.equal(await store.putItem("log", b("item named log"), { kind: "absent" }), 1);
        assert.equal(await store.putItem("snapshot", b("item named snapshot"), { kind: "absent" }), 1);
        assert.equal(await store.append(1n, b("entry")), true);
        await store.putSnapshot({ index: 1n, data: b("snap") });
        assert.deepEqual((await store.getItem("log"))?.value, b("item named log"));
        assert.deepEqual((await store.getItem("snapshot"))?.value, b("item named snapshot"));
        assert.deepEqual(await store.latestSnapshot(), { index: 1n, data: b("snap") });
      });
    });
  });
}
