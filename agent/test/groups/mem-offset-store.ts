/**
 * In-memory GroupOffsetStore for coordinator and handler tests (the agent's real one is on the metadata
 * log). Fences are checked by the fold's own rules (metadata/group-fence.ts).
 */
import { GroupFences } from "../../src/metadata/group-fence.js";
import { partitionKey } from "../../src/metadata/transactions.js";
import type { ConsumerGroupRecord } from "../../src/groups/consumer-group-record.js";
import type { CommittedOffset, GroupClaim, GroupOffsetStore, GroupWriteFence } from "../../src/groups/offset-store.js";
import { ErrorCode } from "../../src/protocol/error-codes.js";

export class MemGroupOffsetStore implements GroupOffsetStore {
  private readonly groups = new Map<string, Map<string, Map<number, CommittedOffset>>>();
  readonly fences = new GroupFences();
  /** Test seams: when set, commit(), claimGroup() or recordGeneration() rejects with it. */
  failCommits: Error | null = null;
  failClaims: Error | null = null;
  failGenerations: Error | null = null;
  /** When set, recordConsumerGroup() rejects with it. */
  failGroupRecords: Error | null = null;
  commits = 0;
  /** TxnOffsetCommit's offsets, held (not applied) as the fold holds them until their transaction ends. */
  readonly transactionalCommits: Array<{
    groupId: string;
    offsets: readonly CommittedOffset[];
    transaction: NonNullable<GroupWriteFence["transaction"]>;
  }> = [];
  /** KIP-848 groups' recorded state, and how many records were written. */
  readonly consumerGroups = new Map<string, ConsumerGroupRecord>();
  groupRecords = 0;

  async commit(groupId: string, offsets: readonly CommittedOffset[], fence: GroupWriteFence): Promise<number> {
    if (this.failCommits) throw this.failCommits;
    const refused = this.fences.admit(groupId, fence.coordinatorEpoch, fence.generationId);
    if (refused !== ErrorCode.NONE) return refused;
    // A transaction's offsets wait for its end, which only the metadata log's fold knows.
    if (fence.transaction) {
      this.transactionalCommits.push({ groupId, offsets, transaction: fence.transaction });
      return ErrorCode.NONE;
    }
    this.commits++;
    let topics = this.groups.get(groupId);
    if (!topics) this.groups.set(groupId, (topics = new Map()));
    for (const o of offsets) {
      let partitions = topics.get(o.topic);
      if (!partitions) topics.set(o.topic, (partitions = new Map()));
      partitions.set(o.partition, o);
    }
    return ErrorCode.NONE;
  }

  committed(groupId: string): ReadonlyMap<string, ReadonlyMap<number, CommittedOffset>> {
    return this.groups.get(groupId) ?? new Map();
  }

  pendingTransactionalOffsets(groupId: string): ReadonlySet<string> {
    return new Set(
      this.transactionalCommits
        .filter((c) => c.groupId === groupId)
        .flatMap((c) => c.offsets.map((o) => partitionKey(o.topic, o.partition))),
    );
  }

  groupsWithOffsets(): readonly string[] {
    return [...this.groups.keys()];
  }

  async deleteGroup(groupId: string, coordinatorEpoch: number): Promise<number> {
    const refused = this.fences.admit(groupId, coordinatorEpoch, -1);
    if (refused !== ErrorCode.NONE) return refused;
    this.groups.delete(groupId);
    return ErrorCode.NONE;
  }

  async deleteOffsets(
    groupId: string,
    partitions: readonly { readonly topic: string; readonly partition: number }[],
    coordinatorEpoch: number,
  ): Promise<number> {
    const refused = this.fences.admit(groupId, coordinatorEpoch, -1);
    if (refused !== ErrorCode.NONE) return refused;
    const topics = this.groups.get(groupId);
    for (const { topic, partition } of partitions) {
      const byPartition = topics?.get(topic);
      if (byPartition?.delete(partition) && byPartition.size === 0) topics!.delete(topic);
    }
    if (topics?.size === 0) this.groups.delete(groupId);
    return ErrorCode.NONE;
  }

  async claimGroup(groupId: string, coordinator: string): Promise<GroupClaim> {
    if (this.failClaims) throw this.failClaims;
    const fence = this.fences.claim(groupId, coordinator);
    return {
      coordinatorEpoch: fence.epoch,
      lastGenerationId: fence.generation,
      consumerGroup: this.consumerGroups.get(groupId) ?? null,
    };
  }

  async recordConsumerGroup(
    groupId: string,
    coordinatorEpoch: number,
    state: ConsumerGroupRecord | null,
  ): Promise<number> {
    if (this.failGroupRecords) throw this.failGroupRecords;
    const refused = this.fences.admit(groupId, coordinatorEpoch, -1);
    if (refused !== ErrorCode.NONE) return refused;
    this.groupRecords++;
    if (state === null) this.consumerGroups.delete(groupId);
    else this.consumerGroups.set(groupId, state);
    return ErrorCode.NONE;
  }

  hasConsumerGroupRecord(groupId: string): boolean {
    return this.consumerGroups.has(groupId);
  }

  recordedConsumerGroups(): Iterable<readonly [string, ConsumerGroupRecord]> {
    return this.consumerGroups;
  }

  async recordGeneration(groupId: string, fence: GroupWriteFence): Promise<number> {
    if (this.failGenerations) throw this.failGenerations;
    return this.fences.admit(groupId, fence.coordinatorEpoch, fence.generationId);
  }

  coordinatorEpoch(groupId: string): number {
    return this.fences.get(groupId)?.epoch ?? 0;
  }
}
