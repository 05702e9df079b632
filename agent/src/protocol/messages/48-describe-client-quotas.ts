/**
 * DescribeClientQuotas (API key 48): request and response definitions, versions 0-1.
 * Transcribed field by field from Kafka's DescribeClientQuotasRequest.json / DescribeClientQuotasResponse.json (3.9.0)
 * by scripts/gen-protocol-messages.ts: regenerate with npm run gen:protocol, do not edit by hand.
 */
import type { MessageDef } from "../codec/schema.js";

export const DescribeClientQuotasRequest = {
  apiKey: 48,
  name: "DescribeClientQuotasRequest",
  validVersions: "0-1",
  flexibleVersions: "1+",
  fields: [
    {
      name: "components",
      type: "struct[]",
      versions: "0+",
      fields: [
        { name: "entityType", type: "string", versions: "0+" },
        { name: "matchType", type: "int8", versions: "0+" },
        { name: "match", type: "string", versions: "0+", nullableVersions: "0+" },
      ],
    },
    { name: "strict", type: "bool", versions: "0+" },
  ],
} as const satisfies MessageDef;

export const DescribeClientQuotasResponse = {
  apiKey: 48,
  name: "DescribeClientQuotasResponse",
  validVersions: "0-1",
  flexibleVersions: "1+",
  fields: [
    { name: "throttleTimeMs", type: "int32", versions: "0+" },
    { name: "errorCode", type: "int16", versions: "0+" },
    { name: "errorMessage", type: "string", versions: "0+", nullableVersions: "0+" },
    {
      name: "entries",
      type: "struct[]",
      versions: "0+",
      nullableVersions: "0+",
      fields: [
        {
          name: "entity",
          type: "struct[]",
          versions: "0+",
          fields: [
            { name: "entityType", type: "string", versions: "0+" },
            { name: "entityName", type: "string", versions: "0+", nullableVersions: "0+" },
          ],
        },
        {
          name: "values",
          type: "struct[]",
          versions: "0+",
          fields: [
            { name: "key", type: "string", versions: "0+" },
            { name: "value", type: "float64", versions: "0+" },
          ],
        },
      ],
    },
  ],
} as const satisfies MessageDef;
