/**
 * Sets of topic partitions as KIP-848 groups handle them: topic id → partition numbers, immutable once
 * built. The helpers compare, combine and print them; nothing here knows of members or epochs.
 */

/** Topic id → partitions. Never mutated once built; empty topics are left out. */
export type Assignment = ReadonlyMap<string, ReadonlySet<number>>;

export const EMPTY_ASSIGNMENT: Assignment = new Map();

/** An assignment from (topic id, partitions) pairs; repeated topics are merged, empty ones dropped. */
export function assignmentOf(entries: Iterable<readonly [string, Iterable<number>]>): Assignment {
  const out = new Map<string, Set<number>>();
  for (const [topicId, partitions] of entries) {
    const set = out.get(topicId) ?? new Set<number>();
    for (const p of partitions) set.add(p);
    if (set.size > 0) out.set(topicId, set);
  }
  return out;
}

export function partitionCount(a: Assignment): number {
  let n = 0;
  for (const set of a.values()) n += set.size;
  return n;
}

export function contains(a: Assignment, topicId: string, partition: number): boolean {
  return a.get(topicId)?.has(partition) ?? false;
}

/** Partitions in `a` and in `b`. */
export function intersect(a: Assignment, b: Assignment): Assignment {
  const out: Array<[string, number[]]> = [];
  for (const [topicId, set] of a) out.push([topicId, [...set].filter((p) => contains(b, topicId, p))]);
  return assignmentOf(out);
}

/** Partitions in `a` but not in `b`. */
export function subtract(a: Assignment, b: Assignment): Assignment {
  const out: Array<[string, number[]]> = [];
  for (const [topicId, set] of a) out.push([topicId, [...set].filter((p) => !contains(b, topicId, p))]);
  return assignmentOf(out);
}

export function union(a: Assignment, b: Assignment): Assignment {
  return assignmentOf([...a, ...b]);
}

export function isEmpty(a: Assignment): boolean {
  return partitionCount(a) === 0;
}

/** Whether every partition of `a` is in `b`. */
export function isSubset(a: Assignment, b: Assignment): boolean {
  for (const [topicId, set] of a) for (const p of set) if (!contains(b, topicId, p)) return false;
  return true;
}

export function sameAssignment(a: Assignment, b: Assignment): boolean {
  return partitionCount(a) === partitionCount(b) && isSubset(a, b);
}

/** Every (topic id, partition) of an assignment, topics and partitions in ascending order. */
export function partitionsOf(a: Assignment): Array<readonly [string, number]> {
  const out: Array<readonly [string, number]> = [];
  for (const topicId of [...a.keys()].sort())
    for (const p of [...a.get(topicId)!].sort((x, y) => x - y)) out.push([topicId, p]);
  return out;
}

/** A stable text form for logs and tests: "topicId-0,topicId-1". */
export function assignmentText(a: Assignment, name: (topicId: string) => string = (id) => id): string {
  return partitionsOf(a)
    .map(([t, p]) => `${name(t)}-${p}`)
    .join(",");
}
