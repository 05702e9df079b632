/**
 * measureStores: every store call reported once with its backend, operation, outcome and duration,
 * results and errors passed through unchanged, one store serving ingestion and compaction kept one
 * object. On the in-memory stores, plus one object store that fails every call (a stand-in for a store
 * that is down: the failure itself is what is checked).
 */
import assert from "node:assert/strict";
import { dropMemStores, openMemStores } from "../../src/store/mem.js";
import { measureStores, type StoreCall } from "../../src/store/measured.js";
import { ObjectNotFoundError, type ObjectInfo, type ObjectStore, type Stores } from "../../src/store/types.js";

const NAME = `measured-${process.pid}`;

function measured(): { stores: Stores; calls: StoreCall[] } {
  dropMemStores(NAME);
  const calls: StoreCall[] = [];
  return { stores: measureStores(openMemStores(NAME), (c) => calls.push(c)), calls };
}

const brief = (calls: readonly StoreCall[]): string[] => calls.map((c) => `${c.store} ${c.op} ${c.outcome}`);

class DownStore implements ObjectStore {
  readonly kind = "s3";
  put(): Promise<void> {
    return Promise.reject(new Error("connect ECONNREFUSED"));
  }
  get(): Promise<Buffer> {
    return Promise.reject(new Error("connect ECONNREFUSED"));
  }
  setExpiry(): Promise<boolean> {
    return Promise.reject(new Error("connect ECONNREFUSED"));
  }
  delete(): Promise<void> {
    return Promise.reject(new Error("connect ECONNREFUSED"));
  }
  // eslint-disable-next-line require-yield
  async *list(): AsyncIterable<ObjectInfo> {
    throw new Error("connect ECONNREFUSED");
  }
  close(): Promise<void> {
    return Promise.resolve();
  }
}

describe("store: measured stores", () => {
  after(() => dropMemStores(NAME));

  it("reports each object store call with its outcome and passes results through", async () => {
    const { stores, calls } = measured();
    assert.equal(stores.ingestion, stores.compaction, "one store for both stays one object");
    assert.equal(stores.ingestion.kind, "mem");
    await stores.ingestion.put("a/1", Buffer.from("hello"));
    await stores.ingestion.put("a/2", Buffer.from("world"));
    assert.equal((await stores.compaction.get("a/1", { offset: 1, length: 3 })).toString(), "ell");
    await assert.rejects(stores.ingestion.get("a/9"), ObjectNotFoundError);
    assert.equal(await stores.ingestion.setExpiry("a/9", new Date(Date.now() + 1000)), false);
    const keys: string[] = [];
    for await (const info of stores.ingestion.list("a/")) {
      keys.push(info.key);
      break; // an early stop still reports the listing once
    }
    assert.deepEqual(keys, ["a/1"]);
    await stores.ingestion.delete(["a/1"]);
    assert.deepEqual(brief(calls), [
      "mem put ok",
      "mem put ok",
      "mem get ok",
      "mem get missing",
      "mem setExpiry ok",
      "mem list ok",
      "mem delete ok",
    ]);
    for (const c of calls) assert.ok(c.seconds >= 0 && c.seconds < 60, `${c.op} took ${c.seconds} s`);
  });

  it("reports conditional writes that lose as conflicts", async () => {
    const { stores, calls } = measured();
    const log = stores.metadata;
    assert.equal(await log.append(1n, Buffer.from("x")), true);
    assert.equal(await log.append(1n, Buffer.from("y")), false, "the index is taken");
    assert.deepEqual(
      (await log.read(1n, 10)).map((r) => r.data.toString()),
      ["x"],
    );
    assert.equal(await log.putItem("k", Buffer.from("v"), { kind: "absent" }), 1);
    assert.equal(await log.putItem("k", Buffer.from("w"), { kind: "absent" }), null);
    assert.equal(await log.deleteItem("k", 7), false);
    assert.equal((await log.getItem("k"))?.value.toString(), "v");
    assert.equal(log.maxEntryBytes, openMemStores(NAME).metadata.maxEntryBytes);
    assert.deepEqual(brief(calls), [
      "mem append ok",
      "mem append conflict",
      "mem read ok",
      "mem putItem ok",
      "mem putItem conflict",
      "mem deleteItem conflict",
      "mem getItem ok",
    ]);
  });

  it("reports failures as errors and rethrows them; a failing observer fails no call", async () => {
    const mem = openMemStores(NAME);
    const calls: StoreCall[] = [];
    const stores = measureStores({ ...mem, compaction: new DownStore() }, (c) => calls.push(c));
    assert.notEqual(stores.ingestion, stores.compaction);
    await assert.rejects(stores.compaction.put("k", Buffer.alloc(1)), /ECONNREFUSED/);
    await assert.rejects(stores.compaction.get("k"), /ECONNREFUSED/);
    await assert.rejects(async () => {
      for await (const _ of stores.compaction.list("")) void _;
    }, /ECONNREFUSED/);
    assert.deepEqual(brief(calls), ["s3 put error", "s3 get error", "s3 list error"]);

    const throwing = measureStores(mem, () => {
      throw new Error("observer broken");
    });
    await throwing.ingestion.put("k", Buffer.from("v"));
    assert.equal((await throwing.ingestion.get("k")).toString(), "v");
  });
});
