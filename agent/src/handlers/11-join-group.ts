/**
 * JoinGroup (11), v0–9. Classic group membership through the GroupCoordinator: v4+ members joining
 * without an id get MEMBER_ID_REQUIRED (KIP-394); v5+ static members (KIP-345); v7+ protocol type and
 * name in the response; v9 skipAssignment for a rejoining static leader (KIP-814). v0 has no rebalance
 * timeout: the session timeout is used, as Kafka does. The `reason` (v8+) is only logged.
 * Authorization: READ on the group, else GROUP_AUTHORIZATION_FAILED.
 */
import { ApiKey, ErrorCode } from "../protocol/index.js";
import { asBuffer, clientHost, coordinatesGroup } from "./group-support.js";
import { defineHandler } from "../server/handler.js";
import { allowed } from "./authorization.js";

defineHandler({ key: ApiKey.JoinGroup, min: 0, max: 9 }, async (req, ctx) => {
  const { agent, header, connection } = ctx;
  const version = header.apiVersion;
  if (!allowed(ctx, "READ", "GROUP", req.groupId))
    return {
      throttleTimeMs: 0,
      errorCode: ErrorCode.GROUP_AUTHORIZATION_FAILED,
      generationId: -1,
      protocolType: null,
      protocolName: version >= 7 ? null : "",
      leader: "",
      skipAssignment: false,
      memberId: "",
      members: [],
    };
  const result = coordinatesGroup(agent, req.groupId)
    ? await agent.groups.joinGroup({
        groupId: req.groupId,
        memberId: req.memberId,
        groupInstanceId: version >= 5 ? (req.groupInstanceId ?? null) : null,
        clientId: header.clientId ?? "",
        clientHost: clientHost(connection.remoteAddress),
        sessionTimeoutMs: req.sessionTimeoutMs,
        rebalanceTimeoutMs: version >= 1 ? req.rebalanceTimeoutMs : req.sessionTimeoutMs,
        protocolType: req.protocolType,
        protocols: req.protocols.map((p) => ({ name: p.name, metadata: p.metadata })),
        requireKnownMemberId: version >= 4,
        supportSkippingAssignment: version >= 9,
        reason: version >= 8 ? (req.reason ?? null) : null,
      })
    : null;
  if (result === null) {
    return {
      throttleTimeMs: 0,
      errorCode: ErrorCode.NOT_COORDINATOR,
      generationId: -1,
      protocolType: null,
      protocolName: version >= 7 ? null : "",
      leader: "",
      skipAssignment: false,
      memberId: req.memberId,
      members: [],
    };
  }
  return {
    throttleTimeMs: 0,
    errorCode: result.errorCode,
    generationId: result.generationId,
    protocolType: result.protocolType,
    // Before v7 the protocol name is not nullable.
    protocolName: version >= 7 ? result.protocolName : (result.protocolName ?? ""),
    leader: result.leader,
    skipAssignment: result.skipAssignment,
    memberId: result.memberId,
    members: result.members.map((m) => ({
      memberId: m.memberId,
      groupInstanceId: m.groupInstanceId,
      metadata: asBuffer(m.metadata),
    })),
  };
});
