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
export interface ObjectCacheOptions {
  /** Bound on speculative bytes (loading and loaded, not yet read); default a quarter of maxBytes. */
  readonly readAheadBytes?: number;
  /** A read-ahead unread for this long gives its room to a new one (default 10 s). */
  readonly readAheadStaleMs?: number;
  /** Clock (test seam). */
  readonly now?: () => number;
}

export class ObjectCache {
  private readonly entries = new Map<string, Buffer>();
  private readonly loading = new Map<string, Promise<Buffer>>();
  /** Speculative entries, oldest first, with their size (the expected size while loading). */
  private readonly speculative = new Map<string, number>();
  /** When each speculative entry was added. */
  private readonly speculativeSince = new Map<string, number>();
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
  }

  put(key: string, data: Buffer): void {
    this.unmarkSpeculative(key, false);
    this.insert(key, data);
  }

  private insert(key: string, data: Buffer): void {
    if (data.length > this.maxBytes) return;
    const old = this.entries.get(key);
    if (old) {
      this.bytes -= old.length;
      this.entries.delete(key);
    }
    this.entries.set(key, data);
    this.bytes += data.length;
    while (this.bytes > this.maxBytes) {
      const oldest = this.entries.keys().next();
      if (oldest.done) break;
      this.evict(oldest.value);
    }
  }

  private evict(key: string): void {
    const data = this.entries.get(key);
    if (!data) return;
    this.bytes -= data.length;
    this.entries.delete(key);
    this.unmarkSpeculative(key, true);
  }

  /** Removes `key` from the speculative set (counted as dropped unread when `dropped`). */
  private unmarkSpeculative(key: string, dropped: boolean): void {
    const size = this.speculative.get(key);
    if (size === undefined) return;
    this.speculative.delete(key);
    this.speculativeSince.delete(key);
    this.speculativeBytes -= size;
    if (dropped) this.readAheadDropped++;
  }

  /**
   * Makes room for `size` speculative bytes by dropping the oldest unread loaded ones (only those unread
   * for staleMs when `staleOnly`).
   */
  private makeSpeculativeRoom(size: number, staleOnly: boolean): void {
    // Most calls find room: they cost nothing. The others walk from the oldest and stop once there is room,
    // so a compaction pass offering a run per partition (100,000 of them) stays linear. A Map iterator
    // skips the entries evict() deletes behind it.
    if (this.speculativeBytes + size <= this.readAheadMax) return;
    const cutoff = this.now() - this.staleMs;
    for (const key of this.speculative.keys()) {
      if (this.speculativeBytes + size <= this.readAheadMax) return;
      if (staleOnly && this.speculativeSince.get(key)! > cutoff) return;
      if (this.entries.has(key)) this.evict(key);
    }
  }

  private markSpeculative(key: string, size: number): void {
    this.speculative.set(key, size);
    this.speculativeSince.set(key, this.now());
    this.speculativeBytes += size;
  }

  get(key: string): Buffer | undefined {
    const data = this.entries.get(key);
    if (data) {
      // Refresh recency.
      this.entries.delete(key);
      this.entries.set(key, data);
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
    return this.entries.get(key);
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
        const expected = this.speculative.get(key);
        if (expected !== undefined) {
          // Still unread: account its real size.
          this.speculativeBytes += data.length - expected;
          this.speculative.set(key, data.length);
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
          const expected = this.speculative.get(p.key);
          if (expected !== undefined) {
            this.speculativeBytes += one.length - expected;
            this.speculative.set(p.key, one.length);
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
