/**
 * Classic members inside a KIP-848 consumer group: consumers still speaking JoinGroup/SyncGroup/Heartbeat/
 * LeaveGroup in a group that the consumer protocol now runs, as Kafka 4.x's group coordinator serves them
 * (classicGroupJoinToConsumerGroup and its siblings). This is what makes an online migration possible
 * (migration.ts): after an upgrade the old members carry on unchanged, next to the new ones, until each
 * is restarted with group.protocol=consumer.
 *
 * The coordinator, not a leader, assigns: a classic member is a consumer-group member like any other
 * (its epoch, target and reconciliation in consumer-groups.ts and reconciliation.ts), translated:
 *
 *   - JoinGroup is a heartbeat: it reads the subscription (topics, owned partitions) from the member's
 *     ConsumerProtocolSubscription, bumps the group epoch when the member is new or changed its topics,
 *     and moves the member one reconciliation step towards its target. The answer carries the member's
 *     epoch as the generation, the member's first protocol name, and no leader (so nobody runs an
 *     assignor). Revocation before reassignment holds as for the consumer protocol: an eager client
 *     joins owning nothing (it revoked everything first), so its dropped partitions are released at
 *     once; a cooperative one reports what it still owns, keeps its epoch until it rejoins without them.
 *   - SyncGroup answers the member's assigned partitions as a ConsumerProtocolAssignment (in its
 *     subscription's version), or REBALANCE_IN_PROGRESS when the group has moved on since it joined.
 *   - Heartbeat answers REBALANCE_IN_PROGRESS while the member should rejoin to move on: the group
 *     epoch is ahead of it, it has partitions to revoke, or partitions it waits for were released.
 *   - LeaveGroup removes the member (the group epoch is bumped; the others are reassigned).
 *
 * The generation a classic member sends (Heartbeat, SyncGroup, OffsetCommit, OffsetFetch) must be its
 * member epoch (ILLEGAL_GENERATION otherwise). Its own session timeout applies (consumer-groups.ts), and
 * a member told to rejoin that does not JoinGroup, or that does not SyncGroup after joining, within its
 * rebalance timeout is removed.
 */
import { randomUUID } from "node:crypto";
import type { Logger } from "../../../common/logger.js";
import type { GroupCoordinatorConfig } from "./config.js";
import { ConsumerMember, type ConsumerGroup } from "./consumer-group.js";
import type { TopicView } from "./consumer-io.js";
import type { ConsumerGroups } from "./consumer-groups.js";
import {
  CONSUMER_PROTOCOL_TYPE,
  decodeSubscription,
  encodeAssignment,
  subscriptionVersion,
  type TopicPartitions,
} from "./consumer-protocol.js";
import {
  GroupError,
  joinError,
  syncError,
  type GroupProtocol,
  type HeartbeatInput,
  type JoinGroupInput,
  type JoinGroupResult,
  type LeaveGroupResult,
  type LeavingMember,
  type SyncGroupInput,
  type SyncGroupResult,
} from "./coordinator-io.js";
import { assignmentOf, contains, partitionsOf, type Assignment } from "./partitions.js";
import type { TimerSeam } from "./timer.js";

/** Partitions by topic id → by topic name (topics the agent no longer knows are left out). */
export function partitionsByName(a: Assignment, topics: TopicView): TopicPartitions[] {
  const out: TopicPartitions[] = [];
  for (const [topicId, set] of a) {
    const topic = topics.byId(topicId);
    if (topic) out.push({ topic: topic.name, partitions: [...set].sort((x, y) => x - y) });
  }
  return out.sort((x, y) => (x.topic < y.topic ? -1 : x.topic > y.topic ? 1 : 0));
}

/** Partitions by topic name → by topic id (unknown topics and partitions beyond a topic's count left out). */
export function partitionsById(parts: readonly TopicPartitions[], topics: TopicView): Assignment {
  const entries: Array<[string, number[]]> = [];
  for (const t of parts) {
    const topic = topics.byName(t.topic);
    if (topic) entries.push([topic.id, t.partitions.filter((p) => p >= 0 && p < topic.partitions)]);
  }
  return assignmentOf(entries);
}

export class ClassicMembers {
  constructor(
    private readonly config: GroupCoordinatorConfig,
    private readonly timers: TimerSeam,
    private readonly log: Logger,
    private readonly topics: TopicView,
    private readonly consumerGroups: ConsumerGroups,
    /** Turns a consumer group whose members all use the classic protocol into a classic group (migration.ts). */
    private readonly downgrade: (group: ConsumerGroup) => boolean,
  ) {}

  // ---------------------------------------------------------------- JoinGroup

  join(group: ConsumerGroup, input: JoinGroupInput): JoinGroupResult {
    if (
      input.sessionTimeoutMs < this.config.minSessionTimeoutMs ||
      input.sessionTimeoutMs > this.config.maxSessionTimeoutMs
    )
      return joinError(input.memberId, GroupError.INVALID_SESSION_TIMEOUT);
    const isUnknown = input.memberId === "";
    const memberId = isUnknown ? randomUUID() : input.memberId;
    if (!group.members.has(memberId) && group.members.size >= this.config.maxGroupSize)
      return joinError(memberId, GroupError.GROUP_MAX_SIZE_REACHED);
    if (!this.supportsProtocols(group, memberId, input.protocolType, input.protocols))
      return joinError(memberId, GroupError.INCONSISTENT_GROUP_PROTOCOL);
    if (isUnknown && input.groupInstanceId === null && input.requireKnownMemberId)
      return joinError(memberId, GroupError.MEMBER_ID_REQUIRED);
    const subscription = decodeSubscription(input.protocols[0]!.metadata);
    if (subscription === null) return joinError(memberId, GroupError.INCONSISTENT_GROUP_PROTOCOL);

    const replacing =
      isUnknown && input.groupInstanceId !== null && group.staticMember(input.groupInstanceId) !== undefined;
    const found = this.findOrCreateMember(group, input, memberId, isUnknown);
    if (typeof found === "number") return joinError(memberId, found);
    const member = found;
    const changed = !sameNames(member.subscribedTopicNames, subscription.topics);
    if (input.groupInstanceId !== null) member.instanceId = input.groupInstanceId;
    if (subscription.rackId !== null) member.rackId = subscription.rackId;
    member.rebalanceTimeoutMs = input.rebalanceTimeoutMs;
    member.clientId = input.clientId;
    member.clientHost = input.clientHost;
    member.subscribedTopicNames = [...subscription.topics];
    member.subscribedTopicRegex = null;
    member.classic ??= { sessionTimeoutMs: 0, protocols: [], joinTimer: null, syncTimer: null };
    member.classic.sessionTimeoutMs = input.sessionTimeoutMs;
    member.classic.protocols = input.protocols;

    this.consumerGroups.joinClassicMember(
      group,
      member,
      changed,
      partitionsById(subscription.ownedPartitions, this.topics),
    );
    member.classic.joinTimer?.();
    member.classic.joinTimer = null;
    // A classic instance replaced the last static member using the consumer protocol: classic again.
    const downgraded = replacing && this.downgrade(group);
    if (!downgraded) this.scheduleSyncTimeout(group, member);
    this.log.info("classic member joined the consumer group", {
      groupId: group.groupId,
      memberId,
      memberEpoch: member.memberEpoch,
      groupEpoch: group.groupEpoch,
      downgraded,
    });
    return {
      errorCode: GroupError.NONE,
      generationId: member.memberEpoch,
      protocolType: CONSUMER_PROTOCOL_TYPE,
      protocolName: member.classic.protocols[0]!.name,
      leader: "",
      skipAssignment: false,
      memberId,
      members: [],
    };
  }

  /** Kafka's check: the "consumer" type, with a protocol every other classic member supports. */
  private supportsProtocols(
    group: ConsumerGroup,
    memberId: string,
    protocolType: string,
    protocols: readonly GroupProtocol[],
  ): boolean {
    if (protocolType !== CONSUMER_PROTOCOL_TYPE || protocols.length === 0) return false;
    const others = [...group.members.values()].filter((m) => m.classic !== null && m.memberId !== memberId);
    return protocols.some((p) => others.every((m) => m.classic!.protocols.some((q) => q.name === p.name)));
  }

  private findOrCreateMember(
    group: ConsumerGroup,
    input: JoinGroupInput,
    memberId: string,
    isUnknown: boolean,
  ): ConsumerMember | number {
    if (input.groupInstanceId === null) {
      const existing = group.members.get(memberId);
      if (!existing) return new ConsumerMember(memberId);
      return existing.classic ? existing : GroupError.UNKNOWN_MEMBER_ID;
    }
    const existing = group.staticMember(input.groupInstanceId);
    if (isUnknown) {
      if (!existing) return new ConsumerMember(memberId);
      // A new instance takes the static member's place (whatever protocol the old one used), with its
      // subscription and partitions, as Kafka does: no new group epoch.
      return this.consumerGroups.replaceStaticMember(group, existing, memberId);
    }
    if (!existing) return GroupError.UNKNOWN_MEMBER_ID;
    if (existing.memberId !== memberId) return GroupError.FENCED_INSTANCE_ID;
    return existing.classic ? existing : GroupError.UNKNOWN_MEMBER_ID;
  }

  // ---------------------------------------------------------------- SyncGroup

  sync(group: ConsumerGroup, input: SyncGroupInput): SyncGroupResult {
    const member = this.validateMember(group, input.memberId, input.groupInstanceId);
    if (typeof member === "number") return syncError(member);
    if (input.generationId !== member.memberEpoch) return syncError(GroupError.ILLEGAL_GENERATION);
    const classic = member.classic!;
    const protocolName = classic.protocols[0]!.name;
    if (
      (input.protocolType !== null && input.protocolType !== CONSUMER_PROTOCOL_TYPE) ||
      (input.protocolName !== null && input.protocolName !== protocolName)
    )
      return syncError(GroupError.INCONSISTENT_GROUP_PROTOCOL);
    // The group moved on since the member joined: it must join again (unless it still has to revoke).
    if (group.groupEpoch > member.memberEpoch && member.assignment.state !== "UNREVOKED_PARTITIONS") {
      this.scheduleJoinTimeout(group, member);
      return syncError(GroupError.REBALANCE_IN_PROGRESS);
    }
    classic.syncTimer?.();
    classic.syncTimer = null;
    this.consumerGroups.renewSession(group, member);
    return {
      errorCode: GroupError.NONE,
      protocolType: CONSUMER_PROTOCOL_TYPE,
      protocolName,
      assignment: encodeAssignment(
        subscriptionVersion(classic.protocols[0]!.metadata),
        partitionsByName(member.assignment.assigned, this.topics),
      ),
    };
  }

  // ---------------------------------------------------------------- Heartbeat

  heartbeat(group: ConsumerGroup, input: HeartbeatInput): number {
    const member = this.validateMember(group, input.memberId, input.groupInstanceId);
    if (typeof member === "number") return member;
    if (input.generationId !== member.memberEpoch) return GroupError.ILLEGAL_GENERATION;
    this.consumerGroups.renewSession(group, member);
    const state = member.assignment.state;
    if (
      member.memberEpoch < group.groupEpoch ||
      state === "UNREVOKED_PARTITIONS" ||
      (state === "UNRELEASED_PARTITIONS" && !waitingOnUnreleasedPartition(group, member))
    ) {
      this.scheduleJoinTimeout(group, member);
      return GroupError.REBALANCE_IN_PROGRESS;
    }
    return GroupError.NONE;
  }

  // --------------------------------------------------------------- LeaveGroup

  leave(group: ConsumerGroup, leaving: readonly LeavingMember[]): LeaveGroupResult {
    const members = leaving.map((m) => {
      const answer = (memberId: string, errorCode: number) => ({
        memberId,
        groupInstanceId: m.groupInstanceId,
        errorCode,
      });
      let member: ConsumerMember | undefined;
      if (m.groupInstanceId === null) {
        member = group.members.get(m.memberId);
      } else {
        member = group.staticMember(m.groupInstanceId);
        // "" is an administrative removal by instance id.
        if (member && m.memberId !== "" && member.memberId !== m.memberId)
          return answer(m.memberId, GroupError.FENCED_INSTANCE_ID);
      }
      if (!member?.classic) return answer(m.memberId, GroupError.UNKNOWN_MEMBER_ID);
      this.consumerGroups.removeMember(group, member, `it left the group (${m.reason ?? "no reason given"})`);
      return answer(member.memberId, GroupError.NONE);
    });
    return { errorCode: GroupError.NONE, members };
  }

  // ------------------------------------------------------------------ helpers

  /** The classic member a request names, or the error: UNKNOWN_MEMBER_ID, FENCED_INSTANCE_ID. */
  private validateMember(group: ConsumerGroup, memberId: string, instanceId: string | null): ConsumerMember | number {
    let member: ConsumerMember | undefined;
    if (instanceId === null) {
      member = group.members.get(memberId);
    } else {
      member = group.staticMember(instanceId);
      if (member && member.memberId !== memberId) return GroupError.FENCED_INSTANCE_ID;
    }
    // A member using the consumer protocol has no business here.
    return member?.classic ? member : GroupError.UNKNOWN_MEMBER_ID;
  }

  /** A member told to rejoin must JoinGroup within its rebalance timeout (kept if already running). */
  private scheduleJoinTimeout(group: ConsumerGroup, member: ConsumerMember): void {
    const classic = member.classic!;
    if (classic.joinTimer) return;
    classic.joinTimer = this.timers.schedule(member.rebalanceTimeoutMs, () => {
      classic.joinTimer = null;
      if (group.dead || group.members.get(member.memberId) !== member) return;
      this.consumerGroups.fenceMember(group, member, "the classic member did not rejoin within the rebalance timeout");
    });
  }

  /** A member that joined must SyncGroup within its rebalance timeout. */
  private scheduleSyncTimeout(group: ConsumerGroup, member: ConsumerMember): void {
    const classic = member.classic!;
    classic.syncTimer?.();
    classic.syncTimer = this.timers.schedule(member.rebalanceTimeoutMs, () => {
      classic.syncTimer = null;
      if (group.dead || group.members.get(member.memberId) !== member) return;
      this.consumerGroups.fenceMember(group, member, "the classic member did not sync within the rebalance timeout");
    });
  }
}

/** Whether a member waiting for partitions still waits: some partition of its target is held by another. */
function waitingOnUnreleasedPartition(group: ConsumerGroup, member: ConsumerMember): boolean {
  const target = group.targetAssignment.get(member.memberId);
  if (!target) return false;
  for (const [topicId, p] of partitionsOf(target)) {
    if (contains(member.assignment.assigned, topicId, p)) continue;
    const owner = group.owner(topicId, p);
    if (owner !== undefined && owner !== member.memberId) return true;
  }
  return false;
}

function sameNames(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  const set = new Set(a);
  return b.every((n) => set.has(n));
}
