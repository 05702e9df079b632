/**
 * CreatePartitions (API key 37): request and response definitions, versions 0-3.
 * Transcribed field by field from Kafka's CreatePartitionsRequest.json / CreatePartitionsResponse.json (3.9.0)
 * by scripts/gen-protocol-messages.ts: regenerate with npm run gen:protocol, do not edit by hand.
 */
import type { MessageDef } from "../codec/schema.js";

export const CreatePartitionsRequest = {
  apiKey: 37,
  name: "CreatePartitionsRequest",
  validVersions: "0-3",
  flexibleVersions: "2+",
  fields: [
    {
      name: "topics",
      type: "struct[]",
      versions: "0+",
      fields: [
        { name: "name", type: "string", versions: "0+" },
        { name: "count", type: "int32", versions: "0+" },
        {
          name: "assignments",
          type: "struct[]",
          versions: "0+",
          nullableVersions: "0+",
          fields: [{ name: "brokerIds", type: "int32[]", versions: "0+" }],
        },
      ],
    },
    { name: "timeoutMs", type: "int32", versions: "0+" },
    { name: "validateOnly", type: "bool", versions: "0+" },
  ],
} as const satisfies MessageDef;

export const CreatePartitionsResponse = {
  apiKey: 37,
  name: "CreatePartitionsResponse",
  validVersions: "0-3",
  flexibleVersions: "2+",
  fields: [
    { name: "throttleTimeMs", type: "int32", versions: "0+" },
    {
      name: "results",
      type: "struct[]",
      versions: "0+",
      fields: [
        { name: "name", type: "string", versions: "0+" },
        { name: "errorCode", type: "int16", versions: "0+" },
        { name: "errorMessage", type: "string", versions: "0+", nullableVersions: "0+", default: null },
      ],
    },
  ],
} as const satisfies MessageDef;
