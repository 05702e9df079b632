/**
 * Log entry bodies kept off the log's partition key (store/dynamodb/entry-bodies.ts) on DynamoDB Local:
 * what an entry costs on the log's key, where its bytes go, conflicts, trims and their sweep, a reader
 * racing a trim, a pointer whose body is missing, what an agent of level 11 reads, and the log's choice at
 * entry levels 11 and 12.
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { DeleteItemCommand, DynamoDBClient, GetItemCommand, PutItemCommand } from "@aws-sdk/client-dynamodb";
import { ENTRY_FORMAT, type Command } from "../../src/metadata/commands.js";
import { ENTRY_MAGIC, storedFormat } from "../../src/metadata/format.js";
import { DynamoMetadataStore } from "../../src/store/dynamodb/index.js";
import {
  ENTRY_BODY_MIN_BYTES,
  ENTRY_BODY_STRIPES,
  ENTRY_BODY_STUB_FORMAT,
  entryBodyPk,
  newEntryBodyRef,
} from "../../src/store/dynamodb/entry-bodies.js";
import { LOG_PK, logSk } from "../../src/store/dynamodb/log-keys.js";
import { testMetadataLog } from "../support/metadata-log.js";
import { useDynamoTables, type DynamoTables } from "./dynamo-tables.js";
import { logItem, logUnitsOf, storedBodies } from "./log-items.js";

describe("metadata log entry bodies on DynamoDB", function () {
  this.timeout(120_000);
  const env = useDynamoTables("bodies");
  let ddb: DynamoDBClient;
  let tables: DynamoTables;
  let store: DynamoMetadataStore;

  beforeEach(function () {
    ({ ddb, tables } = env);
    store = new DynamoMetadataStore(ddb, tables.filesTable, tables.chunksTable, { queryPageLimit: 7 });
  });

  function peer(): DynamoMetadataStore {
    return new DynamoMetadataStore(ddb, tables.filesTable, tables.chunksTable);
  }

  it("keeps a 100 KB entry's bytes in its stripe and 1 write unit on the log's key", async function () {
    const data = randomBytes(100 * 1024);
    const units = await logUnitsOf(() => store.append(17n, data));
    assert.ok(units.log <= 1, `${units.log} write units on the log's key`);
    assert.ok(units.bodies >= 100, `${units.bodies} write units on the stripes`);
    const stored = await storedBodies(env);
    assert.equal(stored.length, 1);
    assert.equal(stored[0]!.pk, entryBodyPk(17n));
    assert.equal(stored[0]!.pk, "logbody/17");
    assert.match(stored[0]!.sk, /^00000000000000000017-[0-9a-f]{12}$/);
    for (const consistent of [true, false]) {
      const [rec] = await peer().read(17n, 1, { consistent });
      assert.deepEqual(rec, { index: 17n, data });
    }
  });

  it("keeps an entry whose item fits one write unit whole, and any entry when told inlineOnly", async function () {
    const small = randomBytes(ENTRY_BODY_MIN_BYTES);
    const large = randomBytes(100 * 1024);
    const smallUnits = await logUnitsOf(() => store.append(1n, small));
    const inlineUnits = await logUnitsOf(() => store.append(2n, large, { inlineOnly: true }));
    assert.equal(smallUnits.bodies + inlineUnits.bodies, 0);
    assert.equal(smallUnits.log, 1, "an entry of ENTRY_BODY_MIN_BYTES: an item of 1 KB with its keys");
    assert.ok(inlineUnits.log >= 100, `${inlineUnits.log} write units on the log's key`);
    assert.deepEqual(await storedBodies(env), []);
    assert.deepEqual((await logItem(env, 2n))?.d?.B, new Uint8Array(large));
    assert.deepEqual(
      (await peer().read(1n, 10)).map((r) => r.data),
      [small, large],
    );
  });

  it("spreads consecutive entries over the stripes in turn", async function () {
    for (let i = 1n; i <= BigInt(ENTRY_BODY_STRIPES) + 2n; i++)
      assert.equal(await store.append(i, randomBytes(ENTRY_BODY_MIN_BYTES + 1)), true);
    const perStripe = new Map<string, number>();
    for (const b of await storedBodies(env)) perStripe.set(b.pk, (perStripe.get(b.pk) ?? 0) + 1);
    assert.equal(perStripe.size, ENTRY_BODY_STRIPES);
    assert.equal(perStripe.get(entryBodyPk(1n)), 2);
    assert.equal(perStripe.get(entryBodyPk(2n)), 2);
    assert.equal(perStripe.get(entryBodyPk(3n)), 1);
  });

  it("a writer that loses the index deletes its body; the winner's is read", async function () {
    const handles = [store, peer(), peer(), peer()];
    const entries = handles.map(() => randomBytes(20 * 1024));
    const results = await Promise.all(handles.map((h, i) => h.append(5n, entries[i]!)));
    assert.equal(results.filter((r) => r).length, 1);
    const winner = entries[results.indexOf(true)]!;
    assert.equal((await storedBodies(env)).length, 1);
    assert.deepEqual(await peer().read(5n, 1), [{ index: 5n, data: winner }]);
  });

  async function leaveBody(index: bigint): Promise<void> {
    // A writer that stopped between its body and its pointer.
    const orphan = newEntryBodyRef(index, 10);
    await ddb.send(
      new PutItemCommand({
        TableName: tables.filesTable,
        Item: { pk: { S: orphan.pk }, sk: { S: orphan.sk }, d: { B: Buffer.alloc(10) } },
      }),
    );
  }

  const indexesOf = async (): Promise<bigint[]> =>
    (await storedBodies(env)).map((b) => BigInt(b.sk.slice(0, 20))).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));

  it("trim tombstones the pointers, deletes their bodies by key and keeps the rest", async function () {
    for (let i = 1n; i <= 20n; i++) assert.equal(await store.append(i, Buffer.alloc(8 * 1024, Number(i))), true);
    await store.putSnapshot({ index: 12n, data: Buffer.from("state at 12") });
    await store.trim(13n);
    assert.deepEqual(
      await indexesOf(),
      Array.from({ length: 8 }, (_, i) => BigInt(i + 13)),
    );
    assert.equal((await logItem(env, 12n))?.t?.BOOL, true);
    assert.deepEqual(
      (await peer().read(1n, 100)).map((r) => [r.index, r.data[0]]),
      Array.from({ length: 8 }, (_, i) => [BigInt(i + 13), i + 13]),
    );
  });

  it("bodies writers left behind go within one trim per stripe, each sweeping the next stripe", async function () {
    const stripes = BigInt(ENTRY_BODY_STRIPES);
    for (let i = 1n; i <= 2n * stripes + 2n; i++) assert.equal(await store.append(i, Buffer.from(`e${i}`)), true);
    // One left behind in every stripe, below every trim; one above them, which stays.
    for (let i = 1n; i <= stripes; i++) await leaveBody(i);
    await leaveBody(2n * stripes + 2n);
    const swept: number[] = [];
    for (let k = 1n; k <= stripes; k++) {
      await store.putSnapshot({ index: stripes + k, data: Buffer.from(`state at ${stripes + k}`) });
      await store.trim(stripes + k + 1n);
      swept.push((await storedBodies(env)).length);
    }
    assert.deepEqual(
      swept,
      Array.from({ length: ENTRY_BODY_STRIPES }, (_, k) => ENTRY_BODY_STRIPES - k),
    );
    assert.deepEqual(await indexesOf(), [2n * stripes + 2n]);
  });

  it("a reader racing a trim sees the trimmed entry as gone; a live pointer without its body is an error", async function () {
    for (let i = 1n; i <= 3n; i++) assert.equal(await store.append(i, Buffer.alloc(6 * 1024, Number(i))), true);
    const body2 = (await storedBodies(env)).find((b) => b.sk.startsWith(logSk(2n)))!;
    const reader = peer();
    await ddb.send(
      new DeleteItemCommand({ TableName: tables.filesTable, Key: { pk: { S: body2.pk }, sk: { S: body2.sk } } }),
    );
    await assert.rejects(reader.read(1n, 10), /metadata log entry 2: its body logbody\/02 0+2-[0-9a-f]+ is missing/);
    // A trim racing the read: the query saw the live pointer, the trim tombstoned it and deleted the body
    // before the reader looked at the pointer again.
    let tombstoned = false;
    const sent = ddb.send.bind(ddb);
    ddb.send = (async (command: unknown, options?: unknown) => {
      if (!tombstoned && command instanceof GetItemCommand && command.input.Key?.sk?.S === logSk(2n)) {
        tombstoned = true;
        await sent(
          new PutItemCommand({
            TableName: tables.filesTable,
            Item: { pk: { S: LOG_PK }, sk: { S: logSk(2n) }, t: { BOOL: true } },
          }),
        );
      }
      return (sent as (c: unknown, o?: unknown) => Promise<unknown>)(command, options);
    }) as typeof ddb.send;
    try {
      assert.deepEqual(
        (await reader.read(1n, 10)).map((r) => [r.index, r.data[0]]),
        [
          [1n, 1],
          [3n, 3],
        ],
      );
      assert.ok(tombstoned);
    } finally {
      ddb.send = sent;
    }
  });

  it("an agent of level 11 reads a pointer as an entry of format 12, which it refuses", async function () {
    assert.equal(await store.append(9n, randomBytes(64 * 1024)), true);
    const raw = Buffer.from((await logItem(env, 9n))!.d!.B!);
    assert.equal(raw.length, 3);
    const format = storedFormat(raw, ENTRY_MAGIC);
    assert.deepEqual(format, { kind: "binary", version: ENTRY_BODY_STUB_FORMAT, headerBytes: 3 });
    assert.equal(ENTRY_BODY_STUB_FORMAT, ENTRY_FORMAT.entryBodies);
    // The newest level the previous release reads: its decoder refuses any format above it, naming it.
    assert.ok(format.kind === "binary" && format.version > ENTRY_FORMAT.snapshotObjects);
  });

  describe("the log's choice at entry levels 11 and 12", function () {
    const log = (metadata: DynamoMetadataStore, readers: number) =>
      testMetadataLog(metadata, { readersFormat: () => readers });

    for (const readers of [ENTRY_FORMAT.entryBodies - 1, ENTRY_FORMAT.entryBodies]) {
      it(`with every live agent at level ${readers}: ${readers < ENTRY_FORMAT.entryBodies ? "whole" : "a body apart"}`, async function () {
        const writer = log(store, readers);
        await writer.open();
        // One entry of 40 topics with long names: about 10 KB.
        const commands: Command[] = Array.from({ length: 40 }, (_, i) => ({
          type: "createTopic",
          name: `topic-${i}-${"x".repeat(200)}`,
          topicId: randomBytes(16).toString("hex"),
          partitions: 2,
          configs: {},
        }));
        const units = await logUnitsOf(() => writer.propose(commands));
        const index = writer.state.appliedIndex;
        if (readers < ENTRY_FORMAT.entryBodies) {
          assert.equal(units.bodies, 0);
          assert.ok(units.log >= 8, `${units.log} write units on the log's key`);
          assert.deepEqual(await storedBodies(env), []);
        } else {
          assert.ok(units.log <= 1, `${units.log} write units on the log's key`);
          assert.equal((await storedBodies(env)).length, 1);
          assert.equal((await logItem(env, index))?.bpk?.S, entryBodyPk(index));
        }
        const reader = log(peer(), readers);
        await reader.open();
        assert.equal(reader.state.partitionTotal, 80);
        await writer.close();
        await reader.close();
      });
    }
  });
});
