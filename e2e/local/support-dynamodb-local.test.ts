/**
 * The DynamoDB Local harness: start, table and item round trip, TTL expiry, restart with and
 * without -dbPath.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import {
  CreateTableCommand,
  DescribeTimeToLiveCommand,
  DynamoDBClient,
  GetItemCommand,
  ListTablesCommand,
  PutItemCommand,
  UpdateTimeToLiveCommand,
} from "@aws-sdk/client-dynamodb";
import { LOCAL_AWS, startDynamoDbLocal } from "../support/dynamodb-local.js";
import type { DynamoDbLocal } from "../support/dynamodb-local.js";

async function createTable(client: DynamoDBClient, TableName: string): Promise<void> {
  await client.send(
    new CreateTableCommand({
      TableName,
      BillingMode: "PAY_PER_REQUEST",
      AttributeDefinitions: [{ AttributeName: "pk", AttributeType: "S" }],
      KeySchema: [{ AttributeName: "pk", KeyType: "HASH" }],
    }),
  );
}

describe("support: DynamoDB Local", function () {
  this.timeout(300_000);

  describe("in memory", () => {
    let ddb: DynamoDbLocal;
    let client: DynamoDBClient;

    before(async () => {
      ddb = await startDynamoDbLocal();
      client = new DynamoDBClient({ ...LOCAL_AWS, endpoint: ddb.endpoint });
    });
    after(async () => {
      client?.destroy();
      await ddb?.stop();
    });

    it("creates a table and round-trips an item, with consumed capacity reported", async () => {
      await createTable(client, "roundtrip");
      const put = await client.send(
        new PutItemCommand({
          TableName: "roundtrip",
          Item: { pk: { S: "a" }, v: { B: Buffer.from("hello") } },
          ReturnConsumedCapacity: "TOTAL",
        }),
      );
      assert.ok((put.ConsumedCapacity?.CapacityUnits ?? 0) > 0);
      const got = await client.send(
        new GetItemCommand({ TableName: "roundtrip", Key: { pk: { S: "a" } }, ConsistentRead: true }),
      );
      assert.equal(Buffer.from(got.Item!.v!.B!).toString(), "hello");
    });

    it("shares one database across credentials and regions (-sharedDb)", async () => {
      const other = new DynamoDBClient({
        region: "eu-west-1",
        endpoint: ddb.endpoint,
        credentials: { accessKeyId: "other", secretAccessKey: "other" },
      });
      try {
        const tables = await other.send(new ListTablesCommand({}));
        assert.ok(tables.TableNames?.includes("roundtrip"));
      } finally {
        other.destroy();
      }
    });

    it("deletes expired items once TTL is enabled", async function () {
      await createTable(client, "ttl");
      await client.send(
        new UpdateTimeToLiveCommand({
          TableName: "ttl",
          TimeToLiveSpecification: { Enabled: true, AttributeName: "expires" },
        }),
      );
      const ttl = await client.send(new DescribeTimeToLiveCommand({ TableName: "ttl" }));
      assert.equal(ttl.TimeToLiveDescription?.AttributeName, "expires");
      const past = Math.floor(Date.now() / 1000) - 60;
      const future = Math.floor(Date.now() / 1000) + 3600;
      await client.send(
        new PutItemCommand({ TableName: "ttl", Item: { pk: { S: "expired" }, expires: { N: String(past) } } }),
      );
      await client.send(
        new PutItemCommand({ TableName: "ttl", Item: { pk: { S: "alive" }, expires: { N: String(future) } } }),
      );
      const started = Date.now();
      // Bounded by the test timeout: TTL deletion is a background sweep.
      for (;;) {
        const got = await client.send(
          new GetItemCommand({ TableName: "ttl", Key: { pk: { S: "expired" } }, ConsistentRead: true }),
        );
        if (!got.Item) break;
        await sleep(500);
      }
      console.log(`      (DynamoDB Local removed the expired item after ${Date.now() - started} ms)`);
      const alive = await client.send(
        new GetItemCommand({ TableName: "ttl", Key: { pk: { S: "alive" } }, ConsistentRead: true }),
      );
      assert.ok(alive.Item, "an item whose TTL is in the future stays");
    });

    it("loses its data on restart without dbPath, and answers on the same endpoint", async () => {
      await ddb.restart();
      const tables = await client.send(new ListTablesCommand({}));
      assert.deepEqual(tables.TableNames ?? [], []);
    });
  });

  describe("with dbPath", () => {
    let dir: string;
    let ddb: DynamoDbLocal | undefined;

    before(() => {
      dir = mkdtempSync(path.join(tmpdir(), "warp-ddb-test-"));
    });
    after(async () => {
      await ddb?.stop();
      rmSync(dir, { recursive: true, force: true });
    });

    it("keeps tables and items across restart()", async () => {
      ddb = await startDynamoDbLocal({ dbPath: path.join(dir, "db") });
      const client = new DynamoDBClient({ ...LOCAL_AWS, endpoint: ddb.endpoint });
      try {
        await createTable(client, "durable");
        await client.send(new PutItemCommand({ TableName: "durable", Item: { pk: { S: "k" }, n: { N: "7" } } }));
        await ddb.restart();
        const got = await client.send(
          new GetItemCommand({ TableName: "durable", Key: { pk: { S: "k" } }, ConsistentRead: true }),
        );
        assert.equal(got.Item?.n?.N, "7");
      } finally {
        client.destroy();
      }
    });

    it("stop() ends the process so its port no longer answers", async () => {
      const endpoint = ddb!.endpoint;
      await ddb!.stop();
      ddb = undefined;
      const client = new DynamoDBClient({ ...LOCAL_AWS, endpoint, maxAttempts: 1 });
      try {
        await assert.rejects(client.send(new ListTablesCommand({})));
      } finally {
        client.destroy();
      }
    });
  });
});
