/**
 * ListGroups (16), v0–5. Lists the groups this agent coordinates (clients ask every agent and merge),
 * including groups known only by committed offsets (state Empty). v4+ filters by state
 * (case-insensitive), v5+ by type: "classic" groups (JoinGroup) and "consumer" groups (KIP-848
 * ConsumerGroupHeartbeat; protocol type "consumer", states Empty/Assigning/Reconciling/Stable). Authorization: a client allowed
 * DESCRIBE on the cluster sees every group, any other only those it may DESCRIBE, as in Kafka.
 */
import { ApiKey, ErrorCode } from "../protocol/index.js";
import { coordinatesGroup } from "./group-support.js";
import { defineHandler } from "../server/handler.js";
import { allowed, clusterAllowed } from "./authorization.js";

defineHandler({ key: ApiKey.ListGroups, min: 0, max: 5 }, async (req, ctx) => {
  const { agent, header } = ctx;
  const version = header.apiVersion;
  const seesAll = clusterAllowed(ctx, "DESCRIBE", false);
  const listed = agent.groups.listGroups({
    states: version >= 4 ? (req.statesFilter ?? []) : [],
    types: version >= 5 ? (req.typesFilter ?? []) : [],
  });
  return {
    throttleTimeMs: 0,
    errorCode: ErrorCode.NONE,
    groups: listed
      .filter((g) => coordinatesGroup(agent, g.groupId))
      .filter((g) => seesAll || allowed(ctx, "DESCRIBE", "GROUP", g.groupId, false))
      .map((g) => ({ groupId: g.groupId, protocolType: g.protocolType, groupState: g.state, groupType: g.groupType })),
  };
});
