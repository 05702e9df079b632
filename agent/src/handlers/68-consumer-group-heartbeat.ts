/**
 * ConsumerGroupHeartbeat (68), v0–1: the KIP-848 consumer group protocol (Java 4.x and librdkafka 2.x
 * clients with group.protocol=consumer). Joining, heartbeating, leaving (epoch −1; −2 for a static member
 * coming back), server-side assignors uniform (default) and range, revocation before reassignment,
 * static members, session and rebalance timeouts: see agent/src/groups/consumer-groups.ts. v1 adds
 * SubscribedTopicRegex (server-side regular expressions) and has the client make its member id; v0
 * members joining with "" get one made here. Groups another agent coordinates get NOT_COORDINATOR; a
 * group id a classic group uses gets GROUP_ID_NOT_FOUND. Authorization: READ on the group (else
 * GROUP_AUTHORIZATION_FAILED) and, as Kafka, DESCRIBE on every topic subscribed to by name (else
 * TOPIC_AUTHORIZATION_FAILED, nothing changed). Left out: rack-aware assignment (the rack id is only
 * recorded), and filtering the topics a regular expression matches by what the member may describe.
 */
import { ApiKey, ErrorCode } from "../protocol/index.js";
import { assignmentOf, type Assignment } from "../groups/partitions.js";
import { defineHandler } from "../server/handler.js";
import { allowed, allowedNames } from "./authorization.js";
import { clientHost, coordinatesGroup } from "./group-support.js";

function error(errorCode: number, errorMessage: string | null = null) {
  return {
    throttleTimeMs: 0,
    errorCode,
    errorMessage,
    memberId: null,
    memberEpoch: 0,
    heartbeatIntervalMs: 0,
    assignment: null,
  };
}

function topicPartitionsOut(a: Assignment) {
  return [...a]
    .sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0))
    .map(([topicId, set]) => ({ topicId, partitions: [...set].sort((p, q) => p - q) }));
}

defineHandler({ key: ApiKey.ConsumerGroupHeartbeat, min: 0, max: 1 }, async (req, ctx) => {
  const { agent, header, connection } = ctx;
  if (!allowed(ctx, "READ", "GROUP", req.groupId)) return error(ErrorCode.GROUP_AUTHORIZATION_FAILED);
  if (req.subscribedTopicNames !== null && req.subscribedTopicNames.length > 0) {
    const permitted = allowedNames(ctx, "DESCRIBE", "TOPIC", req.subscribedTopicNames);
    const refused = [...new Set(req.subscribedTopicNames)].filter((t) => !permitted.has(t)).sort();
    if (refused.length > 0)
      return error(ErrorCode.TOPIC_AUTHORIZATION_FAILED, `Topic authorization failed for ${refused.join(", ")}.`);
  }
  if (!coordinatesGroup(agent, req.groupId)) return error(ErrorCode.NOT_COORDINATOR);
  const result = await agent.groups.consumerGroupHeartbeat({
    groupId: req.groupId,
    memberId: req.memberId,
    memberEpoch: req.memberEpoch,
    instanceId: req.instanceId,
    rackId: req.rackId,
    rebalanceTimeoutMs: req.rebalanceTimeoutMs,
    subscribedTopicNames: req.subscribedTopicNames,
    subscribedTopicRegex: header.apiVersion >= 1 ? (req.subscribedTopicRegex ?? null) : null,
    serverAssignor: req.serverAssignor,
    ownedPartitions:
      req.topicPartitions === null ? null : assignmentOf(req.topicPartitions.map((t) => [t.topicId, t.partitions])),
    clientId: header.clientId ?? "",
    clientHost: clientHost(connection.remoteAddress),
    version: header.apiVersion,
  });
  return {
    throttleTimeMs: 0,
    errorCode: result.errorCode,
    errorMessage: result.errorMessage,
    memberId: result.memberId,
    memberEpoch: result.memberEpoch,
    heartbeatIntervalMs: result.heartbeatIntervalMs,
    assignment: result.assignment === null ? null : { topicPartitions: topicPartitionsOut(result.assignment) },
  };
});
