/**
 * DeleteAcls (31), v1–3. Needs ALTER on the cluster (CLUSTER_AUTHORIZATION_FAILED for every filter
 * otherwise); SECURITY_DISABLED with authorization off. Removes every binding a filter matches (Kafka's
 * AclBindingFilter rules, as DescribeAcls) through the metadata log (`deleteAcls`): the filters are
 * matched where the entry lands in the log, so a binding created through another agent just before is
 * removed too, and every agent stops enforcing the removed bindings once it has read the entry. Each
 * filter answers the bindings it matched (a binding two filters match is listed under both). A code
 * Kafka does not define closes the connection; filters too many for one log entry answer INVALID_REQUEST;
 * when the log cannot be written, every filter answers REQUEST_TIMED_OUT (retriable).
 */
import { errorMessage } from "../../../common/logger.js";
import { jsonCommandSize } from "../metadata/entry-codec.js";
import { FormatNotReadByAllError, ProposalOutcomeUnknownError } from "../metadata/proposal.js";
import { ApiKey, ErrorCode } from "../protocol/index.js";
import { defineHandler } from "../server/handler.js";
import { aclRequestRefusal, bindingToWire, filterFromWire } from "./acl-support.js";
import { clusterAllowed } from "./authorization.js";

defineHandler({ key: ApiKey.DeleteAcls, min: 1, max: 3 }, async (req, ctx) => {
  const { agent } = ctx;
  const filters = req.filters.map((f, i) =>
    filterFromWire(`filter ${i}`, {
      resourceType: f.resourceTypeFilter,
      resourceName: f.resourceNameFilter,
      patternType: f.patternTypeFilter,
      principal: f.principalFilter,
      host: f.hostFilter,
      operation: f.operation,
      permissionType: f.permissionType,
    }),
  );
  const refusal = aclRequestRefusal(ctx, clusterAllowed(ctx, "ALTER"));
  const failed = (errorCode: number, message: string) => ({
    throttleTimeMs: 0,
    filterResults: filters.map(() => ({ errorCode, errorMessage: message, matchingAcls: [] })),
  });
  if (refusal) return failed(refusal.errorCode, refusal.errorMessage);
  if (filters.length === 0) return { throttleTimeMs: 0, filterResults: [] };
  // The filters are matched together, at one point of the log: one command, within the log's entry limit.
  if (jsonCommandSize({ type: "deleteAcls", filters }) > agent.metadata.maxCommandBytes)
    return failed(ErrorCode.INVALID_REQUEST, `too many filters (${filters.length}) in one request`);
  let result;
  try {
    [result] = await agent.metadata.propose([{ type: "deleteAcls", filters }]);
  } catch (err) {
    if (err instanceof FormatNotReadByAllError) return failed(ErrorCode.UNSUPPORTED_VERSION, err.message);
    agent.log.warn("DeleteAcls: the metadata log could not be written", { error: errorMessage(err) });
    return failed(
      ErrorCode.REQUEST_TIMED_OUT,
      err instanceof ProposalOutcomeUnknownError
        ? `the ACLs may or may not have been deleted, check and try again: ${errorMessage(err)}`
        : `the metadata log could not be written, try again: ${errorMessage(err)}`,
    );
  }
  if (!result || result.errorCode !== ErrorCode.NONE || result.deletedAcls === undefined)
    return failed(result?.errorCode ?? ErrorCode.UNKNOWN_SERVER_ERROR, result?.message ?? "not applied");
  const deleted = result.deletedAcls;
  const count = deleted.reduce((n, list) => n + list.length, 0);
  if (count > 0)
    agent.log.info("ACLs deleted", { conn: ctx.connection.id, remote: ctx.connection.remoteAddress, bindings: count });
  return {
    throttleTimeMs: 0,
    filterResults: deleted.map((list) => ({
      errorCode: ErrorCode.NONE,
      errorMessage: null,
      matchingAcls: list.map((b) => ({ errorCode: ErrorCode.NONE, errorMessage: null, ...bindingToWire(b) })),
    })),
  };
});
