/**
 * SaslHandshake (API key 17): request and response definitions, versions 0-1.
 * Transcribed field by field from Kafka's SaslHandshakeRequest.json / SaslHandshakeResponse.json (3.9.0)
 * by scripts/gen-protocol-messages.ts: regenerate with npm run gen:protocol, do not edit by hand.
 */
import type { MessageDef } from "../codec/schema.js";

export const SaslHandshakeRequest = {
  apiKey: 17,
  name: "SaslHandshakeRequest",
  validVersions: "0-1",
  flexibleVersions: "none",
  fields: [{ name: "mechanism", type: "string", versions: "0+" }],
} as const satisfies MessageDef;

export const SaslHandshakeResponse = {
  apiKey: 17,
  name: "SaslHandshakeResponse",
  validVersions: "0-1",
  flexibleVersions: "none",
  fields: [
    { name: "errorCode", type: "int16", versions: "0+" },
    { name: "mechanisms", type: "string[]", versions: "0+" },
  ],
} as const satisfies MessageDef;
