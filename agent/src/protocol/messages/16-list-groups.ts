/**
 * ListGroups (API key 16): request and response definitions, versions 0-5.
 * Transcribed field by field from Kafka's ListGroupsRequest.json / ListGroupsResponse.json (3.9.0)
 * by scripts/gen-protocol-messages.ts: regenerate with npm run gen:protocol, do not edit by hand.
 */
import type { MessageDef } from "../codec/schema.js";

export const ListGroupsRequest = {
  apiKey: 16,
  name: "ListGroupsRequest",
  validVersions: "0-5",
  flexibleVersions: "3+",
  fields: [
    { name: "statesFilter", type: "string[]", versions: "4+" },
    { name: "typesFilter", type: "string[]", versions: "5+" },
  ],
} as const satisfies MessageDef;

export const ListGroupsResponse = {
  apiKey: 16,
  name: "ListGroupsResponse",
  validVersions: "0-5",
  flexibleVersions: "3+",
  fields: [
    { name: "throttleTimeMs", type: "int32", versions: "1+" },
    { name: "errorCode", type: "int16", versions: "0+" },
    {
      name: "groups",
      type: "struct[]",
      versions: "0+",
      fields: [
        { name: "groupId", type: "string", versions: "0+" },
        { name: "protocolType", type: "string", versions: "0+" },
        { name: "groupState", type: "string", versions: "4+" },
        { name: "groupType", type: "string", versions: "5+" },
      ],
    },
  ],
} as const satisfies MessageDef;
