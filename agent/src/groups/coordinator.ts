/**
 * The classic consumer-group coordinator: the one object the wire handlers in agent/src/handlers/ call
 * for JoinGroup/SyncGroup/Heartbeat/LeaveGroup (membership.ts), offset commits and fetches, and the
 * admin calls.
 *
 * Knows nothing of sockets or wire messages: methods take and return plain objects whose fields mirror
 * the wire fields (coordinator-io.ts), so the handlers only translate versions. All state changes
 * happen synchronously inside one call (Node runs one at a time), so no locks are needed; only offset
 * commits and group deletion wait for the GroupOffsetStore.
 *
 * Left out: group membership is not persisted (after a coordinator move or restart members rejoin),
 * transactional offset commits, OffsetDelete, KIP-848 consumer groups, offset retention/expiry.
 */
import { componentLogger, errorMessage, type Logger } from "../../../common/logger.js";
import type { CommittedOffset, GroupOffsetStore } from "./offset-store.js";
import { DEFAULT_GROUP_CONFIG, type GroupCoordinatorConfig } from "./config.js";
import type { Group } from "./group.js";
import type { GroupState } from "./group-state.js";
import {
  EMPTY_BYTES,
  GroupError,
  type DeleteGroupResult,
  type DescribedGroup,
  type FetchedOffset,
  type FetchedTopicOffsets,
  type HeartbeatInput,
  type JoinGroupInput,
  type JoinGroupResult,
  type LeaveGroupResult,
  type LeavingMember,
  type ListedGroup,
  type ListGroupsFilter,
  type OffsetCommitInput,
  type OffsetFetchResult,
  type SyncGroupInput,
  type SyncGroupResult,
} from "./coordinator-io.js";
import { GroupMembership } from "./membership.js";
import { realTimers, type TimerSeam } from "./timer.js";

export { DEFAULT_GROUP_CONFIG, type GroupCoordinatorConfig } from "./config.js";
export { GROUP_STATES, type GroupState } from "./group-state.js";
export {
  GroupError,
  type DeleteGroupResult,
  type DescribedGroup,
  type DescribedMember,
  type FetchedOffset,
  type FetchedTopicOffsets,
  type GroupProtocol,
  type HeartbeatInput,
  type JoinGroupInput,
  type JoinGroupMember,
  type JoinGroupResult,
  type LeaveGroupResult,
  type LeavingMember,
  type ListedGroup,
  type ListGroupsFilter,
  type OffsetCommitInput,
  type OffsetFetchResult,
  type OffsetToCommit,
  type SyncGroupInput,
  type SyncGroupResult,
} from "./coordinator-io.js";

export interface GroupCoordinatorOptions extends Partial<GroupCoordinatorConfig> {
  readonly offsets: GroupOffsetStore;
  /** Clock and timers; real timers by default. */
  readonly timers?: TimerSeam;
  readonly log?: Logger;
}

export class GroupCoordinator {
  readonly config: GroupCoordinatorConfig;
  private readonly offsets: GroupOffsetStore;
  private readonly timers: TimerSeam;
  private readonly log: Logger;
  private readonly membership: GroupMembership;

  constructor(options: GroupCoordinatorOptions) {
    this.config = {
      minSessionTimeoutMs: options.minSessionTimeoutMs ?? DEFAULT_GROUP_CONFIG.minSessionTimeoutMs,
      maxSessionTimeoutMs: options.maxSessionTimeoutMs ?? DEFAULT_GROUP_CONFIG.maxSessionTimeoutMs,
      initialRebalanceDelayMs: options.initialRebalanceDelayMs ?? DEFAULT_GROUP_CONFIG.initialRebalanceDelayMs,
      maxGroupSize: options.maxGroupSize ?? DEFAULT_GROUP_CONFIG.maxGroupSize,
      newMemberJoinTimeoutMs: options.newMemberJoinTimeoutMs ?? DEFAULT_GROUP_CONFIG.newMemberJoinTimeoutMs,
    };
    this.offsets = options.offsets;
    this.timers = options.timers ?? realTimers;
    this.log = options.log ?? componentLogger("groups");
    this.membership = new GroupMembership(this.config, this.timers, this.log);
  }

  // ------------------------------------------------------------ membership

  joinGroup(input: JoinGroupInput): Promise<JoinGroupResult> {
    return this.membership.joinGroup(input);
  }

  syncGroup(input: SyncGroupInput): Promise<SyncGroupResult> {
    return this.membership.syncGroup(input);
  }

  /** Returns the error code for the Heartbeat response. */
  heartbeat(input: HeartbeatInput): number {
    return this.membership.heartbeat(input);
  }

  leaveGroup(groupId: string, leaving: readonly LeavingMember[]): LeaveGroupResult {
    return this.membership.leaveGroup(groupId, leaving);
  }

  /**
   * Forgets groups this agent no longer coordinates (the coordinator moved to another agent): their
   * waiting JoinGroup/SyncGroup requests are answered NOT_COORDINATOR so the clients look it up again.
   */
  unloadGroups(shouldUnload: (groupId: string) => boolean): void {
    this.membership.unloadGroups(shouldUnload);
  }

  /** Group ids held in memory (membership state), for metrics and tests. */
  groupIds(): string[] {
    return this.membership.groupIds();
  }

  /** Cancels every timer and answers waiting requests with COORDINATOR_NOT_AVAILABLE. */
  close(): void {
    this.membership.close();
  }

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
      if (input.generationId >= 0) return GroupError.ILLEGAL_GENERATION;
      group = this.membership.addGroup(input.groupId);
    }
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
      await this.offsets.commit(input.groupId, offsets);
      return GroupError.NONE;
    } catch (err) {
      this.log.warn("offset commit failed", { groupId: input.groupId, error: errorMessage(err) });
      return GroupError.COORDINATOR_NOT_AVAILABLE;
    }
  }

  private validateOffsetCommit(group: Group, input: OffsetCommitInput): number | null {
    if (group.is("Dead")) return GroupError.COORDINATOR_NOT_AVAILABLE;
    if (input.generationId < 0 && group.is("Empty")) return null;
    if (input.generationId >= 0 || input.memberId !== "" || input.groupInstanceId !== null) {
      const error = this.membership.validateCurrentMember(group, input.memberId, input.groupInstanceId);
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

  // ------------------------------------------------------------ admin calls

  describeGroups(groupIds: readonly string[]): DescribedGroup[] {
    return groupIds.map((groupId) => this.describeGroup(groupId));
  }

  private describeGroup(groupId: string): DescribedGroup {
    if (this.membership.isClosed)
      return {
        groupId,
        errorCode: GroupError.COORDINATOR_NOT_AVAILABLE,
        state: "Dead",
        protocolType: "",
        protocolData: "",
        members: [],
      };
    const group = this.membership.group(groupId);
    if (!group) {
      const known = this.offsets.committed(groupId).size > 0;
      return {
        groupId,
        errorCode: GroupError.NONE,
        state: known ? "Empty" : "Dead",
        protocolType: "",
        protocolData: "",
        members: [],
      };
    }
    const stable = group.is("Stable") && group.protocolName !== null;
    const protocol = group.protocolName ?? "";
    return {
      groupId,
      errorCode: GroupError.NONE,
      state: group.state,
      protocolType: group.protocolType ?? "",
      protocolData: stable ? protocol : "",
      members: [...group.members.values()].map((m) => ({
        memberId: m.memberId,
        groupInstanceId: m.groupInstanceId,
        clientId: m.clientId,
        clientHost: m.clientHost,
        metadata: stable ? m.metadataFor(protocol) : EMPTY_BYTES,
        assignment: stable ? m.assignment : EMPTY_BYTES,
      })),
    };
  }

  /** Groups this coordinator holds in memory plus groups known only by committed offsets (Empty). */
  listGroups(filter: ListGroupsFilter = {}): ListedGroup[] {
    if (this.membership.isClosed) return [];
    const states = new Set((filter.states ?? []).map((s) => s.toLowerCase()));
    const types = new Set((filter.types ?? []).map((s) => s.toLowerCase()));
    if (types.size > 0 && !types.has("classic")) return [];
    const listed = new Map<string, ListedGroup>();
    for (const groupId of this.offsets.groupsWithOffsets())
      listed.set(groupId, { groupId, protocolType: "", state: "Empty", groupType: "classic" });
    for (const group of this.membership.groupsInMemory()) {
      if (group.is("Dead")) continue;
      listed.set(group.groupId, {
        groupId: group.groupId,
        protocolType: group.protocolType ?? "",
        state: group.state,
        groupType: "classic",
      });
    }
    return [...listed.values()]
      .filter((g) => states.size === 0 || states.has(g.state.toLowerCase()))
      .sort((a, b) => (a.groupId < b.groupId ? -1 : a.groupId > b.groupId ? 1 : 0));
  }

  /** Deletes Empty groups and their offsets; NON_EMPTY_GROUP for groups with members, GROUP_ID_NOT_FOUND for unknown ones. */
  async deleteGroups(groupIds: readonly string[]): Promise<DeleteGroupResult[]> {
    const results: DeleteGroupResult[] = [];
    for (const groupId of groupIds) {
      if (this.membership.isClosed) {
        results.push({ groupId, errorCode: GroupError.COORDINATOR_NOT_AVAILABLE });
        continue;
      }
      const group = this.membership.group(groupId);
      const hasOffsets = this.offsets.committed(groupId).size > 0 || this.offsets.groupsWithOffsets().includes(groupId);
      if (group && !group.is("Empty") && !group.is("Dead")) {
        results.push({ groupId, errorCode: GroupError.NON_EMPTY_GROUP });
        continue;
      }
      if (!group && !hasOffsets) {
        results.push({ groupId, errorCode: GroupError.GROUP_ID_NOT_FOUND });
        continue;
      }
      if (group) this.membership.dropGroup(group);
      try {
        if (hasOffsets) await this.offsets.deleteGroup(groupId);
        this.log.info("group deleted", { groupId });
        results.push({ groupId, errorCode: GroupError.NONE });
      } catch (err) {
        this.log.warn("group deletion failed", { groupId, error: errorMessage(err) });
        results.push({ groupId, errorCode: GroupError.COORDINATOR_NOT_AVAILABLE });
      }
    }
    return results;
  }

  /** The state of a group as DescribeGroups would report it. */
  groupState(groupId: string): GroupState {
    return this.describeGroup(groupId).state;
  }
}
