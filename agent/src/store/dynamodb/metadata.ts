/**
 * DynamoDB MetadataStore, in the files table under reserved partition keys (single-table design):
 *
 *   log entry      pk = "log",      sk = index, 20 digits zero-padded;  d (B), or for an entry whose item
 *                  would pass one write unit a pointer to its body under pk "logbody/<index mod 64>"
 *                  (entry-bodies.ts); an expiring entry (AppendOptions.expiresAfterMs) also expiresAt (N, TTL:
 *                  that long after it was written; the agents' -metadataLogEntryTTL)
 *   snapshot ptr   pk = "snapshot", sk = "latest";  idx (N), size (N), and either inl (B) or
 *                  cpk/n/cb: a chunk set in the chunks table (pk "s#<random id>")
 *   item           pk = "item",     sk = item key;  v (B), ver (N), expiresAt (N, epoch s, TTL), expMs (N)
 *
 *   tombstone      pk = "log",      sk = index;  t (BOOL true), expiresAt (N, TTL: a day after the trim)
 *   trim floor     pk = "trim",     sk = "floor";  idx (N): every index below it is tombstoned
 *
 * append(N) is a PutItem conditional on attribute_not_exists(pk): exactly one writer gets each index.
 * An index covered by the latest snapshot is taken too, even after trim() dropped its entry:
 *  - an expiring entry stays as it is below the snapshot until TTL removes it, for free, once its expiry
 *    passes (the log's snapshot writer covers every entry with a snapshot long before, and
 *    renews the entries no snapshot covers yet: renewEntries()). trim() overwrites the other entries
 *    (written by agents before level 13) with small tombstones (billed like a delete: by the size of the
 *    item replaced), which expire through TTL after a day. Either way a late writer's conditional put at
 *    a trimmed index fails while the item is there, and no reader can see a stray entry there.
 *  - for writers late by more than that, a successful put is followed by a strongly consistent read of
 *    the snapshot pointer, and a put that landed at or below it is turned into a tombstone and reported
 *    as lost (trim only ever works below the pointer, which is durable first, so the check cannot miss).
 *    The check is skipped when the handle recently saw the log's last entry at or below the index (see
 *    needsSnapshotCheck()), so a writer appending at the tail it just read pays one PutItem.
 */
import { randomInt } from "node:crypto";
import {
  DeleteItemCommand,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
  UpdateItemCommand,
  type AttributeValue,
  type DynamoDBClient,
  type WriteRequest,
} from "@aws-sdk/client-dynamodb";
import { isConditionalCheckFailed } from "../../../../common/aws/errors.js";
import { TTL_ATTRIBUTE } from "../../../../common/table-schema.js";
import type {
  AppendOptions,
  LogRecord,
  MetadataStore,
  PutCondition,
  ReadOptions,
  Snapshot,
  VersionedItem,
} from "../types.js";
import { ChunkStore, newChunkSetId, type ChunkSet } from "./chunks.js";
import {
  ENTRY_BODY_MIN_BYTES,
  ENTRY_BODY_STRIPES,
  EntryBodies,
  entryBodyPk,
  newEntryBodyRef,
  pointedBody,
  pointerAttributes,
  type EntryBodyRef,
} from "./entry-bodies.js";
import { mapLimit } from "../../../../common/map-limit.js";
import { LOG_PK, logSk } from "./log-keys.js";
import { checkKey } from "./objects.js";
import {
  batchWrite,
  callDeadline,
  queryAllPages,
  recordCapacity,
  recordRequestReadCapacity,
  recordFailedConditionalWrite,
  renewExpiry,
  ttlAttribute,
  ttlSeconds,
  type Item,
} from "./client.js";

export { LOG_PK, logSk };
export const SNAPSHOT_PK = "snapshot";
export const SNAPSHOT_SK = "latest";
export const ITEM_PK = "item";
export const TRIM_PK = "trim";
export const TRIM_SK = "floor";
/** How long tombstones of trimmed log entries stay before TTL removes them. */
export const TOMBSTONE_TTL_MS = 24 * 3600 * 1000;
/** Margin for clock skew between agents and for slow trims, below an expiry that decides a skipped check. */
const EXPIRY_MARGIN_MS = 3600 * 1000;
/** Below TOMBSTONE_TTL_MS by the margin. */
const SKIP_CHECK_WINDOW_MS = TOMBSTONE_TTL_MS - EXPIRY_MARGIN_MS;
/** The shortest TTL an expiring entry may have (needsSnapshotCheck rests on it). */
const MIN_ENTRY_TTL_MS = 24 * 3600 * 1000;
/** A body outlives its pointer by this long: TTL removes items in no particular order. */
const BODY_TTL_EXTRA_MS = 24 * 3600 * 1000;
/** Largest log entry: the item holds pk, sk and d within DynamoDB's 400 KB item limit. */
export const DYNAMO_MAX_ENTRY_BYTES = 350 * 1024;
/** Snapshots up to this size live inline in the pointer item. */
const SNAPSHOT_INLINE_MAX = 64 * 1024;
/**
 * A read stops adding entries once their bodies (entry-bodies.ts) pass this many bytes: a read of 500
 * entries of 350 KB would otherwise hold 175 MB. Entries stored whole are bounded by the Query's pages.
 */
const READ_BODY_BYTES = 8 * 1024 * 1024;
/** The data of an entry whose body is still to be read. */
const EMPTY = Buffer.alloc(0);

export interface DynamoMetadataStoreOptions {
  /** Query page size (test seam to force pagination; default: DynamoDB's 1 MB pages). */
  readonly queryPageLimit?: number;
  readonly chunkBytes?: number;
}

/** What a read of the log saw besides its entries: their expiries (ms), and whether it reached the log's end. */
interface ReadSight {
  readonly expiries: Map<bigint, number>;
  reachedEnd: boolean;
}

interface SnapshotPointer {
  readonly index: bigint;
  readonly inline?: Buffer;
  readonly chunks?: ChunkSet;
}

export class DynamoMetadataStore implements MetadataStore {
  readonly kind = "dynamodb";
  readonly maxEntryBytes = DYNAMO_MAX_ENTRY_BYTES;
  private readonly chunks: ChunkStore;
  private readonly bodies: EntryBodies;
  /** The stripe the next trim sweeps (entry-bodies.ts); each handle starts at a random one. */
  private nextSweptStripe = randomInt(ENTRY_BODY_STRIPES);
  /** Highest snapshot index seen; only grows. Appends at or below it are refused without a call. */
  private knownSnapshotIndex = 0n;
  /**
   * The highest log index this handle saw live (read, or appended by it), and until when (Date.now()) that
   * sight lets an append at or above it skip the snapshot check. See needsSnapshotCheck().
   */
  private liveSeen: { index: bigint; until: number } | null = null;

  constructor(
    private readonly client: DynamoDBClient,
    readonly filesTable: string,
    readonly chunksTable: string,
    private readonly options: DynamoMetadataStoreOptions = {},
    private readonly onClose: () => Promise<void> = async () => {},
  ) {
    this.chunks = new ChunkStore(client, chunksTable, options.chunkBytes);
    this.bodies = new EntryBodies(client, filesTable, options.queryPageLimit);
  }

  // ---- log ----

  async append(index: bigint, data: Buffer, options: AppendOptions = {}): Promise<boolean> {
    if (index < 1n) throw new RangeError(`log index must be >= 1, got ${index}`);
    if (data.length > this.maxEntryBytes)
      throw new RangeError(`log entry of ${data.length} bytes exceeds ${this.maxEntryBytes}`);
    if (index <= this.knownSnapshotIndex) return false;
    const startedAt = Date.now();
    const ttl = options.expiresAfterMs ?? 0;
    if (ttl > 0 && ttl < MIN_ENTRY_TTL_MS) throw new RangeError(`log entry TTL must be at least a day, got ${ttl} ms`);
    const expiresAt = ttl > 0 ? startedAt + ttl : undefined;
    // A large entry's bytes go to a stripe first; the log's key gets a pointer to them (entry-bodies.ts).
    const body = !options.inlineOnly && data.length > ENTRY_BODY_MIN_BYTES ? newEntryBodyRef(index, data.length) : null;
    if (body) await this.bodies.write(body, data, expiresAt === undefined ? undefined : expiresAt + BODY_TTL_EXTRA_MS);
    try {
      const out = await this.client.send(
        new PutItemCommand({
          TableName: this.filesTable,
          Item: {
            pk: { S: LOG_PK },
            sk: { S: logSk(index) },
            ...(body ? pointerAttributes(body) : { d: { B: data } }),
            ...ttlAttribute(expiresAt),
          },
          ConditionExpression: "attribute_not_exists(pk)",
          ReturnConsumedCapacity: "TOTAL",
        }),
        callDeadline(),
      );
      recordCapacity("write", out.ConsumedCapacity, LOG_PK);
    } catch (err) {
      // Any other failure may have stored the pointer: its body stays (a trim sweeps it if it did not).
      if (!isConditionalCheckFailed(err)) throw err;
      recordFailedConditionalWrite(this.filesTable, body ? 1 : data.length, LOG_PK);
      if (body) await this.bodies.discard(body);
      return false;
    }
    if (this.needsSnapshotCheck(index, startedAt)) {
      const pointer = await this.readPointer(false);
      if (pointer && pointer.index >= index) {
        // Landed in the trimmed range below the snapshot (its tombstone had expired): not ours to take.
        await this.tombstone([index]);
        return false;
      }
    }
    this.noteLive(index, startedAt, expiresAt);
    return true;
  }

  /** Entry `index` was live at `at` (taken before the request); `expiresAt`: its expiry (ms), if it has one. */
  private noteLive(index: bigint, at: number, expiresAt: number | undefined): void {
    let until = at + SKIP_CHECK_WINDOW_MS;
    if (expiresAt !== undefined) until = Math.min(until, expiresAt - EXPIRY_MARGIN_MS);
    if (!this.liveSeen || index > this.liveSeen.index || (index === this.liveSeen.index && until > this.liveSeen.until))
      this.liveSeen = { index, until };
  }

  /**
   * Whether a successful conditional put at `index` may have landed where a trimmed entry's tombstone, or
   * an expiring entry, had already expired. Not while this handle's sight of the log's last entry L <=
   * index holds (noteLive: L appended by this handle, or the last entry of a strongly consistent read that
   * reached the log's end), which is at most SKIP_CHECK_WINDOW_MS after it, and never past L's own expiry
   * less EXPIRY_MARGIN_MS:
   *  - index > L: nothing was at index when L was the last entry, so whatever was put there since (an
   *    entry, which expires after at least a day, or a tombstone, which lives TOMBSTONE_TTL_MS) was still
   *    there to fail the put;
   *  - index = L: L was live then; a tombstone put on it since lives TOMBSTONE_TTL_MS, and L itself, if it
   *    expires, lasts until its expiry (give or take the writers' clock skew).
   * A sight of an entry that was not the last proves nothing: an expiring entry stays live below the
   * snapshot, where the entries after it may have been trimmed (tombstoned, written by an older agent) and
   * their tombstones expired since.
   */
  private needsSnapshotCheck(index: bigint, now: number): boolean {
    const seen = this.liveSeen;
    return !(seen && seen.index <= index && now < seen.until);
  }

  async read(from: bigint, limit: number, options: ReadOptions = {}): Promise<LogRecord[]> {
    const out: LogRecord[] = [];
    if (limit <= 0) return out;
    const consistent = options.consistent ?? true;
    const startedAt = Date.now();
    const seen: ReadSight = { expiries: new Map(), reachedEnd: false };
    const records = await this.readInto(out, from, limit, consistent, seen);
    // Only what the leader holds vouches for the skipped snapshot check, and only a read that reached the
    // log's end (needsSnapshotCheck).
    const last = records[records.length - 1];
    if (last && consistent && seen.reachedEnd) this.noteLive(last.index, startedAt, seen.expiries.get(last.index));
    return records;
  }

  private async readInto(
    out: LogRecord[],
    from: bigint,
    limit: number,
    consistent: boolean,
    seen: ReadSight,
  ): Promise<LogRecord[]> {
    const pointed: Array<{ readonly at: number; readonly ref: EntryBodyRef }> = [];
    let bodyBytes = 0;
    let start: Item | undefined;
    do {
      const want = limit - out.length;
      const pageLimit = Math.min(want, this.options.queryPageLimit ?? want);
      const page = await this.client.send(
        new QueryCommand({
          TableName: this.filesTable,
          KeyConditionExpression: "pk = :pk AND sk >= :from",
          ExpressionAttributeValues: { ":pk": { S: LOG_PK }, ":from": { S: logSk(from) } },
          ConsistentRead: consistent,
          Limit: pageLimit,
          ...(start ? { ExclusiveStartKey: start } : {}),
          ReturnConsumedCapacity: "TOTAL",
        }),
        callDeadline(),
      );
      recordRequestReadCapacity(page.ConsumedCapacity, consistent, LOG_PK);
      for (const item of page.Items ?? []) {
        if (item.t?.BOOL) continue; // trimmed
        const index = BigInt(item.sk?.S ?? "0");
        const expiresAt = itemExpiry(item);
        if (expiresAt !== undefined) seen.expiries.set(index, expiresAt);
        const ref = pointedBody(item);
        if (ref) {
          pointed.push({ at: out.length, ref });
          bodyBytes += ref.size;
        }
        out.push({ index, data: ref ? EMPTY : Buffer.from(item.d?.B ?? new Uint8Array()) });
        if (out.length >= limit || bodyBytes >= READ_BODY_BYTES) {
          start = undefined;
          break;
        }
      }
      if (out.length < limit && bodyBytes < READ_BODY_BYTES) {
        start = page.LastEvaluatedKey;
        seen.reachedEnd = start === undefined;
      }
    } while (start);
    return pointed.length === 0 ? out : this.withBodies(out, pointed);
  }

  /**
   * Puts the bodies into the entries that point to them. A body missing even from a strongly consistent
   * read belongs to an entry trimmed since its pointer was read (trim tombstones pointers before it deletes
   * bodies), or expired (TTL removes items in any order): that entry is left out, which its reader sees as
   * trimmed (a gap). A live pointer without its body is corruption, and an error.
   */
  private async withBodies(
    out: LogRecord[],
    pointed: ReadonlyArray<{ readonly at: number; readonly ref: EntryBodyRef }>,
  ): Promise<LogRecord[]> {
    const found = await this.bodies.read(pointed.map((p) => p.ref));
    const gone = new Set<number>();
    for (const { at, ref } of pointed) {
      const data = found.get(ref.sk);
      if (data) {
        out[at] = { index: out[at]!.index, data };
        continue;
      }
      const index = out[at]!.index;
      if (await this.isLiveEntry(index))
        throw new Error(`metadata log entry ${index}: its body ${ref.pk} ${ref.sk} is missing from ${this.filesTable}`);
      gone.add(at);
    }
    return gone.size === 0 ? out : out.filter((_, i) => !gone.has(i));
  }

  /** Whether entry `index` is there, neither trimmed nor past its expiry. */
  private async isLiveEntry(index: bigint): Promise<boolean> {
    const out = await this.client.send(
      new GetItemCommand({
        TableName: this.filesTable,
        Key: { pk: { S: LOG_PK }, sk: { S: logSk(index) } },
        ConsistentRead: true,
        ProjectionExpression: "sk, t, #ttl",
        ExpressionAttributeNames: { "#ttl": TTL_ATTRIBUTE },
        ReturnConsumedCapacity: "TOTAL",
      }),
      callDeadline(),
    );
    recordRequestReadCapacity(out.ConsumedCapacity, true, LOG_PK);
    const item = out.Item;
    if (item === undefined || item.t?.BOOL) return false;
    const expiresAt = itemExpiry(item);
    return expiresAt === undefined || expiresAt > Date.now();
  }

  /** Replaces log entries by tombstones that expire through TTL (see the header). */
  private async tombstone(indexes: readonly bigint[]): Promise<void> {
    const ttl: AttributeValue = { N: ttlSeconds(new Date(Date.now() + TOMBSTONE_TTL_MS)) };
    const requests: WriteRequest[] = indexes.map((i) => ({
      PutRequest: { Item: { pk: { S: LOG_PK }, sk: { S: logSk(i) }, t: { BOOL: true }, [TTL_ATTRIBUTE]: ttl } },
    }));
    await batchWrite(this.client, this.filesTable, requests, undefined, LOG_PK);
  }

  async trim(before: bigint): Promise<void> {
    // Only entries the durable snapshot covers may go (append() relies on it).
    const pointer = await this.readPointer(false);
    if (!pointer) return;
    const limit = before < pointer.index + 1n ? before : pointer.index + 1n;
    const floor = await this.readTrimFloor();
    if (floor >= limit) return;
    const live: bigint[] = [];
    const pointed: EntryBodyRef[] = [];
    await queryAllPages(
      this.client,
      {
        TableName: this.filesTable,
        KeyConditionExpression: "pk = :pk AND sk BETWEEN :from AND :to",
        ExpressionAttributeValues: {
          ":pk": { S: LOG_PK },
          ":from": { S: logSk(floor) },
          ":to": { S: logSk(limit - 1n) },
        },
        ProjectionExpression: "sk, t, bpk, bsk, #ttl",
        ExpressionAttributeNames: { "#ttl": TTL_ATTRIBUTE },
      },
      this.options.queryPageLimit,
      (item) => {
        // An expiring entry (and its body) goes through TTL, for free: nothing to write.
        if (item.t?.BOOL || itemExpiry(item) !== undefined) return;
        live.push(BigInt(item.sk?.S ?? "0"));
        const ref = pointedBody(item);
        if (ref) pointed.push(ref);
      },
      LOG_PK,
      // Eventually consistent (half the units): every entry here was folded into a durable snapshot, so
      // written well before; one a stale replica hid would only stay untombstoned, below every reader.
      false,
    );
    if (live.length > 0) await this.tombstone(live);
    // Bodies go after their pointers' tombstones (a reader racing the trim then sees a trimmed entry), and
    // one stripe in turn is swept of bodies writers left behind (entry-bodies.ts).
    await this.bodies.delete(pointed);
    await this.bodies.sweep(entryBodyPk(BigInt(this.nextSweptStripe++ % ENTRY_BODY_STRIPES)), limit);
    try {
      const out = await this.client.send(
        new PutItemCommand({
          TableName: this.filesTable,
          Item: { pk: { S: TRIM_PK }, sk: { S: TRIM_SK }, idx: { N: limit.toString() } },
          ConditionExpression: "attribute_not_exists(pk) OR idx < :idx",
          ExpressionAttributeValues: { ":idx": { N: limit.toString() } },
          ReturnConsumedCapacity: "TOTAL",
        }),
        callDeadline(),
      );
      recordCapacity("write", out.ConsumedCapacity);
    } catch (err) {
      if (!isConditionalCheckFailed(err)) throw err;
      recordFailedConditionalWrite(this.filesTable, 1); // another agent trimmed further meanwhile
    }
  }

  private async readTrimFloor(): Promise<bigint> {
    const out = await this.client.send(
      new GetItemCommand({
        TableName: this.filesTable,
        Key: { pk: { S: TRIM_PK }, sk: { S: TRIM_SK } },
        ConsistentRead: true,
        ReturnConsumedCapacity: "TOTAL",
      }),
      callDeadline(),
    );
    recordRequestReadCapacity(out.ConsumedCapacity, true);
    return out.Item?.idx?.N ? BigInt(out.Item.idx.N) : 0n;
  }

  async renewEntries(from: bigint, expiresAfterMs: number): Promise<number> {
    if (!(expiresAfterMs > 0)) return 0;
    const now = Date.now();
    const due: Array<{ readonly index: bigint; readonly body: EntryBodyRef | null }> = [];
    await queryAllPages(
      this.client,
      {
        TableName: this.filesTable,
        KeyConditionExpression: "pk = :pk AND sk >= :from",
        ExpressionAttributeValues: { ":pk": { S: LOG_PK }, ":from": { S: logSk(from) } },
        ProjectionExpression: "sk, t, bpk, bsk, #ttl",
        ExpressionAttributeNames: { "#ttl": TTL_ATTRIBUTE },
      },
      this.options.queryPageLimit,
      (item) => {
        const expiresAt = itemExpiry(item);
        if (item.t?.BOOL || expiresAt === undefined || expiresAt > now + expiresAfterMs / 2) return;
        due.push({ index: BigInt(item.sk?.S ?? "0"), body: pointedBody(item) });
      },
      LOG_PK,
      // Strongly consistent: an entry a stale replica hid would miss its renewal.
      true,
    );
    const expiresAt = now + expiresAfterMs;
    let renewed = 0;
    await mapLimit(due, 4, async ({ index, body }) => {
      // The body first: it must outlive its pointer.
      if (body) await this.bodies.renew(body, expiresAt + BODY_TTL_EXTRA_MS);
      if (await this.renewEntry(index, expiresAt)) renewed++;
    });
    return renewed;
  }

  /** Gives expiring entry `index` the expiry `expiresAt` (ms), unless it is gone or trimmed meanwhile. */
  private renewEntry(index: bigint, expiresAt: number): Promise<boolean> {
    const key = { pk: { S: LOG_PK }, sk: { S: logSk(index) } };
    return renewExpiry(
      this.client,
      this.filesTable,
      key,
      expiresAt,
      "attribute_exists(#ttl) AND attribute_not_exists(t)",
      LOG_PK,
    );
  }

  // ---- snapshots ----

  private async readPointer(withData: boolean): Promise<SnapshotPointer | null> {
    const out = await this.client.send(
      new GetItemCommand({
        TableName: this.filesTable,
        Key: { pk: { S: SNAPSHOT_PK }, sk: { S: SNAPSHOT_SK } },
        ConsistentRead: true,
        ...(withData ? {} : { ProjectionExpression: "idx" }),
        ReturnConsumedCapacity: "TOTAL",
      }),
      callDeadline(),
    );
    recordRequestReadCapacity(out.ConsumedCapacity, true);
    const item = out.Item;
    if (!item?.idx?.N) return null;
    const index = BigInt(item.idx.N);
    if (index > this.knownSnapshotIndex) this.knownSnapshotIndex = index;
    if (!withData) return { index };
    if (item.inl?.B) return { index, inline: Buffer.from(item.inl.B) };
    return {
      index,
      chunks: {
        pk: item.cpk?.S ?? "",
        size: Number(item.size?.N ?? "0"),
        count: Number(item.n?.N ?? "0"),
        chunkBytes: Number(item.cb?.N ?? "1"),
      },
    };
  }

  async putSnapshot(snapshot: Snapshot): Promise<void> {
    if (snapshot.index <= this.knownSnapshotIndex) return;
    const current = await this.readPointer(false);
    if (current && current.index >= snapshot.index) return;
    const item: Item = {
      pk: { S: SNAPSHOT_PK },
      sk: { S: SNAPSHOT_SK },
      idx: { N: snapshot.index.toString() },
      size: { N: String(snapshot.data.length) },
    };
    let written: ChunkSet | null = null;
    if (snapshot.data.length <= SNAPSHOT_INLINE_MAX) {
      item.inl = { B: snapshot.data };
    } else {
      written = await this.chunks.write(newChunkSetId("s"), snapshot.data);
      item.cpk = { S: written.pk };
      item.n = { N: String(written.count) };
      item.cb = { N: String(written.chunkBytes) };
    }
    let old: Item | undefined;
    try {
      const out = await this.client.send(
        new PutItemCommand({
          TableName: this.filesTable,
          Item: item,
          ConditionExpression: "attribute_not_exists(pk) OR idx < :idx",
          ExpressionAttributeValues: { ":idx": { N: snapshot.index.toString() } },
          ReturnValues: "ALL_OLD",
          ReturnConsumedCapacity: "TOTAL",
        }),
        callDeadline(),
      );
      recordCapacity("write", out.ConsumedCapacity);
      old = out.Attributes;
    } catch (err) {
      if (!isConditionalCheckFailed(err)) throw err;
      // A newer snapshot won meanwhile; ours is not needed.
      recordFailedConditionalWrite(this.filesTable, Math.min(snapshot.data.length, SNAPSHOT_INLINE_MAX));
      if (written) await this.chunks.delete(written);
      return;
    }
    if (snapshot.index > this.knownSnapshotIndex) this.knownSnapshotIndex = snapshot.index;
    const oldPk = old?.cpk?.S;
    if (oldPk) await this.chunks.delete({ pk: oldPk, count: Number(old?.n?.N ?? "0") });
  }

  async latestSnapshot(): Promise<Snapshot | null> {
    // The superseded snapshot's chunks are deleted right after the pointer moves: re-read the pointer then.
    for (let attempt = 0; attempt < 5; attempt++) {
      const pointer = await this.readPointer(true);
      if (!pointer) return null;
      if (pointer.inline) return { index: pointer.index, data: pointer.inline };
      const data = await this.chunks.read(pointer.chunks!, 0, pointer.chunks!.size);
      if (data) return { index: pointer.index, data };
    }
    throw new Error(`snapshot chunks keep disappearing in ${this.chunksTable}`);
  }

  // ---- items ----

  private itemKey(key: string): Item {
    checkKey(key);
    return { pk: { S: ITEM_PK }, sk: { S: key } };
  }

  async getItem(key: string): Promise<VersionedItem | null> {
    const out = await this.client.send(
      new GetItemCommand({
        TableName: this.filesTable,
        Key: this.itemKey(key),
        ConsistentRead: true,
        ReturnConsumedCapacity: "TOTAL",
      }),
      callDeadline(),
    );
    recordRequestReadCapacity(out.ConsumedCapacity, true);
    return out.Item ? toVersioned(out.Item, Date.now()) : null;
  }

  async putItem(key: string, value: Buffer, condition: PutCondition, expiresAt?: Date): Promise<number | null> {
    const now = Date.now();
    const names: Record<string, string> = { "#v": "v", "#ver": "ver" };
    const values: Item = { ":v": { B: value }, ":zero": { N: "0" }, ":one": { N: "1" } };
    let update = "SET #v = :v, #ver = if_not_exists(#ver, :zero) + :one";
    if (expiresAt) {
      update += `, #ttl = :ttl, expMs = :expMs`;
      names["#ttl"] = TTL_ATTRIBUTE;
      values[":ttl"] = { N: ttlSeconds(expiresAt) };
      values[":expMs"] = { N: String(expiresAt.getTime()) };
    } else {
      update += " REMOVE #ttl, expMs";
      names["#ttl"] = TTL_ATTRIBUTE;
    }
    let conditionExpression: string | undefined;
    if (condition.kind === "absent") {
      conditionExpression = "attribute_not_exists(pk) OR expMs <= :now";
      values[":now"] = { N: String(now) };
    } else if (condition.kind === "version") {
      conditionExpression = "#ver = :expected AND (attribute_not_exists(expMs) OR expMs > :now)";
      values[":expected"] = { N: String(condition.version) };
      values[":now"] = { N: String(now) };
    }
    try {
      const out = await this.client.send(
        new UpdateItemCommand({
          TableName: this.filesTable,
          Key: this.itemKey(key),
          UpdateExpression: update,
          ...(conditionExpression ? { ConditionExpression: conditionExpression } : {}),
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: values,
          ReturnValues: "UPDATED_NEW",
          ReturnConsumedCapacity: "TOTAL",
        }),
        callDeadline(),
      );
      recordCapacity("write", out.ConsumedCapacity);
      return Number(out.Attributes?.ver?.N ?? "NaN");
    } catch (err) {
      if (!isConditionalCheckFailed(err)) throw err;
      recordFailedConditionalWrite(this.filesTable, value.length);
      return null;
    }
  }

  async listItems(prefix: string): Promise<VersionedItem[]> {
    const out: VersionedItem[] = [];
    const now = Date.now();
    await queryAllPages(
      this.client,
      {
        TableName: this.filesTable,
        KeyConditionExpression: prefix === "" ? "pk = :pk" : "pk = :pk AND begins_with(sk, :prefix)",
        ExpressionAttributeValues: { ":pk": { S: ITEM_PK }, ...(prefix === "" ? {} : { ":prefix": { S: prefix } }) },
      },
      this.options.queryPageLimit,
      (item) => {
        const v = toVersioned(item, now);
        if (v) out.push(v);
      },
    );
    return out;
  }

  async deleteItem(key: string, version?: number): Promise<boolean> {
    try {
      const out = await this.client.send(
        new DeleteItemCommand({
          TableName: this.filesTable,
          Key: this.itemKey(key),
          ...(version !== undefined
            ? {
                ConditionExpression: "#ver = :expected AND (attribute_not_exists(expMs) OR expMs > :now)",
                ExpressionAttributeNames: { "#ver": "ver" },
                ExpressionAttributeValues: { ":expected": { N: String(version) }, ":now": { N: String(Date.now()) } },
              }
            : {}),
          ReturnConsumedCapacity: "TOTAL",
        }),
        callDeadline(),
      );
      recordCapacity("write", out.ConsumedCapacity);
      return true;
    } catch (err) {
      if (!isConditionalCheckFailed(err)) throw err;
      recordFailedConditionalWrite(this.filesTable, 1);
      return false;
    }
  }

  async close(): Promise<void> {
    await this.onClose();
  }
}

/** A log item's expiry (ms since the epoch), if it has one. */
function itemExpiry(item: Item): number | undefined {
  const seconds = item[TTL_ATTRIBUTE]?.N;
  return seconds === undefined ? undefined : Number(seconds) * 1000;
}

function toVersioned(item: Item, now: number): VersionedItem | null {
  const expMs = item.expMs?.N !== undefined ? Number(item.expMs.N) : undefined;
  if (expMs !== undefined && expMs <= now) return null;
  return {
    key: item.sk?.S ?? "",
    value: Buffer.from(item.v?.B ?? new Uint8Array()),
    version: Number(item.ver?.N ?? "0"),
    ...(expMs !== undefined ? { expiresAt: new Date(expMs) } : {}),
  };
}
