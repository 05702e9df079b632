/**
 * In-memory stores (mem://name): the reference implementation of the store contracts. Stores with the
 * same name in one process share data, so tests can run several agents against one "bucket".
 */
import type {
  ByteRange,
  LogRecord,
  MetadataStore,
  ObjectInfo,
  ObjectStore,
  PutCondition,
  PutOptions,
  Snapshot,
  Stores,
  VersionedItem,
} from "./types.js";
import { isLive, ObjectNotFoundError } from "./types.js";

interface MemObject {
  readonly data: Buffer;
  readonly expiresAt?: Date;
}

export function sliceRange(data: Buffer, range?: ByteRange): Buffer {
  if (!range) return data;
  if (range.offset < 0 || range.length < 0) throw new RangeError(`invalid byte range ${range.offset}+${range.length}`);
  return data.subarray(range.offset, Math.min(data.length, range.offset + range.length));
}

export class MemObjectStore implements ObjectStore {
  readonly kind = "mem";
  private readonly objects = new Map<string, MemObject>();

  async put(key: string, data: Buffer, options?: PutOptions): Promise<void> {
    this.objects.set(key, { data: Buffer.from(data), ...(options?.expiresAt ? { expiresAt: options.expiresAt } : {}) });
  }

  async get(key: string, range?: ByteRange): Promise<Buffer> {
    const obj = this.objects.get(key);
    if (!isLive(obj)) throw new ObjectNotFoundError(key);
    return sliceRange(obj.data, range);
  }

  async setExpiry(key: string, expiresAt: Date): Promise<boolean> {
    const obj = this.objects.get(key);
    if (!obj) return false;
    this.objects.set(key, { data: obj.data, expiresAt });
    return true;
  }

  async delete(keys: readonly string[]): Promise<void> {
    for (const k of keys) this.objects.delete(k);
  }

  async *list(prefix: string): AsyncIterable<ObjectInfo> {
    const keys = [...this.objects.keys()].filter((k) => k.startsWith(prefix)).sort();
    for (const key of keys) {
      const obj = this.objects.get(key);
      if (obj) yield { key, size: obj.data.length };
    }
  }

  async close(): Promise<void> {}
}

interface MemItem {
  value: Buffer;
  version: number;
  expiresAt?: Date;
}

export class MemMetadataStore implements MetadataStore {
  readonly kind = "mem";
  readonly maxEntryBytes = 16 * 1024 * 1024;
  private readonly entries = new Map<bigint, Buffer>();
  private snapshot: Snapshot | null = null;
  private readonly items = new Map<string, MemItem>();

  async append(index: bigint, data: Buffer): Promise<boolean> {
    if (index < 1n) throw new RangeError(`log index must be >= 1, got ${index}`);
    if (data.length > this.maxEntryBytes)
      throw new RangeError(`log entry of ${data.length} bytes exceeds ${this.maxEntryBytes}`);
    if (this.entries.has(index) || (this.snapshot && index <= this.snapshot.index)) return false;
    this.entries.set(index, Buffer.from(data));
    return true;
  }

  async read(from: bigint, limit: number): Promise<LogRecord[]> {
    const indexes = [...this.entries.keys()].filter((i) => i >= from).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    return indexes.slice(0, Math.max(0, limit)).map((index) => ({ index, data: this.entries.get(index)! }));
  }

  async putSnapshot(snapshot: Snapshot): Promise<void> {
    if (!this.snapshot || snapshot.index > this.snapshot.index)
      this.snapshot = { index: snapshot.index, data: Buffer.from(snapshot.data) };
  }

  async latestSnapshot(): Promise<Snapshot | null> {
    return this.snapshot;
  }

  async trim(before: bigint): Promise<void> {
    for (const i of [...this.entries.keys()]) if (i < before) this.entries.delete(i);
  }

  /** Entries here never expire. */
  async renewEntries(): Promise<number> {
    return 0;
  }

  async getItem(key: string): Promise<VersionedItem | null> {
    const item = this.items.get(key);
    if (!isLive(item)) return null;
    return { key, value: item.value, version: item.version, ...(item.expiresAt ? { expiresAt: item.expiresAt } : {}) };
  }

  async putItem(key: string, value: Buffer, condition: PutCondition, expiresAt?: Date): Promise<number | null> {
    const current = this.items.get(key);
    const exists = isLive(current);
    if (condition.kind === "absent" && exists) return null;
    if (condition.kind === "version" && (!exists || current.version !== condition.version)) return null;
    const version = (current?.version ?? 0) + 1;
    this.items.set(key, { value: Buffer.from(value), version, ...(expiresAt ? { expiresAt } : {}) });
    return version;
  }

  async listItems(prefix: string): Promise<VersionedItem[]> {
    const out: VersionedItem[] = [];
    for (const key of [...this.items.keys()].sort()) {
      if (!key.startsWith(prefix)) continue;
      const item = await this.getItem(key);
      if (item) out.push(item);
    }
    return out;
  }

  async deleteItem(key: string, version?: number): Promise<boolean> {
    const current = this.items.get(key);
    if (version !== undefined && (!isLive(current) || current.version !== version)) return false;
    this.items.delete(key);
    return true;
  }

  async close(): Promise<void> {}
}

const registry = new Map<string, { objects: MemObjectStore; metadata: MemMetadataStore }>();

/** Opens (or reopens, within this process) the in-memory stores named `name`. */
export function openMemStores(name: string): Stores {
  let entry = registry.get(name);
  if (!entry) {
    entry = { objects: new MemObjectStore(), metadata: new MemMetadataStore() };
    registry.set(name, entry);
  }
  const { objects, metadata } = entry;
  return { ingestion: objects, compaction: objects, metadata, close: async () => {} };
}

/** Forgets a named in-memory store (tests). */
export function dropMemStores(name: string): void {
  registry.delete(name);
}
