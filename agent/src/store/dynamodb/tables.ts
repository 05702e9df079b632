/**
 * The agent's start-up check of its two DynamoDB tables (as WarpStream's agent does, it creates
 * missing tables; the operator normally did it first). The table lifecycle itself (describe, create,
 * verify the key schema, wait ACTIVE, TTL) is common/aws/tables.ts, shared with the operator.
 */
import type { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import {
  createTable,
  describeTable,
  enableTtl,
  keySchemaMismatch,
  readTtl,
  TableSetupError,
  waitActive,
} from "../../../../common/aws/tables.js";
import { componentLogger } from "../../../../common/logger.js";
import {
  CHUNKS_TABLE_SCHEMA,
  describeSchema,
  FILES_TABLE_SCHEMA,
  type TableSchema,
} from "../../../../common/table-schema.js";

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

async function ensureTtl(client: DynamoDBClient, table: string, attribute: string, create: boolean): Promise<void> {
  const ttl = await readTtl(client, table, attribute);
  if (ttl.kind === "on") return;
  if (ttl.kind === "other-attribute") throw new TableSetupError(ttl.message);
  if (!create) {
    log.warn("TTL is off on an existing table: ingestion items will not expire by themselves", { table, attribute });
    return;
  }
  if (ttl.kind === "disabling") {
    log.warn("TTL is being disabled on the table; not re-enabling it now", { table });
    return;
  }
  await enableTtl(client, table, attribute);
  log.info("enabled TTL", { table, attribute });
}

async function ensureTable(
  client: DynamoDBClient,
  table: string,
  schema: TableSchema,
  options: EnsureTablesOptions,
): Promise<void> {
  const timeout = options.activeTimeoutMs ?? 300_000;
  let desc = await describeTable(client, table);
  if (!desc) {
    if (!options.create) {
      throw new TableSetupError(
        `${schema.role} table ${table} does not exist and table creation is off; create it with key schema [${describeSchema(schema)}] or allow the agent to create it`,
      );
    }
    // null: another agent created it at the same time.
    if (await createTable(client, table, schema, { billing: { mode: "PAY_PER_REQUEST" } }))
      log.info("created table", { table, role: schema.role });
    desc = await waitActive(client, table, timeout);
  } else if (desc.TableStatus !== "ACTIVE") {
    desc = await waitActive(client, table, timeout);
  }
  const mismatch = keySchemaMismatch(table, schema, desc);
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
