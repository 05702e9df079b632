/**
 * Incremental reconciliation of one KIP-848 member towards its target assignment (the rules of Kafka's
 * CurrentAssignmentBuilder). Pure: the member's current assignment state in, the next one out.
 *
 * A member holds `assigned` partitions at `memberEpoch`, and while it must give some up, the
 * `pendingRevocation` ones too. Towards a target (target epoch + partitions):
 *   - partitions it holds and the target keeps stay assigned;
 *   - partitions it holds that the target drops must be revoked first: the member stays at its epoch in
 *     UNREVOKED_PARTITIONS, and gets nothing new, until a heartbeat reports it no longer owns them (or
 *     the rebalance timeout fences it);
 *   - partitions the target adds are assigned only once no other member holds them (assigned or pending
 *     revocation: `ownerEpoch` answers −1 for a free partition). Others wait: UNRELEASED_PARTITIONS, at
 *     the target epoch, picked up on a later heartbeat once released.
 * So a partition never has two owners: it reaches a new member only after its previous owner revoked it.
 */
import {
  EMPTY_ASSIGNMENT,
  assignmentOf,
  contains,
  intersect,
  isEmpty,
  subtract,
  union,
  type Assignment,
} from "./partitions.js";

export type MemberState = "STABLE" | "UNREVOKED_PARTITIONS" | "UNRELEASED_PARTITIONS";

export interface MemberAssignment {
  readonly state: MemberState;
  readonly memberEpoch: number;
  readonly previousMemberEpoch: number;
  /** Partitions the member may consume. */
  readonly assigned: Assignment;
  /** Partitions the member must revoke; still its own until it does. */
  readonly pendingRevocation: Assignment;
}

export interface ReconcileInput {
  readonly targetEpoch: number;
  readonly target: Assignment;
  /** The epoch of the member holding a partition (assigned or pending revocation), −1 when free. */
  readonly ownerEpoch: (topicId: string, partition: number) => number;
  /** The partitions the member reported owning in this heartbeat; null when it did not say. */
  readonly owned: Assignment | null;
}

/** A new member's state before its first reconciliation: nothing held, epoch 0. */
export const NEW_MEMBER_ASSIGNMENT: MemberAssignment = {
  state: "STABLE",
  memberEpoch: 0,
  previousMemberEpoch: 0,
  assigned: EMPTY_ASSIGNMENT,
  pendingRevocation: EMPTY_ASSIGNMENT,
};

/** Whether the member is done: stable at the target epoch. */
export function isReconciledTo(member: MemberAssignment, targetEpoch: number): boolean {
  return member.state === "STABLE" && member.memberEpoch === targetEpoch;
}

/** Whether the member still owns (by its own report) any of `revoking`; true when it did not report. */
function ownsAnyOf(owned: Assignment | null, revoking: Assignment): boolean {
  if (owned === null) return true;
  for (const [topicId, set] of owned) for (const p of set) if (contains(revoking, topicId, p)) return true;
  return false;
}

/** The member's next assignment state (the same object when nothing changes). */
export function reconcile(member: MemberAssignment, input: ReconcileInput): MemberAssignment {
  switch (member.state) {
    case "STABLE":
      if (member.memberEpoch === input.targetEpoch) return member;
      return nextAssignment(member, member.memberEpoch, input);
    case "UNREVOKED_PARTITIONS":
      if (ownsAnyOf(input.owned, member.pendingRevocation)) return member;
      return nextAssignment(member, member.memberEpoch, input);
    case "UNRELEASED_PARTITIONS":
      return nextAssignment(member, member.memberEpoch, input);
  }
}

function withEpoch(
  member: MemberAssignment,
  epoch: number,
): Pick<MemberAssignment, "memberEpoch" | "previousMemberEpoch"> {
  return epoch === member.memberEpoch
    ? { memberEpoch: member.memberEpoch, previousMemberEpoch: member.previousMemberEpoch }
    : { memberEpoch: epoch, previousMemberEpoch: member.memberEpoch };
}

function nextAssignment(member: MemberAssignment, epoch: number, input: ReconcileInput): MemberAssignment {
  const kept = intersect(member.assigned, input.target);
  const revoking = subtract(member.assigned, input.target);
  const wanted = subtract(input.target, kept);
  const free: Array<[string, number[]]> = [];
  let unreleased = false;
  for (const [topicId, set] of wanted) {
    const ps: number[] = [];
    for (const p of set) {
      if (input.ownerEpoch(topicId, p) === -1) ps.push(p);
      else unreleased = true;
    }
    free.push([topicId, ps]);
  }
  const newlyAssigned = assignmentOf(free);
  let next: MemberAssignment;
  if (!isEmpty(revoking) && ownsAnyOf(input.owned, revoking)) {
    // Revoke first: same epoch, nothing new until the member confirms.
    next = { state: "UNREVOKED_PARTITIONS", ...withEpoch(member, epoch), assigned: kept, pendingRevocation: revoking };
  } else {
    next = {
      state: unreleased ? "UNRELEASED_PARTITIONS" : "STABLE",
      ...withEpoch(member, input.targetEpoch),
      assigned: union(kept, newlyAssigned),
      pendingRevocation: EMPTY_ASSIGNMENT,
    };
  }
  return sameState(member, next) ? member : next;
}

function sameState(a: MemberAssignment, b: MemberAssignment): boolean {
  return (
    a.state === b.state &&
    a.memberEpoch === b.memberEpoch &&
    a.previousMemberEpoch === b.previousMemberEpoch &&
    sameParts(a.assigned, b.assigned) &&
    sameParts(a.pendingRevocation, b.pendingRevocation)
  );
}

function sameParts(a: Assignment, b: Assignment): boolean {
  return isEmpty(subtract(a, b)) && isEmpty(subtract(b, a));
}
