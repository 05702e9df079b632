/**
 * DeleteTopics (API key 20): request and response definitions, versions 0-6.
 * Transcribed field by field from Kafka's DeleteTopicsRequest.json / DeleteTopicsResponse.json (3.9.0)
 * by scripts/gen-protocol-messages.ts: regenerate with npm run gen:protocol, do not edit by hand.
 */
import type { MessageDef } from "../codec/schema.js";

export const DeleteTopicsRequest = {
  apiKey: 20,
  name: "DeleteTopicsRequest",
  validVersions: "0-6",
  flexibleVersions: "4+",
  fields: [
    {
      name: "topics",
      type: "struct[]",
      versions: "6+",
      fields: [
        { name: "name", type: "string", versions: "6+", nullableVersions: "6+", default: null },
        { name: "topicId", type: "uuid", versions: "6+" },
      ],
    },
    { name: "topicNames", type: "string[]", versions: "0-5" },
    { name: "timeoutMs", type: "int32", versions: "0+" },
  ],
} as const satisfies MessageDef;

export const DeleteTopicsResponse = {
  apiKey: 20,
  name: "DeleteTopicsResponse",
  validVersions: "0-6",
  flexibleVersions: "4+",
  fields: [
    { name: "throttleTimeMs", type: "int32", versions: "1+" },
    {
      name: "responses",
      type: "struct[]",
      versions: "0+",
      fields: [
        { name: "name", type: "string", versions: "0+", nullableVersions: "6+" },
        { name: "topicId", type: "uuid", versions: "6+" },
        { name: "errorCode", type: "int16", versions: "0+" },
        { name: "errorMessage", type: "string", versions: "5+", nullableVersions: "5+", default: null },
      ],
    },
  ],
} as const satisfies MessageDef;
