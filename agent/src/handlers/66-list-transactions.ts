/**
 * ListTransactions (66), v0–1 (kafka-transactions --list): the transactional ids this agent coordinates,
 * as Kafka's brokers list those of the coordinator partitions they lead (the admin client asks every
 * agent and merges), filtered by state, producer id and (v1) how long the ongoing transaction has run.
 * Unknown state names are echoed in unknownStateFilters. Authorization: ids without DESCRIBE are left out.
 */
import { ApiKey, ErrorCode } from "../protocol/index.js";
import type { TransactionStateName } from "../metadata/transactions.js";
import { coordinatesHere } from "../cluster/types.js";
import { defineHandler } from "../server/handler.js";
import { allowedNames } from "./authorization.js";

/** Kafka's transaction state names (TransactionState); this agent uses the first four. */
const STATE_NAMES: ReadonlySet<string> = new Set([
  "Empty",
  "Ongoing",
  "CompleteCommit",
  "CompleteAbort",
  "PrepareCommit",
  "PrepareAbort",
  "PrepareEpochFence",
  "Dead",
] satisfies ReadonlyArray<TransactionStateName | string>);

defineHandler({ key: ApiKey.ListTransactions, min: 0, max: 1 }, async (req, ctx) => {
  const { agent } = ctx;
  const states = new Set(req.stateFilters);
  const producers = new Set(req.producerIdFilters.map(Number));
  const now = Date.now();
  const candidates =
    agent.transactions === null
      ? []
      : agent.metadata.state.transactions
          .all()
          .filter(
            (t) =>
              coordinatesHere(agent.cluster, t.transactionalId) &&
              (states.size === 0 || states.has(t.state)) &&
              (producers.size === 0 || producers.has(t.producerId)) &&
              (req.durationFilter < 0n || (t.startTime >= 0 && BigInt(now - t.startTime) >= req.durationFilter)),
          );
  const describable = allowedNames(
    ctx,
    "DESCRIBE",
    "TRANSACTIONAL_ID",
    candidates.map((t) => t.transactionalId),
  );
  return {
    throttleTimeMs: 0,
    errorCode: ErrorCode.NONE,
    unknownStateFilters: req.stateFilters.filter((s) => !STATE_NAMES.has(s)),
    transactionStates: candidates
      .filter((t) => describable.has(t.transactionalId))
      .map((t) => ({
        transactionalId: t.transactionalId,
        producerId: BigInt(t.producerId),
        transactionState: t.state,
      })),
  };
});
