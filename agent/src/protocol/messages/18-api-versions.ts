/**
 * ApiVersions (API key 18): request and response definitions, versions 0-4.
 * Transcribed field by field from Kafka's ApiVersionsRequest.json / ApiVersionsResponse.json (3.9.0)
 * by scripts/gen-protocol-messages.ts: regenerate with npm run gen:protocol, do not edit by hand.
 */
import type { MessageDef } from "../codec/schema.js";

export const ApiVersionsRequest = {
  apiKey: 18,
  name: "ApiVersionsRequest",
  validVersions: "0-4",
  flexibleVersions: "3+",
  fields: [
    { name: "clientSoftwareName", type: "string", versions: "3+" },
    { name: "clientSoftwareVersion", type: "string", versions: "3+" },
  ],
} as const satisfies MessageDef;

export const ApiVersionsResponse = {
  apiKey: 18,
  name: "ApiVersionsResponse",
  validVersions: "0-4",
  flexibleVersions: "3+",
  fields: [
    { name: "errorCode", type: "int16", versions: "0+" },
    {
      name: "apiKeys",
      type: "struct[]",
      versions: "0+",
      fields: [
        { name: "apiKey", type: "int16", versions: "0+" },
        { name: "minVersion", type: "int16", versions: "0+" },
        { name: "maxVersion", type: "int16", versions: "0+" },
      ],
    },
    { name: "throttleTimeMs", type: "int32", versions: "1+" },
    {
      name: "supportedFeatures",
      type: "struct[]",
      versions: "3+",
      tag: 0,
      taggedVersions: "3+",
      fields: [
        { name: "name", type: "string", versions: "3+" },
        { name: "minVersion", type: "int16", versions: "3+" },
        { name: "maxVersion", type: "int16", versions: "3+" },
      ],
    },
    { name: "finalizedFeaturesEpoch", type: "int64", versions: "3+", tag: 1, taggedVersions: "3+", default: -1n },
    {
      name: "finalizedFeatures",
      type: "struct[]",
      versions: "3+",
      tag: 2,
      taggedVersions: "3+",
      fields: [
        { name: "name", type: "string", versions: "3+" },
        { name: "maxVersionLevel", type: "int16", versions: "3+" },
        { name: "minVersionLevel", type: "int16", versions: "3+" },
      ],
    },
    { name: "zkMigrationReady", type: "bool", versions: "3+", tag: 3, taggedVersions: "3+", default: false },
  ],
} as const satisfies MessageDef;
