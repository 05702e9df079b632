/**
 * IncrementalAlterConfigs (44), v0–1. SET (0) and DELETE (1) on topic configs; APPEND/SUBTRACT (2, 3)
 * apply to list configs, which topics here do not have (INVALID_CONFIG).
 */
import { ApiKey, ErrorCode } from "../protocol/index.js";
import { defineHandler } from "../server/handler.js";
import { validateTopicConfig } from "../metadata/topic-config.js";
import { RESOURCE_TOPIC } from "./32-describe-configs.js";

const OP_SET = 0;
const OP_DELETE = 1;

defineHandler({ key: ApiKey.IncrementalAlterConfigs, min: 0, max: 1 }, async (req, ctx) => {
  const { agent } = ctx;
  const responses = await Promise.all(
    req.resources.map(async (r) => {
      const base = { resourceType: r.resourceType, resourceName: r.resourceName };
      if (r.resourceType !== RESOURCE_TOPIC) return { ...base, errorCode: ErrorCode.INVALID_REQUEST, errorMessage: "only topic configs can be altered" };
      if (agent.topics.partitionCount(r.resourceName) === null) return { ...base, errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, errorMessage: `topic ${r.resourceName} does not exist` };
      const set: Record<string, string | null> = {};
      for (const c of r.configs) {
        if (c.configOperation === OP_DELETE) {
          set[c.name] = null;
          continue;
        }
        if (c.configOperation !== OP_SET || c.value === null) {
          return { ...base, errorCode: ErrorCode.INVALID_CONFIG, errorMessage: `operation ${c.configOperation} is not supported for ${c.name}` };
        }
        const problem = validateTopicConfig(c.name, c.value);
        if (problem) return { ...base, errorCode: ErrorCode.INVALID_CONFIG, errorMessage: problem };
        set[c.name] = c.value;
      }
      if (req.validateOnly) return { ...base, errorCode: ErrorCode.NONE, errorMessage: null };
      const result = await agent.topics.alterConfigs(r.resourceName, set, false);
      return { ...base, errorCode: result.errorCode, errorMessage: result.message ?? null };
    }),
  );
  return { throttleTimeMs: 0, responses };
});
