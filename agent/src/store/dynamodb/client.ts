/**
 * DynamoDB plumbing shared by the object and metadata stores: the client, the deadline of every call,
 * capacity accounting into storeUsage, batch writes/gets that resubmit unprocessed items with
 * full-jitter backoff. Errors are retried by the SDK alone (common/aws/client-settings.ts); the stores
 * call `client.send` once per request.
 */
import { setTimeout as sleep } from "node:timers/promises";
import {
  BatchGetItemCommand,
  BatchWriteItemCommand,
  DynamoDBClient,
  QueryCommand,
  UpdateItemCommand,
  type AttributeValue,
  type ConsumedCapacity,
  type QueryCommandInput,
  type WriteRequest,
} from "@aws-sdk/client-dynamodb";
import { fullJitterMs } from "../../../../common/backoff.js";
import {
  awsClientSettings,
  DYNAMODB_BACKOFF,
  DYNAMODB_CALL_DEADLINE_MS,
} from "../../../../common/aws/client-settings.js";
import { isConditionalCheckFailed } from "../../../../common/aws/errors.js";
import { mapLimit } from "../../../../common/map-limit.js";
import { TTL_ATTRIBUTE } from "../../../../common/table-schema.js";
import { storeUsage, type HotPartitionKey } from "../usage.js";
import { decodeBase64 } from "./base64.js";

export type Item = Record<string, AttributeValue>;

export interface DynamoClientOptions {
  readonly region: string;
  /** Endpoint override (DynamoDB Local, LocalStack). Without it the SDK honours AWS_ENDPOINT_URL_DYNAMODB / AWS_ENDPOINT_URL. */
  readonly endpoint?: string;
}

/** The agent's DynamoDB client: retries and timeouts from common/aws/client-settings.ts. */
export function makeDynamoClient(options: DynamoClientOptions): DynamoDBClient {
  return new DynamoDBClient({
    region: options.region,
    ...(options.endpoint ? { endpoint: options.endpoint } : {}),
    ...awsClientSettings("dynamodb", "agent"),
    base64Decoder: decodeBase64,
  });
}

/**
 * Records the capacity a call consumed. `kind` says which counter TOTAL units go to; `key` names the hot
 * partition key the call was on (usage.ts HotPartitionKey), if any.
 */
export function recordCapacity(
  kind: "read" | "write",
  consumed: ConsumedCapacity | ConsumedCapacity[] | undefined,
  key?: HotPartitionKey,
): void {
  if (!consumed) return;
  for (const c of Array.isArray(consumed) ? consumed : [consumed]) {
    const table = c.TableName ?? "?";
    const read = c.ReadCapacityUnits ?? (kind === "read" ? c.CapacityUnits : undefined) ?? 0;
    const write = c.WriteCapacityUnits ?? (kind === "write" ? c.CapacityUnits : undefined) ?? 0;
    storeUsage.addDynamoRead(table, read, key);
    storeUsage.addDynamoWrite(table, write, false, key);
  }
}

/**
 * Records the read units of one GetItem or one Query page, at least the minimum DynamoDB bills a request
 * (0.5 eventually consistent, 1 strongly consistent): "Queries that do not return results consume the
 * minimum read capacity units according to the type of read" (the Query API reference). DynamoDB Local
 * reports 0 for a Query that finds nothing, which left an idle cluster's tail polls uncounted.
 */
export function recordRequestReadCapacity(
  consumed: ConsumedCapacity | undefined,
  consistent: boolean,
  key?: HotPartitionKey,
): void {
  if (!consumed) return;
  const minimum = consistent ? 1 : 0.5;
  const read = consumed.ReadCapacityUnits ?? consumed.CapacityUnits ?? 0;
  storeUsage.addDynamoRead(consumed.TableName ?? "?", Math.max(minimum, read), key);
}

/**
 * A failed conditional write is billed (for the item size, at least one unit) but its error carries no
 * ConsumedCapacity: count an estimate.
 */
export function recordFailedConditionalWrite(table: string, bytes: number, key?: HotPartitionKey): void {
  storeUsage.addDynamoWrite(table, Math.max(1, Math.ceil(bytes / 1024)), true, key);
}

/**
 * Send options of a call: aborted DYNAMODB_CALL_DEADLINE_MS after it starts, the SDK's attempts and the
 * waits between them included.
 */
export function callDeadline(): { readonly abortSignal: AbortSignal } {
  return { abortSignal: AbortSignal.timeout(DYNAMODB_CALL_DEADLINE_MS) };
}

/**
 * Rounds of a batch call's unprocessed items after the first submission. Each round is a successful
 * call (DynamoDB took some items and throttled the others), so the bound only matters when a table
 * stays throttled; the rounds of one batch share one deadline besides.
 */
const UNPROCESSED_RETRIES = 10;

/** BatchWriteItem limits: 25 requests and 16 MB per call. */
export const BATCH_WRITE_MAX_ITEMS = 25;
/**
 * Bytes of items per BatchWriteItem call, far below DynamoDB's 16 MB: the SDK serializes a call into one
 * JSON buffer, growing it by doubling, with binary attributes in base64, so a call of 25 chunks of 350 KB
 * allocated about 30 MB at once; four in flight, 120 MB. In an agent holding a large metadata state such a
 * burst makes V8 collect the whole heap on the spot: 0.6 s of event loop held while writing a snapshot at
 * 100,000 partitions. Calls of two chunks also finished sooner on DynamoDB Local (bench notes in
 * docs/benchmarks.md, "Metadata log at scale").
 */
const BATCH_WRITE_MAX_BYTES = 1024 * 1024;

function requestBytes(r: WriteRequest): number {
  const item = r.PutRequest?.Item;
  if (!item) return 1024;
  let n = 0;
  for (const [k, v] of Object.entries(item)) n += k.length + (v.B?.length ?? v.S?.length ?? v.N?.length ?? 8);
  return n;
}

/**
 * Writes (puts and deletes) in batches, resubmitting UnprocessedItems with backoff until all are done;
 * fails after UNPROCESSED_RETRIES rounds, or when a batch's deadline passes.
 */
export async function batchWrite(
  client: DynamoDBClient,
  table: string,
  requests: readonly WriteRequest[],
  concurrency = 4,
  key?: HotPartitionKey,
): Promise<void> {
  const groups: WriteRequest[][] = [];
  let current: WriteRequest[] = [];
  let bytes = 0;
  for (const r of requests) {
    const size = requestBytes(r);
    if (current.length > 0 && (current.length >= BATCH_WRITE_MAX_ITEMS || bytes + size > BATCH_WRITE_MAX_BYTES)) {
      groups.push(current);
      current = [];
      bytes = 0;
    }
    current.push(r);
    bytes += size;
  }
  if (current.length > 0) groups.push(current);

  await mapLimit(groups, concurrency, async (group) => {
    const deadline = callDeadline();
    let pending: WriteRequest[] = group;
    for (let round = 0; pending.length > 0; round++) {
      if (round > 0) {
        if (round > UNPROCESSED_RETRIES)
          throw new Error(
            `BatchWriteItem on ${table}: ${pending.length} items still unprocessed after ${UNPROCESSED_RETRIES} retries`,
          );
        await sleep(fullJitterMs(DYNAMODB_BACKOFF, round - 1), undefined, { signal: deadline.abortSignal });
      }
      const out = await client.send(
        new BatchWriteItemCommand({ RequestItems: { [table]: pending }, ReturnConsumedCapacity: "TOTAL" }),
        deadline,
      );
      recordCapacity("write", out.ConsumedCapacity, key);
      pending = out.UnprocessedItems?.[table] ?? [];
    }
  });
}

/**
 * BatchGetItem: at most 100 keys and 16 MB per response; callers pass groups sized for that.
 * UnprocessedKeys are resubmitted as in batchWrite.
 */
export async function batchGet(
  client: DynamoDBClient,
  table: string,
  keys: readonly Item[],
  options: { consistent: boolean; projection?: string; names?: Record<string, string> },
  key?: HotPartitionKey,
): Promise<Item[]> {
  const deadline = callDeadline();
  const found: Item[] = [];
  let pending: Item[] = [...keys];
  for (let round = 0; pending.length > 0; round++) {
    if (round > 0) {
      if (round > UNPROCESSED_RETRIES)
        throw new Error(
          `BatchGetItem on ${table}: ${pending.length} keys still unprocessed after ${UNPROCESSED_RETRIES} retries`,
        );
      await sleep(fullJitterMs(DYNAMODB_BACKOFF, round - 1), undefined, { signal: deadline.abortSignal });
    }
    const out = await client.send(
      new BatchGetItemCommand({
        RequestItems: {
          [table]: {
            Keys: pending,
            ConsistentRead: options.consistent,
            ...(options.projection ? { ProjectionExpression: options.projection } : {}),
            ...(options.names ? { ExpressionAttributeNames: options.names } : {}),
          },
        },
        ReturnConsumedCapacity: "TOTAL",
      }),
      deadline,
    );
    recordCapacity("read", out.ConsumedCapacity, key);
    found.push(...(out.Responses?.[table] ?? []));
    pending = out.UnprocessedKeys?.[table]?.Keys ?? [];
  }
  return found;
}

/**
 * Keys per BatchGetItem call of readWrittenOnce: 16 chunks of 350 KiB, a 7.5 MB answer, well under the 16 MB
 * limit. The SDK decodes an answer in one synchronous step, so its size bounds how long the event loop
 * waits: reading a 40-chunk object waited up to 40–49 ms at 40 keys a call, 23–29 ms at 16, in the same
 * time (bench/dynamodb-reads.ts).
 */
const WRITTEN_ONCE_PER_GET = 16;

/**
 * The bytes (`d`) of items written once under keys never reused and never overwritten (chunks, log entry
 * bodies), by the text of each item's sort key. A replica that has them is as good as the leader, so an
 * eventually consistent read is tried first (half the price) and the keys it misses are read again strongly
 * consistent; a key absent from the answer has no item. BatchGetItem calls of at most 16 keys, four in
 * flight; `key` names the hot partition key the units go to (usage.ts).
 */
export async function readWrittenOnce(
  client: DynamoDBClient,
  table: string,
  keys: readonly Item[],
  key?: HotPartitionKey,
): Promise<Map<string, Buffer>> {
  const found = new Map<string, Buffer>();
  for (const consistent of [false, true]) {
    const missing = keys.filter((k) => !found.has(sortKeyText(k)));
    if (missing.length === 0) break;
    const groups: Item[][] = [];
    for (let i = 0; i < missing.length; i += WRITTEN_ONCE_PER_GET)
      groups.push(missing.slice(i, i + WRITTEN_ONCE_PER_GET));
    await mapLimit(groups, 4, async (group) => {
      const items = await batchGet(client, table, group, { consistent, projection: "sk, d" }, key);
      for (const item of items) if (item.sk && item.d?.B) found.set(sortKeyText(item), Buffer.from(item.d.B));
    });
  }
  return found;
}

/** An item's sort key (string or number) as text. */
function sortKeyText(item: Item): string {
  return item.sk?.S ?? item.sk?.N ?? "";
}

/** DynamoDB TTL wants epoch seconds; round up so an item never expires early. */
export function ttlSeconds(date: Date): string {
  return String(Math.ceil(date.getTime() / 1000));
}

/** The TTL attribute of an item expiring at `expiresAt` (ms), to spread into it; none without one. */
export function ttlAttribute(expiresAt: number | undefined): Item {
  return expiresAt === undefined ? {} : { [TTL_ATTRIBUTE]: { N: ttlSeconds(new Date(expiresAt)) } };
}

/**
 * Runs a Query through every page (strongly consistent unless `consistent` is false, capacity recorded,
 * each page one call with its own deadline) and hands each item to `onItem`. `pageLimit` caps items per
 * page (tests use it to exercise paging).
 */
export async function queryAllPages(
  client: DynamoDBClient,
  input: Omit<QueryCommandInput, "ExclusiveStartKey" | "Limit" | "ConsistentRead" | "ReturnConsumedCapacity">,
  pageLimit: number | undefined,
  onItem: (item: Item) => void,
  key?: HotPartitionKey,
  consistent = true,
): Promise<void> {
  let start: Item | undefined;
  do {
    const page = await client.send(
      new QueryCommand({
        ...input,
        ConsistentRead: consistent,
        ...(pageLimit ? { Limit: pageLimit } : {}),
        ...(start ? { ExclusiveStartKey: start } : {}),
        ReturnConsumedCapacity: "TOTAL",
      }),
      callDeadline(),
    );
    recordRequestReadCapacity(page.ConsumedCapacity, consistent, key);
    for (const item of page.Items ?? []) onItem(item);
    start = page.LastEvaluatedKey;
  } while (start);
}

/**
 * Sets the TTL attribute of the item at `key` to `expiresAt` (ms) if `condition` holds (a condition
 * expression that may name the attribute as `#ttl`); false when it did not. Billed like a write of the item.
 */
export async function renewExpiry(
  client: DynamoDBClient,
  table: string,
  key: Item,
  expiresAt: number,
  condition: string,
  hotKey?: HotPartitionKey,
): Promise<boolean> {
  try {
    const out = await client.send(
      new UpdateItemCommand({
        TableName: table,
        Key: key,
        UpdateExpression: "SET #ttl = :ttl",
        ConditionExpression: condition,
        ExpressionAttributeNames: { "#ttl": TTL_ATTRIBUTE },
        ExpressionAttributeValues: { ":ttl": { N: ttlSeconds(new Date(expiresAt)) } },
        ReturnConsumedCapacity: "TOTAL",
      }),
      callDeadline(),
    );
    recordCapacity("write", out.ConsumedCapacity, hotKey);
    return true;
  } catch (err) {
    if (!isConditionalCheckFailed(err)) throw err;
    recordFailedConditionalWrite(table, 1, hotKey);
    return false;
  }
}
