/**
 * Status conditions: types and reasons as constants, and a helper that moves lastTransitionTime only
 * when a condition's status flips (so an unchanged status is byte-for-byte unchanged and never written).
 */
import type { Condition, ConditionStatus } from "./types.js";

export const ConditionType = {
  Ready: "Ready",
  TablesReady: "TablesReady",
  BucketReady: "BucketReady",
  AgentsReady: "AgentsReady",
} as const;
export type ConditionType = (typeof ConditionType)[keyof typeof ConditionType];

/** Order in which conditions appear in status (stable, so status compares equal across passes). */
export const CONDITION_ORDER: readonly ConditionType[] = [
  ConditionType.Ready,
  ConditionType.TablesReady,
  ConditionType.BucketReady,
  ConditionType.AgentsReady,
];

export const Reason = {
  // Ready
  AllReady: "AllReady",
  ComponentsNotReady: "ComponentsNotReady",
  Paused: "Paused",
  Deleting: "Deleting",
  StoppingAgents: "StoppingAgents",
  InvalidSpec: "InvalidSpec",
  PolicyViolation: "PolicyViolation",
  // TablesReady
  TablesActive: "TablesActive",
  TableCreating: "TableCreating",
  TableUpdating: "TableUpdating",
  TableDeleting: "TableDeleting",
  TableSchemaMismatch: "TableSchemaMismatch",
  TableNotOwned: "TableNotOwned",
  // BucketReady
  BucketFound: "BucketFound",
  BucketCreated: "BucketCreated",
  BucketNotFound: "BucketNotFound",
  // AgentsReady
  DeploymentsReady: "DeploymentsReady",
  DeploymentsProgressing: "DeploymentsProgressing",
  /** A Deployment's rollout exceeded its progressDeadlineSeconds (pods that never become ready). */
  RolloutStuck: "RolloutStuck",
  /** An object the WarpAgent would create exists and is not owned by it; it is left untouched. */
  Conflict: "Conflict",
  NoZones: "NoZones",
  ApplyFailed: "ApplyFailed",
  // Any AWS step
  AccessDenied: "AccessDenied",
  AwsError: "AwsError",
  Pending: "Pending",
} as const;
export type Reason = (typeof Reason)[keyof typeof Reason];

export interface ConditionInput {
  type: ConditionType;
  status: ConditionStatus;
  reason: Reason;
  message: string;
}

/**
 * Returns the new conditions list: `input` replaces the condition of the same type, keeping the old
 * lastTransitionTime when the status did not change. Sorted by CONDITION_ORDER.
 */
export function setCondition(
  existing: readonly Condition[] | undefined,
  input: ConditionInput,
  generation: number | undefined,
  now: Date,
): Condition[] {
  const list = (existing ?? []).filter((c) => c.type !== input.type);
  const old = (existing ?? []).find((c) => c.type === input.type);
  const lastTransitionTime =
    old && old.status === input.status ? old.lastTransitionTime : now.toISOString().replace(/\.\d{3}Z$/, "Z");
  const cond: Condition = {
    type: input.type,
    status: input.status,
    reason: input.reason,
    message: input.message,
    lastTransitionTime,
  };
  if (generation !== undefined) cond.observedGeneration = generation;
  list.push(cond);
  return sortConditions(list);
}

export function sortConditions(list: Condition[]): Condition[] {
  const rank = (t: string) => {
    const i = (CONDITION_ORDER as readonly string[]).indexOf(t);
    return i < 0 ? CONDITION_ORDER.length : i;
  };
  return list.sort((a, b) => rank(a.type) - rank(b.type) || a.type.localeCompare(b.type));
}

export function getCondition(list: readonly Condition[] | undefined, type: ConditionType): Condition | undefined {
  return list?.find((c) => c.type === type);
}

/** Reasons that need a person (Event type Warning); everything else is progress (Normal). */
const NEEDS_A_PERSON: ReadonlySet<string> = new Set<Reason>([
  Reason.InvalidSpec,
  Reason.PolicyViolation,
  Reason.TableSchemaMismatch,
  Reason.BucketNotFound,
  Reason.NoZones,
  Reason.ApplyFailed,
  Reason.AccessDenied,
  Reason.AwsError,
]);

/** The Event type of a condition transition: Warning only for a False condition a person must act on. */
export function transitionEventType(c: Pick<Condition, "status" | "reason">): "Normal" | "Warning" {
  return c.status === "False" && NEEDS_A_PERSON.has(c.reason) ? "Warning" : "Normal";
}

/** The conditions whose status or reason differ between two lists (for Events). */
export function transitions(before: readonly Condition[] | undefined, after: readonly Condition[]): Condition[] {
  return after.filter((c) => {
    const old = before?.find((o) => o.type === c.type);
    return !old || old.status !== c.status || old.reason !== c.reason;
  });
}
