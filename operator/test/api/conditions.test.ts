import assert from "node:assert/strict";
import { Reason, setCondition, transitionEventType, transitions } from "../../src/api/conditions.js";

const t0 = new Date("2026-01-01T00:00:00Z");
const t1 = new Date("2026-01-01T00:05:00Z");

describe("conditions", () => {
  it("keeps lastTransitionTime when only reason or message change", () => {
    const a = setCondition(
      [],
      { type: "TablesReady", status: "False", reason: Reason.TableCreating, message: "creating" },
      1,
      t0,
    );
    const b = setCondition(
      a,
      { type: "TablesReady", status: "False", reason: Reason.AccessDenied, message: "denied" },
      2,
      t1,
    );
    assert.equal(b[0]!.lastTransitionTime, "2026-01-01T00:00:00Z");
    assert.equal(b[0]!.reason, Reason.AccessDenied);
    assert.equal(b[0]!.observedGeneration, 2);
  });

  it("moves lastTransitionTime when the status flips", () => {
    const a = setCondition(
      [],
      { type: "Ready", status: "False", reason: Reason.ComponentsNotReady, message: "x" },
      1,
      t0,
    );
    const b = setCondition(a, { type: "Ready", status: "True", reason: Reason.AllReady, message: "y" }, 1, t1);
    assert.equal(b[0]!.lastTransitionTime, "2026-01-01T00:05:00Z");
  });

  it("an identical input gives an identical list (so status is not rewritten)", () => {
    const input = { type: "Ready", status: "True", reason: Reason.AllReady, message: "ok" } as const;
    const a = setCondition([], input, 3, t0);
    assert.deepEqual(setCondition(a, input, 3, t1), a);
  });

  it("orders conditions Ready, TablesReady, BucketReady, AgentsReady", () => {
    let list = setCondition(
      [],
      { type: "AgentsReady", status: "True", reason: Reason.DeploymentsReady, message: "" },
      1,
      t0,
    );
    list = setCondition(list, { type: "BucketReady", status: "True", reason: Reason.BucketFound, message: "" }, 1, t0);
    list = setCondition(list, { type: "Ready", status: "True", reason: Reason.AllReady, message: "" }, 1, t0);
    list = setCondition(list, { type: "TablesReady", status: "True", reason: Reason.TablesActive, message: "" }, 1, t0);
    assert.deepEqual(
      list.map((c) => c.type),
      ["Ready", "TablesReady", "BucketReady", "AgentsReady"],
    );
  });

  it("transitions lists conditions whose status or reason changed", () => {
    const a = setCondition(
      [],
      { type: "Ready", status: "False", reason: Reason.ComponentsNotReady, message: "x" },
      1,
      t0,
    );
    const same = setCondition(
      a,
      { type: "Ready", status: "False", reason: Reason.ComponentsNotReady, message: "other text" },
      1,
      t1,
    );
    assert.deepEqual(transitions(a, same), []);
    const flipped = setCondition(a, { type: "Ready", status: "True", reason: Reason.AllReady, message: "" }, 1, t1);
    assert.equal(transitions(a, flipped).length, 1);
  });

  it("transition Events: Normal for progress, Warning only for what a person must act on", () => {
    for (const reason of [
      Reason.TableCreating,
      Reason.DeploymentsProgressing,
      Reason.ComponentsNotReady,
      Reason.Deleting,
    ])
      assert.equal(transitionEventType({ status: "False", reason }), "Normal", reason);
    assert.equal(transitionEventType({ status: "Unknown", reason: Reason.Paused }), "Normal");
    for (const reason of [Reason.InvalidSpec, Reason.PolicyViolation, Reason.AccessDenied, Reason.TableSchemaMismatch])
      assert.equal(transitionEventType({ status: "False", reason }), "Warning", reason);
  });
});
