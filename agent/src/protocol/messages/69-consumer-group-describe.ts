/**
 * ConsumerGroupDescribe (API key 69): request and response definitions, versions 0-1.
 * Transcribed field by field from Kafka's ConsumerGroupDescribeRequest.json / ConsumerGroupDescribeResponse.json (4.1.1)
 * by scripts/gen-protocol-messages.ts: regenerate with npm run gen:protocol, do not edit by hand.
 */
import type { MessageDef } from "../codec/schema.js";

export const ConsumerGroupDescribeRequest = {
  apiKey: 69,
  name: "ConsumerGroupDescribeRequest",
  validVersions: "0-1",
  flexibleVersions: "0+",
  fields: [
    { name: "groupIds", type: "string[]", versions: "0+" },
    { name: "includeAuthorizedOperations", type: "bool", versions: "0+" },
  ],
} as const satisfies MessageDef;

export const ConsumerGroupDescribeResponse = {
  apiKey: 69,
  name: "ConsumerGroupDescribeResponse",
  validVersions: "0-1",
  flexibleVersions: "0+",
  fields: [
    { name: "throttleTimeMs", type: "int32", versions: "0+" },
    {
      name: "groups",
      type: "struct[]",
      versions: "0+",
      fields: [
        { name: "errorCode", type: "int16", versions: "0+" },
        { name: "errorMessage", type: "string", versions: "0+", nullableVersions: "0+", default: null },
        { name: "groupId", type: "string", versions: "0+" },
        { name: "groupState", type: "string", versions: "0+" },
        { name: "groupEpoch", type: "int32", versions: "0+" },
        { name: "assignmentEpoch", type: "int32", versions: "0+" },
        { name: "assignorName", type: "string", versions: "0+" },
        {
          name: "members",
          type: "struct[]",
          versions: "0+",
          fields: [
            { name: "memberId", type: "string", versions: "0+" },
            { name: "instanceId", type: "string", versions: "0+", nullableVersions: "0+", default: null },
            { name: "rackId", type: "string", versions: "0+", nullableVersions: "0+", default: null },
            { name: "memberEpoch", type: "int32", versions: "0+" },
            { name: "clientId", type: "string", versions: "0+" },
            { name: "clientHost", type: "string", versions: "0+" },
            { name: "subscribedTopicNames", type: "string[]", versions: "0+" },
            { name: "subscribedTopicRegex", type: "string", versions: "0+", nullableVersions: "0+", default: null },
            {
              name: "assignment",
              type: "struct",
              versions: "0+",
              fields: [
                {
                  name: "topicPartitions",
                  type: "struct[]",
                  versions: "0+",
                  fields: [
                    { name: "topicId", type: "uuid", versions: "0+" },
                    { name: "topicName", type: "string", versions: "0+" },
                    { name: "partitions", type: "int32[]", versions: "0+" },
                  ],
                },
              ],
            },
            {
              name: "targetAssignment",
              type: "struct",
              versions: "0+",
              fields: [
                {
                  name: "topicPartitions",
                  type: "struct[]",
                  versions: "0+",
                  fields: [
                    { name: "topicId", type: "uuid", versions: "0+" },
                    { name: "topicName", type: "string", versions: "0+" },
                    { name: "partitions", type: "int32[]", versions: "0+" },
                  ],
                },
              ],
            },
            { name: "memberType", type: "int8", versions: "1+", default: -1 },
          ],
        },
        { name: "authorizedOperations", type: "int32", versions: "0+", default: -2147483648 },
      ],
    },
  ],
} as const satisfies MessageDef;
