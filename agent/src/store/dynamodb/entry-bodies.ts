/**
 * Log entry bodies kept off the log's partition key (docs/metadata-log.md, section 1, "Entry bodies").
 *
 * DynamoDB serves one partition key at most 1,000 write units a second, and every byte of every entry on
 * `pk = "log"` is billed on that key twice (written, then replaced by its trim's tombstone). An entry
 * larger than ENTRY_BODY_MIN_BYTES (996 bytes: a whole entry's item up to 1 KB) is therefore stored as
 * two items:
 *
 *   body     pk = "logbody/<index mod 64, 2 digits>", sk = "<index, 20 digits>-<12 hex, unique>";  d (B)
 *   pointer  pk = "log", sk = index: the usual conditional put, holding the stub STUB as `d` and the
 *            body's key and size in `bpk`, `bsk`, `bsz`
 *
 * Consecutive indexes go to consecutive stripes, so each stripe takes a 64th of the entries' bytes and
 * the log's key about 1 write unit per entry (plus 1 for its tombstone), whatever the entry's size.
 *
 * Ordering: the body is written before its pointer and never overwritten (its sort key is unique to the
 * writer), so a live pointer always names a body that exists, until the trim that tombstones the pointer
 * deletes it. A writer whose conditional put lost deletes its body at once. Bodies a writer left behind
 * (it stopped between the two puts, or its delete failed) are found by the trims: each trim deletes the
 * bodies of the entries it tombstones by their keys, and sweeps one stripe in turn (a Query of it below
 * the trimmed index, half a read unit when it finds nothing), so a left-behind body goes within 64 trims.
 * The body of an expiring entry (AppendOptions.expiresAfterMs) expires through TTL a day after its
 * pointer, whatever becomes of the pointer: trims and sweeps leave it alone.
 *
 * The stub is what an agent that does not know bodies reads as the entry: "WL" and the entry format
 * ENTRY_BODY_STUB_FORMAT (12), which it refuses as a newer format with that level named. Agents store
 * bodies only while every live agent reads level 12 (AppendOptions.inlineOnly, set by the log).
 */
import { randomBytes } from "node:crypto";
import { DeleteItemCommand, PutItemCommand, type DynamoDBClient, type WriteRequest } from "@aws-sdk/client-dynamodb";
import { TTL_ATTRIBUTE } from "../../../../common/table-schema.js";
import type { HotPartitionKey } from "../usage.js";
import {
  batchWrite,
  callDeadline,
  queryAllPages,
  readWrittenOnce,
  recordCapacity,
  renewExpiry,
  ttlAttribute,
  type Item,
} from "./client.js";
import { LOG_PK, logSk } from "./log-keys.js";

/**
 * Entries up to this size stay whole in the log's item: with its keys (`pk` "log", `sk` 20 digits, `d`)
 * the item is at most 1 KB, one write unit, as a pointer is. Larger ones cost the log's key one unit
 * however large (and one for the trim's tombstone), so the key's write units a second are bounded by its
 * entries a second, whatever the bytes.
 */
export const ENTRY_BODY_MIN_BYTES =
  1024 - ("pk".length + LOG_PK.length) - ("sk".length + logSk(0n).length) - "d".length;
/**
 * Partition keys the bodies are spread over (index mod ENTRY_BODY_STRIPES). 64: at 1 GB/s in batches of
 * 1 KB over files of 1,000 partitions (about 10 MB/s of entry bytes, written and later deleted) each stripe
 * takes about a third of DynamoDB's 1,000 write units a second per key (docs/metadata-log.md section 14.2).
 */
export const ENTRY_BODY_STRIPES = 64;
/** The entry format a pointer's stub carries (commands.ts ENTRY_FORMAT.entryBodies). */
export const ENTRY_BODY_STUB_FORMAT = 12;
/** The units spent on the stripes are counted together under this key (usage.ts). */
export const ENTRY_BODY_KEY: HotPartitionKey = "logbody";

const STUB = Buffer.from([0x57, 0x4c, ENTRY_BODY_STUB_FORMAT]); // "WL", format 12 (a varint below 128)

export interface EntryBodyRef {
  readonly pk: string;
  readonly sk: string;
  readonly size: number;
}

/** The stripe of entry `index`'s body. */
export function entryBodyPk(index: bigint): string {
  return `${ENTRY_BODY_KEY}/${(index % BigInt(ENTRY_BODY_STRIPES)).toString().padStart(2, "0")}`;
}

/** Every stripe. */
export function entryBodyStripes(): string[] {
  return Array.from({ length: ENTRY_BODY_STRIPES }, (_, s) => entryBodyPk(BigInt(s)));
}

/** A fresh body key for entry `index`: ordered by index within its stripe, unique to this writer. */
export function newEntryBodyRef(index: bigint, size: number): EntryBodyRef {
  return { pk: entryBodyPk(index), sk: `${logSk(index)}-${randomBytes(6).toString("hex")}`, size };
}

/** The pointer item's attributes besides its key: the stub and the body's key and size. */
export function pointerAttributes(ref: EntryBodyRef): Item {
  return { d: { B: STUB }, bpk: { S: ref.pk }, bsk: { S: ref.sk }, bsz: { N: String(ref.size) } };
}

/** The body a log item points to, or null for an entry stored whole. */
export function pointedBody(item: Item): EntryBodyRef | null {
  const pk = item.bpk?.S;
  const sk = item.bsk?.S;
  if (pk === undefined || sk === undefined) return null;
  return { pk, sk, size: Number(item.bsz?.N ?? "0") };
}

/** Reads, writes and sweeps entry bodies in the files table. */
export class EntryBodies {
  constructor(
    private readonly client: DynamoDBClient,
    private readonly table: string,
    private readonly queryPageLimit?: number,
  ) {}

  /** Stores a body, expiring at `expiresAt` (ms) if given; durable when it resolves. */
  async write(ref: EntryBodyRef, data: Buffer, expiresAt?: number): Promise<void> {
    const out = await this.client.send(
      new PutItemCommand({
        TableName: this.table,
        Item: {
          pk: { S: ref.pk },
          sk: { S: ref.sk },
          d: { B: data },
          ...ttlAttribute(expiresAt),
        },
        ReturnConsumedCapacity: "TOTAL",
      }),
      callDeadline(),
    );
    recordCapacity("write", out.ConsumedCapacity, ENTRY_BODY_KEY);
  }

  /** Gives an expiring body the expiry `expiresAt` (ms); a body already gone stays gone. */
  async renew(ref: EntryBodyRef, expiresAt: number): Promise<void> {
    const key = { pk: { S: ref.pk }, sk: { S: ref.sk } };
    await renewExpiry(this.client, this.table, key, expiresAt, "attribute_exists(#ttl)", ENTRY_BODY_KEY);
  }

  /** Deletes the body of an append that lost its index. A failure leaves it to the next trim's sweep. */
  async discard(ref: EntryBodyRef): Promise<void> {
    try {
      const out = await this.client.send(
        new DeleteItemCommand({
          TableName: this.table,
          Key: { pk: { S: ref.pk }, sk: { S: ref.sk } },
          ReturnConsumedCapacity: "TOTAL",
        }),
        callDeadline(),
      );
      recordCapacity("write", out.ConsumedCapacity, ENTRY_BODY_KEY);
    } catch {
      // Swept later (see the header).
    }
  }

  /**
   * The bodies named, by sort key; a body absent from the answer is not there. Bodies are written once and
   * never overwritten (client.ts readWrittenOnce: eventually consistent first, strongly for the misses).
   */
  read(refs: readonly EntryBodyRef[]): Promise<Map<string, Buffer>> {
    return readWrittenOnce(
      this.client,
      this.table,
      refs.map((r) => ({ pk: { S: r.pk }, sk: { S: r.sk } })),
      ENTRY_BODY_KEY,
    );
  }

  /** Deletes bodies by key (trim: of the entries it tombstoned). */
  async delete(refs: readonly EntryBodyRef[]): Promise<void> {
    if (refs.length === 0) return;
    const requests: WriteRequest[] = refs.map((r) => ({
      DeleteRequest: { Key: { pk: { S: r.pk }, sk: { S: r.sk } } },
    }));
    await batchWrite(this.client, this.table, requests, undefined, ENTRY_BODY_KEY);
  }

  /**
   * Deletes every body in stripe `pk` of an entry below `before` (trim: the snapshot covers them), but
   * expiring ones: TTL removes those.
   */
  async sweep(pk: string, before: bigint): Promise<number> {
    const requests: WriteRequest[] = [];
    await queryAllPages(
      this.client,
      {
        TableName: this.table,
        KeyConditionExpression: "pk = :pk AND sk < :before",
        ExpressionAttributeValues: { ":pk": { S: pk }, ":before": { S: logSk(before) } },
        ProjectionExpression: "pk, sk, #ttl",
        ExpressionAttributeNames: { "#ttl": TTL_ATTRIBUTE },
      },
      this.queryPageLimit,
      (item) => {
        if (item[TTL_ATTRIBUTE] !== undefined) return;
        if (item.pk && item.sk) requests.push({ DeleteRequest: { Key: { pk: item.pk, sk: item.sk } } });
      },
      ENTRY_BODY_KEY,
      // Eventually consistent: every body below a durable snapshot was written long before; one a stale
      // replica hid is deleted by a later sweep.
      false,
    );
    if (requests.length > 0) await batchWrite(this.client, this.table, requests, undefined, ENTRY_BODY_KEY);
    return requests.length;
  }
}
