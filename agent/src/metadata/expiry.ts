/**
 * State the fold forgets after a period without use, measured in log time: idempotent-producer state
 * (Kafka's `producer.id.expiration.ms`) and committed consumer-group offsets (`offsets.retention.minutes`).
 *
 * The log time at an entry is the largest proposer timestamp of the entries up to it (commands.ts
 * LogEntry.time): read from the log, never from the local clock, and never decreasing, so every agent
 * forgets the same state at the same log position. The periods are constants, not agent flags: agents
 * whose settings differed would fold the same log into different states.
 */

/** Producer state of a partition is dropped this long after the producer's last batch there (1 day). */
export const PRODUCER_ID_EXPIRATION_MS = 24 * 3_600_000;

/** A group's committed offsets are dropped this long after its last commit (7 days). */
export const OFFSETS_RETENTION_MS = 7 * 24 * 3_600_000;

/**
 * Keys in the order of the log time they were last used at. Log time never decreases, so moving a used
 * key to the end keeps that order, and expiry pops from the front: the work per entry is the number of
 * keys that expire, not the number kept.
 */
export class ExpiryQueue<K> {
  private readonly times = new Map<K, number>();

  /** Builds a queue from keys and their last-use times, in any order. */
  static of<K>(entries: Iterable<readonly [K, number]>): ExpiryQueue<K> {
    const queue = new ExpiryQueue<K>();
    for (const [key, time] of [...entries].sort((a, b) => a[1] - b[1])) queue.times.set(key, time);
    return queue;
  }

  /** Marks `key` used at `time`, the current log time (no earlier than any time given before). */
  touch(key: K, time: number): void {
    this.times.delete(key);
    this.times.set(key, time);
  }

  delete(key: K): void {
    this.times.delete(key);
  }

  timeOf(key: K): number | undefined {
    return this.times.get(key);
  }

  /**
   * Removes and returns the keys last used at or before `cutoff`, oldest first; `beforeRemove` is told of
   * each while its time is still here.
   */
  expire(cutoff: number, beforeRemove?: (key: K) => void): K[] {
    const expired: K[] = [];
    for (const [key, time] of this.times) {
      if (time > cutoff) break;
      expired.push(key);
    }
    for (const key of expired) {
      beforeRemove?.(key);
      this.times.delete(key);
    }
    return expired;
  }

  /**
   * Keys used before the log carried times (time 0) count as used at `time`, the first log time known:
   * state from entries without a timestamp is kept a full period, not dropped at the first one with it.
   */
  stampUnknown(time: number, beforeStamp?: (key: K) => void): void {
    for (const [key, t] of this.times) {
      if (t !== 0) break;
      beforeStamp?.(key);
      this.times.set(key, time);
    }
  }

  get size(): number {
    return this.times.size;
  }
}
