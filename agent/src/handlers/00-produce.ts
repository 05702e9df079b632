/**
 * Produce (0), v0–11 advertised; v3–11 accepted in practice (v0–2 carry message-format v0/v1, which is
 * answered with UNSUPPORTED_FOR_MESSAGE_FORMAT per partition, as Kafka 4 does). Each partition's
 * records are split into RecordBatches and validated (magic 2, CRC-32C, counts, no control batches),
 * then handed to the batcher: the response waits until the ingestion file is stored and committed in
 * the metadata log (acks=1 and acks=all alike: durability comes from the store). acks=0 sends no
 * response. Any agent accepts any partition. Transactional batches need the request's transactional id
 * (WRITE on it, else TRANSACTIONAL_ID_AUTHORIZATION_FAILED for every partition) and are admitted by the
 * metadata log's fold only to a partition of the producer's ongoing transaction (INVALID_TXN_STATE,
 * PRODUCER_FENCED otherwise; metadata/transactions.ts); while transactions are off (-transactions=false) they are
 * refused with INVALID_RECORD. While the compaction backlog is over -maxUncompactedAge, the batcher refuses new data
 * and every partition is answered REQUEST_TIMED_OUT (retriable) at once (background/backlog.ts).
 *
 * Authorization (with -authorizationEnabled): WRITE on each topic, else TOPIC_AUTHORIZATION_FAILED for
 * its partitions; a topic that does not exist is auto-created (when the agent auto-creates) only for a
 * client allowed CREATE on the cluster or on the topic, else it is UNKNOWN_TOPIC_OR_PARTITION.
 *
 * Topic configs enforced here: a batch larger than max.message.bytes (whole batch, header included)
 * fails its partition with MESSAGE_TOO_LARGE, as in Kafka; with message.timestamp.type=LogAppendTime
 * the batches are stamped with their ingestion file's seal time (see ingest/batcher.ts) and the
 * partition's logAppendTimeMs carries it (-1 for CreateTime topics).
 */
import type { IncomingBatch } from "../ingest/batcher.js";
import { IngestionError, IngestionRefusedError } from "../ingest/batcher.js";
import { effectiveConfig } from "../metadata/topic-config.js";
import * as metrics from "../metrics/metrics.js";
import { ApiKey, ErrorCode } from "../protocol/index.js";
import { InvalidBatchError, splitAndValidateBatches } from "../records/record-batch.js";
import { defineHandler } from "../server/handler.js";
import { LOG_UNAVAILABLE } from "../metadata/topics.js";
import { allowed, allowedNames, clusterAllowed } from "./authorization.js";

interface PartitionOutcome {
  index: number;
  errorCode: number;
  baseOffset: bigint;
  logAppendTimeMs: bigint;
  logStartOffset: bigint;
  recordErrors: Array<{ batchIndex: number; batchIndexErrorMessage: string | null }>;
  errorMessage: string | null;
}

/**
 * Like Kafka, a produce not durable within the request's timeoutMs is answered REQUEST_TIMED_OUT
 * (retriable) instead of holding the client until its own request timeout, which clients such as
 * kafkajs retry on the same agent without refreshing metadata (a partitioned agent would hold them
 * for good). The batches may still be committed later: the outcome is unknown, as in Kafka, and an
 * idempotent producer's retry is deduplicated. Timeouts below this are not enforced.
 */
const MIN_ENFORCED_TIMEOUT_MS = 1000;

/** Runs start(signal); past timeoutMs, aborts the signal (batches still waiting for buffer space are dropped) and rejects. */
function withTimeout<T>(start: (signal?: AbortSignal) => Promise<T>, timeoutMs: number): Promise<T> {
  if (!(timeoutMs >= MIN_ENFORCED_TIMEOUT_MS)) return start();
  const abort = new AbortController();
  const work = start(abort.signal);
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => {
      abort.abort();
      reject(new IngestionError(`not stored within the request's timeout of ${timeoutMs} ms`));
    }, timeoutMs);
    work.then(
      (v) => {
        clearTimeout(timer);
        resolve(v);
      },
      (e: unknown) => {
        clearTimeout(timer);
        reject(e instanceof Error ? e : new Error(String(e)));
      },
    );
  });
}

function failed(index: number, errorCode: number, errorMessage: string | null): PartitionOutcome {
  return {
    index,
    errorCode,
    baseOffset: -1n,
    logAppendTimeMs: -1n,
    logStartOffset: -1n,
    recordErrors: [],
    errorMessage,
  };
}

defineHandler({ key: ApiKey.Produce, min: 0, max: 11 }, async (req, ctx) => {
  const { agent, header } = ctx;
  if (agent.cluster.isolated()) {
    // Cut off from the store: nothing could be stored. NOT_LEADER_OR_FOLLOWER (retriable) makes the
    // client refresh metadata, which no longer lists this agent, and move to one that can.
    if (req.acks === 0) return null;
    const message = "this agent cannot reach its store; refresh metadata";
    return {
      responses: req.topicData.map((t) => ({
        name: t.name,
        partitionResponses: t.partitionData.map((pd) => failed(pd.index, ErrorCode.NOT_LEADER_OR_FOLLOWER, message)),
      })),
      throttleTimeMs: 0,
    };
  }
  if (req.transactionalId !== null && !allowed(ctx, "WRITE", "TRANSACTIONAL_ID", req.transactionalId)) {
    if (req.acks === 0) return null;
    return {
      responses: req.topicData.map((t) => ({
        name: t.name,
        partitionResponses: t.partitionData.map((pd) =>
          failed(pd.index, ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED, "Transactional Id authorization failed."),
        ),
      })),
      throttleTimeMs: 0,
    };
  }
  const transactional = agent.transactions !== null && req.transactionalId !== null;
  const started = process.hrtime.bigint();
  const responses: Array<{ name: string; partitionResponses: PartitionOutcome[] }> = [];
  const accepted: IncomingBatch[] = [];
  const slots: Array<{ outcome: PartitionOutcome; first: number; count: number; logAppendTime: boolean }> = [];
  const writable = allowedNames(
    ctx,
    "WRITE",
    "TOPIC",
    req.topicData.map((t) => t.name),
  );

  for (const topicData of req.topicData) {
    const name = topicData.name;
    const partitionResponses: PartitionOutcome[] = [];
    responses.push({ name, partitionResponses });
    if (!writable.has(name)) {
      for (const pd of topicData.partitionData)
        partitionResponses.push(failed(pd.index, ErrorCode.TOPIC_AUTHORIZATION_FAILED, "Topic authorization failed."));
      continue;
    }
    const mayCreate =
      agent.metadata.state.topics.has(name) ||
      clusterAllowed(ctx, "CREATE", false) ||
      allowed(ctx, "CREATE", "TOPIC", name, false);
    const existence = await agent.topics.ensure(name, mayCreate);
    const partitions = agent.topics.partitionCount(name);
    const configs = agent.metadata.state.topics.get(name)?.configs ?? {};
    const maxBatchBytes = Number(effectiveConfig(configs, "max.message.bytes"));
    const logAppendTime = effectiveConfig(configs, "message.timestamp.type") === "LogAppendTime";
    // Counted once per topic, not per partition: a labelled inc hashes its labels each call, and one
    // request may carry thousands of partitions.
    let topicBytes = 0;
    for (const pd of topicData.partitionData) {
      if (existence === LOG_UNAVAILABLE) {
        partitionResponses.push(
          failed(
            pd.index,
            ErrorCode.REQUEST_TIMED_OUT,
            `topic ${name} could not be created for now (metadata log unavailable)`,
          ),
        );
        continue;
      }
      if (existence !== ErrorCode.NONE || partitions === null || pd.index < 0 || pd.index >= partitions) {
        // Another agent may have created it since this one's tail backed off (metadata/tail-pace.ts).
        agent.metadata.wakeTail();
        partitionResponses.push(
          failed(pd.index, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, `unknown topic or partition ${name}-${pd.index}`),
        );
        continue;
      }
      if (header.apiVersion < 3) {
        partitionResponses.push(
          failed(
            pd.index,
            ErrorCode.UNSUPPORTED_FOR_MESSAGE_FORMAT,
            "message format v0/v1 is not supported; use produce v3+",
          ),
        );
        continue;
      }
      if (!pd.records || pd.records.length === 0) {
        partitionResponses.push(failed(pd.index, ErrorCode.INVALID_RECORD, "no records"));
        continue;
      }
      let batches;
      try {
        batches = splitAndValidateBatches(pd.records);
      } catch (err) {
        if (err instanceof InvalidBatchError) {
          partitionResponses.push(failed(pd.index, err.errorCode, err.message));
          continue;
        }
        throw err;
      }
      if (!transactional && batches.some((b) => b.header.transactional)) {
        const why =
          agent.transactions === null
            ? "transactional batches are refused: transactions are off on this cluster (-transactions=false)"
            : "transactional batches need the request's transactional id";
        partitionResponses.push(failed(pd.index, ErrorCode.INVALID_RECORD, why));
        continue;
      }
      const tooLarge = batches.find((b) => b.header.size > maxBatchBytes);
      if (tooLarge) {
        partitionResponses.push(
          failed(
            pd.index,
            ErrorCode.MESSAGE_TOO_LARGE,
            `record batch of ${tooLarge.header.size} bytes exceeds max.message.bytes ${maxBatchBytes} of topic ${name}`,
          ),
        );
        continue;
      }
      const outcome = failed(pd.index, ErrorCode.NONE, null);
      partitionResponses.push(outcome);
      slots.push({ outcome, first: accepted.length, count: batches.length, logAppendTime });
      for (const b of batches)
        accepted.push({ topic: name, partition: pd.index, bytes: b.bytes, header: b.header, logAppendTime });
      topicBytes += pd.records.length;
    }
    if (topicBytes > 0) metrics.produceBytes.inc({ topic: name }, topicBytes);
  }

  if (accepted.length > 0) {
    try {
      const results = await withTimeout((signal) => agent.batcher.add(accepted, signal), req.timeoutMs);
      const recordsByTopic = new Map<string, number>();
      for (const slot of slots) {
        const first = results[slot.first]!;
        const o = slot.outcome;
        let bad: (typeof results)[number] | undefined;
        let records = 0;
        for (let i = slot.first; i < slot.first + slot.count && bad === undefined; i++) {
          if (results[i]!.errorCode !== ErrorCode.NONE) bad = results[i];
          records += accepted[i]!.header.recordCount;
        }
        if (bad) {
          o.errorCode = bad.errorCode;
          o.errorMessage = `batch rejected with error ${bad.errorCode}`;
          o.logStartOffset = BigInt(bad.logStartOffset);
          continue;
        }
        o.baseOffset = BigInt(first.baseOffset);
        o.logAppendTimeMs = slot.logAppendTime ? BigInt(first.logAppendTime) : -1n;
        o.logStartOffset = BigInt(first.logStartOffset);
        const topic = accepted[slot.first]!.topic;
        recordsByTopic.set(topic, (recordsByTopic.get(topic) ?? 0) + records);
      }
      for (const [topic, records] of recordsByTopic) metrics.produceRecords.inc({ topic }, records);
    } catch (err) {
      const code = err instanceof IngestionError ? ErrorCode.REQUEST_TIMED_OUT : ErrorCode.UNKNOWN_SERVER_ERROR;
      // A refusal is logged once when it starts (background/backlog.ts), not per request.
      if (!(err instanceof IngestionRefusedError))
        agent.log.warn("produce failed", { error: err instanceof Error ? err.message : String(err) });
      for (const slot of slots) {
        slot.outcome.errorCode = code;
        slot.outcome.errorMessage = err instanceof Error ? err.message : String(err);
      }
    }
  }
  metrics.produceLatency.observe({ acks: String(req.acks) }, Number(process.hrtime.bigint() - started) / 1e9);
  if (req.acks === 0) return null;
  return { responses, throttleTimeMs: 0 };
});
