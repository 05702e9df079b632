import assert from "node:assert/strict";
import type { V1Deployment } from "@kubernetes/client-node";
import { rolloutState } from "../../src/controller/rollout.js";

/** A Deployment of `replicas` at `generation` with the status the deployment controller reported. */
function dep(generation: number, replicas: number, status: NonNullable<V1Deployment["status"]>): V1Deployment {
  return { metadata: { generation }, spec: { replicas, selector: {}, template: {} }, status };
}

describe("rolloutState: kubectl rollout status' rules", () => {
  it("complete when the current generation is observed and every replica is updated and available", () => {
    assert.deepEqual(
      rolloutState(
        dep(2, 1, { observedGeneration: 2, replicas: 1, updatedReplicas: 1, readyReplicas: 1, availableReplicas: 1 }),
      ),
      { phase: "Complete" },
    );
  });

  it("progressing while the generation is unobserved, replicas are old, or updated ones unavailable", () => {
    const cases: Array<[NonNullable<V1Deployment["status"]>, RegExp]> = [
      [
        { observedGeneration: 1, replicas: 1, updatedReplicas: 1, availableReplicas: 1 },
        /generation 2 not yet observed/,
      ],
      [{ observedGeneration: 2, replicas: 1, updatedReplicas: 0, availableReplicas: 1 }, /0 of 1 replicas updated/],
      // The new pod never ready, the old one still serving: what a `does-not-exist` image tag gives.
      [
        { observedGeneration: 2, replicas: 2, updatedReplicas: 1, readyReplicas: 1, availableReplicas: 1 },
        /1 old replica\(s\) pending termination/,
      ],
      [
        { observedGeneration: 2, replicas: 1, updatedReplicas: 1, availableReplicas: 0 },
        /0 of 1 updated replicas available/,
      ],
    ];
    for (const [status, message] of cases) {
      const s = rolloutState(dep(2, 1, status));
      assert.equal(s.phase, "Progressing", JSON.stringify(status));
      assert.match(s.phase === "Progressing" ? s.message : "", message);
    }
  });

  it("stuck once the Progressing condition says ProgressDeadlineExceeded", () => {
    const d = dep(2, 1, {
      observedGeneration: 2,
      replicas: 2,
      updatedReplicas: 1,
      availableReplicas: 1,
      conditions: [
        { type: "Available", status: "True", reason: "MinimumReplicasAvailable" },
        {
          type: "Progressing",
          status: "False",
          reason: "ProgressDeadlineExceeded",
          message: 'ReplicaSet "wa-zone-a-abc123-7d9f" has timed out progressing.',
        },
      ],
    });
    d.spec!.progressDeadlineSeconds = 60;
    const s = rolloutState(d);
    assert.equal(s.phase, "Stuck");
    assert.match(s.phase === "Stuck" ? s.message : "", /no progress for 60s \(ProgressDeadlineExceeded\): ReplicaSet/);
  });
});
