/**
 * Helpers shared by the transaction handlers (22, 24–26, 28): the error code each request version knows
 * for a fenced producer, and what to answer when the metadata log cannot take the command.
 */
import { errorMessage } from "../../../common/logger.js";
import { FormatNotReadByAllError } from "../metadata/proposal.js";
import { ErrorCode } from "../protocol/index.js";
import type { AgentContext } from "../server/context.js";

/**
 * PRODUCER_FENCED for a request version that knows it (`since`: v2 of AddPartitionsToTxn, AddOffsetsToTxn
 * and EndTxn, v4 of InitProducerId), else INVALID_PRODUCER_EPOCH, as Kafka answers older clients.
 */
export function producerError(errorCode: number, version: number, since = 2): number {
  return errorCode === ErrorCode.PRODUCER_FENCED && version < since ? ErrorCode.INVALID_PRODUCER_EPOCH : errorCode;
}

/**
 * The code for a transaction command the log did not take: UNSUPPORTED_VERSION (not retriable) while an
 * agent that cannot read transaction entries is live, else COORDINATOR_NOT_AVAILABLE (the store was
 * throttled or unreachable; clients retry).
 */
export function transactionFailure(agent: AgentContext, api: string, transactionalId: string, err: unknown): number {
  if (err instanceof FormatNotReadByAllError) {
    agent.log.warn(`${api}: ${err.message}`, { transactionalId });
    return ErrorCode.UNSUPPORTED_VERSION;
  }
  agent.log.warn(`${api}: the metadata log did not take the command`, { transactionalId, error: errorMessage(err) });
  return ErrorCode.COORDINATOR_NOT_AVAILABLE;
}
