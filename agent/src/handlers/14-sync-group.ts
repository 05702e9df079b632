/**
 * SyncGroup (14), v0–5. The leader sends the assignment of the generation; followers wait for it (the
 * response is held until the leader's SyncGroup arrives or a rebalance starts). v3+ static members,
 * v5+ protocol type/name checked against the group's and returned. Authorization: READ on the group,
 * else GROUP_AUTHORIZATION_FAILED.
 */
import { ApiKey, ErrorCode } from "../protocol/index.js";
import { asBuffer, coordinatesGroup } from "./group-support.js";
import { defineHandler } from "../server/handler.js";
import { allowed } from "./authorization.js";

defineHandler({ key: ApiKey.SyncGroup, min: 0, max: 5 }, async (req, ctx) => {
  const { agent, header } = ctx;
  const version = header.apiVersion;
  const refusal = !allowed(ctx, "READ", "GROUP", req.groupId)
    ? ErrorCode.GROUP_AUTHORIZATION_FAILED
    : !coordinatesGroup(agent, req.groupId)
      ? ErrorCode.NOT_COORDINATOR
      : null;
  if (refusal !== null) {
    return {
      throttleTimeMs: 0,
      errorCode: refusal,
      protocolType: null,
      protocolName: null,
      assignment: Buffer.alloc(0),
    };
  }
  const result = await agent.groups.syncGroup({
    groupId: req.groupId,
    generationId: req.generationId,
    memberId: req.memberId,
    groupInstanceId: version >= 3 ? (req.groupInstanceId ?? null) : null,
    protocolType: version >= 5 ? (req.protocolType ?? null) : null,
    protocolName: version >= 5 ? (req.protocolName ?? null) : null,
    assignments: req.assignments.map((a) => ({ memberId: a.memberId, assignment: a.assignment })),
  });
  return {
    throttleTimeMs: 0,
    errorCode: result.errorCode,
    protocolType: result.protocolType,
    protocolName: result.protocolName,
    assignment: asBuffer(result.assignment),
  };
});
