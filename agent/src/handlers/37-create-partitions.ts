/** CreatePartitions (37), v0–3. Raises a topic's partition count; assignments are ignored. */
import { ApiKey, ErrorCode } from "../protocol/index.js";
import { defineHandler } from "../server/handler.js";

defineHandler({ key: ApiKey.CreatePartitions, min: 0, max: 3 }, async (req, ctx) => {
  const { agent } = ctx;
  const results = await Promise.all(
    req.topics.map(async (t) => {
      const current = agent.topics.partitionCount(t.name);
      if (current === null)
        return {
          name: t.name,
          errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
          errorMessage: `topic ${t.name} does not exist`,
        };
      if (t.count <= current) {
        return {
          name: t.name,
          errorCode: ErrorCode.INVALID_PARTITIONS,
          errorMessage: `topic ${t.name} has ${current} partitions; the new count must be larger`,
        };
      }
      if (req.validateOnly) return { name: t.name, errorCode: ErrorCode.NONE, errorMessage: null };
      const r = await agent.topics.createPartitions(t.name, t.count);
      return { name: t.name, errorCode: r.errorCode, errorMessage: r.message ?? null };
    }),
  );
  return { throttleTimeMs: 0, results };
});
