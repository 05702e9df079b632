/**
 * One KIP-848 consumer group in memory: its members, the group epoch (bumped whenever the members, their
 * subscriptions or the subscribed topics change), the target assignment and the epoch it was computed at,
 * and who holds each partition. No I/O and no timers: consumer-groups.ts drives it.
 *
 * The ownership map enforces the group's one invariant: a partition is held (assigned, or pending
 * revocation) by at most one member. setAssignment throws if a change would break it, which
 * reconciliation.ts never asks for.
 */
import type { CancelTimer } from "./timer.js";
import { EMPTY_ASSIGNMENT, partitionsOf, type Assignment } from "./partitions.js";
import { isReconciledTo, NEW_MEMBER_ASSIGNMENT, type MemberAssignment } from "./reconciliation.js";

/** State names as Kafka prints them for consumer groups (ConsumerGroupDescribe, ListGroups). */
export type ConsumerGroupState = "Empty" | "Assigning" | "Reconciling" | "Stable" | "Dead";

/** The member epoch of a static member that left and may come back (ConsumerGroupHeartbeat −2). */
export const LEAVE_GROUP_STATIC_MEMBER_EPOCH = -2;
/** The member epoch of a member leaving (ConsumerGroupHeartbeat −1). */
export const LEAVE_GROUP_MEMBER_EPOCH = -1;

/**
 * What a member using the classic protocol (JoinGroup/SyncGroup/Heartbeat) inside a consumer group keeps
 * besides a consumer member's fields (classic-members.ts, migration.ts); the timers are its JoinGroup and
 * SyncGroup deadlines (the rebalance timeout).
 */
export interface ClassicMemberState {
  sessionTimeoutMs: number;
  protocols: readonly { readonly name: string; readonly metadata: Uint8Array }[];
  joinTimer: CancelTimer | null;
  syncTimer: CancelTimer | null;
}

export class ConsumerMember {
  instanceId: string | null = null;
  rackId: string | null = null;
  clientId = "";
  clientHost = "";
  rebalanceTimeoutMs = -1;
  serverAssignor: string | null = null;
  subscribedTopicNames: readonly string[] = [];
  subscribedTopicRegex: string | null = null;
  assignment: MemberAssignment = NEW_MEMBER_ASSIGNMENT;
  sessionTimer: CancelTimer | null = null;
  rebalanceTimer: CancelTimer | null = null;
  /** Set when the member uses the classic protocol; null for a ConsumerGroupHeartbeat member. */
  classic: ClassicMemberState | null = null;

  constructor(readonly memberId: string) {}

  get memberEpoch(): number {
    return this.assignment.memberEpoch;
  }

  cancelTimers(): void {
    this.sessionTimer?.();
    this.sessionTimer = null;
    this.rebalanceTimer?.();
    this.rebalanceTimer = null;
    if (this.classic) {
      this.classic.joinTimer?.();
      this.classic.syncTimer?.();
      this.classic.joinTimer = this.classic.syncTimer = null;
    }
  }
}

interface Holder {
  readonly memberId: string;
  readonly epoch: number;
}

const key = (topicId: string, partition: number): string => `${topicId}:${partition}`;

export class ConsumerGroup {
  groupEpoch = 0;
  assignmentEpoch = 0;
  /** Member id → member, in join order. */
  readonly members = new Map<string, ConsumerMember>();
  /** Group instance id → member id. */
  readonly staticMembers = new Map<string, string>();
  /** Member id → target assignment (computed at assignmentEpoch). */
  targetAssignment: ReadonlyMap<string, Assignment> = new Map();
  /** What the subscribed topics looked like when the group epoch was last bumped (see consumer-groups.ts). */
  subscriptionSignature = "";
  dead = false;
  /**
   * Counts changes to what the group records durably (consumer-group-record.ts): members, their
   * subscriptions and assignments, the epochs, the target. consumer-groups.ts bumps it for what it
   * changes itself; the methods below bump it for theirs.
   */
  changeCount = 0;
  private readonly holders = new Map<string, Holder>();

  /** @param coordinatorEpoch the coordinator epoch this agent holds the group at (offset-store.ts) */
  constructor(
    readonly groupId: string,
    readonly coordinatorEpoch: number,
  ) {}

  get state(): ConsumerGroupState {
    if (this.dead) return "Dead";
    if (this.members.size === 0) return "Empty";
    if (this.groupEpoch > this.assignmentEpoch) return "Assigning";
    for (const m of this.members.values())
      if (!isReconciledTo(m.assignment, this.assignmentEpoch)) return "Reconciling";
    return "Stable";
  }

  staticMember(instanceId: string): ConsumerMember | undefined {
    const id = this.staticMembers.get(instanceId);
    return id === undefined ? undefined : this.members.get(id);
  }

  addMember(member: ConsumerMember): void {
    this.changeCount++;
    this.members.set(member.memberId, member);
    if (member.instanceId !== null) this.staticMembers.set(member.instanceId, member.memberId);
    this.claim(member, member.assignment);
  }

  /** The epoch of the member holding a partition (assigned or pending revocation), −1 when free. */
  ownerEpoch(topicId: string, partition: number): number {
    return this.holders.get(key(topicId, partition))?.epoch ?? -1;
  }

  /** The member holding a partition, if any. */
  owner(topicId: string, partition: number): string | undefined {
    return this.holders.get(key(topicId, partition))?.memberId;
  }

  /** Replaces a member's assignment state, moving partition ownership with it. */
  setAssignment(member: ConsumerMember, next: MemberAssignment): void {
    if (next !== member.assignment) this.changeCount++;
    this.release(member, member.assignment);
    member.assignment = next;
    this.claim(member, next);
  }

  /** Removes a member (its partitions become free; its target assignment goes). Timers are the caller's. */
  removeMember(member: ConsumerMember): void {
    this.changeCount++;
    this.release(member, member.assignment);
    member.assignment = { ...member.assignment, assigned: EMPTY_ASSIGNMENT, pendingRevocation: EMPTY_ASSIGNMENT };
    this.members.delete(member.memberId);
    if (member.instanceId !== null && this.staticMembers.get(member.instanceId) === member.memberId)
      this.staticMembers.delete(member.instanceId);
    if (this.targetAssignment.has(member.memberId)) {
      const target = new Map(this.targetAssignment);
      target.delete(member.memberId);
      this.targetAssignment = target;
    }
  }

  /** The assignor most members asked for (ties: the first asked in member order), or null. */
  preferredAssignor(): string | null {
    const votes = new Map<string, number>();
    for (const m of this.members.values())
      if (m.serverAssignor !== null) votes.set(m.serverAssignor, (votes.get(m.serverAssignor) ?? 0) + 1);
    let best: string | null = null;
    for (const [name, n] of votes) if (best === null || n > votes.get(best)!) best = name;
    return best;
  }

  private release(member: ConsumerMember, a: MemberAssignment): void {
    for (const part of [a.assigned, a.pendingRevocation])
      for (const [topicId, p] of partitionsOf(part)) {
        const k = key(topicId, p);
        if (this.holders.get(k)?.memberId === member.memberId) this.holders.delete(k);
      }
  }

  private claim(member: ConsumerMember, a: MemberAssignment): void {
    for (const part of [a.assigned, a.pendingRevocation])
      for (const [topicId, p] of partitionsOf(part)) {
        const k = key(topicId, p);
        const holder = this.holders.get(k);
        if (holder && holder.memberId !== member.memberId)
          throw new Error(
            `group ${this.groupId}: partition ${k} given to ${member.memberId} while ${holder.memberId} holds it`,
          );
        this.holders.set(k, { memberId: member.memberId, epoch: a.memberEpoch });
      }
  }
}
