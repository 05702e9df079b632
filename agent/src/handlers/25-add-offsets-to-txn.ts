/**
 * AddOffsetsToTxn (25), v0–4: the group joins the producer's ongoing transaction, so that the offsets the
 * producer then commits to it (TxnOffsetCommit) are applied when the transaction commits and dropped when it
 * aborts. Errors as AddPartitionsToTxn (PRODUCER_FENCED from v2); NOT_COORDINATOR on an agent that does not
 * coordinate the transactional id. Authorization: WRITE on the transactional id (else
 * TRANSACTIONAL_ID_AUTHORIZATION_FAILED), READ on the group (else GROUP_AUTHORIZATION_FAILED).
 */
import { ApiKey, ErrorCode } from "../protocol/index.js";
import { coordinatesHere } from "../cluster/types.js";
import { defineHandler } from "../server/handler.js";
import { allowed } from "./authorization.js";
import { producerError, transactionFailure } from "./transaction-support.js";

defineHandler({ key: ApiKey.AddOffsetsToTxn, min: 0, max: 4 }, async (req, ctx) => {
  const { agent } = ctx;
  const id = req.transactionalId;
  const answer = (errorCode: number) => ({ throttleTimeMs: 0, errorCode });
  if (!allowed(ctx, "WRITE", "TRANSACTIONAL_ID", id) || agent.transactions === null)
    return answer(ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED);
  if (!allowed(ctx, "READ", "GROUP", req.groupId)) return answer(ErrorCode.GROUP_AUTHORIZATION_FAILED);
  if (!coordinatesHere(agent.cluster, id)) return answer(ErrorCode.NOT_COORDINATOR);
  try {
    const out = await agent.transactions.add(id, Number(req.producerId), req.producerEpoch, [], [req.groupId]);
    return answer(producerError(out.errorCode, ctx.header.apiVersion));
  } catch (err) {
    return answer(transactionFailure(agent, "AddOffsetsToTxn", id, err));
  }
});
