/**
 * DescribeGroups (15), v0–5. State names as Kafka prints them (Empty, PreparingRebalance,
 * CompletingRebalance, Stable, Dead); members with their metadata and assignment when the group is
 * Stable (empty otherwise, as Kafka). Unknown groups are "Dead" with no error (GROUP_ID_NOT_FOUND is
 * v6+); groups known only by committed offsets are "Empty"; a KIP-848 consumer group is "Dead" with no
 * members here, as Kafka answers v0–5 (ConsumerGroupDescribe describes it). Groups another agent coordinates get
 * NOT_COORDINATOR. Authorization: DESCRIBE on each group, else GROUP_AUTHORIZATION_FAILED; v3+ answers
 * the group's authorized operations when asked.
 */
import { ApiKey, ErrorCode } from "../protocol/index.js";
import { asBuffer, coordinatesGroup } from "./group-support.js";
import { defineHandler } from "../server/handler.js";
import { allowed, authorizedOperations } from "./authorization.js";

const NO_OPERATIONS = -2147483648;

defineHandler({ key: ApiKey.DescribeGroups, min: 0, max: 5 }, async (req, ctx) => {
  const { agent, header } = ctx;
  const withOperations = header.apiVersion >= 3 && req.includeAuthorizedOperations;
  const groups = req.groups.map((groupId) => {
    const refusal = !allowed(ctx, "DESCRIBE", "GROUP", groupId)
      ? ErrorCode.GROUP_AUTHORIZATION_FAILED
      : !coordinatesGroup(agent, groupId)
        ? ErrorCode.NOT_COORDINATOR
        : null;
    if (refusal !== null) {
      return {
        errorCode: refusal,
        groupId,
        groupState: "",
        protocolType: "",
        protocolData: "",
        members: [],
        authorizedOperations: NO_OPERATIONS,
      };
    }
    const g = agent.groups.describeGroups([groupId])[0]!;
    return {
      errorCode: g.errorCode,
      groupId,
      groupState: g.state,
      protocolType: g.protocolType,
      protocolData: g.protocolData,
      members: g.members.map((m) => ({
        memberId: m.memberId,
        groupInstanceId: m.groupInstanceId,
        clientId: m.clientId,
        clientHost: m.clientHost,
        memberMetadata: asBuffer(m.metadata),
        memberAssignment: asBuffer(m.assignment),
      })),
      authorizedOperations:
        withOperations && g.errorCode === ErrorCode.NONE ? authorizedOperations(ctx, "GROUP", groupId) : NO_OPERATIONS,
    };
  });
  return { throttleTimeMs: 0, groups };
});
