/**
 * The classic consumer-group coordinator: the one object the wire handlers in agent/src/handlers/ call.
 * A facade over the parts in this folder:
 *   membership.ts      JoinGroup/SyncGroup/Heartbeat/LeaveGroup: rebalances, generations, sessions
 *   offsets.ts         OffsetCommit/OffsetFetch/OffsetDelete over the GroupOffsetStore (offset-store.ts)
 *   consumer-protocol.ts  the subscribed topics of "consumer" groups (for OffsetDelete)
 *   admin.ts           DescribeGroups/ListGroups/DeleteGroups
 *   group.ts           one group and its members in memory
 *   group-state.ts     the group states and the transitions between them
 *   coordinator-io.ts  the plain inputs and results exchanged with the handlers
 *   config.ts          settings, with Kafka's defaults
 *   timer.ts           the clock and timers (a seam for tests)
 *
 * Knows nothing of sockets or wire messages: methods take and return plain objects whose fields mirror
 * the wire fields, so the handlers only translate versions. All state changes happen synchronously
 * inside one call (Node runs one at a time), so no locks are needed; only offset commits, group
 * deletion, the claim of a group's coordinator epoch and the record of a generation wait for the
 * GroupOffsetStore.
 *
 * Agents pick a group's coordinator from their own cluster view, so two may coordinate one group while
 * their views disagree. The coordinator epoch in the metadata log fences the older one (offset-store.ts,
 * metadata/group-fence.ts): it can no longer commit or hand out assignments, and drops the group.
 *
 * Left out: group membership is not persisted (after a coordinator move or restart members rejoin),
 * transactional offset commits, KIP-848 consumer groups. Offset expiry is the fold's (metadata/expiry.ts).
 */
import { randomUUID } from "node:crypto";
import { componentLogger, type Logger } from "../../../common/logger.js";
import { GroupAdmin } from "./admin.js";
import { DEFAULT_GROUP_CONFIG, type GroupCoordinatorConfig } from "./config.js";
import type {
  DeleteGroupResult,
  DescribedGroup,
  HeartbeatInput,
  JoinGroupInput,
  JoinGroupResult,
  LeaveGroupResult,
  LeavingMember,
  ListedGroup,
  ListGroupsFilter,
  OffsetCommitInput,
  OffsetDeletePartition,
  OffsetDeleteResult,
  OffsetFetchResult,
  SyncGroupInput,
  SyncGroupResult,
} from "./coordinator-io.js";
import type { GroupState } from "./group-state.js";
import { GroupMembership } from "./membership.js";
import type { GroupOffsetStore } from "./offset-store.js";
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
  type OffsetDeletePartition,
  type OffsetDeleteResult,
  type OffsetFetchResult,
  type OffsetToCommit,
  type SyncGroupInput,
  type SyncGroupResult,
} from "./coordinator-io.js";

export interface GroupCoordinatorOptions extends Partial<GroupCoordinatorConfig> {
  readonly offsets: GroupOffsetStore;
  /** Names this coordinator in the coordinator epochs it claims; a random id by default. */
  readonly coordinatorId?: string;
  /** Clock and timers; real timers by default. */
  readonly timers?: TimerSeam;
  readonly log?: Logger;
}

export class GroupCoordinator {
  readonly config: GroupCoordinatorConfig;
  private readonly membership: GroupMembership;
  private readonly groupOffsets: GroupOffsets;
  private readonly admin: GroupAdmin;

  constructor(options: GroupCoordinatorOptions) {
    this.config = {
      minSessionTimeoutMs: options.minSessionTimeoutMs ?? DEFAULT_GROUP_CONFIG.minSessionTimeoutMs,
      maxSessionTimeoutMs: options.maxSessionTimeoutMs ?? DEFAULT_GROUP_CONFIG.maxSessionTimeoutMs,
      initialRebalanceDelayMs: options.initialRebalanceDelayMs ?? DEFAULT_GROUP_CONFIG.initialRebalanceDelayMs,
      maxGroupSize: options.maxGroupSize ?? DEFAULT_GROUP_CONFIG.maxGroupSize,
      newMemberJoinTimeoutMs: options.newMemberJoinTimeoutMs ?? DEFAULT_GROUP_CONFIG.newMemberJoinTimeoutMs,
    };
    const timers = options.timers ?? realTimers;
    const log = options.log ?? componentLogger("groups");
    this.membership = new GroupMembership(
      this.config,
      timers,
      log,
      options.offsets,
      options.coordinatorId ?? randomUUID(),
    );
    this.groupOffsets = new GroupOffsets(options.offsets, this.membership, timers, log);
    this.admin = new GroupAdmin(options.offsets, this.membership, log);
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

  /**
   * Drops the group if another coordinator has claimed a newer coordinator epoch for it (call when the
   * metadata log records a claim); its waiting requests are answered NOT_COORDINATOR.
   */
  dropIfFenced(groupId: string): void {
    const group = this.membership.group(groupId);
    if (group) this.membership.dropIfFenced(group);
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

  /**
   * Deletes committed offsets of partitions the group does not consume (OffsetDelete): a group-level
   * error, or one code per partition (NONE or GROUP_SUBSCRIBED_TO_TOPIC). See offsets.ts.
   */
  deleteOffsets(groupId: string, partitions: readonly OffsetDeletePartition[]): Promise<OffsetDeleteResult> {
    return this.groupOffsets.deleteOffsets(groupId, partitions);
  }

  // ------------------------------------------------------------ admin calls

  describeGroups(groupIds: readonly string[]): DescribedGroup[] {
    return this.admin.describeGroups(groupIds);
  }

  /** Groups this coordinator holds in memory plus groups known only by committed offsets (Empty). */
  listGroups(filter: ListGroupsFilter = {}): ListedGroup[] {
    return this.admin.listGroups(filter);
  }

  /**
   * Deletes Empty groups and their offsets; NON_EMPTY_GROUP for groups with members, GROUP_ID_NOT_FOUND
   * for unknown ones.
   */
  deleteGroups(groupIds: readonly string[]): Promise<DeleteGroupResult[]> {
    return this.admin.deleteGroups(groupIds);
  }

  /** The state of a group as DescribeGroups would report it. */
  groupState(groupId: string): GroupState {
    return this.admin.groupState(groupId);
  }
}
