/**
 * DeleteTopics (20), v0–6. By name (v0–5 `topicNames`, v6 `topics` with name or id). The topic's data
 * becomes unreferenced and is removed by garbage collection.
 */
import { ApiKey, ErrorCode } from "../protocol/index.js";
import { defineHandler } from "../server/handler.js";

const ZERO_UUID = "00000000000000000000000000000000";

defineHandler({ key: ApiKey.DeleteTopics, min: 0, max: 6 }, async (req, ctx) => {
  const { agent, header } = ctx;
  const state = agent.metadata.state;
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
      const topicId = state.topics.get(name)?.topicId ?? t.topicId;
      const result = await agent.topics.delete(name);
      return { name, topicId, errorCode: result.errorCode, errorMessage: result.message ?? null };
    }),
  );
  return { throttleTimeMs: 0, responses };
});
