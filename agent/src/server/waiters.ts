/**
 * Long-poll support: fetch requests wait here for new data in any of their partitions, until their
 * deadline or until their connection closes. A wait that ends, however it ends, leaves nothing behind:
 * its partition entries, its timer and its listener on the connection's signal are all removed.
 */
export class PartitionWaiters {
  private readonly waiting = new Map<string, Set<() => void>>();

  /** `onWait` runs as a wait starts (the agent wakes its metadata log's tail: data may come from others). */
  constructor(private readonly onWait: () => void = () => {}) {}

  private static key(topic: string, partition: number): string {
    return `${topic}\u0000${partition}`;
  }

  /** Resolves when one of the partitions gets data, after timeoutMs, or when `cancel` aborts. */
  wait(partitions: ReadonlyArray<readonly [string, number]>, timeoutMs: number, cancel: AbortSignal): Promise<void> {
    if (timeoutMs <= 0 || partitions.length === 0 || cancel.aborted) return Promise.resolve();
    this.onWait();
    return new Promise<void>((resolve) => {
      const keys = partitions.map(([t, p]) => PartitionWaiters.key(t, p));
      let done = false;
      const finish = (): void => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        cancel.removeEventListener("abort", finish);
        for (const k of keys) {
          const set = this.waiting.get(k);
          set?.delete(finish);
          if (set && set.size === 0) this.waiting.delete(k);
        }
        resolve();
      };
      const timer = setTimeout(finish, timeoutMs);
      for (const k of keys) {
        let set = this.waiting.get(k);
        if (!set) this.waiting.set(k, (set = new Set()));
        set.add(finish);
      }
      cancel.addEventListener("abort", finish, { once: true });
    });
  }

  /** Partitions with at least one fetch waiting on them. */
  get waitingPartitions(): number {
    return this.waiting.size;
  }

  notify(topic: string, partition: number): void {
    const set = this.waiting.get(PartitionWaiters.key(topic, partition));
    if (!set) return;
    for (const fn of [...set]) fn();
  }

  /** Wakes every waiter (topics changed, shutdown). */
  notifyAll(): void {
    for (const set of [...this.waiting.values()]) for (const fn of [...set]) fn();
  }
}
