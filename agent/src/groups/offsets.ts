/**
 * Offset commits, fetches and deletions: a commit is checked against the group's membership and
 * generation, then written to the GroupOffsetStore with the group's coordinator epoch and the member's
 * generation, which the store checks again against the latest epoch (offset-store.ts); fetches read the
 * store; a deletion (OffsetDelete) is checked against the group's state and subscriptions, then written
 * with the coordinator epoch like a commit.
 */
import { errorMessage, type Logger } from "../../../common/logger.js";
import { CONSUMER_PROTOCOL_TYPE, subscribedTopics } from "./consumer-protocol.js";
import {
  GroupError,
  type FetchedOffset,
  type FetchedTopicOffsets,
  type OffsetCommitInput,
  type OffsetDeletePartition,
  type OffsetDeleteResult,
  type OffsetFetchResult,
} from "./coordinator-io.js";
import type { Group } from "./group.js";
import type { GroupMembership } from "./membership.js";
import type { CommittedOffset, GroupOffsetStore, GroupWriteFence } from "./offset-store.js";
import type { TimerSeam } from "./timer.js";

export class GroupOffsets {
  constructor(
    private readonly offsets: GroupOffsetStore,
    private readonly membership: GroupMembership,
    private readonly timers: TimerSeam,
    private readonly log: Logger,
  ) {}

  // ------------------------------------------------------------- OffsetCommit

  /**
   * Validates and durably commits offsets; the error code applies to every offset of the request.
   * Per-partition checks (unknown topic, metadata size) belong to the caller.
   */
  async commitOffsets(input: OffsetCommitInput): Promise<number> {
    if (this.membership.isClosed) return GroupError.COORDINATOR_NOT_AVAILABLE;
    let group = this.membership.group(input.groupId);
    if (!group) {
      // An unknown group with generation ≥ 0 means a stale member; −1 creates a "simple" group.
      if (input.generationId >= 0)
        return this.membership.unknownGroupError(input.groupId, input.memberId, GroupError.ILLEGAL_GENERATION);
      group = await this.membership.loadGroupOrWarn(input.groupId);
      if (!group) return GroupError.COORDINATOR_NOT_AVAILABLE;
    }
    if (this.membership.dropIfFenced(group, input.memberId)) return GroupError.NOT_COORDINATOR;
    const error = this.validateOffsetCommit(group, input);
    if (error !== null) return error;
    switch (group.state) {
      case "Empty":
        break;
      case "Stable":
      case "PreparingRebalance": {
        // A commit counts as a sign of life; the rebalance is signalled through Heartbeat.
        const member = group.members.get(input.memberId);
        if (member) this.membership.scheduleExpiration(group, member, member.sessionTimeoutMs);
        break;
      }
      case "CompletingRebalance":
        return GroupError.REBALANCE_IN_PROGRESS;
      case "Dead":
        return GroupError.COORDINATOR_NOT_AVAILABLE;
    }
    const errorCode = await this.write(input, {
      coordinatorEpoch: group.coordinatorEpoch,
      generationId: input.generationId,
    });
    // Refused for an older epoch: another coordinator has the group now.
    if (errorCode === GroupError.NOT_COORDINATOR) this.membership.dropIfFenced(group, input.memberId);
    return errorCode;
  }

  /**
   * Writes offsets already validated against their group (a classic group above, a KIP-848 group in
   * coordinator.ts) under the given fence: NONE, or the store's refusal.
   */
  async write(input: OffsetCommitInput, fence: GroupWriteFence): Promise<number> {
    if (input.offsets.length === 0) return GroupError.NONE;
    const commitTimestamp = BigInt(Math.floor(this.timers.now()));
    const offsets: CommittedOffset[] = input.offsets.map((o) => ({
      topic: o.topic,
      partition: o.partition,
      offset: o.offset,
      leaderEpoch: o.leaderEpoch,
      metadata: o.metadata,
      commitTimestamp,
    }));
    try {
      return await this.offsets.commit(
        input.groupId,
        offsets,
        input.transaction ? { ...fence, transaction: input.transaction } : fence,
      );
    } catch (err) {
      this.log.warn("offset commit failed", { groupId: input.groupId, error: errorMessage(err) });
      return GroupError.COORDINATOR_NOT_AVAILABLE;
    }
  }

  private validateOffsetCommit(group: Group, input: OffsetCommitInput): number | null {
    if (group.is("Dead")) return GroupError.COORDINATOR_NOT_AVAILABLE;
    if (input.generationId < 0 && group.is("Empty")) return null;
    if (input.generationId >= 0 || input.memberId !== "" || input.groupInstanceId !== null) {
      const error = group.validateCurrentMember(input.memberId, input.groupInstanceId);
      if (error !== null) return error;
      return input.generationId !== group.generationId ? GroupError.ILLEGAL_GENERATION : null;
    }
    // A simple commit while the group has members.
    return group.is("Empty") ? null : GroupError.UNKNOWN_MEMBER_ID;
  }

  // -------------------------------------------------------------- OffsetFetch

  /** Committed offsets; `topics` null = every committed partition. Unknown groups have none (−1). */
  fetchOffsets(
    groupId: string,
    topics: readonly { readonly topic: string; readonly partitions: readonly number[] }[] | null,
  ): OffsetFetchResult {
    if (this.membership.isClosed) return { errorCode: GroupError.COORDINATOR_NOT_AVAILABLE, topics: [] };
    const committed = this.offsets.committed(groupId);
    const toFetched = (partition: number, c: CommittedOffset | undefined): FetchedOffset =>
      c
        ? { partition, offset: c.offset, leaderEpoch: c.leaderEpoch, metadata: c.metadata, errorCode: GroupError.NONE }
        : { partition, offset: -1n, leaderEpoch: -1, metadata: "", errorCode: GroupError.NONE };
    if (topics === null) {
      const all: FetchedTopicOffsets[] = [];
      for (const [topic, partitions] of committed) {
        const list = [...partitions.values()]
          .sort((a, b) => a.partition - b.partition)
          .map((c) => toFetched(c.partition, c));
        if (list.length > 0) all.push({ topic, partitions: list });
      }
      all.sort((a, b) => (a.topic < b.topic ? -1 : a.topic > b.topic ? 1 : 0));
      return { errorCode: GroupError.NONE, topics: all };
    }
    return {
      errorCode: GroupError.NONE,
      topics: topics.map((t) => ({
        topic: t.topic,
        partitions: t.partitions.map((p) => toFetched(p, committed.get(t.topic)?.get(p))),
      })),
    };
  }

  // ------------------------------------------------------------- OffsetDelete

  /**
   * Deletes committed offsets, with Kafka's rules: GROUP_ID_NOT_FOUND for a group with neither members
   * nor offsets; NON_EMPTY_GROUP for a group with members that does not use the consumer protocol (its
   * subscriptions cannot be read); per partition GROUP_SUBSCRIBED_TO_TOPIC while a member of the group
   * is subscribed to the topic (or the subscriptions cannot be told, Kafka's safe answer), else NONE,
   * whether or not an offset was committed. The deletion is durable in the metadata log, under the
   * coordinator epoch, before the answer. An Empty group left with no offsets is forgotten, as Kafka's
   * coordinator removes it.
   */
  async deleteOffsets(groupId: string, partitions: readonly OffsetDeletePartition[]): Promise<OffsetDeleteResult> {
    const failed = (errorCode: number): OffsetDeleteResult => ({ errorCode, partitions: [] });
    if (this.membership.isClosed) return failed(GroupError.COORDINATOR_NOT_AVAILABLE);
    let group = this.membership.group(groupId);
    if (!group) {
      if (this.offsets.committed(groupId).size === 0) return failed(GroupError.GROUP_ID_NOT_FOUND);
      // Known only by its offsets: claim it, so that a coordinator holding it with members is fenced.
      group = await this.membership.loadGroupOrWarn(groupId);
      if (!group) return failed(GroupError.COORDINATOR_NOT_AVAILABLE);
    }
    if (this.membership.dropIfFenced(group)) return failed(GroupError.NOT_COORDINATOR);
    if (group.is("Dead")) return failed(GroupError.GROUP_ID_NOT_FOUND);
    const empty = group.is("Empty");
    if (!empty && group.protocolType !== CONSUMER_PROTOCOL_TYPE) return failed(GroupError.NON_EMPTY_GROUP);
    const subscribed = empty ? new Set<string>() : subscribedTopics(group);
    if (subscribed === null && group.protocolName !== null)
      this.log.warn("a member's subscription cannot be read: every topic counts as subscribed", {
        groupId,
        protocol: group.protocolName,
      });
    const results = partitions.map((p) => ({
      topic: p.topic,
      partition: p.partition,
      errorCode:
        subscribed === null || subscribed.has(p.topic) ? GroupError.GROUP_SUBSCRIBED_TO_TOPIC : GroupError.NONE,
    }));
    // Every partition not refused goes to the log: the fold deletes whatever is committed when it applies.
    const doomed = results.filter((r) => r.errorCode === GroupError.NONE);
    if (doomed.length > 0) {
      let errorCode: number;
      try {
        errorCode = await this.offsets.deleteOffsets(
          groupId,
          doomed.map((r) => ({ topic: r.topic, partition: r.partition })),
          group.coordinatorEpoch,
        );
      } catch (err) {
        this.log.warn("offset deletion failed", { groupId, error: errorMessage(err) });
        return failed(GroupError.COORDINATOR_NOT_AVAILABLE);
      }
      if (errorCode === GroupError.NOT_COORDINATOR) this.membership.dropIfFenced(group);
      if (errorCode !== GroupError.NONE) return failed(errorCode);
      this.log.info("committed offsets deleted", { groupId, partitions: doomed.length });
    }
    if (
      group.is("Empty") &&
      group.members.size === 0 &&
      group.pendingMembers.size === 0 &&
      this.offsets.committed(groupId).size === 0
    )
      this.membership.dropGroup(group);
    return { errorCode: GroupError.NONE, partitions: results };
  }
}
