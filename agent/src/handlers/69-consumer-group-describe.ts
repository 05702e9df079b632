/**
 * ConsumerGroupDescribe (69), v0–1: KIP-848 consumer groups with their epochs, assignor and members
 * (epoch, subscription, current and target assignment; v1 adds the member type: 0 for a classic member
 * still using JoinGroup/SyncGroup after an online upgrade, 1 for a consumer-protocol member).
 * What `kafka-consumer-groups --describe` uses first: a group id that is not a consumer group (a classic
 * group, or none) answers GROUP_ID_NOT_FOUND, and the admin client then asks DescribeGroups. Groups
 * another agent coordinates get NOT_COORDINATOR. Authorization: DESCRIBE on each group (else
 * GROUP_AUTHORIZATION_FAILED); the authorized operations when asked.
 */
import { ApiKey, ErrorCode } from "../protocol/index.js";
import type { DescribedTopicPartitions } from "../groups/coordinator.js";
import { defineHandler } from "../server/handler.js";
import { allowed, authorizedOperations } from "./authorization.js";
import { coordinatesGroup } from "./group-support.js";

const NO_OPERATIONS = -2147483648;
/** ConsumerGroupDescribe v1 MemberType: 0 = a member using the classic protocol, 1 = the consumer protocol. */
const CLASSIC_MEMBER = 0;
const CONSUMER_MEMBER = 1;

function assignmentOut(parts: readonly DescribedTopicPartitions[]) {
  return {
    topicPartitions: parts.map((p) => ({ topicId: p.topicId, topicName: p.topicName, partitions: [...p.partitions] })),
  };
}

defineHandler({ key: ApiKey.ConsumerGroupDescribe, min: 0, max: 1 }, async (req, ctx) => {
  const { agent } = ctx;
  const groups = await Promise.all(
    req.groupIds.map(async (groupId) => {
      const refusal = !allowed(ctx, "DESCRIBE", "GROUP", groupId)
        ? ErrorCode.GROUP_AUTHORIZATION_FAILED
        : !coordinatesGroup(agent, groupId)
          ? ErrorCode.NOT_COORDINATOR
          : null;
      if (refusal !== null)
        return {
          errorCode: refusal,
          errorMessage: null,
          groupId,
          groupState: "",
          groupEpoch: 0,
          assignmentEpoch: 0,
          assignorName: "",
          members: [],
          authorizedOperations: NO_OPERATIONS,
        };
      const g = (await agent.groups.describeConsumerGroups([groupId]))[0]!;
      return {
        errorCode: g.errorCode,
        errorMessage: g.errorMessage,
        groupId,
        groupState: g.state,
        groupEpoch: g.groupEpoch,
        assignmentEpoch: g.assignmentEpoch,
        assignorName: g.assignorName,
        members: g.members.map((m) => ({
          memberId: m.memberId,
          instanceId: m.instanceId,
          rackId: m.rackId,
          memberEpoch: m.memberEpoch,
          clientId: m.clientId,
          clientHost: m.clientHost,
          subscribedTopicNames: [...m.subscribedTopicNames],
          subscribedTopicRegex: m.subscribedTopicRegex,
          assignment: assignmentOut(m.assignment),
          targetAssignment: assignmentOut(m.targetAssignment),
          memberType: m.usesClassicProtocol ? CLASSIC_MEMBER : CONSUMER_MEMBER,
        })),
        authorizedOperations:
          req.includeAuthorizedOperations && g.errorCode === ErrorCode.NONE
            ? authorizedOperations(ctx, "GROUP", groupId)
            : NO_OPERATIONS,
      };
    }),
  );
  return { throttleTimeMs: 0, groups };
});
