/**
 * Fetch (1), v4–12 (v13+ addresses topics by id and is not offered). Serves whole stored batches from
 * the fetch offset, base offsets rewritten, from whichever store holds them. Long poll: when fewer
 * than minBytes are available the request waits up to maxWaitMs for new data in any of its
 * partitions; as in Kafka, a partition answered with an error (unknown topic or partition, offset out
 * of range, storage error) ends the wait at once. Fetch sessions are not kept (session id 0: every
 * request is a full fetch). read_committed sees the same data as read_uncommitted (no transactions).
 * Offsets below the log start answer OFFSET_OUT_OF_RANGE. An offset beyond this agent's high watermark
 * may have been produced through another agent since this one last read the log: the log tail is read
 * first (fetch/catch-up.ts), and the offset is out of range only if it is still beyond; when the log
 * cannot be read in time the answer is OFFSET_NOT_AVAILABLE, which clients retry (a consumer told out of
 * range would reset its position). A partition whose bytes the store fails to give answers
 * KAFKA_STORAGE_ERROR (retriable) without failing the others. Authorization: READ on each topic (a fetch
 * naming a replica id, as only brokers do, needs CLUSTER_ACTION on the cluster instead), else
 * TOPIC_AUTHORIZATION_FAILED for its partitions; those neither end nor join the long poll, as in Kafka.
 */
import { errorMessage } from "../../../common/logger.js";
import { catchUpWithin } from "../fetch/catch-up.js";
import * as metrics from "../metrics/metrics.js";
import { ApiKey, ErrorCode } from "../protocol/index.js";
import { defineHandler } from "../server/handler.js";
import { allowedNames, clusterAllowed } from "./authorization.js";

const MAX_RESPONSE_BYTES = 64 * 1024 * 1024;

defineHandler({ key: ApiKey.Fetch, min: 4, max: 12 }, async (req, ctx) => {
  const { agent } = ctx;
  const started = process.hrtime.bigint();
  const deadline = Date.now() + Math.max(0, req.maxWaitMs);
  const maxBytes = Math.min(req.maxBytes > 0 ? req.maxBytes : MAX_RESPONSE_BYTES, MAX_RESPONSE_BYTES);
  // Consumers send replica id −1; a follower's fetch (replica id ≥ 0) is a broker's, as in Kafka.
  const names = req.topics.map((t) => t.topic);
  const readable =
    req.replicaId >= 0
      ? clusterAllowed(ctx, "CLUSTER_ACTION")
        ? new Set(names)
        : new Set<string>()
      : allowedNames(ctx, "READ", "TOPIC", names);
  const watched: Array<[string, number]> = [];
  for (const t of req.topics)
    if (readable.has(t.topic)) for (const p of t.partitions) watched.push([t.topic, p.partition]);
  const initial = agent.metadata.state;
  const beyondLocalEnd = req.topics.some(
    (t) =>
      readable.has(t.topic) &&
      t.partitions.some((p) => {
        const ps = initial.partition(t.topic, p.partition);
        return ps !== undefined && Number(p.fetchOffset) > ps.nextOffset;
      }),
  );
  const caughtUp = beyondLocalEnd ? await catchUpWithin(agent.metadata) : true;

  for (;;) {
    const state = agent.metadata.state;
    let total = 0;
    // Any partition answered with an error ends the long poll at once (Kafka's errorReadingData).
    let errored = false;
    const responses = [];
    for (const t of req.topics) {
      const topic = state.topics.get(t.topic);
      const partitions = [];
      for (const p of t.partitions) {
        const ps = topic?.partitions[p.partition];
        const base = {
          partitionIndex: p.partition,
          highWatermark: -1n,
          lastStableOffset: -1n,
          logStartOffset: -1n,
          abortedTransactions: [] as Array<{ producerId: bigint; firstOffset: bigint }>,
          preferredReadReplica: -1,
          records: null as Buffer[] | null,
        };
        if (!readable.has(t.topic)) {
          partitions.push({ ...base, errorCode: ErrorCode.TOPIC_AUTHORIZATION_FAILED });
          continue;
        }
        if (!ps) {
          partitions.push({ ...base, errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION });
          errored = true;
          continue;
        }
        const hw = BigInt(ps.nextOffset);
        const lso = BigInt(ps.logStartOffset);
        const offset = Number(p.fetchOffset);
        const meta = { ...base, highWatermark: hw, lastStableOffset: hw, logStartOffset: lso };
        if (offset < ps.logStartOffset || (offset > ps.nextOffset && caughtUp)) {
          partitions.push({ ...meta, errorCode: ErrorCode.OFFSET_OUT_OF_RANGE });
          errored = true;
          continue;
        }
        if (offset > ps.nextOffset) {
          partitions.push({ ...meta, errorCode: ErrorCode.OFFSET_NOT_AVAILABLE });
          continue;
        }
        const budget = Math.min(p.partitionMaxBytes, maxBytes - total);
        if (offset === ps.nextOffset || (budget <= 0 && total > 0)) {
          partitions.push({ ...meta, errorCode: ErrorCode.NONE, records: [] as Buffer[] });
          continue;
        }
        let read;
        try {
          read = await agent.reader.read(ps, offset, Math.max(budget, 1));
        } catch (err) {
          // The store did not give the bytes (throttled past its retries, unreachable): this partition
          // answers KAFKA_STORAGE_ERROR, which clients retry, and the others are served as usual.
          agent.log.warn("fetch: reading stored data failed", {
            topic: t.topic,
            partition: p.partition,
            offset,
            error: errorMessage(err),
          });
          partitions.push({ ...meta, errorCode: ErrorCode.KAFKA_STORAGE_ERROR });
          errored = true;
          continue;
        }
        total += read.bytes;
        partitions.push({ ...meta, errorCode: ErrorCode.NONE, records: read.chunks });
        metrics.fetchBytes.inc({ topic: t.topic }, read.bytes);
      }
      const topicId = readable.has(t.topic) ? topic?.topicId : undefined;
      responses.push({ topic: t.topic, topicId: topicId ?? "00000000000000000000000000000000", partitions });
    }
    const remaining = deadline - Date.now();
    if (total >= req.minBytes || errored || remaining <= 0 || watched.length === 0) {
      metrics.fetchLatency.observe(Number(process.hrtime.bigint() - started) / 1e9);
      return { throttleTimeMs: 0, errorCode: ErrorCode.NONE, sessionId: 0, responses };
    }
    await agent.waiters.wait(watched, remaining, ctx.closed);
    if (ctx.closed.aborted) return { throttleTimeMs: 0, errorCode: ErrorCode.NONE, sessionId: 0, responses };
  }
});
