/**
 * CreatePartitions (37), v0–3. Raises a topic's partition count, up to the per-topic and cluster limits
 * of metadata/limits.ts (INVALID_PARTITIONS beyond them); assignments are ignored. Authorization: ALTER on
 * the topic, else TOPIC_AUTHORIZATION_FAILED.
 */
import { ApiKey, ErrorCode } from "../protocol/index.js";
import { defineHandler } from "../server/handler.js";
import { allowedNames } from "./authorization.js";

defineHandler({ key: ApiKey.CreatePartitions, min: 0, max: 3 }, async (req, ctx) => {
  const { agent } = ctx;
  const alterable = allowedNames(
    ctx,
    "ALTER",
    "TOPIC",
    req.topics.map((t) => t.name),
  );
  const results = await Promise.all(
    req.topics.map(async (t) => {
      if (!alterable.has(t.name))
        return { name: t.name, errorCode: ErrorCode.TOPIC_AUTHORIZATION_FAILED, errorMessage: "Authorization failed." };
      const r = req.validateOnly
        ? (agent.topics.checkCreatePartitions(t.name, t.count) ?? { errorCode: ErrorCode.NONE })
        : await agent.topics.createPartitions(t.name, t.count);
      return { name: t.name, errorCode: r.errorCode, errorMessage: r.message ?? null };
    }),
  );
  return { throttleTimeMs: 0, results };
});
