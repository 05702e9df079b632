/**
 * Metadata snapshots kept as objects in the compaction bucket (docs/metadata-log.md, section 6, "Where
 * snapshots are kept"). A MetadataStore that stores each snapshot's bytes as one object
 * (`metadata/snapshots/<index, 20 digits>-<random>`) and only a small reference to it in the store it
 * wraps, in place of the snapshot: on DynamoDB a snapshot then costs one S3 PUT instead of a write unit per
 * KB (and as many again to delete it), whatever its size. Everything else is the wrapped store's.
 *
 * The reference is what the wrapped store holds as the snapshot's data: "WS", the snapshot format number
 * SNAPSHOT_OBJECT_FORMAT (8), the snapshot's size (8 bytes, big-endian) and the object key (UTF-8). An
 * agent that does not know references reads it as a snapshot of format 8 and refuses it with that version
 * named; agents write references only while every live agent reads them (putSnapshot's inTableOnly, entry
 * level 11).
 *
 * Ordering: the object is written before the reference, so a reference never names a missing object,
 * except one superseded since: once a snapshot's reference is stored, objects of lower indexes are
 * deleted, and a reader that loaded a reference just before finds its object gone and reads the pointer
 * again. Objects a writer left behind (it stopped before storing the reference, or a newer snapshot won),
 * and the last object once snapshots became small enough for the table, are deleted by the next
 * snapshot's sweep (a LIST of the prefix after every snapshot).
 */
import { randomBytes } from "node:crypto";
import type {
  AppendOptions,
  LogRecord,
  MetadataStore,
  ObjectStore,
  PutCondition,
  ReadOptions,
  Snapshot,
  SnapshotPutOptions,
  VersionedItem,
} from "./types.js";
import { indexKey } from "./index-key.js";
import { ObjectNotFoundError } from "./types.js";

export const SNAPSHOT_OBJECT_PREFIX = "metadata/snapshots/";
/** The format number a reference carries where a snapshot's format goes. */
export const SNAPSHOT_OBJECT_FORMAT = 8;
/** Smaller snapshots stay in the wrapped store: they cost no more there than their reference would. */
export const SNAPSHOT_OBJECT_MIN_BYTES = 1024;

const MAGIC = Buffer.from("WS", "latin1");
const HEADER_BYTES = MAGIC.length + 1 + 8;
/** Readers whose object vanished (a newer snapshot replaced it meanwhile) read the pointer again. */
const READ_ATTEMPTS = 5;

/** Where a snapshot's bytes are: the object's key and the snapshot's size. */
export interface SnapshotObjectRef {
  readonly key: string;
  readonly size: number;
}

export function encodeSnapshotObjectRef(ref: SnapshotObjectRef): Buffer {
  const key = Buffer.from(ref.key, "utf8");
  const out = Buffer.alloc(HEADER_BYTES + key.length);
  MAGIC.copy(out, 0);
  out[MAGIC.length] = SNAPSHOT_OBJECT_FORMAT; // an unsigned varint below 128 is its own byte
  out.writeBigUInt64BE(BigInt(ref.size), MAGIC.length + 1);
  key.copy(out, HEADER_BYTES);
  return out;
}

/** Whether `data` is a reference (it starts as a snapshot of format SNAPSHOT_OBJECT_FORMAT would). */
function isSnapshotObjectRef(data: Buffer): boolean {
  return data.length >= MAGIC.length + 1 && data.subarray(0, 2).equals(MAGIC) && data[2] === SNAPSHOT_OBJECT_FORMAT;
}

/** The reference in `data`; null when `data` is a snapshot itself; an error when it is a malformed one. */
export function decodeSnapshotObjectRef(data: Buffer): SnapshotObjectRef | null {
  if (!isSnapshotObjectRef(data)) return null;
  const key = data.length > HEADER_BYTES ? data.toString("utf8", HEADER_BYTES) : "";
  if (!key.startsWith(SNAPSHOT_OBJECT_PREFIX))
    throw new Error(`malformed metadata snapshot reference (${data.length} bytes): no ${SNAPSHOT_OBJECT_PREFIX} key`);
  const size = data.readBigUInt64BE(MAGIC.length + 1);
  if (size > BigInt(Number.MAX_SAFE_INTEGER)) throw new Error(`malformed metadata snapshot reference to ${key}`);
  return { key, size: Number(size) };
}

/** The key of a snapshot object at `index`: ordered by index, unique per writer. */
export function snapshotObjectKey(index: bigint): string {
  return `${SNAPSHOT_OBJECT_PREFIX}${indexKey(index)}-${randomBytes(6).toString("hex")}`;
}

/** The log index in a snapshot object's key, or null for a key that is not one. */
export function snapshotObjectIndex(key: string): bigint | null {
  if (!key.startsWith(SNAPSHOT_OBJECT_PREFIX)) return null;
  const m = /^(\d{20})-[0-9a-f]+$/.exec(key.slice(SNAPSHOT_OBJECT_PREFIX.length));
  return m ? BigInt(m[1]!) : null;
}

export interface SnapshotObjectStoreOptions {
  /** Told when a superseded snapshot object could not be deleted (the next snapshot tries again). */
  readonly onSweepFailed?: (error: unknown) => void;
}

export class SnapshotObjectStore implements MetadataStore {
  readonly kind: string;
  readonly maxEntryBytes: number;

  constructor(
    private readonly inner: MetadataStore,
    /** The compaction bucket. Not closed by close(): its owner (Stores) closes it. */
    private readonly objects: ObjectStore,
    private readonly options: SnapshotObjectStoreOptions = {},
  ) {
    this.kind = inner.kind;
    this.maxEntryBytes = inner.maxEntryBytes;
  }

  append(index: bigint, data: Buffer, options?: AppendOptions): Promise<boolean> {
    return this.inner.append(index, data, options);
  }

  read(from: bigint, limit: number, options?: ReadOptions): Promise<LogRecord[]> {
    return this.inner.read(from, limit, options);
  }

  async putSnapshot(snapshot: Snapshot, options: SnapshotPutOptions = {}): Promise<void> {
    if (options.inTableOnly || snapshot.data.length < SNAPSHOT_OBJECT_MIN_BYTES) {
      await this.inner.putSnapshot(snapshot, options);
    } else {
      const key = snapshotObjectKey(snapshot.index);
      await this.objects.put(key, snapshot.data);
      const ref = encodeSnapshotObjectRef({ key, size: snapshot.data.length });
      await this.inner.putSnapshot({ index: snapshot.index, data: ref }, options);
    }
    // Also after a snapshot kept in the table: the object a larger state before it needed is garbage now.
    try {
      await this.sweep(snapshot.index);
    } catch (err) {
      this.options.onSweepFailed?.(err);
    }
  }

  /** Deletes every snapshot object below `index`: the pointer is at `index` or above now. */
  private async sweep(index: bigint): Promise<void> {
    const stale: string[] = [];
    for await (const o of this.objects.list(SNAPSHOT_OBJECT_PREFIX)) {
      const at = snapshotObjectIndex(o.key);
      if (at !== null && at < index) stale.push(o.key);
    }
    if (stale.length > 0) await this.objects.delete(stale);
  }

  async latestSnapshot(): Promise<Snapshot | null> {
    for (let attempt = 0; attempt < READ_ATTEMPTS; attempt++) {
      const snapshot = await this.inner.latestSnapshot();
      if (!snapshot) return null;
      const ref = decodeSnapshotObjectRef(snapshot.data);
      if (!ref) return snapshot;
      let data: Buffer;
      try {
        data = await this.objects.get(ref.key);
      } catch (err) {
        if (err instanceof ObjectNotFoundError) continue; // superseded meanwhile: read the pointer again
        throw err;
      }
      if (data.length !== ref.size)
        throw new Error(
          `metadata snapshot object ${ref.key} (log index ${snapshot.index}) holds ${data.length} bytes, its reference says ${ref.size}`,
        );
      return { index: snapshot.index, data };
    }
    throw new Error(
      `metadata snapshot objects keep disappearing under ${SNAPSHOT_OBJECT_PREFIX} in the compaction bucket`,
    );
  }

  trim(before: bigint): Promise<void> {
    return this.inner.trim(before);
  }

  renewEntries(from: bigint, expiresAfterMs: number): Promise<number> {
    return this.inner.renewEntries(from, expiresAfterMs);
  }

  getItem(key: string): Promise<VersionedItem | null> {
    return this.inner.getItem(key);
  }

  putItem(key: string, value: Buffer, condition: PutCondition, expiresAt?: Date): Promise<number | null> {
    return this.inner.putItem(key, value, condition, expiresAt);
  }

  listItems(prefix: string): Promise<VersionedItem[]> {
    return this.inner.listItems(prefix);
  }

  deleteItem(key: string, version?: number): Promise<boolean> {
    return this.inner.deleteItem(key, version);
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}
