/**
 * ConsumerGroupHeartbeat (API key 68): request and response definitions, versions 0-1.
 * Transcribed field by field from Kafka's ConsumerGroupHeartbeatRequest.json / ConsumerGroupHeartbeatResponse.json (4.1.1)
 * by scripts/gen-protocol-messages.ts: regenerate with npm run gen:protocol, do not edit by hand.
 */
import type { MessageDef } from "../codec/schema.js";

export const ConsumerGroupHeartbeatRequest = {
  apiKey: 68,
  name: "ConsumerGroupHeartbeatRequest",
  validVersions: "0-1",
  flexibleVersions: "0+",
  fields: [
    { name: "groupId", type: "string", versions: "0+" },
    { name: "memberId", type: "string", versions: "0+" },
    { name: "memberEpoch", type: "int32", versions: "0+" },
    { name: "instanceId", type: "string", versions: "0+", nullableVersions: "0+", default: null },
    { name: "rackId", type: "string", versions: "0+", nullableVersions: "0+", default: null },
    { name: "rebalanceTimeoutMs", type: "int32", versions: "0+", default: -1 },
    { name: "subscribedTopicNames", type: "string[]", versions: "0+", nullableVersions: "0+" },
    { name: "subscribedTopicRegex", type: "string", versions: "1+", nullableVersions: "1+", default: null },
    { name: "serverAssignor", type: "string", versions: "0+", nullableVersions: "0+", default: null },
    {
      name: "topicPartitions",
      type: "struct[]",
      versions: "0+",
      nullableVersions: "0+",
      fields: [
        { name: "topicId", type: "uuid", versions: "0+" },
        { name: "partitions", type: "int32[]", versions: "0+" },
      ],
    },
  ],
} as const satisfies MessageDef;

export const ConsumerGroupHeartbeatResponse = {
  apiKey: 68,
  name: "ConsumerGroupHeartbeatResponse",
  validVersions: "0-1",
  flexibleVersions: "0+",
  fields: [
    { name: "throttleTimeMs", type: "int32", versions: "0+" },
    { name: "errorCode", type: "int16", versions: "0+" },
    { name: "errorMessage", type: "string", versions: "0+", nullableVersions: "0+", default: null },
    { name: "memberId", type: "string", versions: "0+", nullableVersions: "0+", default: null },
    { name: "memberEpoch", type: "int32", versions: "0+" },
    { name: "heartbeatIntervalMs", type: "int32", versions: "0+" },
    {
      name: "assignment",
      type: "struct",
      versions: "0+",
      nullableVersions: "0+",
      fields: [
        {
          name: "topicPartitions",
          type: "struct[]",
          versions: "0+",
          fields: [
            { name: "topicId", type: "uuid", versions: "0+" },
            { name: "partitions", type: "int32[]", versions: "0+" },
          ],
        },
      ],
    },
  ],
} as const satisfies MessageDef;
