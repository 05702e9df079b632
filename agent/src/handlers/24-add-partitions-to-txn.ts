/**
 * AddPartitionsToTxn (24), v0–3 (the producers' form; v4+ is brokers' batched form, not offered).
 * Partitions join the producer's ongoing transaction, which starts with the first of them
 * (transactions/coordinator.ts; the fold's rules in metadata/transactions.ts): with any partition that
 * does not exist, none is added, those are answered UNKNOWN_TOPIC_OR_PARTITION and the others
 * OPERATION_NOT_ATTEMPTED, as in Kafka. A wrong producer id is INVALID_PRODUCER_ID_MAPPING, an older epoch
 * PRODUCER_FENCED (INVALID_PRODUCER_EPOCH before v2); NOT_COORDINATOR on an agent that does not coordinate
 * the id. Authorization: WRITE on the transactional id (else TRANSACTIONAL_ID_AUTHORIZATION_FAILED for every
 * partition) and WRITE on each topic (else TOPIC_AUTHORIZATION_FAILED for its partitions, the others
 * OPERATION_NOT_ATTEMPTED).
 */
import { ApiKey, ErrorCode } from "../protocol/index.js";
import { partitionKey } from "../metadata/transactions.js";
import { coordinatesHere } from "../cluster/types.js";
import { defineHandler } from "../server/handler.js";
import { allowed, allowedNames } from "./authorization.js";
import { producerError, transactionFailure } from "./transaction-support.js";

defineHandler({ key: ApiKey.AddPartitionsToTxn, min: 0, max: 3 }, async (req, ctx) => {
  const { agent } = ctx;
  const id = req.v3AndBelowTransactionalId;
  const topics = req.v3AndBelowTopics;
  const answer = (code: (topic: string, partition: number) => number) => ({
    throttleTimeMs: 0,
    resultsByTopicV3AndBelow: topics.map((t) => ({
      name: t.name,
      resultsByPartition: t.partitions.map((p) => ({ partitionIndex: p, partitionErrorCode: code(t.name, p) })),
    })),
  });
  const all = (errorCode: number) => answer(() => errorCode);
  if (!allowed(ctx, "WRITE", "TRANSACTIONAL_ID", id) || agent.transactions === null)
    return all(ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED);
  const writable = allowedNames(
    ctx,
    "WRITE",
    "TOPIC",
    topics.map((t) => t.name),
  );
  if (topics.some((t) => !writable.has(t.name)))
    return answer((topic) =>
      writable.has(topic) ? ErrorCode.OPERATION_NOT_ATTEMPTED : ErrorCode.TOPIC_AUTHORIZATION_FAILED,
    );
  if (!coordinatesHere(agent.cluster, id)) return all(ErrorCode.NOT_COORDINATOR);
  const partitions = topics.flatMap((t) => t.partitions.map((partition) => ({ topic: t.name, partition })));
  let out;
  try {
    out = await agent.transactions.add(
      id,
      Number(req.v3AndBelowProducerId),
      req.v3AndBelowProducerEpoch,
      partitions,
      [],
    );
  } catch (err) {
    return all(transactionFailure(agent, "AddPartitionsToTxn", id, err));
  }
  const version = ctx.header.apiVersion;
  if (out.errorCode !== ErrorCode.NONE) return all(producerError(out.errorCode, version));
  const codes = new Map(partitions.map((p, i) => [partitionKey(p.topic, p.partition), out.partitionErrors[i]!]));
  return answer((topic, partition) => codes.get(partitionKey(topic, partition)) ?? ErrorCode.NONE);
});
