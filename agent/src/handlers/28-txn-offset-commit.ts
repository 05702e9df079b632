/**
 * TxnOffsetCommit (28), v0–4 (v5 is KIP-890 part 2, not offered): a transactional producer commits a
 * group's offsets inside its transaction (sendOffsetsToTransaction). Sent to the group's coordinator and
 * validated as OffsetCommit is (v3+ names the member and generation: a stale one is refused, as Kafka
 * does), then held in the metadata log until the transaction ends: applied when it commits, dropped when it
 * aborts (metadata/transactions.ts). The group must have joined the transaction (AddOffsetsToTxn), else
 * INVALID_TXN_STATE; a fenced producer is INVALID_PRODUCER_EPOCH. Per partition: UNKNOWN_TOPIC_OR_PARTITION,
 * OFFSET_METADATA_TOO_LARGE as OffsetCommit. Authorization: READ on the group (else GROUP_AUTHORIZATION_FAILED),
 * WRITE on the transactional id (else TRANSACTIONAL_ID_AUTHORIZATION_FAILED), READ on each topic (else
 * TOPIC_AUTHORIZATION_FAILED for its partitions).
 */
import { ApiKey, ErrorCode } from "../protocol/index.js";
import { coordinatesGroup, offsetsToCommit } from "./group-support.js";
import { partitionKey } from "../metadata/transactions.js";
import { defineHandler } from "../server/handler.js";
import { allowed, allowedNames } from "./authorization.js";
import { transactionFailure } from "./transaction-support.js";

defineHandler({ key: ApiKey.TxnOffsetCommit, min: 0, max: 4 }, async (req, ctx) => {
  const { agent, header } = ctx;
  const version = header.apiVersion;
  const answer = (code: (topic: string, partition: number) => number) => ({
    throttleTimeMs: 0,
    topics: req.topics.map((t) => ({
      name: t.name,
      partitions: t.partitions.map((p) => ({
        partitionIndex: p.partitionIndex,
        errorCode: code(t.name, p.partitionIndex),
      })),
    })),
  });
  if (!allowed(ctx, "READ", "GROUP", req.groupId)) return answer(() => ErrorCode.GROUP_AUTHORIZATION_FAILED);
  if (!allowed(ctx, "WRITE", "TRANSACTIONAL_ID", req.transactionalId) || agent.transactions === null)
    return answer(() => ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED);
  if (!coordinatesGroup(agent, req.groupId)) return answer(() => ErrorCode.NOT_COORDINATOR);
  const readable = allowedNames(
    ctx,
    "READ",
    "TOPIC",
    req.topics.map((t) => t.name),
  );
  // Not the coordinator: answered above, for every partition.
  const { valid, errors } = offsetsToCommit(agent, req.topics, readable, true, version >= 2);
  if (valid.length > 0) {
    let errorCode: number;
    try {
      errorCode = await agent.groups.commitOffsets({
        groupId: req.groupId,
        generationId: version >= 3 ? req.generationId : -1,
        memberId: version >= 3 ? req.memberId : "",
        groupInstanceId: version >= 3 ? (req.groupInstanceId ?? null) : null,
        offsets: valid,
        transaction: {
          transactionalId: req.transactionalId,
          producerId: Number(req.producerId),
          producerEpoch: req.producerEpoch,
        },
      });
    } catch (err) {
      errorCode = transactionFailure(agent, "TxnOffsetCommit", req.transactionalId, err);
    }
    // The Java producer treats INVALID_PRODUCER_EPOCH as its fencing here, in every version.
    if (errorCode === ErrorCode.PRODUCER_FENCED) errorCode = ErrorCode.INVALID_PRODUCER_EPOCH;
    for (const o of valid) errors.set(partitionKey(o.topic, o.partition), errorCode);
  }
  return answer((topic, partition) => errors.get(partitionKey(topic, partition)) ?? ErrorCode.NONE);
});
