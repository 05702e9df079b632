/**
 * The lifecycle of the agent's two DynamoDB tables, shared by the agent (create or verify at start-up)
 * and the operator (reconcile): describe, create with the key schema of common/table-schema.ts, verify
 * an existing table's key schema, wait until ACTIVE, read and enable TTL, delete. What to do with the
 * answers (fail start-up, set a condition, requeue) is the caller's business.
 */
import { setTimeout as sleep } from "node:timers/promises";
import {
  CreateTableCommand,
  DeleteTableCommand,
  DescribeTableCommand,
  DescribeTimeToLiveCommand,
  UpdateTimeToLiveCommand,
} from "@aws-sdk/client-dynamodb";
import type { DynamoDBClient, TableDescription, Tag } from "@aws-sdk/client-dynamodb";
import { createTableKeyFields, schemaMismatch } from "../table-schema.js";
import type { TableSchema } from "../table-schema.js";
import { awsErrorName, isResourceNotFound } from "./errors.js";

export class TableSetupError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "TableSetupError";
  }
}

/** The table's description, or null when it does not exist. */
export async function describeTable(client: DynamoDBClient, name: string): Promise<TableDescription | null> {
  try {
    const out = await client.send(new DescribeTableCommand({ TableName: name }));
    return out.Table ?? null;
  } catch (err) {
    if (isResourceNotFound(err)) return null;
    throw err;
  }
}

/**
 * Null when an existing table has the key schema, otherwise a message naming the table, what it has
 * and what is expected.
 */
export function keySchemaMismatch(name: string, schema: TableSchema, table: TableDescription): string | null {
  return schemaMismatch(name, schema, {
    keySchema: table.KeySchema ?? [],
    attributeDefinitions: table.AttributeDefinitions ?? [],
  });
}

export type TableBilling =
  | { readonly mode: "PAY_PER_REQUEST" }
  | { readonly mode: "PROVISIONED"; readonly readCapacityUnits: number; readonly writeCapacityUnits: number };

/** BillingMode (and ProvisionedThroughput) fields of CreateTable and UpdateTable. */
export function billingFields(billing: TableBilling): {
  BillingMode: TableBilling["mode"];
  ProvisionedThroughput?: { ReadCapacityUnits: number; WriteCapacityUnits: number };
} {
  if (billing.mode === "PAY_PER_REQUEST") return { BillingMode: "PAY_PER_REQUEST" };
  return {
    BillingMode: "PROVISIONED",
    ProvisionedThroughput: {
      ReadCapacityUnits: billing.readCapacityUnits,
      WriteCapacityUnits: billing.writeCapacityUnits,
    },
  };
}

export interface NewTable {
  readonly billing: TableBilling;
  readonly tags?: readonly Tag[];
}

/**
 * CreateTable with the schema's keys. Returns the new table's description (status CREATING), or null
 * when the table already exists: someone else created it since it was described (agents starting
 * together, an agent and the operator).
 */
export async function createTable(
  client: DynamoDBClient,
  name: string,
  schema: TableSchema,
  table: NewTable,
): Promise<TableDescription | null> {
  try {
    const out = await client.send(
      new CreateTableCommand({
        TableName: name,
        ...createTableKeyFields(schema),
        ...billingFields(table.billing),
        ...(table.tags && table.tags.length > 0 ? { Tags: [...table.tags] } : {}),
      }),
    );
    return out.TableDescription ?? { TableName: name, TableStatus: "CREATING" };
  } catch (err) {
    if (awsErrorName(err) === "ResourceInUseException") return null;
    throw err;
  }
}

/**
 * Polls DescribeTable until the table is ACTIVE (backoff 100 ms doubling to 2 s). Throws
 * TableSetupError when it is missing, in a state other than CREATING or UPDATING, or not ACTIVE
 * within `timeoutMs`.
 */
export async function waitActive(client: DynamoDBClient, name: string, timeoutMs: number): Promise<TableDescription> {
  const deadline = Date.now() + timeoutMs;
  for (let delay = 100; ; delay = Math.min(2000, delay * 2)) {
    const table = await describeTable(client, name);
    if (table?.TableStatus === "ACTIVE") return table;
    if (table && table.TableStatus !== "CREATING" && table.TableStatus !== "UPDATING") {
      throw new TableSetupError(`table ${name} is ${table.TableStatus}, expected ACTIVE`);
    }
    if (Date.now() > deadline)
      throw new TableSetupError(`table ${name} did not become ACTIVE within ${Math.round(timeoutMs / 1000)} s`);
    await sleep(delay);
  }
}

/** TTL of a table, seen from the attribute it should expire items on. */
export type TtlState =
  | { readonly kind: "on" }
  | { readonly kind: "off" }
  /** Being turned off; DynamoDB refuses to turn it on again until that is done (up to an hour). */
  | { readonly kind: "disabling" }
  /** On (or being turned on) for another attribute. */
  | { readonly kind: "other-attribute"; readonly attribute: string | undefined; readonly message: string };

export async function readTtl(client: DynamoDBClient, name: string, attribute: string): Promise<TtlState> {
  const out = await client.send(new DescribeTimeToLiveCommand({ TableName: name }));
  const desc = out.TimeToLiveDescription;
  const status = desc?.TimeToLiveStatus;
  if (status === "ENABLED" || status === "ENABLING") {
    if (desc?.AttributeName === attribute) return { kind: "on" };
    return {
      kind: "other-attribute",
      attribute: desc?.AttributeName,
      message: `table ${name} has TTL on attribute ${desc?.AttributeName}, expected ${attribute}`,
    };
  }
  if (status === "DISABLING") return { kind: "disabling" };
  return { kind: "off" };
}

/**
 * UpdateTimeToLive: expire items on `attribute`. When someone else turned it on between the caller's
 * readTtl and this call, DynamoDB answers ValidationException ("TimeToLive is already enabled"): that
 * is success when it is on for the same attribute.
 */
export async function enableTtl(client: DynamoDBClient, name: string, attribute: string): Promise<void> {
  try {
    await client.send(
      new UpdateTimeToLiveCommand({
        TableName: name,
        TimeToLiveSpecification: { Enabled: true, AttributeName: attribute },
      }),
    );
  } catch (err) {
    if (awsErrorName(err) !== "ValidationException") throw err;
    if ((await readTtl(client, name, attribute)).kind === "on") return;
    throw err;
  }
}

/** DeleteTable. Returns false when the table was already gone. */
export async function deleteTable(client: DynamoDBClient, name: string): Promise<boolean> {
  try {
    await client.send(new DeleteTableCommand({ TableName: name }));
    return true;
  } catch (err) {
    if (isResourceNotFound(err)) return false;
    throw err;
  }
}
