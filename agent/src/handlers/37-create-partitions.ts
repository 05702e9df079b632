/**
 * CreatePartitions (37), v0–3. Raises a topic's partition count, up to the per-topic and cluster limits
 * of metadata/limits.ts (INVALID_PARTITIONS beyond them); assignments are ignored.
 */
import { ApiKey, ErrorCode } from "../protocol/index.js";
import { defineHandler } from "../server/handler.js";

defineHandler({ key: ApiKey.CreatePartitions, min: 0, max: 3 }, async (req, ctx) => {
  const { agent } = ctx;
  const results = await Promise.all(
    req.topics.map(async (t) => {
      const r = req.validateOnly
        ? (agent.topics.checkCreatePartitions(t.name, t.count) ?? { errorCode: ErrorCode.NONE })
        : await agent.topics.createPartitions(t.name, t.count);
      return { name: t.name, errorCode: r.errorCode, errorMessage: r.message ?? null };
    }),
  );
  return { throttleTimeMs: 0, results };
});
