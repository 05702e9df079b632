/**
 * OffsetFetch (API key 9): request and response definitions, versions 0-9.
 * Transcribed field by field from Kafka's OffsetFetchRequest.json / OffsetFetchResponse.json (3.9.0)
 * by scripts/gen-protocol-messages.ts: regenerate with npm run gen:protocol, do not edit by hand.
 */
import type { MessageDef } from "../codec/schema.js";

export const OffsetFetchRequest = {
  apiKey: 9,
  name: "OffsetFetchRequest",
  validVersions: "0-9",
  flexibleVersions: "6+",
  fields: [
    { name: "groupId", type: "string", versions: "0-7" },
    {
      name: "topics",
      type: "struct[]",
      versions: "0-7",
      nullableVersions: "2-7",
      fields: [
        { name: "name", type: "string", versions: "0-7" },
        { name: "partitionIndexes", type: "int32[]", versions: "0-7" },
      ],
    },
    {
      name: "groups",
      type: "struct[]",
      versions: "8+",
      fields: [
        { name: "groupId", type: "string", versions: "8+" },
        { name: "memberId", type: "string", versions: "9+", nullableVersions: "9+", default: null },
        { name: "memberEpoch", type: "int32", versions: "9+", default: -1 },
        {
          name: "topics",
          type: "struct[]",
          versions: "8+",
          nullableVersions: "8+",
          fields: [
            { name: "name", type: "string", versions: "8+" },
            { name: "partitionIndexes", type: "int32[]", versions: "8+" },
          ],
        },
      ],
    },
    { name: "requireStable", type: "bool", versions: "7+", default: false },
  ],
} as const satisfies MessageDef;

export const OffsetFetchResponse = {
  apiKey: 9,
  name: "OffsetFetchResponse",
  validVersions: "0-9",
  flexibleVersions: "6+",
  fields: [
    { name: "throttleTimeMs", type: "int32", versions: "3+" },
    {
      name: "topics",
      type: "struct[]",
      versions: "0-7",
      fields: [
        { name: "name", type: "string", versions: "0-7" },
        {
          name: "partitions",
          type: "struct[]",
          versions: "0-7",
          fields: [
            { name: "partitionIndex", type: "int32", versions: "0-7" },
            { name: "committedOffset", type: "int64", versions: "0-7" },
            { name: "committedLeaderEpoch", type: "int32", versions: "5-7", default: -1 },
            { name: "metadata", type: "string", versions: "0-7", nullableVersions: "0-7" },
            { name: "errorCode", type: "int16", versions: "0-7" },
          ],
        },
      ],
    },
    { name: "errorCode", type: "int16", versions: "2-7", default: 0 },
    {
      name: "groups",
      type: "struct[]",
      versions: "8+",
      fields: [
        { name: "groupId", type: "string", versions: "8+" },
        {
          name: "topics",
          type: "struct[]",
          versions: "8+",
          fields: [
            { name: "name", type: "string", versions: "8+" },
            {
              name: "partitions",
              type: "struct[]",
              versions: "8+",
              fields: [
                { name: "partitionIndex", type: "int32", versions: "8+" },
                { name: "committedOffset", type: "int64", versions: "8+" },
                { name: "committedLeaderEpoch", type: "int32", versions: "8+", default: -1 },
                { name: "metadata", type: "string", versions: "8+", nullableVersions: "8+" },
                { name: "errorCode", type: "int16", versions: "8+" },
              ],
            },
          ],
        },
        { name: "errorCode", type: "int16", versions: "8+", default: 0 },
      ],
    },
  ],
} as const satisfies MessageDef;
