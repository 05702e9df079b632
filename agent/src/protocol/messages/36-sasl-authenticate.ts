/**
 * SaslAuthenticate (API key 36): request and response definitions, versions 0-2.
 * Transcribed field by field from Kafka's SaslAuthenticateRequest.json / SaslAuthenticateResponse.json (3.9.0)
 * by scripts/gen-protocol-messages.ts: regenerate with npm run gen:protocol, do not edit by hand.
 */
import type { MessageDef } from "../codec/schema.js";

export const SaslAuthenticateRequest = {
  apiKey: 36,
  name: "SaslAuthenticateRequest",
  validVersions: "0-2",
  flexibleVersions: "2+",
  fields: [{ name: "authBytes", type: "bytes", versions: "0+" }],
} as const satisfies MessageDef;

export const SaslAuthenticateResponse = {
  apiKey: 36,
  name: "SaslAuthenticateResponse",
  validVersions: "0-2",
  flexibleVersions: "2+",
  fields: [
    { name: "errorCode", type: "int16", versions: "0+" },
    { name: "errorMessage", type: "string", versions: "0+", nullableVersions: "0+" },
    { name: "authBytes", type: "bytes", versions: "0+" },
    { name: "sessionLifetimeMs", type: "int64", versions: "1+", default: 0n },
  ],
} as const satisfies MessageDef;
