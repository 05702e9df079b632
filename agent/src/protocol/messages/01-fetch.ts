/**
 * Fetch (API key 1): request and response definitions, versions 0-12.
 * Transcribed field by field from Kafka's FetchRequest.json / FetchResponse.json (3.9.0)
 * by scripts/gen-protocol-messages.ts: regenerate with npm run gen:protocol, do not edit by hand.
 */
import type { MessageDef } from "../codec/schema.js";

export const FetchRequest = {
  apiKey: 1,
  name: "FetchRequest",
  validVersions: "0-12",
  flexibleVersions: "12+",
  fields: [
    {
      name: "clusterId",
      type: "string",
      versions: "12+",
      nullableVersions: "12+",
      tag: 0,
      taggedVersions: "12+",
      default: null,
    },
    { name: "replicaId", type: "int32", versions: "0+", default: -1 },
    { name: "maxWaitMs", type: "int32", versions: "0+" },
    { name: "minBytes", type: "int32", versions: "0+" },
    { name: "maxBytes", type: "int32", versions: "3+", default: 2147483647 },
    { name: "isolationLevel", type: "int8", versions: "4+", default: 0 },
    { name: "sessionId", type: "int32", versions: "7+", default: 0 },
    { name: "sessionEpoch", type: "int32", versions: "7+", default: -1 },
    {
      name: "topics",
      type: "struct[]",
      versions: "0+",
      fields: [
        { name: "topic", type: "string", versions: "0+" },
        {
          name: "partitions",
          type: "struct[]",
          versions: "0+",
          fields: [
            { name: "partition", type: "int32", versions: "0+" },
            { name: "currentLeaderEpoch", type: "int32", versions: "9+", default: -1 },
            { name: "fetchOffset", type: "int64", versions: "0+" },
            { name: "lastFetchedEpoch", type: "int32", versions: "12+", default: -1 },
            { name: "logStartOffset", type: "int64", versions: "5+", default: -1n },
            { name: "partitionMaxBytes", type: "int32", versions: "0+" },
          ],
        },
      ],
    },
    {
      name: "forgottenTopicsData",
      type: "struct[]",
      versions: "7+",
      fields: [
        { name: "topic", type: "string", versions: "7+" },
        { name: "partitions", type: "int32[]", versions: "7+" },
      ],
    },
    { name: "rackId", type: "string", versions: "11+", default: "" },
  ],
} as const satisfies MessageDef;

export const FetchResponse = {
  apiKey: 1,
  name: "FetchResponse",
  validVersions: "0-12",
  flexibleVersions: "12+",
  fields: [
    { name: "throttleTimeMs", type: "int32", versions: "1+" },
    { name: "errorCode", type: "int16", versions: "7+" },
    { name: "sessionId", type: "int32", versions: "7+", default: 0 },
    {
      name: "responses",
      type: "struct[]",
      versions: "0+",
      fields: [
        { name: "topic", type: "string", versions: "0+" },
        {
          name: "partitions",
          type: "struct[]",
          versions: "0+",
          fields: [
            { name: "partitionIndex", type: "int32", versions: "0+" },
            { name: "errorCode", type: "int16", versions: "0+" },
            { name: "highWatermark", type: "int64", versions: "0+" },
            { name: "lastStableOffset", type: "int64", versions: "4+", default: -1n },
            { name: "logStartOffset", type: "int64", versions: "5+", default: -1n },
            {
              name: "divergingEpoch",
              type: "struct",
              versions: "12+",
              tag: 0,
              taggedVersions: "12+",
              fields: [
                { name: "epoch", type: "int32", versions: "12+", default: -1 },
                { name: "endOffset", type: "int64", versions: "12+", default: -1n },
              ],
            },
            {
              name: "currentLeader",
              type: "struct",
              versions: "12+",
              tag: 1,
              taggedVersions: "12+",
              fields: [
                { name: "leaderId", type: "int32", versions: "12+", default: -1 },
                { name: "leaderEpoch", type: "int32", versions: "12+", default: -1 },
              ],
            },
            {
              name: "snapshotId",
              type: "struct",
              versions: "12+",
              tag: 2,
              taggedVersions: "12+",
              fields: [
                { name: "endOffset", type: "int64", versions: "0+", default: -1n },
                { name: "epoch", type: "int32", versions: "0+", default: -1 },
              ],
            },
            {
              name: "abortedTransactions",
              type: "struct[]",
              versions: "4+",
              nullableVersions: "4+",
              fields: [
                { name: "producerId", type: "int64", versions: "4+" },
                { name: "firstOffset", type: "int64", versions: "4+" },
              ],
            },
            { name: "preferredReadReplica", type: "int32", versions: "11+", default: -1 },
            { name: "records", type: "records", versions: "0+", nullableVersions: "0+" },
          ],
        },
      ],
    },
  ],
} as const satisfies MessageDef;
