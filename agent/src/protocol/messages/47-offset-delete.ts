/**
 * OffsetDelete (API key 47): request and response definitions, versions 0-0.
 * Transcribed field by field from Kafka's OffsetDeleteRequest.json / OffsetDeleteResponse.json (3.9.0)
 * by scripts/gen-protocol-messages.ts: regenerate with npm run gen:protocol, do not edit by hand.
 */
import type { MessageDef } from "../codec/schema.js";

export const OffsetDeleteRequest = {
  apiKey: 47,
  name: "OffsetDeleteRequest",
  validVersions: "0-0",
  flexibleVersions: "none",
  fields: [
    { name: "groupId", type: "string", versions: "0+" },
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
          fields: [{ name: "partitionIndex", type: "int32", versions: "0+" }],
        },
      ],
    },
  ],
} as const satisfies MessageDef;

export const OffsetDeleteResponse = {
  apiKey: 47,
  name: "OffsetDeleteResponse",
  validVersions: "0-0",
  flexibleVersions: "none",
  fields: [
    { name: "errorCode", type: "int16", versions: "0+" },
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
            { name: "errorCode", type: "int16", versions: "0+" },
          ],
        },
      ],
    },
  ],
} as const satisfies MessageDef;
