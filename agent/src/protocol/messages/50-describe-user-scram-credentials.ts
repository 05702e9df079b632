/**
 * DescribeUserScramCredentials (API key 50): request and response definitions, versions 0-0.
 * Transcribed field by field from Kafka's DescribeUserScramCredentialsRequest.json / DescribeUserScramCredentialsResponse.json (3.9.0)
 * by scripts/gen-protocol-messages.ts: regenerate with npm run gen:protocol, do not edit by hand.
 */
import type { MessageDef } from "../codec/schema.js";

export const DescribeUserScramCredentialsRequest = {
  apiKey: 50,
  name: "DescribeUserScramCredentialsRequest",
  validVersions: "0-0",
  flexibleVersions: "0+",
  fields: [
    {
      name: "users",
      type: "struct[]",
      versions: "0+",
      nullableVersions: "0+",
      fields: [{ name: "name", type: "string", versions: "0+" }],
    },
  ],
} as const satisfies MessageDef;

export const DescribeUserScramCredentialsResponse = {
  apiKey: 50,
  name: "DescribeUserScramCredentialsResponse",
  validVersions: "0-0",
  flexibleVersions: "0+",
  fields: [
    { name: "throttleTimeMs", type: "int32", versions: "0+" },
    { name: "errorCode", type: "int16", versions: "0+" },
    { name: "errorMessage", type: "string", versions: "0+", nullableVersions: "0+" },
    {
      name: "results",
      type: "struct[]",
      versions: "0+",
      fields: [
        { name: "user", type: "string", versions: "0+" },
        { name: "errorCode", type: "int16", versions: "0+" },
        { name: "errorMessage", type: "string", versions: "0+", nullableVersions: "0+" },
        {
          name: "credentialInfos",
          type: "struct[]",
          versions: "0+",
          fields: [
            { name: "mechanism", type: "int8", versions: "0+" },
            { name: "iterations", type: "int32", versions: "0+" },
          ],
        },
      ],
    },
  ],
} as const satisfies MessageDef;
