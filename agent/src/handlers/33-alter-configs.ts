/** AlterConfigs (33), v0–2. Replaces a topic's whole config; broker configs are read-only. */
import { ApiKey, ErrorCode } from "../protocol/index.js";
import { defineHandler } from "../server/handler.js";
import { validateTopicConfig } from "../metadata/topic-config.js";
import { RESOURCE_TOPIC } from "./32-describe-configs.js";

defineHandler({ key: ApiKey.AlterConfigs, min: 0, max: 2 }, async (req, ctx) => {
  const { agent } = ctx;
  const responses = await Promise.all(
    req.resources.map(async (r) => {
      const base = { resourceType: r.resourceType, resourceName: r.resourceName };
      if (r.resourceType !== RESOURCE_TOPIC) return { ...base, errorCode: ErrorCode.INVALID_REQUEST, errorMessage: "only topic configs can be altered" };
      if (agent.topics.partitionCount(r.resourceName) === null) return { ...base, errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, errorMessage: `topic ${r.resourceName} does not exist` };
      const set: Record<string, string | null> = {};
      for (const c of r.configs) {
        if (c.value !== null) {
          const problem = validateTopicConfig(c.name, c.value);
          if (problem) return { ...base, errorCode: ErrorCode.INVALID_CONFIG, errorMessage: problem };
        }
        set[c.name] = c.value;
      }
      if (req.validateOnly) return { ...base, errorCode: ErrorCode.NONE, errorMessage: null };
      const result = await agent.topics.alterConfigs(r.resourceName, set, true);
      return { ...base, errorCode: result.errorCode, errorMessage: result.message ?? null };
    }),
  );
  return { throttleTimeMs: 0, responses };
});
