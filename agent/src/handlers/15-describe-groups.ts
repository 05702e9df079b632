/**
 * DescribeGroups (15), v0–5. State names as Kafka prints them (Empty, PreparingRebalance,
 * CompletingRebalance, Stable, Dead); members with their metadata and assignment when the group is
 * Stable (empty otherwise, as Kafka). Unknown groups are "Dead" with no error (GROUP_ID_NOT_FOUND is
 * v6+); groups known only by committed offsets are "Empty". Groups another agent coordinates get
 * NOT_COORDINATOR. Left out: authorized operations (−2147483648).
 */
import { ApiKey, ErrorCode } from "../protocol/index.js";
import { asBuffer, coordinatesGroup } from "./group-support.js";
import { defineHandler } from "../server/handler.js";

const NO_OPERATIONS = -2147483648;

defineHandler({ key: ApiKey.DescribeGroups, min: 0, max: 5 }, async (req, ctx) => {
  const { agent } = ctx;
  const groups = req.groups.map((groupId) => {
    if (!coordinatesGroup(agent, groupId)) {
      return {
        errorCode: ErrorCode.NOT_COORDINATOR,
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
      authorizedOperations: NO_OPERATIONS,
    };
  });
  return { throttleTimeMs: 0, groups };
});
