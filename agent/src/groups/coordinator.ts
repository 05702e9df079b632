/**
 * The consumer-group coordinator: the one object the wire handlers in agent/src/handlers/ call, for
 * classic groups (JoinGroup/SyncGroup/Heartbeat/LeaveGroup) and KIP-848 consumer groups
 * (ConsumerGroupHeartbeat/ConsumerGroupDescribe) side by side. A facade over the parts in this folder:
 *
 *   classic groups
 *   membership.ts      JoinGroup/SyncGroup/Heartbeat/LeaveGroup: rebalances, generations, sessions
 *   group.ts           one classic group and its members in memory
 *   group-state.ts     the classic group states and the transitions between them
 *   consumer-protocol.ts  the subscribed topics of classic "consumer" groups (for OffsetDelete)
 *
 *   KIP-848 consumer groups
 *   consumer-groups.ts    ConsumerGroupHeartbeat/ConsumerGroupDescribe: epochs, target assignment, timers
 *   consumer-group.ts     one consumer group and its members in memory; who holds each partition
 *   reconciliation.ts     moving one member towards its target (revocation before reassignment)
 *   assignors/            the server-side assignors: uniform (default) and range
 *   subscription-regex.ts server-side regular-expression subscriptions
 *   consumer-group-recorder.ts  recording a group in the metadata log, and restoring it from there
 *   consumer-group-record.ts    the recorded form of a group (and its validation, for the fold)
 *   partitions.ts         sets of topic partitions (topic id → partitions)
 *   consumer-io.ts        the plain inputs and results of the KIP-848 calls
 *
 *   online migration between the two
 *   migration.ts          classic group → consumer group (upgrade) and back (downgrade)
 *   classic-members.ts    JoinGroup/SyncGroup/Heartbeat/LeaveGroup of classic members inside a consumer group
 *
 *   both
 *   offsets.ts         OffsetCommit/OffsetFetch/OffsetDelete over the GroupOffsetStore (offset-store.ts)
 *   admin.ts           DescribeGroups/ListGroups/DeleteGroups (classic groups; consumer groups added here)
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
 * A group id is held by one kind of group at a time, and a live group moves between the kinds online, as
 * Kafka 4.x does with group.consumer.migration.policy=bidirectional (its default; fixed here): a
 * ConsumerGroupHeartbeat joining a live classic group of protocol type "consumer" converts it into a
 * consumer group (migration.ts), whose classic members keep speaking JoinGroup/SyncGroup/Heartbeat/
 * LeaveGroup (classic-members.ts; the classic calls below route there whenever a consumer group holds the
 * id); when the last consumer-protocol member goes, the classic members left get a classic group back.
 * Groups of other protocol types (Connect, ...) are not converted: ConsumerGroupHeartbeat and
 * ConsumerGroupDescribe for them answer GROUP_ID_NOT_FOUND ("not a consumer group"), and their JoinGroup
 * for an id a non-empty consumer group holds is refused INCONSISTENT_GROUP_PROTOCOL. An empty group of
 * either kind is taken over by the other protocol.
 *
 * Agents pick a group's coordinator from their own cluster view, so two may coordinate one group while
 * their views disagree. The coordinator epoch in the metadata log fences the older one (offset-store.ts,
 * metadata/group-fence.ts): it can no longer commit or hand out assignments, and drops the group.
 *
 * KIP-848 groups are durable (consumer-group-recorder.ts): a coordinator that takes a group over starts
 * from its last record in the metadata log, so members carry on. Left out: classic groups' membership is
 * not persisted (after a coordinator move or restart their members rejoin), transactional offset commits, share groups (KIP-932). Offset expiry is the fold's
 * (metadata/expiry.ts).
 */
import { randomUUID } from "node:crypto";
import { componentLogger, errorMessage, type Logger } from "../../../common/logger.js";
import { GroupAdmin } from "./admin.js";
import { ClassicMembers } from "./classic-members.js";
import { DEFAULT_GROUP_CONFIG, type GroupCoordinatorConfig } from "./config.js";
import {
  NO_TOPICS,
  type ConsumerHeartbeatInput,
  type ConsumerHeartbeatResult,
  type DescribedConsumerGroup,
  type TopicView,
} from "./consumer-io.js";
import type { ConsumerGroup, ConsumerMember } from "./consumer-group.js";
import { ConsumerGroups } from "./consumer-groups.js";
import {
  GroupError,
  joinError,
  syncError,
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
  type OffsetDeletePartition,
  type OffsetDeleteResult,
  type OffsetFetchResult,
  type SyncGroupInput,
  type SyncGroupResult,
} from "./coordinator-io.js";
import type { GroupState } from "./group-state.js";
import { GroupMembership } from "./membership.js";
import { GroupMigration } from "./migration.js";
import type { GroupOffsetStore } from "./offset-store.js";
import { GroupOffsets } from "./offsets.js";
import { realTimers, type TimerSeam } from "./timer.js";

export { DEFAULT_GROUP_CONFIG, type GroupCoordinatorConfig } from "./config.js";
export { GROUP_STATES, type GroupState } from "./group-state.js";
export type { ConsumerGroupState } from "./consumer-group.js";
export {
  NO_TOPICS,
  type ConsumerHeartbeatInput,
  type ConsumerHeartbeatResult,
  type DescribedConsumerGroup,
  type DescribedConsumerMember,
  type DescribedTopicPartitions,
  type TopicView,
} from "./consumer-io.js";
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
  /** The topics KIP-848 groups subscribe to; none by default. */
  readonly topics?: TopicView;
  /** Clock and timers; real timers by default. */
  readonly timers?: TimerSeam;
  readonly log?: Logger;
}

/** An OffsetFetch v9+ caller's member id and epoch (KIP-848 groups check them). */
export interface OffsetFetchMember {
  readonly memberId: string | null;
  readonly memberEpoch: number;
}

export class GroupCoordinator {
  readonly config: GroupCoordinatorConfig;
  private readonly membership: GroupMembership;
  private readonly consumerGroups: ConsumerGroups;
  private readonly classicMembers: ClassicMembers;
  private readonly groupOffsets: GroupOffsets;
  private readonly admin: GroupAdmin;
  private readonly store: GroupOffsetStore;
  private readonly log: Logger;

  constructor(options: GroupCoordinatorOptions) {
    const setting = <K extends keyof GroupCoordinatorConfig>(k: K): GroupCoordinatorConfig[K] =>
      options[k] ?? DEFAULT_GROUP_CONFIG[k];
    this.config = {
      minSessionTimeoutMs: setting("minSessionTimeoutMs"),
      maxSessionTimeoutMs: setting("maxSessionTimeoutMs"),
      initialRebalanceDelayMs: setting("initialRebalanceDelayMs"),
      maxGroupSize: setting("maxGroupSize"),
      newMemberJoinTimeoutMs: setting("newMemberJoinTimeoutMs"),
      consumerHeartbeatIntervalMs: setting("consumerHeartbeatIntervalMs"),
      consumerSessionTimeoutMs: setting("consumerSessionTimeoutMs"),
    };
    const timers = options.timers ?? realTimers;
    const log = options.log ?? componentLogger("groups");
    const coordinatorId = options.coordinatorId ?? randomUUID();
    this.store = options.offsets;
    this.log = log;
    this.membership = new GroupMembership(this.config, timers, log, options.offsets, coordinatorId);
    const membership = this.membership;
    const topics = options.topics ?? NO_TOPICS;
    const migration = new GroupMigration(this.config, log, topics, membership, () => this.consumerGroups);
    this.consumerGroups = new ConsumerGroups(this.config, timers, log, options.offsets, coordinatorId, topics, {
      stateOf: (groupId) => membership.group(groupId)?.state ?? null,
      drop: (groupId) => {
        const group = membership.group(groupId);
        if (group) membership.dropGroup(group);
      },
      upgrade: (groupId, joining) => migration.upgrade(groupId, joining),
      downgrade: (group, leaving) => downgrade(group, leaving),
    });
    // A group turned classic again is no consumer group any more: its record in the log goes.
    const downgrade = (group: ConsumerGroup, leaving: ConsumerMember | null): boolean => {
      const done = migration.downgrade(group, leaving);
      if (done) this.consumerGroups.forgetRecord(group);
      return done;
    };
    this.classicMembers = new ClassicMembers(this.config, timers, log, topics, this.consumerGroups, (group) =>
      downgrade(group, null),
    );
    this.groupOffsets = new GroupOffsets(options.offsets, this.membership, timers, log);
    this.admin = new GroupAdmin(options.offsets, this.membership, log);
  }

  // ------------------------------------------------------------ membership

  // Classic requests for a KIP-848 group's id go to its classic members (classic-members.ts); a classic
  // member of a consumer group dropped for a newer coordinator epoch is told NOT_COORDINATOR once.

  joinGroup(input: JoinGroupInput): Promise<JoinGroupResult> {
    // A consumer group another coordinator recorded is loaded first (no wait otherwise: a classic join
    // registers synchronously).
    if (!this.consumerGroups.liveGroup(input.groupId) && this.store.hasConsumerGroupRecord(input.groupId))
      return this.consumerGroups.load(input.groupId).then(() => this.classicJoin(input));
    return this.classicJoin(input);
  }

  private classicJoin(input: JoinGroupInput): Promise<JoinGroupResult> {
    const consumerGroup = this.consumerGroups.liveGroup(input.groupId);
    if (consumerGroup) {
      if (consumerGroup.members.size > 0) {
        const joined = this.classicMembers.join(consumerGroup, input);
        // Answered once the group's change is in the log, as a ConsumerGroupHeartbeat is.
        return this.consumerGroups
          .recordGroup(consumerGroup)
          .then((code) => (code === GroupError.NONE ? joined : joinError(input.memberId, code)));
      }
      // An empty consumer group's id goes to the classic protocol (its offsets stay).
      this.consumerGroups.drop(consumerGroup);
    } else if (this.consumerGroups.takeFencedMember(input.groupId, input.memberId)) {
      return Promise.resolve(joinError(input.memberId, GroupError.NOT_COORDINATOR));
    }
    return this.membership.joinGroup(input);
  }

  async syncGroup(input: SyncGroupInput): Promise<SyncGroupResult> {
    let consumerGroup = this.consumerGroups.liveGroup(input.groupId);
    if (!consumerGroup && this.consumerGroups.takeFencedMember(input.groupId, input.memberId))
      return syncError(GroupError.NOT_COORDINATOR);
    // A classic member of a consumer group another coordinator held: loaded from its record first.
    if (!consumerGroup && this.recordedElsewhere(input.groupId))
      consumerGroup = await this.consumerGroups.load(input.groupId);
    if (consumerGroup) return this.classicMembers.sync(consumerGroup, input);
    return this.membership.syncGroup(input);
  }

  /** Returns the error code for the Heartbeat response. */
  heartbeat(input: HeartbeatInput): number {
    const consumerGroup = this.consumerGroups.liveGroup(input.groupId);
    if (consumerGroup) return this.classicMembers.heartbeat(consumerGroup, input);
    if (this.consumerGroups.takeFencedMember(input.groupId, input.memberId)) return GroupError.NOT_COORDINATOR;
    if (this.recordedElsewhere(input.groupId)) {
      // A classic member of a consumer group another coordinator held: the group is loaded from its
      // record meanwhile, and the client comes back (COORDINATOR_NOT_AVAILABLE is retriable) to find it.
      void this.consumerGroups.load(input.groupId);
      return GroupError.COORDINATOR_NOT_AVAILABLE;
    }
    return this.membership.heartbeat(input);
  }

  leaveGroup(groupId: string, leaving: readonly LeavingMember[]): LeaveGroupResult {
    const consumerGroup = this.consumerGroups.liveGroup(groupId);
    if (consumerGroup) {
      const left = this.classicMembers.leave(consumerGroup, leaving);
      void this.consumerGroups.recordGroup(consumerGroup);
      return left;
    }
    return this.membership.leaveGroup(groupId, leaving);
  }

  /**
   * Whether a group not held here as a consumer group (the callers checked) has a record in the log and
   * is not held as a classic group either: a consumer group another coordinator held.
   */
  private recordedElsewhere(groupId: string): boolean {
    return !this.membership.group(groupId) && this.store.hasConsumerGroupRecord(groupId);
  }

  // ---------------------------------------------- KIP-848 consumer groups

  consumerGroupHeartbeat(input: ConsumerHeartbeatInput): Promise<ConsumerHeartbeatResult> {
    return this.consumerGroups.heartbeat(input);
  }

  describeConsumerGroups(groupIds: readonly string[]): Promise<DescribedConsumerGroup[]> {
    return Promise.all(groupIds.map((id) => this.consumerGroups.describe(id)));
  }

  // ----------------------------------------------------- groups in memory

  /**
   * Forgets groups this agent no longer coordinates (the coordinator moved to another agent): their
   * waiting JoinGroup/SyncGroup requests are answered NOT_COORDINATOR so the clients look it up again.
   */
  unloadGroups(shouldUnload: (groupId: string) => boolean): void {
    this.membership.unloadGroups(shouldUnload);
    this.consumerGroups.unload(shouldUnload);
  }

  /**
   * Drops the group if another coordinator has claimed a newer coordinator epoch for it (call when the
   * metadata log records a claim); its waiting requests are answered NOT_COORDINATOR.
   */
  dropIfFenced(groupId: string): void {
    const group = this.membership.group(groupId);
    if (group) this.membership.dropIfFenced(group);
    this.consumerGroups.liveGroup(groupId);
  }

  /** Group ids held in memory (membership state), for metrics and tests. */
  groupIds(): string[] {
    return [...this.membership.groupIds(), ...this.consumerGroups.groupsInMemory().map((g) => g.groupId)];
  }

  /** Cancels every timer and answers waiting requests with COORDINATOR_NOT_AVAILABLE. */
  close(): void {
    this.membership.close();
    this.consumerGroups.close();
  }

  // ---------------------------------------------------------------- offsets

  /**
   * Validates and durably commits offsets; the error code applies to every offset of the request.
   * Per-partition checks (unknown topic, metadata size) belong to the caller. For a KIP-848 group the
   * generation id is the member epoch.
   */
  async commitOffsets(input: OffsetCommitInput): Promise<number> {
    const group = await this.consumerGroups.load(input.groupId);
    if (!group) return this.groupOffsets.commitOffsets(input);
    const refused = this.consumerGroups.validateOffsetCommit(
      group,
      input.memberId,
      input.generationId,
      input.apiVersion ?? Number.MAX_SAFE_INTEGER,
      input.offsets,
    );
    if (refused !== null) return refused;
    // Member epochs are not generations: the store checks only the coordinator epoch.
    const errorCode = await this.groupOffsets.write(input, {
      coordinatorEpoch: group.coordinatorEpoch,
      generationId: -1,
    });
    if (errorCode === GroupError.NOT_COORDINATOR) this.consumerGroups.liveGroup(input.groupId);
    return errorCode;
  }

  /** Partitions (`<partition>:<topic>`) holding offsets of a transaction not ended yet (requireStable). */
  pendingTransactionalOffsets(groupId: string): ReadonlySet<string> {
    return this.store.pendingTransactionalOffsets(groupId);
  }

  /**
   * Committed offsets; `topics` null = every committed partition. Unknown groups have none (−1). A
   * member of a KIP-848 group asking (OffsetFetch v9+) must be one at that epoch.
   */
  fetchOffsets(
    groupId: string,
    topics: readonly { readonly topic: string; readonly partitions: readonly number[] }[] | null,
    member: OffsetFetchMember | null = null,
  ): OffsetFetchResult {
    const group = member ? this.consumerGroups.liveGroup(groupId) : undefined;
    if (group && member) {
      const refused = this.consumerGroups.validateOffsetFetch(group, member.memberId, member.memberEpoch);
      if (refused !== null) return { errorCode: refused, topics: [] };
    }
    return this.groupOffsets.fetchOffsets(groupId, topics);
  }

  /**
   * Deletes committed offsets of partitions the group does not consume (OffsetDelete): a group-level
   * error, or one code per partition (NONE or GROUP_SUBSCRIBED_TO_TOPIC). See offsets.ts.
   */
  async deleteOffsets(groupId: string, partitions: readonly OffsetDeletePartition[]): Promise<OffsetDeleteResult> {
    const group = await this.consumerGroups.load(groupId);
    if (!group) return this.groupOffsets.deleteOffsets(groupId, partitions);
    const subscribed = this.consumerGroups.subscribedTopicNames(groupId);
    const results = partitions.map((p) => ({
      topic: p.topic,
      partition: p.partition,
      errorCode: subscribed.has(p.topic) ? GroupError.GROUP_SUBSCRIBED_TO_TOPIC : GroupError.NONE,
    }));
    const doomed = results.filter((r) => r.errorCode === GroupError.NONE);
    if (doomed.length > 0) {
      let errorCode: number;
      try {
        errorCode = await this.store.deleteOffsets(
          groupId,
          doomed.map((r) => ({ topic: r.topic, partition: r.partition })),
          group.coordinatorEpoch,
        );
      } catch (err) {
        this.log.warn("offset deletion failed", { groupId, error: errorMessage(err) });
        return { errorCode: GroupError.COORDINATOR_NOT_AVAILABLE, partitions: [] };
      }
      if (errorCode !== GroupError.NONE) return { errorCode, partitions: [] };
    }
    return { errorCode: GroupError.NONE, partitions: results };
  }

  // ------------------------------------------------------------ admin calls

  /** Classic groups; a KIP-848 group is "Dead" here, as Kafka answers DescribeGroups v0–5 for it. */
  describeGroups(groupIds: readonly string[]): DescribedGroup[] {
    return groupIds.map((groupId) =>
      this.consumerGroups.liveGroup(groupId)
        ? { groupId, errorCode: GroupError.NONE, state: "Dead", protocolType: "", protocolData: "", members: [] }
        : this.admin.describeGroups([groupId])[0]!,
    );
  }

  /**
   * Groups this coordinator holds in memory (classic and consumer), consumer groups recorded in the log
   * but not loaded here yet (after a coordinator move, as their records say), plus groups known only by
   * committed offsets (classic, Empty).
   */
  /**
   * Loads the KIP-848 groups recorded in the metadata log that `coordinates` says are this agent's and that it
   * does not hold: a group whose coordinator went away together with its members would otherwise keep its
   * record, members and all, until one of them came back. Loaded, its members' sessions run here and expire,
   * as Kafka's coordinator expires the members of the groups it loads with its partitions, and the record
   * follows. Returns how many groups were loaded.
   */
  async adoptRecordedGroups(coordinates: (groupId: string) => boolean): Promise<number> {
    let loaded = 0;
    for (const groupId of this.consumerGroups.unloadedRecordIds()) {
      if (!coordinates(groupId)) continue;
      try {
        if (await this.consumerGroups.load(groupId)) loaded++;
      } catch (err) {
        this.log.warn("loading a recorded consumer group failed", { groupId, error: errorMessage(err) });
      }
    }
    return loaded;
  }

  listGroups(filter: ListGroupsFilter = {}): ListedGroup[] {
    const consumerGroups = [...this.consumerGroups.groupsInMemory(), ...this.consumerGroups.unloadedRecords()];
    const held = new Set(consumerGroups.map((g) => g.groupId));
    const listed = this.admin.listGroups(filter).filter((g) => !held.has(g.groupId));
    const types = new Set((filter.types ?? []).map((s) => s.toLowerCase()));
    const states = new Set((filter.states ?? []).map((s) => s.toLowerCase()));
    if (types.size === 0 || types.has("consumer")) {
      for (const g of consumerGroups) {
        const state = g.state;
        if (states.size > 0 && !states.has(state.toLowerCase())) continue;
        listed.push({ groupId: g.groupId, protocolType: "consumer", state, groupType: "consumer" });
      }
    }
    return listed.sort((a, b) => (a.groupId < b.groupId ? -1 : a.groupId > b.groupId ? 1 : 0));
  }

  /**
   * Deletes Empty groups and their offsets; NON_EMPTY_GROUP for groups with members, GROUP_ID_NOT_FOUND
   * for unknown ones.
   */
  async deleteGroups(groupIds: readonly string[]): Promise<DeleteGroupResult[]> {
    const results: DeleteGroupResult[] = [];
    for (const groupId of groupIds) {
      const group = await this.consumerGroups.load(groupId);
      if (group && group.members.size > 0) {
        results.push({ groupId, errorCode: GroupError.NON_EMPTY_GROUP });
        continue;
      }
      if (group) {
        this.consumerGroups.drop(group);
        if (this.store.committed(groupId).size === 0 && !this.store.groupsWithOffsets().includes(groupId)) {
          results.push({ groupId, errorCode: GroupError.NONE });
          continue;
        }
      }
      results.push(...(await this.admin.deleteGroups([groupId])));
    }
    return results;
  }

  /** The state of a group as DescribeGroups would report it. */
  groupState(groupId: string): GroupState {
    return this.admin.groupState(groupId);
  }
}
