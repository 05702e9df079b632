/**
 * Whether a Deployment's rollout is complete, going on, or stuck, by the rules `kubectl rollout
 * status` applies: the controller has observed the current generation, every replica runs the
 * current template (updatedReplicas), no old replica is left (replicas), every updated replica is
 * available, and the `Progressing` condition has not reached `progressDeadlineSeconds`
 * (reason ProgressDeadlineExceeded).
 */
import type { V1Deployment } from "@kubernetes/client-node";

export type RolloutState =
  | { readonly phase: "Complete" }
  | { readonly phase: "Progressing"; readonly message: string }
  | { readonly phase: "Stuck"; readonly message: string };

export function rolloutState(dep: V1Deployment): RolloutState {
  const st: NonNullable<V1Deployment["status"]> = dep.status ?? {};
  const generation = dep.metadata?.generation ?? 0;
  const want = dep.spec?.replicas ?? 1;
  if ((st.observedGeneration ?? 0) < generation)
    return { phase: "Progressing", message: `generation ${generation} not yet observed by the deployment controller` };
  const progressing = (st.conditions ?? []).find((c) => c.type === "Progressing");
  if (progressing?.reason === "ProgressDeadlineExceeded")
    return {
      phase: "Stuck",
      message:
        `no progress for ${dep.spec?.progressDeadlineSeconds ?? 600}s (ProgressDeadlineExceeded): ${progressing.message ?? ""}`.trimEnd(),
    };
  const updated = st.updatedReplicas ?? 0;
  if (updated < want) return { phase: "Progressing", message: `${updated} of ${want} replicas updated` };
  const total = st.replicas ?? 0;
  if (total > updated)
    return { phase: "Progressing", message: `${total - updated} old replica(s) pending termination` };
  const available = st.availableReplicas ?? 0;
  if (available < updated)
    return { phase: "Progressing", message: `${available} of ${updated} updated replicas available` };
  return { phase: "Complete" };
}
