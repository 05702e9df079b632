/**
 * OffsetFetch (9), v0–9. Committed offsets of a group, −1 (leader epoch −1, metadata "") for partitions
 * with none; topics null (v2+) = every committed partition. v2–7 carry a top-level error, v5+ the
 * leader epoch, v8+ batch several groups. Groups another agent coordinates get NOT_COORDINATOR.
 * requireStable (v7+, KIP-447): a partition whose offsets a transaction has committed and not ended yet
 * (TxnOffsetCommit, metadata/transactions.ts) is answered UNSTABLE_OFFSET_COMMIT (retriable), so that a
 * read_committed consumer taking a partition over does not start from the offset before them. v9's member id and
 * epoch are checked for KIP-848 consumer groups (UNKNOWN_MEMBER_ID, STALE_MEMBER_EPOCH; none and −1
 * from a non-member is fine) and ignored for classic groups, as Kafka does.
 *
 * Committed offsets live in the metadata log. An agent that just became a group's coordinator may not
 * have read the commits made through the previous one yet: the log tail is read first (fetch/catch-up.ts;
 * up to COORDINATOR_CATCH_UP_WAIT_MS, which lets a slow store's reads finish: a consumer cannot start
 * without its offsets anyway). When it cannot be read in time the group answers
 * COORDINATOR_LOAD_IN_PROGRESS (retriable, as Kafka while a coordinator loads its offsets) rather than
 * offsets that may be old, from which a consumer would read again, or none, from which it would reset.
 * Offsets are answered as committed, also when they are beyond a partition's high watermark as this
 * agent sees it. Authorization: DESCRIBE on the group (else GROUP_AUTHORIZATION_FAILED) and on each
 * topic: a topic asked for that the client may not DESCRIBE answers TOPIC_AUTHORIZATION_FAILED, and a
 * request for all of a group's offsets leaves such topics out, as Kafka does.
 */
import { catchUpWithin } from "../fetch/catch-up.js";
import { ApiKey, ErrorCode } from "../protocol/index.js";
import { coordinatesGroup } from "./group-support.js";
import type { OffsetFetchMember, OffsetFetchResult } from "../groups/coordinator.js";
import type { RequestContext } from "../server/handler.js";
import { defineHandler } from "../server/handler.js";
import { allowed, allowedNames } from "./authorization.js";
import { partitionKey } from "../metadata/transactions.js";

/** Longest OffsetFetch waits for the log tail: well under clients' request timeouts (30 s). */
const COORDINATOR_CATCH_UP_WAIT_MS = 15_000;

type TopicRequest = { readonly name: string; readonly partitionIndexes: readonly number[] };

type Wanted = ReadonlyArray<{ readonly topic: string; readonly partitions: readonly number[] }>;

/** A group-level error, carried also by every partition asked for. */
function refused(errorCode: number, wanted: Wanted | null): OffsetFetchResult {
  return {
    errorCode,
    topics: (wanted ?? []).map((t) => ({
      topic: t.topic,
      partitions: t.partitions.map((partition) => ({
        partition,
        offset: -1n,
        leaderEpoch: -1,
        metadata: "",
        errorCode,
      })),
    })),
  };
}

function fetchGroup(
  ctx: RequestContext,
  groupId: string,
  topics: readonly TopicRequest[] | null,
  caughtUp: boolean,
  member: OffsetFetchMember | null = null,
): OffsetFetchResult {
  const { agent } = ctx;
  const wanted = topics === null ? null : topics.map((t) => ({ topic: t.name, partitions: t.partitionIndexes }));
  if (!allowed(ctx, "DESCRIBE", "GROUP", groupId)) return refused(ErrorCode.GROUP_AUTHORIZATION_FAILED, wanted);
  if (!coordinatesGroup(agent, groupId)) return refused(ErrorCode.NOT_COORDINATOR, wanted);
  if (!caughtUp) return refused(ErrorCode.COORDINATOR_LOAD_IN_PROGRESS, wanted);
  if (wanted === null) {
    // All the group's offsets: only those of topics the client may describe.
    const result = agent.groups.fetchOffsets(groupId, null, member);
    if (result.errorCode !== ErrorCode.NONE || !agent.authorizer.enabled) return result;
    const describable = allowedNames(
      ctx,
      "DESCRIBE",
      "TOPIC",
      result.topics.map((t) => t.topic),
      false,
    );
    return { ...result, topics: result.topics.filter((t) => describable.has(t.topic)) };
  }
  const describable = allowedNames(
    ctx,
    "DESCRIBE",
    "TOPIC",
    wanted.map((t) => t.topic),
  );
  const result = agent.groups.fetchOffsets(
    groupId,
    wanted.filter((t) => describable.has(t.topic)),
    member,
  );
  if (result.errorCode !== ErrorCode.NONE) return result;
  const denied = refused(
    ErrorCode.TOPIC_AUTHORIZATION_FAILED,
    wanted.filter((t) => !describable.has(t.topic)),
  );
  return { ...result, topics: [...result.topics, ...denied.topics] };
}

/**
 * requireStable: partitions with offsets held by a transaction that has not ended answer
 * UNSTABLE_OFFSET_COMMIT instead of the offset committed before it, as Kafka does.
 */
function stable(ctx: RequestContext, groupId: string, result: OffsetFetchResult): OffsetFetchResult {
  const held = ctx.agent.groups.pendingTransactionalOffsets(groupId);
  if (held.size === 0 || result.errorCode !== ErrorCode.NONE) return result;
  return {
    ...result,
    topics: result.topics.map((t) => ({
      ...t,
      partitions: t.partitions.map((p) =>
        p.errorCode === ErrorCode.NONE && held.has(partitionKey(t.topic, p.partition))
          ? { ...p, offset: -1n, errorCode: ErrorCode.UNSTABLE_OFFSET_COMMIT }
          : p,
      ),
    })),
  };
}

function topicsOut(result: OffsetFetchResult) {
  return result.topics.map((t) => ({
    name: t.topic,
    partitions: t.partitions.map((p) => ({
      partitionIndex: p.partition,
      committedOffset: p.offset,
      committedLeaderEpoch: p.leaderEpoch,
      metadata: p.metadata,
      errorCode: p.errorCode,
    })),
  }));
}

defineHandler({ key: ApiKey.OffsetFetch, min: 0, max: 9 }, async (req, ctx) => {
  const { agent, header } = ctx;
  const groupIds = header.apiVersion >= 8 ? req.groups.map((g) => g.groupId) : [req.groupId];
  const caughtUp = groupIds.some((id) => coordinatesGroup(agent, id) && allowed(ctx, "DESCRIBE", "GROUP", id, false))
    ? await catchUpWithin(agent.metadata, COORDINATOR_CATCH_UP_WAIT_MS)
    : true;
  if (header.apiVersion >= 8) {
    return {
      throttleTimeMs: 0,
      groups: req.groups.map((g) => {
        const member = header.apiVersion >= 9 ? { memberId: g.memberId ?? null, memberEpoch: g.memberEpoch } : null;
        const fetched = fetchGroup(ctx, g.groupId, g.topics, caughtUp, member);
        const result = req.requireStable ? stable(ctx, g.groupId, fetched) : fetched;
        return { groupId: g.groupId, topics: topicsOut(result), errorCode: result.errorCode };
      }),
    };
  }
  const fetched = fetchGroup(ctx, req.groupId, header.apiVersion >= 2 ? req.topics : (req.topics ?? []), caughtUp);
  const result = header.apiVersion >= 7 && req.requireStable ? stable(ctx, req.groupId, fetched) : fetched;
  // Before v2 there is no top-level error: it is carried by every partition.
  return { throttleTimeMs: 0, topics: topicsOut(result), errorCode: result.errorCode };
});
