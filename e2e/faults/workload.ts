/**
 * The client side of fault tests: idempotent kafkajs producers that record every record they send
 * (acknowledged with its offset, or indeterminate when the send failed), the errors the client
 * surfaced, and a reader that consumes every partition up to its high watermark. The records feed
 * the checker (e2e/support/checker.ts).
 */
import { Kafka, logLevel } from "kafkajs";
import type { LogEntry, Producer } from "kafkajs";
import type { AckedRecord, ConsumedRecord, SentRecord } from "../support/checker.js";
import { eventually } from "../support/eventually.js";

export interface WorkloadOptions {
  readonly brokers: () => string[];
  readonly topic: string;
  readonly partitions: number;
  readonly producers: number;
  /** Records per send (all to one partition; the partition rotates from send to send). */
  readonly batch: number;
  /** Upper bound of records each producer sends. */
  readonly maxRecordsPerProducer: number;
  readonly idempotent?: boolean;
  /** Zone hint in the client id (ws_az=...). */
  readonly zone?: string;
  /** kafkajs request timeout (default 30 s). */
  readonly requestTimeoutMs?: number;
  /** The produce request's timeout (kafkajs default 30 s): the agent answers REQUEST_TIMED_OUT after it. */
  readonly produceTimeoutMs?: number;
  /** kafkajs retries per send (default 40); 0: a record is sent once at most. */
  readonly retries?: number;
  /** Prefix of producer names (and so of values): unique per workload. */
  readonly valuePrefix?: string;
  /** Bytes of padding per record, sent as a header: fills the agent's buffers without changing what the checker compares. */
  readonly padBytes?: number;
}

export interface ClientErrors {
  /** Errors kafkajs retried, by error message prefix (type for protocol errors). */
  readonly retried: Map<string, number>;
  /** Sends that failed for good, by error type; those that were not retriable are listed apart. */
  readonly failedSends: Map<string, number>;
  readonly nonRetriable: string[];
}

export interface ProduceHistory {
  readonly acked: AckedRecord[];
  readonly indeterminate: SentRecord[];
  readonly errors: ClientErrors;
}

export interface Workload {
  acked(): number;
  /** Errors the clients saw so far (retried or failing a send). */
  errorCount(): number;
  /** Resolves once the clients saw at least n errors; rejects after timeoutMs. */
  waitForErrors(n: number, timeoutMs: number): Promise<void>;
  /** Resolves once at least n records are acknowledged in total; rejects after timeoutMs. */
  waitForAcked(n: number, timeoutMs: number): Promise<void>;
  /** Stops sending, waits for the producers to finish their current send, disconnects. */
  stop(): Promise<ProduceHistory>;
  /** Waits until every producer has sent its quota. */
  done(): Promise<ProduceHistory>;
}

interface KafkaError {
  name?: string;
  type?: string;
  message?: string;
  retriable?: boolean;
  cause?: KafkaError;
}

function errorType(e: KafkaError): string {
  const inner = e.cause && e.cause !== e ? e.cause : e;
  return inner.type ?? inner.name ?? "Error";
}

/** Whether kafkajs gave up on a retriable error (it wraps the last one) rather than a non-retriable one. */
function isRetriable(e: KafkaError): boolean {
  if (e.name === "KafkaJSNonRetriableError") return false;
  const inner = e.cause && e.cause !== e ? e.cause : e;
  return inner.retriable !== false;
}

export function summarizeErrors(errors: ClientErrors): string {
  const list = (m: Map<string, number>): string => [...m].map(([k, n]) => `${k} x${n}`).join(", ") || "none";
  return `retried: ${list(errors.retried)}; sends failed: ${list(errors.failedSends)}; non-retriable: ${errors.nonRetriable.length}`;
}

export function startWorkload(options: WorkloadOptions): Workload {
  const acked: AckedRecord[] = [];
  const indeterminate: SentRecord[] = [];
  const errors: ClientErrors = { retried: new Map(), failedSends: new Map(), nonRetriable: [] };
  const bump = (m: Map<string, number>, k: string): void => void m.set(k, (m.get(k) ?? 0) + 1);
  const logCreator = () => (entry: { log: LogEntry["log"]; level: number }) => {
    const message = String(entry.log.message ?? "");
    if (message.startsWith("Failed to send messages") || entry.log.retryCount !== undefined) {
      bump(
        errors.retried,
        message
          .replace(/^Failed to send messages: /, "")
          .replace(/127\.0\.0\.1:\d+/g, "127.0.0.1")
          .slice(0, 60),
      );
    }
  };
  const kafka = new Kafka({
    clientId: options.zone ? `faults,ws_az=${options.zone}` : "faults",
    brokers: options.brokers,
    logLevel: logLevel.WARN,
    logCreator,
    requestTimeout: options.requestTimeoutMs ?? 30_000,
  });
  const retry = { retries: options.retries ?? 40, initialRetryTime: 200, maxRetryTime: 3_000 };
  const headers = options.padBytes ? { pad: Buffer.alloc(options.padBytes, 0x2e) } : undefined;
  let stopping = false;
  const waiters = new Set<{ n: number; resolve: () => void }>();
  const notify = (): void => {
    for (const w of [...waiters])
      if (acked.length >= w.n) {
        waiters.delete(w);
        w.resolve();
      }
  };

  const loop = async (w: number): Promise<void> => {
    let generation = 0;
    let producer: Producer | null = null;
    let name = "";
    let seq = 0;
    let sends = 0;
    for (let sent = 0; sent < options.maxRecordsPerProducer && !stopping;) {
      if (!producer) {
        name = `${options.valuePrefix ?? ""}w${w}g${generation++}`;
        seq = 0;
        producer = kafka.producer({
          idempotent: options.idempotent ?? true,
          maxInFlightRequests: 1,
          allowAutoTopicCreation: false,
          retry,
        });
        try {
          await producer.connect();
        } catch (err) {
          bump(errors.failedSends, `connect: ${errorType(err as KafkaError)}`);
          producer = null;
          await new Promise((r) => setTimeout(r, 500));
          continue;
        }
      }
      // One partition per send: kafkajs retries a send that spans several agents by re-sending every
      // partition whose agent's Broker object it replaced meanwhile (membership changed), including
      // partitions already acknowledged, and with new sequence numbers, so no broker can tell them
      // from new records (docs/reliability.md). A send to one partition has one request to retry.
      const partition = (w + sends++) % options.partitions;
      const records: SentRecord[] = [];
      for (let j = 0; j < options.batch; j++) {
        const s = seq++;
        records.push({ producer: name, seq: s, partition, key: `k${w}-${s % 7}`, value: `${name}-${s}` });
      }
      sent += records.length;
      try {
        const meta = await producer.send({
          topic: options.topic,
          acks: -1,
          ...(options.produceTimeoutMs ? { timeout: options.produceTimeoutMs } : {}),
          messages: records.map((r) => ({
            key: r.key,
            value: r.value,
            partition: r.partition,
            ...(headers ? { headers } : {}),
          })),
        });
        const base = new Map(meta.map((m) => [m.partition, BigInt(m.baseOffset ?? "-1")]));
        const next = new Map<number, bigint>();
        for (const r of records) {
          const b = base.get(r.partition);
          if (b === undefined || b < 0n) {
            indeterminate.push(r);
            continue;
          }
          const i = next.get(r.partition) ?? 0n;
          next.set(r.partition, i + 1n);
          acked.push({ ...r, offset: b + i });
        }
        notify();
      } catch (err) {
        const e = err as KafkaError;
        indeterminate.push(...records);
        bump(errors.failedSends, errorType(e));
        if (!isRetriable(e)) errors.nonRetriable.push(`${errorType(e)}: ${e.message ?? ""}`);
        // A producer whose send failed must not go on: kafkajs would reuse the failed batch's sequence
        // numbers for new records. Start a new producer (a new producer id).
        await producer.disconnect().catch(() => undefined);
        producer = null;
      }
    }
    await producer?.disconnect().catch(() => undefined);
  };
  const loops = Array.from({ length: options.producers }, (_, w) => loop(w));

  const errorCount = (): number =>
    [...errors.retried.values(), ...errors.failedSends.values()].reduce((a, b) => a + b, 0);
  return {
    acked: () => acked.length,
    errorCount,
    waitForErrors: async (n, timeoutMs) => {
      await eventually(
        () => {
          if (errorCount() >= n) return true;
          throw new Error(`clients saw ${errorCount()} of ${n} errors; ${acked.length} records acknowledged`);
        },
        { what: `clients to see ${n} errors`, timeoutMs, intervalMs: 100 },
      );
    },
    waitForAcked: (n, timeoutMs) =>
      new Promise<void>((resolve, reject) => {
        if (acked.length >= n) return resolve();
        const timer = setTimeout(() => {
          waiters.delete(entry);
          reject(
            new Error(
              `only ${acked.length} of ${n} records acknowledged after ${timeoutMs} ms; client errors: ${summarizeErrors(errors)}`,
            ),
          );
        }, timeoutMs);
        const entry = {
          n,
          resolve: () => {
            clearTimeout(timer);
            resolve();
          },
        };
        waiters.add(entry);
        // Producers that finished their quota will not ack more.
        void Promise.all(loops).then(() => {
          if (waiters.delete(entry)) {
            clearTimeout(timer);
            if (acked.length >= n) resolve();
            else reject(new Error(`producers finished with ${acked.length} of ${n} records acknowledged`));
          }
        });
      }),
    stop: async () => {
      stopping = true;
      await Promise.all(loops);
      return { acked, indeterminate, errors };
    },
    done: async () => {
      await Promise.all(loops);
      return { acked, indeterminate, errors };
    },
  };
}

export interface ReadResult {
  readonly records: ConsumedRecord[];
  /** High-watermark polls that found some partition below its highest acknowledged offset. */
  readonly laggingPolls: number;
}

/**
 * Reads every partition of a topic from offset 0 up to its high watermark. Agents answer from their
 * folded state, which may lag the log (an agent just back from a partition): with `atLeast` (per
 * partition, e.g. the highest acknowledged offset + 1) the high watermarks are asked again until they
 * cover it, within the time bound; whatever is still missing then is reported by the checker.
 */
export async function readAll(
  brokers: string[],
  topic: string,
  timeoutMs: number,
  atLeast: ReadonlyMap<number, bigint> = new Map(),
): Promise<ReadResult> {
  const kafka = new Kafka({
    clientId: "faults-reader",
    brokers,
    logLevel: logLevel.NOTHING,
    retry: { retries: 20, maxRetryTime: 3_000 },
  });
  const admin = kafka.admin();
  await admin.connect();
  let ends: Array<{ partition: number; high: string }> = [];
  let laggingPolls = 0;
  try {
    const deadline = Date.now() + timeoutMs / 2;
    for (let attempt = 0; attempt < 600; attempt++) {
      ends = await admin.fetchTopicOffsets(topic);
      const covered = [...atLeast].every(
        ([p, want]) => BigInt(ends.find((e) => e.partition === p)?.high ?? "0") >= want,
      );
      if (covered || Date.now() > deadline) break;
      laggingPolls++;
      await new Promise((r) => setTimeout(r, 200));
    }
  } finally {
    await admin.disconnect();
  }
  const high = new Map(ends.map((e) => [e.partition, BigInt(e.high)]));
  const want = [...high.values()].reduce((n, h) => n + h, 0n);
  const out: ConsumedRecord[] = [];
  const done = new Set<number>([...high].filter(([, h]) => h === 0n).map(([p]) => p));
  if (done.size === high.size) return { records: out, laggingPolls };
  const consumer = kafka.consumer({
    groupId: `faults-reader-${Date.now()}-${Math.random().toString(36).slice(2)}`,
    maxWaitTimeInMs: 500,
  });
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`read ${out.length} of ${want} records of ${topic} in ${timeoutMs} ms`)),
        timeoutMs,
      );
      void consumer
        .run({
          eachMessage: async ({ partition, message }) => {
            out.push({
              partition,
              offset: BigInt(message.offset),
              key: message.key?.toString() ?? "",
              value: message.value?.toString() ?? "",
            });
            if (BigInt(message.offset) + 1n >= (high.get(partition) ?? 0n)) done.add(partition);
            if (done.size === high.size) {
              clearTimeout(timer);
              resolve();
            }
          },
        })
        .catch((err: unknown) => {
          clearTimeout(timer);
          reject(err instanceof Error ? err : new Error(String(err)));
        });
    });
  } finally {
    await consumer.disconnect().catch(() => undefined);
  }
  return { records: out, laggingPolls };
}

/** One history of several workloads. */
export function mergeHistories(histories: readonly ProduceHistory[]): ProduceHistory {
  const retried = new Map<string, number>();
  const failedSends = new Map<string, number>();
  for (const h of histories) {
    for (const [k, n] of h.errors.retried) retried.set(k, (retried.get(k) ?? 0) + n);
    for (const [k, n] of h.errors.failedSends) failedSends.set(k, (failedSends.get(k) ?? 0) + n);
  }
  return {
    acked: histories.flatMap((h) => h.acked),
    indeterminate: histories.flatMap((h) => h.indeterminate),
    errors: { retried, failedSends, nonRetriable: histories.flatMap((h) => h.errors.nonRetriable) },
  };
}
