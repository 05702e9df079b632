import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { promises as fs } from "node:fs";
import os from "node:os";
import path from "node:path";
import { FRAME_HEADER_BYTES } from "../../src/store/file/metadata.js";
import { openFileObjectStore, openFileStores, StoreLockedError } from "../../src/store/file/index.js";
import type { Stores } from "../../src/store/types.js";
import { ObjectNotFoundError } from "../../src/store/types.js";
import { runMetadataStoreContract, runObjectStoreContract } from "./contract.js";

async function tempDir(): Promise<string> {
  return fs.mkdtemp(path.join(os.tmpdir(), "warp-file-store-"));
}

runObjectStoreContract("file", async () => {
  const dir = await tempDir();
  const store = await openFileObjectStore(dir);
  return { store, cleanup: () => fs.rm(dir, { recursive: true, force: true }) };
});

runMetadataStoreContract("file", async () => {
  const dir = await tempDir();
  const stores = await openFileStores(dir);
  return {
    store: stores.metadata,
    cleanup: async () => {
      await stores.close();
      await fs.rm(dir, { recursive: true, force: true });
    },
  };
});

describe("file store specifics", function () {
  let dir: string;
  let stores: Stores | null;
  beforeEach(async function () {
    dir = await tempDir();
    stores = null;
  });
  afterEach(async function () {
    await stores?.close();
    await fs.rm(dir, { recursive: true, force: true });
  });

  async function segmentFiles(): Promise<string[]> {
    return (await fs.readdir(path.join(dir, "log"))).filter((n) => n.endsWith(".log")).sort();
  }

  it("everything survives a close and reopen", async function () {
    stores = await openFileStores(dir);
    await stores.ingestion.put("ingest/1", Buffer.from("file one"));
    for (let i = 1n; i <= 5n; i++) assert.equal(await stores.metadata.append(i, Buffer.from(`e${i}`)), true);
    await stores.metadata.putSnapshot({ index: 2n, data: Buffer.from("s2") });
    assert.equal(await stores.metadata.putItem("agents/a", Buffer.from("a"), { kind: "absent" }), 1);
    assert.equal(await stores.metadata.putItem("agents/a", Buffer.from("a2"), { kind: "version", version: 1 }), 2);
    await stores.close();

    stores = await openFileStores(dir);
    assert.deepEqual(await stores.ingestion.get("ingest/1"), Buffer.from("file one"));
    assert.deepEqual(
      (await stores.metadata.read(1n, 10)).map((r) => r.data.toString()),
      ["e1", "e2", "e3", "e4", "e5"],
    );
    assert.deepEqual(await stores.metadata.latestSnapshot(), { index: 2n, data: Buffer.from("s2") });
    assert.deepEqual(await stores.metadata.getItem("agents/a"), {
      key: "agents/a",
      value: Buffer.from("a2"),
      version: 2,
    });
    assert.equal(await stores.metadata.append(5n, Buffer.from("dup")), false);
    assert.equal(await stores.metadata.append(6n, Buffer.from("e6")), true);
  });

  for (const [name, garbage] of [
    ["a truncated frame header", (frame: Buffer) => frame.subarray(0, 7)],
    ["a frame cut inside its data", (frame: Buffer) => frame.subarray(0, frame.length - 3)],
    [
      "a complete frame with a bad CRC",
      (frame: Buffer) =>
        Buffer.concat([frame.subarray(0, frame.length - 1), Buffer.from([frame[frame.length - 1]! ^ 0xff])]),
    ],
    ["random bytes", () => Buffer.from("this is not a frame at all, just garbage bytes")],
  ] as const) {
    it(`reopen after a torn tail (${name}) keeps every complete entry`, async function () {
      stores = await openFileStores(dir);
      for (let i = 1n; i <= 3n; i++) assert.equal(await stores.metadata.append(i, Buffer.from(`entry ${i}`)), true);
      await stores.close();
      stores = null;

      const [seg] = await segmentFiles();
      const file = path.join(dir, "log", seg!);
      const before = (await fs.stat(file)).size;
      const { encodeFrame } = await import("../../src/store/file/metadata.js");
      await fs.appendFile(file, garbage(encodeFrame(4n, Buffer.from("entry 4, torn"))));

      stores = await openFileStores(dir);
      assert.deepEqual(
        (await stores.metadata.read(1n, 10)).map((r) => r.data.toString()),
        ["entry 1", "entry 2", "entry 3"],
      );
      assert.equal((await fs.stat(file)).size, before, "torn tail truncated");
      assert.equal(await stores.metadata.append(4n, Buffer.from("entry 4")), true);
      await stores.close();
      stores = await openFileStores(dir);
      assert.deepEqual(
        (await stores.metadata.read(1n, 10)).map((r) => r.data.toString()),
        ["entry 1", "entry 2", "entry 3", "entry 4"],
      );
    });
  }

  it("refuses to open when an earlier segment is corrupt", async function () {
    stores = await openFileStores(dir);
    for (let i = 1n; i <= 3n; i++) assert.equal(await stores.metadata.append(i, Buffer.from(`entry ${i}`)), true);
    await stores.metadata.putSnapshot({ index: 1n, data: Buffer.from("s") });
    await stores.metadata.trim(2n); // rolls to a second segment; the first still holds entries 2 and 3
    assert.equal(await stores.metadata.append(4n, Buffer.from("entry 4")), true);
    await stores.close();
    stores = null;
    const segs = await segmentFiles();
    assert.equal(segs.length, 2);
    const first = path.join(dir, "log", segs[0]!);
    const raw = await fs.readFile(first);
    raw.writeUInt8(raw.readUInt8(raw.length - 1) ^ 0xff, raw.length - 1);
    await fs.writeFile(first, raw);
    await assert.rejects(openFileStores(dir), /corrupt.*only the last segment may have a torn tail/);
  });

  it("trim deletes old segments", async function () {
    stores = await openFileStores(dir);
    for (let i = 1n; i <= 10n; i++) assert.equal(await stores.metadata.append(i, Buffer.from(`e${i}`)), true);
    await stores.metadata.putSnapshot({ index: 10n, data: Buffer.from("s10") });
    await stores.metadata.trim(11n);
    assert.deepEqual(await segmentFiles(), ["seg-000000000002.log"]);
    for (let i = 11n; i <= 12n; i++) assert.equal(await stores.metadata.append(i, Buffer.from(`e${i}`)), true);
    await stores.close();
    stores = await openFileStores(dir);
    assert.deepEqual(
      (await stores.metadata.read(11n, 10)).map((r) => r.data.toString()),
      ["e11", "e12"],
    );
    assert.equal(await stores.metadata.append(10n, Buffer.from("late")), false);
  });

  it("concurrent appends are grouped and all durable", async function () {
    stores = await openFileStores(dir);
    const metadata = stores.metadata;
    const results = await Promise.all(
      Array.from({ length: 200 }, (_, i) => metadata.append(BigInt(i + 1), Buffer.from(`c${i + 1}`))),
    );
    assert.ok(results.every((r) => r));
    await stores.close();
    stores = await openFileStores(dir);
    const got = await stores.metadata.read(1n, 1000);
    assert.equal(got.length, 200);
    const raw = await fs.readFile(path.join(dir, "log", (await segmentFiles())[0]!));
    assert.equal(
      raw.length,
      got.reduce((n, r) => n + FRAME_HEADER_BYTES + r.data.length, 0),
    );
  });

  it("a second open of the same directory fails with a clear message", async function () {
    stores = await openFileStores(dir);
    await assert.rejects(
      openFileStores(dir),
      (err: unknown) => err instanceof StoreLockedError && /already open in this process/.test(err.message),
    );
  });

  it("another live process holding the lock is refused; a dead one's lock is taken over", async function () {
    const child = spawn(process.execPath, ["-e", "setInterval(() => {}, 1000)"], { stdio: "ignore" });
    try {
      await fs.writeFile(path.join(dir, "LOCK"), `${child.pid}\n`);
      await assert.rejects(
        openFileStores(dir),
        (err: unknown) => err instanceof StoreLockedError && err.message.includes(`process ${child.pid}`),
      );
    } finally {
      child.kill("SIGKILL");
      await new Promise((r) => child.once("exit", r));
    }
    // The child is dead now: its lock is stale and is taken over.
    stores = await openFileStores(dir);
    assert.match(await fs.readFile(path.join(dir, "LOCK"), "utf8"), new RegExp(`^${process.pid}( \\d+)?\\n$`));
    await stores.close();
    stores = null;
    await assert.rejects(fs.stat(path.join(dir, "LOCK")), /ENOENT/);
  });

  it("a process killed while appending loses no acknowledged entry, and its lock is taken over", async function () {
    this.timeout(60_000);
    const storeModule = new URL("../../src/store/file/index.ts", import.meta.url).href;
    const script = `
      import { openFileStores } from ${JSON.stringify(storeModule)};
      const stores = await openFileStores(${JSON.stringify(dir)});
      let next = 1n;
      const worker = async () => {
        for (;;) {
          const index = next++;
          if (await stores.metadata.append(index, Buffer.alloc(100 + Number(index % 50n), Number(index % 256n)))) process.stdout.write(index + "\\n");
        }
      };
      await Promise.all([worker(), worker(), worker(), worker()]);
    `;
    const child = spawn(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script], {
      stdio: ["ignore", "pipe", "inherit"],
    });
    const acked: bigint[] = [];
    let buffered = "";
    await new Promise<void>((resolve, reject) => {
      child.once("error", reject);
      child.once("exit", (code) => reject(new Error(`writer exited early with ${code}`)));
      child.stdout.on("data", (chunk: Buffer) => {
        buffered += chunk.toString();
        const lines = buffered.split("\n");
        buffered = lines.pop()!;
        for (const l of lines) acked.push(BigInt(l));
        if (acked.length >= 300) {
          child.kill("SIGKILL");
          resolve();
        }
      });
    });
    await new Promise((r) => child.once("exit", r));
    stores = await openFileStores(dir);
    const entries = await stores.metadata.read(1n, 1_000_000);
    const have = new Map(entries.map((e) => [e.index, e.data]));
    for (const index of acked) {
      const data = have.get(index);
      assert.ok(data, `acknowledged entry ${index} survived`);
      assert.equal(data.length, 100 + Number(index % 50n));
      assert.ok(data.every((byte) => byte === Number(index % 256n)));
    }
  });

  it("a lock whose pid was reused is stale: our own pid not held by us, or a live pid with another start time", async function () {
    // A container restarted on the same volume runs as the same pid (often 1) as the crashed one.
    await fs.writeFile(path.join(dir, "LOCK"), `${process.pid} 1\n`);
    stores = await openFileStores(dir);
    await stores.close();
    stores = null;
    const child = spawn(process.execPath, ["-e", "setInterval(() => {}, 1000)"], { stdio: "ignore" });
    try {
      await fs.writeFile(path.join(dir, "LOCK"), `${child.pid} 1\n`); // start time 1 tick after boot: not this child
      stores = await openFileStores(dir);
      assert.match(await fs.readFile(path.join(dir, "LOCK"), "utf8"), new RegExp(`^${process.pid} \\d+\\n$`));
    } finally {
      child.kill("SIGKILL");
      await new Promise((r) => child.once("exit", r));
    }
  });

  it("a corrupt newest snapshot falls back to the previous durable one", async function () {
    stores = await openFileStores(dir);
    await stores.metadata.putSnapshot({ index: 3n, data: Buffer.from("three") });
    await stores.close();
    stores = null;
    // A crash can leave no partial snapshot (temp + rename), but a damaged file must not be trusted.
    const bad = Buffer.concat([Buffer.from([0, 0, 0, 0]), Buffer.from("garbage")]);
    await fs.writeFile(path.join(dir, "snapshots", `snap-${"9".padStart(20, "0")}.bin`), bad);
    stores = await openFileStores(dir);
    assert.deepEqual(await stores.metadata.latestSnapshot(), { index: 3n, data: Buffer.from("three") });
  });
});

describe("file object store expiry", function () {
  let dir: string;
  beforeEach(async function () {
    dir = await tempDir();
  });
  afterEach(async function () {
    await fs.rm(dir, { recursive: true, force: true });
  });

  it("an expired object reads as absent at once and its file is removed by the sweep, also after a reopen", async function () {
    let store = await openFileObjectStore(dir);
    await store.put("ingest/old", Buffer.from("old"), { expiresAt: new Date(Date.now() - 1) });
    await store.put("ingest/live", Buffer.from("live"), { expiresAt: new Date(Date.now() + 3600_000) });
    await store.put("ingest/forever", Buffer.from("forever"));
    await store.put("ingest/was-expiring", Buffer.from("x"), { expiresAt: new Date(Date.now() - 1) });
    await store.put("ingest/was-expiring", Buffer.from("now kept")); // an overwrite without expiry clears it
    await assert.rejects(store.get("ingest/old"), ObjectNotFoundError);
    const listed: string[] = [];
    for await (const o of store.list("ingest/")) listed.push(o.key);
    assert.deepEqual(listed, ["ingest/forever", "ingest/live", "ingest/was-expiring"]);
    await store.close();

    store = await openFileObjectStore(dir); // the sweep on open deletes the expired file
    try {
      await assert.rejects(fs.stat(path.join(dir, "objects", "ingest.d", "old.o")), /ENOENT/);
      assert.deepEqual(await store.get("ingest/live"), Buffer.from("live"));
      assert.deepEqual(await store.get("ingest/was-expiring"), Buffer.from("now kept"));
      assert.deepEqual(await store.get("ingest/forever"), Buffer.from("forever"));
      const log = await fs.readFile(path.join(dir, "expiry.log"), "utf8");
      assert.deepEqual(
        log
          .trim()
          .split("\n")
          .map((l) => JSON.parse(l.slice(l.indexOf(" ") + 1))),
        ["ingest/live"],
      );
    } finally {
      await store.close();
    }
  });

  it("a delete forgets the expiry, so a later put of the same key lives", async function () {
    let store = await openFileObjectStore(dir);
    await store.put("k", Buffer.from("1"), { expiresAt: new Date(Date.now() + 500) });
    await store.delete(["k"]);
    await store.put("k", Buffer.from("2"));
    await store.close();
    await new Promise((r) => setTimeout(r, 600));
    store = await openFileObjectStore(dir);
    try {
      assert.deepEqual(await store.get("k"), Buffer.from("2"));
    } finally {
      await store.close();
    }
  });
});

describe("file object store fresh puts (ingestion files)", function () {
  let dir: string;
  beforeEach(async function () {
    dir = await tempDir();
  });
  afterEach(async function () {
    await fs.rm(dir, { recursive: true, force: true });
  });

  it("writes the object in place, survives a reopen, and refuses a key that exists", async function () {
    let store = await openFileObjectStore(dir);
    await store.put("ingest/a-1", Buffer.from("first"), { fresh: true });
    await store.put("ingest/a-2", Buffer.from("second"), { fresh: true });
    assert.deepEqual(await fs.readdir(path.join(dir, "tmp")), [], "no temp file involved");
    await assert.rejects(store.put("ingest/a-1", Buffer.from("again"), { fresh: true }), /EEXIST/);
    assert.deepEqual(await store.get("ingest/a-1"), Buffer.from("first"), "the refused put changed nothing");
    await store.close();
    store = await openFileObjectStore(dir);
    try {
      assert.deepEqual(await store.get("ingest/a-1"), Buffer.from("first"));
      assert.deepEqual(await store.get("ingest/a-2"), Buffer.from("second"));
    } finally {
      await store.close();
    }
  });

  it("makes a removed directory again (directories it made are remembered, not trusted blindly)", async function () {
    const store = await openFileObjectStore(dir);
    try {
      await store.put("ingest/x/1", Buffer.from("1"), { fresh: true });
      await fs.rm(path.join(dir, "objects", "ingest.d", "x.d"), { recursive: true });
      await store.put("ingest/x/2", Buffer.from("2"), { fresh: true });
      assert.deepEqual(await store.get("ingest/x/2"), Buffer.from("2"));
    } finally {
      await store.close();
    }
  });
});
