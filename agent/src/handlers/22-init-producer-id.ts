/**
 * InitProducerId (22), v0–5. Idempotent producers (no transactional id) get a new producer id at
 * epoch 0, allocated through the metadata log so ids are unique across agents, whatever producer id
 * and epoch the request names (v3+): as Kafka's TransactionCoordinator does for a null transactional
 * id. Bumping the epoch of a named id would let any client fence that id's producer; an epoch bump
 * for an existing id only exists for transactional ids, which are refused with
 * TRANSACTIONAL_ID_AUTHORIZATION_FAILED (transactions are not supported; see transactional-id-refusal.ts).
 * Authorization, as Kafka: an idempotent producer needs IDEMPOTENT_WRITE on the cluster or WRITE on some
 * topic (security/authorizer.ts decideByResourceType), else CLUSTER_AUTHORIZATION_FAILED; a transactional
 * id, WRITE on it (refused either way).
 */
import { ApiKey, ErrorCode } from "../protocol/index.js";
import { defineHandler } from "../server/handler.js";
import { refuseTransactionalId } from "./transactional-id-refusal.js";
import { allowed, clusterAllowed, session } from "./authorization.js";

defineHandler({ key: ApiKey.InitProducerId, min: 0, max: 5 }, async (req, ctx) => {
  if (req.transactionalId !== null) {
    // Kafka checks WRITE on the transactional id first; the answer is the same code either way.
    if (!allowed(ctx, "WRITE", "TRANSACTIONAL_ID", req.transactionalId))
      return {
        throttleTimeMs: 0,
        errorCode: ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED,
        producerId: -1n,
        producerEpoch: -1,
      };
    return {
      throttleTimeMs: 0,
      errorCode: refuseTransactionalId(ctx.agent.log, "InitProducerId", req.transactionalId, ctx.header.clientId),
      producerId: -1n,
      producerEpoch: -1,
    };
  }
  const authorizer = ctx.agent.authorizer;
  if (
    authorizer.enabled &&
    !clusterAllowed(ctx, "IDEMPOTENT_WRITE", false) &&
    !authorizer.authorizeByResourceType(session(ctx), "WRITE", "TOPIC")
  ) {
    ctx.agent.log.debug("authorization denied", {
      host: session(ctx).host,
      operation: "IDEMPOTENT_WRITE or WRITE on any topic",
      resource: "CLUSTER:kafka-cluster",
      api: "InitProducerId",
    });
    return { throttleTimeMs: 0, errorCode: ErrorCode.CLUSTER_AUTHORIZATION_FAILED, producerId: -1n, producerEpoch: -1 };
  }
  let result;
  try {
    [result] = await ctx.agent.metadata.propose([{ type: "allocateProducerId" }]);
  } catch (err) {
    // The log could not be appended to (store throttled, unreachable): a retriable error code, as a
    // broker answers while its coordinator is unavailable, instead of closing the connection.
    ctx.agent.log.warn("InitProducerId: allocating a producer id failed", {
      error: err instanceof Error ? err.message : String(err),
    });
    return { throttleTimeMs: 0, errorCode: ErrorCode.COORDINATOR_NOT_AVAILABLE, producerId: -1n, producerEpoch: -1 };
  }
  if (!result || result.producerId === undefined) {
    return { throttleTimeMs: 0, errorCode: ErrorCode.COORDINATOR_NOT_AVAILABLE, producerId: -1n, producerEpoch: -1 };
  }
  return { throttleTimeMs: 0, errorCode: ErrorCode.NONE, producerId: BigInt(result.producerId), producerEpoch: 0 };
});
