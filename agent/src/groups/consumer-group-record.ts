/**
 * The durable form of a KIP-848 consumer group: what a coordinator writes to the metadata log
 * (`consumerGroupState`, metadata/commands.ts) whenever the group changes, and what the next coordinator
 * starts from, so that a coordinator move or restart does not make every member rejoin. Plain JSON:
 * members with their subscriptions, epochs, current and target assignments; the group and assignment
 * epochs; a hash of the subscribed topics as the group last saw them (so a topic change made while no
 * agent held the group still bumps the group epoch).
 *
 * Timers are not part of it: the coordinator that loads a group starts every member's session timeout
 * afresh (as Kafka does when a coordinator loads its groups), and a rebalance timeout for each member
 * that still has partitions to revoke.
 *
 * recordProblem checks a record's shape field by field, so the fold can refuse a malformed one (from a
 * hand-written entry or a buggy agent) the same way on every agent instead of restoring garbage.
 */
import type { MemberAssignment, MemberState } from "./reconciliation.js";
import { assignmentOf, partitionsOf, type Assignment } from "./partitions.js";

/** An assignment as JSON: [topic id, partitions] pairs. */
export type AssignmentRecord = ReadonlyArray<readonly [string, readonly number[]]>;

export interface ConsumerMemberRecord {
  readonly memberId: string;
  readonly instanceId: string | null;
  readonly rackId: string | null;
  readonly clientId: string;
  readonly clientHost: string;
  readonly rebalanceTimeoutMs: number;
  readonly serverAssignor: string | null;
  readonly topics: readonly string[];
  readonly regex: string | null;
  readonly state: MemberState;
  readonly memberEpoch: number;
  readonly previousMemberEpoch: number;
  readonly assigned: AssignmentRecord;
  readonly pendingRevocation: AssignmentRecord;
  /** The member's target assignment at the group's assignment epoch; null when it has none. */
  readonly target: AssignmentRecord | null;
  /**
   * A member using the classic protocol inside the group (after an online upgrade, migration.ts): its
   * session timeout and its JoinGroup protocols as [name, metadata in base64]. Absent: the consumer
   * protocol.
   */
  readonly classic?: {
    readonly sessionTimeoutMs: number;
    readonly protocols: ReadonlyArray<readonly [string, string]>;
  };
}

export interface ConsumerGroupRecord {
  readonly groupEpoch: number;
  readonly assignmentEpoch: number;
  /** Hash of the subscribed topics (names, ids, partition counts) when the group epoch last moved. */
  readonly subscriptionHash: string;
  /** In join order. */
  readonly members: readonly ConsumerMemberRecord[];
}

export function assignmentRecord(a: Assignment): AssignmentRecord {
  const byTopic = new Map<string, number[]>();
  for (const [topicId, p] of partitionsOf(a)) {
    let ps = byTopic.get(topicId);
    if (!ps) byTopic.set(topicId, (ps = []));
    ps.push(p);
  }
  return [...byTopic];
}

export function assignmentFromRecord(r: AssignmentRecord): Assignment {
  return assignmentOf(r);
}

export function memberAssignmentFromRecord(m: ConsumerMemberRecord): MemberAssignment {
  return {
    state: m.state,
    memberEpoch: m.memberEpoch,
    previousMemberEpoch: m.previousMemberEpoch,
    assigned: assignmentFromRecord(m.assigned),
    pendingRevocation: assignmentFromRecord(m.pendingRevocation),
  };
}

const MEMBER_STATES: ReadonlySet<string> = new Set<MemberState>([
  "STABLE",
  "UNREVOKED_PARTITIONS",
  "UNRELEASED_PARTITIONS",
]);

const isInt = (v: unknown): v is number => typeof v === "number" && Number.isSafeInteger(v);
const isString = (v: unknown): v is string => typeof v === "string";
const isNullableString = (v: unknown): v is string | null => v === null || typeof v === "string";

function assignmentProblem(v: unknown, what: string): string | null {
  if (!Array.isArray(v)) return `${what} must be an array`;
  for (const [i, pair] of v.entries()) {
    if (!Array.isArray(pair) || pair.length !== 2 || !isString(pair[0]) || !Array.isArray(pair[1]))
      return `${what}[${i}] must be [topic id, partitions]`;
    if (!(pair[1] as unknown[]).every((p) => isInt(p) && p >= 0))
      return `${what}[${i}] partitions must be non-negative integers`;
  }
  return null;
}

function memberProblem(v: unknown, i: number): string | null {
  const what = `members[${i}]`;
  if (typeof v !== "object" || v === null) return `${what} must be an object`;
  const m = v as Record<string, unknown>;
  if (!isString(m.memberId) || m.memberId === "") return `${what}.memberId must be a non-empty string`;
  for (const k of ["instanceId", "rackId", "serverAssignor", "regex"] as const)
    if (!isNullableString(m[k])) return `${what}.${k} must be a string or null`;
  for (const k of ["clientId", "clientHost"] as const) if (!isString(m[k])) return `${what}.${k} must be a string`;
  for (const k of ["rebalanceTimeoutMs", "memberEpoch", "previousMemberEpoch"] as const)
    if (!isInt(m[k])) return `${what}.${k} must be an integer`;
  if (!Array.isArray(m.topics) || !m.topics.every(isString)) return `${what}.topics must be an array of strings`;
  if (!isString(m.state) || !MEMBER_STATES.has(m.state)) return `${what}.state is not a member state`;
  if (m.classic !== undefined) {
    const c = m.classic as Record<string, unknown> | null;
    if (typeof c !== "object" || c === null) return `${what}.classic must be an object`;
    if (!isInt(c.sessionTimeoutMs) || c.sessionTimeoutMs <= 0)
      return `${what}.classic.sessionTimeoutMs must be a positive integer`;
    if (
      !Array.isArray(c.protocols) ||
      c.protocols.length === 0 ||
      !c.protocols.every((p) => Array.isArray(p) && p.length === 2 && isString(p[0]) && isString(p[1]))
    )
      return `${what}.classic.protocols must be a non-empty array of [name, metadata]`;
  }
  return (
    assignmentProblem(m.assigned, `${what}.assigned`) ??
    assignmentProblem(m.pendingRevocation, `${what}.pendingRevocation`) ??
    (m.target === null ? null : assignmentProblem(m.target, `${what}.target`))
  );
}

/** Why a value is not a ConsumerGroupRecord, or null. */
export function recordProblem(v: unknown): string | null {
  if (typeof v !== "object" || v === null || Array.isArray(v)) return "must be an object";
  const r = v as Record<string, unknown>;
  if (!isInt(r.groupEpoch) || r.groupEpoch < 0) return "groupEpoch must be a non-negative integer";
  if (!isInt(r.assignmentEpoch) || r.assignmentEpoch < 0) return "assignmentEpoch must be a non-negative integer";
  if (!isString(r.subscriptionHash)) return "subscriptionHash must be a string";
  if (!Array.isArray(r.members)) return "members must be an array";
  const ids = new Set<string>();
  for (const [i, m] of r.members.entries()) {
    const problem = memberProblem(m, i);
    if (problem) return problem;
    const id = (m as ConsumerMemberRecord).memberId;
    if (ids.has(id)) return `member ${id} appears twice`;
    ids.add(id);
  }
  return null;
}
