/**
 * CreateTopics (19), v0–7. Replication factor and manual assignments are accepted and ignored
 * (durability comes from the store; any agent serves any partition): −1 or any positive factor is
 * fine. validateOnly checks without creating. v5+ returns the partition count, factor 1 and the
 * topic's configs. Authorization: CREATE on the cluster or on the topic, else TOPIC_AUTHORIZATION_FAILED;
 * a topic created by a client not allowed DESCRIBE_CONFIGS on it is answered without its configs
 * (topicConfigErrorCode TOPIC_AUTHORIZATION_FAILED), as in Kafka.
 */
import { ApiKey, ErrorCode } from "../protocol/index.js";
import { defineHandler } from "../server/handler.js";
import { effectiveConfig, TOPIC_CONFIGS } from "../metadata/topic-config.js";
import { allowed, allowedNames, clusterAllowed } from "./authorization.js";

defineHandler({ key: ApiKey.CreateTopics, min: 0, max: 7 }, async (req, ctx) => {
  const { agent } = ctx;
  const names = req.topics.map((t) => t.name);
  const creatable = clusterAllowed(ctx, "CREATE", false) ? new Set(names) : allowedNames(ctx, "CREATE", "TOPIC", names);
  const topics = await Promise.all(
    req.topics.map(async (t) => {
      if (!creatable.has(t.name))
        return {
          name: t.name,
          topicId: "00000000000000000000000000000000",
          errorCode: ErrorCode.TOPIC_AUTHORIZATION_FAILED,
          errorMessage: "Authorization failed.",
          topicConfigErrorCode: 0,
          numPartitions: -1,
          replicationFactor: -1,
          configs: [],
        };
      const configs: Record<string, string> = {};
      for (const c of t.configs) if (c.value !== null) configs[c.name] = c.value;
      const partitions = t.numPartitions === -1 ? agent.topics.options.defaultPartitions : t.numPartitions;
      const result = req.validateOnly
        ? (agent.topics.check(t.name, partitions, configs) ?? { errorCode: 0 })
        : await agent.topics.create(t.name, partitions, configs);
      const created = agent.metadata.state.topics.get(t.name);
      const ok = result.errorCode === ErrorCode.NONE;
      const describable = allowed(ctx, "DESCRIBE_CONFIGS", "TOPIC", t.name, false);
      return {
        name: t.name,
        topicId: ok && created ? created.topicId : "00000000000000000000000000000000",
        errorCode: result.errorCode,
        errorMessage: result.message ?? null,
        topicConfigErrorCode: ok && !describable ? ErrorCode.TOPIC_AUTHORIZATION_FAILED : 0,
        numPartitions: ok ? partitions : -1,
        replicationFactor: ok ? 1 : -1,
        configs:
          ok && describable
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
