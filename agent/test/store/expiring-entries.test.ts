/**
 * Metadata log entries that expire through DynamoDB's TTL instead of being rewritten by trims (entry level
 * 13; store/dynamodb/metadata.ts, docs/metadata-log.md section 8) on DynamoDB Local: what an expiring
 * entry carries, what a trim writes, a late writer past an entry's expiry, a reader meeting an expired
 * entry, renewals, and the log's side (the level it writes them at, snapshots by age, renewal after a
 * failed snapshot).
 *
 * DynamoDB Local removes expired items as DynamoDB does, at a time of its choosing: the tests move an
 * expiry to where time would have, never into the past (an item that must stay there would go at any
 * moment), and remove an item where TTL would have.
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import {
  DeleteItemCommand,
  DynamoDBClient,
  GetItemCommand,
  UpdateItemCommand,
  type AttributeValue,
} from "@aws-sdk/client-dynamodb";
import { ENTRY_FORMAT } from "../../src/metadata/commands.js";
import { DEFAULT_LOG_ENTRY_TTL_MS, type MetadataLog } from "../../src/metadata/log.js";
import { DynamoMetadataStore } from "../../src/store/dynamodb/index.js";
import { LOG_PK, logSk } from "../../src/store/dynamodb/log-keys.js";
import type { MetadataStore, Snapshot } from "../../src/store/types.js";
import { storeUsage } from "../../src/store/usage.js";
import { testMetadataLog } from "../support/metadata-log.js";
import { useDynamoTables, type DynamoTables } from "./dynamo-tables.js";
import { logItem, logUnitsOf, storedBodies } from "./log-items.js";

const DAY_MS = 24 * 3600 * 1000;
const TTL_MS = DEFAULT_LOG_ENTRY_TTL_MS;
const EXPIRING = { expiresAfterMs: TTL_MS } as const;

describe("metadata log entries that expire on DynamoDB", function () {
  this.timeout(120_000);
  const env = useDynamoTables("expiring");
  let ddb: DynamoDBClient;
  let tables: DynamoTables;
  let store: DynamoMetadataStore;

  beforeEach(function () {
    ({ ddb, tables } = env);
    store = peer();
  });

  function peer(): DynamoMetadataStore {
    return new DynamoMetadataStore(ddb, tables.filesTable, tables.chunksTable);
  }

  const logKey = (index: bigint) => ({ pk: { S: LOG_PK }, sk: { S: logSk(index) } });

  /** An item's expiry in ms, or undefined. */
  const expiryOf = (item: Record<string, AttributeValue> | undefined) =>
    item?.expiresAt?.N === undefined ? undefined : Number(item.expiresAt.N) * 1000;

  /** Moves entry `index`'s expiry (and its body's, if any) to `at` (ms), as time passing would. */
  async function setExpiry(index: bigint, at: number): Promise<void> {
    const item = await logItem(env, index);
    const update = (Key: Record<string, { S: string }>) =>
      ddb.send(
        new UpdateItemCommand({
          TableName: tables.filesTable,
          Key,
          UpdateExpression: "SET expiresAt = :e",
          ExpressionAttributeValues: { ":e": { N: String(Math.ceil(at / 1000)) } },
        }),
      );
    await update(logKey(index));
    if (item?.bpk?.S && item.bsk?.S) await update({ pk: { S: item.bpk.S }, sk: { S: item.bsk.S } });
  }

  it("an expiring entry expires -metadataLogEntryTTL after it was written, its body a day later; others never", async function () {
    const before = Date.now();
    assert.equal(await store.append(1n, Buffer.from("small"), EXPIRING), true);
    assert.equal(await store.append(2n, randomBytes(20 * 1024), EXPIRING), true);
    assert.equal(await store.append(3n, Buffer.from("older agents' entry")), true);
    const after = Date.now();
    assert.equal(TTL_MS, 7 * DAY_MS, "the agents' default");
    for (const index of [1n, 2n]) {
      const at = expiryOf(await logItem(env, index));
      assert.ok(at !== undefined && at >= before + TTL_MS - 1000 && at <= after + TTL_MS + 1000, `${index}: ${at}`);
    }
    assert.equal(expiryOf(await logItem(env, 3n)), undefined);
    const [body] = await storedBodies(env);
    assert.ok(body!.expiresAt! >= expiryOf(await logItem(env, 2n))! + DAY_MS - 1000, "the body outlives its pointer");
    assert.deepEqual(
      (await peer().read(1n, 10)).map((r) => r.index),
      [1n, 2n, 3n],
    );
  });

  it("trim leaves expiring entries and their bodies to TTL, and tombstones the others", async function () {
    for (let i = 1n; i <= 10n; i++)
      assert.equal(await store.append(i, Buffer.alloc(i % 2n === 0n ? 4096 : 500, Number(i)), EXPIRING), true);
    assert.equal(await store.append(11n, Buffer.from("older agents' entry")), true);
    for (let i = 12n; i <= 14n; i++) assert.equal(await store.append(i, Buffer.from(`e${i}`), EXPIRING), true);
    await store.putSnapshot({ index: 13n, data: Buffer.from("s13") });
    const units = await logUnitsOf(() => store.trim(14n));
    // The older agents' entry's tombstone: 1 unit on the log's key; nothing written on the stripes.
    assert.deepEqual(units, { log: 1, bodies: 0 });
    assert.equal((await logItem(env, 11n))?.t?.BOOL, true);
    for (const i of [1n, 2n, 12n, 13n])
      assert.equal((await logItem(env, i))?.t, undefined, `entry ${i} is left to TTL`);
    assert.equal((await storedBodies(env)).length, 5, "every body stays until TTL removes it");
    // Below the snapshot, untrimmed entries are still readable, as the trim may leave them.
    assert.deepEqual(
      (await peer().read(10n, 10)).map((r) => r.index),
      [10n, 12n, 13n, 14n],
    );
  });

  it("a writer that saw the log's last entry past its expiry checks the snapshot pointer (regression)", async function () {
    for (let i = 1n; i <= 4n; i++) assert.equal(await store.append(i, Buffer.from(`e${i}`), EXPIRING), true);
    await store.putSnapshot({ index: 4n, data: Buffer.from("s4") });
    await store.trim(5n);
    // A week on: every entry is within the hour before its expiry.
    for (let i = 1n; i <= 4n; i++) await setExpiry(i, Date.now() + 30 * 60 * 1000);
    // A late writer read to the log's end a moment ago: entry 4 was the last; then it expired and TTL
    // removed it.
    const late = peer();
    assert.deepEqual(
      (await late.read(1n, 10)).map((r) => r.index),
      [1n, 2n, 3n, 4n],
    );
    await ddb.send(new DeleteItemCommand({ TableName: tables.filesTable, Key: logKey(4n) }));
    assert.equal(await late.append(4n, Buffer.from("late")), false, "index 4 is covered by the snapshot");
    assert.equal((await logItem(env, 4n))?.t?.BOOL, true, "the stray put was turned into a tombstone");
    // A writer at the end it just read, of entries far from their expiry, skips the check.
    for (let i = 5n; i <= 6n; i++) assert.equal(await store.append(i, Buffer.from(`e${i}`), EXPIRING), true);
    const tail = peer();
    assert.equal((await tail.read(6n, 10)).length, 1);
    const reads = storeUsage.dynamoReadUnits;
    assert.equal(await tail.append(7n, Buffer.from("e7"), EXPIRING), true);
    assert.equal(await tail.append(8n, Buffer.from("e8"), EXPIRING), true);
    assert.equal(storeUsage.dynamoReadUnits, reads, "no read for appends after the end it saw");
  });

  it("a writer that saw an expiring entry short of the log's end checks the snapshot pointer (regression)", async function () {
    // Entries 1-3 expire; 4 and 5 were written while an agent of level 12 ran (no expiry).
    for (let i = 1n; i <= 3n; i++) assert.equal(await store.append(i, Buffer.from(`e${i}`), EXPIRING), true);
    for (let i = 4n; i <= 6n; i++) assert.equal(await store.append(i, Buffer.from(`e${i}`)), true);
    await store.putSnapshot({ index: 5n, data: Buffer.from("s5") });
    await store.trim(6n);
    assert.equal((await logItem(env, 3n))?.t, undefined, "entry 3 is left to TTL");
    assert.equal((await logItem(env, 4n))?.t?.BOOL, true, "entry 4 is a tombstone");
    // A day on, TTL removed entry 4's tombstone. A late writer read entries 1-3 (live, a week from their
    // expiry) in a read that stopped at its limit, and appends at 4.
    await ddb.send(new DeleteItemCommand({ TableName: tables.filesTable, Key: logKey(4n) }));
    const late = peer();
    assert.deepEqual(
      (await late.read(1n, 3)).map((r) => r.index),
      [1n, 2n, 3n],
    );
    assert.equal(await late.append(4n, Buffer.from("late")), false, "index 4 is covered by the snapshot");
    assert.equal((await logItem(env, 4n))?.t?.BOOL, true, "the stray put was turned into a tombstone");
  });

  it("a reader leaves out an expired entry whose body TTL removed; an unexpired one without its body is an error", async function () {
    for (let i = 1n; i <= 3n; i++)
      assert.equal(await store.append(i, Buffer.alloc(6 * 1024, Number(i)), EXPIRING), true);
    const [b1, b2] = (await storedBodies(env)).sort((a, b) => a.sk.localeCompare(b.sk));
    // Entry 1 has expired and TTL removed its body first (in no particular order), not yet the entry. An
    // expired item that stays cannot be staged on DynamoDB Local, which removes it at any moment: the
    // reader's look at the pointer is answered with an expiry in the past (the item itself is unchanged).
    await ddb.send(
      new DeleteItemCommand({ TableName: tables.filesTable, Key: { pk: { S: b1!.pk }, sk: { S: b1!.sk } } }),
    );
    const sent = ddb.send.bind(ddb);
    let looked = false;
    ddb.send = (async (command: unknown, options?: unknown) => {
      const out = await (sent as (c: unknown, o?: unknown) => Promise<unknown>)(command, options);
      if (command instanceof GetItemCommand && command.input.Key?.sk?.S === logSk(1n)) {
        looked = true;
        const item = (out as { Item?: Record<string, unknown> }).Item;
        return { ...(out as object), Item: { ...item, expiresAt: { N: String(Math.floor(Date.now() / 1000) - 60) } } };
      }
      return out;
    }) as typeof ddb.send;
    try {
      assert.deepEqual(
        (await peer().read(1n, 10)).map((r) => [r.index, r.data[0]]),
        [
          [2n, 2],
          [3n, 3],
        ],
      );
      assert.ok(looked, "the reader looked at the pointer whose body was missing");
    } finally {
      ddb.send = sent;
    }
    await ddb.send(
      new DeleteItemCommand({ TableName: tables.filesTable, Key: { pk: { S: b2!.pk }, sk: { S: b2!.sk } } }),
    );
    await assert.rejects(peer().read(2n, 10), /metadata log entry 2: its body logbody\/02 0+2-[0-9a-f]+ is missing/);
  });

  it("renewEntries gives the entries and bodies from an index that expire within half the TTL a new expiry", async function () {
    for (let i = 1n; i <= 6n; i++)
      assert.equal(await store.append(i, i === 4n ? randomBytes(8 * 1024) : Buffer.from(`e${i}`), EXPIRING), true);
    assert.equal(await store.append(7n, Buffer.from("older agents' entry")), true);
    const soon = Date.now() + 2 * DAY_MS;
    for (const i of [1n, 3n, 4n]) await setExpiry(i, soon);
    const far = expiryOf(await logItem(env, 5n))!;
    const before = Date.now();
    const renewed = await store.renewEntries(3n, TTL_MS);
    assert.equal(renewed, 2, "entries 3 and 4: 1 is below, 5 and 6 are far from their expiry, 7 never expires");
    assert.equal(expiryOf(await logItem(env, 1n)), Math.ceil(soon / 1000) * 1000);
    for (const i of [3n, 4n]) assert.ok(expiryOf(await logItem(env, i))! >= before + TTL_MS - 1000, `entry ${i}`);
    assert.equal(expiryOf(await logItem(env, 5n)), far);
    assert.equal(expiryOf(await logItem(env, 7n)), undefined);
    const [body] = await storedBodies(env);
    assert.ok(
      body!.expiresAt! >= expiryOf(await logItem(env, 4n))! + DAY_MS - 1000,
      "the body still outlives its pointer",
    );
    assert.equal(await store.renewEntries(3n, TTL_MS), 0, "nothing near its expiry any more");
    assert.equal(await store.renewEntries(1n, 0), 0, "a TTL of 0 renews nothing");
  });

  describe("the log", function () {
    /**
     * The store, with snapshot writes failing while `down`: an injected failure, as an outage of the
     * snapshots' store (S3) cannot be staged under the log here.
     */
    function snapshotsDown(down: boolean): { readonly store: MetadataStore; down: boolean } {
      const state = {
        down,
        store: new Proxy(store, {
          get(target, prop, receiver) {
            if (prop === "putSnapshot" && state.down) return () => Promise.reject(new Error("snapshot store down"));
            const value: unknown = Reflect.get(target, prop, receiver);
            return typeof value === "function" ? (value as (...a: unknown[]) => unknown).bind(target) : value;
          },
        }) as MetadataStore,
      };
      return state;
    }

    /** Proposes a topic of one partition: one entry. */
    const createTopic = (log: MetadataLog, name: string) =>
      log.propose([
        { type: "createTopic", name, topicId: randomBytes(16).toString("hex"), partitions: 1, configs: {} },
      ]);

    it("refuses to start on a log whose entries after the newest snapshot expired, naming them and the TTL", async function () {
      const writer = testMetadataLog(store, { writesSnapshots: () => true, entryTtlMs: TTL_MS });
      await writer.open();
      await createTopic(writer, "a");
      await createTopic(writer, "b");
      await writer.snapshotNow();
      for (const name of ["c", "d", "e"]) await createTopic(writer, name);
      await writer.close();
      // The cluster stayed down past the TTL: entries 3 and 4 are gone (5 not yet removed).
      for (const i of [3n, 4n]) await ddb.send(new DeleteItemCommand({ TableName: tables.filesTable, Key: logKey(i) }));
      const reader = testMetadataLog(peer());
      await assert.rejects(
        reader.open(),
        /metadata log entries 3 to 4 are gone and the newest snapshot is at 2: .*-metadataLogEntryTTL .*default 168h/,
      );
    });

    it("writes expiring entries while every live agent reads level 13, and not at 12", async function () {
      assert.equal(ENTRY_FORMAT.expiringEntries, 13);
      for (const readers of [12, 13]) {
        const log = testMetadataLog(store, { readersFormat: () => readers, entryTtlMs: TTL_MS });
        await log.open();
        await createTopic(log, `t${readers}`);
        const at = expiryOf(await logItem(env, log.state.appliedIndex));
        assert.equal(at !== undefined, readers === 13, `level ${readers}: expiry ${at}`);
        await log.close();
      }
    });

    it("the snapshot writer snapshots a quiet log by age, far fewer entries than snapshotEveryEntries", async function () {
      const log = testMetadataLog(store, {
        tailIntervalMs: 20,
        snapshotEveryEntries: 1000,
        snapshotMaxAgeMs: 300,
        writesSnapshots: () => true,
      });
      await log.open();
      try {
        for (let i = 0; i < 3; i++) await createTopic(log, `t${i}`);
        const deadline = Date.now() + 10_000;
        let snapshot: Snapshot | null = null;
        while (Date.now() < deadline && snapshot?.index !== 3n) {
          await new Promise((r) => setTimeout(r, 100));
          snapshot = await peer().latestSnapshot();
        }
        assert.equal(snapshot?.index, 3n, "a snapshot of the 3 entries, by age");
      } finally {
        await log.close();
      }
    });

    it("tries a failed snapshot again by age on a quiet log, and a graceful shutdown writes it (regression)", async function () {
      const snapshots = snapshotsDown(true);
      let failures = 0;
      const log = testMetadataLog(snapshots.store, {
        tailIntervalMs: 20,
        snapshotEveryEntries: 2,
        snapshotMaxAgeMs: 200,
        writesSnapshots: () => true,
        entryTtlMs: TTL_MS,
        onSnapshotFailed: () => failures++,
      });
      await log.open();
      try {
        for (const name of ["a", "b"]) await createTopic(log, name);
        // Nothing more is appended: the snapshot of entry 2 is tried again by age, and fails again.
        const deadline = Date.now() + 10_000;
        while (Date.now() < deadline && failures < 3) await new Promise((r) => setTimeout(r, 50));
        assert.ok(failures >= 3, `${failures} attempts`);
        snapshots.down = false;
        await log.snapshotNow();
        assert.equal((await peer().latestSnapshot())?.index, 2n, "the shutdown snapshot covers entry 2");
      } finally {
        await log.close();
      }
    });

    it("after a failed snapshot, renews the entries no durable snapshot covers", async function () {
      const snapshots = snapshotsDown(false);
      let failures = 0;
      let renewals = 0;
      const log = testMetadataLog(snapshots.store, {
        snapshotEveryEntries: 2,
        writesSnapshots: () => true,
        entryTtlMs: TTL_MS,
        onSnapshotFailed: () => failures++,
        onEntriesRenewed: (n) => (renewals += n),
      });
      await log.open();
      try {
        const create = (name: string) => createTopic(log, name);
        await create("a");
        await create("b");
        await log.snapshotNow();
        assert.equal((await peer().latestSnapshot())?.index, 2n);
        snapshots.down = true;
        await create("c");
        // Days of failed snapshots later: entry 3 nears its expiry.
        const soon = Date.now() + DAY_MS;
        await setExpiry(3n, soon);
        await create("d"); // the fourth entry: a snapshot is due, fails, and the entries after 2 are renewed
        const deadline = Date.now() + 10_000;
        while (Date.now() < deadline && expiryOf(await logItem(env, 3n))! < soon + DAY_MS)
          await new Promise((r) => setTimeout(r, 100));
        assert.ok(expiryOf(await logItem(env, 3n))! > Date.now() + TTL_MS - 60_000, "entry 3 renewed");
        assert.deepEqual({ failures, renewals }, { failures: 1, renewals: 1 }, "counted (the agent's metrics)");
        assert.equal(
          await peer()
            .latestSnapshot()
            .then((s) => s?.index),
          2n,
          "no snapshot was written meanwhile",
        );
      } finally {
        await log.close();
      }
    });
  });
});
