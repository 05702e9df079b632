/**
 * FindCoordinator (10), v0–5 (v4+ batches keys). Groups (key type 0) are coordinated by the agent the
 * cluster view picks for the group id, the same on every agent. Transaction coordinators (key type 1)
 * are not available: transactions are not supported.
 */
import { ApiKey, ErrorCode } from "../protocol/index.js";
import { defineHandler } from "../server/handler.js";

const KEY_TYPE_GROUP = 0;

defineHandler({ key: ApiKey.FindCoordinator, min: 0, max: 5 }, async (req, ctx) => {
  const { agent, header } = ctx;
  const lookup = (key: string) => {
    if (req.keyType !== KEY_TYPE_GROUP) {
      return {
        key,
        nodeId: -1,
        host: "",
        port: -1,
        errorCode: ErrorCode.COORDINATOR_NOT_AVAILABLE,
        errorMessage: "transactions are not supported",
      };
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
