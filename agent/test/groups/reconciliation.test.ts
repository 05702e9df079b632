/**
 * One member's reconciliation towards its target (reconciliation.ts) as a pure function: revocation
 * before reassignment, partitions held by others wait, epochs.
 */
import assert from "node:assert/strict";
import { assignmentOf, assignmentText, EMPTY_ASSIGNMENT, type Assignment } from "../../src/groups/partitions.js";
import {
  isReconciledTo,
  NEW_MEMBER_ASSIGNMENT,
  reconcile,
  type MemberAssignment,
} from "../../src/groups/reconciliation.js";

const T = "ab".repeat(16);
const parts = (...ps: number[]): Assignment => assignmentOf([[T, ps]]);
const text = (a: Assignment) => assignmentText(a, () => "t");
const free = () => -1;

function stable(epoch: number, ...ps: number[]): MemberAssignment {
  return {
    state: "STABLE",
    memberEpoch: epoch,
    previousMemberEpoch: epoch - 1,
    assigned: parts(...ps),
    pendingRevocation: EMPTY_ASSIGNMENT,
  };
}

describe("reconciliation", () => {
  it("a new member takes free partitions of its target and moves to the target epoch", () => {
    const next = reconcile(NEW_MEMBER_ASSIGNMENT, {
      targetEpoch: 1,
      target: parts(0, 1),
      ownerEpoch: free,
      owned: null,
    });
    assert.equal(next.state, "STABLE");
    assert.equal(next.memberEpoch, 1);
    assert.equal(next.previousMemberEpoch, 0);
    assert.equal(text(next.assigned), "t-0,t-1");
    assert.ok(isReconciledTo(next, 1));
  });

  it("partitions to give up are revoked first: same epoch, nothing new, until the member reports them gone", () => {
    const member = stable(3, 0, 1, 2);
    const revoking = reconcile(member, {
      targetEpoch: 4,
      target: parts(0, 5),
      ownerEpoch: free,
      owned: parts(0, 1, 2),
    });
    assert.equal(revoking.state, "UNREVOKED_PARTITIONS");
    assert.equal(revoking.memberEpoch, 3, "stays at its epoch");
    assert.equal(text(revoking.assigned), "t-0", "keeps only what the target keeps; t-5 waits");
    assert.equal(text(revoking.pendingRevocation), "t-1,t-2");
    // Still owning a revoked partition (or not saying): no progress.
    assert.equal(
      reconcile(revoking, { targetEpoch: 4, target: parts(0, 5), ownerEpoch: free, owned: parts(0, 1) }),
      revoking,
    );
    assert.equal(reconcile(revoking, { targetEpoch: 4, target: parts(0, 5), ownerEpoch: free, owned: null }), revoking);
    // Revoked: on to the target epoch with the new partition.
    const done = reconcile(revoking, { targetEpoch: 4, target: parts(0, 5), ownerEpoch: free, owned: parts(0) });
    assert.equal(done.state, "STABLE");
    assert.equal(done.memberEpoch, 4);
    assert.equal(text(done.assigned), "t-0,t-5");
    assert.equal(text(done.pendingRevocation), "");
  });

  it("a partition another member still holds is not assigned: UNRELEASED_PARTITIONS until it is free", () => {
    const member = stable(1, 0);
    const heldByOther = (_t: string, p: number) => (p === 1 ? 1 : -1);
    const waiting = reconcile(member, {
      targetEpoch: 2,
      target: parts(0, 1, 2),
      ownerEpoch: heldByOther,
      owned: parts(0),
    });
    assert.equal(waiting.state, "UNRELEASED_PARTITIONS");
    assert.equal(waiting.memberEpoch, 2);
    assert.equal(text(waiting.assigned), "t-0,t-2");
    assert.ok(!isReconciledTo(waiting, 2));
    const released = reconcile(waiting, {
      targetEpoch: 2,
      target: parts(0, 1, 2),
      ownerEpoch: free,
      owned: parts(0, 2),
    });
    assert.equal(released.state, "STABLE");
    assert.equal(text(released.assigned), "t-0,t-1,t-2");
    assert.ok(isReconciledTo(released, 2));
  });

  it("a member already stable at the target epoch is left alone", () => {
    const member = stable(5, 0, 1);
    assert.equal(reconcile(member, { targetEpoch: 5, target: parts(7), ownerEpoch: free, owned: null }), member);
  });

  it("revoked partitions the member no longer reports owning need no wait", () => {
    const member = stable(2, 0, 1);
    const next = reconcile(member, { targetEpoch: 3, target: parts(0), ownerEpoch: free, owned: parts(0) });
    assert.equal(next.state, "STABLE");
    assert.equal(next.memberEpoch, 3);
    assert.equal(text(next.assigned), "t-0");
  });
});
