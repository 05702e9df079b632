/**
 * DescribeProducers (API key 61): request and response definitions, versions 0-0.
 * Transcribed field by field from Kafka's DescribeProducersRequest.json / DescribeProducersResponse.json (3.9.0)
 * by scripts/gen-protocol-messages.ts: regenerate with npm run gen:protocol, do not edit by hand.
 */
import type { MessageDef } from "../codec/schema.js";

export const DescribeProducersRequest = {
  apiKey: 61,
  name: "DescribeProducersRequest",
  validVersions: "0-0",
  flexibleVersions: "0+",
  fields: [
    {
      name: "topics",
      type: "struct[]",
      versions: "0+",
      fields: [
        { name: "name", type: "string", versions: "0+" },
        { name: "partitionIndexes", type: "int32[]", versions: "0+" },
      ],
    },
  ],
} as const satisfies MessageDef;

export const DescribeProducersResponse = {
  apiKey: 61,
  name: "DescribeProducersResponse",
  validVersions: "0-0",
  flexibleVersions: "0+",
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
            { name: "errorCode", type: "int16", versions: "0+" },
            { name: "errorMessage", type: "string", versions: "0+", nullableVersions: "0+", default: null },
            {
              name: "activeProducers",
              type: "struct[]",
              versions: "0+",
              fields: [
                { name: "producerId", type: "int64", versions: "0+" },
                { name: "producerEpoch", type: "int32", versions: "0+" },
                { name: "lastSequence", type: "int32", versions: "0+", default: -1 },
                { name: "lastTimestamp", type: "int64", versions: "0+", default: -1n },
                { name: "coordinatorEpoch", type: "int32", versions: "0+" },
                { name: "currentTxnStartOffset", type: "int64", versions: "0+", default: -1n },
              ],
            },
          ],
        },
      ],
    },
  ],
} as const satisfies MessageDef;
