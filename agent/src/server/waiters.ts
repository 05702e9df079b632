/**
 * Long-poll support: fetch requests wait here for new data in any of their partitions, until their
 * deadline or until the connection closes.
 */
export class PartitionWaiters {
  private readonly waiting = new Map<string, Set<() => void>>();

  private static key(topic: string, partition: number): string {
    return `${topic}\u0000${partition}`;
  }

  /** Resolves when one of the partitions gets data, after timeoutMs, or when `cancel` settles. */
  wait(
    partitions: ReadonlyArray<readonly [string, number]>,
    timeoutMs: number,
    cancel: Promise<unknown>,
  ): Promise<void> {
    if (timeoutMs <= 0 || partitions.length === 0) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const keys = partitions.map(([t, p]) => PartitionWaiters.key(t, p));
      let done = false;
      const finish = (): void => {
        if (done) return;
        done = true;
        clearTimeout(timer);
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
      void cancel.then(finish, finish);
    });
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
