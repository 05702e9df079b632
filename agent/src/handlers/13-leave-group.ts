/**
 * LeaveGroup (13), v0–5. v0–2 remove one member (its error is the response's error); v3+ remove a
 * batch, each answered on its own, and a static member can be removed by instance id alone (admin
 * removal, member id ""). The `reason` (v5+) is only logged. Authorization: READ on the group, else
 * GROUP_AUTHORIZATION_FAILED.
 */
import { ApiKey, ErrorCode } from "../protocol/index.js";
import { coordinatesGroup } from "./group-support.js";
import { defineHandler } from "../server/handler.js";
import { allowed } from "./authorization.js";

defineHandler({ key: ApiKey.LeaveGroup, min: 0, max: 5 }, async (req, ctx) => {
  const { agent, header } = ctx;
  const version = header.apiVersion;
  if (!allowed(ctx, "READ", "GROUP", req.groupId))
    return { throttleTimeMs: 0, errorCode: ErrorCode.GROUP_AUTHORIZATION_FAILED, members: [] };
  if (!coordinatesGroup(agent, req.groupId))
    return { throttleTimeMs: 0, errorCode: ErrorCode.NOT_COORDINATOR, members: [] };
  if (version < 3) {
    const result = agent.groups.leaveGroup(req.groupId, [{ memberId: req.memberId, groupInstanceId: null }]);
    const errorCode =
      result.errorCode !== ErrorCode.NONE ? result.errorCode : (result.members[0]?.errorCode ?? ErrorCode.NONE);
    return { throttleTimeMs: 0, errorCode, members: [] };
  }
  const result = agent.groups.leaveGroup(
    req.groupId,
    req.members.map((m) => ({
      memberId: m.memberId,
      groupInstanceId: m.groupInstanceId ?? null,
      reason: version >= 5 ? (m.reason ?? null) : null,
    })),
  );
  return { throttleTimeMs: 0, errorCode: result.errorCode, members: result.members.map((m) => ({ ...m })) };
});
