/**
 * A byte-bounded LRU of whole ingestion files. The agent that wrote a file puts it here, so fetches
 * of the tail are served from memory; other agents load a file once for all its partitions.
 * Concurrent loads of the same key share one store read.
 */
export class ObjectCache {
  private readonly entries = new Map<string, Buffer>();
  private readonly loading = new Map<string, Promise<Buffer>>();
  private bytes = 0;
  hits = 0;
  misses = 0;

  constructor(private readonly maxBytes: number) {}

  put(key: string, data: Buffer): void {
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
      this.bytes -= this.entries.get(oldest.value)!.length;
      this.entries.delete(oldest.value);
    }
  }

  get(key: string): Buffer | undefined {
    const data = this.entries.get(key);
    if (data) {
      // Refresh recency.
      this.entries.delete(key);
      this.entries.set(key, data);
      this.hits++;
    }
    return data;
  }

  /** Returns the cached object or loads it once with `load`. */
  async getOrLoad(key: string, load: () => Promise<Buffer>): Promise<Buffer> {
    const cached = this.get(key);
    if (cached) return cached;
    let pending = this.loading.get(key);
    if (!pending) {
      this.misses++;
      pending = load().then(
        (data) => {
          this.loading.delete(key);
          this.put(key, data);
          return data;
        },
        (err: unknown) => {
          this.loading.delete(key);
          throw err;
        },
      );
      this.loading.set(key, pending);
    }
    return pending;
  }

  get size(): number {
    return this.bytes;
  }
}
