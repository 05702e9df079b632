/**
 * DeleteGroups (42), v0–2. Deletes Empty groups (and groups known only by committed offsets) with
 * their offsets; NON_EMPTY_GROUP while a group has members, GROUP_ID_NOT_FOUND for unknown groups,
 * NOT_COORDINATOR for groups another agent coordinates, or has claimed since this one did (the deletion is
 * fenced by the group's coordinator epoch in the metadata log, groups/admin.ts). Authorization: DELETE on
 * each group, else GROUP_AUTHORIZATION_FAILED.
 */
import { ApiKey, ErrorCode } from "../protocol/index.js";
import { coordinatesGroup } from "./group-support.js";
import { defineHandler } from "../server/handler.js";
import { allowedNames } from "./authorization.js";

defineHandler({ key: ApiKey.DeleteGroups, min: 0, max: 2 }, async (req, ctx) => {
  const { agent } = ctx;
  const deletable = allowedNames(ctx, "DELETE", "GROUP", req.groupsNames);
  const mine = req.groupsNames.filter((g) => deletable.has(g) && coordinatesGroup(agent, g));
  const deleted = new Map((await agent.groups.deleteGroups(mine)).map((r) => [r.groupId, r.errorCode]));
  return {
    throttleTimeMs: 0,
    results: req.groupsNames.map((groupId) => ({
      groupId,
      errorCode: !deletable.has(groupId)
        ? ErrorCode.GROUP_AUTHORIZATION_FAILED
        : (deleted.get(groupId) ?? ErrorCode.NOT_COORDINATOR),
    })),
  };
});
