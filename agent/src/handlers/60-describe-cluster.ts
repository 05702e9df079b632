/**
 * DescribeCluster (60), v0–1. The live agents (zone-filtered like Metadata) and the cluster id; when asked,
 * the client's authorized operations on the cluster (0 without DESCRIBE on it; every operation with
 * authorization off), as Kafka answers.
 */
import { controllerId } from "../cluster/controller.js";
import { ApiKey, ErrorCode } from "../protocol/index.js";
import { defineHandler } from "../server/handler.js";
import { authorizedOperations, clusterAllowed } from "./authorization.js";

const BROKER_ENDPOINT = 1;

defineHandler({ key: ApiKey.DescribeCluster, min: 0, max: 1 }, async (req, ctx) => {
  const { agent, connection } = ctx;
  const brokers = agent.cluster.agentsForZone(connection.clientZone);
  return {
    throttleTimeMs: 0,
    errorCode: ErrorCode.NONE,
    errorMessage: null,
    endpointType: BROKER_ENDPOINT,
    clusterId: agent.cluster.clusterId,
    controllerId: controllerId(brokers, agent.cluster.self.nodeId),
    brokers: brokers.map((b) => ({ brokerId: b.nodeId, host: b.host, port: b.port, rack: b.zone })),
    clusterAuthorizedOperations: !req.includeClusterAuthorizedOperations
      ? -2147483648
      : clusterAllowed(ctx, "DESCRIBE")
        ? authorizedOperations(ctx, "CLUSTER", "kafka-cluster")
        : 0,
  };
});
