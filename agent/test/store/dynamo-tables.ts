/**
 * DynamoDB Local for a suite and a fresh pair of agent tables for each of its tests (deleted after it),
 * as mocha hooks: the preamble of the store tests that work on the tables directly.
 */
import { randomBytes } from "node:crypto";
import { DeleteTableCommand, DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { LOCAL_AWS } from "../../../e2e/support/dynamodb-local.js";
import { ensureTables } from "../../src/store/dynamodb/index.js";
import { startDynamo, type TestServer } from "./servers.js";

export interface DynamoTables {
  readonly filesTable: string;
  readonly chunksTable: string;
}

export interface DynamoTablesEnv {
  /** The suite's client (tests may wrap its send). */
  readonly ddb: DynamoDBClient;
  /** The current test's tables. */
  readonly tables: DynamoTables;
}

/** Registers the hooks in the calling suite; table names start with `prefix`. Read the fields in tests and hooks. */
export function useDynamoTables(prefix: string): DynamoTablesEnv {
  let dynamo: TestServer | null = null;
  let ddb: DynamoDBClient | null = null;
  let tables: DynamoTables | null = null;
  let counter = 0;
  before(async function () {
    this.timeout(180_000);
    dynamo = await startDynamo();
    ddb = new DynamoDBClient({ ...LOCAL_AWS, endpoint: dynamo.endpoint });
  });
  after(async function () {
    ddb?.destroy();
    await dynamo?.stop();
  });
  beforeEach(async function () {
    const id = `${process.pid}-${++counter}-${randomBytes(3).toString("hex")}`;
    tables = { filesTable: `${prefix}-files-${id}`, chunksTable: `${prefix}-chunks-${id}` };
    await ensureTables(env.ddb, tables, { create: true });
  });
  afterEach(async function () {
    const done = tables;
    if (!done) return;
    for (const t of [done.filesTable, done.chunksTable])
      await env.ddb.send(new DeleteTableCommand({ TableName: t })).catch(() => {});
  });
  const env: DynamoTablesEnv = {
    get ddb() {
      if (!ddb) throw new Error("useDynamoTables: DynamoDB Local is not started yet (read it in a test or hook)");
      return ddb;
    },
    get tables() {
      if (!tables) throw new Error("useDynamoTables: no tables yet (read them in a test or hook)");
      return tables;
    },
  };
  return env;
}
