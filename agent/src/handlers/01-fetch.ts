/**
 * Fetch (1), v4–12 (v13+ addresses topics by id and is not offered). Serves whole stored batches from
 * the fetch offset, base offsets rewritten, from whichever store holds them. Long poll: when fewer
 * than minBytes are available the request waits up to maxWaitMs for new data in any of its
 * partitions; as in Kafka, a partition answered with an error (unknown topic or partition, offset out
 * of range, storage error) ends the wait at once. Incremental fetch sessions (KIP-227, v7+) as Kafka
 * keeps them (fetch/sessions.ts): a full fetch creates a session when the cache has a slot
 * (-fetchSessionCacheSlots), incremental fetches name only what changed and are answered only the
 * partitions with news; sessions are this agent's own (another agent answers FETCH_SESSION_ID_NOT_FOUND
 * and the client starts over with a full fetch). read_committed (isolation level 1) is served up to the
 * partition's last stable offset, with the aborted transactions of the range served, which the consumer
 * filters out; read_uncommitted up to the high watermark (metadata/transactions.ts). Every answer carries
 * the last stable offset.
 * Offsets below the log start answer OFFSET_OUT_OF_RANGE. An offset beyond this agent's high watermark
 * may have been produced through another agent since this one last read the log: the log tail is read
 * first (fetch/catch-up.ts), and the offset is out of range only if it is still beyond; when the log
 * cannot be read in time the answer is OFFSET_NOT_AVAILABLE, which clients retry (a consumer told out of
 * range would reset its position). A partition whose bytes the store fails to give answers
 * KAFKA_STORAGE_ERROR (retriable) without failing the others. Authorization: READ on each topic (a fetch
 * naming a replica id, as only brokers do, needs CLUSTER_ACTION on the cluster instead), else
 * TOPIC_AUTHORIZATION_FAILED for its partitions; those neither end nor join the long poll, as in Kafka.
 * In an incremental session every partition of the session is checked at every fetch, and a denied one
 * is answered as an error partition (sessions.ts: answered again once allowed).
 */
import { errorMessage } from "../../../common/logger.js";
import { catchUpWithin } from "../fetch/catch-up.js";
import type { ReadRequest } from "../fetch/reader.js";
import type { FetchPartition, FetchPartitionResult } from "../fetch/sessions.js";
import * as metrics from "../metrics/metrics.js";
import { ApiKey, ErrorCode } from "../protocol/index.js";
import { defineHandler } from "../server/handler.js";
import { allowedNames, clusterAllowed } from "./authorization.js";

const MAX_RESPONSE_BYTES = 64 * 1024 * 1024;

/**
 * One partition's answer as the response carries it, plus its topic and record byte count for the
 * session (the encoder writes only the fields of the message definition).
 */
interface PartitionAnswer extends FetchPartitionResult {
  readonly abortedTransactions: ReadonlyArray<{ producerId: bigint; firstOffset: bigint }>;
  readonly preferredReadReplica: number;
  readonly records: Buffer[] | null;
}

const NO_ABORTED_TRANSACTIONS: PartitionAnswer["abortedTransactions"] = Object.freeze([]);
/** Fetch's isolation level for read_committed (0 is read_uncommitted). */
const READ_COMMITTED = 1;

/** A partition's offsets as an answer carries them; `stable` is its last stable offset (the high watermark without transactions). */
interface Offsets {
  readonly nextOffset: number;
  readonly logStartOffset: number;
  readonly stable?: number;
}

function answer(
  p: FetchPartition,
  errorCode: number,
  offsets: Offsets | undefined,
  records: Buffer[] | null = null,
  recordBytes = 0,
  abortedTransactions: PartitionAnswer["abortedTransactions"] = NO_ABORTED_TRANSACTIONS,
): PartitionAnswer {
  const hw = offsets ? BigInt(offsets.nextOffset) : -1n;
  return {
    topic: p.topic,
    partitionIndex: p.partition,
    errorCode,
    highWatermark: hw,
    lastStableOffset: offsets ? BigInt(offsets.stable ?? offsets.nextOffset) : -1n,
    logStartOffset: offsets ? BigInt(offsets.logStartOffset) : -1n,
    abortedTransactions,
    preferredReadReplica: -1,
    records,
    recordBytes,
  };
}

/** The response's topics: consecutive partitions of one topic share an entry, as Kafka writes them. */
function byTopic(answers: readonly PartitionAnswer[]): Array<{ topic: string; partitions: PartitionAnswer[] }> {
  const topics: Array<{ topic: string; partitions: PartitionAnswer[] }> = [];
  for (const a of answers) {
    const last = topics[topics.length - 1];
    if (last?.topic === a.topic) last.partitions.push(a);
    else topics.push({ topic: a.topic, partitions: [a] });
  }
  return topics;
}

defineHandler({ key: ApiKey.Fetch, min: 4, max: 12 }, async (req, ctx) => {
  const { agent } = ctx;
  const started = process.hrtime.bigint();
  const deadline = Date.now() + Math.max(0, req.maxWaitMs);
  const maxBytes = Math.min(req.maxBytes > 0 ? req.maxBytes : MAX_RESPONSE_BYTES, MAX_RESPONSE_BYTES);
  const session = agent.fetchSessions.open(req);
  const wanted = session.partitions;
  // Consumers send replica id −1; a follower's fetch (replica id ≥ 0) is a broker's, as in Kafka. In an
  // incremental session every partition of the session is checked, not only those the request names.
  const names = [...new Set(wanted.map((p) => p.topic))];
  const readable =
    req.replicaId >= 0
      ? clusterAllowed(ctx, "CLUSTER_ACTION")
        ? new Set(names)
        : new Set<string>()
      : allowedNames(ctx, "READ", "TOPIC", names);
  const watched: Array<[string, number]> = wanted
    .filter((p) => readable.has(p.topic))
    .map((p) => [p.topic, p.partition]);
  const initial = agent.metadata.state;
  const beyondLocalEnd = wanted.some((p) => {
    if (!readable.has(p.topic)) return false;
    const ps = initial.partition(p.topic, p.partition);
    return ps !== undefined && p.fetchOffset > ps.nextOffset;
  });
  const caughtUp = beyondLocalEnd ? await catchUpWithin(agent.metadata) : true;
  const readCommitted = req.isolationLevel === READ_COMMITTED;

  for (;;) {
    const state = agent.metadata.state;
    /** How far a partition is served: its last stable offset for read_committed, else its high watermark. */
    const servedEnd = (topic: string, partition: number, ps: { readonly nextOffset: number }) =>
      readCommitted ? state.transactions.lastStableOffset(topic, partition, ps.nextOffset) : ps.nextOffset;
    let total = 0;
    // Any partition answered with an error ends the long poll at once (Kafka's errorReadingData).
    let errored = false;
    const answers: PartitionAnswer[] = [];
    // The partitions are read one after another below; their store reads (compacted runs, other agents'
    // ingestion files) start here all at once, so a fetch waits for about one store round trip, not one
    // per partition.
    const reads: ReadRequest[] = [];
    let warmed = 0;
    for (const p of wanted) {
      if (warmed >= maxBytes) break;
      const ps = readable.has(p.topic) ? state.topics.get(p.topic)?.partitions[p.partition] : undefined;
      if (!ps || p.fetchOffset < ps.logStartOffset || p.fetchOffset >= servedEnd(p.topic, p.partition, ps)) continue;
      const budget = Math.max(1, Math.min(p.partitionMaxBytes, maxBytes - warmed));
      reads.push({ p: ps, offset: p.fetchOffset, maxBytes: budget });
      warmed += budget;
    }
    agent.reader.warmAll(reads);
    for (const p of wanted) {
      // Not allowed: answered so (an error partition of the session), without ending the long poll.
      if (!readable.has(p.topic)) {
        answers.push(answer(p, ErrorCode.TOPIC_AUTHORIZATION_FAILED, undefined));
        continue;
      }
      const ps = state.topics.get(p.topic)?.partitions[p.partition];
      if (!ps) {
        answers.push(answer(p, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, undefined));
        errored = true;
        continue;
      }
      const offset = p.fetchOffset;
      const stable = state.transactions.lastStableOffset(p.topic, p.partition, ps.nextOffset);
      const offsets: Offsets = { nextOffset: ps.nextOffset, logStartOffset: ps.logStartOffset, stable };
      const end = readCommitted ? stable : ps.nextOffset;
      if (offset < ps.logStartOffset || (offset > ps.nextOffset && caughtUp)) {
        answers.push(answer(p, ErrorCode.OFFSET_OUT_OF_RANGE, offsets));
        errored = true;
        continue;
      }
      if (offset > ps.nextOffset) {
        answers.push(answer(p, ErrorCode.OFFSET_NOT_AVAILABLE, offsets));
        continue;
      }
      const budget = Math.min(p.partitionMaxBytes, maxBytes - total);
      if (offset >= end || (budget <= 0 && total > 0)) {
        answers.push(answer(p, ErrorCode.NONE, offsets, []));
        continue;
      }
      let read;
      try {
        read = await agent.reader.read(ps, offset, Math.max(budget, 1), end);
      } catch (err) {
        // The store did not give the bytes (throttled past its retries, unreachable): this partition
        // answers KAFKA_STORAGE_ERROR, which clients retry, and the others are served as usual.
        agent.log.warn("fetch: reading stored data failed", {
          topic: p.topic,
          partition: p.partition,
          offset,
          error: errorMessage(err),
        });
        answers.push(answer(p, ErrorCode.KAFKA_STORAGE_ERROR, offsets));
        errored = true;
        continue;
      }
      total += read.bytes;
      const aborted = readCommitted
        ? state.transactions
            .abortedIn(p.topic, p.partition, offset, end)
            .map((r) => ({ producerId: BigInt(r.producerId), firstOffset: BigInt(r.firstOffset) }))
        : NO_ABORTED_TRANSACTIONS;
      answers.push(answer(p, ErrorCode.NONE, offsets, read.chunks, read.bytes, aborted));
      metrics.fetchBytes.inc({ topic: p.topic }, read.bytes);
    }
    // Read-ahead for the partitions read: what follows them starts loading for the next fetch.
    if (reads.length > 0) agent.reader.readAheadAll(reads);
    const remaining = deadline - Date.now();
    const done = total >= req.minBytes || errored || remaining <= 0 || watched.length === 0;
    if (!done) await agent.waiters.wait(watched, remaining, ctx.closed);
    if (done || ctx.closed.aborted) {
      const answered = session.complete(answers);
      if (done) metrics.fetchLatency.observe(Number(process.hrtime.bigint() - started) / 1e9);
      return {
        throttleTimeMs: 0,
        errorCode: answered.errorCode,
        sessionId: answered.sessionId,
        responses: byTopic(answered.partitions),
      };
    }
  }
});
