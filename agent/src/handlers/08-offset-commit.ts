/**
 * OffsetCommit (8), v0–9. Validated by the GroupCoordinator (generation −1 with no member id is a
 * simple commit, accepted while the group is Empty; otherwise member and generation must match; for a
 * KIP-848 consumer group the generation is the member epoch: v9+, the member's current epoch, else
 * STALE_MEMBER_EPOCH, UNKNOWN_MEMBER_ID or UNSUPPORTED_VERSION, as Kafka) and
 * made durable in the metadata log before the answer. Per partition: UNKNOWN_TOPIC_OR_PARTITION for
 * partitions that do not exist, OFFSET_METADATA_TOO_LARGE above 4096 bytes of metadata. v6+ carries the
 * leader epoch, v7+ the group instance id. Left out: v1's per-partition commit timestamp and v2–4's
 * retention time (ignored: a group's offsets expire seven days after its last commit, in the metadata
 * log's time, metadata/expiry.ts). Authorization: READ on the group (else GROUP_AUTHORIZATION_FAILED for
 * every partition) and READ on each topic (else TOPIC_AUTHORIZATION_FAILED for its partitions).
 */
import { ApiKey, ErrorCode } from "../protocol/index.js";
import { coordinatesGroup, offsetsToCommit } from "./group-support.js";
import { partitionKey } from "../metadata/transactions.js";
import { defineHandler } from "../server/handler.js";
import { allowed, allowedNames } from "./authorization.js";

defineHandler({ key: ApiKey.OffsetCommit, min: 0, max: 9 }, async (req, ctx) => {
  const { agent, header } = ctx;
  const version = header.apiVersion;
  if (!allowed(ctx, "READ", "GROUP", req.groupId)) {
    const topics = req.topics.map((t) => ({
      name: t.name,
      partitions: t.partitions.map((p) => ({
        partitionIndex: p.partitionIndex,
        errorCode: ErrorCode.GROUP_AUTHORIZATION_FAILED,
      })),
    }));
    return { throttleTimeMs: 0, topics };
  }
  const readable = allowedNames(
    ctx,
    "READ",
    "TOPIC",
    req.topics.map((t) => t.name),
  );
  const { valid, errors } = offsetsToCommit(
    agent,
    req.topics,
    readable,
    coordinatesGroup(agent, req.groupId),
    version >= 6,
  );
  if (valid.length > 0) {
    const errorCode = await agent.groups.commitOffsets({
      groupId: req.groupId,
      generationId: version >= 1 ? req.generationIdOrMemberEpoch : -1,
      memberId: version >= 1 ? req.memberId : "",
      groupInstanceId: version >= 7 ? (req.groupInstanceId ?? null) : null,
      offsets: valid,
      apiVersion: version,
    });
    for (const o of valid) errors.set(partitionKey(o.topic, o.partition), errorCode);
  }
  return {
    throttleTimeMs: 0,
    topics: req.topics.map((t) => ({
      name: t.name,
      partitions: t.partitions.map((p) => ({
        partitionIndex: p.partitionIndex,
        errorCode: errors.get(partitionKey(t.name, p.partitionIndex)) ?? ErrorCode.NONE,
      })),
    })),
  };
});
