/**
 * Shared by FindCoordinator (10) and InitProducerId (22): transactional ids are refused while
 * transactions are off (-transactions=false). The answer is TRANSACTIONAL_ID_AUTHORIZATION_FAILED, Kafka's
 * own code for a transactional id a client may not use: it is not retriable, so clients report it at
 * once (COORDINATOR_NOT_AVAILABLE would have them retry forever). Each refusal is logged at info, at
 * most once a minute per transactional id.
 */
import type { Logger } from "../../../common/logger.js";
import { ErrorCode } from "../protocol/index.js";

const LOG_INTERVAL_MS = 60_000;
/** Ids remembered for rate limiting; past this, ids not logged within the interval are forgotten. */
const MAX_REMEMBERED = 10_000;

/** When each transactional id was last logged (ms since the epoch). */
const lastLogged = new Map<string, number>();

export const TRANSACTIONAL_ID_REFUSED = ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED;
export const TRANSACTIONAL_ID_REFUSED_MESSAGE = "transactions are turned off on this cluster";

/** Logs (rate-limited) that `api` refused `transactionalId`; returns the error code to answer. */
export function refuseTransactionalId(
  log: Logger,
  api: string,
  transactionalId: string,
  clientId: string | null,
  now = Date.now(),
): number {
  const last = lastLogged.get(transactionalId);
  if (last === undefined || now - last >= LOG_INTERVAL_MS) {
    if (lastLogged.size >= MAX_REMEMBERED) {
      for (const [id, at] of lastLogged) if (now - at >= LOG_INTERVAL_MS) lastLogged.delete(id);
    }
    lastLogged.set(transactionalId, now);
    log.info("transactional id refused: transactions are off (-transactions=false)", {
      api,
      transactionalId,
      clientId,
    });
  }
  return TRANSACTIONAL_ID_REFUSED;
}
