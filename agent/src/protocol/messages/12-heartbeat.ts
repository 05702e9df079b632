/**
 * Heartbeat (API key 12): request and response definitions, versions 0-4.
 * Transcribed field by field from Kafka's HeartbeatRequest.json / HeartbeatResponse.json (3.9.0)
 * by scripts/gen-protocol-messages.ts: regenerate with npm run gen:protocol, do not edit by hand.
 */
import type { MessageDef } from "../codec/schema.js";

export const HeartbeatRequest = {
  apiKey: 12,
  name: "HeartbeatRequest",
  validVersions: "0-4",
  flexibleVersions: "4+",
  fields: [
    { name: "groupId", type: "string", versions: "0+" },
    { name: "generationId", type: "int32", versions: "0+" },
    { name: "memberId", type: "string", versions: "0+" },
    { name: "groupInstanceId", type: "string", versions: "3+", nullableVersions: "3+", default: null },
  ],
} as const satisfies MessageDef;

export const HeartbeatResponse = {
  apiKey: 12,
  name: "HeartbeatResponse",
  validVersions: "0-4",
  flexibleVersions: "4+",
  fields: [
    { name: "throttleTimeMs", type: "int32", versions: "1+" },
    { name: "errorCode", type: "int16", versions: "0+" },
  ],
} as const satisfies MessageDef;
