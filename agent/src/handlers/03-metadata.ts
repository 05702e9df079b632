/**
 * Metadata (3), v0–12. Brokers are the live agents a client should use: those of its zone when its
 * client id carries ws_az=/warpstream_az= and that zone has agents, else all. Every partition has a
 * leader among them (any agent accepts produce and fetch for any partition); replicas and ISR list the
 * leader only; leader epoch −1 so clients skip epoch validation (the entries are built once per topic
 * and membership: metadata-partitions.ts). Topics are auto-created when the
 * request and the agent allow it. v10+ topics asked for by id alone (name null) are answered by name
 * (UNKNOWN_TOPIC_ID for an id no topic has), as KIP-848 consumers ask for the topics of an assignment.
 *
 * Authorization, as Kafka: a listing of all topics shows only those the client may DESCRIBE; a topic
 * asked for by name that it may not DESCRIBE answers TOPIC_AUTHORIZATION_FAILED, whether it exists or
 * not (without its id); one it may describe that does not exist is auto-created only with CREATE on the
 * cluster or the topic, else TOPIC_AUTHORIZATION_FAILED. Authorized operations (v8+, when asked) are
 * computed from the ACLs (every operation with authorization off, as a broker without an authorizer).
 */
import { controllerId } from "../cluster/controller.js";
import { ApiKey, ErrorCode } from "../protocol/index.js";
import { defineHandler } from "../server/handler.js";
import { LOG_UNAVAILABLE, topicNameProblem } from "../metadata/topics.js";
import { allowed, allowedNames, authorizedOperations, clusterAllowed } from "./authorization.js";
import { metadataPartitions, type MetadataPartition } from "./metadata-partitions.js";

const NO_OPERATIONS = -2147483648;
const ZERO_UUID = "00000000000000000000000000000000";

defineHandler({ key: ApiKey.Metadata, min: 0, max: 12 }, async (req, ctx) => {
  const { agent, connection, header } = ctx;
  const version = header.apiVersion;
  const brokers = agent.cluster.agentsForZone(connection.clientZone);
  const state = () => agent.metadata.state;
  // v0 with an empty list, and null from v1, mean "all topics".
  const allTopics = req.topics === null || (version === 0 && req.topics.length === 0);
  let names: string[];
  // Topics whose auto-creation could not be written to the metadata log for now: answered
  // LEADER_NOT_AVAILABLE (retriable), as Kafka answers while a topic is being created.
  const creating = new Set<string>();
  // Topic ids asked for that name no topic.
  const unknownIds: string[] = [];
  // Named topics the client may not see, or may not create: TOPIC_AUTHORIZATION_FAILED.
  const refused = new Set<string>();
  if (allTopics) {
    const all = [...state().topics.keys()].sort();
    const describable = allowedNames(ctx, "DESCRIBE", "TOPIC", all, false);
    names = all.filter((n) => describable.has(n));
  } else {
    // v10+ may name a topic by id alone (name null): the KIP-848 consumer asks so for the topics of
    // its assignment. Known ids are answered as if named; unknown ones UNKNOWN_TOPIC_ID.
    const byId = (id: string) => [...state().topics.values()].find((t) => t.topicId === id)?.name;
    names = [];
    for (const t of req.topics!) {
      if (version >= 10 && (t.name === null || t.name === "") && t.topicId !== ZERO_UUID) {
        const name = byId(t.topicId);
        if (name === undefined) unknownIds.push(t.topicId);
        else names.push(name);
      } else names.push(t.name ?? "");
    }
    const describable = allowedNames(ctx, "DESCRIBE", "TOPIC", names);
    for (const n of names) if (!describable.has(n)) refused.add(n);
    const autoCreate = version < 4 || req.allowAutoTopicCreation;
    const missing = names.filter((n) => !refused.has(n) && !state().topics.has(n));
    if (autoCreate && agent.topics.options.autoCreate && missing.length > 0 && !clusterAllowed(ctx, "CREATE", false))
      for (const n of missing) if (!allowed(ctx, "CREATE", "TOPIC", n)) refused.add(n);
    if (autoCreate) {
      await Promise.all(
        missing
          .filter((n) => !refused.has(n))
          .map(async (n) => {
            if ((await agent.topics.ensure(n)) === LOG_UNAVAILABLE) creating.add(n);
          }),
      );
    }
  }
  const withOperations = version >= 8 && req.includeTopicAuthorizedOperations;
  const topics: Array<{
    errorCode: number;
    name: string | null;
    topicId: string;
    isInternal: boolean;
    partitions: readonly MetadataPartition[];
    topicAuthorizedOperations: number;
  }> = names.map((name) => {
    if (refused.has(name))
      return {
        errorCode: ErrorCode.TOPIC_AUTHORIZATION_FAILED,
        name,
        topicId: ZERO_UUID,
        isInternal: false,
        partitions: [],
        topicAuthorizedOperations: NO_OPERATIONS,
      };
    const topic = state().topics.get(name);
    const topicAuthorizedOperations = withOperations ? authorizedOperations(ctx, "TOPIC", name) : NO_OPERATIONS;
    if (!topic) {
      return {
        errorCode: topicNameProblem(name)
          ? ErrorCode.INVALID_TOPIC_EXCEPTION
          : creating.has(name)
            ? ErrorCode.LEADER_NOT_AVAILABLE
            : ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
        name,
        topicId: ZERO_UUID,
        isInternal: false,
        partitions: [],
        topicAuthorizedOperations,
      };
    }
    return {
      errorCode: ErrorCode.NONE,
      name,
      topicId: topic.topicId,
      isInternal: false,
      partitions: metadataPartitions(
        agent.cluster,
        name,
        topic.partitions.length,
        connection.clientZone,
        state().topics.size,
      ),
      topicAuthorizedOperations,
    };
  });
  for (const topicId of unknownIds)
    topics.push({
      errorCode: ErrorCode.UNKNOWN_TOPIC_ID,
      name: version >= 12 ? null : "",
      topicId,
      isInternal: false,
      partitions: [],
      topicAuthorizedOperations: NO_OPERATIONS,
    });
  let clusterAuthorizedOperations = NO_OPERATIONS;
  if (version >= 8 && version <= 10 && req.includeClusterAuthorizedOperations)
    clusterAuthorizedOperations = clusterAllowed(ctx, "DESCRIBE")
      ? authorizedOperations(ctx, "CLUSTER", "kafka-cluster")
      : 0;
  return {
    throttleTimeMs: 0,
    brokers: brokers.map((b) => ({ nodeId: b.nodeId, host: b.host, port: b.port, rack: b.zone })),
    clusterId: agent.cluster.clusterId,
    controllerId: controllerId(brokers, agent.cluster.self.nodeId),
    topics,
    clusterAuthorizedOperations,
  };
});
