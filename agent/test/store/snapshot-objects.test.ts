/**
 * Metadata snapshots kept as objects in the compaction bucket (store/snapshot-objects.ts) on DynamoDB Local
 * and a real S3 API server: the MetadataStore contract, what each snapshot costs in DynamoDB write units,
 * superseded and abandoned objects, a reader racing a newer snapshot, a snapshot chunked in the table by an
 * older agent, and the refusal of a reference where no compaction bucket is open. The log's choice (entry
 * level 11) runs on the in-memory stores.
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { CreateBucketCommand, S3Client } from "@aws-sdk/client-s3";
import { DeleteTableCommand, DynamoDBClient, GetItemCommand, ScanCommand } from "@aws-sdk/client-dynamodb";
import { ENTRY_FORMAT } from "../../src/metadata/commands.js";
import { decodeSnapshot } from "../../src/metadata/snapshot-codec.js";
import { MetadataFormatError } from "../../src/metadata/format.js";
import { DynamoMetadataStore, ensureTables } from "../../src/store/dynamodb/index.js";
import { SNAPSHOT_PK, SNAPSHOT_SK } from "../../src/store/dynamodb/metadata.js";
import { MemMetadataStore, MemObjectStore } from "../../src/store/mem.js";
import { S3ObjectStore } from "../../src/store/s3/index.js";
import {
  SNAPSHOT_OBJECT_MIN_BYTES,
  SNAPSHOT_OBJECT_PREFIX,
  SnapshotObjectStore,
  decodeSnapshotObjectRef,
  snapshotObjectKey,
} from "../../src/store/snapshot-objects.js";
import type { ByteRange, ObjectStore } from "../../src/store/types.js";
import { storeUsage } from "../../src/store/usage.js";
import { testMetadataLog } from "../support/metadata-log.js";
import { runMetadataStoreContract } from "./contract.js";
import { startDynamo, startS3, type TestServer } from "./servers.js";

const REGION = "us-east-1";
const credentials = { accessKeyId: "warplocal", secretAccessKey: "warplocal" };

interface Fixture {
  readonly store: SnapshotObjectStore;
  readonly table: DynamoMetadataStore;
  readonly objects: S3ObjectStore;
  readonly ddb: DynamoDBClient;
  readonly tables: { readonly filesTable: string; readonly chunksTable: string };
  peer(objects?: ObjectStore): SnapshotObjectStore;
  cleanup(): Promise<void>;
}

async function collect(objects: ObjectStore, prefix: string): Promise<string[]> {
  const keys: string[] = [];
  for await (const o of objects.list(prefix)) keys.push(o.key);
  return keys;
}

describe("metadata snapshots as objects in the compaction bucket", function () {
  this.timeout(120_000);
  let dynamo: TestServer | null = null;
  let s3: TestServer | null = null;
  let counter = 0;

  before(async function () {
    this.timeout(180_000);
    dynamo = await startDynamo();
    s3 = await startS3();
  });

  after(async function () {
    await dynamo?.stop();
    await s3?.stop();
  });

  async function fixture(): Promise<Fixture> {
    const id = `${process.pid}-${++counter}-${randomBytes(3).toString("hex")}`;
    const tables = { filesTable: `snapobj-files-${id}`, chunksTable: `snapobj-chunks-${id}` };
    const bucket = `snapobj-${id}`;
    const ddb = new DynamoDBClient({ region: REGION, endpoint: dynamo!.endpoint, credentials });
    const s3c = new S3Client({ region: REGION, endpoint: s3!.endpoint, forcePathStyle: true, credentials });
    await ensureTables(ddb, tables, { create: true });
    await s3c.send(new CreateBucketCommand({ Bucket: bucket }));
    const objects = new S3ObjectStore(bucket, "warp/", s3c);
    const table = new DynamoMetadataStore(ddb, tables.filesTable, tables.chunksTable, { queryPageLimit: 7 });
    const clients: DynamoDBClient[] = [];
    return {
      store: new SnapshotObjectStore(table, objects),
      table,
      objects,
      ddb,
      tables,
      peer: (other) => {
        const c = new DynamoDBClient({ region: REGION, endpoint: dynamo!.endpoint, credentials });
        clients.push(c);
        return new SnapshotObjectStore(
          new DynamoMetadataStore(c, tables.filesTable, tables.chunksTable),
          other ?? new S3ObjectStore(bucket, "warp/", s3c),
        );
      },
      cleanup: async () => {
        for (const key of await collect(objects, "")) await objects.delete([key]);
        for (const t of [tables.filesTable, tables.chunksTable])
          await ddb.send(new DeleteTableCommand({ TableName: t })).catch(() => {});
        for (const c of clients) c.destroy();
        ddb.destroy();
        s3c.destroy();
      },
    };
  }

  runMetadataStoreContract("dynamodb with snapshots in S3", async () => {
    const fx = await fixture();
    return { store: fx.store, peer: async () => fx.peer(), cleanup: fx.cleanup };
  });

  describe("specifics", function () {
    let fx: Fixture;
    beforeEach(async function () {
      fx = await fixture();
    });
    afterEach(async function () {
      await fx.cleanup();
    });

    async function pointerItem() {
      const out = await fx.ddb.send(
        new GetItemCommand({
          TableName: fx.tables.filesTable,
          Key: { pk: { S: SNAPSHOT_PK }, sk: { S: SNAPSHOT_SK } },
          ConsistentRead: true,
        }),
      );
      return out.Item;
    }

    async function chunkItems(): Promise<number> {
      const out = await fx.ddb.send(new ScanCommand({ TableName: fx.tables.chunksTable, Select: "COUNT" }));
      return out.Count ?? 0;
    }

    it("writes a 300 KB snapshot as one object and a reference in the table: a few write units instead of hundreds", async function () {
      const data = randomBytes(300 * 1024);
      const before = storeUsage.snapshot();
      await fx.store.putSnapshot({ index: 40n, data });
      const after = storeUsage.snapshot();
      const wru = after.dynamoWriteUnits - before.dynamoWriteUnits;
      assert.ok(wru <= 2, `DynamoDB write units for the snapshot: ${wru}`);
      assert.equal(after.s3Requests.put - before.s3Requests.put, 1);
      const keys = await collect(fx.objects, SNAPSHOT_OBJECT_PREFIX);
      assert.equal(keys.length, 1);
      assert.match(keys[0]!, /^metadata\/snapshots\/00000000000000000040-[0-9a-f]+$/);
      assert.equal(await chunkItems(), 0, "nothing chunked in the table");
      const ref = decodeSnapshotObjectRef(Buffer.from((await pointerItem())!.inl!.B!));
      assert.deepEqual(ref, { key: keys[0], size: data.length });
      // Read back through another handle, as another agent would.
      const snap = await fx.peer().latestSnapshot();
      assert.equal(snap?.index, 40n);
      assert.ok(snap.data.equals(data));

      // The same snapshot written by an agent without the bucket (or before level 11) is chunked in the table.
      const beforeTable = storeUsage.snapshot().dynamoWriteUnits;
      await fx.table.putSnapshot({ index: 41n, data });
      const tableWru = storeUsage.snapshot().dynamoWriteUnits - beforeTable;
      assert.ok(tableWru >= 300, `in the table: ${tableWru} write units`);
    });

    it("keeps small snapshots and those written in-table-only in the table", async function () {
      await fx.store.putSnapshot({ index: 1n, data: randomBytes(SNAPSHOT_OBJECT_MIN_BYTES - 1) });
      const big = randomBytes(100 * 1024);
      await fx.store.putSnapshot({ index: 2n, data: big }, { inTableOnly: true });
      assert.deepEqual(await collect(fx.objects, SNAPSHOT_OBJECT_PREFIX), []);
      assert.ok((await chunkItems()) > 0);
      const snap = await fx.store.latestSnapshot();
      assert.equal(snap?.index, 2n);
      assert.ok(snap.data.equals(big));
    });

    it("moves a snapshot chunked in the table by an older agent to an object, deleting its chunks", async function () {
      const old = randomBytes(200 * 1024);
      await fx.table.putSnapshot({ index: 10n, data: old });
      assert.ok((await chunkItems()) > 0, "the older agent's snapshot is chunked");
      assert.ok((await fx.store.latestSnapshot())!.data.equals(old), "and read through the wrapper");
      const next = randomBytes(200 * 1024);
      await fx.store.putSnapshot({ index: 20n, data: next });
      assert.equal(await chunkItems(), 0, "its chunks went with the pointer");
      assert.ok((await fx.store.latestSnapshot())!.data.equals(next));
    });

    it("deletes superseded objects, those a writer left behind below the pointer, and the last one once snapshots fit the table; keeps newer ones", async function () {
      const abandonedBelow = snapshotObjectKey(5n);
      const aheadOfUs = snapshotObjectKey(99n);
      await fx.objects.put(abandonedBelow, randomBytes(2000));
      await fx.objects.put(aheadOfUs, randomBytes(2000));
      await fx.store.putSnapshot({ index: 10n, data: randomBytes(5000) });
      const first = (await collect(fx.objects, SNAPSHOT_OBJECT_PREFIX)).filter((k) => k !== aheadOfUs);
      assert.equal(first.length, 1, "the one below went");
      await fx.store.putSnapshot({ index: 30n, data: randomBytes(5000) });
      const left = await collect(fx.objects, SNAPSHOT_OBJECT_PREFIX);
      assert.equal(left.length, 2);
      assert.ok(!left.includes(first[0]!), "the superseded snapshot's object was deleted");
      assert.ok(left.includes(aheadOfUs), "an object of a higher index is not ours to delete");
      // A snapshot that loses to a newer pointer leaves its object; the next one sweeps it.
      await fx.peer().putSnapshot({ index: 50n, data: randomBytes(5000) });
      await fx.store.putSnapshot({ index: 40n, data: randomBytes(5000) });
      assert.equal((await fx.store.latestSnapshot())?.index, 50n);
      await fx.store.putSnapshot({ index: 60n, data: randomBytes(5000) });
      const last = await collect(fx.objects, SNAPSHOT_OBJECT_PREFIX);
      assert.deepEqual(
        last.map((k) => k.slice(SNAPSHOT_OBJECT_PREFIX.length, SNAPSHOT_OBJECT_PREFIX.length + 20)),
        ["00000000000000000060", "00000000000000000099"],
      );
      // A state small enough for the table again: its snapshot goes there, and the object before it goes.
      await fx.store.putSnapshot({ index: 70n, data: randomBytes(100) });
      assert.deepEqual(await collect(fx.objects, SNAPSHOT_OBJECT_PREFIX), [aheadOfUs]);
      assert.equal((await fx.store.latestSnapshot())?.data.length, 100);
    });

    it("a reader whose object was superseded under it reads the pointer again", async function () {
      const first = randomBytes(4000);
      const second = randomBytes(4000);
      await fx.store.putSnapshot({ index: 10n, data: first });
      // A real S3 store whose first get lets another agent's newer snapshot land (and delete the object
      // the reader was about to read) just before it reads.
      const writer = fx.peer();
      let raced = false;
      const racing = Object.assign(Object.create(fx.objects) as ObjectStore, {
        get: async (key: string, range?: ByteRange) => {
          if (!raced) {
            raced = true;
            await writer.putSnapshot({ index: 20n, data: second });
          }
          return fx.objects.get(key, range);
        },
      });
      const reader = fx.peer(racing);
      const snap = await reader.latestSnapshot();
      assert.ok(raced);
      assert.equal(snap?.index, 20n);
      assert.ok(snap.data.equals(second));
    });

    it("a reference read without the compaction bucket is refused, naming the object and the flags", async function () {
      await fx.store.putSnapshot({ index: 7n, data: randomBytes(3000) });
      const raw = await fx.table.latestSnapshot();
      assert.equal(raw?.index, 7n);
      assert.throws(
        () => decodeSnapshot(raw.data, raw.index),
        (err: unknown) =>
          err instanceof MetadataFormatError &&
          err.formatVersion === 8 &&
          /^metadata snapshot at log index 7 is kept as the object metadata\/snapshots\/00000000000000000007-[0-9a-f]+ \(3000 bytes\) in the compaction bucket, which this agent does not open: give it -ingestionBucketURL and -compactionBucketURL/.test(
            err.message,
          ),
      );
    });
  });
});

describe("the metadata log's snapshots and entry level 11", function () {
  const log = (store: SnapshotObjectStore, readers: number) =>
    testMetadataLog(store, { writesSnapshots: () => true, readersFormat: () => readers });

  for (const readers of [ENTRY_FORMAT.snapshotObjects - 1, ENTRY_FORMAT.snapshotObjects]) {
    it(`with every live agent at level ${readers}: ${readers < ENTRY_FORMAT.snapshotObjects ? "in the table" : "an object"}`, async function () {
      const table = new MemMetadataStore();
      const objects = new MemObjectStore();
      const store = new SnapshotObjectStore(table, objects);
      const writer = log(store, readers);
      await writer.open();
      await writer.propose([{ type: "createTopic", name: "t", topicId: "a".repeat(32), partitions: 300, configs: {} }]);
      await writer.snapshotNow();
      const inTable = await table.latestSnapshot();
      const keys = await collect(objects, SNAPSHOT_OBJECT_PREFIX);
      if (readers < ENTRY_FORMAT.snapshotObjects) {
        assert.ok(inTable && inTable.data.length >= SNAPSHOT_OBJECT_MIN_BYTES, `${inTable?.data.length} bytes`);
        assert.equal(decodeSnapshotObjectRef(inTable.data), null);
        assert.deepEqual(keys, []);
      } else {
        assert.equal(decodeSnapshotObjectRef(inTable!.data)?.key, keys[0]);
        assert.equal(keys.length, 1);
      }
      const reader = log(store, readers);
      await reader.open();
      assert.equal(reader.state.partitionTotal, 300);
      await writer.close();
      await reader.close();
    });
  }
});
