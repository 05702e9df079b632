/**
 * InitProducerId (22), v0–5. Idempotent producers (no transactional id) get a new producer id at
 * epoch 0, allocated through the metadata log so ids are unique across agents, whatever producer id
 * and epoch the request names (v3+): as Kafka's TransactionCoordinator does for a null transactional
 * id. A transactional id goes to its coordinator (transactions/coordinator.ts): its producer id at a new
 * epoch, which fences the producer that held it, with KIP-360's recovery from the producer id and epoch
 * the request names (v3+); NOT_COORDINATOR on another agent. While transactions are off (-transactions=false)
 * transactional ids are refused with TRANSACTIONAL_ID_AUTHORIZATION_FAILED (transactional-id-refusal.ts).
 * Authorization, as Kafka: an idempotent producer needs IDEMPOTENT_WRITE on the cluster or WRITE on some
 * topic (security/authorizer.ts decideByResourceType), else CLUSTER_AUTHORIZATION_FAILED; a transactional
 * id, WRITE on it.
 */
import { ApiKey, ErrorCode } from "../protocol/index.js";
import { coordinatesHere } from "../cluster/types.js";
import { defineHandler } from "../server/handler.js";
import { refuseTransactionalId } from "./transactional-id-refusal.js";
import { allowed, clusterAllowed, session } from "./authorization.js";
import { producerError, transactionFailure } from "./transaction-support.js";

/** InitProducerId v4 brought PRODUCER_FENCED; older versions are answered INVALID_PRODUCER_EPOCH. */
const PRODUCER_FENCED_SINCE = 4;

defineHandler({ key: ApiKey.InitProducerId, min: 0, max: 5 }, async (req, ctx) => {
  const failed = (errorCode: number) => ({ throttleTimeMs: 0, errorCode, producerId: -1n, producerEpoch: -1 });
  if (req.transactionalId !== null) {
    const id = req.transactionalId;
    // Kafka checks WRITE on the transactional id first.
    if (!allowed(ctx, "WRITE", "TRANSACTIONAL_ID", id)) return failed(ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED);
    const coordinator = ctx.agent.transactions;
    if (coordinator === null)
      return failed(refuseTransactionalId(ctx.agent.log, "InitProducerId", id, ctx.header.clientId));
    if (id === "") return failed(ErrorCode.INVALID_REQUEST);
    if (!coordinatesHere(ctx.agent.cluster, id)) return failed(ErrorCode.NOT_COORDINATOR);
    try {
      const out = await coordinator.initProducerId(
        id,
        req.transactionTimeoutMs,
        Number(req.producerId),
        req.producerEpoch,
      );
      if (out.errorCode !== ErrorCode.NONE)
        return failed(producerError(out.errorCode, ctx.header.apiVersion, PRODUCER_FENCED_SINCE));
      return {
        throttleTimeMs: 0,
        errorCode: ErrorCode.NONE,
        producerId: BigInt(out.producerId),
        producerEpoch: out.producerEpoch,
      };
    } catch (err) {
      return failed(transactionFailure(ctx.agent, "InitProducerId", id, err));
    }
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
    return failed(ErrorCode.CLUSTER_AUTHORIZATION_FAILED);
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
    return failed(ErrorCode.COORDINATOR_NOT_AVAILABLE);
  }
  if (!result || result.producerId === undefined) return failed(ErrorCode.COORDINATOR_NOT_AVAILABLE);
  return { throttleTimeMs: 0, errorCode: ErrorCode.NONE, producerId: BigInt(result.producerId), producerEpoch: 0 };
});
