/**
 * DeleteRecords (API key 21): request and response definitions, versions 0-2.
 * Transcribed field by field from Kafka's DeleteRecordsRequest.json / DeleteRecordsResponse.json (3.9.0)
 * by scripts/gen-protocol-messages.ts: regenerate with npm run gen:protocol, do not edit by hand.
 */
import type { MessageDef } from "../codec/schema.js";

export const DeleteRecordsRequest = {
  apiKey: 21,
  name: "DeleteRecordsRequest",
  validVersions: "0-2",
  flexibleVersions: "2+",
  fields: [
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
            { name: "offset", type: "int64", versions: "0+" },
          ],
        },
      ],
    },
    { name: "timeoutMs", type: "int32", versions: "0+" },
  ],
} as const satisfies MessageDef;

export const DeleteRecordsResponse = {
  apiKey: 21,
  name: "DeleteRecordsResponse",
  validVersions: "0-2",
  flexibleVersions: "2+",
  fields: [
    { name: "throttleTimeMs", type: "int32", versions: "0+" },
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
            { name: "lowWatermark", type: "int64", versions: "0+" },
            { name: "errorCode", type: "int16", versions: "0+" },
          ],
        },
      ],
    },
  ],
} as const satisfies MessageDef;
