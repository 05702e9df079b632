/**
 * A Jepsen-style checker for produce/consume histories. Producers record every record they sent:
 * acknowledged ones with the offset the broker returned, the others (the send failed, or its outcome is
 * unknown) as indeterminate. After the faults a consumer reads every partition from the start. The
 * checker is a pure function over these histories and reports:
 *
 *   lost          acknowledged, never read
 *   wrongOffset   read at another partition or offset than the acknowledgement said
 *   duplicates    one sent record stored at two offsets (an anomaly when producers are idempotent;
 *                 counted as allowed otherwise: at-least-once)
 *   reordered     a producer's records within one partition stored out of their send order
 *   unexpected    read, but never sent by anybody
 *   conflicts     one (partition, offset) read with two different records
 *   gaps          offsets missing between the first and last offset read of a partition
 *
 * Values must be unique per sent record (the producer id and its send sequence make a good value).
 *
 * Transactional histories (checkTransactions): every transaction the producer saw commit is read back
 * whole by a read_committed consumer, no record of an aborted one is, and one whose end failed (its outcome
 * unknown to the producer) is read back whole or not at all.
 */

export interface SentRecord {
  /** One producer instance (a restarted producer gets a new id: its sequence starts afresh). */
  readonly producer: string;
  /** Send order within the producer, increasing. */
  readonly seq: number;
  readonly partition: number;
  readonly key: string;
  /** Unique per sent record. */
  readonly value: string;
}

export interface AckedRecord extends SentRecord {
  readonly offset: bigint;
}

export interface ConsumedRecord {
  readonly partition: number;
  readonly offset: bigint;
  readonly key: string;
  readonly value: string;
}

export interface History {
  readonly acked: readonly AckedRecord[];
  /** Sent, never acknowledged: may or may not be stored. */
  readonly indeterminate: readonly SentRecord[];
  /** Everything read back, in any order; a (partition, offset) read twice is folded into one. */
  readonly consumed: readonly ConsumedRecord[];
  /** Idempotent producers: no sent record may be stored twice. */
  readonly idempotent: boolean;
}

export interface Reordering {
  readonly partition: number;
  readonly producer: string;
  /** The record stored after one its producer sent later. */
  readonly value: string;
  readonly offset: bigint;
  readonly after: string;
  readonly afterOffset: bigint;
}

export interface CheckResult {
  /** No anomaly (allowed duplicates of non-idempotent producers are not anomalies). */
  readonly ok: boolean;
  readonly acked: number;
  readonly indeterminate: number;
  /** Distinct (partition, offset) positions read. */
  readonly consumed: number;
  /** Indeterminate records that turned out to be stored. */
  readonly indeterminateStored: number;
  readonly lost: readonly AckedRecord[];
  readonly wrongOffset: ReadonlyArray<{
    readonly value: string;
    readonly acked: string;
    readonly read: readonly string[];
  }>;
  readonly duplicates: ReadonlyArray<{ readonly value: string; readonly positions: readonly string[] }>;
  readonly allowedDuplicates: number;
  readonly reordered: readonly Reordering[];
  readonly unexpected: readonly ConsumedRecord[];
  readonly conflicts: ReadonlyArray<{
    readonly partition: number;
    readonly offset: bigint;
    readonly values: readonly string[];
  }>;
  readonly gaps: ReadonlyArray<{ readonly partition: number; readonly from: bigint; readonly to: bigint }>;
}

function position(partition: number, offset: bigint): string {
  return `${partition}@${offset}`;
}

export function checkHistory(history: History): CheckResult {
  const sent = new Map<string, SentRecord>();
  for (const r of history.indeterminate) sent.set(r.value, r);
  for (const r of history.acked) sent.set(r.value, r);

  // Fold re-reads of one position; different values at one position are conflicts.
  const byPosition = new Map<string, ConsumedRecord>();
  const conflicting = new Map<string, { partition: number; offset: bigint; values: Set<string> }>();
  for (const c of history.consumed) {
    const pos = position(c.partition, c.offset);
    const seen = byPosition.get(pos);
    if (!seen) {
      byPosition.set(pos, c);
    } else if (seen.value !== c.value) {
      const entry = conflicting.get(pos) ?? { partition: c.partition, offset: c.offset, values: new Set([seen.value]) };
      entry.values.add(c.value);
      conflicting.set(pos, entry);
    }
  }
  const stored = [...byPosition.values()].sort(
    (a, b) => a.partition - b.partition || (a.offset < b.offset ? -1 : a.offset > b.offset ? 1 : 0),
  );

  const positionsOf = new Map<string, ConsumedRecord[]>();
  const unexpected: ConsumedRecord[] = [];
  for (const c of stored) {
    if (!sent.has(c.value)) unexpected.push(c);
    const list = positionsOf.get(c.value) ?? [];
    list.push(c);
    positionsOf.set(c.value, list);
  }

  const lost: AckedRecord[] = [];
  const wrongOffset: Array<{ value: string; acked: string; read: string[] }> = [];
  for (const a of history.acked) {
    const found = positionsOf.get(a.value);
    if (!found) {
      lost.push(a);
      continue;
    }
    if (!found.some((c) => c.partition === a.partition && c.offset === a.offset)) {
      wrongOffset.push({
        value: a.value,
        acked: position(a.partition, a.offset),
        read: found.map((c) => position(c.partition, c.offset)),
      });
    }
  }

  const duplicates: Array<{ value: string; positions: string[] }> = [];
  for (const [value, found] of positionsOf) {
    if (found.length > 1 && sent.has(value))
      duplicates.push({ value, positions: found.map((c) => position(c.partition, c.offset)) });
  }

  // Per producer and partition, the first stored copy of each record must follow send order.
  const reordered: Reordering[] = [];
  const latest = new Map<string, { seq: number; value: string; offset: bigint }>();
  const firstSeen = new Set<string>();
  for (const c of stored) {
    const s = sent.get(c.value);
    if (!s || firstSeen.has(c.value)) continue;
    firstSeen.add(c.value);
    const k = `${s.producer}\u0000${c.partition}`;
    const last = latest.get(k);
    if (last && s.seq < last.seq) {
      reordered.push({
        partition: c.partition,
        producer: s.producer,
        value: c.value,
        offset: c.offset,
        after: last.value,
        afterOffset: last.offset,
      });
      continue;
    }
    latest.set(k, { seq: s.seq, value: c.value, offset: c.offset });
  }

  const gaps: Array<{ partition: number; from: bigint; to: bigint }> = [];
  for (let i = 1; i < stored.length; i++) {
    const prev = stored[i - 1]!;
    const cur = stored[i]!;
    if (cur.partition === prev.partition && cur.offset > prev.offset + 1n)
      gaps.push({ partition: cur.partition, from: prev.offset + 1n, to: cur.offset - 1n });
  }

  const acked = new Set(history.acked.map((a) => a.value));
  const indeterminateStored = history.indeterminate.filter(
    (r) => !acked.has(r.value) && positionsOf.has(r.value),
  ).length;
  const conflicts = [...conflicting.values()].map((c) => ({
    partition: c.partition,
    offset: c.offset,
    values: [...c.values],
  }));
  const ok =
    lost.length === 0 &&
    wrongOffset.length === 0 &&
    (!history.idempotent || duplicates.length === 0) &&
    reordered.length === 0 &&
    unexpected.length === 0 &&
    conflicts.length === 0 &&
    gaps.length === 0;
  return {
    ok,
    acked: acked.size,
    indeterminate: history.indeterminate.length,
    consumed: stored.length,
    indeterminateStored,
    lost,
    wrongOffset,
    duplicates: history.idempotent ? duplicates : [],
    allowedDuplicates: history.idempotent ? 0 : duplicates.length,
    reordered,
    unexpected,
    conflicts,
    gaps,
  };
}

/** How many, and the first few of them shown. */
function few<T>(xs: readonly T[], show: (x: T) => string): string {
  return xs.length === 0 ? "0" : `${xs.length} (${xs.slice(0, 5).map(show).join(", ")}${xs.length > 5 ? ", ..." : ""})`;
}

/** A one-line summary for logs and assertion messages; lists the first few records of each anomaly. */
export function describeResult(r: CheckResult): string {
  return [
    `acked ${r.acked}, indeterminate ${r.indeterminate} (${r.indeterminateStored} stored), consumed ${r.consumed}`,
    `lost ${few(r.lost, (a) => `${a.value}@${a.partition}/${a.offset}`)}`,
    `wrongOffset ${few(r.wrongOffset, (w) => `${w.value} acked ${w.acked} read ${w.read.join("|")}`)}`,
    `duplicates ${few(r.duplicates, (d) => `${d.value} at ${d.positions.join("|")}`)}`,
    `allowedDuplicates ${r.allowedDuplicates}`,
    `reordered ${few(r.reordered, (o) => `${o.value}@${o.partition}/${o.offset} after ${o.after}@${o.afterOffset}`)}`,
    `unexpected ${few(r.unexpected, (u) => `${u.value}@${u.partition}/${u.offset}`)}`,
    `conflicts ${few(r.conflicts, (c) => `${c.partition}/${c.offset}: ${c.values.join("|")}`)}`,
    `gaps ${few(r.gaps, (g) => `${g.partition}:${g.from}-${g.to}`)}`,
  ].join("; ");
}

/** One transaction a transactional producer ran: the values it sent in it. */
export interface SentTransaction {
  readonly id: string;
  readonly values: readonly string[];
}

/**
 * A transactional producer's history: the transactions whose commit it saw succeed, those it aborted, and
 * those that ended in an error (committed or not, it cannot know), with what a read_committed consumer read
 * back afterwards.
 */
export interface TransactionHistory {
  readonly committed: readonly SentTransaction[];
  readonly aborted: readonly SentTransaction[];
  readonly indeterminate: readonly SentTransaction[];
  /** Read with read_committed from the start of every partition. */
  readonly consumed: readonly ConsumedRecord[];
}

export interface TransactionCheckResult {
  readonly ok: boolean;
  readonly committed: number;
  readonly aborted: number;
  readonly indeterminate: number;
  /** Indeterminate transactions read back whole (they committed). */
  readonly indeterminateCommitted: number;
  /** Committed transactions not read back whole: some or all of their records missing. */
  readonly partlyOrNotVisible: ReadonlyArray<{ readonly id: string; readonly missing: number; readonly of: number }>;
  /** Indeterminate transactions read back in part: an end that was not atomic. */
  readonly partlyVisible: ReadonlyArray<{ readonly id: string; readonly read: number; readonly of: number }>;
  /** Records of aborted transactions a read_committed consumer saw. */
  readonly abortedVisible: readonly ConsumedRecord[];
  /** Records read twice (at two positions). */
  readonly duplicates: ReadonlyArray<{ readonly value: string; readonly positions: readonly string[] }>;
  /** Read, but sent in no transaction. */
  readonly unexpected: readonly ConsumedRecord[];
}

/**
 * Checks a transactional history: every committed transaction wholly visible to read_committed, no aborted
 * record visible, each indeterminate transaction visible whole or not at all, nothing read twice.
 */
export function checkTransactions(history: TransactionHistory): TransactionCheckResult {
  const positions = new Map<string, string[]>();
  const seen = new Set<string>();
  for (const r of history.consumed) {
    const at = position(r.partition, r.offset);
    const list = positions.get(r.value) ?? [];
    if (!list.includes(at)) list.push(at);
    positions.set(r.value, list);
    seen.add(r.value);
  }
  const readOf = (t: SentTransaction) => t.values.filter((v) => seen.has(v)).length;
  const partlyOrNotVisible = history.committed
    .map((t) => ({ id: t.id, missing: t.values.length - readOf(t), of: t.values.length }))
    .filter((t) => t.missing > 0);
  const partlyVisible = history.indeterminate
    .map((t) => ({ id: t.id, read: readOf(t), of: t.values.length }))
    .filter((t) => t.read > 0 && t.read < t.of);
  const indeterminateCommitted = history.indeterminate.filter((t) => readOf(t) === t.values.length).length;
  const abortedValues = new Set(history.aborted.flatMap((t) => t.values));
  const sentValues = new Set(
    [...history.committed, ...history.aborted, ...history.indeterminate].flatMap((t) => t.values),
  );
  const abortedVisible = history.consumed.filter((r) => abortedValues.has(r.value));
  const unexpected = history.consumed.filter((r) => !sentValues.has(r.value));
  const duplicates = [...positions].filter(([, at]) => at.length > 1).map(([value, at]) => ({ value, positions: at }));
  return {
    ok:
      partlyOrNotVisible.length === 0 &&
      partlyVisible.length === 0 &&
      abortedVisible.length === 0 &&
      duplicates.length === 0 &&
      unexpected.length === 0,
    committed: history.committed.length,
    aborted: history.aborted.length,
    indeterminate: history.indeterminate.length,
    indeterminateCommitted,
    partlyOrNotVisible,
    partlyVisible,
    abortedVisible,
    duplicates,
    unexpected,
  };
}

/** A one-line summary of a transactional check. */
export function describeTransactionResult(r: TransactionCheckResult): string {
  return [
    `committed ${r.committed}, aborted ${r.aborted}, indeterminate ${r.indeterminate} (${r.indeterminateCommitted} committed)`,
    `committed not wholly visible ${few(r.partlyOrNotVisible, (t) => `${t.id} missing ${t.missing}/${t.of}`)}`,
    `indeterminate partly visible ${few(r.partlyVisible, (t) => `${t.id} ${t.read}/${t.of}`)}`,
    `aborted visible ${few(r.abortedVisible, (a) => `${a.value}@${a.partition}/${a.offset}`)}`,
    `duplicates ${few(r.duplicates, (d) => `${d.value} at ${d.positions.join("|")}`)}`,
    `unexpected ${few(r.unexpected, (u) => `${u.value}@${u.partition}/${u.offset}`)}`,
  ].join("; ");
}
