/**
 * Transactions in the fold (docs/metadata-log.md section 15): each transactional id's producer id,
 * epoch, state and what its ongoing transaction holds; per partition, the first offset of each ongoing
 * transaction (the last stable offset is the smallest of them) and the aborted ranges a read_committed
 * Fetch filters; per group, the offsets transactions committed with TxnOffsetCommit, applied when the
 * transaction commits and dropped when it aborts.
 *
 * A transaction ends in one log entry (`endTransaction`): its markers take their offsets, its last
 * stable offsets move and its offsets are applied together, on every agent alike, so no reader ever sees
 * part of it. The rules follow Kafka's transaction coordinator (TransactionCoordinator, TransactionMetadata)
 * for the classic protocol; the Prepare states are not needed while an end is one entry.
 *
 * Deterministic like the rest of the fold: the log's own time, no clocks. The ClusterState owns the
 * partitions and calls in here; this table keeps partitions by topic name and index (`partitionKey`).
 */
import type { OffsetCommitEntry } from "./commands.js";
import { ErrorCode } from "../protocol/error-codes.js";
import { ExpiryQueue } from "./expiry.js";

/** A transaction's state, by Kafka's names (DescribeTransactions, ListTransactions). */
export type TransactionStateName = "Empty" | "Ongoing" | "CompleteCommit" | "CompleteAbort";

/** The largest epoch a producer id is used at; the next bump moves to a new producer id (as Kafka does). */
export const MAX_PRODUCER_EPOCH = 32766;
/** transaction.max.timeout.ms: a longer transaction timeout is refused (INVALID_TRANSACTION_TIMEOUT). */
export const MAX_TRANSACTION_TIMEOUT_MS = 15 * 60 * 1000;
/** transactional.id.expiration.ms: an id unused this long and not in a transaction is forgotten. */
export const TRANSACTIONAL_ID_EXPIRATION_MS = 7 * 24 * 60 * 60 * 1000;

export interface Transaction {
  readonly transactionalId: string;
  producerId: number;
  producerEpoch: number;
  /**
   * The producer id and epoch before the last bump made without the producer (a timeout's abort, a new
   * producer id after epoch exhaustion): the producer still holding them may recover with them (KIP-360).
   * −1: none.
   */
  lastProducerId: number;
  lastProducerEpoch: number;
  state: TransactionStateName;
  timeoutMs: number;
  /** Log time the ongoing transaction started; −1 when none is ongoing. */
  startTime: number;
  /** Log time of the last change (transactional.id.expiration.ms counts from it). */
  updateTime: number;
  /** Partitions in the ongoing transaction: topic → partition indexes. */
  readonly partitions: Map<string, Set<number>>;
  /** Groups whose offsets the ongoing transaction commits. */
  readonly groups: Set<string>;
}

/** One aborted transaction's range on a partition: its first offset and its abort marker's offset. */
export interface AbortedRange {
  readonly producerId: number;
  readonly firstOffset: number;
  readonly lastOffset: number;
}

/** A partition named in a transaction command. */
export interface TopicPartitionRef {
  readonly topic: string;
  readonly partition: number;
}

/** Row forms in snapshots (JSON text, small). */
export type TransactionRow = [
  transactionalId: string,
  producerId: number,
  producerEpoch: number,
  lastProducerId: number,
  lastProducerEpoch: number,
  state: TransactionStateName,
  timeoutMs: number,
  startTime: number,
  updateTime: number,
  partitions: Array<[string, number[]]>,
  groups: string[],
];
export type OngoingRow = [topic: string, partition: number, firsts: Array<[producerId: number, firstOffset: number]>];
export type AbortedRow = [topic: string, partition: number, ranges: Array<[number, number, number]>];
export type PendingOffsetsRow = [group: string, producerId: number, offsets: OffsetCommitEntry[]];
/** A producer id a transactional id used before its current one. */
export type RetiredProducerRow = [producerId: number, transactionalId: string];

/** What a snapshot holds of the transaction table. */
export interface TransactionRows {
  readonly transactions: readonly TransactionRow[];
  readonly ongoing: readonly OngoingRow[];
  readonly aborted: readonly AbortedRow[];
  readonly pendingOffsets: readonly PendingOffsetsRow[];
  readonly retiredProducers: readonly RetiredProducerRow[];
}

export const NO_TRANSACTION_ROWS: TransactionRows = {
  transactions: [],
  ongoing: [],
  aborted: [],
  pendingOffsets: [],
  retiredProducers: [],
};

/** The key of partition `partition` of `topic` in this table's maps. */
export function partitionKey(topic: string, partition: number): string {
  return `${partition}:${topic}`;
}

function splitKey(key: string): [string, number] {
  const colon = key.indexOf(":");
  return [key.slice(colon + 1), Number(key.slice(0, colon))];
}

/** The error for a request of `producerId` at `producerEpoch` against `txn`, or NONE. */
function producerCheck(txn: Transaction | undefined, producerId: number, producerEpoch: number): number {
  if (!txn || txn.producerId !== producerId) return ErrorCode.INVALID_PRODUCER_ID_MAPPING;
  if (txn.producerEpoch !== producerEpoch) return ErrorCode.PRODUCER_FENCED;
  return ErrorCode.NONE;
}

export class TransactionTable {
  private readonly byId = new Map<string, Transaction>();
  /**
   * Transactional id by producer id: its current one, and those it used before epoch exhaustion moved it
   * to a new one (a producer still holding an old one is fenced, not taken for an idempotent producer).
   */
  private readonly byProducer = new Map<number, string>();
  /** Per partition key: producer id → first offset of its ongoing transaction there. */
  private readonly ongoing = new Map<string, Map<number, number>>();
  /** Per partition key: aborted ranges, in offset order. */
  private readonly aborted = new Map<string, AbortedRange[]>();
  /** Per group: producer id → offsets its ongoing transaction committed (TxnOffsetCommit). */
  private readonly pending = new Map<string, Map<number, Map<string, OffsetCommitEntry>>>();
  /** Transactional ids by the log time of their last change: expiry pops only those due. */
  private idle = new ExpiryQueue<string>();

  /** Records a change of `txn` at log time `time`. */
  private touched(txn: Transaction, time: number): void {
    txn.updateTime = time;
    this.idle.touch(txn.transactionalId, time);
  }

  get(transactionalId: string): Transaction | undefined {
    return this.byId.get(transactionalId);
  }

  /** Every transactional id's state, in id order (ListTransactions). */
  all(): Transaction[] {
    return [...this.byId.values()].sort((a, b) =>
      a.transactionalId < b.transactionalId ? -1 : a.transactionalId > b.transactionalId ? 1 : 0,
    );
  }

  /** The transaction a producer id is the current producer of. */
  ofProducer(producerId: number): Transaction | undefined {
    const id = this.byProducer.get(producerId);
    return id === undefined ? undefined : this.byId.get(id);
  }

  /**
   * Whether a batch of `producerId` at `producerEpoch` may be appended to the partition: NONE for a
   * producer that is not transactional, or whose ongoing transaction holds the partition at that epoch;
   * otherwise the error its batch is refused with (KIP-890 part 1's check, made by the fold).
   */
  admitBatch(topic: string, partition: number, producerId: number, producerEpoch: number): number {
    if (producerId < 0) return ErrorCode.NONE;
    const txn = this.ofProducer(producerId);
    if (!txn) return ErrorCode.NONE;
    if (txn.producerId !== producerId) return ErrorCode.PRODUCER_FENCED;
    // An older epoch, as Kafka's partition leaders answer it: the client may be one whose transaction
    // timed out, which recovers (KIP-360) by asking its coordinator for a new epoch; a fenced one is told
    // so by the coordinator then.
    if (producerEpoch !== txn.producerEpoch) return ErrorCode.INVALID_PRODUCER_EPOCH;
    if (txn.state !== "Ongoing" || !txn.partitions.get(topic)?.has(partition)) return ErrorCode.INVALID_TXN_STATE;
    return ErrorCode.NONE;
  }

  /** Records that a transactional batch landed at `baseOffset` (the first one sets its transaction's first offset there). */
  batchAppended(topic: string, partition: number, producerId: number, baseOffset: number): void {
    if (producerId < 0 || this.ofProducer(producerId)?.producerId !== producerId) return;
    const key = partitionKey(topic, partition);
    let firsts = this.ongoing.get(key);
    if (!firsts) this.ongoing.set(key, (firsts = new Map()));
    if (!firsts.has(producerId)) firsts.set(producerId, baseOffset);
  }

  /** The last stable offset of a partition whose next offset is `nextOffset`. */
  lastStableOffset(topic: string, partition: number, nextOffset: number): number {
    const firsts = this.ongoing.get(partitionKey(topic, partition));
    if (!firsts) return nextOffset;
    let lso = nextOffset;
    for (const first of firsts.values()) if (first < lso) lso = first;
    return lso;
  }

  /** Aborted ranges of a partition that overlap [from, to) (Fetch's aborted_transactions). */
  abortedIn(topic: string, partition: number, from: number, to: number): AbortedRange[] {
    const ranges = this.aborted.get(partitionKey(topic, partition));
    if (!ranges) return [];
    return ranges.filter((r) => r.lastOffset >= from && r.firstOffset < to);
  }

  /** Producer ids with an ongoing transaction on a partition, and where it started there (DescribeProducers). */
  ongoingOn(topic: string, partition: number): ReadonlyMap<number, number> {
    return this.ongoing.get(partitionKey(topic, partition)) ?? new Map();
  }

  /**
   * InitProducerId with a transactional id. A new id gets `allocate()`'s producer id at epoch 0; a known
   * one has its epoch bumped (fencing the producer that held it), or a new producer id once the epoch is
   * exhausted. `expected` (KIP-360: the producer id and epoch the producer holds; −1 −1 for none) must
   * be the current ones, or the ones before the last bump the producer did not ask for. An ongoing
   * transaction is refused with CONCURRENT_TRANSACTIONS: the coordinator aborts it first.
   */
  init(
    transactionalId: string,
    timeoutMs: number,
    expected: { producerId: number; producerEpoch: number },
    time: number,
    allocate: () => number,
  ): { errorCode: number; producerId?: number; producerEpoch?: number } {
    if (!Number.isSafeInteger(timeoutMs) || timeoutMs <= 0 || timeoutMs > MAX_TRANSACTION_TIMEOUT_MS)
      return { errorCode: ErrorCode.INVALID_TRANSACTION_TIMEOUT };
    const txn = this.byId.get(transactionalId);
    if (!txn) {
      const producerId = allocate();
      const created: Transaction = {
        transactionalId,
        producerId,
        producerEpoch: 0,
        lastProducerId: -1,
        lastProducerEpoch: -1,
        state: "Empty",
        timeoutMs,
        startTime: -1,
        updateTime: time,
        partitions: new Map(),
        groups: new Set(),
      };
      this.byId.set(transactionalId, created);
      this.touched(created, time);
      this.byProducer.set(producerId, transactionalId);
      return { errorCode: ErrorCode.NONE, producerId, producerEpoch: 0 };
    }
    if (txn.state === "Ongoing") return { errorCode: ErrorCode.CONCURRENT_TRANSACTIONS };
    if (expected.producerId >= 0) {
      const current = expected.producerId === txn.producerId && expected.producerEpoch === txn.producerEpoch;
      const previous = expected.producerId === txn.lastProducerId && expected.producerEpoch === txn.lastProducerEpoch;
      if (!current && !previous) return { errorCode: ErrorCode.PRODUCER_FENCED };
      // A retry of a bump that already happened: answer it again.
      if (previous && txn.lastProducerId >= 0) {
        txn.lastProducerId = -1;
        txn.lastProducerEpoch = -1;
        txn.timeoutMs = timeoutMs;
        this.touched(txn, time);
        return { errorCode: ErrorCode.NONE, producerId: txn.producerId, producerEpoch: txn.producerEpoch };
      }
    }
    this.bump(txn, allocate, false);
    txn.state = "Empty";
    txn.timeoutMs = timeoutMs;
    this.touched(txn, time);
    return { errorCode: ErrorCode.NONE, producerId: txn.producerId, producerEpoch: txn.producerEpoch };
  }

  /** Moves a transactional id to its next epoch, or a new producer id past MAX_PRODUCER_EPOCH. */
  private bump(txn: Transaction, allocate: () => number, withoutProducer: boolean): void {
    if (withoutProducer) {
      txn.lastProducerId = txn.producerId;
      txn.lastProducerEpoch = txn.producerEpoch;
    } else {
      txn.lastProducerId = -1;
      txn.lastProducerEpoch = -1;
    }
    if (txn.producerEpoch < MAX_PRODUCER_EPOCH) {
      txn.producerEpoch++;
      return;
    }
    txn.producerId = allocate();
    txn.producerEpoch = 0;
    this.byProducer.set(txn.producerId, txn.transactionalId);
  }

  /**
   * AddPartitionsToTxn and AddOffsetsToTxn: the transaction becomes (or stays) Ongoing and holds these
   * partitions and groups. `exists` says whether a partition exists: with any that does not, nothing is
   * added, and those are answered UNKNOWN_TOPIC_OR_PARTITION, the others OPERATION_NOT_ATTEMPTED (as Kafka
   * does).
   */
  add(
    transactionalId: string,
    producerId: number,
    producerEpoch: number,
    partitions: readonly TopicPartitionRef[],
    groups: readonly string[],
    time: number,
    exists: (topic: string, partition: number) => boolean,
  ): { errorCode: number; partitionErrors?: number[] } {
    const txn = this.byId.get(transactionalId);
    const refused = producerCheck(txn, producerId, producerEpoch);
    if (refused !== ErrorCode.NONE || !txn) return { errorCode: refused };
    const missing = partitions.map((p) => !exists(p.topic, p.partition));
    if (missing.some(Boolean))
      return {
        errorCode: ErrorCode.NONE,
        partitionErrors: missing.map((m) =>
          m ? ErrorCode.UNKNOWN_TOPIC_OR_PARTITION : ErrorCode.OPERATION_NOT_ATTEMPTED,
        ),
      };
    if (txn.state !== "Ongoing") {
      txn.state = "Ongoing";
      txn.startTime = time;
      txn.partitions.clear();
      txn.groups.clear();
    }
    for (const p of partitions) {
      let set = txn.partitions.get(p.topic);
      if (!set) txn.partitions.set(p.topic, (set = new Set()));
      set.add(p.partition);
    }
    for (const g of groups) txn.groups.add(g);
    this.touched(txn, time);
    return { errorCode: ErrorCode.NONE, partitionErrors: partitions.map(() => ErrorCode.NONE) };
  }

  /**
   * TxnOffsetCommit: offsets held for the group until the producer's ongoing transaction ends. The group
   * must be in the transaction (AddOffsetsToTxn came first).
   */
  commitOffsets(
    transactionalId: string,
    producerId: number,
    producerEpoch: number,
    group: string,
    offsets: readonly OffsetCommitEntry[],
    time: number,
  ): number {
    const txn = this.byId.get(transactionalId);
    const refused = producerCheck(txn, producerId, producerEpoch);
    if (refused !== ErrorCode.NONE || !txn) return refused;
    if (txn.state !== "Ongoing" || !txn.groups.has(group)) return ErrorCode.INVALID_TXN_STATE;
    let byProducer = this.pending.get(group);
    if (!byProducer) this.pending.set(group, (byProducer = new Map()));
    let held = byProducer.get(producerId);
    if (!held) byProducer.set(producerId, (held = new Map()));
    for (const o of offsets) held.set(partitionKey(o.topic, o.partition), o);
    this.touched(txn, time);
    return ErrorCode.NONE;
  }

  /** Offsets a group holds from ongoing transactions, by producer id (OffsetFetch's require_stable). */
  pendingFor(group: string): ReadonlyMap<number, ReadonlyMap<string, OffsetCommitEntry>> {
    return this.pending.get(group) ?? new Map();
  }

  /**
   * Checks an end of the transaction (EndTxn, or an abort by the coordinator): NONE to go on; `done` when it
   * already ended this way (a retry, answered NONE with nothing to apply). `markerPartitions` are the
   * partitions the proposer wrote markers for; they must be exactly the transaction's partitions that
   * still exist, else CONCURRENT_TRANSACTIONS (the proposer's view was behind: it reads on and retries).
   */
  checkEnd(
    transactionalId: string,
    producerId: number,
    producerEpoch: number,
    commit: boolean,
    markerPartitions: readonly TopicPartitionRef[],
    exists: (topic: string, partition: number) => boolean,
  ): { errorCode: number; done?: boolean } {
    const txn = this.byId.get(transactionalId);
    const refused = producerCheck(txn, producerId, producerEpoch);
    if (refused !== ErrorCode.NONE || !txn) return { errorCode: refused };
    if (txn.state === (commit ? "CompleteCommit" : "CompleteAbort")) return { errorCode: ErrorCode.NONE, done: true };
    if (txn.state !== "Ongoing") return { errorCode: ErrorCode.INVALID_TXN_STATE };
    const expected = new Set<string>();
    for (const [topic, set] of txn.partitions)
      for (const p of set) if (exists(topic, p)) expected.add(partitionKey(topic, p));
    const given = new Set(markerPartitions.map((p) => partitionKey(p.topic, p.partition)));
    if (given.size !== markerPartitions.length || given.size !== expected.size)
      return { errorCode: ErrorCode.CONCURRENT_TRANSACTIONS };
    for (const k of given) if (!expected.has(k)) return { errorCode: ErrorCode.CONCURRENT_TRANSACTIONS };
    return { errorCode: ErrorCode.NONE };
  }

  /**
   * Ends the ongoing transaction whose end checkEnd admitted: each marker landed at `markerOffsets`
   * (partition key → offset), the ranges of an abort are recorded, the group offsets of a commit are
   * returned for the state to apply (an abort drops them), and with `bumpEpoch` (an abort the producer did
   * not ask for) the producer is fenced by a new epoch.
   */
  end(
    transactionalId: string,
    commit: boolean,
    markerOffsets: ReadonlyMap<string, number>,
    bumpEpoch: boolean,
    time: number,
    allocate: () => number,
  ): Map<string, OffsetCommitEntry[]> {
    const txn = this.byId.get(transactionalId)!;
    const producerId = txn.producerId;
    for (const [key, markerOffset] of markerOffsets) {
      const firsts = this.ongoing.get(key);
      const first = firsts?.get(producerId);
      if (firsts && first !== undefined) {
        firsts.delete(producerId);
        if (firsts.size === 0) this.ongoing.delete(key);
        if (!commit) {
          let ranges = this.aborted.get(key);
          if (!ranges) this.aborted.set(key, (ranges = []));
          ranges.push({ producerId, firstOffset: first, lastOffset: markerOffset });
        }
      }
    }
    const applied = new Map<string, OffsetCommitEntry[]>();
    for (const group of txn.groups) {
      const byProducer = this.pending.get(group);
      const held = byProducer?.get(producerId);
      if (!byProducer || !held) continue;
      byProducer.delete(producerId);
      if (byProducer.size === 0) this.pending.delete(group);
      if (commit) applied.set(group, [...held.values()]);
    }
    txn.state = commit ? "CompleteCommit" : "CompleteAbort";
    txn.startTime = -1;
    txn.partitions.clear();
    txn.groups.clear();
    this.touched(txn, time);
    if (bumpEpoch) this.bump(txn, allocate, true);
    return applied;
  }

  /** A partition's data below `logStartOffset` is gone: so are the aborted ranges wholly below it. */
  truncated(topic: string, partition: number, logStartOffset: number): void {
    const key = partitionKey(topic, partition);
    const ranges = this.aborted.get(key);
    if (!ranges) return;
    const kept = ranges.filter((r) => r.lastOffset >= logStartOffset);
    if (kept.length === 0) this.aborted.delete(key);
    else if (kept.length !== ranges.length) this.aborted.set(key, kept);
  }

  /** A deleted topic leaves every transaction, with its ongoing starts, aborted ranges and held offsets. */
  topicDeleted(topic: string): void {
    for (const map of [this.ongoing, this.aborted] as const)
      for (const key of [...map.keys()]) if (splitKey(key)[0] === topic) map.delete(key);
    for (const txn of this.byId.values()) txn.partitions.delete(topic);
    for (const [group, byProducer] of this.pending) {
      for (const [pid, held] of byProducer) {
        for (const key of [...held.keys()]) if (splitKey(key)[0] === topic) held.delete(key);
        if (held.size === 0) byProducer.delete(pid);
      }
      if (byProducer.size === 0) this.pending.delete(group);
    }
  }

  /**
   * Transactions whose timeout passed at log time `time`: the coordinator aborts them. A transactional id
   * unused for TRANSACTIONAL_ID_EXPIRATION_MS and not in a transaction is forgotten here.
   */
  expire(time: number): void {
    const forgotten = new Set<string>();
    for (const id of this.idle.expire(time - TRANSACTIONAL_ID_EXPIRATION_MS)) {
      // An ongoing transaction is never forgotten; its end (or its timeout's abort) touches it again.
      if (this.byId.get(id)?.state === "Ongoing") continue;
      this.byId.delete(id);
      forgotten.add(id);
    }
    if (forgotten.size > 0) for (const [pid, id] of this.byProducer) if (forgotten.has(id)) this.byProducer.delete(pid);
  }

  /** Ongoing transactions past their timeout at wall-clock or log time `now`. */
  timedOut(now: number): Transaction[] {
    return [...this.byId.values()].filter(
      (t) => t.state === "Ongoing" && t.startTime >= 0 && now - t.startTime > t.timeoutMs,
    );
  }

  toRows(): TransactionRows {
    return {
      transactions: [...this.byId.values()].map((t) => [
        t.transactionalId,
        t.producerId,
        t.producerEpoch,
        t.lastProducerId,
        t.lastProducerEpoch,
        t.state,
        t.timeoutMs,
        t.startTime,
        t.updateTime,
        [...t.partitions].map(([topic, set]) => [topic, [...set]]),
        [...t.groups],
      ]),
      ongoing: [...this.ongoing].map(([key, firsts]) => [...splitKey(key), [...firsts]]),
      aborted: [...this.aborted].map(([key, ranges]) => [
        ...splitKey(key),
        ranges.map((r): [number, number, number] => [r.producerId, r.firstOffset, r.lastOffset]),
      ]),
      pendingOffsets: [...this.pending].flatMap(([group, byProducer]) =>
        [...byProducer].map(([pid, held]): PendingOffsetsRow => [group, pid, [...held.values()]]),
      ),
      retiredProducers: [...this.byProducer]
        .filter(([pid, id]) => this.byId.get(id)?.producerId !== pid)
        .map(([pid, id]): RetiredProducerRow => [pid, id]),
    };
  }

  /** Rebuilds the table from a snapshot's rows; throws on a malformed row. */
  restore(rows: TransactionRows): void {
    const states: readonly string[] = ["Empty", "Ongoing", "CompleteCommit", "CompleteAbort"];
    for (const row of rows.transactions) {
      const [id, pid, epoch, lastPid, lastEpoch, state, timeoutMs, startTime, updateTime, partitions, groups] = row;
      if (typeof id !== "string" || !states.includes(state) || !Array.isArray(partitions) || !Array.isArray(groups))
        throw new Error(`snapshot: malformed transaction row for ${JSON.stringify(id)}`);
      for (const n of [pid, epoch, lastPid, lastEpoch, timeoutMs, startTime, updateTime])
        if (!Number.isSafeInteger(n)) throw new Error(`snapshot: malformed transaction row for ${JSON.stringify(id)}`);
      this.byId.set(id, {
        transactionalId: id,
        producerId: pid,
        producerEpoch: epoch,
        lastProducerId: lastPid,
        lastProducerEpoch: lastEpoch,
        state,
        timeoutMs,
        startTime,
        updateTime,
        partitions: new Map(partitions.map(([topic, ps]) => [topic, new Set(ps)])),
        groups: new Set(groups),
      });
      this.byProducer.set(pid, id);
    }
    for (const [topic, partition, firsts] of rows.ongoing)
      this.ongoing.set(partitionKey(topic, partition), new Map(firsts));
    for (const [topic, partition, ranges] of rows.aborted)
      this.aborted.set(
        partitionKey(topic, partition),
        ranges.map(([producerId, firstOffset, lastOffset]) => ({ producerId, firstOffset, lastOffset })),
      );
    this.idle = ExpiryQueue.of([...this.byId.values()].map((t) => [t.transactionalId, t.updateTime] as const));
    for (const [pid, id] of rows.retiredProducers) {
      if (!this.byId.has(id)) throw new Error(`snapshot: producer ${pid} names an unknown transactional id`);
      this.byProducer.set(pid, id);
    }
    for (const [group, pid, offsets] of rows.pendingOffsets) {
      let byProducer = this.pending.get(group);
      if (!byProducer) this.pending.set(group, (byProducer = new Map()));
      byProducer.set(pid, new Map(offsets.map((o) => [partitionKey(o.topic, o.partition), o])));
    }
  }
}
