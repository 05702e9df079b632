/**
 * DynamoDB side of a WarpAgent: create missing tables with the agent's key schema, adopt existing
 * ones when asked (spec.tables.adopt), verify them, enable TTL, tag them, apply billing-mode changes,
 * and delete them under the Delete policy, through the table lifecycle shared with the agent
 * (common/aws/tables.ts). Ownership: a table is this WarpAgent's when its owner tag names the
 * WarpAgent (namespace, name and uid), or, on an endpoint without tagging, when the WarpAgent's
 * annotations record it. Only owned tables are changed or deleted. DynamoDB accepts
 * one update per table at a time, so each pass makes at most one change per table and asks to be
 * requeued while a table is CREATING or UPDATING (as ACK's dynamodb-controller does) instead of
 * waiting for ACTIVE.
 */
import { ListTagsOfResourceCommand, TagResourceCommand, UpdateTableCommand } from "@aws-sdk/client-dynamodb";
import type { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { awsErrorName, isResourceNotFound } from "../../../common/aws/errors.js";
import { errorMessage } from "../../../common/logger.js";
import {
  billingFields,
  createTable,
  deleteTable,
  describeTable,
  enableTtl,
  keySchemaMismatch,
  readTtl,
} from "../../../common/aws/tables.js";
import type { TableBilling } from "../../../common/aws/tables.js";
import { CHUNKS_TABLE_SCHEMA, FILES_TABLE_SCHEMA } from "../../../common/table-schema.js";
import type { TableSchema } from "../../../common/table-schema.js";
import { Reason } from "../api/conditions.js";
import type { ConditionInput } from "../api/conditions.js";
import type { ResolvedSpec } from "../api/resolve.js";
import { describeAwsError } from "./errors.js";

export const TAG_MANAGED_BY = "warpagent.dev/managed-by";
export const TAG_OWNER = "warpagent.dev/owner";
export const TAG_ROLE = "warpagent.dev/role";

export interface OperatorEvent {
  type: "Normal" | "Warning";
  reason: string;
  message: string;
}

type TableState =
  | { kind: "ready"; arn: string }
  | { kind: "pending"; reason: Reason; message: string; arn?: string }
  | { kind: "failed"; reason: Reason; message: string; arn?: string };

export interface TablesResult {
  condition: ConditionInput;
  filesArn?: string;
  chunksArn?: string;
  /** Set while a table is changing state: check again after this long. */
  requeueAfterMs?: number;
  events: OperatorEvent[];
}

export type TableRole = TableSchema["role"];

/**
 * Records on the WarpAgent that it owns a table (OWNED_TABLE_ANNOTATIONS). Called before CreateTable
 * and before adopting, so an operator stopped in between leaves the record, not an unowned table.
 */
export type RecordOwnership = (role: TableRole, table: string) => Promise<void>;

/** Recording ownership on the WarpAgent failed: nothing was created or adopted. */
class OwnershipRecordError extends Error {}

async function record(recordOwnership: RecordOwnership, role: TableRole, table: string): Promise<void> {
  try {
    await recordOwnership(role, table);
  } catch (err) {
    throw new OwnershipRecordError(
      `recording table ${table} as owned on the WarpAgent failed, so it was not created or adopted: ${errorMessage(err)}`,
    );
  }
}

/** The owner tag value: "<namespace>/<name>/<uid>". */
export function ownerTag(spec: ResolvedSpec): string {
  return `${spec.namespace}/${spec.name}/${spec.uid}`;
}

function ownershipTags(spec: ResolvedSpec, schema: TableSchema): Array<{ Key: string; Value: string }> {
  return [
    { Key: TAG_MANAGED_BY, Value: "warp-operator" },
    { Key: TAG_OWNER, Value: ownerTag(spec) },
    { Key: TAG_ROLE, Value: schema.role },
  ];
}

/** Whether this WarpAgent owns the table: its owner tag, or without tagging (tags null) its annotations. */
function owns(spec: ResolvedSpec, name: string, tags: Map<string | undefined, string | undefined> | null): boolean {
  return tags ? tags.get(TAG_OWNER) === ownerTag(spec) : spec.recordedTables.has(name);
}

function desiredBilling(spec: ResolvedSpec): TableBilling {
  const { readCapacityUnits, writeCapacityUnits } = spec;
  // resolveSpec sets both capacities exactly when the billing mode is Provisioned.
  if (spec.billingMode === "Provisioned" && readCapacityUnits !== undefined && writeCapacityUnits !== undefined)
    return { mode: "PROVISIONED", readCapacityUnits, writeCapacityUnits };
  return { mode: "PAY_PER_REQUEST" };
}

function tableResource(spec: ResolvedSpec, name: string, arn?: string): string {
  return arn ?? `arn:aws:dynamodb:${spec.region}:<account>:table/${name}`;
}

async function reconcileTable(
  client: DynamoDBClient,
  spec: ResolvedSpec,
  name: string,
  schema: TableSchema,
  events: OperatorEvent[],
  recordOwnership: RecordOwnership,
): Promise<TableState> {
  let action = "dynamodb:DescribeTable";
  let arn: string | undefined;
  try {
    const table = await describeTable(client, name);
    if (!table) {
      if (!spec.recordedTables.has(name)) await record(recordOwnership, schema.role, name);
      action = "dynamodb:CreateTable";
      const created = await createTable(client, name, schema, {
        billing: desiredBilling(spec),
        tags: ownershipTags(spec, schema),
      });
      if (!created)
        return {
          kind: "pending",
          reason: Reason.TableCreating,
          message: `table ${name} was created by someone else since it was described; checking it again`,
        };
      events.push({
        type: "Normal",
        reason: "TableCreated",
        message: `created DynamoDB table ${name} (${schema.role})`,
      });
      const createdArn = created.TableArn;
      return {
        kind: "pending",
        reason: Reason.TableCreating,
        message: `table ${name} is being created`,
        ...(createdArn ? { arn: createdArn } : {}),
      };
    }
    arn = table.TableArn;
    const mismatch = keySchemaMismatch(name, schema, table);
    if (mismatch)
      return { kind: "failed", reason: Reason.TableSchemaMismatch, message: mismatch, ...(arn ? { arn } : {}) };
    const status = table.TableStatus ?? "ACTIVE";
    if (status === "CREATING")
      return {
        kind: "pending",
        reason: Reason.TableCreating,
        message: `table ${name} is being created`,
        ...(arn ? { arn } : {}),
      };
    if (status === "UPDATING")
      return {
        kind: "pending",
        reason: Reason.TableUpdating,
        message: `table ${name} is being updated`,
        ...(arn ? { arn } : {}),
      };
    if (status === "DELETING")
      return {
        kind: "failed",
        reason: Reason.TableDeleting,
        message: `table ${name} is being deleted by someone else`,
        ...(arn ? { arn } : {}),
      };
    if (status !== "ACTIVE")
      return {
        kind: "pending",
        reason: Reason.TableUpdating,
        message: `table ${name} is ${status}`,
        ...(arn ? { arn } : {}),
      };

    // Nothing is changed on a table this WarpAgent does not own.
    action = "dynamodb:ListTagsOfResource";
    const tags = arn ? await listTags(client, arn) : null;
    let adopted = false;
    if (!owns(spec, name, tags)) {
      const other = tags?.get(TAG_OWNER);
      if (!spec.adoptTables)
        return {
          kind: "failed",
          reason: Reason.TableNotOwned,
          message:
            `table ${name} already exists and was not created by this WarpAgent` +
            (other ? ` (it is tagged as owned by ${other})` : "") +
            "; it is left unchanged and never deleted. Set spec.tables.adopt: true to take ownership of it",
          ...(arn ? { arn } : {}),
        };
      if (other && !other.startsWith(`${spec.namespace}/${spec.name}/`))
        return {
          kind: "failed",
          reason: Reason.TableNotOwned,
          message: `table ${name} is owned by WarpAgent ${other}; not adopted (remove its ${TAG_OWNER} tag to allow it)`,
          ...(arn ? { arn } : {}),
        };
      await record(recordOwnership, schema.role, name);
      if (tags && arn) {
        action = "dynamodb:TagResource";
        await client.send(new TagResourceCommand({ ResourceArn: arn, Tags: ownershipTags(spec, schema) }));
      }
      adopted = true;
      events.push({
        type: "Normal",
        reason: "TableAdopted",
        message: `adopted existing DynamoDB table ${name} (${schema.role}, spec.tables.adopt)`,
      });
    }

    // One change per pass: billing mode / throughput first.
    const observedBilling =
      table.BillingModeSummary?.BillingMode ??
      (table.ProvisionedThroughput?.ReadCapacityUnits ? "PROVISIONED" : "PAY_PER_REQUEST");
    const want = desiredBilling(spec);
    const throughputDiffers =
      want.mode === "PROVISIONED" &&
      (table.ProvisionedThroughput?.ReadCapacityUnits !== want.readCapacityUnits ||
        table.ProvisionedThroughput?.WriteCapacityUnits !== want.writeCapacityUnits);
    if (observedBilling !== want.mode || throughputDiffers) {
      action = "dynamodb:UpdateTable";
      await client.send(new UpdateTableCommand({ TableName: name, ...billingFields(want) }));
      const what =
        want.mode === "PROVISIONED"
          ? `provisioned ${want.readCapacityUnits} RCU / ${want.writeCapacityUnits} WCU`
          : "on-demand";
      events.push({ type: "Normal", reason: "TableUpdated", message: `set table ${name} billing to ${what}` });
      return {
        kind: "pending",
        reason: Reason.TableUpdating,
        message: `table ${name}: billing mode changing to ${what}`,
        ...(arn ? { arn } : {}),
      };
    }

    action = "dynamodb:DescribeTimeToLive";
    const ttl = await readTtl(client, name, schema.ttlAttribute);
    if (ttl.kind === "off") {
      action = "dynamodb:UpdateTimeToLive";
      await enableTtl(client, name, schema.ttlAttribute);
      events.push({
        type: "Normal",
        reason: "TableUpdated",
        message: `enabled TTL on ${schema.ttlAttribute} for table ${name}`,
      });
    } else if (ttl.kind === "other-attribute") {
      return { kind: "failed", reason: Reason.TableSchemaMismatch, message: ttl.message, ...(arn ? { arn } : {}) };
    }

    if (tags && arn && !adopted) {
      const missing = ownershipTags(spec, schema).filter((t) => tags.get(t.Key) !== t.Value);
      if (missing.length > 0) {
        action = "dynamodb:TagResource";
        await client.send(new TagResourceCommand({ ResourceArn: arn, Tags: missing }));
      }
    }
    return { kind: "ready", arn: arn ?? "" };
  } catch (err) {
    if (err instanceof OwnershipRecordError)
      return { kind: "failed", reason: Reason.ApplyFailed, message: err.message, ...(arn ? { arn } : {}) };
    const f = describeAwsError(err, action, tableResource(spec, name, arn));
    return { kind: "failed", reason: f.reason, message: f.message, ...(arn ? { arn } : {}) };
  }
}

/**
 * The table's tags, or null when the endpoint does not implement tagging (DynamoDB Local answers
 * UnknownOperationException); ownership is then read from the WarpAgent's annotations.
 */
async function listTags(
  client: DynamoDBClient,
  arn: string,
): Promise<Map<string | undefined, string | undefined> | null> {
  try {
    const out = await client.send(new ListTagsOfResourceCommand({ ResourceArn: arn }));
    return new Map((out.Tags ?? []).map((t) => [t.Key, t.Value]));
  } catch (err) {
    if (awsErrorName(err) === "UnknownOperationException") return null;
    throw err;
  }
}

export interface TableTimings {
  /** How soon to look again at a table that is CREATING/UPDATING. */
  pendingRequeueMs: number;
}

export async function reconcileTables(
  client: DynamoDBClient,
  spec: ResolvedSpec,
  timings: TableTimings,
  recordOwnership: RecordOwnership,
): Promise<TablesResult> {
  const events: OperatorEvent[] = [];
  const [files, chunks] = await Promise.all([
    reconcileTable(client, spec, spec.filesTable, FILES_TABLE_SCHEMA, events, recordOwnership),
    reconcileTable(client, spec, spec.chunksTable, CHUNKS_TABLE_SCHEMA, events, recordOwnership),
  ]);
  const result: TablesResult = {
    condition: { type: "TablesReady", status: "True", reason: Reason.TablesActive, message: "" },
    events,
  };
  if (files.arn) result.filesArn = files.arn;
  if (chunks.arn) result.chunksArn = chunks.arn;
  const notReady = [files, chunks].filter((s): s is Exclude<TableState, { kind: "ready" }> => s.kind !== "ready");
  if (notReady.length === 0) {
    result.condition.message = `tables ${spec.filesTable} and ${spec.chunksTable} are ACTIVE`;
    return result;
  }
  // Failures outrank pending states in the reason; every message is kept.
  const first = notReady.find((s) => s.kind === "failed") ?? notReady[0]!;
  result.condition = {
    type: "TablesReady",
    status: "False",
    reason: first.reason,
    message: notReady.map((s) => s.message).join("; "),
  };
  if (notReady.some((s) => s.kind === "pending")) result.requeueAfterMs = timings.pendingRequeueMs;
  return result;
}

export interface DeleteTablesResult {
  /** True when no table this WarpAgent owns remains. */
  done: boolean;
  message: string;
  events: OperatorEvent[];
  failure?: { reason: Reason; message: string };
}

/**
 * Deletes both tables (Delete policy), each only when this WarpAgent owns it (its owner tag, or its
 * annotations where the endpoint has no tagging); any other table is left alone with a Warning
 * event. Returns done once no owned table remains.
 */
export async function deleteTables(client: DynamoDBClient, spec: ResolvedSpec): Promise<DeleteTablesResult> {
  const events: OperatorEvent[] = [];
  const pending: string[] = [];
  for (const name of [spec.filesTable, spec.chunksTable]) {
    let action = "dynamodb:DescribeTable";
    try {
      const table = await describeTable(client, name);
      if (!table) continue;
      if (table.TableStatus === "DELETING") {
        pending.push(name);
        continue;
      }
      action = "dynamodb:ListTagsOfResource";
      const tags = table.TableArn ? await listTags(client, table.TableArn) : null;
      if (!owns(spec, name, tags)) {
        const other = tags?.get(TAG_OWNER);
        events.push({
          type: "Warning",
          reason: "TableRetained",
          message: `table ${name} was not created or adopted by this WarpAgent${other ? ` (owner tag: ${other})` : ""}; not deleted`,
        });
        continue;
      }
      action = "dynamodb:DeleteTable";
      if (!(await deleteTable(client, name))) continue;
      events.push({
        type: "Normal",
        reason: "TableDeleted",
        message: `deleting DynamoDB table ${name} (deletionPolicy Delete)`,
      });
      pending.push(name);
    } catch (err) {
      // Gone while its tags were read.
      if (isResourceNotFound(err)) continue;
      const f = describeAwsError(err, action, tableResource(spec, name));
      return { done: false, message: f.message, events, failure: f };
    }
  }
  return {
    done: pending.length === 0,
    message: pending.length ? `deleting tables ${pending.join(", ")}` : "tables deleted",
    events,
  };
}
