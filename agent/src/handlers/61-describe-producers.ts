/**
 * DescribeProducers (61), v0. The idempotent-producer state the metadata log's fold keeps per partition
 * (metadata/state.ts): per producer id its epoch, the sequence of its last record, and the max
 * timestamp of its last batch (−1 for state restored from a snapshot written before the fold kept it).
 * Coordinator epoch and transaction start offset are −1: there are no transactions. State expires one
 * day after a producer's last batch on the partition and is then not listed. The log's tail is read
 * first (at most a second), so producers that wrote through other agents are listed. Per partition:
 * UNKNOWN_TOPIC_OR_PARTITION for a topic or partition that does not exist. Any agent answers for any
 * partition. Authorization: READ on each topic, else TOPIC_AUTHORIZATION_FAILED for its partitions.
 */
import { catchUpWithin } from "../fetch/catch-up.js";
import { ApiKey, ErrorCode } from "../protocol/index.js";
import { defineHandler } from "../server/handler.js";
import { allowedNames } from "./authorization.js";

defineHandler({ key: ApiKey.DescribeProducers, min: 0, max: 0 }, async (req, ctx) => {
  const { agent } = ctx;
  const readable = allowedNames(
    ctx,
    "READ",
    "TOPIC",
    req.topics.map((t) => t.name),
  );
  await catchUpWithin(agent.metadata);
  const state = agent.metadata.state;
  return {
    throttleTimeMs: 0,
    topics: req.topics.map((t) => ({
      name: t.name,
      partitions: t.partitionIndexes.map((partitionIndex) => {
        if (!readable.has(t.name))
          return {
            partitionIndex,
            errorCode: ErrorCode.TOPIC_AUTHORIZATION_FAILED,
            errorMessage: "Topic authorization failed.",
            activeProducers: [],
          };
        const p = state.partition(t.name, partitionIndex);
        if (!p)
          return {
            partitionIndex,
            errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
            errorMessage: `partition ${t.name}-${partitionIndex} does not exist`,
            activeProducers: [],
          };
        const ongoing = state.transactions.ongoingOn(t.name, partitionIndex);
        return {
          partitionIndex,
          errorCode: ErrorCode.NONE,
          errorMessage: null,
          activeProducers: p.producerSummaries().map((s) => ({
            producerId: BigInt(s.producerId),
            producerEpoch: s.epoch,
            lastSequence: s.lastSequence,
            lastTimestamp: BigInt(s.lastTimestamp),
            coordinatorEpoch: -1,
            // Where the producer's ongoing transaction started on the partition (kafka-transactions find-hanging).
            currentTxnStartOffset: BigInt(ongoing.get(s.producerId) ?? -1),
          })),
        };
      }),
    })),
  };
});
