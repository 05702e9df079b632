/**
 * Store calls, counted and timed. `measureStores` wraps an agent's stores so that every call to the
 * ObjectStore and MetadataStore contracts reports its backend, operation, outcome and duration to one
 * observer (the agent turns them into warp_store_operations_total and
 * warp_store_operation_duration_seconds). The wrappers change nothing else: same results, same errors,
 * and a single store serving both ingestion and compaction stays one object (`ingestion === compaction`).
 */
import { performance } from "node:perf_hooks";
import type {
  AppendOptions,
  ByteRange,
  GetOptions,
  LogRecord,
  ReadOptions,
  MetadataStore,
  ObjectInfo,
  ObjectStore,
  PutCondition,
  PutOptions,
  Snapshot,
  SnapshotPutOptions,
  Stores,
  VersionedItem,
} from "./types.js";
import { ObjectNotFoundError } from "./types.js";

/**
 * How a call ended: `ok`; `conflict` when a conditional write found its condition false (append of a
 * taken index, putItem or deleteItem at another version); `missing` when get found no object; `error`
 * when it threw anything else.
 */
export type StoreCallOutcome = "ok" | "conflict" | "missing" | "error";

export interface StoreCall {
  /** The backend's kind: "dynamodb", "s3", "file", "mem". */
  readonly store: string;
  /** The contract method: put, get, setExpiry, delete, list; append, read, putSnapshot, getItem, ... */
  readonly op: string;
  readonly outcome: StoreCallOutcome;
  /** From the call to its settlement (for list: to the end of the iteration). */
  readonly seconds: number;
}

export type StoreCallObserver = (call: StoreCall) => void;

type Outcome<T> = (result: T) => StoreCallOutcome;

const always = (): StoreCallOutcome => "ok";

class Meter {
  constructor(
    private readonly store: string,
    private readonly observe: StoreCallObserver,
  ) {}

  async time<T>(op: string, call: () => Promise<T>, outcome: Outcome<T> = always): Promise<T> {
    const started = performance.now();
    try {
      const result = await call();
      this.report(op, outcome(result), started);
      return result;
    } catch (err) {
      this.report(op, err instanceof ObjectNotFoundError ? "missing" : "error", started);
      throw err;
    }
  }

  async *iterate<T>(op: string, items: AsyncIterable<T>): AsyncIterable<T> {
    const started = performance.now();
    let outcome: StoreCallOutcome = "ok";
    try {
      yield* items;
    } catch (err) {
      outcome = "error";
      throw err;
    } finally {
      // Also when the caller stops early (break): the listing it read went well.
      this.report(op, outcome, started);
    }
  }

  private report(op: string, outcome: StoreCallOutcome, started: number): void {
    try {
      this.observe({ store: this.store, op, outcome, seconds: (performance.now() - started) / 1000 });
    } catch {
      // A broken metrics observer must never fail a store call.
    }
  }
}

class MeasuredObjectStore implements ObjectStore {
  readonly kind: string;
  private readonly meter: Meter;

  constructor(
    private readonly inner: ObjectStore,
    observe: StoreCallObserver,
  ) {
    this.kind = inner.kind;
    this.meter = new Meter(inner.kind, observe);
  }

  put(key: string, data: Buffer, options?: PutOptions): Promise<void> {
    return this.meter.time("put", () => this.inner.put(key, data, options));
  }

  get(key: string, range?: ByteRange, options?: GetOptions): Promise<Buffer> {
    return this.meter.time("get", () => this.inner.get(key, range, options));
  }

  setExpiry(key: string, expiresAt: Date): Promise<boolean> {
    return this.meter.time("setExpiry", () => this.inner.setExpiry(key, expiresAt));
  }

  delete(keys: readonly string[]): Promise<void> {
    return this.meter.time("delete", () => this.inner.delete(keys));
  }

  list(prefix: string): AsyncIterable<ObjectInfo> {
    return this.meter.iterate("list", this.inner.list(prefix));
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}

const applied = (done: boolean): StoreCallOutcome => (done ? "ok" : "conflict");

class MeasuredMetadataStore implements MetadataStore {
  readonly kind: string;
  readonly maxEntryBytes: number;
  private readonly meter: Meter;

  constructor(
    private readonly inner: MetadataStore,
    observe: StoreCallObserver,
  ) {
    this.kind = inner.kind;
    this.maxEntryBytes = inner.maxEntryBytes;
    this.meter = new Meter(inner.kind, observe);
  }

  append(index: bigint, data: Buffer, options?: AppendOptions): Promise<boolean> {
    return this.meter.time("append", () => this.inner.append(index, data, options), applied);
  }

  read(from: bigint, limit: number, options?: ReadOptions): Promise<LogRecord[]> {
    return this.meter.time("read", () => this.inner.read(from, limit, options));
  }

  putSnapshot(snapshot: Snapshot, options?: SnapshotPutOptions): Promise<void> {
    return this.meter.time("putSnapshot", () => this.inner.putSnapshot(snapshot, options));
  }

  latestSnapshot(): Promise<Snapshot | null> {
    return this.meter.time("latestSnapshot", () => this.inner.latestSnapshot());
  }

  trim(before: bigint): Promise<void> {
    return this.meter.time("trim", () => this.inner.trim(before));
  }

  renewEntries(from: bigint, expiresAfterMs: number): Promise<number> {
    return this.meter.time("renewEntries", () => this.inner.renewEntries(from, expiresAfterMs));
  }

  getItem(key: string): Promise<VersionedItem | null> {
    return this.meter.time("getItem", () => this.inner.getItem(key));
  }

  putItem(key: string, value: Buffer, condition: PutCondition, expiresAt?: Date): Promise<number | null> {
    return this.meter.time(
      "putItem",
      () => this.inner.putItem(key, value, condition, expiresAt),
      (version) => applied(version !== null),
    );
  }

  listItems(prefix: string): Promise<VersionedItem[]> {
    return this.meter.time("listItems", () => this.inner.listItems(prefix));
  }

  deleteItem(key: string, version?: number): Promise<boolean> {
    return this.meter.time("deleteItem", () => this.inner.deleteItem(key, version), applied);
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}

/** The same object store, reporting every call to `observe`; closing closes the original. */
export function measureObjectStore(store: ObjectStore, observe: StoreCallObserver): ObjectStore {
  return new MeasuredObjectStore(store, observe);
}

/** The same stores, reporting every call to `observe`; closing closes the originals. */
export function measureStores(stores: Stores, observe: StoreCallObserver): Stores {
  const ingestion = new MeasuredObjectStore(stores.ingestion, observe);
  const compaction =
    stores.compaction === stores.ingestion ? ingestion : new MeasuredObjectStore(stores.compaction, observe);
  return {
    ingestion,
    compaction,
    metadata: new MeasuredMetadataStore(stores.metadata, observe),
    close: () => stores.close(),
  };
}
