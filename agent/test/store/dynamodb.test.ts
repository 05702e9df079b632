/**
 * The store contracts on DynamoDB Local (AWS's own emulator, started by e2e/support/dynamodb-local.ts,
 * or an already running one named by WARP_TEST_DYNAMODB_ENDPOINT), plus DynamoDB-specific behaviour:
 * table creation and verification, chunking, TTL attributes, capacity accounting.
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import {
  CreateTableCommand,
  DeleteItemCommand,
  DeleteTableCommand,
  DescribeTimeToLiveCommand,
  DynamoDBClient,
  GetItemCommand,
  QueryCommand,
} from "@aws-sdk/client-dynamodb";
import { awsClientSettings, type AwsClientSettings } from "../../../common/aws/client-settings.js";
import { storeUsage } from "../../src/store/usage.js";
import {
  openDynamoStores,
  ensureTables,
  DynamoMetadataStore,
  TableSetupError,
} from "../../src/store/dynamodb/index.js";
import { descriptorPk } from "../../src/store/dynamodb/objects.js";
import { CHUNK_BYTES } from "../../src/store/dynamodb/chunks.js";
import type { Stores } from "../../src/store/types.js";
import { ObjectNotFoundError } from "../../src/store/types.js";
import { runMetadataStoreContract, runObjectStoreContract } from "./contract.js";
import { startDynamo } from "./servers.js";

const REGION = "us-east-1";
let endpoint = "";
let stopServer: (() => Promise<void>) | null = null;
let tableCounter = 0;

/** `settings`: retry and timeout settings (the SDK's defaults without). */
function client(settings: Partial<AwsClientSettings> = {}): DynamoDBClient {
  // DynamoDB Local keeps one database per access key and region: every handle uses the same ones.
  return new DynamoDBClient({
    region: REGION,
    endpoint,
    credentials: { accessKeyId: "warplocal", secretAccessKey: "warplocal" },
    ...settings,
  });
}

interface Tables {
  readonly filesTable: string;
  readonly chunksTable: string;
}

function newTables(): Tables {
  const id = `${process.pid}-${++tableCounter}-${randomBytes(3).toString("hex")}`;
  return { filesTable: `warp-files-${id}`, chunksTable: `warp-chunks-${id}` };
}

async function openStores(tables: Tables, c: DynamoDBClient, queryPageLimit?: number): Promise<Stores> {
  return openDynamoStores(
    { kind: "dynamodb", region: REGION, ...tables, endpoint },
    { createTables: true, client: c, ...(queryPageLimit ? { queryPageLimit } : {}) },
  );
}

async function dropTables(c: DynamoDBClient, tables: Tables): Promise<void> {
  for (const t of [tables.filesTable, tables.chunksTable])
    await c.send(new DeleteTableCommand({ TableName: t })).catch(() => {});
}

describe("dynamodb store", function () {
  this.timeout(120_000);

  before(async function () {
    this.timeout(180_000);
    const server = await startDynamo();
    endpoint = server.endpoint;
    stopServer = () => server.stop();
  });

  after(async function () {
    await stopServer?.();
  });

  runObjectStoreContract("dynamodb", async () => {
    const tables = newTables();
    const c = client();
    // A small page size proves that listing follows LastEvaluatedKey.
    const stores = await openStores(tables, c, 37);
    return {
      store: stores.ingestion,
      cleanup: async () => {
        await stores.close();
        await dropTables(c, tables);
        c.destroy();
      },
    };
  });

  runMetadataStoreContract("dynamodb", async () => {
    const tables = newTables();
    const c = client();
    const stores = await openStores(tables, c, 7);
    const peerClients: DynamoDBClient[] = [];
    return {
      store: stores.metadata,
      peer: async () => {
        const pc = client();
        peerClients.push(pc);
        return new DynamoMetadataStore(pc, tables.filesTable, tables.chunksTable, { queryPageLimit: 5 });
      },
      cleanup: async () => {
        await stores.close();
        await dropTables(c, tables);
        c.destroy();
        for (const pc of peerClients) pc.destroy();
      },
    };
  });

  describe("DynamoDB specifics", function () {
    let c: DynamoDBClient;
    let tables: Tables;
    let stores: Stores | null;
    beforeEach(function () {
      c = client();
      tables = newTables();
      stores = null;
    });
    afterEach(async function () {
      await stores?.close();
      await dropTables(c, tables);
      c.destroy();
    });

    it("creates missing tables with TTL on expiresAt, and reopens them", async function () {
      stores = await openStores(tables, c);
      for (const t of [tables.filesTable, tables.chunksTable]) {
        const ttl = await c.send(new DescribeTimeToLiveCommand({ TableName: t }));
        assert.equal(ttl.TimeToLiveDescription?.AttributeName, "expiresAt");
        assert.ok(
          ["ENABLED", "ENABLING"].includes(ttl.TimeToLiveDescription?.TimeToLiveStatus ?? ""),
          `${t}: ${ttl.TimeToLiveDescription?.TimeToLiveStatus}`,
        );
      }
      await stores.ingestion.put("x", Buffer.from("kept"));
      await stores.close();
      stores = await openDynamoStores(
        { kind: "dynamodb", region: REGION, ...tables, endpoint },
        { createTables: false, client: c },
      );
      assert.deepEqual(await stores.ingestion.get("x"), Buffer.from("kept"));
    });

    it("agents starting together all get the tables (creation races are absorbed)", async function () {
      const clients = [client(), client(), client()];
      try {
        await Promise.all(clients.map((cl) => ensureTables(cl, tables, { create: true })));
        await ensureTables(c, tables, { create: false });
      } finally {
        for (const cl of clients) cl.destroy();
      }
    });

    it("a missing table without createTables is an error naming the table", async function () {
      await assert.rejects(
        ensureTables(c, tables, { create: false }),
        (err: unknown) =>
          err instanceof TableSetupError &&
          err.message.includes(tables.filesTable) &&
          /does not exist/.test(err.message),
      );
    });

    it("an existing table with the wrong key schema is refused, naming the table and the expected schema", async function () {
      await c.send(
        new CreateTableCommand({
          TableName: tables.chunksTable,
          BillingMode: "PAY_PER_REQUEST",
          KeySchema: [
            { AttributeName: "pk", KeyType: "HASH" },
            { AttributeName: "sk", KeyType: "RANGE" },
          ],
          AttributeDefinitions: [
            { AttributeName: "pk", AttributeType: "S" },
            { AttributeName: "sk", AttributeType: "S" },
          ],
        }),
      );
      await assert.rejects(
        ensureTables(c, tables, { create: true }),
        (err: unknown) =>
          err instanceof TableSetupError &&
          err.message.includes(tables.chunksTable) &&
          err.message.includes("expected the chunks table schema [pk (S, HASH), sk (N, RANGE)]"),
      );
    });

    it("splits large objects into chunks under the item limit, with TTL on chunks and descriptor", async function () {
      stores = await openStores(tables, c);
      const data = randomBytes(CHUNK_BYTES * 2 + 100);
      const expiresAt = new Date(Date.now() + 3600_000);
      await stores.ingestion.put("ingest/big", data, { expiresAt });
      const desc = await c.send(
        new GetItemCommand({
          TableName: tables.filesTable,
          Key: { pk: { S: descriptorPk("ingest/big") }, sk: { S: "ingest/big" } },
        }),
      );
      assert.equal(desc.Item?.n?.N, "3");
      assert.equal(desc.Item?.expiresAt?.N, String(Math.ceil(expiresAt.getTime() / 1000)));
      const chunks = await c.send(
        new QueryCommand({
          TableName: tables.chunksTable,
          KeyConditionExpression: "pk = :pk",
          ExpressionAttributeValues: { ":pk": { S: desc.Item.cpk!.S! } },
        }),
      );
      assert.equal(chunks.Items?.length, 3);
      for (const item of chunks.Items ?? []) {
        assert.ok((item.d?.B?.length ?? 0) <= CHUNK_BYTES);
        assert.equal(item.expiresAt?.N, String(Math.ceil(expiresAt.getTime() / 1000)));
      }
      // Overwrite with a small object: the old chunk set is removed.
      await stores.ingestion.put("ingest/big", Buffer.from("small now"));
      const after = await c.send(
        new QueryCommand({
          TableName: tables.chunksTable,
          KeyConditionExpression: "pk = :pk",
          ExpressionAttributeValues: { ":pk": { S: desc.Item.cpk!.S! } },
        }),
      );
      assert.equal(after.Items?.length, 0);
      assert.deepEqual(await stores.ingestion.get("ingest/big"), Buffer.from("small now"));
    });

    it("setExpiry moves the TTL attribute of the descriptor and every chunk, and serves an expired object again", async function () {
      stores = await openStores(tables, c);
      const data = randomBytes(CHUNK_BYTES * 2 + 100);
      // Already past its expiry: reads treat it as gone, but TTL has not removed its items yet.
      await stores.ingestion.put("ingest/late", data, { expiresAt: new Date(Date.now() - 1000) });
      await stores.ingestion.put("ingest/inline", Buffer.from("small"), { expiresAt: new Date(Date.now() - 1000) });
      await assert.rejects(stores.ingestion.get("ingest/late"), ObjectNotFoundError);
      const later = new Date(Date.now() + 3600_000);
      assert.equal(await stores.ingestion.setExpiry("ingest/late", later), true);
      assert.equal(await stores.ingestion.setExpiry("ingest/inline", later), true);
      const ttl = String(Math.ceil(later.getTime() / 1000));
      for (const key of ["ingest/late", "ingest/inline"]) {
        const desc = await c.send(
          new GetItemCommand({ TableName: tables.filesTable, Key: { pk: { S: descriptorPk(key) }, sk: { S: key } } }),
        );
        assert.equal(desc.Item?.expiresAt?.N, ttl, `${key}: TTL attribute`);
        assert.equal(desc.Item?.expMs?.N, String(later.getTime()), `${key}: exact expiry`);
      }
      const desc = await c.send(
        new GetItemCommand({
          TableName: tables.filesTable,
          Key: { pk: { S: descriptorPk("ingest/late") }, sk: { S: "ingest/late" } },
        }),
      );
      const chunks = await c.send(
        new QueryCommand({
          TableName: tables.chunksTable,
          KeyConditionExpression: "pk = :pk",
          ExpressionAttributeValues: { ":pk": { S: desc.Item!.cpk!.S! } },
        }),
      );
      assert.equal(chunks.Items?.length, 3);
      for (const item of chunks.Items ?? []) assert.equal(item.expiresAt?.N, ttl);
      assert.deepEqual(await stores.ingestion.get("ingest/late"), data);
      assert.deepEqual(await stores.ingestion.get("ingest/inline"), Buffer.from("small"));

      // A chunk removed by TTL: the object is gone, and its descriptor is left as it was.
      await c.send(
        new DeleteItemCommand({ TableName: tables.chunksTable, Key: { pk: desc.Item!.cpk!, sk: { N: "1" } } }),
      );
      assert.equal(await stores.ingestion.setExpiry("ingest/late", new Date(Date.now() + 7200_000)), false);
      const unchanged = await c.send(
        new GetItemCommand({
          TableName: tables.filesTable,
          Key: { pk: { S: descriptorPk("ingest/late") }, sk: { S: "ingest/late" } },
        }),
      );
      assert.equal(unchanged.Item?.expMs?.N, String(later.getTime()));
    });

    it("a ranged get reads only the chunks that hold the range", async function () {
      stores = await openStores(tables, c);
      const data = randomBytes(CHUNK_BYTES * 6);
      await stores.ingestion.put("ranged", data);
      const before = storeUsage.dynamoReadUnits;
      await stores.ingestion.get("ranged", { offset: CHUNK_BYTES * 3 + 10, length: 100 });
      const oneChunk = storeUsage.dynamoReadUnits - before;
      const before2 = storeUsage.dynamoReadUnits;
      await stores.ingestion.get("ranged");
      const whole = storeUsage.dynamoReadUnits - before2;
      assert.ok(oneChunk > 0, "capacity is counted");
      assert.ok(oneChunk * 3 < whole, `ranged read used ${oneChunk} RCU, whole read ${whole} RCU`);
    });

    it("reads a committed object (consistent: false) eventually consistent for half the units; a miss is read again strongly", async function () {
      stores = await openStores(tables, c);
      const small = randomBytes(3000);
      const large = randomBytes(CHUNK_BYTES * 2 + 5);
      await stores.ingestion.put("once/small", small);
      await stores.ingestion.put("once/large", large);
      const unitsOf = async (key: string, consistent: boolean, range?: { offset: number; length: number }) => {
        const before = storeUsage.dynamoReadUnits;
        const data = await stores!.ingestion.get(key, range, { consistent });
        return { data, units: storeUsage.dynamoReadUnits - before };
      };
      for (const [key, data] of [
        ["once/small", small],
        ["once/large", large],
      ] as const) {
        const strong = await unitsOf(key, true);
        const eventual = await unitsOf(key, false);
        assert.ok(strong.data.equals(data) && eventual.data.equals(data));
        assert.ok(strong.units > 0);
        // Chunks were read eventually consistent first already; the descriptor now is too.
        assert.ok(
          eventual.units < strong.units,
          `${key}: eventually ${eventual.units} units, strongly ${strong.units}`,
        );
      }
      const small1 = await unitsOf("once/small", false);
      assert.equal(small1.units, 0.5, "an inline object of 3 KB: half a read unit");
      const ranged = await unitsOf("once/small", false, { offset: 10, length: 20 });
      assert.ok(ranged.data.equals(small.subarray(10, 30)));
      // Absent: the replica's answer is no answer; the strongly consistent read says it is gone.
      const before = storeUsage.dynamoReadUnits;
      await assert.rejects(stores.ingestion.get("once/absent", undefined, { consistent: false }), ObjectNotFoundError);
      assert.equal(storeUsage.dynamoReadUnits - before, 1.5, "an eventually and a strongly consistent read");
    });

    it("counts consumed capacity into storeUsage", async function () {
      stores = await openStores(tables, c);
      const events: string[] = [];
      const off = storeUsage.onChange((e) => events.push(e.kind));
      try {
        const w = storeUsage.dynamoWriteUnits;
        const r = storeUsage.dynamoReadUnits;
        assert.equal(await stores.metadata.append(1n, Buffer.alloc(3000)), true);
        assert.ok(storeUsage.dynamoWriteUnits - w >= 3, `write units ${storeUsage.dynamoWriteUnits - w}`);
        await stores.metadata.read(1n, 10);
        assert.ok(storeUsage.dynamoReadUnits > r);
        // A lost race is billed too (estimated: its error carries no ConsumedCapacity).
        const w2 = storeUsage.dynamoWriteUnits;
        assert.equal(await stores.metadata.append(1n, Buffer.alloc(3000)), false);
        assert.ok(storeUsage.dynamoWriteUnits - w2 >= 3);
      } finally {
        off();
      }
      assert.ok(events.includes("dynamoWrite") && events.includes("dynamoRead"));
    });

    it("reads the log eventually consistent when asked, for half the read units", async function () {
      stores = await openStores(tables, c);
      // Whole in the log's items: the Query's own units (bodies apart are read as entry-bodies.test.ts says).
      for (let i = 1n; i <= 3n; i++)
        assert.equal(await stores.metadata.append(i, Buffer.alloc(3000), { inlineOnly: true }), true);
      const unitsOf = async (consistent: boolean) => {
        const before = storeUsage.dynamoReadUnits;
        const records = await stores!.metadata.read(1n, 10, { consistent });
        assert.deepEqual(
          records.map((r) => r.index),
          [1n, 2n, 3n],
        );
        return storeUsage.dynamoReadUnits - before;
      };
      const strong = await unitsOf(true);
      const eventual = await unitsOf(false);
      assert.ok(strong > 0);
      assert.equal(eventual, strong / 2, `eventually consistent: ${eventual} units, strongly: ${strong}`);
    });

    it("counts a tail read that finds nothing at the minimum DynamoDB bills (DynamoDB Local reports 0)", async function () {
      stores = await openStores(tables, c);
      assert.equal(await stores.metadata.append(1n, Buffer.from("e1")), true);
      const unitsOf = async (consistent: boolean) => {
        const before = storeUsage.dynamoReadUnits;
        assert.deepEqual(await stores!.metadata.read(2n, 10, { consistent }), []);
        return storeUsage.dynamoReadUnits - before;
      };
      // An idle cluster's polls are such reads: uncounted, `warp cost --measured` missed most of its bill.
      assert.equal(await unitsOf(false), 0.5);
      assert.equal(await unitsOf(true), 1);
    });

    it("trims reading the entries below the snapshot eventually consistent", async function () {
      const seamClient = client(awsClientSettings("dynamodb", "agent"));
      const queries: Array<boolean | undefined> = [];
      seamClient.middlewareStack.add(
        (next, context) => async (args) => {
          if (context.commandName === "QueryCommand")
            queries.push((args.input as { ConsistentRead?: boolean }).ConsistentRead);
          return next(args);
        },
        { step: "initialize", name: "warpTestQueries" },
      );
      try {
        stores = await openStores(tables, seamClient);
        for (let i = 1n; i <= 4n; i++) assert.equal(await stores.metadata.append(i, Buffer.alloc(100)), true);
        await stores.metadata.putSnapshot({ index: 3n, data: Buffer.from("{}") });
        queries.length = 0;
        await stores.metadata.trim(3n);
        // The log's entries below the snapshot, then one stripe of entry bodies (entry-bodies.ts).
        assert.deepEqual(queries, [false, false]);
        assert.deepEqual(
          (await stores.metadata.read(1n, 10)).map((r) => r.index),
          [3n, 4n],
        );
        assert.equal(queries.at(-1), true, "reading the log stays strongly consistent by default");
      } finally {
        await stores?.close();
        stores = null;
        seamClient.destroy();
      }
    });

    it("counts the metadata log's units apart, under its partition key, and nothing else there", async function () {
      stores = await openStores(tables, c);
      const onLog = { read: 0, write: 0, estimated: 0 };
      const off = storeUsage.onChange((e) => {
        if (e.kind === "s3Request" || e.key !== "log") return;
        if (e.kind === "dynamoRead") onLog.read += e.units;
        else {
          onLog.write += e.units;
          if (e.estimated) onLog.estimated += e.units;
        }
      });
      try {
        // Kept whole (as while an agent of entry level 11 is live): every byte on the log's key.
        assert.equal(await stores.metadata.append(1n, Buffer.alloc(3000), { inlineOnly: true }), true);
        assert.equal(onLog.write, 3, "a 3 KB entry: 3 write units on the log's key");
        assert.equal(await stores.metadata.append(1n, Buffer.alloc(3000), { inlineOnly: true }), false);
        assert.equal(onLog.estimated, 3, "the conflicting append is billed on the log's key too");
        // Its body apart (entry-bodies.ts): one unit there for the pointer.
        assert.equal(await stores.metadata.append(2n, Buffer.alloc(3000)), true);
        assert.equal(onLog.write, 3 + 3 + 1, "a 3 KB entry's pointer: 1 write unit on the log's key");
        await stores.metadata.read(1n, 10);
        assert.ok(onLog.read > 0, "tail reads are on the log's key");
        const before = { ...onLog };
        // Items and snapshots live under other keys.
        await stores.metadata.putItem("k", Buffer.from("v"), { kind: "absent" });
        await stores.metadata.putSnapshot({ index: 2n, data: Buffer.from("{}") });
        assert.deepEqual(onLog, before);
        // Trimming tombstones the log's entries: writes on its key.
        await stores.metadata.trim(3n);
        assert.ok(onLog.write > before.write, "trim's tombstones are on the log's key");
      } finally {
        off();
      }
    });

    it("retries UnprocessedItems/UnprocessedKeys and throttling errors until every chunk is written and read", async function () {
      // Test seam: DynamoDB Local never throttles, so middlewares on a real client with the agent's retry
      // settings report half of each batch as unprocessed (those items are simply written again) and fail
      // some attempts with a throttling error, below the SDK's retry as the service's errors arrive.
      const seamClient = client(awsClientSettings("dynamodb", "agent"));
      let unprocessedReported = 0;
      let throttled = 0;
      let attempts = 0;
      seamClient.middlewareStack.add(
        (next, context) => async (args) => {
          const name = context.commandName;
          if (
            (name === "BatchWriteItemCommand" || name === "PutItemCommand") &&
            throttled < 3 &&
            attempts++ % 2 === 0
          ) {
            throttled++;
            throw Object.assign(new Error("Rate of requests exceeds the allowed throughput (test seam)"), {
              name: "ProvisionedThroughputExceededException",
            });
          }
          return next(args);
        },
        { step: "finalizeRequest", priority: "low", name: "warpTestThrottle" },
      );
      seamClient.middlewareStack.add(
        (next, context) => async (args) => {
          const name = context.commandName;
          const result = await next(args);
          const input = args.input as { RequestItems?: Record<string, unknown> };
          const output = result.output as {
            UnprocessedItems?: Record<string, unknown[]>;
            UnprocessedKeys?: Record<string, { Keys?: unknown[] }>;
          };
          if (name === "BatchWriteItemCommand" && unprocessedReported < 6) {
            const [table, reqs] = Object.entries(input.RequestItems ?? {})[0]! as [string, unknown[]];
            if (reqs.length > 1) {
              unprocessedReported++;
              output.UnprocessedItems = { [table]: reqs.slice(Math.floor(reqs.length / 2)) };
            }
          }
          if (name === "BatchGetItemCommand" && unprocessedReported < 12) {
            const [table, req] = Object.entries(input.RequestItems ?? {})[0]! as [string, { Keys: unknown[] }];
            if (req.Keys.length > 1) {
              unprocessedReported++;
              output.UnprocessedKeys = { [table]: { ...req, Keys: req.Keys.slice(1) } };
            }
          }
          return result;
        },
        { step: "initialize", name: "warpTestSeam" },
      );
      try {
        stores = await openStores(tables, seamClient);
        const data = randomBytes(CHUNK_BYTES * 30 + 5);
        await stores.ingestion.put("seam/big", data);
        assert.ok(unprocessedReported > 0, "the seam reported unprocessed items");
        assert.deepEqual(await stores.ingestion.get("seam/big"), data);
        assert.ok(unprocessedReported > 6, "the seam reported unprocessed keys");
        assert.equal(throttled, 3, "the seam threw throttling errors");
      } finally {
        await stores?.close();
        stores = null;
        seamClient.destroy();
      }
    });

    it("writes a large object and a large snapshot in BatchWriteItem calls of at most 1 MiB, several in flight", async function () {
      // A call of 25 chunks made the SDK allocate about 30 MB at once to serialize it (client.ts).
      const seamClient = client(awsClientSettings("dynamodb", "agent"));
      const calls: number[] = [];
      let inFlight = 0;
      let mostInFlight = 0;
      seamClient.middlewareStack.add(
        (next, context) => async (args) => {
          if (context.commandName !== "BatchWriteItemCommand") return next(args);
          const input = args.input as {
            RequestItems?: Record<string, Array<{ PutRequest?: { Item?: { d?: { B?: Uint8Array } } } }>>;
          };
          const items = Object.values(input.RequestItems ?? {}).flat();
          calls.push(items.reduce((n, r) => n + (r.PutRequest?.Item?.d?.B?.length ?? 0), 0));
          mostInFlight = Math.max(mostInFlight, ++inFlight);
          try {
            return await next(args);
          } finally {
            inFlight--;
          }
        },
        { step: "initialize", name: "warpTestCallSizes" },
      );
      try {
        stores = await openStores(tables, seamClient);
        const data = randomBytes(CHUNK_BYTES * 12 + 5);
        await stores.ingestion.put("calls/big", data);
        assert.deepEqual(await stores.ingestion.get("calls/big"), data);
        const snapshot = randomBytes(CHUNK_BYTES * 9);
        await stores.metadata.putSnapshot({ index: 7n, data: snapshot });
        assert.deepEqual((await stores.metadata.latestSnapshot())?.data, snapshot);
        assert.ok(calls.length >= 11, `${calls.length} calls for 22 chunks`);
        for (const bytes of calls) assert.ok(bytes <= 1024 * 1024, `a call carried ${bytes} bytes of chunks`);
        assert.ok(mostInFlight > 1, `at most ${mostInFlight} calls in flight`);
      } finally {
        await stores?.close();
        stores = null;
        seamClient.destroy();
      }
    });

    it("an append right after reading the tail skips the snapshot-pointer check; a blind append does it", async function () {
      stores = await openStores(tables, c);
      assert.equal(await stores.metadata.append(1n, Buffer.from("e1")), true);
      const pc = client();
      try {
        const other = new DynamoMetadataStore(pc, tables.filesTable, tables.chunksTable);
        let r = storeUsage.dynamoReadUnits;
        assert.equal(await other.append(2n, Buffer.from("blind")), true);
        assert.ok(storeUsage.dynamoReadUnits > r, "a handle that never read the log checks the snapshot pointer");
        assert.deepEqual(
          (await other.read(1n, 10)).map((e) => e.index),
          [1n, 2n],
        );
        r = storeUsage.dynamoReadUnits;
        assert.equal(await other.append(3n, Buffer.from("e3")), true);
        assert.equal(await other.append(4n, Buffer.from("e4")), true);
        assert.equal(storeUsage.dynamoReadUnits, r, "no read for appends after the tail it saw");
      } finally {
        pc.destroy();
      }
    });

    it("trim continues from its floor: old tombstones are not read or written again", async function () {
      stores = await openStores(tables, c);
      // Whole in the log's items, so that each tombstone is billed at the entry's size (2 units).
      for (let i = 1n; i <= 50n; i++)
        assert.equal(await stores.metadata.append(i, Buffer.alloc(2000, 1), { inlineOnly: true }), true);
      await stores.metadata.putSnapshot({ index: 40n, data: Buffer.from("s40") });
      let w = storeUsage.dynamoWriteUnits;
      await stores.metadata.trim(41n);
      const first = storeUsage.dynamoWriteUnits - w;
      assert.ok(first >= 40, `40 tombstones replacing 2 KB entries: ${first} WRU`);
      w = storeUsage.dynamoWriteUnits;
      await stores.metadata.trim(41n);
      assert.equal(storeUsage.dynamoWriteUnits - w, 0, "nothing left to trim");
      await stores.metadata.putSnapshot({ index: 45n, data: Buffer.from("s45") });
      w = storeUsage.dynamoWriteUnits;
      await stores.metadata.trim(46n);
      const third = storeUsage.dynamoWriteUnits - w;
      assert.ok(third >= 5 && third <= 5 * 2 + 1, `5 tombstones and the floor: ${third} WRU`);
      assert.deepEqual(
        (await stores.metadata.read(1n, 100)).map((r) => r.index),
        [46n, 47n, 48n, 49n, 50n],
      );
    });

    it("a writer that missed a snapshot cannot take an index the snapshot covers (regression: append after trim)", async function () {
      stores = await openStores(tables, c);
      for (let i = 1n; i <= 6n; i++) assert.equal(await stores.metadata.append(i, Buffer.from(`e${i}`)), true);
      await stores.metadata.putSnapshot({ index: 5n, data: Buffer.from("s5") });
      await stores.metadata.trim(6n);
      // Trimmed entries became tombstones: a fresh handle (it never saw the snapshot) cannot take index 3.
      const tomb = await c.send(
        new GetItemCommand({
          TableName: tables.filesTable,
          Key: { pk: { S: "log" }, sk: { S: "3".padStart(20, "0") } },
        }),
      );
      assert.equal(tomb.Item?.t?.BOOL, true);
      assert.equal(tomb.Item?.d, undefined);
      assert.ok(Number(tomb.Item?.expiresAt?.N) > Date.now() / 1000, "tombstones expire through TTL");
      // Once TTL removed the tombstone of 4, the put there succeeds and the snapshot check undoes it.
      await c.send(
        new DeleteItemCommand({
          TableName: tables.filesTable,
          Key: { pk: { S: "log" }, sk: { S: "4".padStart(20, "0") } },
        }),
      );
      const pc = client();
      try {
        const late = new DynamoMetadataStore(pc, tables.filesTable, tables.chunksTable);
        assert.equal(await late.append(3n, Buffer.from("late")), false);
        const late2 = new DynamoMetadataStore(pc, tables.filesTable, tables.chunksTable);
        assert.equal(await late2.append(4n, Buffer.from("late")), false);
        const four = await c.send(
          new GetItemCommand({
            TableName: tables.filesTable,
            Key: { pk: { S: "log" }, sk: { S: "4".padStart(20, "0") } },
          }),
        );
        assert.equal(four.Item?.t?.BOOL, true, "the stray put was turned into a tombstone");
        assert.deepEqual(
          (await stores.metadata.read(1n, 10)).map((r) => r.index),
          [6n],
        );
        assert.deepEqual(
          (await late.read(6n, 10)).map((r) => r.data.toString()),
          ["e6"],
        );
        assert.equal(await late.append(7n, Buffer.from("e7")), true);
      } finally {
        pc.destroy();
      }
    });
  });
});
