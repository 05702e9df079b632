/**
 * The states of a classic consumer group and the transitions between them, as in Kafka's classic group
 * coordinator. Pure: no I/O, no timers.
 *
 * - Empty → PreparingRebalance: a member joins.
 * - PreparingRebalance → CompletingRebalance: the join phase ends with members; a new generation begins
 *   and its leader gets every member's metadata.
 * - PreparingRebalance → Empty: the join phase ends with no member left (a new generation too).
 * - CompletingRebalance → Stable: the leader's SyncGroup brings the assignment.
 * - CompletingRebalance or Stable → PreparingRebalance: a member joins, rejoins as leader or with other
 *   metadata, leaves, lets its session expire or does not send SyncGroup in time.
 * - any state → Dead: the group is deleted or unloaded, or the coordinator closes.
 */

/** State names exactly as Kafka prints them (DescribeGroups, ListGroups, kafka-consumer-groups.sh). */
export type GroupState = "Empty" | "PreparingRebalance" | "CompletingRebalance" | "Stable" | "Dead";

export const GROUP_STATES: readonly GroupState[] = [
  "Empty",
  "PreparingRebalance",
  "CompletingRebalance",
  "Stable",
  "Dead",
];

/** For each state, the states a group may enter it from. */
const PREVIOUS_STATES: Readonly<Record<GroupState, readonly GroupState[]>> = {
  Empty: ["PreparingRebalance"],
  PreparingRebalance: ["Empty", "CompletingRebalance", "Stable"],
  CompletingRebalance: ["PreparingRebalance"],
  Stable: ["CompletingRebalance"],
  Dead: GROUP_STATES,
};

/** Whether a group in state `from` may move to state `to`. */
export function canTransition(from: GroupState, to: GroupState): boolean {
  return PREVIOUS_STATES[to].includes(from);
}
