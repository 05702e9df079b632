/**
 * What the DynamoDB metadata log left in its table, read directly (tests of the log's storage): an entry's
 * item, the entry bodies in every stripe, and the write units spent on the log's key and the stripes.
 */
import { GetItemCommand, QueryCommand, type AttributeValue } from "@aws-sdk/client-dynamodb";
import { entryBodyStripes } from "../../src/store/dynamodb/entry-bodies.js";
import { LOG_PK, logSk } from "../../src/store/dynamodb/log-keys.js";
import { storeUsage, type UsageEvent } from "../../src/store/usage.js";
import type { DynamoTablesEnv } from "./dynamo-tables.js";

/** Entry `index`'s item at `pk = "log"`, read strongly consistent, or undefined. */
export async function logItem(
  env: DynamoTablesEnv,
  index: bigint,
): Promise<Record<string, AttributeValue> | undefined> {
  const out = await env.ddb.send(
    new GetItemCommand({
      TableName: env.tables.filesTable,
      Key: { pk: { S: LOG_PK }, sk: { S: logSk(index) } },
      ConsistentRead: true,
    }),
  );
  return out.Item;
}

export interface StoredBody {
  readonly pk: string;
  readonly sk: string;
  /** Its TTL (ms), when it has one. */
  readonly expiresAt?: number;
}

/** Every body in every stripe, in stripe and key order. */
export async function storedBodies(env: DynamoTablesEnv): Promise<StoredBody[]> {
  const out: StoredBody[] = [];
  for (const pk of entryBodyStripes()) {
    const page = await env.ddb.send(
      new QueryCommand({
        TableName: env.tables.filesTable,
        KeyConditionExpression: "pk = :pk",
        ExpressionAttributeValues: { ":pk": { S: pk } },
        ConsistentRead: true,
      }),
    );
    for (const item of page.Items ?? []) {
      const ttl = item.expiresAt?.N;
      out.push({ pk, sk: item.sk!.S!, ...(ttl ? { expiresAt: Number(ttl) * 1000 } : {}) });
    }
  }
  return out;
}

/** Write units spent while `run` runs, on the log's key and on the bodies' stripes. */
export async function logUnitsOf(run: () => Promise<unknown>): Promise<{ log: number; bodies: number }> {
  const spent = { log: 0, bodies: 0 };
  const stop = storeUsage.onChange((e: UsageEvent) => {
    if (e.kind !== "dynamoWrite") return;
    if (e.key === "log") spent.log += e.units;
    if (e.key === "logbody") spent.bodies += e.units;
  });
  try {
    await run();
  } finally {
    stop();
  }
  return spent;
}
