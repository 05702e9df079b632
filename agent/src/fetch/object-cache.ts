/**
 * A byte-bounded LRU of whole ingestion files and compacted runs. The agent that wrote a file puts it
 * here, so fetches of the tail are served from memory; other agents load a file once for all its
 * partitions. Concurrent loads of the same key share one store read.
 *
 * Read-ahead: entries loaded before anyone asked for them (`prefetch`, and the runs a compaction pass
 * just wrote, `offer`) are *speculative*. Their bytes, loading or loaded, are bounded by
 * `readAheadBytes` on top of the LRU's own bound: a prefetch that would pass it is not started, and an
 * offer evicts the oldest speculative entries first. A speculative entry becomes an ordinary one on its
 * first hit; one that is never read is dropped (oldest unused first) before it can crowd out data that
 * was asked for.
 */
import { LRUCache } from "lru-cache";

export interface ObjectCacheOptions {
  /** Bound on speculative bytes (loading and loaded, not yet read); default a quarter of maxBytes. */
  readonly readAheadBytes?: number;
  /** A read-ahead unread for this long gives its room to a new one (default 10 s). */
  readonly readAheadStaleMs?: number;
  /** Clock (test seam). */
  readonly now?: () => number;
}

/** A speculative entry: its size (the expected size while loading) and when it was added. */
interface Speculative {
  size: number;
  readonly since: number;
}

export class ObjectCache {
  /**
   * The LRU itself (lru-cache: a linked list over the entries). A Map kept in recency order by delete and
   * set would not do: V8 leaves a deleted entry's slot in place until the table is rebuilt, and an
   * iterator from the oldest end walks every such slot, so evicting the oldest entry while as many were
   * evicted before it costs that many steps (a compaction pass offering a run for each of 40,000
   * partitions cost the lease holder hundreds of milliseconds of CPU in the `scale` benchmark).
   */
  private readonly entries: LRUCache<string, Buffer>;
  private readonly loading = new Map<string, Promise<Buffer>>();
  /** Speculative entries, oldest first (never reordered: only `peek` reads them). */
  private readonly speculative = new LRUCache<string, Speculative>({
    maxSize: Number.MAX_SAFE_INTEGER,
    sizeCalculation: () => 1,
  });
  private readonly readAheadMax: number;
  private readonly staleMs: number;
  private readonly now: () => number;
  private bytes = 0;
  private speculativeBytes = 0;
  hits = 0;
  misses = 0;
  /** Speculative entries read at least once, and those dropped unread. */
  readAheadUsed = 0;
  readAheadDropped = 0;

  constructor(
    private readonly maxBytes: number,
    options: ObjectCacheOptions = {},
  ) {
    this.readAheadMax = Math.min(maxBytes, options.readAheadBytes ?? Math.floor(maxBytes / 4));
    this.staleMs = options.readAheadStaleMs ?? 10_000;
    this.now = options.now ?? Date.now;
    this.entries = new LRUCache<string, Buffer>({
      maxSize: Math.max(1, maxBytes),
      // lru-cache counts sizes of at least 1; `bytes` keeps the real total.
      sizeCalculation: (data) => Math.max(1, data.length),
      dispose: (data, key, reason) => {
        this.bytes -= data.length;
        // Pushed out by newer entries: a speculative one leaves unread.
        if (reason === "evict") this.unmarkSpeculative(key, true);
      },
    });
  }

  put(key: string, data: Buffer): void {
    this.unmarkSpeculative(key, false);
    this.insert(key, data);
  }

  private insert(key: string, data: Buffer): void {
    if (data.length > this.maxBytes) return;
    this.bytes += data.length;
    // Replacing an entry disposes of the old one; the oldest go while the bytes pass maxBytes.
    this.entries.set(key, data);
  }

  /** Drops a cached entry (an unread speculative one counts as dropped). */
  private evict(key: string): void {
    if (!this.entries.delete(key)) return;
    this.unmarkSpeculative(key, true);
  }

  /** Removes `key` from the speculative set (counted as dropped unread when `dropped`). */
  private unmarkSpeculative(key: string, dropped: boolean): void {
    const entry = this.speculative.peek(key);
    if (entry === undefined) return;
    this.speculative.delete(key);
    this.speculativeBytes -= entry.size;
    if (dropped) this.readAheadDropped++;
  }

  /**
   * Makes room for `size` speculative bytes by dropping the oldest unread loaded ones (only those unread
   * for staleMs when `staleOnly`).
   */
  private makeSpeculativeRoom(size: number, staleOnly: boolean): void {
    // Most calls find room: they cost nothing. The others walk from the oldest and stop once enough is
    // found, so a compaction pass offering a run per partition (100,000 of them) stays linear.
    const needed = this.speculativeBytes + size - this.readAheadMax;
    if (needed <= 0) return;
    const cutoff = this.now() - this.staleMs;
    const drop: string[] = [];
    let freed = 0;
    for (const key of this.speculative.rkeys()) {
      if (freed >= needed) break;
      const entry = this.speculative.peek(key)!;
      if (staleOnly && entry.since > cutoff) break;
      // Still loading: not droppable yet.
      if (!this.entries.has(key)) continue;
      drop.push(key);
      freed += entry.size;
    }
    for (const key of drop) this.evict(key);
  }

  private markSpeculative(key: string, size: number): void {
    this.speculative.set(key, { size, since: this.now() });
    this.speculativeBytes += size;
  }

  get(key: string): Buffer | undefined {
    const data = this.entries.get(key);
    if (data) {
      // get() made it the most recent.
      this.hits++;
      if (this.speculative.has(key)) {
        this.unmarkSpeculative(key, false);
        this.readAheadUsed++;
      }
    }
    return data;
  }

  /** The cached object without counting a hit or refreshing recency (compaction reading its sources). */
  peek(key: string): Buffer | undefined {
    return this.entries.peek(key);
  }

  /** Returns the cached object or loads it once with `load`. */
  async getOrLoad(key: string, load: () => Promise<Buffer>): Promise<Buffer> {
    const cached = this.get(key);
    if (cached) return cached;
    let pending = this.loading.get(key);
    if (pending) {
      // Asked for while being read ahead: no longer speculative.
      if (this.speculative.has(key)) {
        this.unmarkSpeculative(key, false);
        this.readAheadUsed++;
      }
      return pending;
    }
    this.misses++;
    pending = load().then(
      (data) => {
        this.loading.delete(key);
        this.insert(key, data);
        return data;
      },
      (err: unknown) => {
        this.loading.delete(key);
        throw err;
      },
    );
    this.loading.set(key, pending);
    return pending;
  }

  /**
   * Starts loading `key` (`size` bytes expected) ahead of any request, unless it is cached or loading
   * already, or the read-ahead bound has no room for it. Returns whether a load started. A failed
   * read-ahead is forgotten: the request that needs the bytes reads them again and reports the error.
   */
  prefetch(key: string, size: number, load: () => Promise<Buffer>): boolean {
    if (this.entries.has(key) || this.loading.has(key)) return false;
    this.makeSpeculativeRoom(size, true);
    if (this.speculativeBytes + size > this.readAheadMax) return false;
    this.markSpeculative(key, size);
    const pending = load().then(
      (data) => {
        this.loading.delete(key);
        const entry = this.speculative.peek(key);
        if (entry !== undefined) {
          // Still unread: account its real size.
          this.speculativeBytes += data.length - entry.size;
          entry.size = data.length;
        }
        this.insert(key, data);
        // Too large for the cache: nothing is held.
        if (!this.entries.has(key)) this.unmarkSpeculative(key, false);
        return data;
      },
      (err: unknown) => {
        this.loading.delete(key);
        this.unmarkSpeculative(key, false);
        throw err;
      },
    );
    pending.catch(() => undefined);
    this.loading.set(key, pending);
    return true;
  }

  /** Whether `key` is cached or being loaded. */
  has(key: string): boolean {
    return this.entries.has(key) || this.loading.has(key);
  }

  /**
   * Loads several keys with one store read (coalesced byte ranges of one object): `load` resolves to
   * their bytes in the order of `parts`. Parts cached or loading already must be left out by the caller.
   * When `speculative`, the parts are read-ahead as in `prefetch` (all or none within the bound; returns
   * false when there is no room); otherwise they load as `getOrLoad` would.
   */
  loadTogether(
    parts: ReadonlyArray<{ readonly key: string; readonly size: number }>,
    load: () => Promise<Buffer[]>,
    speculative: boolean,
  ): boolean {
    if (parts.some((p) => this.has(p.key))) return false;
    if (speculative) {
      const total = parts.reduce((n, p) => n + p.size, 0);
      this.makeSpeculativeRoom(total, true);
      if (this.speculativeBytes + total > this.readAheadMax) return false;
      for (const p of parts) this.markSpeculative(p.key, p.size);
    } else {
      this.misses++;
    }
    const all = load();
    parts.forEach((p, i) => {
      const pending = all.then(
        (data) => {
          const one = data[i] ?? Buffer.alloc(0);
          this.loading.delete(p.key);
          const entry = this.speculative.peek(p.key);
          if (entry !== undefined) {
            this.speculativeBytes += one.length - entry.size;
            entry.size = one.length;
          }
          this.insert(p.key, one);
          if (!this.entries.has(p.key)) this.unmarkSpeculative(p.key, false);
          return one;
        },
        (err: unknown) => {
          this.loading.delete(p.key);
          this.unmarkSpeculative(p.key, false);
          throw err;
        },
      );
      pending.catch(() => undefined);
      this.loading.set(p.key, pending);
    });
    return true;
  }

  /**
   * Adds bytes nobody asked for yet (the runs a compaction pass just wrote) as speculative: the oldest
   * unread speculative entries make room. Not added when larger than the read-ahead bound or cached.
   */
  offer(key: string, data: Buffer): void {
    if (data.length > this.readAheadMax || this.entries.has(key) || this.loading.has(key)) return;
    this.makeSpeculativeRoom(data.length, false);
    if (this.speculativeBytes + data.length > this.readAheadMax) return;
    this.markSpeculative(key, data.length);
    this.insert(key, data);
  }

  get size(): number {
    return this.bytes;
  }

  /** Speculative bytes held or loading, not yet read. */
  get readAheadSize(): number {
    return this.speculativeBytes;
  }
}
