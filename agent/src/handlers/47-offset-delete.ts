/**
 * OffsetDelete (47), v0. Deletes a group's committed offsets for some partitions, with Kafka's rules
 * (groups/offsets.ts): top-level NOT_COORDINATOR on an agent that does not coordinate the group,
 * INVALID_GROUP_ID for an empty group id, GROUP_ID_NOT_FOUND for a group with neither members nor
 * offsets, NON_EMPTY_GROUP for a group with members outside the consumer protocol; per partition
 * UNKNOWN_TOPIC_OR_PARTITION for partitions that do not exist, GROUP_SUBSCRIBED_TO_TOPIC for topics the
 * group's members are subscribed to, else NONE (also when nothing was committed). The deletion goes
 * through the metadata log like a commit, so it holds on every agent. An agent that just became the
 * group's coordinator may not have read the commits made through the previous one: the log's tail is read
 * first, and when it cannot be read in time the answer is COORDINATOR_LOAD_IN_PROGRESS (retriable), not
 * GROUP_ID_NOT_FOUND. Left out: group and topic authorization.
 */
import { catchUpWithin } from "../fetch/catch-up.js";
import { ApiKey, ErrorCode } from "../protocol/index.js";
import { coordinatesGroup } from "./group-support.js";
import type { OffsetDeletePartition } from "../groups/coordinator.js";
import { defineHandler } from "../server/handler.js";

defineHandler({ key: ApiKey.OffsetDelete, min: 0, max: 0 }, async (req, ctx) => {
  const { agent } = ctx;
  const failed = (errorCode: number) => ({ errorCode, throttleTimeMs: 0, topics: [] });
  if (req.groupId === "") return failed(ErrorCode.INVALID_GROUP_ID);
  if (!coordinatesGroup(agent, req.groupId)) return failed(ErrorCode.NOT_COORDINATOR);
  if (!(await catchUpWithin(agent.metadata))) return failed(ErrorCode.COORDINATOR_LOAD_IN_PROGRESS);
  const known: OffsetDeletePartition[] = [];
  for (const t of req.topics) {
    const count = agent.topics.partitionCount(t.name);
    for (const p of t.partitions)
      if (count !== null && p.partitionIndex >= 0 && p.partitionIndex < count)
        known.push({ topic: t.name, partition: p.partitionIndex });
  }
  const result = await agent.groups.deleteOffsets(req.groupId, known);
  if (result.errorCode !== ErrorCode.NONE) return failed(result.errorCode);
  const codes = new Map(result.partitions.map((r) => [`${r.partition}:${r.topic}`, r.errorCode]));
  return {
    errorCode: ErrorCode.NONE,
    throttleTimeMs: 0,
    topics: req.topics.map((t) => ({
      name: t.name,
      partitions: t.partitions.map((p) => ({
        partitionIndex: p.partitionIndex,
        errorCode: codes.get(`${p.partitionIndex}:${t.name}`) ?? ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
      })),
    })),
  };
});
