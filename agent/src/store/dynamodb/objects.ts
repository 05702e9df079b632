/**
 * DynamoDB ObjectStore (ingestion files). Bytes go to the chunks table (chunks.ts); a descriptor item in
 * the files table, written last, makes the object visible, so a reader never sees a partial object:
 *
 *   files table: pk = "obj#" + 2 hex digits (CRC-32 of the key mod 16), sk = object key,
 *                size (N), n = chunk count (N), cb = chunk bytes (N), cpk = chunk-set pk (S),
 *                inl (B, objects of at most 64 KiB are stored inline instead of in chunks),
 *                expiresAt (N, epoch s, TTL), expMs (N, epoch ms, exact expiry checked on read)
 *
 * Sixteen descriptor partitions spread the descriptor traffic; list() queries all sixteen and merges.
 * The shard count is part of the format and must not change.
 */
import {
  DeleteItemCommand,
  GetItemCommand,
  PutItemCommand,
  UpdateItemCommand,
  type DynamoDBClient,
} from "@aws-sdk/client-dynamodb";
import { crc32 } from "@node-rs/crc32";
import { isConditionalCheckFailed } from "../../../../common/aws/errors.js";
import { mapLimit } from "../../../../common/map-limit.js";
import { TTL_ATTRIBUTE } from "../../../../common/table-schema.js";
import type { ByteRange, GetOptions, ObjectInfo, ObjectStore, PutOptions } from "../types.js";
import { ObjectNotFoundError } from "../types.js";
import { ChunkStore, newChunkSetId, type ChunkSet } from "./chunks.js";
import {
  callDeadline,
  queryAllPages,
  recordCapacity,
  recordRequestReadCapacity,
  ttlSeconds,
  type Item,
} from "./client.js";

export const OBJECT_SHARDS = 16;
export const INLINE_MAX_BYTES = 64 * 1024;

/** DynamoDB sort keys are at most 1024 bytes; object keys are descriptor sort keys. */
export const MAX_KEY_BYTES = 1024;

export function checkKey(key: string): void {
  const n = Buffer.byteLength(key, "utf8");
  if (n === 0 || n > MAX_KEY_BYTES)
    throw new RangeError(`object key of ${n} bytes: the DynamoDB store takes keys of 1 to ${MAX_KEY_BYTES} bytes`);
}

export function descriptorPk(key: string): string {
  return `obj#${(crc32(key) % OBJECT_SHARDS).toString(16).padStart(2, "0")}`;
}

export interface DynamoObjectStoreOptions {
  /** Query page size (test seam to force pagination; default: DynamoDB's 1 MB pages). */
  readonly queryPageLimit?: number;
  /** Objects up to this size are stored inline in the descriptor (default 64 KiB; 0 turns inlining off). */
  readonly inlineMaxBytes?: number;
  /** Chunk size in bytes (default 350 KiB). */
  readonly chunkBytes?: number;
}

interface Descriptor {
  readonly size: number;
  readonly expMs?: number;
  readonly inline?: Buffer;
  readonly chunks?: ChunkSet;
}

function parseDescriptor(item: Item): Descriptor {
  const size = Number(item.size?.N ?? "0");
  const expMs = item.expMs?.N !== undefined ? Number(item.expMs.N) : undefined;
  const base = { size, ...(expMs !== undefined ? { expMs } : {}) };
  if (item.inl?.B) return { ...base, inline: Buffer.from(item.inl.B) };
  return {
    ...base,
    chunks: { pk: item.cpk?.S ?? "", size, count: Number(item.n?.N ?? "0"), chunkBytes: Number(item.cb?.N ?? "1") },
  };
}

function compareUtf8(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, "utf8"), Buffer.from(b, "utf8"));
}

export class DynamoObjectStore implements ObjectStore {
  readonly kind = "dynamodb";
  private readonly chunks: ChunkStore;
  private readonly inlineMax: number;

  constructor(
    private readonly client: DynamoDBClient,
    readonly filesTable: string,
    readonly chunksTable: string,
    private readonly options: DynamoObjectStoreOptions = {},
    private readonly onClose: () => Promise<void> = async () => {},
  ) {
    this.chunks = new ChunkStore(client, chunksTable, options.chunkBytes);
    this.inlineMax = options.inlineMaxBytes ?? INLINE_MAX_BYTES;
  }

  async put(key: string, data: Buffer, options?: PutOptions): Promise<void> {
    checkKey(key);
    const expiresAt = options?.expiresAt;
    const item: Item = { pk: { S: descriptorPk(key) }, sk: { S: key }, size: { N: String(data.length) } };
    if (expiresAt) {
      item[TTL_ATTRIBUTE] = { N: ttlSeconds(expiresAt) };
      item.expMs = { N: String(expiresAt.getTime()) };
    }
    let written: ChunkSet | null = null;
    if (data.length <= this.inlineMax) {
      item.inl = { B: data };
    } else {
      written = await this.chunks.write(newChunkSetId(`o#${key}`), data, expiresAt);
      item.cpk = { S: written.pk };
      item.n = { N: String(written.count) };
      item.cb = { N: String(written.chunkBytes) };
    }
    const out = await this.client.send(
      new PutItemCommand({
        TableName: this.filesTable,
        Item: item,
        ReturnValues: "ALL_OLD",
        ReturnConsumedCapacity: "TOTAL",
      }),
      callDeadline(),
    );
    recordCapacity("write", out.ConsumedCapacity);
    await this.dropReplacedChunks(out.Attributes, written?.pk);
  }

  private async dropReplacedChunks(old: Item | undefined, keepPk: string | undefined): Promise<void> {
    const pk = old?.cpk?.S;
    if (!old || !pk || pk === keepPk) return;
    await this.chunks.delete({ pk, count: Number(old.n?.N ?? "0") });
  }

  /** The descriptor item as stored, expired or not. */
  private async descriptorItem(key: string, consistent = true): Promise<Item | null> {
    const out = await this.client.send(
      new GetItemCommand({
        TableName: this.filesTable,
        Key: { pk: { S: descriptorPk(key) }, sk: { S: key } },
        ConsistentRead: consistent,
        ReturnConsumedCapacity: "TOTAL",
      }),
      callDeadline(),
    );
    recordRequestReadCapacity(out.ConsumedCapacity, consistent);
    return out.Item ?? null;
  }

  /** The live descriptor: null when absent or expired (TTL removes expired items only eventually). */
  private async descriptor(key: string, consistent = true): Promise<Descriptor | null> {
    const item = await this.descriptorItem(key, consistent);
    if (!item) return null;
    const d = parseDescriptor(item);
    if (d.expMs !== undefined && d.expMs <= Date.now()) return null;
    return d;
  }

  /**
   * Moves the TTL of the chunks, then of the descriptor (which makes the object readable), on the
   * condition that the descriptor still names the same chunk set. An expired object whose items TTL has
   * not removed yet is readable again afterwards.
   */
  async setExpiry(key: string, expiresAt: Date): Promise<boolean> {
    checkKey(key);
    // An overwrite between the descriptor read and its update fails the condition: read it again then.
    for (let attempt = 0; attempt < 3; attempt++) {
      const item = await this.descriptorItem(key);
      if (!item) return false;
      const d = parseDescriptor(item);
      if (d.chunks && !(await this.chunks.setExpiry(d.chunks, expiresAt))) continue;
      try {
        const out = await this.client.send(
          new UpdateItemCommand({
            TableName: this.filesTable,
            Key: { pk: { S: descriptorPk(key) }, sk: { S: key } },
            UpdateExpression: "SET #ttl = :ttl, expMs = :expMs",
            ConditionExpression: d.chunks ? "cpk = :cpk" : "attribute_exists(sk) AND attribute_not_exists(cpk)",
            ExpressionAttributeNames: { "#ttl": TTL_ATTRIBUTE },
            ExpressionAttributeValues: {
              ":ttl": { N: ttlSeconds(expiresAt) },
              ":expMs": { N: String(expiresAt.getTime()) },
              ...(d.chunks ? { ":cpk": { S: d.chunks.pk } } : {}),
            },
            ReturnConsumedCapacity: "TOTAL",
          }),
          callDeadline(),
        );
        recordCapacity("write", out.ConsumedCapacity);
        return true;
      } catch (err) {
        if (!isConditionalCheckFailed(err)) throw err;
      }
    }
    // Chunks missing under a descriptor three times in a row: TTL is removing the object.
    return false;
  }

  async get(key: string, range?: ByteRange, options: GetOptions = {}): Promise<Buffer> {
    if (range && (range.offset < 0 || range.length < 0))
      throw new RangeError(`invalid byte range ${range.offset}+${range.length}`);
    checkKey(key);
    // An object written once and committed (GetOptions.consistent false) is read from a replica first;
    // a replica without it (or with an expiry since moved) is no answer: read strongly consistent then.
    if (options.consistent === false) {
      const d = await this.descriptor(key, false);
      const data = d && (await this.readBytes(d, range));
      if (data) return data;
    }
    // A concurrent overwrite or delete can remove the chunks between descriptor and chunk reads: read the
    // descriptor again then.
    for (let attempt = 0; attempt < 3; attempt++) {
      const d = await this.descriptor(key);
      if (!d) throw new ObjectNotFoundError(key);
      const data = await this.readBytes(d, range);
      if (data) return data;
    }
    throw new Error(`object ${key}: chunks keep disappearing under a live descriptor in ${this.chunksTable}`);
  }

  /** The bytes a descriptor names (the whole object or `range`); null when its chunks are gone. */
  private async readBytes(d: Descriptor, range: ByteRange | undefined): Promise<Buffer | null> {
    const start = Math.min(range?.offset ?? 0, d.size);
    const end = range ? Math.min(d.size, range.offset + range.length) : d.size;
    if (d.inline) return Buffer.from(d.inline.subarray(start, end));
    return this.chunks.read(d.chunks!, start, end);
  }

  async delete(keys: readonly string[]): Promise<void> {
    keys.forEach(checkKey);
    await mapLimit(keys, 8, async (key) => {
      const out = await this.client.send(
        new DeleteItemCommand({
          TableName: this.filesTable,
          Key: { pk: { S: descriptorPk(key) }, sk: { S: key } },
          ReturnValues: "ALL_OLD",
          ReturnConsumedCapacity: "TOTAL",
        }),
        callDeadline(),
      );
      recordCapacity("write", out.ConsumedCapacity);
      await this.dropReplacedChunks(out.Attributes, undefined);
    });
  }

  private async listShard(shard: number, prefix: string): Promise<ObjectInfo[]> {
    const pk = `obj#${shard.toString(16).padStart(2, "0")}`;
    const out: ObjectInfo[] = [];
    const now = Date.now();
    await queryAllPages(
      this.client,
      {
        TableName: this.filesTable,
        KeyConditionExpression: prefix === "" ? "pk = :pk" : "pk = :pk AND begins_with(sk, :prefix)",
        ExpressionAttributeValues: { ":pk": { S: pk }, ...(prefix === "" ? {} : { ":prefix": { S: prefix } }) },
        ExpressionAttributeNames: { "#size": "size" },
        ProjectionExpression: "sk, #size, expMs",
      },
      this.options.queryPageLimit,
      (item) => {
        const expMs = item.expMs?.N !== undefined ? Number(item.expMs.N) : undefined;
        if (expMs !== undefined && expMs <= now) return;
        out.push({ key: item.sk?.S ?? "", size: Number(item.size?.N ?? "0") });
      },
    );
    return out;
  }

  async *list(prefix: string): AsyncIterable<ObjectInfo> {
    const shards = await mapLimit(
      Array.from({ length: OBJECT_SHARDS }, (_, i) => i),
      4,
      (i) => this.listShard(i, prefix),
    );
    yield* shards.flat().sort((a, b) => compareUtf8(a.key, b.key));
  }

  async close(): Promise<void> {
    await this.onClose();
  }
}
