/**
 * FindCoordinator (10), v0–5 (v4+ batches keys). Groups (key type 0) and transactional ids (key type 1)
 * are coordinated by the agent the cluster view picks for the key, the same on every agent. While
 * transactions are off (-transactions=false), transactional ids are refused with
 * TRANSACTIONAL_ID_AUTHORIZATION_FAILED (transactional-id-refusal.ts); any other key type is an
 * INVALID_REQUEST, as in Kafka. Authorization: DESCRIBE on the group (else GROUP_AUTHORIZATION_FAILED) or
 * on the transactional id.
 */
import { ApiKey, ErrorCode } from "../protocol/index.js";
import { defineHandler } from "../server/handler.js";
import { refuseTransactionalId, TRANSACTIONAL_ID_REFUSED_MESSAGE } from "./transactional-id-refusal.js";
import { allowed } from "./authorization.js";

const KEY_TYPE_GROUP = 0;
const KEY_TYPE_TRANSACTION = 1;

defineHandler({ key: ApiKey.FindCoordinator, min: 0, max: 5 }, async (req, ctx) => {
  const { agent, header } = ctx;
  const lookup = (key: string) => {
    const none = { key, nodeId: -1, host: "", port: -1 };
    if (req.keyType === KEY_TYPE_GROUP && !allowed(ctx, "DESCRIBE", "GROUP", key))
      return { ...none, errorCode: ErrorCode.GROUP_AUTHORIZATION_FAILED, errorMessage: "Group authorization failed." };
    if (req.keyType === KEY_TYPE_TRANSACTION && !allowed(ctx, "DESCRIBE", "TRANSACTIONAL_ID", key))
      return {
        ...none,
        errorCode: ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED,
        errorMessage: "Transactional Id authorization failed.",
      };
    if (req.keyType === KEY_TYPE_TRANSACTION && agent.transactions === null) {
      const errorCode = refuseTransactionalId(agent.log, "FindCoordinator", key, header.clientId);
      return { ...none, errorCode, errorMessage: TRANSACTIONAL_ID_REFUSED_MESSAGE };
    }
    if (req.keyType !== KEY_TYPE_GROUP && req.keyType !== KEY_TYPE_TRANSACTION) {
      return { ...none, errorCode: ErrorCode.INVALID_REQUEST, errorMessage: `unknown key type ${req.keyType}` };
    }
    const c = agent.cluster.coordinatorFor(key);
    return { key, nodeId: c.nodeId, host: c.host, port: c.port, errorCode: ErrorCode.NONE, errorMessage: null };
  };
  if (header.apiVersion >= 4) {
    return { throttleTimeMs: 0, coordinators: req.coordinatorKeys.map(lookup) };
  }
  const one = lookup(req.key);
  return {
    throttleTimeMs: 0,
    errorCode: one.errorCode,
    errorMessage: one.errorMessage,
    nodeId: one.nodeId,
    host: one.host,
    port: one.port,
  };
});
