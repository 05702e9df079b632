/**
 * DescribeGroups (API key 15): request and response definitions, versions 0-5.
 * Transcribed field by field from Kafka's DescribeGroupsRequest.json / DescribeGroupsResponse.json (3.9.0)
 * by scripts/gen-protocol-messages.ts: regenerate with npm run gen:protocol, do not edit by hand.
 */
import type { MessageDef } from "../codec/schema.js";

export const DescribeGroupsRequest = {
  apiKey: 15,
  name: "DescribeGroupsRequest",
  validVersions: "0-5",
  flexibleVersions: "5+",
  fields: [
    { name: "groups", type: "string[]", versions: "0+" },
    { name: "includeAuthorizedOperations", type: "bool", versions: "3+" },
  ],
} as const satisfies MessageDef;

export const DescribeGroupsResponse = {
  apiKey: 15,
  name: "DescribeGroupsResponse",
  validVersions: "0-5",
  flexibleVersions: "5+",
  fields: [
    { name: "throttleTimeMs", type: "int32", versions: "1+" },
    {
      name: "groups",
      type: "struct[]",
      versions: "0+",
      fields: [
        { name: "errorCode", type: "int16", versions: "0+" },
        { name: "groupId", type: "string", versions: "0+" },
        { name: "groupState", type: "string", versions: "0+" },
        { name: "protocolType", type: "string", versions: "0+" },
        { name: "protocolData", type: "string", versions: "0+" },
        {
          name: "members",
          type: "struct[]",
          versions: "0+",
          fields: [
            { name: "memberId", type: "string", versions: "0+" },
            { name: "groupInstanceId", type: "string", versions: "4+", nullableVersions: "4+", default: null },
            { name: "clientId", type: "string", versions: "0+" },
            { name: "clientHost", type: "string", versions: "0+" },
            { name: "memberMetadata", type: "bytes", versions: "0+" },
            { name: "memberAssignment", type: "bytes", versions: "0+" },
          ],
        },
        { name: "authorizedOperations", type: "int32", versions: "3+", default: -2147483648 },
      ],
    },
  ],
} as const satisfies MessageDef;
