/**
 * Storage contracts. Every backend (mem, file, DynamoDB, S3) implements these narrow interfaces and
 * passes the shared contract suites in agent/test/store/contract.ts. Nothing above this layer knows
 * which backend it talks to.
 *
 * ObjectStore    — immutable blobs: ingestion files (DynamoDB chunks, local files) and compacted
 *                  objects (S3). Written once, read by ranges, deleted or expired.
 * MetadataStore  — the totally ordered metadata log (conditional append at an index), its snapshots,
 *                  and a few small versioned items (agent registry, leases).
 */

export interface ByteRange {
  /** First byte, from the start of the object. */
  readonly offset: number;
  /** Number of bytes. Reads past the end of the object return what exists. */
  readonly length: number;
}

export interface PutOptions {
  /**
   * The object is not needed after this time (ingestion files once compacted). A backend may expire it
   * then (DynamoDB TTL) or ignore the hint; nothing may read an object after its expiry.
   */
  readonly expiresAt?: Date;
  /**
   * The caller never wrote this key before and nothing reads it until the put resolves (ingestion files:
   * fresh random keys, referenced only once committed to the log). A store may then write in place
   * instead of making the write atomic (the file store skips its temp file and rename); a put that fails
   * may leave a partial object under the key, which nothing references (GC removes it).
   */
  readonly fresh?: boolean;
}

export interface GetOptions {
  /**
   * Default true. False: the object was written once under a fresh key and committed before this read
   * (ingestion files named by the log), so any copy of it is the object; a store may answer from a replica
   * first (DynamoDB: an eventually consistent read, half the read units) and reads strongly consistent
   * when the replica does not have it yet. Never for keys that are overwritten.
   */
  readonly consistent?: boolean;
}

export interface ObjectInfo {
  readonly key: string;
  readonly size: number;
}

export class ObjectNotFoundError extends Error {
  constructor(readonly key: string) {
    super(`object not found: ${key}`);
    this.name = "ObjectNotFoundError";
  }
}

export interface ObjectStore {
  /** For logs and metrics: "mem", "file", "dynamodb", "s3". */
  readonly kind: string;
  /** Writes an object durably; when this resolves the object can be read by any agent. Overwrites. */
  put(key: string, data: Buffer, options?: PutOptions): Promise<void>;
  /** Reads an object or a range of it. Throws ObjectNotFoundError when absent. */
  get(key: string, range?: ByteRange, options?: GetOptions): Promise<Buffer>;
  /**
   * Gives an object a new expiry (PutOptions.expiresAt), later or earlier. Stores remove expired objects
   * lazily (DynamoDB TTL within days, the file store in its sweep): an object whose expiry has passed but
   * that the store still holds is served again. Returns false when the object is gone. A store that
   * ignores expiry (S3) only tells whether the object exists.
   */
  setExpiry(key: string, expiresAt: Date): Promise<boolean>;
  /** Deletes objects; absent keys are ignored. */
  delete(keys: readonly string[]): Promise<void>;
  /** Lists objects whose key starts with prefix, in key order. */
  list(prefix: string): AsyncIterable<ObjectInfo>;
  close(): Promise<void>;
}

export interface AppendOptions {
  /**
   * Keep the entry whole in the log's own item, even where the store would keep a large one's bytes apart
   * (DynamoDB: a body under another partition key, entry-bodies.ts): set while an agent that cannot follow
   * such a pointer reads the log (entry level below 12, docs/metadata-log.md section 2a).
   */
  readonly inlineOnly?: boolean;
  /**
   * The entry may expire this long (ms) after it is written: a store that removes old items for free
   * (DynamoDB: TTL) marks it so, and trim() then leaves it to expire instead of rewriting it. Set while
   * every live agent reads level 13, whose snapshot writer covers every entry with a snapshot long before
   * (hourly at least) and renews entries no snapshot covers yet (renewEntries; docs/metadata-log.md
   * section 6, "Expiring entries"). At least a day (the late-writer check of the DynamoDB store rests on
   * it). Stores whose trims cost nothing ignore it.
   */
  readonly expiresAfterMs?: number;
}

export interface ReadOptions {
  /** Default true: every entry appended before the read began is seen. */
  readonly consistent?: boolean;
}

export interface LogRecord {
  readonly index: bigint;
  readonly data: Buffer;
}

export interface Snapshot {
  /** State after applying every log entry with index <= this. */
  readonly index: bigint;
  readonly data: Buffer;
}

export interface SnapshotPutOptions {
  /**
   * Keep the snapshot in the metadata store itself, even where the store would keep a large one elsewhere
   * (snapshot-objects.ts: an object in the compaction bucket): set while an agent that cannot follow such
   * a reference reads the log (entry level below 11, docs/metadata-log.md section 2a).
   */
  readonly inTableOnly?: boolean;
}

export interface VersionedItem {
  readonly key: string;
  readonly value: Buffer;
  /** Starts at 1 and grows by one with each successful put. */
  readonly version: number;
  /** When set and in the past, the item is treated as absent. */
  readonly expiresAt?: Date;
}

/** Whether an item is there: present and not expired at `now` (VersionedItem.expiresAt). */
export function isLive<T extends { readonly expiresAt?: Date }>(
  item: T | null | undefined,
  now = Date.now(),
): item is T {
  return item !== null && item !== undefined && !(item.expiresAt && item.expiresAt.getTime() <= now);
}

export type PutCondition =
  /** Write whatever exists. */
  | { readonly kind: "any" }
  /** Write only if no live item has this key. */
  | { readonly kind: "absent" }
  /** Write only if the live item has this version. */
  | { readonly kind: "version"; readonly version: number };

export interface MetadataStore {
  readonly kind: string;
  /** Largest entry append() accepts, in bytes (DynamoDB items are at most 400 KB). */
  readonly maxEntryBytes: number;
  /**
   * Appends entry `index` (the first entry has index 1) only if no entry has that index yet.
   * Returns false when another writer took it first. Durable when it resolves true.
   */
  append(index: bigint, data: Buffer, options?: AppendOptions): Promise<boolean>;
  /**
   * Entries with index >= from in ascending order, at most limit of them. With `consistent: false` the
   * store may answer from a replica that has not seen the newest entries yet (an answer is still a prefix
   * of the log from `from`, or shows a gap a strongly consistent read would fill; DynamoDB bills half).
   */
  read(from: bigint, limit: number, options?: ReadOptions): Promise<LogRecord[]>;
  /**
   * Stores a snapshot; later snapshots supersede earlier ones. Once it has resolved, the store keeps no
   * reference to `snapshot.data`: the caller writes its next snapshot into the same buffer (log.ts).
   */
  putSnapshot(snapshot: Snapshot, options?: SnapshotPutOptions): Promise<void>;
  /** The snapshot with the highest index, or null. */
  latestSnapshot(): Promise<Snapshot | null>;
  /** Entries below `before` are covered by a snapshot and may be dropped. */
  trim(before: bigint): Promise<void>;
  /**
   * Entries from `from` on are not covered by a durable snapshot yet: a store whose entries expire gives
   * those within half of `expiresAfterMs` of their expiry a new one, `expiresAfterMs` from now, so that
   * none goes before a snapshot covers it. Returns how many it renewed (0 where entries never expire).
   */
  renewEntries(from: bigint, expiresAfterMs: number): Promise<number>;

  getItem(key: string): Promise<VersionedItem | null>;
  /** Conditional put; returns the new version, or null when the condition failed. */
  putItem(key: string, value: Buffer, condition: PutCondition, expiresAt?: Date): Promise<number | null>;
  /** Live items whose key starts with prefix, in key order. */
  listItems(prefix: string): Promise<VersionedItem[]>;
  /** Deletes an item (only at that version when given); returns false when the condition failed. */
  deleteItem(key: string, version?: number): Promise<boolean>;
  close(): Promise<void>;
}

/** What an agent opens from its bucket URL flags. */
export interface Stores {
  /** Where ingestion files are written (DynamoDB chunks, or the single store). */
  readonly ingestion: ObjectStore;
  /** Where compacted objects live (S3, or the single store). May be the same object as ingestion. */
  readonly compaction: ObjectStore;
  readonly metadata: MetadataStore;
  close(): Promise<void>;
}
