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
  /**
   * Buffers several entries are views of (`offerViews`), with how many of those entries are cached: a
   * slab's bytes count once, from its first cached view until its last one goes, since any view keeps
   * the whole slab in memory.
   */
  private readonly slabs = new Map<ArrayBufferLike, number>();
  /** The slab of each entry cached as a view of one (by key: a view handed out and put back is not one). */
  private readonly slabOf = new Map<string, ArrayBufferLike>();
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
    // The bound is kept by `insert` on `bytes` (what the entries keep in memory, slabs once), so lru-cache
    // is given none of its own: it keeps the order and pops the oldest.
    this.entries = new LRUCache<string, Buffer>({
      maxSize: Number.MAX_SAFE_INTEGER,
      sizeCalculation: () => 1,
      dispose: (data, key, reason) => {
        this.bytes -= this.release(key, data);
        // Pushed out by newer entries: a speculative one leaves unread.
        if (reason === "evict") this.unmarkSpeculative(key, true);
      },
    });
  }

  /** The bytes `data` stops holding in memory when it leaves the cache. */
  private release(key: string, data: Buffer): number {
    const slab = this.slabOf.get(key);
    if (slab === undefined) return data.length;
    this.slabOf.delete(key);
    const views = this.slabs.get(slab) ?? 1;
    if (views > 1) {
      this.slabs.set(slab, views - 1);
      return 0;
    }
    this.slabs.delete(slab);
    return slab.byteLength;
  }

  put(key: string, data: Buffer): void {
    this.unmarkSpeculative(key, false);
    this.insert(key, data);
  }

  /** Caches `data` (a view of a registered slab when `slab`), then drops the oldest entries while over the bound. */
  private insert(key: string, data: Buffer, slab = false): void {
    if ((slab ? data.buffer.byteLength : data.length) > this.maxBytes) return;
    // The same bytes again: lru-cache keeps the entry as it is (no dispose), so nothing is added.
    if (this.entries.get(key) === data) return;
    // Replacing an entry disposes of the old one first.
    this.entries.set(key, data);
    if (!slab) this.bytes += data.length;
    else {
      const views = this.slabs.get(data.buffer) ?? 0;
      this.slabs.set(data.buffer, views + 1);
      this.slabOf.set(key, data.buffer);
      if (views === 0) this.bytes += data.buffer.byteLength;
    }
    while (this.bytes > this.maxBytes && this.entries.size > 0) this.entries.pop();
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
  private makeSpeculativeRoom(size: number, staleOnly: boolean, limit = Infinity): number {
    // Most calls find room: they cost nothing. The others walk from the oldest and stop once enough is
    // found, so a compaction pass offering a run per partition (100,000 of them) stays linear.
    const needed = this.speculativeBytes + size - this.readAheadMax;
    if (needed <= 0) return 0;
    const cutoff = this.now() - this.staleMs;
    const drop: string[] = [];
    let freed = 0;
    for (const key of this.speculative.rkeys()) {
      if (freed >= needed || drop.length >= limit) break;
      const entry = this.speculative.peek(key)!;
      if (staleOnly && entry.since > cutoff) break;
      // Still loading: not droppable yet.
      if (!this.entries.has(key)) continue;
      drop.push(key);
      freed += entry.size;
    }
    for (const key of drop) this.evict(key);
    return drop.length;
  }

  /**
   * Makes read-ahead room for `size` bytes a little at a time: drops at most `maxDrops` of the oldest
   * unread speculative entries. Returns whether there is room now, and how many it dropped (none and no
   * room: none can go). A compaction pass calls it between slices before offering a large run, which
   * would otherwise drop thousands of small ones in one go.
   */
  readAheadRoom(size: number, maxDrops: number): { room: boolean; dropped: number } {
    // Never offered (offer): nothing to make room for.
    if (size > this.readAheadMax) return { room: false, dropped: 0 };
    const dropped = this.makeSpeculativeRoom(size, false, maxDrops);
    return { room: this.speculativeBytes + size <= this.readAheadMax, dropped };
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
    this.offerOne(key, data, false);
  }

  /**
   * `offer` for ranges of one buffer (`slab`), each cached as a view of it: one allocation for many small
   * runs instead of one each (a compaction pass at 100,000 partitions offers 44,000 runs of about 1 KiB,
   * and so many buffers made V8 collect garbage in the middle of the pass). The slab's bytes count in full
   * while any of its views is cached. The caller must not write to the slab afterwards.
   */
  offerViews(
    slab: Buffer,
    views: ReadonlyArray<{ readonly key: string; readonly offset: number; readonly length: number }>,
  ): void {
    if (slab.byteOffset !== 0 || slab.length !== slab.buffer.byteLength)
      throw new RangeError("offerViews takes a buffer of its own, not a view of a larger one");
    for (const v of views) this.offerOne(v.key, slab.subarray(v.offset, v.offset + v.length), true);
  }

  private offerOne(key: string, data: Buffer, slab: boolean): void {
    if (data.length > this.readAheadMax || this.entries.has(key) || this.loading.has(key)) return;
    this.makeSpeculativeRoom(data.length, false);
    if (this.speculativeBytes + data.length > this.readAheadMax) return;
    this.markSpeculative(key, data.length);
    this.insert(key, data, slab);
    // Too large for the cache: nothing is held.
    if (!this.entries.has(key)) this.unmarkSpeculative(key, false);
  }

  get size(): number {
    return this.bytes;
  }

  /** Speculative bytes held or loading, not yet read. */
  get readAheadSize(): number {
    return this.speculativeBytes;
  }
}
