/** The states of a classic consumer group. */

/** State names exactly as Kafka prints them (DescribeGroups, ListGroups, kafka-consumer-groups.sh). */
export type GroupState = "Empty" | "PreparingRebalance" | "CompletingRebalance" | "Stable" | "Dead";

export const GROUP_STATES: readonly GroupState[] = [
  "Empty",
  "PreparingRebalance",
  "CompletingRebalance",
  "Stable",
  "Dead",
];
