/**
 * One classic group in memory: its members, generation, leader and selected protocol, and the steps on
 * them that need no I/O and no timers: state transitions (checked against group-state.ts), the protocol
 * vote, member checks, leader election and the start of the next generation. Timer handles and waiting
 * responses are held here, but scheduled and answered by membership.ts.
 */
import {
  EMPTY_BYTES,
  GroupError,
  type GroupProtocol,
  type JoinGroupMember,
  type JoinWaiter,
  type SyncWaiter,
} from "./coordinator-io.js";
import { canTransition, type GroupState } from "./group-state.js";
import type { CancelTimer } from "./timer.js";

export class Member {
  assignment: Uint8Array = EMPTY_BYTES;
  joinWaiter: JoinWaiter | null = null;
  syncWaiter: SyncWaiter | null = null;
  /** Joined but not yet through a completed join phase (its session timeout does not apply yet). */
  isNew = false;
  heartbeatTimer: CancelTimer | null = null;

  constructor(
    public memberId: string,
    readonly groupInstanceId: string | null,
    readonly clientId: string,
    readonly clientHost: string,
    public rebalanceTimeoutMs: number,
    public sessionTimeoutMs: number,
    readonly protocolType: string,
    public protocols: readonly GroupProtocol[],
  ) {}

  get awaitingJoin(): boolean {
    return this.joinWaiter !== null;
  }

  get awaitingSync(): boolean {
    return this.syncWaiter !== null;
  }

  metadataFor(protocolName: string): Uint8Array {
    const found = this.protocols.find((p) => p.name === protocolName);
    if (!found) throw new Error(`member ${this.memberId} does not support protocol ${protocolName}`);
    return found.metadata;
  }

  matches(protocols: readonly GroupProtocol[]): boolean {
    if (protocols.length !== this.protocols.length) return false;
    return protocols.every(
      (p, i) => p.name === this.protocols[i]!.name && Buffer.from(p.metadata).equals(this.protocols[i]!.metadata),
    );
  }

  /** The member's most preferred protocol among the candidates. */
  vote(candidates: ReadonlySet<string>): string {
    const choice = this.protocols.find((p) => candidates.has(p.name));
    if (!choice) throw new Error(`member ${this.memberId} supports none of the candidate protocols`);
    return choice.name;
  }
}

export class Group {
  private currentState: GroupState = "Empty";
  generationId = 0;
  protocolType: string | null = null;
  protocolName: string | null = null;
  leaderId: string | null = null;
  /** Member id → member, in join order. */
  readonly members = new Map<string, Member>();
  /** Group instance id → current member id. */
  readonly staticMembers = new Map<string, string>();
  /** Member ids handed out with MEMBER_ID_REQUIRED, with their expiry timers. */
  readonly pendingMembers = new Map<string, CancelTimer>();
  /** Members that got their JoinGroup response but have not sent SyncGroup yet. */
  readonly pendingSyncMembers = new Set<string>();
  /** A member joined during the initial delayed join: extend the delay. */
  newMemberAdded = false;
  joinTimer: CancelTimer | null = null;
  /** The join phase is the delayed first rebalance of an empty group (never completes early). */
  initialJoin = false;
  syncTimer: CancelTimer | null = null;

  /**
   * @param coordinatorEpoch the epoch this coordinator holds the group at (offset-store.ts)
   * @param lastGenerationId the generation the group's generations continue after
   */
  constructor(
    readonly groupId: string,
    readonly coordinatorEpoch = 0,
    lastGenerationId = 0,
  ) {
    this.generationId = lastGenerationId;
  }

  get state(): GroupState {
    return this.currentState;
  }

  /** Moves the group to `next`; throws for a transition the state machine (group-state.ts) does not have. */
  transitionTo(next: GroupState): void {
    if (!canTransition(this.currentState, next)) {
      throw new Error(`group ${this.groupId} cannot move from ${this.currentState} to ${next}`);
    }
    this.currentState = next;
  }

  /**
   * Puts a group built from a KIP-848 consumer group (migration.ts) straight into Stable: its members,
   * selected protocol and assignments are set, as if its last generation had completed here.
   */
  startStable(): void {
    if (!this.is("Empty") || this.members.size === 0 || this.protocolName === null)
      throw new Error(`group ${this.groupId} cannot start Stable from ${this.state}`);
    this.currentState = "Stable";
  }

  is(state: GroupState): boolean {
    return this.state === state;
  }

  get canRebalance(): boolean {
    return canTransition(this.state, "PreparingRebalance");
  }

  isLeader(memberId: string): boolean {
    return this.leaderId === memberId;
  }

  get numAwaitingJoin(): number {
    let n = 0;
    for (const m of this.members.values()) if (m.awaitingJoin) n++;
    return n;
  }

  get hasAllMembersJoined(): boolean {
    return this.numAwaitingJoin === this.members.size && this.pendingMembers.size === 0;
  }

  get rebalanceTimeoutMs(): number {
    let timeout = 0;
    for (const m of this.members.values()) timeout = Math.max(timeout, m.rebalanceTimeoutMs);
    return timeout;
  }

  /** Checks that a static member id is current and that the member exists; null when valid. */
  validateCurrentMember(memberId: string, groupInstanceId: string | null): number | null {
    if (groupInstanceId !== null) {
      const current = this.staticMembers.get(groupInstanceId);
      if (current === undefined) return GroupError.UNKNOWN_MEMBER_ID;
      if (current !== memberId) return GroupError.FENCED_INSTANCE_ID;
      return null;
    }
    return this.members.has(memberId) ? null : GroupError.UNKNOWN_MEMBER_ID;
  }

  /** Whether a member may join without taking the group over `max` members (group.max.size). */
  acceptsJoiningMember(memberId: string, max: number): boolean {
    switch (this.state) {
      case "Empty":
      case "Dead":
        return true;
      case "PreparingRebalance":
        return (this.members.get(memberId)?.awaitingJoin ?? false) || this.numAwaitingJoin < max;
      case "CompletingRebalance":
      case "Stable":
        return this.members.has(memberId) || this.members.size < max;
    }
  }

  private protocolCounts(): Map<string, number> {
    const counts = new Map<string, number>();
    for (const m of this.members.values()) {
      for (const p of new Set(m.protocols.map((x) => x.name))) counts.set(p, (counts.get(p) ?? 0) + 1);
    }
    return counts;
  }

  supportsProtocols(protocolType: string, protocolNames: readonly string[]): boolean {
    if (this.is("Empty")) return protocolType !== "" && protocolNames.length > 0;
    if (this.protocolType !== protocolType) return false;
    const counts = this.protocolCounts();
    return protocolNames.some((name) => counts.get(name) === this.members.size);
  }

  /** The protocol all members support that most members prefer (Kafka's vote). */
  selectProtocol(): string {
    if (this.members.size === 0) throw new Error(`cannot select a protocol for empty group ${this.groupId}`);
    const counts = this.protocolCounts();
    const candidates = new Set([...counts].filter(([, n]) => n === this.members.size).map(([name]) => name));
    const votes = new Map<string, number>();
    for (const m of this.members.values()) {
      const choice = m.vote(candidates);
      votes.set(choice, (votes.get(choice) ?? 0) + 1);
    }
    // Ties go to the protocol the leader (or else the first member) prefers.
    const reference =
      (this.leaderId !== null ? this.members.get(this.leaderId) : undefined) ?? this.members.values().next().value!;
    let best: string | null = null;
    let bestVotes = -1;
    for (const p of reference.protocols) {
      const n = votes.get(p.name) ?? 0;
      if (candidates.has(p.name) && n > bestVotes) {
        best = p.name;
        bestVotes = n;
      }
    }
    return best!;
  }

  currentMemberMetadata(): JoinGroupMember[] {
    const protocol = this.protocolName;
    if (protocol === null) throw new Error(`group ${this.groupId} has no selected protocol`);
    return [...this.members.values()].map((m) => ({
      memberId: m.memberId,
      groupInstanceId: m.groupInstanceId,
      metadata: m.metadataFor(protocol),
    }));
  }

  /**
   * At the end of a join phase: keeps the leader if it rejoined, else makes the first rejoined member
   * leader; false when no member rejoined.
   */
  maybeElectNewJoinedLeader(): boolean {
    if (this.leaderId === null) return false;
    const leader = this.members.get(this.leaderId);
    if (leader?.awaitingJoin) return true;
    for (const m of this.members.values()) {
      if (m.awaitingJoin) {
        this.leaderId = m.memberId;
        return true;
      }
    }
    return false;
  }

  /** Starts the next generation: CompletingRebalance with the voted protocol, or Empty when no member is left. */
  initNextGeneration(): void {
    this.generationId += 1;
    if (this.members.size > 0) {
      this.protocolName = this.selectProtocol();
      this.transitionTo("CompletingRebalance");
    } else {
      this.protocolName = null;
      this.transitionTo("Empty");
    }
    this.pendingSyncMembers.clear();
  }
}
