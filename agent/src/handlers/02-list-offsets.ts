/**
 * ListOffsets (2), v0–8. Timestamp −2 earliest (log start), −1 latest (high watermark), −3 the batch
 * with the largest timestamp (v7+); any other timestamp: the first batch whose max timestamp is at or
 * after it. Lookups are at batch granularity: the answer is the base offset of that batch (records are
 * not decompressed), which may be a few records early — consumers skip what they do not want.
 * v0's old-style offsets list carries one offset. Isolation levels are the same (no transactions).
 */
import { ApiKey, ErrorCode } from "../protocol/index.js";
import { defineHandler } from "../server/handler.js";

const LATEST = -1n;
const EARLIEST = -2n;
const MAX_TIMESTAMP = -3n;

defineHandler({ key: ApiKey.ListOffsets, min: 0, max: 8 }, async (req, ctx) => {
  const state = ctx.agent.metadata.state;
  return {
    throttleTimeMs: 0,
    topics: req.topics.map((t) => ({
      name: t.name,
      partitions: t.partitions.map((p) => {
        const ps = state.partition(t.name, p.partitionIndex);
        const result = (offset: bigint, timestamp: bigint) => ({
          partitionIndex: p.partitionIndex,
          errorCode: ErrorCode.NONE,
          oldStyleOffsets: [offset],
          timestamp,
          offset,
          leaderEpoch: -1,
        });
        if (!ps) {
          return { ...result(-1n, -1n), oldStyleOffsets: [], errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION };
        }
        if (p.timestamp === LATEST) return result(BigInt(ps.nextOffset), -1n);
        if (p.timestamp === EARLIEST) return result(BigInt(ps.logStartOffset), -1n);
        if (p.timestamp === MAX_TIMESTAMP) {
          let best = -1;
          for (let i = 0; i < ps.segments.length; i++)
            if (best < 0 || ps.segments[i]!.maxTimestamp > ps.segments[best]!.maxTimestamp) best = i;
          if (best < 0) return result(-1n, -1n);
          const s = ps.segments[best]!;
          return result(BigInt(s.baseOffset), BigInt(s.maxTimestamp));
        }
        const target = Number(p.timestamp);
        const s = ps.segments.find((seg) => seg.maxTimestamp >= target);
        if (!s) return result(-1n, -1n);
        return result(BigInt(Math.max(s.baseOffset, ps.logStartOffset)), BigInt(s.maxTimestamp));
      }),
    })),
  };
});
