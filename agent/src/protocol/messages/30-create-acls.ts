/**
 * CreateAcls (API key 30): request and response definitions, versions 0-3.
 * Transcribed field by field from Kafka's CreateAclsRequest.json / CreateAclsResponse.json (3.9.0)
 * by scripts/gen-protocol-messages.ts: regenerate with npm run gen:protocol, do not edit by hand.
 */
import type { MessageDef } from "../codec/schema.js";

export const CreateAclsRequest = {
  apiKey: 30,
  name: "CreateAclsRequest",
  validVersions: "0-3",
  flexibleVersions: "2+",
  fields: [
    {
      name: "creations",
      type: "struct[]",
      versions: "0+",
      fields: [
        { name: "resourceType", type: "int8", versions: "0+" },
        { name: "resourceName", type: "string", versions: "0+" },
        { name: "resourcePatternType", type: "int8", versions: "1+", default: 3 },
        { name: "principal", type: "string", versions: "0+" },
        { name: "host", type: "string", versions: "0+" },
        { name: "operation", type: "int8", versions: "0+" },
        { name: "permissionType", type: "int8", versions: "0+" },
      ],
    },
  ],
} as const satisfies MessageDef;

export const CreateAclsResponse = {
  apiKey: 30,
  name: "CreateAclsResponse",
  validVersions: "0-3",
  flexibleVersions: "2+",
  fields: [
    { name: "throttleTimeMs", type: "int32", versions: "0+" },
    {
      name: "results",
      type: "struct[]",
      versions: "0+",
      fields: [
        { name: "errorCode", type: "int16", versions: "0+" },
        { name: "errorMessage", type: "string", versions: "0+", nullableVersions: "0+" },
      ],
    },
  ],
} as const satisfies MessageDef;
