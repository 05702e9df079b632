/**
 * Creating or verifying the two DynamoDB tables at start-up (the seed's behaviour: the agent creates
 * missing tables; the operator normally did it first). Key schemas come from common/table-schema.ts,
 * shared with the operator.
 */
import {
  CreateTableCommand,
  DescribeTableCommand,
  DescribeTimeToLiveCommand,
  UpdateTimeToLiveCommand,
  type DynamoDBClient,
  type TableDescription,
} from "@aws-sdk/client-dynamodb";
import { awsErrorName, isResourceNotFound } from "../../../../common/aws/errors.js";
import { componentLogger } from "../../../../common/logger.js";
import {
  CHUNKS_TABLE_SCHEMA,
  createTableKeyFields,
  FILES_TABLE_SCHEMA,
  schemaMismatch,
  type TableSchema,
} from "../../../../common/table-schema.js";
import { sleep } from "./client.js";

const log = componentLogger("dynamodb-tables");

export interface TableNames {
  readonly filesTable: string;
  readonly chunksTable: string;
}

export interface EnsureTablesOptions {
  /** Create missing tables (PAY_PER_REQUEST) and turn TTL on; otherwise a missing table is an error. */
  readonly create: boolean;
  /** How long to wait for a table to become ACTIVE (default 5 minutes). */
  readonly activeTimeoutMs?: number;
}

export class TableSetupError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "TableSetupError";
  }
}

async function describe(client: DynamoDBClient, table: string): Promise<TableDescription | null> {
  try {
    const out = await client.send(new DescribeTableCommand({ TableName: table }));
    return out.Table ?? null;
  } catch (err) {
    if (isResourceNotFound(err)) return null;
    throw err;
  }
}

async function waitActive(client: DynamoDBClient, table: string, timeoutMs: number): Promise<TableDescription> {
  const deadline = Date.now() + timeoutMs;
  for (let delay = 100; ; delay = Math.min(2000, delay * 2)) {
    const t = await describe(client, table);
    if (t?.TableStatus === "ACTIVE") return t;
    if (t && t.TableStatus !== "CREATING" && t.TableStatus !== "UPDATING") {
      throw new TableSetupError(`table ${table} is ${t.TableStatus}, expected ACTIVE`);
    }
    if (Date.now() > deadline)
      throw new TableSetupError(`table ${table} did not become ACTIVE within ${Math.round(timeoutMs / 1000)} s`);
    await sleep(delay);
  }
}

async function ensureTtl(client: DynamoDBClient, table: string, attribute: string, create: boolean): Promise<void> {
  const out = await client.send(new DescribeTimeToLiveCommand({ TableName: table }));
  const desc = out.TimeToLiveDescription;
  const status = desc?.TimeToLiveStatus;
  if ((status === "ENABLED" || status === "ENABLING") && desc?.AttributeName === attribute) return;
  if ((status === "ENABLED" || status === "ENABLING") && desc?.AttributeName !== attribute) {
    throw new TableSetupError(`table ${table} has TTL on attribute ${desc?.AttributeName}, expected ${attribute}`);
  }
  if (!create) {
    log.warn("TTL is off on an existing table: ingestion items will not expire by themselves", { table, attribute });
    return;
  }
  if (status === "DISABLING") {
    log.warn("TTL is being disabled on the table; not re-enabling it now", { table });
    return;
  }
  try {
    await client.send(
      new UpdateTimeToLiveCommand({
        TableName: table,
        TimeToLiveSpecification: { Enabled: true, AttributeName: attribute },
      }),
    );
  } catch (err) {
    // Another agent enabled it between our describe and our update ("TimeToLive is already enabled"):
    // fine when it is on our attribute.
    if (awsErrorName(err) !== "ValidationException") throw err;
    const again = (await client.send(new DescribeTimeToLiveCommand({ TableName: table }))).TimeToLiveDescription;
    if (
      (again?.TimeToLiveStatus === "ENABLED" || again?.TimeToLiveStatus === "ENABLING") &&
      again.AttributeName === attribute
    )
      return;
    throw err;
  }
  log.info("enabled TTL", { table, attribute });
}

async function ensureTable(
  client: DynamoDBClient,
  table: string,
  schema: TableSchema,
  options: EnsureTablesOptions,
): Promise<void> {
  const timeout = options.activeTimeoutMs ?? 300_000;
  let desc = await describe(client, table);
  if (!desc) {
    if (!options.create) {
      throw new TableSetupError(
        `${schema.role} table ${table} does not exist and table creation is off; create it with key schema [${schema.keys.map((k) => `${k.name} (${k.type}, ${k.keyType})`).join(", ")}] or allow the agent to create it`,
      );
    }
    try {
      await client.send(
        new CreateTableCommand({ TableName: table, BillingMode: "PAY_PER_REQUEST", ...createTableKeyFields(schema) }),
      );
      log.info("created table", { table, role: schema.role });
    } catch (err) {
      // Another agent created it at the same time.
      if (awsErrorName(err) !== "ResourceInUseException") throw err;
    }
    desc = await waitActive(client, table, timeout);
  } else if (desc.TableStatus !== "ACTIVE") {
    desc = await waitActive(client, table, timeout);
  }
  const mismatch = schemaMismatch(table, schema, {
    keySchema: desc.KeySchema ?? [],
    attributeDefinitions: desc.AttributeDefinitions ?? [],
  });
  if (mismatch) throw new TableSetupError(mismatch);
  await ensureTtl(client, table, schema.ttlAttribute, options.create);
}

/**
 * Missing tables → CreateTable (PAY_PER_REQUEST), wait ACTIVE, UpdateTimeToLive on `expiresAt` (when
 * `create`); existing tables → verified against the shared key schemas (error names the table and the
 * expected schema).
 */
export async function ensureTables(
  client: DynamoDBClient,
  names: TableNames,
  options: EnsureTablesOptions,
): Promise<void> {
  await ensureTable(client, names.filesTable, FILES_TABLE_SCHEMA, options);
  await ensureTable(client, names.chunksTable, CHUNKS_TABLE_SCHEMA, options);
}
