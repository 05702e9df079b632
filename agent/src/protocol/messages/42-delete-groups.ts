/**
 * DeleteGroups (API key 42): request and response definitions, versions 0-2.
 * Transcribed field by field from Kafka's DeleteGroupsRequest.json / DeleteGroupsResponse.json (3.9.0)
 * by scripts/gen-protocol-messages.ts: regenerate with npm run gen:protocol, do not edit by hand.
 */
import type { MessageDef } from "../codec/schema.js";

export const DeleteGroupsRequest = {
  apiKey: 42,
  name: "DeleteGroupsRequest",
  validVersions: "0-2",
  flexibleVersions: "2+",
  fields: [{ name: "groupsNames", type: "string[]", versions: "0+" }],
} as const satisfies MessageDef;

export const DeleteGroupsResponse = {
  apiKey: 42,
  name: "DeleteGroupsResponse",
  validVersions: "0-2",
  flexibleVersions: "2+",
  fields: [
    { name: "throttleTimeMs", type: "int32", versions: "0+" },
    {
      name: "results",
      type: "struct[]",
      versions: "0+",
      fields: [
        { name: "groupId", type: "string", versions: "0+" },
        { name: "errorCode", type: "int16", versions: "0+" },
      ],
    },
  ],
} as const satisfies MessageDef;
