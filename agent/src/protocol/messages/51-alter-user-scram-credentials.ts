/**
 * AlterUserScramCredentials (API key 51): request and response definitions, versions 0-0.
 * Transcribed field by field from Kafka's AlterUserScramCredentialsRequest.json / AlterUserScramCredentialsResponse.json (3.9.0)
 * by scripts/gen-protocol-messages.ts: regenerate with npm run gen:protocol, do not edit by hand.
 */
import type { MessageDef } from "../codec/schema.js";

export const AlterUserScramCredentialsRequest = {
  apiKey: 51,
  name: "AlterUserScramCredentialsRequest",
  validVersions: "0-0",
  flexibleVersions: "0+",
  fields: [
    {
      name: "deletions",
      type: "struct[]",
      versions: "0+",
      fields: [
        { name: "name", type: "string", versions: "0+" },
        { name: "mechanism", type: "int8", versions: "0+" },
      ],
    },
    {
      name: "upsertions",
      type: "struct[]",
      versions: "0+",
      fields: [
        { name: "name", type: "string", versions: "0+" },
        { name: "mechanism", type: "int8", versions: "0+" },
        { name: "iterations", type: "int32", versions: "0+" },
        { name: "salt", type: "bytes", versions: "0+" },
        { name: "saltedPassword", type: "bytes", versions: "0+" },
      ],
    },
  ],
} as const satisfies MessageDef;

export const AlterUserScramCredentialsResponse = {
  apiKey: 51,
  name: "AlterUserScramCredentialsResponse",
  validVersions: "0-0",
  flexibleVersions: "0+",
  fields: [
    { name: "throttleTimeMs", type: "int32", versions: "0+" },
    {
      name: "results",
      type: "struct[]",
      versions: "0+",
      fields: [
        { name: "user", type: "string", versions: "0+" },
        { name: "errorCode", type: "int16", versions: "0+" },
        { name: "errorMessage", type: "string", versions: "0+", nullableVersions: "0+" },
      ],
    },
  ],
} as const satisfies MessageDef;
