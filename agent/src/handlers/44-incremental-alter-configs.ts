/**
 * IncrementalAlterConfigs (44), v0–1. SET (0) and DELETE (1) on topic configs; APPEND/SUBTRACT (2, 3)
 * apply to list configs, which topics here do not have (INVALID_CONFIG).
 */
import { ApiKey } from "../protocol/index.js";
import { defineHandler } from "../server/handler.js";
import { changeTopicConfig } from "./topic-config-change.js";

const OP_SET = 0;
const OP_DELETE = 1;

defineHandler({ key: ApiKey.IncrementalAlterConfigs, min: 0, max: 1 }, async (req, ctx) => {
  const responses = await Promise.all(
    req.resources.map((r) => {
      let changes: Record<string, string | null> | string = {};
      for (const c of r.configs) {
        if (c.configOperation === OP_DELETE) changes[c.name] = null;
        else if (c.configOperation === OP_SET && c.value !== null) changes[c.name] = c.value;
        else {
          changes = `operation ${c.configOperation} is not supported for ${c.name}`;
          break;
        }
      }
      return changeTopicConfig(ctx, r, changes, { validateOnly: req.validateOnly, replace: false });
    }),
  );
  return { throttleTimeMs: 0, responses };
});
