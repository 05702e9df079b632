/**
 * DeleteRecords (21), v0–2. Moves each partition's log start offset (its low watermark) to the offset
 * given (−1: the high watermark) through the metadata log's `truncate` command, the one retention uses
 * (metadata/topics.ts deleteRecords): durable and the same on every agent once answered; Fetch below it
 * answers OFFSET_OUT_OF_RANGE, ListOffsets earliest answers it, and retention and compaction never bring
 * what lies below it back. Per partition: UNKNOWN_TOPIC_OR_PARTITION, OFFSET_OUT_OF_RANGE beyond the high
 * watermark (or below −1), REQUEST_TIMED_OUT (retriable) when the log could not be written or read in
 * time; an offset at or below the current log start answers it unchanged. Any agent serves any partition.
 * The log start may fall inside a stored batch: that batch stays stored and is served whole to a fetch at
 * the log start, as Kafka does. Left out: the request's timeoutMs (the answer comes once the log has the
 * change, within the metadata log's proposal timeout), topic authorization.
 */
import { catchUpWithin } from "../fetch/catch-up.js";
import { ApiKey } from "../protocol/index.js";
import { defineHandler } from "../server/handler.js";

defineHandler({ key: ApiKey.DeleteRecords, min: 0, max: 2 }, async (req, ctx) => {
  const { agent } = ctx;
  // The high watermark decides what is in range: read the log's tail first (another agent's produce).
  const viewIsCurrent = await catchUpWithin(agent.metadata);
  const targets = req.topics.flatMap((t) =>
    t.partitions.map((p) => ({ topic: t.name, partition: p.partitionIndex, offset: p.offset })),
  );
  const results = await agent.topics.deleteRecords(targets, viewIsCurrent);
  let i = 0;
  return {
    throttleTimeMs: 0,
    topics: req.topics.map((t) => ({
      name: t.name,
      partitions: t.partitions.map((p) => {
        const r = results[i++]!;
        return { partitionIndex: p.partitionIndex, lowWatermark: r.lowWatermark, errorCode: r.errorCode };
      }),
    })),
  };
});
