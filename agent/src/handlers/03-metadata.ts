/**
 * Metadata (3), v0–12. Brokers are the live agents a client should use: those of its zone when its
 * client id carries ws_az=/warpstream_az= and that zone has agents, else all. Every partition has a
 * leader among them (any agent accepts produce and fetch for any partition); replicas and ISR list the
 * leader only; leader epoch −1 so clients skip epoch validation. Topics are auto-created when the
 * request and the agent allow it. Authorized operations are not computed (−2147483648).
 */
import { controllerId } from "../cluster/controller.js";
import { ApiKey, ErrorCode } from "../protocol/index.js";
import { defineHandler } from "../server/handler.js";
import { LOG_UNAVAILABLE, topicNameProblem } from "../metadata/topics.js";

const NO_OPERATIONS = -2147483648;

defineHandler({ key: ApiKey.Metadata, min: 0, max: 12 }, async (req, ctx) => {
  const { agent, connection, header } = ctx;
  const brokers = agent.cluster.agentsForZone(connection.clientZone);
  const state = () => agent.metadata.state;
  // v0 with an empty list, and null from v1, mean "all topics".
  const allTopics = req.topics === null || (header.apiVersion === 0 && req.topics.length === 0);
  let names: string[];
  // Topics whose auto-creation could not be written to the metadata log for now: answered
  // LEADER_NOT_AVAILABLE (retriable), as Kafka answers while a topic is being created.
  const creating = new Set<string>();
  if (allTopics) {
    names = [...state().topics.keys()].sort();
  } else {
    names = req.topics!.map((t) => t.name ?? "");
    const autoCreate = header.apiVersion < 4 || req.allowAutoTopicCreation;
    if (autoCreate) {
      await Promise.all(
        names
          .filter((n) => !state().topics.has(n))
          .map(async (n) => {
            if ((await agent.topics.ensure(n)) === LOG_UNAVAILABLE) creating.add(n);
          }),
      );
    }
  }
  const topics = names.map((name) => {
    const topic = state().topics.get(name);
    if (!topic) {
      return {
        errorCode: topicNameProblem(name)
          ? ErrorCode.INVALID_TOPIC_EXCEPTION
          : creating.has(name)
            ? ErrorCode.LEADER_NOT_AVAILABLE
            : ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
        name,
        topicId: "00000000000000000000000000000000",
        isInternal: false,
        partitions: [],
        topicAuthorizedOperations: NO_OPERATIONS,
      };
    }
    return {
      errorCode: ErrorCode.NONE,
      name,
      topicId: topic.topicId,
      isInternal: false,
      partitions: topic.partitions.map((_, index) => {
        const leader = agent.cluster.leaderFor(name, index, connection.clientZone).nodeId;
        return {
          errorCode: ErrorCode.NONE,
          partitionIndex: index,
          leaderId: leader,
          leaderEpoch: -1,
          replicaNodes: [leader],
          isrNodes: [leader],
          offlineReplicas: [],
        };
      }),
      topicAuthorizedOperations: NO_OPERATIONS,
    };
  });
  return {
    throttleTimeMs: 0,
    brokers: brokers.map((b) => ({ nodeId: b.nodeId, host: b.host, port: b.port, rack: b.zone })),
    clusterId: agent.cluster.clusterId,
    controllerId: controllerId(brokers, agent.cluster.self.nodeId),
    topics,
    clusterAuthorizedOperations: NO_OPERATIONS,
  };
});
