/**
 * Online migration of a live group between the classic and the KIP-848 consumer protocol, both ways, as
 * Kafka 4.x does with group.consumer.migration.policy=bidirectional (its default; here fixed, no
 * setting). Without it, moving a group to the new protocol would mean stopping every consumer at once.
 *
 * Upgrade: a ConsumerGroupHeartbeat joining (epoch 0) a live classic group converts it into a consumer
 * group, provided the group's protocol type is "consumer" (not Connect or another embedded protocol),
 * it has room for the joiner (group.max.size), no live classic member holds the joiner's instance id,
 * and every member's subscription and assignment parse. Each classic member becomes a member of the
 * consumer group keeping its member id, instance id, client id and host, rebalance and session timeouts,
 * protocols, subscribed topics and its current assignment; the group epoch, the target assignment epoch
 * and every member epoch start at the classic generation, and the target assignment is the current one,
 * so nothing moves until the joiner bumps the group epoch. A group caught mid-rebalance is converted all
 * the same, as Kafka does: the JoinGroup/SyncGroup requests waiting are answered REBALANCE_IN_PROGRESS,
 * and members without an assignment yet start with none; the classic members then rejoin the consumer
 * group (classic-members.ts). Refused upgrades leave the group classic (GROUP_ID_NOT_FOUND, or
 * GROUP_MAX_SIZE_REACHED / UNRELEASED_INSTANCE_ID).
 *
 * Downgrade: when a member leaves or is fenced and every member left uses the classic protocol (and at
 * least one is left, within group.max.size), the consumer group goes back to a classic group instead:
 * Stable at the group epoch as generation, the "consumer" protocol type, the protocol every member
 * supports, each member's target assignment as its classic assignment; a rebalance starts at once so the
 * members rejoin under the classic protocol and its leader assigns. Also when a classic instance takes
 * the place of the last static member using the consumer protocol (classic-members.ts), but then without
 * a rebalance: the new instance carries on with its predecessor's partitions, as in Kafka.
 *
 * Both conversions happen synchronously inside the request or timer that triggers them, keep the
 * coordinator epoch the group is held at, and keep committed offsets (they belong to the group id).
 */
import type { Logger } from "../../../common/logger.js";
import { partitionsById, partitionsByName } from "./classic-members.js";
import type { GroupCoordinatorConfig } from "./config.js";
import { ConsumerGroup, ConsumerMember } from "./consumer-group.js";
import type { ConsumerHeartbeatInput, TopicView } from "./consumer-io.js";
import type { ConsumerGroups } from "./consumer-groups.js";
import {
  CONSUMER_PROTOCOL_TYPE,
  decodeAssignment,
  decodeSubscription,
  encodeAssignment,
  subscriptionVersion,
} from "./consumer-protocol.js";
import { GroupError } from "./coordinator-io.js";
import { Group, Member } from "./group.js";
import type { GroupMembership } from "./membership.js";
import { EMPTY_ASSIGNMENT, partitionsOf, subtract, union, type Assignment } from "./partitions.js";

export interface Refusal {
  readonly errorCode: number;
  readonly message: string;
}

export class GroupMigration {
  constructor(
    private readonly config: GroupCoordinatorConfig,
    private readonly log: Logger,
    private readonly topics: TopicView,
    private readonly membership: GroupMembership,
    private readonly consumerGroups: () => ConsumerGroups,
  ) {}

  /** Converts the live classic group `groupId` into a consumer group for `joining`, or refuses. */
  upgrade(groupId: string, joining: ConsumerHeartbeatInput): ConsumerGroup | Refusal {
    const notConsumer = (why: string): Refusal => {
      this.log.info(`cannot upgrade classic group to consumer group: ${why}`, { groupId });
      return { errorCode: GroupError.GROUP_ID_NOT_FOUND, message: `Group ${groupId} is not a consumer group.` };
    };
    const classic = this.membership.group(groupId);
    if (!classic || classic.is("Dead") || classic.is("Empty")) return notConsumer("no live classic group");
    if (this.membership.dropIfFenced(classic))
      return { errorCode: GroupError.NOT_COORDINATOR, message: "Another agent coordinates the group now." };
    if (classic.protocolType !== CONSUMER_PROTOCOL_TYPE)
      return notConsumer(`its protocol type is ${classic.protocolType ?? "none"}, not ${CONSUMER_PROTOCOL_TYPE}`);
    if (classic.members.size >= this.config.maxGroupSize)
      return {
        errorCode: GroupError.GROUP_MAX_SIZE_REACHED,
        message: `The consumer group has reached its maximum capacity of ${this.config.maxGroupSize} members.`,
      };
    if (joining.instanceId !== null && classic.staticMembers.has(joining.instanceId))
      return {
        errorCode: GroupError.UNRELEASED_INSTANCE_ID,
        message: `Static member ${joining.memberId} with instance id ${joining.instanceId} cannot join the group because the instance id is owned by ${classic.staticMembers.get(joining.instanceId)} member.`,
      };

    const group = new ConsumerGroup(groupId, classic.coordinatorEpoch);
    group.groupEpoch = classic.generationId;
    group.assignmentEpoch = classic.generationId;
    const target = new Map<string, Assignment>();
    let claimed: Assignment = EMPTY_ASSIGNMENT;
    for (const m of classic.members.values()) {
      // Before a first generation no protocol is selected yet: every protocol carries the same subscription.
      const metadata = classic.protocolName !== null ? m.metadataFor(classic.protocolName) : m.protocols[0]?.metadata;
      const subscription = metadata ? decodeSubscription(metadata) : null;
      const assigned = decodeAssignment(m.assignment);
      if (subscription === null || assigned === null)
        return notConsumer(`the embedded consumer protocol of member ${m.memberId} is malformed`);
      // A partition two members claim (a leader's faulty assignment) stays with the first.
      const own = subtract(partitionsById(assigned, this.topics), claimed);
      claimed = union(claimed, own);
      const member = new ConsumerMember(m.memberId);
      member.instanceId = m.groupInstanceId;
      member.rackId = subscription.rackId;
      member.clientId = m.clientId;
      member.clientHost = m.clientHost;
      member.rebalanceTimeoutMs = m.rebalanceTimeoutMs;
      member.subscribedTopicNames = [...subscription.topics];
      member.classic = {
        sessionTimeoutMs: m.sessionTimeoutMs,
        protocols: m.protocols,
        joinTimer: null,
        syncTimer: null,
      };
      member.assignment = {
        state: "STABLE",
        memberEpoch: classic.generationId,
        previousMemberEpoch: classic.generationId,
        assigned: own,
        pendingRevocation: EMPTY_ASSIGNMENT,
      };
      group.addMember(member);
      target.set(m.memberId, own);
    }
    group.targetAssignment = target;
    const classicState = classic.state;
    // Waiting JoinGroup/SyncGroup requests are told to rejoin: they will, into the consumer group.
    this.membership.dropGroup(classic, GroupError.REBALANCE_IN_PROGRESS);
    this.consumerGroups().adopt(group);
    this.log.info("classic group upgraded to a consumer group", {
      groupId,
      groupEpoch: group.groupEpoch,
      members: group.members.size,
      classicState,
    });
    return group;
  }

  /**
   * Turns `group` back into a classic group when `leaving` goes and only classic members stay, then starts
   * a rebalance; whether it did (the caller removes `leaving` otherwise). With `leaving` null (a classic
   * instance just replaced a static member), when every member is classic, without a rebalance: the
   * group is Stable with the assignments the members hold.
   */
  downgrade(group: ConsumerGroup, leaving: ConsumerMember | null): boolean {
    const staying = [...group.members.values()].filter((m) => m !== leaving);
    if (staying.length === 0 || staying.some((m) => m.classic === null)) return false;
    if (staying.length > this.config.maxGroupSize) {
      this.log.info("cannot downgrade consumer group to classic group: too many members", { groupId: group.groupId });
      return false;
    }
    const classic = new Group(group.groupId, group.coordinatorEpoch, group.groupEpoch);
    classic.protocolType = CONSUMER_PROTOCOL_TYPE;
    for (const m of staying) {
      const member = new Member(
        m.memberId,
        m.instanceId,
        m.clientId,
        m.clientHost,
        m.rebalanceTimeoutMs,
        m.classic!.sessionTimeoutMs,
        CONSUMER_PROTOCOL_TYPE,
        m.classic!.protocols,
      );
      classic.members.set(member.memberId, member);
      if (member.groupInstanceId !== null) classic.staticMembers.set(member.groupInstanceId, member.memberId);
      classic.leaderId ??= member.memberId;
    }
    classic.protocolName = classic.selectProtocol();
    for (const member of classic.members.values()) {
      const targetOf = group.targetAssignment.get(member.memberId) ?? EMPTY_ASSIGNMENT;
      member.assignment = encodeAssignment(
        subscriptionVersion(member.metadataFor(classic.protocolName)),
        partitionsByName(targetOf, this.topics),
      );
    }
    classic.startStable();
    this.consumerGroups().drop(group);
    this.log.info("consumer group downgraded to a classic group", {
      groupId: group.groupId,
      generationId: classic.generationId,
      members: classic.members.size,
      leavingMemberId: leaving?.memberId ?? null,
      leavingPartitions: leaving ? partitionsOf(leaving.assignment.assigned).length : 0,
    });
    this.membership.adoptConverted(
      classic,
      leaving ? `group ${group.groupId} downgraded from consumer to classic` : null,
    );
    return true;
  }
}
