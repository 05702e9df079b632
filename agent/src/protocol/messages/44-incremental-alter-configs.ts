/**
 * IncrementalAlterConfigs (API key 44): request and response definitions, versions 0-1.
 * Transcribed field by field from Kafka's IncrementalAlterConfigsRequest.json / IncrementalAlterConfigsResponse.json (3.9.0)
 * by scripts/gen-protocol-messages.ts: regenerate with npm run gen:protocol, do not edit by hand.
 */
import type { MessageDef } from "../codec/schema.js";

export const IncrementalAlterConfigsRequest = {
  apiKey: 44,
  name: "IncrementalAlterConfigsRequest",
  validVersions: "0-1",
  flexibleVersions: "1+",
  fields: [
    {
      name: "resources",
      type: "struct[]",
      versions: "0+",
      fields: [
        { name: "resourceType", type: "int8", versions: "0+" },
        { name: "resourceName", type: "string", versions: "0+" },
        {
          name: "configs",
          type: "struct[]",
          versions: "0+",
          fields: [
            { name: "name", type: "string", versions: "0+" },
            { name: "configOperation", type: "int8", versions: "0+" },
            { name: "value", type: "string", versions: "0+", nullableVersions: "0+" },
          ],
        },
      ],
    },
    { name: "validateOnly", type: "bool", versions: "0+" },
  ],
} as const satisfies MessageDef;

export const IncrementalAlterConfigsResponse = {
  apiKey: 44,
  name: "IncrementalAlterConfigsResponse",
  validVersions: "0-1",
  flexibleVersions: "1+",
  fields: [
    { name: "throttleTimeMs", type: "int32", versions: "0+" },
    {
      name: "responses",
      type: "struct[]",
      versions: "0+",
      fields: [
        { name: "errorCode", type: "int16", versions: "0+" },
        { name: "errorMessage", type: "string", versions: "0+", nullableVersions: "0+" },
        { name: "resourceType", type: "int8", versions: "0+" },
        { name: "resourceName", type: "string", versions: "0+" },
      ],
    },
  ],
} as const satisfies MessageDef;
