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

/** What an ExpiryList orders: an object carrying its own last-use time and links (set by the list only). */
export interface Expiring<T> {
  /** Log time (ms) of the last use. */
  expiryTime: number;
  expiryPrev: T | null;
  expiryNext: T | null;
}

/**
 * Items in the order of the log time they were last used at, linked through the items themselves. Log
 * time never decreases, so moving a used item to the end keeps that order, and expiry pops from the
 * front: the work per entry is the number of items that expire, not the number kept, and a use is a few
 * pointer moves.
 *
 * Kept as the order of a Map instead (delete, then set again, on every use), each use left a hole at the
 * front of the map's table until V8 rehashed it, and every entry's expiry walked those holes from the
 * start: with 400,000 producer states and 2,000 uses an entry, an entry's fold now and then took over
 * 200 ms.
 */
export class ExpiryList<T extends Expiring<T>> {
  private head: T | null = null;
  private tail: T | null = null;
  private count = 0;

  /** Builds a list of items with their last-use times already set, in any order. */
  static of<T extends Expiring<T>>(items: Iterable<T>): ExpiryList<T> {
    const list = new ExpiryList<T>();
    for (const item of [...items].sort((a, b) => a.expiryTime - b.expiryTime)) list.touch(item, item.expiryTime);
    return list;
  }

  /** Marks `item` used at `time`, the current log time (no earlier than any time given before). */
  touch(item: T, time: number): void {
    item.expiryTime = time;
    if (item === this.tail) return;
    if (this.holds(item)) this.unlink(item);
    else this.count++;
    item.expiryPrev = this.tail;
    if (this.tail) this.tail.expiryNext = item;
    else this.head = item;
    this.tail = item;
  }

  delete(item: T): void {
    if (!this.holds(item)) return;
    this.unlink(item);
    this.count--;
  }

  /**
   * Removes and returns the items last used at or before `cutoff`, oldest first; `beforeRemove` is told
   * of each while its time is still here.
   */
  expire(cutoff: number, beforeRemove?: (item: T) => void): T[] {
    const expired: T[] = [];
    for (let n = this.head; n !== null && n.expiryTime <= cutoff; n = n.expiryNext) expired.push(n);
    for (const item of expired) {
      beforeRemove?.(item);
      this.delete(item);
    }
    return expired;
  }

  /**
   * Items used before the log carried times (time 0) count as used at `time`, the first log time known:
   * state from entries without a timestamp is kept a full period, not dropped at the first one with it.
   */
  stampUnknown(time: number, beforeStamp?: (item: T) => void): void {
    for (let n = this.head; n !== null && n.expiryTime === 0; n = n.expiryNext) {
      beforeStamp?.(n);
      n.expiryTime = time;
    }
  }

  get size(): number {
    return this.count;
  }

  private holds(item: T): boolean {
    return item.expiryPrev !== null || this.head === item;
  }

  private unlink(item: T): void {
    if (item.expiryPrev) item.expiryPrev.expiryNext = item.expiryNext;
    else this.head = item.expiryNext;
    if (item.expiryNext) item.expiryNext.expiryPrev = item.expiryPrev;
    else this.tail = item.expiryPrev;
    item.expiryPrev = null;
    item.expiryNext = null;
  }
}

/** A key's place in an ExpiryQueue. */
interface KeyNode<K> extends Expiring<KeyNode<K>> {
  readonly key: K;
}

/** Keys (group ids, transactional ids) in the order of the log time they were last used at (ExpiryList). */
export class ExpiryQueue<K> {
  private readonly nodes = new Map<K, KeyNode<K>>();
  private list = new ExpiryList<KeyNode<K>>();

  /** Builds a queue from keys and their last-use times, in any order. */
  static of<K>(entries: Iterable<readonly [K, number]>): ExpiryQueue<K> {
    const queue = new ExpiryQueue<K>();
    for (const [key, time] of entries)
      queue.nodes.set(key, { key, expiryTime: time, expiryPrev: null, expiryNext: null });
    queue.list = ExpiryList.of(queue.nodes.values());
    return queue;
  }

  /** Marks `key` used at `time`, the current log time (no earlier than any time given before). */
  touch(key: K, time: number): void {
    let node = this.nodes.get(key);
    if (!node) this.nodes.set(key, (node = { key, expiryTime: time, expiryPrev: null, expiryNext: null }));
    this.list.touch(node, time);
  }

  delete(key: K): void {
    const node = this.nodes.get(key);
    if (!node) return;
    this.list.delete(node);
    this.nodes.delete(key);
  }

  timeOf(key: K): number | undefined {
    return this.nodes.get(key)?.expiryTime;
  }

  /**
   * Removes and returns the keys last used at or before `cutoff`, oldest first; `beforeRemove` is told of
   * each while its time is still here.
   */
  expire(cutoff: number, beforeRemove?: (key: K) => void): K[] {
    const expired = this.list.expire(cutoff, beforeRemove && ((n) => beforeRemove(n.key)));
    for (const n of expired) this.nodes.delete(n.key);
    return expired.map((n) => n.key);
  }

  /** As ExpiryList.stampUnknown. */
  stampUnknown(time: number, beforeStamp?: (key: K) => void): void {
    this.list.stampUnknown(time, beforeStamp && ((n) => beforeStamp(n.key)));
  }

  get size(): number {
    return this.nodes.size;
  }
}
