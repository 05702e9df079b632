/**
 * CreateTopics (API key 19): request and response definitions, versions 0-7.
 * Transcribed field by field from Kafka's CreateTopicsRequest.json / CreateTopicsResponse.json (3.9.0)
 * by scripts/gen-protocol-messages.ts: regenerate with npm run gen:protocol, do not edit by hand.
 */
import type { MessageDef } from "../codec/schema.js";

export const CreateTopicsRequest = {
  apiKey: 19,
  name: "CreateTopicsRequest",
  validVersions: "0-7",
  flexibleVersions: "5+",
  fields: [
    {
      name: "topics",
      type: "struct[]",
      versions: "0+",
      fields: [
        { name: "name", type: "string", versions: "0+" },
        { name: "numPartitions", type: "int32", versions: "0+" },
        { name: "replicationFactor", type: "int16", versions: "0+" },
        {
          name: "assignments",
          type: "struct[]",
          versions: "0+",
          fields: [
            { name: "partitionIndex", type: "int32", versions: "0+" },
            { name: "brokerIds", type: "int32[]", versions: "0+" },
          ],
        },
        {
          name: "configs",
          type: "struct[]",
          versions: "0+",
          fields: [
            { name: "name", type: "string", versions: "0+" },
            { name: "value", type: "string", versions: "0+", nullableVersions: "0+" },
          ],
        },
      ],
    },
    { name: "timeoutMs", type: "int32", versions: "0+", default: 60000 },
    { name: "validateOnly", type: "bool", versions: "1+", default: false },
  ],
} as const satisfies MessageDef;

export const CreateTopicsResponse = {
  apiKey: 19,
  name: "CreateTopicsResponse",
  validVersions: "0-7",
  flexibleVersions: "5+",
  fields: [
    { name: "throttleTimeMs", type: "int32", versions: "2+" },
    {
      name: "topics",
      type: "struct[]",
      versions: "0+",
      fields: [
        { name: "name", type: "string", versions: "0+" },
        { name: "topicId", type: "uuid", versions: "7+" },
        { name: "errorCode", type: "int16", versions: "0+" },
        { name: "errorMessage", type: "string", versions: "1+", nullableVersions: "0+" },
        { name: "topicConfigErrorCode", type: "int16", versions: "5+", tag: 0, taggedVersions: "5+" },
        { name: "numPartitions", type: "int32", versions: "5+", default: -1 },
        { name: "replicationFactor", type: "int16", versions: "5+", default: -1 },
        {
          name: "configs",
          type: "struct[]",
          versions: "5+",
          nullableVersions: "5+",
          fields: [
            { name: "name", type: "string", versions: "5+" },
            { name: "value", type: "string", versions: "5+", nullableVersions: "5+" },
            { name: "readOnly", type: "bool", versions: "5+" },
            { name: "configSource", type: "int8", versions: "5+", default: -1 },
            { name: "isSensitive", type: "bool", versions: "5+" },
          ],
        },
      ],
    },
  ],
} as const satisfies MessageDef;
