/**
 * DescribeConfigs (32), v0–4. Topics (resource type 2): every known key with its effective value and
 * source (topic config 1, default 5). Brokers (type 4): a few read-only broker settings. Synonyms are
 * not listed; documentation comes from the config table. Authorization: DESCRIBE_CONFIGS on the topic
 * (else TOPIC_AUTHORIZATION_FAILED) or, for a broker, on the cluster (else CLUSTER_AUTHORIZATION_FAILED).
 */
import { ApiKey, ErrorCode } from "../protocol/index.js";
import { defineHandler } from "../server/handler.js";
import { TOPIC_CONFIGS } from "../metadata/topic-config.js";
import { RESOURCE_BROKER, RESOURCE_TOPIC } from "./topic-config-change.js";
import { allowed, clusterAllowed } from "./authorization.js";

const SOURCE_TOPIC = 1;
const SOURCE_STATIC_BROKER = 4;
const SOURCE_DEFAULT = 5;
const TYPE_STRING = 2;

defineHandler({ key: ApiKey.DescribeConfigs, min: 0, max: 4 }, async (req, ctx) => {
  const { agent } = ctx;
  const state = agent.metadata.state;
  const results = req.resources.map((r) => {
    const base = { resourceType: r.resourceType, resourceName: r.resourceName, errorMessage: null as string | null };
    const wanted = (name: string) => r.configurationKeys === null || r.configurationKeys.includes(name);
    const denied = (errorCode: number, what: string) => ({
      ...base,
      errorCode,
      errorMessage: `${what} authorization failed.`,
      configs: [],
    });
    if (r.resourceType === RESOURCE_TOPIC && !allowed(ctx, "DESCRIBE_CONFIGS", "TOPIC", r.resourceName))
      return denied(ErrorCode.TOPIC_AUTHORIZATION_FAILED, "Topic");
    if (r.resourceType === RESOURCE_BROKER && !clusterAllowed(ctx, "DESCRIBE_CONFIGS"))
      return denied(ErrorCode.CLUSTER_AUTHORIZATION_FAILED, "Cluster");
    if (r.resourceType === RESOURCE_TOPIC) {
      const topic = state.topics.get(r.resourceName);
      if (!topic)
        return {
          ...base,
          errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
          errorMessage: `topic ${r.resourceName} does not exist`,
          configs: [],
        };
      const configs = Object.entries(TOPIC_CONFIGS)
        .filter(([name]) => wanted(name))
        .map(([name, def]) => {
          const set = topic.configs[name];
          return {
            name,
            value: set ?? def.default,
            readOnly: false,
            isDefault: set === undefined,
            configSource: set === undefined ? SOURCE_DEFAULT : SOURCE_TOPIC,
            isSensitive: false,
            synonyms: [],
            configType: TYPE_STRING,
            documentation: def.doc,
          };
        });
      return { ...base, errorCode: ErrorCode.NONE, configs };
    }
    if (r.resourceType === RESOURCE_BROKER) {
      const brokerConfigs: Record<string, string> = {
        "broker.id": String(agent.cluster.self.nodeId),
        "num.partitions": String(agent.topics.options.defaultPartitions),
        "auto.create.topics.enable": String(agent.topics.options.autoCreate),
        "broker.rack": agent.cluster.self.zone ?? "",
      };
      const configs = Object.entries(brokerConfigs)
        .filter(([name]) => wanted(name))
        .map(([name, value]) => ({
          name,
          value,
          readOnly: true,
          isDefault: false,
          configSource: SOURCE_STATIC_BROKER,
          isSensitive: false,
          synonyms: [],
          configType: TYPE_STRING,
          documentation: null,
        }));
      return { ...base, errorCode: ErrorCode.NONE, configs };
    }
    return {
      ...base,
      errorCode: ErrorCode.INVALID_REQUEST,
      errorMessage: `resource type ${r.resourceType} is not supported`,
      configs: [],
    };
  });
  return { throttleTimeMs: 0, results };
});
