/**
 * Group membership: JoinGroup, SyncGroup, Heartbeat and LeaveGroup, with the rebalances, generations and
 * sessions they drive, as Apache Kafka's classic GroupCoordinator behaves: states Empty →
 * PreparingRebalance → CompletingRebalance → Stable (+ Dead); KIP-394 member ids (MEMBER_ID_REQUIRED and
 * pending members); KIP-345 static members (replaced without a rebalance while the group's selected
 * protocol does not change; KIP-814 skipAssignment for a static leader on JoinGroup v9+); the delayed
 * first rebalance of an empty group (group.initial.rebalance.delay.ms, extended while members keep
 * joining, bounded by the rebalance timeout); session expiry; pending-sync expiry (members that never send
 * SyncGroup are removed after the rebalance timeout). Holds the groups in memory.
 *
 * Fenced through the GroupOffsetStore (offset-store.ts): a group enters memory only once this coordinator
 * has claimed a new coordinator epoch for it, its generations continue after the last one recorded, and a
 * generation's assignment is handed out only once recorded under that epoch. A group whose epoch is no
 * longer the latest (another agent claimed it) is dropped, its waiting requests are answered
 * NOT_COORDINATOR, and so is each of its members' next request, so they look the coordinator up again;
 * after that the group is unknown here like any other.
 */
import { randomUUID } from "node:crypto";
import { errorMessage, type Logger } from "../../../common/logger.js";
import type { GroupCoordinatorConfig } from "./config.js";
import {
  EMPTY_BYTES,
  GroupError,
  joinError,
  syncError,
  type HeartbeatInput,
  type JoinGroupInput,
  type JoinGroupResult,
  type JoinWaiter,
  type LeaveGroupResult,
  type LeavingMember,
  type SyncGroupInput,
  type SyncGroupResult,
  type SyncWaiter,
} from "./coordinator-io.js";
import { Group, Member } from "./group.js";
import type { GroupOffsetStore } from "./offset-store.js";
import type { TimerSeam } from "./timer.js";

export class GroupMembership {
  private readonly groups = new Map<string, Group>();
  /** Claims of a coordinator epoch in flight, by group: concurrent first requests share one. */
  private readonly claims = new Map<string, Promise<Group | null>>();
  /** Members of groups dropped for a newer coordinator epoch, not yet told NOT_COORDINATOR: group → member ids. */
  private readonly fencedMembers = new Map<string, Set<string>>();
  private closed = false;

  /** @param coordinatorId names this coordinator in the epochs it claims */
  constructor(
    private readonly config: GroupCoordinatorConfig,
    private readonly timers: TimerSeam,
    private readonly log: Logger,
    private readonly store: GroupOffsetStore,
    private readonly coordinatorId: string,
  ) {}

  // ---------------------------------------------------------------- JoinGroup

  async joinGroup(input: JoinGroupInput): Promise<JoinGroupResult> {
    const invalid = this.joinRequestError(input);
    if (invalid !== null) return joinError(input.memberId, invalid);
    let group = this.groups.get(input.groupId);
    if (!group) {
      // A member id for a group that does not exist is stale.
      if (input.memberId !== "")
        return joinError(input.memberId, this.unknownGroupError(input.groupId, input.memberId));
      group = await this.loadGroupOrWarn(input.groupId);
      if (!group) return joinError(input.memberId, GroupError.COORDINATOR_NOT_AVAILABLE);
    }
    const joining = group;
    return new Promise<JoinGroupResult>((resolve) => {
      try {
        this.doJoinGroup(joining, input, resolve);
      } catch (err) {
        this.log.error("JoinGroup failed", { groupId: input.groupId, error: errorMessage(err) });
        resolve(joinError(input.memberId, GroupError.UNKNOWN_SERVER_ERROR));
      }
    });
  }

  /** The error for a JoinGroup that no group state can accept, or null. */
  private joinRequestError(input: JoinGroupInput): number | null {
    if (this.closed) return GroupError.COORDINATOR_NOT_AVAILABLE;
    if (input.groupId === "") return GroupError.INVALID_GROUP_ID;
    if (
      input.sessionTimeoutMs < this.config.minSessionTimeoutMs ||
      input.sessionTimeoutMs > this.config.maxSessionTimeoutMs
    ) {
      return GroupError.INVALID_SESSION_TIMEOUT;
    }
    return null;
  }

  private doJoinGroup(group: Group, input: JoinGroupInput, respond: JoinWaiter): void {
    if (this.closed) return respond(joinError(input.memberId, GroupError.COORDINATOR_NOT_AVAILABLE));
    if (this.dropIfFenced(group, input.memberId)) return respond(joinError(input.memberId, GroupError.NOT_COORDINATOR));
    const isUnknownMember = input.memberId === "";
    if (!group.acceptsJoiningMember(input.memberId, this.config.maxGroupSize)) {
      const existing = group.members.get(input.memberId);
      if (existing) this.removeMemberAndUpdateGroup(group, existing, "group is over its maximum size");
      respond(joinError("", GroupError.GROUP_MAX_SIZE_REACHED));
    } else if (isUnknownMember) {
      this.doNewMemberJoin(group, input, respond);
    } else {
      this.doCurrentMemberJoin(group, input, respond);
    }
    if (group.is("PreparingRebalance")) this.maybeCompleteJoin(group);
  }

  private doNewMemberJoin(group: Group, input: JoinGroupInput, respond: JoinWaiter): void {
    if (group.is("Dead")) return respond(joinError("", GroupError.COORDINATOR_NOT_AVAILABLE));
    if (
      !group.supportsProtocols(
        input.protocolType,
        input.protocols.map((p) => p.name),
      )
    ) {
      return respond(joinError("", GroupError.INCONSISTENT_GROUP_PROTOCOL));
    }
    const newMemberId = `${input.groupInstanceId ?? input.clientId}-${randomUUID()}`;
    if (input.groupInstanceId !== null) {
      const oldMemberId = group.staticMembers.get(input.groupInstanceId);
      if (oldMemberId !== undefined) {
        this.log.info("static member rejoins with a new member id", {
          groupId: group.groupId,
          groupInstanceId: input.groupInstanceId,
          oldMemberId,
          newMemberId,
        });
        this.updateStaticMemberAndRebalance(group, oldMemberId, newMemberId, input, respond);
      } else {
        this.addMemberAndRebalance(group, newMemberId, input, respond);
      }
    } else if (input.requireKnownMemberId) {
      // KIP-394: hand out the id and wait for the member to join again with it.
      const expiry = this.timers.schedule(input.sessionTimeoutMs, () =>
        this.onPendingMemberExpired(group, newMemberId),
      );
      group.pendingMembers.set(newMemberId, expiry);
      respond(joinError(newMemberId, GroupError.MEMBER_ID_REQUIRED));
    } else {
      this.addMemberAndRebalance(group, newMemberId, input, respond);
    }
  }

  private doCurrentMemberJoin(group: Group, input: JoinGroupInput, respond: JoinWaiter): void {
    const memberId = input.memberId;
    if (group.is("Dead")) return respond(joinError(memberId, GroupError.COORDINATOR_NOT_AVAILABLE));
    if (
      !group.supportsProtocols(
        input.protocolType,
        input.protocols.map((p) => p.name),
      )
    ) {
      return respond(joinError(memberId, GroupError.INCONSISTENT_GROUP_PROTOCOL));
    }
    const pendingExpiry = group.pendingMembers.get(memberId);
    if (pendingExpiry !== undefined) {
      if (input.groupInstanceId !== null) {
        // Pending members are always dynamic; a static id here is a confused client.
        return respond(joinError(memberId, GroupError.UNKNOWN_MEMBER_ID));
      }
      pendingExpiry();
      group.pendingMembers.delete(memberId);
      this.addMemberAndRebalance(group, memberId, input, respond);
      return;
    }
    const error = group.validateCurrentMember(memberId, input.groupInstanceId);
    if (error !== null) return respond(joinError(memberId, error));
    const member = group.members.get(memberId)!;
    switch (group.state) {
      case "PreparingRebalance":
        this.updateMemberAndRebalance(
          group,
          member,
          input,
          respond,
          `member ${memberId} joining during PreparingRebalance`,
        );
        return;
      case "CompletingRebalance":
        if (member.matches(input.protocols)) {
          // The member lost the JoinGroup response: answer again for the current generation.
          respond(this.joinResultFor(group, member, false));
        } else {
          this.updateMemberAndRebalance(group, member, input, respond, `member ${memberId} changed its metadata`);
        }
        return;
      case "Stable":
        if (group.isLeader(memberId)) {
          // The leader rejoins to force a rebalance (for example after topic metadata changed).
          this.updateMemberAndRebalance(group, member, input, respond, `leader ${memberId} rejoined`);
        } else if (!member.matches(input.protocols)) {
          this.updateMemberAndRebalance(group, member, input, respond, `member ${memberId} changed its metadata`);
        } else {
          respond({ ...this.joinResultFor(group, member, false), members: [] });
        }
        return;
      case "Empty":
      case "Dead":
        respond(joinError(memberId, GroupError.UNKNOWN_MEMBER_ID));
        return;
    }
  }

  private joinResultFor(group: Group, member: Member, skipAssignment: boolean): JoinGroupResult {
    return {
      errorCode: GroupError.NONE,
      generationId: group.generationId,
      protocolType: group.protocolType,
      protocolName: group.protocolName,
      leader: group.leaderId ?? "",
      skipAssignment,
      memberId: member.memberId,
      members: group.isLeader(member.memberId) ? group.currentMemberMetadata() : [],
    };
  }

  private addMemberAndRebalance(group: Group, memberId: string, input: JoinGroupInput, respond: JoinWaiter): void {
    const member = new Member(
      memberId,
      input.groupInstanceId,
      input.clientId,
      input.clientHost,
      input.rebalanceTimeoutMs,
      input.sessionTimeoutMs,
      input.protocolType,
      input.protocols,
    );
    member.isNew = true;
    if (group.is("PreparingRebalance") && group.generationId === 0) group.newMemberAdded = true;
    if (group.members.size === 0) group.protocolType = input.protocolType;
    if (group.leaderId === null) group.leaderId = memberId;
    group.members.set(memberId, member);
    if (input.groupInstanceId !== null) group.staticMembers.set(input.groupInstanceId, memberId);
    member.joinWaiter = respond;
    // A new member cannot heartbeat before its JoinGroup returns; a disconnected one is dropped after this.
    this.scheduleExpiration(group, member, this.config.newMemberJoinTimeoutMs);
    this.log.info("member joins", {
      groupId: group.groupId,
      memberId,
      groupInstanceId: input.groupInstanceId,
      state: group.state,
    });
    this.maybePrepareRebalance(group, `new member ${memberId} joined`);
  }

  private updateMemberAndRebalance(
    group: Group,
    member: Member,
    input: JoinGroupInput,
    respond: JoinWaiter,
    reason: string,
  ): void {
    this.updateMember(member, input, respond);
    this.maybePrepareRebalance(group, reason);
  }

  private updateMember(member: Member, input: JoinGroupInput, respond: JoinWaiter | null): void {
    member.protocols = input.protocols;
    member.rebalanceTimeoutMs = input.rebalanceTimeoutMs;
    member.sessionTimeoutMs = input.sessionTimeoutMs;
    // A retried JoinGroup supersedes the earlier one, which must not hang.
    if (member.joinWaiter && member.joinWaiter !== respond) {
      const previous = member.joinWaiter;
      member.joinWaiter = null;
      previous(joinError(member.memberId, GroupError.REBALANCE_IN_PROGRESS));
    }
    member.joinWaiter = respond;
  }

  private updateStaticMemberAndRebalance(
    group: Group,
    oldMemberId: string,
    newMemberId: string,
    input: JoinGroupInput,
    respond: JoinWaiter,
  ): void {
    const currentLeader = group.leaderId;
    const member = this.replaceStaticMember(group, input.groupInstanceId!, oldMemberId, newMemberId);
    this.scheduleExpiration(group, member, member.sessionTimeoutMs);
    this.updateMember(member, input, respond);
    switch (group.state) {
      case "Stable": {
        // No rebalance while the group's protocol for the next generation stays the same (KIP-345).
        if (group.protocolName === group.selectProtocol()) {
          const isLeader = group.isLeader(newMemberId);
          let result: JoinGroupResult;
          if (input.supportSkippingAssignment) {
            // KIP-814: tell a static leader it leads, but that it must not run the assignor.
            result = this.joinResultFor(group, member, isLeader);
          } else {
            // Older clients: answer with the old leader id so this member never assigns in a Stable group.
            result = { ...this.joinResultFor(group, member, false), leader: currentLeader ?? "", members: [] };
          }
          member.joinWaiter = null;
          respond(result);
        } else {
          this.maybePrepareRebalance(group, `static member ${newMemberId} changes the selected protocol`);
        }
        return;
      }
      case "CompletingRebalance":
        // The leader may have been handed the old member id: rebalance so the new id gets an assignment.
        this.prepareRebalance(group, `static member ${newMemberId} rejoined during CompletingRebalance`);
        return;
      case "PreparingRebalance":
        return;
      case "Empty":
      case "Dead":
        throw new Error(`group ${group.groupId} in state ${group.state} has static member ${input.groupInstanceId}`);
    }
  }

  private replaceStaticMember(group: Group, groupInstanceId: string, oldMemberId: string, newMemberId: string): Member {
    const member = group.members.get(oldMemberId);
    if (!member) throw new Error(`cannot replace unknown member ${oldMemberId}`);
    // Fence the old incarnation immediately if it is waiting.
    this.invokeJoin(member, joinError(oldMemberId, GroupError.FENCED_INSTANCE_ID));
    this.invokeSync(member, syncError(GroupError.FENCED_INSTANCE_ID));
    group.members.delete(oldMemberId);
    member.memberId = newMemberId;
    group.members.set(newMemberId, member);
    if (group.isLeader(oldMemberId)) group.leaderId = newMemberId;
    if (group.pendingSyncMembers.delete(oldMemberId)) group.pendingSyncMembers.add(newMemberId);
    group.staticMembers.set(groupInstanceId, newMemberId);
    return member;
  }

  private invokeJoin(member: Member, result: JoinGroupResult): boolean {
    const waiter = member.joinWaiter;
    if (!waiter) return false;
    member.joinWaiter = null;
    waiter(result);
    return true;
  }

  private invokeSync(member: Member, result: SyncGroupResult): boolean {
    const waiter = member.syncWaiter;
    if (!waiter) return false;
    member.syncWaiter = null;
    waiter(result);
    return true;
  }

  // ------------------------------------------------------------ rebalancing

  private maybePrepareRebalance(group: Group, reason: string): void {
    if (group.canRebalance) this.prepareRebalance(group, reason);
  }

  private prepareRebalance(group: Group, reason: string): void {
    if (group.is("CompletingRebalance")) this.resetAndPropagateAssignmentError(group, GroupError.REBALANCE_IN_PROGRESS);
    this.clearPendingSync(group);
    this.cancelJoinTimer(group);
    const wasEmpty = group.is("Empty");
    group.transitionTo("PreparingRebalance");
    this.log.info("preparing to rebalance", { groupId: group.groupId, generationId: group.generationId, reason });
    if (wasEmpty) {
      const delay = this.config.initialRebalanceDelayMs;
      group.initialJoin = true;
      group.newMemberAdded = false;
      this.scheduleInitialJoin(group, delay, Math.max(group.rebalanceTimeoutMs - delay, 0));
    } else {
      group.initialJoin = false;
      group.joinTimer = this.timers.schedule(group.rebalanceTimeoutMs, () => {
        group.joinTimer = null;
        this.completeJoin(group);
      });
      this.maybeCompleteJoin(group);
    }
  }

  /** The delayed first join of an empty group: waits `delayMs`, then again while new members keep arriving. */
  private scheduleInitialJoin(group: Group, delayMs: number, remainingMs: number): void {
    group.joinTimer = this.timers.schedule(delayMs, () => {
      group.joinTimer = null;
      if (group.newMemberAdded && remainingMs > 0) {
        group.newMemberAdded = false;
        const next = Math.min(this.config.initialRebalanceDelayMs, remainingMs);
        this.scheduleInitialJoin(group, next, Math.max(remainingMs - next, 0));
      } else {
        this.completeJoin(group);
      }
    });
  }

  private cancelJoinTimer(group: Group): void {
    group.joinTimer?.();
    group.joinTimer = null;
  }

  /** Ends the join phase early when every known member has rejoined (never during the initial delay). */
  private maybeCompleteJoin(group: Group): void {
    if (group.is("PreparingRebalance") && !group.initialJoin && group.hasAllMembersJoined) this.completeJoin(group);
  }

  private completeJoin(group: Group): void {
    if (!group.is("PreparingRebalance")) return;
    this.cancelJoinTimer(group);
    group.initialJoin = false;
    for (const member of [...group.members.values()]) {
      // Dynamic members that did not rejoin in time are gone; static ones stay until their session expires.
      if (!member.awaitingJoin && member.groupInstanceId === null) {
        this.log.info("removing member that did not rejoin", { groupId: group.groupId, memberId: member.memberId });
        this.removeMember(group, member);
      }
    }
    if (!group.maybeElectNewJoinedLeader() && group.members.size > 0) {
      // Nobody rejoined: wait another rebalance timeout for session expiry to clear the group.
      this.log.warn("no member rejoined; extending the join phase", { groupId: group.groupId });
      group.joinTimer = this.timers.schedule(group.rebalanceTimeoutMs, () => {
        group.joinTimer = null;
        this.completeJoin(group);
      });
      return;
    }
    group.initNextGeneration();
    if (group.is("Empty")) {
      this.log.info("group is now empty", { groupId: group.groupId, generationId: group.generationId });
      return;
    }
    this.log.info("group stabilized", {
      groupId: group.groupId,
      generationId: group.generationId,
      members: group.members.size,
      protocol: group.protocolName,
    });
    for (const member of group.members.values()) {
      this.invokeJoin(member, this.joinResultFor(group, member, false));
      this.scheduleExpiration(group, member, member.sessionTimeoutMs);
      member.isNew = false;
      group.pendingSyncMembers.add(member.memberId);
    }
    this.schedulePendingSync(group);
  }

  private schedulePendingSync(group: Group): void {
    const generationId = group.generationId;
    group.syncTimer?.();
    group.syncTimer = this.timers.schedule(group.rebalanceTimeoutMs, () => {
      group.syncTimer = null;
      this.onPendingSyncExpired(group, generationId);
    });
  }

  private clearPendingSync(group: Group): void {
    group.pendingSyncMembers.clear();
    group.syncTimer?.();
    group.syncTimer = null;
  }

  private removePendingSyncMember(group: Group, memberId: string): void {
    group.pendingSyncMembers.delete(memberId);
    if (group.pendingSyncMembers.size === 0) {
      group.syncTimer?.();
      group.syncTimer = null;
    }
  }

  private onPendingSyncExpired(group: Group, generationId: number): void {
    if (generationId !== group.generationId) return;
    if (!(group.is("CompletingRebalance") || group.is("Stable")) || group.pendingSyncMembers.size === 0) return;
    const missing = [...group.pendingSyncMembers];
    this.log.info("removing members that did not send SyncGroup", { groupId: group.groupId, members: missing });
    for (const memberId of missing) {
      const member = group.members.get(memberId);
      if (member) this.removeMember(group, member);
    }
    this.prepareRebalance(group, `members ${missing.join(", ")} did not sync in time`);
  }

  private resetAndPropagateAssignmentError(group: Group, errorCode: number): void {
    for (const member of group.members.values()) member.assignment = EMPTY_BYTES;
    this.propagateAssignment(group, errorCode);
  }

  private setAndPropagateAssignment(group: Group, assignment: ReadonlyMap<string, Uint8Array>): void {
    for (const member of group.members.values()) member.assignment = assignment.get(member.memberId) ?? EMPTY_BYTES;
    this.propagateAssignment(group, GroupError.NONE);
  }

  private propagateAssignment(group: Group, errorCode: number): void {
    const ok = errorCode === GroupError.NONE;
    for (const member of group.members.values()) {
      const result: SyncGroupResult = {
        errorCode,
        protocolType: ok ? group.protocolType : null,
        protocolName: ok ? group.protocolName : null,
        assignment: member.assignment,
      };
      // A member whose session ran out while it waited for the leader gets a fresh session.
      if (this.invokeSync(member, result)) this.scheduleExpiration(group, member, member.sessionTimeoutMs);
    }
  }

  // ------------------------------------------------------- member expiry

  scheduleExpiration(group: Group, member: Member, timeoutMs: number): void {
    member.heartbeatTimer?.();
    member.heartbeatTimer = this.timers.schedule(timeoutMs, () => {
      member.heartbeatTimer = null;
      this.onMemberExpired(group, member);
    });
  }

  private onMemberExpired(group: Group, member: Member): void {
    if (group.members.get(member.memberId) !== member) return;
    // Members waiting on the coordinator (JoinGroup/SyncGroup in flight) are not expected to heartbeat;
    // they get a fresh session when their request completes. New members have no such grace.
    if (!member.isNew && (member.awaitingJoin || member.awaitingSync)) return;
    this.log.info("member session expired; removing it", { groupId: group.groupId, memberId: member.memberId });
    this.removeMemberAndUpdateGroup(group, member, `member ${member.memberId} session expired`);
  }

  private onPendingMemberExpired(group: Group, memberId: string): void {
    if (!group.pendingMembers.delete(memberId)) return;
    this.log.info("pending member expired", { groupId: group.groupId, memberId });
    if (group.is("PreparingRebalance")) this.maybeCompleteJoin(group);
  }

  /** Removes a member from the maps (no state transition). */
  private removeMember(group: Group, member: Member): void {
    member.heartbeatTimer?.();
    member.heartbeatTimer = null;
    group.members.delete(member.memberId);
    if (member.groupInstanceId !== null && group.staticMembers.get(member.groupInstanceId) === member.memberId) {
      group.staticMembers.delete(member.groupInstanceId);
    }
    group.pendingSyncMembers.delete(member.memberId);
    if (group.isLeader(member.memberId)) group.leaderId = group.members.keys().next().value ?? null;
  }

  private removeMemberAndUpdateGroup(group: Group, member: Member, reason: string): void {
    // A member removed while its JoinGroup/SyncGroup waits is answered, so it rejoins if still alive.
    this.invokeJoin(member, joinError("", GroupError.UNKNOWN_MEMBER_ID));
    this.invokeSync(member, syncError(GroupError.UNKNOWN_MEMBER_ID));
    this.removeMember(group, member);
    switch (group.state) {
      case "Stable":
      case "CompletingRebalance":
        this.maybePrepareRebalance(group, reason);
        break;
      case "PreparingRebalance":
        this.maybeCompleteJoin(group);
        break;
      case "Empty":
      case "Dead":
        break;
    }
  }

  // ---------------------------------------------------------------- SyncGroup

  syncGroup(input: SyncGroupInput): Promise<SyncGroupResult> {
    return new Promise<SyncGroupResult>((resolve) => {
      try {
        this.doSyncGroup(input, resolve);
      } catch (err) {
        this.log.error("SyncGroup failed", { groupId: input.groupId, error: errorMessage(err) });
        resolve(syncError(GroupError.UNKNOWN_SERVER_ERROR));
      }
    });
  }

  private doSyncGroup(input: SyncGroupInput, respond: SyncWaiter): void {
    if (this.closed) return respond(syncError(GroupError.COORDINATOR_NOT_AVAILABLE));
    const group = this.groups.get(input.groupId);
    if (!group) return respond(syncError(this.unknownGroupError(input.groupId, input.memberId)));
    if (this.dropIfFenced(group, input.memberId)) return respond(syncError(GroupError.NOT_COORDINATOR));
    if (group.is("Dead")) return respond(syncError(GroupError.COORDINATOR_NOT_AVAILABLE));
    const error =
      group.validateCurrentMember(input.memberId, input.groupInstanceId) ??
      (input.generationId !== group.generationId
        ? GroupError.ILLEGAL_GENERATION
        : (input.protocolType !== null && input.protocolType !== group.protocolType) ||
            (input.protocolName !== null && input.protocolName !== group.protocolName)
          ? GroupError.INCONSISTENT_GROUP_PROTOCOL
          : null);
    if (error !== null) return respond(syncError(error));
    const member = group.members.get(input.memberId)!;
    switch (group.state) {
      case "Empty":
        return respond(syncError(GroupError.UNKNOWN_MEMBER_ID));
      case "PreparingRebalance":
        return respond(syncError(GroupError.REBALANCE_IN_PROGRESS));
      case "CompletingRebalance": {
        if (member.syncWaiter) this.invokeSync(member, syncError(GroupError.REBALANCE_IN_PROGRESS));
        member.syncWaiter = respond;
        this.removePendingSyncMember(group, member.memberId);
        if (group.isLeader(member.memberId)) {
          const assignment = new Map<string, Uint8Array>();
          for (const a of input.assignments)
            if (group.members.has(a.memberId)) assignment.set(a.memberId, a.assignment);
          const missing = [...group.members.keys()].filter((id) => !assignment.has(id));
          if (missing.length > 0)
            this.log.warn("leader assigned nothing to some members", { groupId: group.groupId, members: missing });
          this.storeAssignment(group, assignment);
        }
        return;
      }
      case "Stable":
        this.removePendingSyncMember(group, member.memberId);
        respond({
          errorCode: GroupError.NONE,
          protocolType: group.protocolType,
          protocolName: group.protocolName,
          assignment: member.assignment,
        });
        this.scheduleExpiration(group, member, member.sessionTimeoutMs);
        return;
      case "Dead":
        return respond(syncError(GroupError.COORDINATOR_NOT_AVAILABLE));
    }
  }

  /**
   * Records the generation under this coordinator's epoch, then hands out the assignment and makes the
   * group Stable (Kafka stores the group's assignment before answering SyncGroup the same way). Nobody
   * gets an assignment from a coordinator another agent has fenced; should the group have moved on
   * meanwhile (a new rebalance, a drop), the outcome is ignored.
   */
  private storeAssignment(group: Group, assignment: ReadonlyMap<string, Uint8Array>): void {
    const generationId = group.generationId;
    const done = (errorCode: number): void => {
      if (this.groups.get(group.groupId) !== group || !group.is("CompletingRebalance")) return;
      if (group.generationId !== generationId) return;
      if (errorCode === GroupError.NONE) {
        this.setAndPropagateAssignment(group, assignment);
        group.transitionTo("Stable");
        this.log.info("group is stable", { groupId: group.groupId, generationId });
      } else if (errorCode === GroupError.NOT_COORDINATOR) {
        this.fence(group);
      } else {
        this.resetAndPropagateAssignmentError(group, errorCode);
        this.maybePrepareRebalance(group, `storing the assignment of generation ${generationId} failed`);
      }
    };
    this.store
      .recordGeneration(group.groupId, { coordinatorEpoch: group.coordinatorEpoch, generationId })
      .then(done, (err: unknown) => {
        this.log.warn("storing the group's generation failed", { groupId: group.groupId, error: errorMessage(err) });
        done(GroupError.COORDINATOR_NOT_AVAILABLE);
      });
  }

  // ---------------------------------------------------------------- Heartbeat

  /** Returns the error code for the Heartbeat response. */
  heartbeat(input: HeartbeatInput): number {
    if (this.closed) return GroupError.COORDINATOR_NOT_AVAILABLE;
    const group = this.groups.get(input.groupId);
    if (!group) return this.unknownGroupError(input.groupId, input.memberId);
    if (this.dropIfFenced(group, input.memberId)) return GroupError.NOT_COORDINATOR;
    if (group.is("Dead")) return GroupError.COORDINATOR_NOT_AVAILABLE;
    const error = group.validateCurrentMember(input.memberId, input.groupInstanceId);
    if (error !== null) return error;
    if (input.generationId !== group.generationId) return GroupError.ILLEGAL_GENERATION;
    const member = group.members.get(input.memberId)!;
    switch (group.state) {
      case "Empty":
        return GroupError.UNKNOWN_MEMBER_ID;
      case "CompletingRebalance":
      case "Stable":
        this.scheduleExpiration(group, member, member.sessionTimeoutMs);
        return GroupError.NONE;
      case "PreparingRebalance":
        this.scheduleExpiration(group, member, member.sessionTimeoutMs);
        return GroupError.REBALANCE_IN_PROGRESS;
      case "Dead":
        return GroupError.COORDINATOR_NOT_AVAILABLE;
    }
  }

  // --------------------------------------------------------------- LeaveGroup

  leaveGroup(groupId: string, leaving: readonly LeavingMember[]): LeaveGroupResult {
    if (this.closed) return { errorCode: GroupError.COORDINATOR_NOT_AVAILABLE, members: [] };
    const group = this.groups.get(groupId);
    const answer = (m: LeavingMember, errorCode: number) => ({
      memberId: m.memberId,
      groupInstanceId: m.groupInstanceId,
      errorCode,
    });
    if (!group)
      return {
        errorCode: GroupError.NONE,
        members: leaving.map((m) => answer(m, this.unknownGroupError(groupId, m.memberId))),
      };
    if (this.dropIfFenced(group)) return { errorCode: GroupError.NOT_COORDINATOR, members: [] };
    if (group.is("Dead")) return { errorCode: GroupError.COORDINATOR_NOT_AVAILABLE, members: [] };
    const members = leaving.map((m) => {
      const reason = `member left the group (${m.reason ?? "no reason given"})`;
      if (m.memberId === "") {
        // Administrative removal of a static member by its instance id.
        const current = m.groupInstanceId !== null ? group.staticMembers.get(m.groupInstanceId) : undefined;
        if (current === undefined) return answer(m, GroupError.UNKNOWN_MEMBER_ID);
        this.removeMemberAndUpdateGroup(group, group.members.get(current)!, reason);
        return answer(m, GroupError.NONE);
      }
      const pendingExpiry = group.pendingMembers.get(m.memberId);
      if (pendingExpiry !== undefined) {
        pendingExpiry();
        group.pendingMembers.delete(m.memberId);
        if (group.is("PreparingRebalance")) this.maybeCompleteJoin(group);
        return answer(m, GroupError.NONE);
      }
      const error = group.validateCurrentMember(m.memberId, m.groupInstanceId);
      if (error !== null) return answer(m, error);
      this.log.info("member leaves", { groupId, memberId: m.memberId, reason: m.reason ?? null });
      this.removeMemberAndUpdateGroup(group, group.members.get(m.memberId)!, reason);
      return answer(m, GroupError.NONE);
    });
    return { errorCode: GroupError.NONE, members };
  }

  // ------------------------------------------------------- groups in memory

  /** Marks a group Dead, answers anything waiting with `errorCode`, cancels its timers and forgets it. */
  dropGroup(group: Group, errorCode: number = GroupError.COORDINATOR_NOT_AVAILABLE): void {
    group.transitionTo("Dead");
    for (const member of group.members.values()) {
      member.heartbeatTimer?.();
      member.heartbeatTimer = null;
      this.invokeJoin(member, joinError(member.memberId, errorCode));
      this.invokeSync(member, syncError(errorCode));
    }
    for (const cancel of group.pendingMembers.values()) cancel();
    group.pendingMembers.clear();
    this.cancelJoinTimer(group);
    this.clearPendingSync(group);
    if (this.groups.get(group.groupId) === group) this.groups.delete(group.groupId);
  }

  /**
   * Takes over a Stable group converted from a KIP-848 consumer group (migration.ts): its members' sessions
   * start now, and with a `rebalanceReason` a rebalance starts at once so they rejoin under the classic
   * protocol.
   */
  adoptConverted(group: Group, rebalanceReason: string | null): void {
    this.groups.set(group.groupId, group);
    this.fencedMembers.delete(group.groupId);
    for (const member of group.members.values()) this.scheduleExpiration(group, member, member.sessionTimeoutMs);
    if (rebalanceReason !== null) this.prepareRebalance(group, rebalanceReason);
  }

  /**
   * Forgets groups this agent no longer coordinates (the coordinator moved to another agent): their
   * waiting JoinGroup/SyncGroup requests are answered NOT_COORDINATOR so the clients look it up again.
   */
  unloadGroups(shouldUnload: (groupId: string) => boolean): void {
    for (const group of [...this.groups.values()]) {
      if (shouldUnload(group.groupId)) {
        this.log.info("unloading group", { groupId: group.groupId, state: group.state });
        this.dropGroup(group, GroupError.NOT_COORDINATOR);
      }
    }
  }

  /** Group ids held in memory (membership state), for metrics and tests. */
  groupIds(): string[] {
    return [...this.groups.keys()];
  }

  /** Cancels every timer and answers waiting requests with COORDINATOR_NOT_AVAILABLE. */
  close(): void {
    if (this.closed) return;
    for (const group of [...this.groups.values()]) this.dropGroup(group, GroupError.COORDINATOR_NOT_AVAILABLE);
    this.fencedMembers.clear();
    this.closed = true;
  }

  /** Whether close() ran (every call then answers COORDINATOR_NOT_AVAILABLE). */
  get isClosed(): boolean {
    return this.closed;
  }

  /** The group held in memory, if any. */
  group(groupId: string): Group | undefined {
    return this.groups.get(groupId);
  }

  /** Every group held in memory. */
  groupsInMemory(): IterableIterator<Group> {
    return this.groups.values();
  }

  /**
   * The group in memory, or a new Empty one (for a first JoinGroup, or an offset commit outside any
   * generation) once this coordinator has claimed a new coordinator epoch for it; null when the
   * coordinator closed meanwhile. Rejects when the claim cannot be written.
   */
  loadGroup(groupId: string): Promise<Group | null> {
    const held = this.groups.get(groupId);
    if (held) return Promise.resolve(held);
    let claim = this.claims.get(groupId);
    if (!claim) {
      claim = this.claimGroup(groupId).finally(() => this.claims.delete(groupId));
      this.claims.set(groupId, claim);
    }
    return claim;
  }

  /**
   * loadGroup for callers that answer COORDINATOR_NOT_AVAILABLE when there is no group to work on: undefined
   * when the claim could not be written (logged) or the coordinator closed meanwhile.
   */
  async loadGroupOrWarn(groupId: string): Promise<Group | undefined> {
    try {
      return (await this.loadGroup(groupId)) ?? undefined;
    } catch (err) {
      this.log.warn("claiming the group failed", { groupId, error: errorMessage(err) });
      return undefined;
    }
  }

  private async claimGroup(groupId: string): Promise<Group | null> {
    const { coordinatorEpoch, lastGenerationId } = await this.store.claimGroup(groupId, this.coordinatorId);
    if (this.closed) return null;
    const group = new Group(groupId, coordinatorEpoch, lastGenerationId);
    this.groups.set(groupId, group);
    this.fencedMembers.delete(groupId);
    this.log.info("coordinating group", { groupId, coordinatorEpoch, lastGenerationId });
    return group;
  }

  /**
   * Drops the group when another coordinator has claimed a newer epoch for it since this one did (its
   * waiting requests are answered NOT_COORDINATOR); returns whether it did. `askingMemberId` is the member
   * whose request found out, and is answered NOT_COORDINATOR by the caller.
   */
  dropIfFenced(group: Group, askingMemberId = ""): boolean {
    if (this.store.coordinatorEpoch(group.groupId) <= group.coordinatorEpoch) return false;
    this.fence(group, askingMemberId);
    return true;
  }

  private fence(group: Group, answeredMemberId = ""): void {
    if (this.groups.get(group.groupId) !== group) return;
    this.log.info("another coordinator took the group over; dropping it", {
      groupId: group.groupId,
      coordinatorEpoch: group.coordinatorEpoch,
      latestEpoch: this.store.coordinatorEpoch(group.groupId),
    });
    this.dropGroup(group, GroupError.NOT_COORDINATOR);
    const toTell = new Set([...group.members.keys()].filter((id) => id !== answeredMemberId));
    if (toTell.size > 0) this.fencedMembers.set(group.groupId, toTell);
  }

  /**
   * The answer to a member of a group not held here: NOT_COORDINATOR the first time a member of a group
   * dropped for a newer coordinator epoch asks, otherwise `otherwise` (UNKNOWN_MEMBER_ID by default).
   */
  unknownGroupError(groupId: string, memberId: string, otherwise: number = GroupError.UNKNOWN_MEMBER_ID): number {
    const fenced = this.fencedMembers.get(groupId);
    if (!fenced?.delete(memberId)) return otherwise;
    if (fenced.size === 0) this.fencedMembers.delete(groupId);
    return GroupError.NOT_COORDINATOR;
  }
}
