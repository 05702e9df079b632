/**
 * The durable part of a consumer group: its committed offsets and its coordinator fence. The group
 * coordinator (offsets.ts, membership.ts) validates requests and calls this store; the agent implements
 * it on top of the metadata log (metadata/group-offsets.ts) so every agent sees the same offsets and the
 * same fence. KIP-848 consumer groups' membership is persisted too (consumer-group-record.ts): a new
 * coordinator gets the group's last recorded state with its claim and carries on from it. Classic groups'
 * membership is not: after a coordinator change their members rejoin (as after a Kafka coordinator
 * failover without loaded state), and the generations of the new coordinator continue after the last one
 * recorded.
 *
 * The fence (metadata/group-fence.ts): a coordinator claims a new coordinator epoch before it holds a
 * group, and every write it makes for the group (a generation's assignment, a commit) carries that epoch;
 * a write whose epoch is no longer the latest is refused with NOT_COORDINATOR.
 */
import type { ConsumerGroupRecord } from "./consumer-group-record.js";

export interface CommittedOffset {
  readonly topic: string;
  readonly partition: number;
  /** The next offset the group will consume. */
  readonly offset: bigint;
  /** Leader epoch of the last consumed record, −1 when unknown. */
  readonly leaderEpoch: number;
  readonly metadata: string | null;
  /** Milliseconds since the epoch at which the coordinator accepted the commit. */
  readonly commitTimestamp: bigint;
}

/** A transactional producer committing offsets (TxnOffsetCommit): its transactional id, producer id and epoch. */
export interface TransactionRef {
  readonly transactionalId: string;
  readonly producerId: number;
  readonly producerEpoch: number;
}

/**
 * Who writes: the coordinator epoch the group is held at, and the writing member's generation (−1: none);
 * with `transaction`, offsets held until that producer's transaction ends (TxnOffsetCommit).
 */
export interface GroupWriteFence {
  readonly transaction?: TransactionRef;
  readonly coordinatorEpoch: number;
  readonly generationId: number;
}

/**
 * A coordinator's claim on a group: its epoch, the generation its own generations continue after, and the
 * KIP-848 group's last recorded state (null: none).
 */
export interface GroupClaim {
  readonly coordinatorEpoch: number;
  readonly lastGenerationId: number;
  readonly consumerGroup: ConsumerGroupRecord | null;
}

export interface GroupOffsetStore {
  /**
   * Durably commits offsets (resolves once in the metadata log) with NONE, or refuses them:
   * NOT_COORDINATOR (a newer coordinator epoch exists), ILLEGAL_GENERATION (an older generation).
   */
  commit(groupId: string, offsets: readonly CommittedOffset[], fence: GroupWriteFence): Promise<number>;
  /** Committed offsets of a group, from memory: topic → partition → offset. */
  committed(groupId: string): ReadonlyMap<string, ReadonlyMap<number, CommittedOffset>>;
  /**
   * Partitions (`<partition>:<topic>`) whose offsets a transaction has committed to the group and not
   * ended yet (TxnOffsetCommit; OffsetFetch's requireStable).
   */
  pendingTransactionalOffsets(groupId: string): ReadonlySet<string>;
  /** Group ids with committed offsets (so ListGroups/DescribeGroups show groups known only by offsets, state Empty). */
  groupsWithOffsets(): readonly string[];
  /**
   * Removes every committed offset of a group (DeleteGroups; resolves once in the metadata log) with NONE,
   * or refuses: NOT_COORDINATOR when a newer coordinator epoch than `coordinatorEpoch` exists. The fence
   * stays.
   */
  deleteGroup(groupId: string, coordinatorEpoch: number): Promise<number>;
  /**
   * Removes the committed offsets of some partitions (OffsetDelete; resolves once in the metadata log)
   * with NONE, or refuses: NOT_COORDINATOR when a newer coordinator epoch exists. A group left without
   * offsets is known by none any more.
   */
  deleteOffsets(
    groupId: string,
    partitions: readonly { readonly topic: string; readonly partition: number }[],
    coordinatorEpoch: number,
  ): Promise<number>;
  /** Makes `coordinator` the group's coordinator at a new epoch (resolves once in the metadata log). */
  claimGroup(groupId: string, coordinator: string): Promise<GroupClaim>;
  /** Records that a generation gets its assignment: NONE, or NOT_COORDINATOR when a newer epoch exists. */
  recordGeneration(groupId: string, fence: GroupWriteFence): Promise<number>;
  /**
   * Records a KIP-848 group's state (null: it has no members left), resolving once in the metadata log:
   * NONE, NOT_COORDINATOR when a newer coordinator epoch exists, or UNSUPPORTED_VERSION while an agent
   * that cannot read such records is live (the group then runs from memory only).
   */
  recordConsumerGroup(groupId: string, coordinatorEpoch: number, state: ConsumerGroupRecord | null): Promise<number>;
  /** Whether a KIP-848 group has recorded state (as far as this agent has read the log). */
  hasConsumerGroupRecord(groupId: string): boolean;
  /** Every KIP-848 group's recorded state (as far as this agent has read the log). */
  recordedConsumerGroups(): Iterable<readonly [string, ConsumerGroupRecord]>;
  /** The group's latest coordinator epoch as far as this agent has read the log (0: never claimed). */
  coordinatorEpoch(groupId: string): number;
}
