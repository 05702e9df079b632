/**
 * Heartbeat (12), v0–4. Keeps a member's session alive; answers REBALANCE_IN_PROGRESS while the group
 * prepares a rebalance, ILLEGAL_GENERATION / UNKNOWN_MEMBER_ID / FENCED_INSTANCE_ID (v3+ static
 * members) for stale members. Authorization: READ on the group, else GROUP_AUTHORIZATION_FAILED.
 */
import { ApiKey, ErrorCode } from "../protocol/index.js";
import { coordinatesGroup } from "./group-support.js";
import { defineHandler } from "../server/handler.js";
import { allowed } from "./authorization.js";

defineHandler({ key: ApiKey.Heartbeat, min: 0, max: 4 }, async (req, ctx) => {
  const { agent, header } = ctx;
  if (!allowed(ctx, "READ", "GROUP", req.groupId))
    return { throttleTimeMs: 0, errorCode: ErrorCode.GROUP_AUTHORIZATION_FAILED };
  if (!coordinatesGroup(agent, req.groupId)) return { throttleTimeMs: 0, errorCode: ErrorCode.NOT_COORDINATOR };
  const errorCode = agent.groups.heartbeat({
    groupId: req.groupId,
    generationId: req.generationId,
    memberId: req.memberId,
    groupInstanceId: header.apiVersion >= 3 ? (req.groupInstanceId ?? null) : null,
  });
  return { throttleTimeMs: 0, errorCode };
});
