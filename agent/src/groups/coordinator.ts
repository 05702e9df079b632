/**
 * The classic consumer-group coordinator: the one object the wire handlers in agent/src/handlers/ call
 * for JoinGroup/SyncGroup/Heartbeat/LeaveGroup (membership.ts), offset commits and fetches (offsets.ts), and the
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
import type { GroupOffsetStore } from "./offset-store.js";
import { DEFAULT_GROUP_CONFIG, type GroupCoordinatorConfig } from "./config.js";
import type { GroupState } from "./group-state.js";
import {
  EMPTY_BYTES,
  GroupError,
  type DeleteGroupResult,
  type DescribedGroup,
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
import { GroupOffsets } from "./offsets.js";
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
  private readonly groupOffsets: GroupOffsets;

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
    this.groupOffsets = new GroupOffsets(this.offsets, this.membership, this.timers, this.log);
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

  // ---------------------------------------------------------------- offsets

  /**
   * Validates and durably commits offsets; the error code applies to every offset of the request.
   * Per-partition checks (unknown topic, metadata size) belong to the caller.
   */
  commitOffsets(input: OffsetCommitInput): Promise<number> {
    return this.groupOffsets.commitOffsets(input);
  }

  /** Committed offsets; `topics` null = every committed partition. Unknown groups have none (−1). */
  fetchOffsets(
    groupId: string,
    topics: readonly { readonly topic: string; readonly partitions: readonly number[] }[] | null,
  ): OffsetFetchResult {
    return this.groupOffsets.fetchOffsets(groupId, topics);
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
