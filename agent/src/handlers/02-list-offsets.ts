/**
 * ListOffsets (2), v0–8. Timestamp −2 earliest (log start), −1 latest (high watermark), −3 the batch
 * with the largest timestamp (v7+); any other timestamp: the first batch whose max timestamp is at or
 * after it. Lookups are at batch granularity: the answer is the base offset of that batch (records are
 * not decompressed), which may be a few records early — consumers skip what they do not want. The
 * metadata index has one entry per compacted run (many batches): the run is read, through the fetch
 * cache, to find the batch in it (fetch/reader.ts findBatch); when the store fails that read the
 * partition answers KAFKA_STORAGE_ERROR (retriable).
 * v0's old-style offsets list carries one offset. With isolation level read_committed (v2+), latest is the
 * partition's last stable offset (metadata/transactions.ts), as Kafka answers.
 *
 * Latest, −3, and a timestamp after everything this agent has seen depend on the end of the log, which
 * this agent's view may trail (data produced through another agent): they are answered after reading
 * the log tail (fetch/catch-up.ts), or from this agent's view when the log cannot be read in time.
 * Authorization: DESCRIBE on each topic, else TOPIC_AUTHORIZATION_FAILED for its partitions.
 */
import { errorMessage } from "../../../common/logger.js";
import { catchUpWithin } from "../fetch/catch-up.js";
import type { PartitionReader } from "../fetch/reader.js";
import type { ClusterState } from "../metadata/state.js";
import { ApiKey, ErrorCode } from "../protocol/index.js";
import type { RequestOf } from "../protocol/index.js";
import type { AgentContext } from "../server/context.js";
import { defineHandler } from "../server/handler.js";
import { allowedNames } from "./authorization.js";

const LATEST = -1n;
const EARLIEST = -2n;
const MAX_TIMESTAMP = -3n;

type Request = RequestOf<typeof ApiKey.ListOffsets>;

interface Answer {
  readonly errorCode: number;
  readonly offset: bigint;
  readonly timestamp: bigint;
}

const NOT_FOUND: Answer = { errorCode: ErrorCode.NONE, offset: -1n, timestamp: -1n };

function isNotFound(a: Answer): boolean {
  return a.errorCode === ErrorCode.NONE && a.offset < 0n;
}

function found(offset: number, timestamp: number): Answer {
  return { errorCode: ErrorCode.NONE, offset: BigInt(offset), timestamp: BigInt(timestamp) };
}

async function lookup(
  reader: PartitionReader,
  state: ClusterState,
  topic: string,
  partition: number,
  timestamp: bigint,
  readCommitted: boolean,
): Promise<Answer> {
  const ps = state.partition(topic, partition);
  if (!ps) return { ...NOT_FOUND, errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION };
  if (timestamp === LATEST)
    return found(
      readCommitted ? state.transactions.lastStableOffset(topic, partition, ps.nextOffset) : ps.nextOffset,
      -1,
    );
  if (timestamp === EARLIEST) return found(ps.logStartOffset, -1);
  const from = ps.logStartOffset;
  if (timestamp === MAX_TIMESTAMP) {
    let best = -1;
    for (let i = 0; i < ps.segments.length; i++)
      if (best < 0 || ps.segments[i]!.maxTimestamp > ps.segments[best]!.maxTimestamp) best = i;
    if (best < 0) return NOT_FOUND;
    const s = ps.segments[best]!;
    const batch = await reader.findBatch(s, from, (ts) => ts === s.maxTimestamp);
    return batch
      ? found(Math.max(batch.offset, from), batch.maxTimestamp)
      : found(Math.max(s.baseOffset, from), s.maxTimestamp);
  }
  const target = Number(timestamp);
  // Segments are in offset order; the first batch at or after the target may be anywhere in a run
  // whose max timestamp is (timestamps need not grow with offsets).
  // The fold may replace segments (compaction) while a run is read: search the list as it is now.
  for (const s of ps.segments.slice()) {
    if (s.maxTimestamp < target || s.lastOffset < from) continue;
    const batch = await reader.findBatch(s, from, (ts) => ts >= target);
    if (batch) return found(Math.max(batch.offset, from), batch.maxTimestamp);
  }
  return NOT_FOUND;
}

const UNAUTHORIZED: Answer = { ...NOT_FOUND, errorCode: ErrorCode.TOPIC_AUTHORIZATION_FAILED };

function lookupAll(
  agent: AgentContext,
  state: ClusterState,
  req: Request,
  describable: ReadonlySet<string>,
): Promise<Answer[][]> {
  return Promise.all(
    req.topics.map((t) =>
      Promise.all(
        t.partitions.map(async (p) =>
          !describable.has(t.name)
            ? UNAUTHORIZED
            : lookup(agent.reader, state, t.name, p.partitionIndex, p.timestamp, req.isolationLevel === 1).catch(
                (err: unknown): Answer => {
                  agent.log.warn("list offsets: reading stored data failed", {
                    topic: t.name,
                    partition: p.partitionIndex,
                    error: errorMessage(err),
                  });
                  return { ...NOT_FOUND, errorCode: ErrorCode.KAFKA_STORAGE_ERROR };
                },
              ),
        ),
      ),
    ),
  );
}

defineHandler({ key: ApiKey.ListOffsets, min: 0, max: 8 }, async (req, ctx) => {
  const log = ctx.agent.metadata;
  const describable = allowedNames(
    ctx,
    "DESCRIBE",
    "TOPIC",
    req.topics.map((t) => t.name),
  );
  const asksForEnd = req.topics.some((t) =>
    t.partitions.some((p) => p.timestamp === LATEST || p.timestamp === MAX_TIMESTAMP),
  );
  if (asksForEnd) await catchUpWithin(log);
  let answers = await lookupAll(ctx.agent, log.state, req, describable);
  // A timestamp after every batch seen here may match a batch this agent has not read yet.
  const pastLocalEnd = req.topics.some((t, ti) =>
    t.partitions.some((p, pi) => p.timestamp >= 0n && isNotFound(answers[ti]![pi]!)),
  );
  if (pastLocalEnd && !asksForEnd) {
    await catchUpWithin(log);
    answers = await lookupAll(ctx.agent, log.state, req, describable);
  }
  return {
    throttleTimeMs: 0,
    topics: req.topics.map((t, ti) => ({
      name: t.name,
      partitions: t.partitions.map((p, pi) => {
        const a = answers[ti]![pi]!;
        return {
          partitionIndex: p.partitionIndex,
          errorCode: a.errorCode,
          oldStyleOffsets: a.errorCode === ErrorCode.NONE ? [a.offset] : [],
          timestamp: a.timestamp,
          offset: a.offset,
          leaderEpoch: -1,
        };
      }),
    })),
  };
});
