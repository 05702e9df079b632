/**
 * Produce (API key 0): request and response definitions, versions 0-11.
 * Transcribed field by field from Kafka's ProduceRequest.json / ProduceResponse.json (3.9.0)
 * by scripts/gen-protocol-messages.ts: regenerate with npm run gen:protocol, do not edit by hand.
 */
import type { MessageDef } from "../codec/schema.js";

export const ProduceRequest = {
  apiKey: 0,
  name: "ProduceRequest",
  validVersions: "0-11",
  flexibleVersions: "9+",
  fields: [
    { name: "transactionalId", type: "string", versions: "3+", nullableVersions: "3+", default: null },
    { name: "acks", type: "int16", versions: "0+" },
    { name: "timeoutMs", type: "int32", versions: "0+" },
    {
      name: "topicData",
      type: "struct[]",
      versions: "0+",
      fields: [
        { name: "name", type: "string", versions: "0+" },
        {
          name: "partitionData",
          type: "struct[]",
          versions: "0+",
          fields: [
            { name: "index", type: "int32", versions: "0+" },
            { name: "records", type: "records", versions: "0+", nullableVersions: "0+" },
          ],
        },
      ],
    },
  ],
} as const satisfies MessageDef;

export const ProduceResponse = {
  apiKey: 0,
  name: "ProduceResponse",
  validVersions: "0-11",
  flexibleVersions: "9+",
  fields: [
    {
      name: "responses",
      type: "struct[]",
      versions: "0+",
      fields: [
        { name: "name", type: "string", versions: "0+" },
        {
          name: "partitionResponses",
          type: "struct[]",
          versions: "0+",
          fields: [
            { name: "index", type: "int32", versions: "0+" },
            { name: "errorCode", type: "int16", versions: "0+" },
            { name: "baseOffset", type: "int64", versions: "0+" },
            { name: "logAppendTimeMs", type: "int64", versions: "2+", default: -1n },
            { name: "logStartOffset", type: "int64", versions: "5+", default: -1n },
            {
              name: "recordErrors",
              type: "struct[]",
              versions: "8+",
              fields: [
                { name: "batchIndex", type: "int32", versions: "8+" },
                {
                  name: "batchIndexErrorMessage",
                  type: "string",
                  versions: "8+",
                  nullableVersions: "8+",
                  default: null,
                },
              ],
            },
            { name: "errorMessage", type: "string", versions: "8+", nullableVersions: "8+", default: null },
            {
              name: "currentLeader",
              type: "struct",
              versions: "10+",
              tag: 0,
              taggedVersions: "10+",
              fields: [
                { name: "leaderId", type: "int32", versions: "10+", default: -1 },
                { name: "leaderEpoch", type: "int32", versions: "10+", default: -1 },
              ],
            },
          ],
        },
      ],
    },
    { name: "throttleTimeMs", type: "int32", versions: "1+", default: 0 },
    {
      name: "nodeEndpoints",
      type: "struct[]",
      versions: "10+",
      tag: 0,
      taggedVersions: "10+",
      fields: [
        { name: "nodeId", type: "int32", versions: "10+" },
        { name: "host", type: "string", versions: "10+" },
        { name: "port", type: "int32", versions: "10+" },
        { name: "rack", type: "string", versions: "10+", nullableVersions: "10+", default: null },
      ],
    },
  ],
} as const satisfies MessageDef;
