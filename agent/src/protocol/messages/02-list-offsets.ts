/**
 * ListOffsets (API key 2): request and response definitions, versions 0-8.
 * Transcribed field by field from Kafka's ListOffsetsRequest.json / ListOffsetsResponse.json (3.9.0)
 * by scripts/gen-protocol-messages.ts: regenerate with npm run gen:protocol, do not edit by hand.
 */
import type { MessageDef } from "../codec/schema.js";

export const ListOffsetsRequest = {
  apiKey: 2,
  name: "ListOffsetsRequest",
  validVersions: "0-8",
  flexibleVersions: "6+",
  fields: [
    { name: "replicaId", type: "int32", versions: "0+" },
    { name: "isolationLevel", type: "int8", versions: "2+" },
    {
      name: "topics",
      type: "struct[]",
      versions: "0+",
      fields: [
        { name: "name", type: "string", versions: "0+" },
        {
          name: "partitions",
          type: "struct[]",
          versions: "0+",
          fields: [
            { name: "partitionIndex", type: "int32", versions: "0+" },
            { name: "currentLeaderEpoch", type: "int32", versions: "4+", default: -1 },
            { name: "timestamp", type: "int64", versions: "0+" },
            { name: "maxNumOffsets", type: "int32", versions: "0", default: 1 },
          ],
        },
      ],
    },
  ],
} as const satisfies MessageDef;

export const ListOffsetsResponse = {
  apiKey: 2,
  name: "ListOffsetsResponse",
  validVersions: "0-8",
  flexibleVersions: "6+",
  fields: [
    { name: "throttleTimeMs", type: "int32", versions: "2+" },
    {
      name: "topics",
      type: "struct[]",
      versions: "0+",
      fields: [
        { name: "name", type: "string", versions: "0+" },
        {
          name: "partitions",
          type: "struct[]",
          versions: "0+",
          fields: [
            { name: "partitionIndex", type: "int32", versions: "0+" },
            { name: "errorCode", type: "int16", versions: "0+" },
            { name: "oldStyleOffsets", type: "int64[]", versions: "0" },
            { name: "timestamp", type: "int64", versions: "1+", default: -1n },
            { name: "offset", type: "int64", versions: "1+", default: -1n },
            { name: "leaderEpoch", type: "int32", versions: "4+", default: -1 },
          ],
        },
      ],
    },
  ],
} as const satisfies MessageDef;
