/** AlterConfigs (33), v0–2. Replaces a topic's whole config; broker configs are read-only. */
import { ApiKey } from "../protocol/index.js";
import { defineHandler } from "../server/handler.js";
import { changeTopicConfig } from "./topic-config-change.js";

defineHandler({ key: ApiKey.AlterConfigs, min: 0, max: 2 }, async (req, ctx) => {
  const responses = await Promise.all(
    req.resources.map((r) => {
      const set: Record<string, string | null> = {};
      for (const c of r.configs) set[c.name] = c.value;
      return changeTopicConfig(ctx, r, set, { validateOnly: req.validateOnly, replace: true });
    }),
  );
  return { throttleTimeMs: 0, responses };
});
