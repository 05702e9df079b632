/**
 * The topics the in-process scale benchmarks fold (scale-state.ts, bench/fold.ts, bench/snapshot-buffers.ts):
 * their names, ids, creating commands, and when their entries start.
 */
import type { Command } from "../../agent/src/metadata/commands.js";

/** When the folded entries start (ms since the epoch). */
export const SCALE_TIME0 = 1_767_225_600_000;

export const scaleTopicName = (t: number): string => `scale-topic-${String(t).padStart(4, "0")}`;
export const scaleTopicId = (t: number): string => (t + 1).toString(16).padStart(32, "0");

/** The createTopic command of topic `t`, of `partitions` partitions. */
export function createScaleTopic(t: number, partitions: number): Command {
  return { type: "createTopic", name: scaleTopicName(t), topicId: scaleTopicId(t), partitions, configs: {} };
}
