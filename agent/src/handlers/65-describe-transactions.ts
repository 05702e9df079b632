/**
 * DescribeTransactions (65), v0 (kafka-transactions --describe): each transactional id's state as its
 * coordinator folded it (metadata/transactions.ts): producer id and epoch, Kafka's state name, timeout,
 * start time (−1 while none is ongoing) and the partitions of the ongoing transaction.
 * TRANSACTIONAL_ID_NOT_FOUND for an unknown id, NOT_COORDINATOR on an agent that does not coordinate it.
 * Authorization: DESCRIBE on each transactional id (else TRANSACTIONAL_ID_AUTHORIZATION_FAILED).
 */
import { ApiKey, ErrorCode } from "../protocol/index.js";
import { coordinatesHere } from "../cluster/types.js";
import { defineHandler } from "../server/handler.js";
import { allowedNames } from "./authorization.js";

defineHandler({ key: ApiKey.DescribeTransactions, min: 0, max: 0 }, async (req, ctx) => {
  const { agent } = ctx;
  const describable = allowedNames(ctx, "DESCRIBE", "TRANSACTIONAL_ID", req.transactionalIds);
  const table = agent.metadata.state.transactions;
  const none = {
    transactionState: "",
    transactionTimeoutMs: 0,
    transactionStartTimeMs: -1n,
    producerId: -1n,
    producerEpoch: -1,
    topics: [],
  };
  return {
    throttleTimeMs: 0,
    transactionStates: req.transactionalIds.map((transactionalId) => {
      const failed = (errorCode: number) => ({ errorCode, transactionalId, ...none });
      if (!describable.has(transactionalId)) return failed(ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED);
      if (agent.transactions === null) return failed(ErrorCode.TRANSACTIONAL_ID_NOT_FOUND);
      if (!coordinatesHere(agent.cluster, transactionalId)) return failed(ErrorCode.NOT_COORDINATOR);
      const txn = table.get(transactionalId);
      if (!txn) return failed(ErrorCode.TRANSACTIONAL_ID_NOT_FOUND);
      return {
        errorCode: ErrorCode.NONE,
        transactionalId,
        transactionState: txn.state,
        transactionTimeoutMs: txn.timeoutMs,
        transactionStartTimeMs: BigInt(txn.startTime),
        producerId: BigInt(txn.producerId),
        producerEpoch: txn.producerEpoch,
        topics: [...txn.partitions].map(([topic, partitions]) => ({
          topic,
          partitions: [...partitions].sort((a, b) => a - b),
        })),
      };
    }),
  };
});
