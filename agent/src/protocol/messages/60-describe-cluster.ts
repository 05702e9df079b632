/**
 * DescribeCluster (API key 60): request and response definitions, versions 0-1.
 * Transcribed field by field from Kafka's DescribeClusterRequest.json / DescribeClusterResponse.json (3.9.0)
 * by scripts/gen-protocol-messages.ts: regenerate with npm run gen:protocol, do not edit by hand.
 */
import type { MessageDef } from "../codec/schema.js";

export const DescribeClusterRequest = {
  apiKey: 60,
  name: "DescribeClusterRequest",
  validVersions: "0-1",
  flexibleVersions: "0+",
  fields: [
    { name: "includeClusterAuthorizedOperations", type: "bool", versions: "0+" },
    { name: "endpointType", type: "int8", versions: "1+", default: 1 },
  ],
} as const satisfies MessageDef;

export const DescribeClusterResponse = {
  apiKey: 60,
  name: "DescribeClusterResponse",
  validVersions: "0-1",
  flexibleVersions: "0+",
  fields: [
    { name: "throttleTimeMs", type: "int32", versions: "0+" },
    { name: "errorCode", type: "int16", versions: "0+" },
    { name: "errorMessage", type: "string", versions: "0+", nullableVersions: "0+", default: null },
    { name: "endpointType", type: "int8", versions: "1+", default: 1 },
    { name: "clusterId", type: "string", versions: "0+" },
    { name: "controllerId", type: "int32", versions: "0+", default: -1 },
    {
      name: "brokers",
      type: "struct[]",
      versions: "0+",
      fields: [
        { name: "brokerId", type: "int32", versions: "0+" },
        { name: "host", type: "string", versions: "0+" },
        { name: "port", type: "int32", versions: "0+" },
        { name: "rack", type: "string", versions: "0+", nullableVersions: "0+", default: null },
      ],
    },
    { name: "clusterAuthorizedOperations", type: "int32", versions: "0+", default: -2147483648 },
  ],
} as const satisfies MessageDef;
