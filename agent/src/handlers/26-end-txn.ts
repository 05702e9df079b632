/**
 * EndTxn (26), v0–4 (v5 is KIP-890 part 2, not offered): commits or aborts the producer's ongoing
 * transaction in one metadata log entry, with a marker in each of its partitions
 * (transactions/coordinator.ts). A retry of an end that happened is answered NONE; an end of the other kind,
 * or with no transaction ongoing, INVALID_TXN_STATE; a wrong producer id INVALID_PRODUCER_ID_MAPPING; an
 * older epoch PRODUCER_FENCED (INVALID_PRODUCER_EPOCH before v2). NOT_COORDINATOR on an agent that does not
 * coordinate the id. Authorization: WRITE on the transactional id (else TRANSACTIONAL_ID_AUTHORIZATION_FAILED).
 */
import { ApiKey, ErrorCode } from "../protocol/index.js";
import { coordinatesHere } from "../cluster/types.js";
import { defineHandler } from "../server/handler.js";
import { allowed } from "./authorization.js";
import { producerError, transactionFailure } from "./transaction-support.js";

defineHandler({ key: ApiKey.EndTxn, min: 0, max: 4 }, async (req, ctx) => {
  const { agent } = ctx;
  const id = req.transactionalId;
  const answer = (errorCode: number) => ({ throttleTimeMs: 0, errorCode });
  if (!allowed(ctx, "WRITE", "TRANSACTIONAL_ID", id) || agent.transactions === null)
    return answer(ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED);
  if (!coordinatesHere(agent.cluster, id)) return answer(ErrorCode.NOT_COORDINATOR);
  try {
    const errorCode = await agent.transactions.endTxn(id, Number(req.producerId), req.producerEpoch, req.committed);
    return answer(producerError(errorCode, ctx.header.apiVersion));
  } catch (err) {
    return answer(transactionFailure(agent, "EndTxn", id, err));
  }
});
