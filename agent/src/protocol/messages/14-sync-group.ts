/**
 * SyncGroup (API key 14): request and response definitions, versions 0-5.
 * Transcribed field by field from Kafka's SyncGroupRequest.json / SyncGroupResponse.json (3.9.0)
 * by scripts/gen-protocol-messages.ts: regenerate with npm run gen:protocol, do not edit by hand.
 */
import type { MessageDef } from "../codec/schema.js";

export const SyncGroupRequest = {
  apiKey: 14,
  name: "SyncGroupRequest",
  validVersions: "0-5",
  flexibleVersions: "4+",
  fields: [
    { name: "groupId", type: "string", versions: "0+" },
    { name: "generationId", type: "int32", versions: "0+" },
    { name: "memberId", type: "string", versions: "0+" },
    { name: "groupInstanceId", type: "string", versions: "3+", nullableVersions: "3+", default: null },
    { name: "protocolType", type: "string", versions: "5+", nullableVersions: "5+", default: null },
    { name: "protocolName", type: "string", versions: "5+", nullableVersions: "5+", default: null },
    {
      name: "assignments",
      type: "struct[]",
      versions: "0+",
      fields: [
        { name: "memberId", type: "string", versions: "0+" },
        { name: "assignment", type: "bytes", versions: "0+" },
      ],
    },
  ],
} as const satisfies MessageDef;

export const SyncGroupResponse = {
  apiKey: 14,
  name: "SyncGroupResponse",
  validVersions: "0-5",
  flexibleVersions: "4+",
  fields: [
    { name: "throttleTimeMs", type: "int32", versions: "1+" },
    { name: "errorCode", type: "int16", versions: "0+" },
    { name: "protocolType", type: "string", versions: "5+", nullableVersions: "5+", default: null },
    { name: "protocolName", type: "string", versions: "5+", nullableVersions: "5+", default: null },
    { name: "assignment", type: "bytes", versions: "0+" },
  ],
} as const satisfies MessageDef;
