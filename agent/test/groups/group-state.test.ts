/**
 * The classic group's state machine on its own: which transitions exist, and that a group refuses any
 * other (the coordinator's flows are tested through its public methods in coordinator.test.ts).
 */
import assert from "node:assert/strict";
import { Group } from "../../src/groups/group.js";
import { canTransition, GROUP_STATES, type GroupState } from "../../src/groups/group-state.js";

/** Every allowed transition, written out from Kafka's classic group states. */
const ALLOWED: readonly (readonly [GroupState, GroupState])[] = [
  ["Empty", "PreparingRebalance"],
  ["PreparingRebalance", "CompletingRebalance"],
  ["PreparingRebalance", "Empty"],
  ["CompletingRebalance", "Stable"],
  ["CompletingRebalance", "PreparingRebalance"],
  ["Stable", "PreparingRebalance"],
  ["Empty", "Dead"],
  ["PreparingRebalance", "Dead"],
  ["CompletingRebalance", "Dead"],
  ["Stable", "Dead"],
  ["Dead", "Dead"],
];

function allowed(from: GroupState, to: GroupState): boolean {
  return ALLOWED.some(([f, t]) => f === from && t === to);
}

/** A group brought to `state` through allowed transitions only. */
function groupIn(state: GroupState): Group {
  const path: Record<GroupState, readonly GroupState[]> = {
    Empty: [],
    PreparingRebalance: ["PreparingRebalance"],
    CompletingRebalance: ["PreparingRebalance", "CompletingRebalance"],
    Stable: ["PreparingRebalance", "CompletingRebalance", "Stable"],
    Dead: ["Dead"],
  };
  const group = new Group("g");
  for (const next of path[state]) group.transitionTo(next);
  assert.equal(group.state, state);
  return group;
}

describe("classic group state machine", () => {
  for (const from of GROUP_STATES) {
    for (const to of GROUP_STATES) {
      const expected = allowed(from, to);
      it(`${from} → ${to} is ${expected ? "allowed" : "refused"}`, () => {
        assert.equal(canTransition(from, to), expected);
        const group = groupIn(from);
        if (expected) {
          group.transitionTo(to);
          assert.equal(group.state, to);
        } else {
          assert.throws(() => group.transitionTo(to), new RegExp(`cannot move from ${from} to ${to}`));
          assert.equal(group.state, from);
        }
      });
    }
  }

  it("a new group is Empty, and only Empty, CompletingRebalance and Stable groups can rebalance", () => {
    assert.equal(new Group("g").state, "Empty");
    const rebalancing = GROUP_STATES.filter((s) => groupIn(s).canRebalance);
    assert.deepEqual(rebalancing, ["Empty", "CompletingRebalance", "Stable"]);
  });
});
