/**
 * DeleteAcls (API key 31): request and response definitions, versions 0-3.
 * Transcribed field by field from Kafka's DeleteAclsRequest.json / DeleteAclsResponse.json (3.9.0)
 * by scripts/gen-protocol-messages.ts: regenerate with npm run gen:protocol, do not edit by hand.
 */
import type { MessageDef } from "../codec/schema.js";

export const DeleteAclsRequest = {
  apiKey: 31,
  name: "DeleteAclsRequest",
  validVersions: "0-3",
  flexibleVersions: "2+",
  fields: [
    {
      name: "filters",
      type: "struct[]",
      versions: "0+",
      fields: [
        { name: "resourceTypeFilter", type: "int8", versions: "0+" },
        { name: "resourceNameFilter", type: "string", versions: "0+", nullableVersions: "0+" },
        { name: "patternTypeFilter", type: "int8", versions: "1+", default: 3 },
        { name: "principalFilter", type: "string", versions: "0+", nullableVersions: "0+" },
        { name: "hostFilter", type: "string", versions: "0+", nullableVersions: "0+" },
        { name: "operation", type: "int8", versions: "0+" },
        { name: "permissionType", type: "int8", versions: "0+" },
      ],
    },
  ],
} as const satisfies MessageDef;

export const DeleteAclsResponse = {
  apiKey: 31,
  name: "DeleteAclsResponse",
  validVersions: "0-3",
  flexibleVersions: "2+",
  fields: [
    { name: "throttleTimeMs", type: "int32", versions: "0+" },
    {
      name: "filterResults",
      type: "struct[]",
      versions: "0+",
      fields: [
        { name: "errorCode", type: "int16", versions: "0+" },
        { name: "errorMessage", type: "string", versions: "0+", nullableVersions: "0+" },
        {
          name: "matchingAcls",
          type: "struct[]",
          versions: "0+",
          fields: [
            { name: "errorCode", type: "int16", versions: "0+" },
            { name: "errorMessage", type: "string", versions: "0+", nullableVersions: "0+" },
            { name: "resourceType", type: "int8", versions: "0+" },
            { name: "resourceName", type: "string", versions: "0+" },
            { name: "patternType", type: "int8", versions: "1+", default: 3 },
            { name: "principal", type: "string", versions: "0+" },
            { name: "host", type: "string", versions: "0+" },
            { name: "operation", type: "int8", versions: "0+" },
            { name: "permissionType", type: "int8", versions: "0+" },
          ],
        },
      ],
    },
  ],
} as const satisfies MessageDef;
