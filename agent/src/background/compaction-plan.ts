/**
 * What one compaction pass takes (compactor.ts runs it): the oldest candidate segments within the pass's
 * byte budget, from at most `maxPartitions` partitions, grouped into runs of consecutive segments.
 *
 * Candidates are found at each partition's tail and taken in age order by merging the partitions' lists
 * (a heap of partitions keyed by their oldest candidate not yet looked at) rather than by sorting every
 * candidate of the state: at 100,000 partitions a pass looks at over a million segments and takes a few
 * tens of thousands, and the sort's objects and merge arrays were most of what a pass allocated.
 */
import { TimeSlicer } from "../../../common/time-slicer.js";
import type { ClusterState, PartitionState, Segment } from "../metadata/state.js";

export interface PlannedRun {
  readonly topic: string;
  readonly partition: number;
  readonly segments: Segment[];
  bytes: number;
}

export interface PlanOptions {
  readonly now: number;
  readonly minAgeMs: number;
  readonly maxObjectBytes: number;
  readonly maxRunBytes: number;
  readonly mergeRunsBelowBytes: number;
  readonly mergeAfterMs: number;
  /**
   * Most partitions one pass takes segments from (undefined: no bound). A pass's `compact` commands name
   * a run per partition at least, and must fit COMMANDS_PER_PASS log entries (compactor.ts): without the
   * bound, a pass over 100,000 partitions read, checked and assembled them all, then dropped most runs.
   */
  readonly maxPartitions?: number;
}

/** A partition with candidates, and its candidates of each kind oldest first. */
interface Tail {
  readonly topic: string;
  readonly partition: number;
  readonly p: PartitionState;
  /** The base offset of its first candidate: where its runs are looked for again. */
  readonly from: number;
  readonly ingestion: Segment[];
  readonly merges: Segment[];
}

const NONE: Segment[] = [];

/**
 * Chooses what one pass compacts (state in, runs out; it changes nothing). Ingestion segments go first,
 * oldest first (they expire); then small compacted runs; from at most `maxPartitions` partitions, the
 * ones with the oldest data. Segments of equal age are taken in the order of their partitions in the
 * state, then of their offsets. A run holds consecutive picked segments of one partition; a run made of
 * a single compacted segment would only copy it and is dropped.
 *
 * It gives the event loop back every few milliseconds (`slicer`): at 100,000 partitions one plan is a few
 * hundred milliseconds of work, and the agent holding the compaction lease also answers produce and
 * fetch requests and renews its leases. The log may be folded between slices: the plan keeps the
 * candidate segments it chose (segments are never changed, only replaced) and makes each partition's runs
 * of those still there, in one go; the pass checks the runs against the state again before it commits
 * them, and the fold applies only what still matches. Nothing is copied of a partition with no candidate
 * due (a tail copy per partition per pass was most of what planning allocated).
 */
export async function planCompaction(
  state: ClusterState,
  o: PlanOptions,
  slicer: TimeSlicer = new TimeSlicer(),
): Promise<PlannedRun[]> {
  const candidateKind = (s: Segment) =>
    s.location.store === "i" ||
    (s.location.store === "c" && o.mergeRunsBelowBytes > 0 && s.location.len < o.mergeRunsBelowBytes);
  const tails: Tail[] = [];
  // Indexed loops: for-of in an async function made an iterator result per segment.
  for (const [name, topic] of state.topics) {
    for (let partition = 0; partition < topic.partitions.length; partition++) {
      if (slicer.due()) await slicer.pause();
      const p = topic.partitions[partition]!;
      const segments = p.segments;
      let ingestion = NONE;
      let merges = NONE;
      let from = -1;
      for (let i = tailStart(segments, candidateKind); i < segments.length; i++) {
        const s = segments[i]!;
        if (s.location.store === "i") {
          if (s.appendTime > o.now - o.minAgeMs) continue;
          if (ingestion === NONE) ingestion = [];
          ingestion.push(s);
        } else if (candidateKind(s) && s.appendTime <= o.now - o.mergeAfterMs) {
          if (merges === NONE) merges = [];
          merges.push(s);
        } else {
          continue;
        }
        if (from < 0) from = s.baseOffset;
      }
      if (from < 0) continue;
      // Entries carry their proposer's clock: a tail's append times may step back. Stable, so equal
      // times keep their offset order.
      oldestFirst(ingestion);
      oldestFirst(merges);
      tails.push({ topic: name, partition, p, from, ingestion, merges });
    }
  }

  const chosen = new Set<Segment>();
  const taken = new Uint8Array(tails.length);
  let partitions = 0;
  let budget = o.maxObjectBytes;
  /** Takes candidates of one kind in age order; false once the budget is spent. */
  const take = async (kind: "ingestion" | "merges"): Promise<boolean> => {
    const queue = await TailQueue.of(tails, kind, slicer);
    for (let t = queue.pop(); t >= 0; t = queue.pop()) {
      if (slicer.due()) await slicer.pause();
      const s = queue.segment(t);
      if (s.location.len > budget && chosen.size > 0) {
        queue.advance(t);
        continue;
      }
      if (o.maxPartitions !== undefined && taken[t] === 0) {
        // Full: this partition's later candidates cannot be taken either; it leaves the queue.
        if (partitions >= o.maxPartitions) continue;
        taken[t] = 1;
        partitions++;
      }
      queue.advance(t);
      chosen.add(s);
      budget -= s.location.len;
      if (budget <= 0) return false;
    }
    return true;
  };
  if (await take("ingestion")) await take("merges");

  const runs: PlannedRun[] = [];
  // A run that is a single compacted segment would only copy it: not kept.
  const keep = (run: PlannedRun | null): run is PlannedRun =>
    run !== null && !(run.segments.length === 1 && run.segments[0]!.location.store === "c");
  for (let k = 0; k < tails.length; k++) {
    const t = tails[k]!;
    if (slicer.due()) await slicer.pause();
    let run: PlannedRun | null = null;
    // The partition as it is now (read in one go): its chosen segments still there, in offset order.
    const segments = t.p.segments;
    for (let i = t.p.findSegment(t.from); i < segments.length; i++) {
      const s = segments[i]!;
      const picked = chosen.has(s);
      if (run !== null && (!picked || run.bytes + s.location.len > o.maxRunBytes)) {
        if (keep(run)) runs.push(run);
        run = null;
      }
      if (!picked) continue;
      run ??= { topic: t.topic, partition: t.partition, segments: [], bytes: 0 };
      run.segments.push(s);
      run.bytes += s.location.len;
    }
    if (keep(run)) runs.push(run);
  }
  slicer.end();
  return runs;
}

/** Sorts candidates (in offset order) by append time, stably; most lists are in order already. */
function oldestFirst(candidates: Segment[]): void {
  for (let i = 1; i < candidates.length; i++) {
    if (candidates[i]!.appendTime < candidates[i - 1]!.appendTime) {
      candidates.sort((a, b) => a.appendTime - b.appendTime);
      return;
    }
  }
}

/**
 * The tails that still have candidates of one kind, as a binary min-heap keyed by the append time of
 * each tail's next candidate, then by the tail's index: popping gives the candidates of every tail in
 * the order one stable sort of them all would.
 */
class TailQueue {
  private readonly heap: Int32Array;
  private size = 0;
  private readonly next: Int32Array;
  /** Each tail's candidate lists of this kind, and the append time of its next candidate (the heap's key). */
  private readonly lists: Segment[][];
  private readonly times: Float64Array;

  private constructor(tails: readonly Tail[], kind: "ingestion" | "merges") {
    this.heap = new Int32Array(tails.length);
    this.next = new Int32Array(tails.length);
    this.times = new Float64Array(tails.length);
    this.lists = tails.map((tail) => tail[kind]);
  }

  /** The queue of every tail with candidates of `kind`, built in slices (100,000 tails take ~10 ms). */
  static async of(tails: readonly Tail[], kind: "ingestion" | "merges", slicer: TimeSlicer): Promise<TailQueue> {
    const queue = new TailQueue(tails, kind);
    for (let t = 0; t < tails.length; t++) {
      if (slicer.due()) await slicer.pause();
      if (queue.lists[t]!.length === 0) continue;
      queue.times[t] = queue.timeOfNext(t);
      queue.heap[queue.size] = t;
      queue.up(queue.size++);
    }
    return queue;
  }

  /** The tail whose next candidate is the oldest, taken off the queue; -1 when none is left. */
  pop(): number {
    if (this.size === 0) return -1;
    const top = this.heap[0]!;
    this.heap[0] = this.heap[--this.size]!;
    this.down(0);
    return top;
  }

  /** Tail `t`'s next candidate. */
  segment(t: number): Segment {
    return this.lists[t]![this.next[t]!]!;
  }

  /** Moves tail `t` (popped) past its candidate and puts it back if it has more. */
  advance(t: number): void {
    if (++this.next[t]! >= this.lists[t]!.length) return;
    this.times[t] = this.timeOfNext(t);
    this.heap[this.size] = t;
    this.up(this.size++);
  }

  private timeOfNext(t: number): number {
    return this.segment(t).appendTime;
  }

  private before(a: number, b: number): boolean {
    const ta = this.times[a]!;
    const tb = this.times[b]!;
    return ta < tb || (ta === tb && a < b);
  }

  private up(i: number): void {
    const heap = this.heap;
    const t = heap[i]!;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.before(t, heap[parent]!)) break;
      heap[i] = heap[parent]!;
      i = parent;
    }
    heap[i] = t;
  }

  private down(i: number): void {
    const heap = this.heap;
    const t = heap[i]!;
    for (;;) {
      let child = 2 * i + 1;
      if (child >= this.size) break;
      if (child + 1 < this.size && this.before(heap[child + 1]!, heap[child]!)) child++;
      if (!this.before(heap[child]!, t)) break;
      heap[i] = heap[child]!;
      i = child;
    }
    heap[i] = t;
  }
}

/** Segments that are neither ingestion data nor small runs in a row before the scan stops. */
const TAIL_SCAN_SLACK = 16;

/**
 * Where a partition's compaction candidates start. Candidates (ingestion segments, small runs) gather at
 * the tail — older data is already in large runs — so the scan walks back from the end and stops after
 * TAIL_SCAN_SLACK other segments in a row: a pass costs O(tail), not O(retained segments).
 */
function tailStart(segments: readonly Segment[], candidate: (s: Segment) => boolean): number {
  let start = segments.length;
  let misses = 0;
  for (let k = segments.length - 1; k >= 0 && misses < TAIL_SCAN_SLACK; k--) {
    if (candidate(segments[k]!)) {
      start = k;
      misses = 0;
    } else {
      misses++;
    }
  }
  return start;
}
