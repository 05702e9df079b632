/**
 * DeleteTopics (20), v0–6. By name (v0–5 `topicNames`, v6 `topics` with name or id). The topic's data
 * becomes unreferenced and is removed by garbage collection. Authorization: DELETE on the cluster or on
 * the topic, else TOPIC_AUTHORIZATION_FAILED; a topic named by id that the client may not DESCRIBE is
 * answered without its name, as in Kafka.
 */
import { ApiKey, ErrorCode } from "../protocol/index.js";
import { defineHandler } from "../server/handler.js";
import { allowed, clusterAllowed } from "./authorization.js";

const ZERO_UUID = "00000000000000000000000000000000";

defineHandler({ key: ApiKey.DeleteTopics, min: 0, max: 6 }, async (req, ctx) => {
  const { agent, header } = ctx;
  const state = agent.metadata.state;
  const mayDeleteAll = clusterAllowed(ctx, "DELETE", false);
  const targets: Array<{ name: string | null; topicId: string }> =
    header.apiVersion >= 6
      ? req.topics.map((t) => ({ name: t.name, topicId: t.topicId }))
      : req.topicNames.map((n) => ({ name: n, topicId: ZERO_UUID }));
  const responses = await Promise.all(
    targets.map(async (t) => {
      let name = t.name;
      if (name === null && t.topicId !== ZERO_UUID)
        name = [...state.topics.values()].find((x) => x.topicId === t.topicId)?.name ?? null;
      if (name === null)
        return {
          name: null,
          topicId: t.topicId,
          errorCode: ErrorCode.UNKNOWN_TOPIC_ID,
          errorMessage: "unknown topic id",
        };
      if (!mayDeleteAll && !allowed(ctx, "DELETE", "TOPIC", name)) {
        const byId = t.name === null;
        const describable = !byId || allowed(ctx, "DESCRIBE", "TOPIC", name);
        return {
          name: describable ? name : null,
          topicId: byId ? t.topicId : ZERO_UUID,
          errorCode: ErrorCode.TOPIC_AUTHORIZATION_FAILED,
          errorMessage: "Topic authorization failed.",
        };
      }
      const topicId = state.topics.get(name)?.topicId ?? t.topicId;
      const result = await agent.topics.delete(name);
      return { name, topicId, errorCode: result.errorCode, errorMessage: result.message ?? null };
    }),
  );
  return { throttleTimeMs: 0, responses };
});
