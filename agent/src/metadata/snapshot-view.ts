/**
 * What a metadata snapshot holds: the fold's state (state.ts) at one applied index, as plain data.
 * Decoding a snapshot gives a view, which the state is rebuilt from (ClusterState.fromView), whatever the
 * snapshot's format; encoding takes one.
 *
 * A live state's view is captured in a short synchronous pass (ClusterState.captureSnapshot) and its
 * partitions are resolved later, while a codec encodes them in slices: the fold goes on meanwhile, and
 * saves a partition's captured state before it first changes it (copy on write). So `partition(i)` of a
 * captured view is the partition as it was at the captured index, whenever it is asked.
 *
 * A view shares what the fold never mutates in place (segments, configs objects, offset-commit entries,
 * consumer-group records) and copies the rest.
 */
import type { AclRow } from "./acls.js";
import type { OffsetCommitEntry } from "./commands.js";
import type { GroupFenceRow } from "./group-fence.js";
import type { ScramUserRow } from "./scram-credentials.js";
import type { TopicNumberRow } from "./topic-numbers.js";
import type { TransactionRows } from "./transactions.js";
import type { ProducerBatch, Segment } from "./state.js";
import type { ConsumerGroupRecord } from "../groups/consumer-group-record.js";

/** One idempotent producer's state on one partition. */
export interface SnapshotProducer {
  readonly producerId: number;
  readonly epoch: number;
  /** Up to its last five batches, oldest first. */
  readonly batches: readonly ProducerBatch[];
  /** Log time of its last batch (expiry.ts); 0 while unknown. */
  readonly time: number;
  /** Max timestamp of its last batch; −1 while unknown. */
  readonly lastTimestamp: number;
}

export interface SnapshotPartition {
  readonly next: number;
  readonly start: number;
  readonly bytes: number;
  readonly segments: readonly Segment[];
  readonly producers: readonly SnapshotProducer[];
}

export interface SnapshotTopic {
  readonly name: string;
  readonly topicId: string;
  readonly configs: Readonly<Record<string, string>>;
  readonly partitionCount: number;
  /**
   * Partition `i` (0 ≤ i < partitionCount) as it was at the view's index. With `readNow`, the caller reads
   * it before it next yields to the event loop, and does not ask for it again after that: its arrays may
   * then be the live state's, not copies, and a captured view keeps no copy of it for later.
   */
  partition(i: number, readNow?: boolean): SnapshotPartition;
}

/** A topic of a decoded snapshot: its partitions in an array. */
export function topicOf(
  fields: Pick<SnapshotTopic, "name" | "topicId" | "configs">,
  partitions: readonly SnapshotPartition[],
): SnapshotTopic {
  return { ...fields, partitionCount: partitions.length, partition: (i) => partitions[i]! };
}

/** A topic's partitions, in order. */
export function partitionsOf(topic: SnapshotTopic): SnapshotPartition[] {
  return Array.from({ length: topic.partitionCount }, (_, i) => topic.partition(i));
}

/** A group's committed offsets and the log time of its last commit (0 while unknown). */
export interface SnapshotGroup {
  readonly group: string;
  readonly offsets: readonly OffsetCommitEntry[];
  readonly time: number;
}

export interface SnapshotView {
  /** The index of the last entry the state folded. */
  readonly applied: bigint;
  readonly nextProducerId: number;
  readonly logTime: number;
  readonly topics: readonly SnapshotTopic[];
  readonly groups: readonly SnapshotGroup[];
  readonly fences: readonly GroupFenceRow[];
  readonly acls: readonly AclRow[];
  /** Validated when the state is rebuilt (scram-credentials.ts restore), as are ACL rows and groups' records. */
  readonly scram: readonly ScramUserRow[];
  readonly cgroups: readonly (readonly [string, ConsumerGroupRecord])[];
  /**
   * Every topic number given (deleted topics' included), in number order: row n is number n, and their
   * count the next number. Empty in snapshots before format 6; a view with rows is written only in
   * format 6, which agents that would drop them refuse (snapshot-codec.ts).
   */
  readonly topicNumbers: readonly TopicNumberRow[];
  /**
   * Transactional ids and their transactions (transactions.ts rows). Empty in snapshots before format 7;
   * a view holding any is written only in format 7, which agents that would drop them refuse.
   */
  readonly transactions: TransactionRows;
  /**
   * Index page segments the view holds (Segment.page): none in snapshots before format 9; a view holding
   * any is written only in format 9, which older agents refuse.
   */
  readonly pages: number;
}

/** Whether a view holds transaction state (and so needs snapshot format 7). */
export function holdsTransactions(view: Pick<SnapshotView, "transactions">): boolean {
  const t = view.transactions;
  return t.transactions.length > 0 || t.ongoing.length > 0 || t.aborted.length > 0 || t.pendingOffsets.length > 0;
}
