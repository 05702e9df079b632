/**
 * The KIP-848 consumer group coordinator: ConsumerGroupHeartbeat and ConsumerGroupDescribe over the
 * groups in memory, as Apache Kafka's group coordinator runs them.
 *
 * A heartbeat (1) finds or creates the group and the member, checking the member epoch (FENCED_MEMBER_EPOCH
 * when it is neither the current one nor the previous one with a subset of the assignment; UNKNOWN_MEMBER_ID,
 * static members: UNRELEASED_INSTANCE_ID / FENCED_INSTANCE_ID); (2) records the member's changes and bumps
 * the group epoch when a member joins, leaves or changes its subscription, or the subscribed topics change
 * (created, deleted, more partitions, a new topic matching a regular expression); (3) when the group epoch
 * is ahead of the target assignment, runs the group's assignor (assignors/) for a new target; (4) moves
 * the member towards its target (reconciliation.ts: revocation before reassignment); (5) answers the
 * member's epoch and, when it changed or the request was a full one, its assignment.
 *
 * Timers: the session timeout (group.consumer.session.timeout.ms) removes a member that stops
 * heartbeating; the rebalance timeout (the member's, from max.poll.interval.ms) removes one that does not
 * revoke in time. Removing a member frees its partitions and bumps the group epoch. Leaving: epoch −1
 * removes the member; −2 (a static member) keeps it and its partitions, at epoch −2, until a new instance
 * with the same group.instance.id takes its place (with its assignment) or its session expires.
 *
 * Fenced like the classic groups (offset-store.ts): a group is created only once this coordinator has
 * claimed a new coordinator epoch for its id, offset commits carry that epoch, and the group is dropped
 * when another agent claims a newer one (each member's next heartbeat here then gets NOT_COORDINATOR, so
 * it finds the new coordinator rather than claiming the group back).
 *
 * Durable (consumer-group-recorder.ts): a heartbeat that changed its group (a member, an epoch, an
 * assignment) is answered once the group's new state is recorded in the metadata log, and a group
 * changed by a timer is recorded too. A coordinator that claims a group starts from its last record, so
 * after a coordinator move or restart members carry on with their epochs and partitions; every member's
 * session timeout starts afresh then. A record the log cannot take (the store fails) drops the group from
 * memory and answers COORDINATOR_NOT_AVAILABLE: the next request loads what is recorded.
 *
 * Differences from Kafka, on purpose: a member rejoining with epoch 0 under a member id the group still
 * has starts over (its partitions are released and it joins as new) rather than getting
 * FENCED_MEMBER_EPOCH, since a client sends epoch 0 only after dropping all its partitions. Regular
 * expressions are resolved against the topics synchronously on each heartbeat (subscription-regex.ts).
 */
import { createHash, randomUUID } from "node:crypto";
import { errorMessage, type Logger } from "../../../common/logger.js";
import { ASSIGNORS, DEFAULT_ASSIGNOR, type AssignableTopic, type AssignorMember } from "./assignors/index.js";
import type { GroupCoordinatorConfig } from "./config.js";
import { ConsumerGroupRecorder, groupFromRecord } from "./consumer-group-recorder.js";
import {
  ConsumerGroup,
  ConsumerMember,
  LEAVE_GROUP_MEMBER_EPOCH,
  LEAVE_GROUP_STATIC_MEMBER_EPOCH,
} from "./consumer-group.js";
import {
  heartbeatError,
  type ConsumerHeartbeatInput,
  type ConsumerHeartbeatResult,
  type DescribedConsumerGroup,
  type DescribedTopicPartitions,
  type TopicView,
} from "./consumer-io.js";
import type { ConsumerGroupRecord } from "./consumer-group-record.js";
import { GroupError } from "./coordinator-io.js";
import type { GroupState } from "./group-state.js";
import type { GroupOffsetStore } from "./offset-store.js";
import { isSubset, partitionsOf, sameAssignment, type Assignment } from "./partitions.js";
import { reconcile } from "./reconciliation.js";
import { compileSubscriptionRegex, type CompiledRegex } from "./subscription-regex.js";
import type { TimerSeam } from "./timer.js";

/** What the consumer groups need to know of the classic groups sharing their ids. */
export interface ClassicGroupsView {
  /** The state of the classic group held under this id, or null when none is. */
  stateOf(groupId: string): GroupState | null;
  /** Forgets an Empty classic group whose id a consumer group takes over. */
  drop(groupId: string): void;
  /**
   * Converts the live classic group under this id into a consumer group (adopted) for a member joining
   * with the consumer protocol, or refuses (migration.ts).
   */
  upgrade(groupId: string, joining: ConsumerHeartbeatInput): ConsumerGroup | { errorCode: number; message: string };
  /** Turns the group back into a classic group instead of removing `leaving`, when due; whether it did (migration.ts). */
  downgrade(group: ConsumerGroup, leaving: ConsumerMember): boolean;
}

class HeartbeatError extends Error {
  constructor(
    readonly errorCode: number,
    message: string,
  ) {
    super(message);
  }
}

export class ConsumerGroups {
  private readonly groups = new Map<string, ConsumerGroup>();
  private readonly claims = new Map<string, Promise<ConsumerGroup | null>>();
  private readonly regexCache = new Map<string, CompiledRegex>();
  /** Members of groups dropped for a newer coordinator epoch, not yet told NOT_COORDINATOR: group → ids. */
  private readonly fencedMembers = new Map<string, Set<string>>();
  private closed = false;
  private readonly recorder: ConsumerGroupRecorder;

  constructor(
    private readonly config: GroupCoordinatorConfig,
    private readonly timers: TimerSeam,
    private readonly log: Logger,
    private readonly store: GroupOffsetStore,
    private readonly coordinatorId: string,
    private readonly topics: TopicView,
    private readonly classic: ClassicGroupsView,
  ) {
    this.recorder = new ConsumerGroupRecorder(store, log);
  }

  // ---------------------------------------------------------- heartbeat

  async heartbeat(input: ConsumerHeartbeatInput): Promise<ConsumerHeartbeatResult> {
    if (this.closed) return heartbeatError(GroupError.COORDINATOR_NOT_AVAILABLE, null);
    try {
      this.validate(input);
      if (input.memberEpoch === LEAVE_GROUP_MEMBER_EPOCH || input.memberEpoch === LEAVE_GROUP_STATIC_MEMBER_EPOCH) {
        const group = await this.load(input.groupId);
        const result = this.leave(group, input);
        return (await this.recordChanges(group!)) ?? result;
      }
      let group = this.liveGroup(input.groupId);
      if (!group && this.takeFencedMember(input.groupId, input.memberId))
        return heartbeatError(GroupError.NOT_COORDINATOR, "Another agent coordinates the group now.");
      if (!group) {
        const classicState = this.classic.stateOf(input.groupId);
        if (classicState !== null && classicState !== "Empty" && classicState !== "Dead") {
          if (input.memberEpoch !== 0)
            throw new HeartbeatError(GroupError.GROUP_ID_NOT_FOUND, `Group ${input.groupId} is not a consumer group.`);
          const upgraded = this.classic.upgrade(input.groupId, input);
          if (!(upgraded instanceof ConsumerGroup)) throw new HeartbeatError(upgraded.errorCode, upgraded.message);
          const joined = this.memberHeartbeat(upgraded, input);
          return (await this.recordChanges(upgraded)) ?? joined;
        }
        // A member with an epoch is known only to a group with a record (another coordinator held it).
        if (input.memberEpoch !== 0 && !this.store.hasConsumerGroupRecord(input.groupId))
          throw new HeartbeatError(
            GroupError.UNKNOWN_MEMBER_ID,
            `Member ${input.memberId} is not a member of the group.`,
          );
        group = (await this.loadGroup(input.groupId)) ?? undefined;
        if (!group) return heartbeatError(GroupError.COORDINATOR_NOT_AVAILABLE, null);
      }
      const result = this.memberHeartbeat(group, input);
      return (await this.recordChanges(group)) ?? result;
    } catch (err) {
      if (err instanceof HeartbeatError) return heartbeatError(err.errorCode, err.message);
      this.log.error("ConsumerGroupHeartbeat failed", { groupId: input.groupId, error: errorMessage(err) });
      return heartbeatError(GroupError.UNKNOWN_SERVER_ERROR, null);
    }
  }

  /** Kafka's request checks (GroupCoordinatorService), in its order. */
  private validate(input: ConsumerHeartbeatInput): void {
    const invalid = (message: string) => new HeartbeatError(GroupError.INVALID_REQUEST, message);
    const blank = (s: string | null) => s !== null && s.trim() === "";
    if ((input.version >= 1 || input.memberEpoch > 0 || input.memberEpoch === -1) && blank(input.memberId))
      throw invalid("MemberId can't be empty.");
    if (blank(input.groupId)) throw invalid("GroupId can't be empty.");
    if (blank(input.instanceId)) throw invalid("InstanceId can't be empty.");
    if (blank(input.rackId)) throw invalid("RackId can't be empty.");
    if (input.memberEpoch === 0) {
      if (input.rebalanceTimeoutMs === -1) throw invalid("RebalanceTimeoutMs must be provided in first request.");
      if (input.ownedPartitions !== null && input.ownedPartitions.size > 0)
        throw invalid("TopicPartitions must be empty when (re-)joining.");
      if (input.subscribedTopicNames === null && input.subscribedTopicRegex === null)
        throw invalid("Either SubscribedTopicNames or SubscribedTopicRegex must be non-null when (re-)joining.");
    } else if (input.memberEpoch === LEAVE_GROUP_STATIC_MEMBER_EPOCH) {
      if (input.instanceId === null) throw invalid("InstanceId can't be null.");
    } else if (input.memberEpoch < LEAVE_GROUP_STATIC_MEMBER_EPOCH) {
      throw invalid("MemberEpoch is invalid.");
    }
    if (input.serverAssignor !== null && !ASSIGNORS.has(input.serverAssignor))
      throw new HeartbeatError(
        GroupError.UNSUPPORTED_ASSIGNOR,
        `ServerAssignor ${input.serverAssignor} is not supported. Supported assignors: ${[...ASSIGNORS.keys()].join(", ")}.`,
      );
    if (input.subscribedTopicRegex !== null && input.subscribedTopicRegex !== "") {
      const compiled = this.compile(input.subscribedTopicRegex);
      if (!compiled.ok)
        throw new HeartbeatError(
          GroupError.INVALID_REGULAR_EXPRESSION,
          `SubscribedTopicRegex \`${input.subscribedTopicRegex}\` is not a valid regular expression: ${compiled.reason}.`,
        );
    }
  }

  private memberHeartbeat(group: ConsumerGroup, input: ConsumerHeartbeatInput): ConsumerHeartbeatResult {
    const memberId = input.memberId === "" ? randomUUID() : input.memberId;
    const member = this.findOrCreateMember(group, input, memberId);
    const previousAssigned = member.assignment.assigned;
    const previousMetadata = memberMetadata(member);
    // (2) the member's changes.
    let bump = !group.members.has(member.memberId);
    if (input.instanceId !== null) member.instanceId = input.instanceId;
    if (input.rackId !== null) member.rackId = input.rackId;
    if (input.rebalanceTimeoutMs !== -1) member.rebalanceTimeoutMs = input.rebalanceTimeoutMs;
    if (input.serverAssignor !== null) member.serverAssignor = input.serverAssignor;
    member.clientId = input.clientId;
    member.clientHost = input.clientHost;
    if (input.subscribedTopicNames !== null && !sameNames(member.subscribedTopicNames, input.subscribedTopicNames)) {
      member.subscribedTopicNames = [...input.subscribedTopicNames];
      bump = true;
    }
    if (input.subscribedTopicRegex !== null) {
      const regex = input.subscribedTopicRegex === "" ? null : input.subscribedTopicRegex;
      if (regex !== member.subscribedTopicRegex) {
        member.subscribedTopicRegex = regex;
        bump = true;
      }
    }
    if (memberMetadata(member) !== previousMetadata) group.changeCount++;
    // (3) and (4).
    this.advance(group, member, bump, input.ownedPartitions);
    // (5) the answer.
    const full =
      input.memberEpoch === 0 ||
      (input.rebalanceTimeoutMs !== -1 &&
        (input.subscribedTopicNames !== null || input.subscribedTopicRegex !== null) &&
        input.ownedPartitions !== null);
    const changed = !sameAssignment(previousAssigned, member.assignment.assigned);
    return {
      errorCode: GroupError.NONE,
      errorMessage: null,
      memberId: member.memberId,
      memberEpoch: member.memberEpoch,
      heartbeatIntervalMs: this.config.consumerHeartbeatIntervalMs,
      assignment: full || changed ? member.assignment.assigned : null,
    };
  }

  /**
   * After a member's changes (a heartbeat, or a classic member's JoinGroup): adds it when new, bumps the
   * group epoch when `bump` (or the subscribed topics changed), computes a new target assignment when due,
   * moves the member one step towards its target given what it `owned`, and restarts its session.
   */
  private advance(group: ConsumerGroup, member: ConsumerMember, bump: boolean, owned: Assignment | null): void {
    if (!group.members.has(member.memberId)) group.addMember(member);
    const signature = this.subscriptionSignature(group);
    if (signature !== group.subscriptionSignature) {
      group.subscriptionSignature = signature;
      bump = true;
    }
    if (bump) {
      group.groupEpoch += 1;
      group.changeCount++;
      this.log.info("group epoch bumped", { groupId: group.groupId, groupEpoch: group.groupEpoch });
    }
    if (group.groupEpoch > group.assignmentEpoch) this.computeTargetAssignment(group);
    this.reconcileMember(group, member, owned);
    this.scheduleSessionTimeout(group, member);
  }

  private findOrCreateMember(group: ConsumerGroup, input: ConsumerHeartbeatInput, memberId: string): ConsumerMember {
    const joining = input.memberEpoch === 0;
    if (input.instanceId === null) {
      const existing = group.members.get(memberId);
      if (joining) {
        if (existing) this.removeMember(group, existing, "it rejoined with epoch 0");
        this.checkGroupSize(group);
        this.log.info("member joins", { groupId: group.groupId, memberId });
        return new ConsumerMember(memberId);
      }
      if (!existing)
        throw new HeartbeatError(GroupError.UNKNOWN_MEMBER_ID, `Member ${memberId} is not a member of the group.`);
      this.checkMemberEpoch(existing, input);
      return existing;
    }
    const existing = group.staticMember(input.instanceId);
    if (joining) {
      if (!existing) {
        this.checkGroupSize(group);
        this.log.info("static member joins", { groupId: group.groupId, memberId, instanceId: input.instanceId });
        return new ConsumerMember(memberId);
      }
      if (existing.memberId === memberId) {
        this.removeMember(group, existing, "it rejoined with epoch 0");
        return new ConsumerMember(memberId);
      }
      if (existing.memberEpoch !== LEAVE_GROUP_STATIC_MEMBER_EPOCH)
        throw new HeartbeatError(
          GroupError.UNRELEASED_INSTANCE_ID,
          `Static member ${memberId} with instance id ${input.instanceId} cannot join the group because the instance id is owned by ${existing.memberId} member.`,
        );
      return this.replaceStaticMember(group, existing, memberId);
    }
    if (!existing)
      throw new HeartbeatError(GroupError.UNKNOWN_MEMBER_ID, `Instance id ${input.instanceId} is unknown.`);
    if (existing.memberId !== memberId)
      throw new HeartbeatError(
        GroupError.FENCED_INSTANCE_ID,
        `Static member ${memberId} with instance id ${input.instanceId} was fenced by member ${existing.memberId}.`,
      );
    this.checkMemberEpoch(existing, input);
    return existing;
  }

  /**
   * A new instance takes a static member's place: same subscription and partitions (no rebalance), under
   * the new member id, at epoch 0 (its first heartbeat hands the partitions back at the target epoch).
   */
  replaceStaticMember(group: ConsumerGroup, old: ConsumerMember, memberId: string): ConsumerMember {
    const member = new ConsumerMember(memberId);
    member.instanceId = old.instanceId;
    member.rackId = old.rackId;
    member.rebalanceTimeoutMs = old.rebalanceTimeoutMs;
    member.serverAssignor = old.serverAssignor;
    member.subscribedTopicNames = old.subscribedTopicNames;
    member.subscribedTopicRegex = old.subscribedTopicRegex;
    const assignment = { ...old.assignment, state: "STABLE" as const, memberEpoch: 0, previousMemberEpoch: 0 };
    const target = group.targetAssignment.get(old.memberId);
    old.cancelTimers();
    group.removeMember(old);
    member.assignment = assignment;
    group.addMember(member);
    if (target) group.targetAssignment = new Map([...group.targetAssignment, [memberId, target]]);
    this.log.info("static member replaced", {
      groupId: group.groupId,
      instanceId: member.instanceId,
      oldMemberId: old.memberId,
      memberId,
    });
    return member;
  }

  private checkGroupSize(group: ConsumerGroup): void {
    if (group.members.size >= this.config.maxGroupSize)
      throw new HeartbeatError(
        GroupError.GROUP_MAX_SIZE_REACHED,
        `The consumer group has reached its maximum capacity of ${this.config.maxGroupSize} members.`,
      );
  }

  /** Kafka's member epoch check: the current epoch, or the previous one with a subset of the assignment. */
  private checkMemberEpoch(member: ConsumerMember, input: ConsumerHeartbeatInput): void {
    const current = member.memberEpoch;
    if (input.memberEpoch > current)
      throw new HeartbeatError(
        GroupError.FENCED_MEMBER_EPOCH,
        `The consumer group member has a greater member epoch (${input.memberEpoch}) than the one known by the group coordinator (${current}). The member must abandon all its partitions and rejoin.`,
      );
    if (
      input.memberEpoch < current &&
      (input.memberEpoch !== member.assignment.previousMemberEpoch ||
        input.ownedPartitions === null ||
        !isSubset(input.ownedPartitions, member.assignment.assigned))
    )
      throw new HeartbeatError(
        GroupError.FENCED_MEMBER_EPOCH,
        `The consumer group member has a smaller member epoch (${input.memberEpoch}) than the one known by the group coordinator (${current}). The member must abandon all its partitions and rejoin.`,
      );
  }

  // -------------------------------------------------------------- leaving

  private leave(group: ConsumerGroup | undefined, input: ConsumerHeartbeatInput): ConsumerHeartbeatResult {
    if (!group) throw new HeartbeatError(GroupError.GROUP_ID_NOT_FOUND, `Group ${input.groupId} not found.`);
    let member: ConsumerMember | undefined;
    if (input.instanceId !== null) {
      member = group.staticMember(input.instanceId);
      if (!member)
        throw new HeartbeatError(GroupError.UNKNOWN_MEMBER_ID, `Instance id ${input.instanceId} is unknown.`);
      if (member.memberId !== input.memberId)
        throw new HeartbeatError(
          GroupError.FENCED_INSTANCE_ID,
          `Static member ${input.memberId} with instance id ${input.instanceId} was fenced by member ${member.memberId}.`,
        );
    } else {
      member = group.members.get(input.memberId);
      if (!member)
        throw new HeartbeatError(
          GroupError.UNKNOWN_MEMBER_ID,
          `Member ${input.memberId} is not a member of the group.`,
        );
    }
    if (input.memberEpoch === LEAVE_GROUP_STATIC_MEMBER_EPOCH) {
      // Keeps its partitions for a new instance; its session timer keeps running.
      member.rebalanceTimer?.();
      member.rebalanceTimer = null;
      group.setAssignment(member, {
        ...member.assignment,
        state: "STABLE",
        memberEpoch: LEAVE_GROUP_STATIC_MEMBER_EPOCH,
        previousMemberEpoch: member.memberEpoch,
      });
      this.scheduleSessionTimeout(group, member);
      this.log.info("static member leaves temporarily", {
        groupId: group.groupId,
        memberId: member.memberId,
        instanceId: member.instanceId,
      });
    } else {
      this.fenceMember(group, member, "it left the group");
    }
    return {
      errorCode: GroupError.NONE,
      errorMessage: null,
      memberId: input.memberId,
      memberEpoch: input.memberEpoch,
      heartbeatIntervalMs: 0,
      assignment: null,
    };
  }

  /**
   * Removes a member that left or timed out, or, when only classic members would remain, turns the group
   * back into a classic group instead (migration.ts).
   */
  fenceMember(group: ConsumerGroup, member: ConsumerMember, reason: string): void {
    if (group.members.get(member.memberId) === member && this.classic.downgrade(group, member)) return;
    this.removeMember(group, member, reason);
    // A heartbeat waits for this record (leave); a timer does not.
    void this.recordChanges(group);
  }

  /** Removes a member, frees its partitions and bumps the group epoch so the others are reassigned. */
  removeMember(group: ConsumerGroup, member: ConsumerMember, reason: string): void {
    member.cancelTimers();
    if (group.members.get(member.memberId) !== member) return;
    group.removeMember(member);
    group.groupEpoch += 1;
    group.changeCount++;
    this.log.info("member removed", {
      groupId: group.groupId,
      memberId: member.memberId,
      reason,
      groupEpoch: group.groupEpoch,
    });
  }

  // ---------------------------------------------------- assignment, timers

  private computeTargetAssignment(group: ConsumerGroup): void {
    const topics = new Map<string, AssignableTopic>();
    const members: AssignorMember[] = [...group.members.values()]
      .sort((a, b) => (a.memberId < b.memberId ? -1 : a.memberId > b.memberId ? 1 : 0))
      .map((m) => {
        const subscribed = this.subscribedTopics(m);
        for (const t of subscribed) topics.set(t.id, t);
        return { memberId: m.memberId, instanceId: m.instanceId, topicIds: new Set(subscribed.map((t) => t.id)) };
      });
    const assignor = ASSIGNORS.get(group.preferredAssignor() ?? DEFAULT_ASSIGNOR) ?? ASSIGNORS.get(DEFAULT_ASSIGNOR)!;
    group.targetAssignment = assignor.assign({ members, topics, previous: group.targetAssignment });
    group.assignmentEpoch = group.groupEpoch;
    group.changeCount++;
    this.log.info("new target assignment", {
      groupId: group.groupId,
      assignmentEpoch: group.assignmentEpoch,
      assignor: assignor.name,
      members: members.length,
    });
  }

  private reconcileMember(group: ConsumerGroup, member: ConsumerMember, owned: Assignment | null): void {
    if (member.memberEpoch === LEAVE_GROUP_STATIC_MEMBER_EPOCH) return;
    const before = member.assignment;
    const next = reconcile(before, {
      targetEpoch: group.assignmentEpoch,
      target: group.targetAssignment.get(member.memberId) ?? new Map(),
      ownerEpoch: (topicId, p) => (group.owner(topicId, p) === member.memberId ? -1 : group.ownerEpoch(topicId, p)),
      owned,
    });
    if (next === before) return;
    group.setAssignment(member, next);
    if (next.state === "UNREVOKED_PARTITIONS") {
      if (before.state !== "UNREVOKED_PARTITIONS" || before.memberEpoch !== next.memberEpoch)
        this.scheduleRebalanceTimeout(group, member);
    } else {
      member.rebalanceTimer?.();
      member.rebalanceTimer = null;
    }
  }

  private scheduleSessionTimeout(group: ConsumerGroup, member: ConsumerMember): void {
    member.sessionTimer?.();
    const timeout = member.classic?.sessionTimeoutMs ?? this.config.consumerSessionTimeoutMs;
    member.sessionTimer = this.timers.schedule(timeout, () => {
      member.sessionTimer = null;
      if (this.groups.get(group.groupId) !== group) return;
      this.fenceMember(group, member, "its session expired");
    });
  }

  /** A member that has not revoked within its rebalance timeout is removed (its partitions freed). */
  private scheduleRebalanceTimeout(group: ConsumerGroup, member: ConsumerMember): void {
    member.rebalanceTimer?.();
    const epoch = member.memberEpoch;
    const timeout = member.rebalanceTimeoutMs >= 0 ? member.rebalanceTimeoutMs : this.config.consumerSessionTimeoutMs;
    member.rebalanceTimer = this.timers.schedule(timeout, () => {
      member.rebalanceTimer = null;
      if (this.groups.get(group.groupId) !== group) return;
      if (member.assignment.state !== "UNREVOKED_PARTITIONS" || member.memberEpoch !== epoch) return;
      this.fenceMember(group, member, "it did not revoke its partitions within the rebalance timeout");
    });
  }

  // ------------------------------------------------------- subscriptions

  private compile(pattern: string): CompiledRegex {
    let compiled = this.regexCache.get(pattern);
    if (!compiled) {
      compiled = compileSubscriptionRegex(pattern);
      if (this.regexCache.size > 1000) this.regexCache.clear();
      this.regexCache.set(pattern, compiled);
    }
    return compiled;
  }

  /** The existing topics a member subscribes to, by name and by regular expression. */
  private subscribedTopics(member: ConsumerMember): AssignableTopic[] {
    const found = new Map<string, AssignableTopic>();
    for (const name of member.subscribedTopicNames) {
      const t = this.topics.byName(name);
      if (t) found.set(t.name, t);
    }
    if (member.subscribedTopicRegex !== null) {
      const compiled = this.compile(member.subscribedTopicRegex);
      if (compiled.ok)
        for (const name of this.topics.names()) {
          if (found.has(name) || !compiled.matches(name)) continue;
          const t = this.topics.byName(name);
          if (t) found.set(name, t);
        }
    }
    return [...found.values()];
  }

  /** The group's subscribed topics with their ids and partition counts: a change bumps the group epoch. */
  private subscriptionSignature(group: ConsumerGroup): string {
    const topics = new Map<string, AssignableTopic>();
    for (const m of group.members.values()) for (const t of this.subscribedTopics(m)) topics.set(t.name, t);
    const text = [...topics.values()]
      .map((t) => `${t.name}/${t.id}/${t.partitions}`)
      .sort()
      .join(",");
    // A hash, so that the group's record stays small however many topics it subscribes to.
    return text === "" ? "" : createHash("sha256").update(text).digest("base64url").slice(0, 22);
  }

  /** Every topic name the group's members subscribe to (OffsetDelete refuses their offsets). */
  subscribedTopicNames(groupId: string): Set<string> {
    const names = new Set<string>();
    const group = this.liveGroup(groupId);
    if (group) for (const m of group.members.values()) for (const t of this.subscribedTopics(m)) names.add(t.name);
    return names;
  }

  // --------------------------------------------------------------- offsets

  /**
   * Checks an offset commit against the group (KIP-848 rules): from a member, its current member epoch
   * (STALE_MEMBER_EPOCH otherwise, UNKNOWN_MEMBER_ID for a stranger) and OffsetCommit v9+; without a
   * member (epoch −1), only while the group is empty. Null when accepted.
   *
   * One relaxation (the direction Kafka takes after 4.1 with per-partition assignment epochs): a commit
   * at the member's previous epoch is accepted when the member still holds every partition it commits.
   * A commit sent just before a heartbeat moved the member to its next epoch (it got new partitions)
   * would otherwise fail with STALE_MEMBER_EPOCH, which the Java client's commitSync throws as
   * CommitFailedException, although the partitions never left the member.
   */
  validateOffsetCommit(
    group: ConsumerGroup,
    memberId: string,
    memberEpoch: number,
    version: number,
    partitions: readonly { readonly topic: string; readonly partition: number }[],
  ): number | null {
    if (memberEpoch < 0 && group.members.size === 0) return null;
    const member = group.members.get(memberId);
    if (!member) return GroupError.UNKNOWN_MEMBER_ID;
    if (member.classic) return memberEpoch === member.memberEpoch ? null : GroupError.ILLEGAL_GENERATION;
    if (version < 9) return GroupError.UNSUPPORTED_VERSION;
    if (memberEpoch === member.memberEpoch) return null;
    const stillHeld = partitions.every((p) => {
      const topic = this.topics.byName(p.topic);
      return topic !== undefined && group.owner(topic.id, p.partition) === member.memberId;
    });
    return memberEpoch === member.assignment.previousMemberEpoch && memberEpoch > 0 && stillHeld
      ? null
      : GroupError.STALE_MEMBER_EPOCH;
  }

  /** OffsetFetch v9+ from a member: the member must exist at that epoch. Null when accepted. */
  validateOffsetFetch(group: ConsumerGroup, memberId: string | null, memberEpoch: number): number | null {
    if ((memberId === null || memberId === "") && memberEpoch < 0) return null;
    const member = memberId === null ? undefined : group.members.get(memberId);
    if (!member) return GroupError.UNKNOWN_MEMBER_ID;
    if (member.classic) return memberEpoch === member.memberEpoch ? null : GroupError.ILLEGAL_GENERATION;
    return memberEpoch === member.memberEpoch ? null : GroupError.STALE_MEMBER_EPOCH;
  }

  // ----------------------------------------------------------- describe

  async describe(groupId: string): Promise<DescribedConsumerGroup> {
    const failed = (errorCode: number, errorMessage: string | null): DescribedConsumerGroup => ({
      groupId,
      errorCode,
      errorMessage,
      state: "",
      groupEpoch: 0,
      assignmentEpoch: 0,
      assignorName: "",
      members: [],
    });
    if (this.closed) return failed(GroupError.COORDINATOR_NOT_AVAILABLE, null);
    const group = await this.load(groupId);
    if (!group) {
      const classicState = this.classic.stateOf(groupId);
      return failed(
        GroupError.GROUP_ID_NOT_FOUND,
        classicState !== null ? `Group ${groupId} is not a consumer group.` : `Group ${groupId} not found.`,
      );
    }
    const describe = (a: Assignment): DescribedTopicPartitions[] =>
      [...a].map(([topicId, set]) => ({
        topicId,
        topicName: this.topics.byId(topicId)?.name ?? "",
        partitions: [...set].sort((x, y) => x - y),
      }));
    return {
      groupId,
      errorCode: GroupError.NONE,
      errorMessage: null,
      state: group.state,
      groupEpoch: group.groupEpoch,
      assignmentEpoch: group.assignmentEpoch,
      assignorName: group.preferredAssignor() ?? DEFAULT_ASSIGNOR,
      members: [...group.members.values()].map((m) => ({
        memberId: m.memberId,
        instanceId: m.instanceId,
        rackId: m.rackId,
        memberEpoch: m.memberEpoch,
        clientId: m.clientId,
        clientHost: m.clientHost,
        subscribedTopicNames: [...m.subscribedTopicNames],
        subscribedTopicRegex: m.subscribedTopicRegex,
        assignment: describe(m.assignment.assigned),
        targetAssignment: describe(group.targetAssignment.get(m.memberId) ?? new Map()),
        usesClassicProtocol: m.classic !== null,
      })),
    };
  }

  // ---------------------------------------------------- groups in memory

  /** The group held under this id (not Dead), if any. */
  liveGroup(groupId: string): ConsumerGroup | undefined {
    const group = this.groups.get(groupId);
    if (!group) return undefined;
    if (this.store.coordinatorEpoch(groupId) > group.coordinatorEpoch) {
      this.fence(group);
      return undefined;
    }
    return group;
  }

  /** Drops a group another coordinator took over. */
  private fence(group: ConsumerGroup): void {
    this.log.info("another coordinator took the group over; dropping it", { groupId: group.groupId });
    // Each member's next heartbeat here is told NOT_COORDINATOR, so it looks the coordinator up again
    // instead of rejoining here (which would claim the group back from the other agent).
    this.fencedMembers.set(group.groupId, new Set(group.members.keys()));
    this.drop(group);
  }

  /**
   * Consumer groups recorded in the log that no coordinator here holds (neither as a consumer nor as a
   * classic group), as their records say: for listing only (not held, no timers).
   */
  /** Ids of the groups recorded in the log that this coordinator holds neither as consumer nor as classic groups. */
  unloadedRecordIds(): string[] {
    const out: string[] = [];
    for (const [groupId] of this.store.recordedConsumerGroups())
      if (!this.groups.has(groupId) && this.classic.stateOf(groupId) === null) out.push(groupId);
    return out;
  }

  unloadedRecords(): ConsumerGroup[] {
    const out: ConsumerGroup[] = [];
    for (const [groupId, record] of this.store.recordedConsumerGroups()) {
      if (this.groups.has(groupId) || this.classic.stateOf(groupId) !== null) continue;
      try {
        out.push(groupFromRecord(groupId, 0, record));
      } catch {
        // A record no coordinator writes (restore() says so when the group is loaded).
      }
    }
    return out;
  }

  groupsInMemory(): ConsumerGroup[] {
    return [...this.groups.values()].filter((g) => this.liveGroup(g.groupId) === g);
  }

  /** Forgets a group: timers cancelled, members unknown from now on. */
  drop(group: ConsumerGroup): void {
    for (const m of group.members.values()) m.cancelTimers();
    group.dead = true;
    if (this.groups.get(group.groupId) === group) this.groups.delete(group.groupId);
  }

  dropById(groupId: string): void {
    const group = this.groups.get(groupId);
    if (group) this.drop(group);
  }

  unload(shouldUnload: (groupId: string) => boolean): void {
    for (const group of [...this.groups.values()]) if (shouldUnload(group.groupId)) this.drop(group);
  }

  close(): void {
    for (const group of [...this.groups.values()]) this.drop(group);
    this.closed = true;
  }

  private loadGroup(groupId: string): Promise<ConsumerGroup | null> {
    let claim = this.claims.get(groupId);
    if (!claim) {
      claim = this.claimGroup(groupId).finally(() => this.claims.delete(groupId));
      this.claims.set(groupId, claim);
    }
    return claim;
  }

  private async claimGroup(groupId: string): Promise<ConsumerGroup | null> {
    let claimed;
    try {
      claimed = await this.store.claimGroup(groupId, this.coordinatorId);
    } catch (err) {
      this.log.warn("claiming the group failed", { groupId, error: errorMessage(err) });
      return null;
    }
    if (this.closed) return null;
    const held = this.groups.get(groupId);
    if (held) return held;
    const classicState = this.classic.stateOf(groupId);
    if (classicState !== null) {
      if (classicState !== "Empty" && classicState !== "Dead") return null;
      this.classic.drop(groupId);
    }
    const group = this.restore(groupId, claimed.coordinatorEpoch, claimed.consumerGroup);
    this.groups.set(groupId, group);
    this.fencedMembers.delete(groupId);
    this.log.info("coordinating consumer group", {
      groupId,
      coordinatorEpoch: claimed.coordinatorEpoch,
      members: group.members.size,
      groupEpoch: group.groupEpoch,
    });
    return group;
  }

  /**
   * The group as its record left it (a new, empty one without a record), with every member's session
   * timeout started afresh and a rebalance timeout for each member that still has partitions to revoke.
   */
  private restore(groupId: string, coordinatorEpoch: number, record: ConsumerGroupRecord | null): ConsumerGroup {
    if (record === null) return new ConsumerGroup(groupId, coordinatorEpoch);
    let group: ConsumerGroup;
    try {
      group = groupFromRecord(groupId, coordinatorEpoch, record);
    } catch (err) {
      // Not written by a correct coordinator: start empty; members rejoin (the record is replaced).
      this.log.error("the consumer group's record cannot be restored; starting it empty", {
        groupId,
        error: errorMessage(err),
      });
      const fresh = new ConsumerGroup(groupId, coordinatorEpoch);
      fresh.groupEpoch = record.groupEpoch;
      fresh.changeCount++;
      return fresh;
    }
    this.recorder.recorded(group);
    for (const member of group.members.values()) {
      this.scheduleSessionTimeout(group, member);
      if (member.assignment.state === "UNREVOKED_PARTITIONS") this.scheduleRebalanceTimeout(group, member);
    }
    return group;
  }

  /** The group held here, or loaded from its record when it has one; undefined when neither. */
  async load(groupId: string): Promise<ConsumerGroup | undefined> {
    const live = this.liveGroup(groupId);
    if (live || this.closed || !this.store.hasConsumerGroupRecord(groupId)) return live;
    return (await this.loadGroup(groupId)) ?? undefined;
  }

  /**
   * Records changes made outside a ConsumerGroupHeartbeat (a classic member's JoinGroup or LeaveGroup):
   * NONE once recorded, else the error to answer (the group is then dropped, as after a heartbeat).
   */
  async recordGroup(group: ConsumerGroup): Promise<number> {
    return (await this.recordChanges(group))?.errorCode ?? GroupError.NONE;
  }

  /** Removes the record of a group that went back to being a classic group (migration.ts). */
  forgetRecord(group: ConsumerGroup): void {
    this.recorder.forget(group);
  }

  /** Records the group's changes: null once recorded (or when nothing changed), else the answer to give. */
  private async recordChanges(group: ConsumerGroup): Promise<ConsumerHeartbeatResult | null> {
    const code = await this.recorder.record(group);
    if (code === GroupError.NONE) return null;
    if (code === GroupError.NOT_COORDINATOR) {
      if (this.groups.get(group.groupId) === group) this.fence(group);
      return heartbeatError(GroupError.NOT_COORDINATOR, "Another agent coordinates the group now.");
    }
    // The log could not take the change: forget the group; the next request loads what is recorded.
    if (this.groups.get(group.groupId) === group) this.drop(group);
    return heartbeatError(GroupError.COORDINATOR_NOT_AVAILABLE, null);
  }

  // ------------------------------------ migration and classic members (migration.ts, classic-members.ts)

  /** Takes over a group converted from a classic group: its members' sessions start now. */
  adopt(group: ConsumerGroup): void {
    this.groups.set(group.groupId, group);
    this.fencedMembers.delete(group.groupId);
    group.subscriptionSignature = this.subscriptionSignature(group);
    for (const m of group.members.values()) this.scheduleSessionTimeout(group, m);
  }

  /**
   * A classic member's JoinGroup as steps (2)–(4) of a heartbeat: adds the member or takes its update
   * (the group epoch is bumped when it is new or `changed` its subscription), computes a new target
   * assignment when due, and moves the member towards its target given the partitions it `owned`.
   */
  joinClassicMember(group: ConsumerGroup, member: ConsumerMember, changed: boolean, owned: Assignment): void {
    // Its session timeout or protocols may have changed: recorded with the rest (coordinator.ts waits).
    group.changeCount++;
    this.advance(group, member, changed || !group.members.has(member.memberId), owned);
  }

  /**
   * Whether `memberId` was a member of the group under this id when it was dropped for a newer
   * coordinator epoch and has not been told yet (it is now: the caller answers NOT_COORDINATOR).
   */
  takeFencedMember(groupId: string, memberId: string): boolean {
    const fenced = this.fencedMembers.get(groupId);
    if (!fenced?.delete(memberId)) return false;
    if (fenced.size === 0) this.fencedMembers.delete(groupId);
    return true;
  }

  /** Restarts a member's session (a classic member's Heartbeat or SyncGroup). */
  renewSession(group: ConsumerGroup, member: ConsumerMember): void {
    this.scheduleSessionTimeout(group, member);
  }
}

/** What a heartbeat may change of a member besides its subscription and assignment (recorded too). */
function memberMetadata(m: ConsumerMember): string {
  return JSON.stringify([m.instanceId, m.rackId, m.rebalanceTimeoutMs, m.serverAssignor, m.clientId, m.clientHost]);
}

function sameNames(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  const set = new Set(a);
  return b.every((n) => set.has(n));
}

/** For tests and logs: who holds what. */
export function ownership(group: ConsumerGroup): Map<string, string> {
  const out = new Map<string, string>();
  for (const m of group.members.values())
    for (const part of [m.assignment.assigned, m.assignment.pendingRevocation])
      for (const [t, p] of partitionsOf(part)) out.set(`${t}:${p}`, m.memberId);
  return out;
}
