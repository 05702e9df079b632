/**
 * Committed consumer-group offsets: the durable part of a consumer group. The group coordinator
 * (offsets.ts) validates commits and calls this store; the agent implements it on top of the
 * metadata log so every agent sees the same offsets. Group membership itself is not persisted: after a
 * coordinator change, members rejoin (as after a Kafka coordinator failover without loaded state).
 */

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

export interface GroupOffsetStore {
  /** Durably commits offsets (resolves once in the metadata log). */
  commit(groupId: string, offsets: readonly CommittedOffset[]): Promise<void>;
  /** Committed offsets of a group, from memory: topic → partition → offset. */
  committed(groupId: string): ReadonlyMap<string, ReadonlyMap<number, CommittedOffset>>;
  /** Group ids with committed offsets (so ListGroups/DescribeGroups show groups known only by offsets, state Empty). */
  groupsWithOffsets(): readonly string[];
  /** Removes every committed offset of a group (DeleteGroups). */
  deleteGroup(groupId: string): Promise<void>;
}
