/**
 * CreateTopics (19), v0–7. Replication factor and manual assignments are accepted and ignored
 * (durability comes from the store; any agent serves any partition): −1 or any positive factor is
 * fine. validateOnly checks without creating. v5+ returns the partition count, factor 1 and the
 * topic's configs.
 */
import { ApiKey, ErrorCode } from "../protocol/index.js";
import { defineHandler } from "../server/handler.js";
import { effectiveConfig, TOPIC_CONFIGS } from "../metadata/topic-config.js";

defineHandler({ key: ApiKey.CreateTopics, min: 0, max: 7 }, async (req, ctx) => {
  const { agent } = ctx;
  const topics = await Promise.all(
    req.topics.map(async (t) => {
      const configs: Record<string, string> = {};
      for (const c of t.configs) if (c.value !== null) configs[c.name] = c.value;
      const partitions = t.numPartitions === -1 ? agent.topics.options.defaultPartitions : t.numPartitions;
      const result = req.validateOnly
        ? (agent.topics.check(t.name, partitions, configs) ?? { errorCode: 0 })
        : await agent.topics.create(t.name, partitions, configs);
      const created = agent.metadata.state.topics.get(t.name);
      const ok = result.errorCode === ErrorCode.NONE;
      return {
        name: t.name,
        topicId: ok && created ? created.topicId : "00000000000000000000000000000000",
        errorCode: result.errorCode,
        errorMessage: result.message ?? null,
        topicConfigErrorCode: 0,
        numPartitions: ok ? partitions : -1,
        replicationFactor: ok ? 1 : -1,
        configs: ok
          ? Object.keys(TOPIC_CONFIGS).map((name) => ({
              name,
              value: effectiveConfig(configs, name) ?? null,
              readOnly: false,
              configSource: name in configs ? 1 : 5,
              isSensitive: false,
            }))
          : [],
      };
    }),
  );
  return { throttleTimeMs: 0, topics };
});
