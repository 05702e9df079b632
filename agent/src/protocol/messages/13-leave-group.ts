/**
 * LeaveGroup (API key 13): request and response definitions, versions 0-5.
 * Transcribed field by field from Kafka's LeaveGroupRequest.json / LeaveGroupResponse.json (3.9.0)
 * by scripts/gen-protocol-messages.ts: regenerate with npm run gen:protocol, do not edit by hand.
 */
import type { MessageDef } from "../codec/schema.js";

export const LeaveGroupRequest = {
  apiKey: 13,
  name: "LeaveGroupRequest",
  validVersions: "0-5",
  flexibleVersions: "4+",
  fields: [
    { name: "groupId", type: "string", versions: "0+" },
    { name: "memberId", type: "string", versions: "0-2" },
    {
      name: "members",
      type: "struct[]",
      versions: "3+",
      fields: [
        { name: "memberId", type: "string", versions: "3+" },
        { name: "groupInstanceId", type: "string", versions: "3+", nullableVersions: "3+", default: null },
        { name: "reason", type: "string", versions: "5+", nullableVersions: "5+", default: null },
      ],
    },
  ],
} as const satisfies MessageDef;

export const LeaveGroupResponse = {
  apiKey: 13,
  name: "LeaveGroupResponse",
  validVersions: "0-5",
  flexibleVersions: "4+",
  fields: [
    { name: "throttleTimeMs", type: "int32", versions: "1+" },
    { name: "errorCode", type: "int16", versions: "0+" },
    {
      name: "members",
      type: "struct[]",
      versions: "3+",
      fields: [
        { name: "memberId", type: "string", versions: "3+" },
        { name: "groupInstanceId", type: "string", versions: "3+", nullableVersions: "3+" },
        { name: "errorCode", type: "int16", versions: "3+" },
      ],
    },
  ],
} as const satisfies MessageDef;
