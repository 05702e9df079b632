/**
 * FindCoordinator (API key 10): request and response definitions, versions 0-5.
 * Transcribed field by field from Kafka's FindCoordinatorRequest.json / FindCoordinatorResponse.json (3.9.0)
 * by scripts/gen-protocol-messages.ts: regenerate with npm run gen:protocol, do not edit by hand.
 */
import type { MessageDef } from "../codec/schema.js";

export const FindCoordinatorRequest = {
  apiKey: 10,
  name: "FindCoordinatorRequest",
  validVersions: "0-5",
  flexibleVersions: "3+",
  fields: [
    { name: "key", type: "string", versions: "0-3" },
    { name: "keyType", type: "int8", versions: "1+", default: 0 },
    { name: "coordinatorKeys", type: "string[]", versions: "4+" },
  ],
} as const satisfies MessageDef;

export const FindCoordinatorResponse = {
  apiKey: 10,
  name: "FindCoordinatorResponse",
  validVersions: "0-5",
  flexibleVersions: "3+",
  fields: [
    { name: "throttleTimeMs", type: "int32", versions: "1+" },
    { name: "errorCode", type: "int16", versions: "0-3" },
    { name: "errorMessage", type: "string", versions: "1-3", nullableVersions: "1-3" },
    { name: "nodeId", type: "int32", versions: "0-3" },
    { name: "host", type: "string", versions: "0-3" },
    { name: "port", type: "int32", versions: "0-3" },
    {
      name: "coordinators",
      type: "struct[]",
      versions: "4+",
      fields: [
        { name: "key", type: "string", versions: "4+" },
        { name: "nodeId", type: "int32", versions: "4+" },
        { name: "host", type: "string", versions: "4+" },
        { name: "port", type: "int32", versions: "4+" },
        { name: "errorCode", type: "int16", versions: "4+" },
        { name: "errorMessage", type: "string", versions: "4+", nullableVersions: "4+" },
      ],
    },
  ],
} as const satisfies MessageDef;
