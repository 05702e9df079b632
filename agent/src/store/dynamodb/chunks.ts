/**
 * Blobs larger than one item, split into chunks in the chunks table: pk = a chunk-set id unique to this
 * write (so an overwrite never mixes old and new bytes), sk = chunk number (0, 1, ...), d = bytes,
 * expiresAt = TTL. The caller records the chunk set in a descriptor item written after the chunks.
 */
import { randomBytes } from "node:crypto";
import { UpdateItemCommand, type DynamoDBClient, type WriteRequest } from "@aws-sdk/client-dynamodb";
import { isConditionalCheckFailed } from "../../../../common/aws/errors.js";
import { mapLimit } from "../../../../common/map-limit.js";
import { TTL_ATTRIBUTE } from "../../../../common/table-schema.js";
import { batchWrite, callDeadline, readWrittenOnce, recordCapacity, ttlSeconds, type Item } from "./client.js";

/** Bytes per chunk item: under the 400 KB item limit with room for keys and attributes. */
export const CHUNK_BYTES = 350 * 1024;
/** BatchWriteItem calls in flight while writing a chunk set: each holds two chunks (client.ts). */
const WRITE_CONCURRENCY = 8;

export interface ChunkSet {
  /** Partition key of the chunks in the chunks table. */
  readonly pk: string;
  readonly size: number;
  readonly count: number;
  readonly chunkBytes: number;
}

export function newChunkSetId(prefix: string): string {
  return `${prefix}#${randomBytes(8).toString("hex")}`;
}

export class ChunkStore {
  constructor(
    private readonly client: DynamoDBClient,
    readonly table: string,
    private readonly chunkBytes = CHUNK_BYTES,
  ) {}

  /** Writes data as a new chunk set under pk; resolves when every chunk is stored. */
  async write(pk: string, data: Buffer, expiresAt?: Date): Promise<ChunkSet> {
    const count = Math.ceil(data.length / this.chunkBytes);
    const requests: WriteRequest[] = [];
    for (let i = 0; i < count; i++) {
      const item: Item = {
        pk: { S: pk },
        sk: { N: String(i) },
        d: { B: data.subarray(i * this.chunkBytes, Math.min(data.length, (i + 1) * this.chunkBytes)) },
      };
      if (expiresAt) item[TTL_ATTRIBUTE] = { N: ttlSeconds(expiresAt) };
      requests.push({ PutRequest: { Item: item } });
    }
    await batchWrite(this.client, this.table, requests, WRITE_CONCURRENCY);
    return { pk, size: data.length, count, chunkBytes: this.chunkBytes };
  }

  /**
   * Reads bytes [start, end) of a chunk set, fetching only the chunks that hold them. Chunk items are
   * immutable, so an eventually consistent read is tried first (half the price); chunks it misses are read
   * again strongly consistent. Returns null when chunks are gone (the set was deleted or replaced).
   */
  async read(set: ChunkSet, start: number, end: number): Promise<Buffer | null> {
    if (end <= start) return Buffer.alloc(0);
    const first = Math.floor(start / set.chunkBytes);
    const last = Math.floor((end - 1) / set.chunkBytes);
    const wanted: string[] = [];
    for (let i = first; i <= last; i++) wanted.push(String(i));
    const chunks = await readWrittenOnce(
      this.client,
      this.table,
      wanted.map((i) => ({ pk: { S: set.pk }, sk: { N: i } })),
    );
    if (wanted.some((i) => !chunks.has(i))) return null;
    const whole = Buffer.concat(wanted.map((i) => chunks.get(i)!));
    const base = first * set.chunkBytes;
    return whole.subarray(start - base, Math.min(end, set.size) - base);
  }

  /**
   * Gives every chunk of a set a new TTL (each update is billed like a write of the chunk's size).
   * Returns false when a chunk is gone (deleted, or removed by TTL already).
   */
  async setExpiry(set: Pick<ChunkSet, "pk" | "count">, expiresAt: Date): Promise<boolean> {
    const ttl = ttlSeconds(expiresAt);
    const kept = await mapLimit(
      Array.from({ length: set.count }, (_, i) => i),
      8,
      async (i) => {
        try {
          const out = await this.client.send(
            new UpdateItemCommand({
              TableName: this.table,
              Key: { pk: { S: set.pk }, sk: { N: String(i) } },
              UpdateExpression: "SET #ttl = :ttl",
              ConditionExpression: "attribute_exists(pk)",
              ExpressionAttributeNames: { "#ttl": TTL_ATTRIBUTE },
              ExpressionAttributeValues: { ":ttl": { N: ttl } },
              ReturnConsumedCapacity: "TOTAL",
            }),
            callDeadline(),
          );
          recordCapacity("write", out.ConsumedCapacity);
          return true;
        } catch (err) {
          if (isConditionalCheckFailed(err)) return false;
          throw err;
        }
      },
    );
    return kept.every(Boolean);
  }

  /** Deletes a chunk set (billed like writes of the chunks' size; prefer TTL where it fits). */
  async delete(set: Pick<ChunkSet, "pk" | "count">): Promise<void> {
    const requests: WriteRequest[] = [];
    for (let i = 0; i < set.count; i++)
      requests.push({ DeleteRequest: { Key: { pk: { S: set.pk }, sk: { N: String(i) } } } });
    await batchWrite(this.client, this.table, requests);
  }
}
