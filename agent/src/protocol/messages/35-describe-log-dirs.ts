/**
 * DescribeLogDirs (API key 35): request and response definitions, versions 0-4.
 * Transcribed field by field from Kafka's DescribeLogDirsRequest.json / DescribeLogDirsResponse.json (3.9.0)
 * by scripts/gen-protocol-messages.ts: regenerate with npm run gen:protocol, do not edit by hand.
 */
import type { MessageDef } from "../codec/schema.js";

export const DescribeLogDirsRequest = {
  apiKey: 35,
  name: "DescribeLogDirsRequest",
  validVersions: "0-4",
  flexibleVersions: "2+",
  fields: [
    {
      name: "topics",
      type: "struct[]",
      versions: "0+",
      nullableVersions: "0+",
      fields: [
        { name: "topic", type: "string", versions: "0+" },
        { name: "partitions", type: "int32[]", versions: "0+" },
      ],
    },
  ],
} as const satisfies MessageDef;

export const DescribeLogDirsResponse = {
  apiKey: 35,
  name: "DescribeLogDirsResponse",
  validVersions: "0-4",
  flexibleVersions: "2+",
  fields: [
    { name: "throttleTimeMs", type: "int32", versions: "0+" },
    { name: "errorCode", type: "int16", versions: "3+" },
    {
      name: "results",
      type: "struct[]",
      versions: "0+",
      fields: [
        { name: "errorCode", type: "int16", versions: "0+" },
        { name: "logDir", type: "string", versions: "0+" },
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
                { name: "partitionSize", type: "int64", versions: "0+" },
                { name: "offsetLag", type: "int64", versions: "0+" },
                { name: "isFutureKey", type: "bool", versions: "0+" },
              ],
            },
          ],
        },
        { name: "totalBytes", type: "int64", versions: "4+", default: -1n },
        { name: "usableBytes", type: "int64", versions: "4+", default: -1n },
      ],
    },
  ],
} as const satisfies MessageDef;
