/**
 * OffsetFetch (9), v0–9. Committed offsets of a group, −1 (leader epoch −1, metadata "") for partitions
 * with none; topics null (v2+) = every committed partition. v2–7 carry a top-level error, v5+ the
 * leader epoch, v8+ batch several groups. Groups another agent coordinates get NOT_COORDINATOR.
 * Left out: requireStable (v7+) is trivially satisfied (no transactional offsets); v9's member id and
 * epoch are for KIP-848 groups and are ignored for classic groups, as Kafka does.
 *
 * Committed offsets live in the metadata log. An agent that just became a group's coordinator may not
 * have read the commits made through the previous one yet: the log tail is read first (bounded,
 * fetch/catch-up.ts). Offsets are answered as committed, also when they are beyond a partition's high
 * watermark as this agent sees it.
 */
import { catchUpWithin } from "../fetch/catch-up.js";
import { ApiKey, ErrorCode } from "../protocol/index.js";
import { coordinatesGroup } from "../groups/handler-support.js";
import type { OffsetFetchResult } from "../groups/coordinator.js";
import type { AgentContext } from "../server/context.js";
import { defineHandler } from "../server/handler.js";

type TopicRequest = { readonly name: string; readonly partitionIndexes: readonly number[] };

function fetchGroup(agent: AgentContext, groupId: string, topics: readonly TopicRequest[] | null): OffsetFetchResult {
  const wanted = topics === null ? null : topics.map((t) => ({ topic: t.name, partitions: t.partitionIndexes }));
  if (!coordinatesGroup(agent, groupId)) {
    return {
      errorCode: ErrorCode.NOT_COORDINATOR,
      topics: (wanted ?? []).map((t) => ({
        topic: t.topic,
        partitions: t.partitions.map((partition) => ({
          partition,
          offset: -1n,
          leaderEpoch: -1,
          metadata: "",
          errorCode: ErrorCode.NOT_COORDINATOR,
        })),
      })),
    };
  }
  return agent.groups.fetchOffsets(groupId, wanted);
}

function topicsOut(result: OffsetFetchResult) {
  return result.topics.map((t) => ({
    name: t.topic,
    partitions: t.partitions.map((p) => ({
      partitionIndex: p.partition,
      committedOffset: p.offset,
      committedLeaderEpoch: p.leaderEpoch,
      metadata: p.metadata,
      errorCode: p.errorCode,
    })),
  }));
}

defineHandler({ key: ApiKey.OffsetFetch, min: 0, max: 9 }, async (req, ctx) => {
  const { agent, header } = ctx;
  const groupIds = header.apiVersion >= 8 ? req.groups.map((g) => g.groupId) : [req.groupId];
  if (groupIds.some((id) => coordinatesGroup(agent, id))) await catchUpWithin(agent.metadata);
  if (header.apiVersion >= 8) {
    return {
      throttleTimeMs: 0,
      groups: req.groups.map((g) => {
        const result = fetchGroup(agent, g.groupId, g.topics);
        return { groupId: g.groupId, topics: topicsOut(result), errorCode: result.errorCode };
      }),
    };
  }
  const result = fetchGroup(agent, req.groupId, header.apiVersion >= 2 ? req.topics : (req.topics ?? []));
  // Before v2 there is no top-level error: it is carried by every partition.
  return { throttleTimeMs: 0, topics: topicsOut(result), errorCode: result.errorCode };
});
