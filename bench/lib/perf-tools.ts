/**
 * Apache Kafka's own load generators, run against any bootstrap address: kafka-producer-perf-test
 * (throughput and per-record produce latency) and kafka-consumer-perf-test (consume throughput).
 */
import { runKafkaTool } from "../../e2e/support/kafka-tools.js";

export interface ProduceResult {
  readonly records: number;
  readonly recordsPerSec: number;
  readonly mbPerSec: number;
  readonly avgMs: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly p999Ms: number;
}

export interface ConsumeResult {
  readonly records: number;
  readonly mb: number;
  /** fetch.MB.sec: MB/s while fetching (group join time excluded). */
  readonly mbPerSec: number;
  readonly recordsPerSec: number;
}

/** The producer settings every target gets (same client, same workload). */
export const PRODUCER_PROPS = [
  "acks=all",
  "linger.ms=5",
  "batch.size=262144",
  "max.in.flight.requests.per.connection=5",
];

/** Parses the summary line of kafka-producer-perf-test. */
export function parseProducerPerf(out: string): ProduceResult {
  // "200000 records sent, 41152.26 records/sec (40.19 MB/sec), 512.37 ms avg latency, 1062.00 ms max latency,
  //  498 ms 50th, 901 ms 95th, 1003 ms 99th, 1055 ms 99.9th."
  const line = out
    .split("\n")
    .reverse()
    .find((l) => /records sent/.test(l) && /99\.9th/.test(l));
  if (!line) throw new Error(`kafka-producer-perf-test printed no summary:\n${out.slice(-2000)}`);
  const num = (re: RegExp): number => Number(re.exec(line)?.[1] ?? NaN);
  return {
    records: num(/^(\d+) records sent/),
    recordsPerSec: num(/([\d.]+) records\/sec/),
    mbPerSec: num(/\(([\d.]+) MB\/sec\)/),
    avgMs: num(/([\d.]+) ms avg latency/),
    p50Ms: num(/(\d+) ms 50th/),
    p99Ms: num(/(\d+) ms 99th/),
    p999Ms: num(/(\d+) ms 99\.9th/),
  };
}

/** Parses kafka-consumer-perf-test's CSV-like output (header line, then one values line). */
export function parseConsumerPerf(out: string): ConsumeResult {
  const lines = out
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l !== "");
  const h = lines.findIndex((l) => l.startsWith("start.time"));
  if (h < 0 || !lines[h + 1]) throw new Error(`kafka-consumer-perf-test printed no result:\n${out.slice(-2000)}`);
  const keys = lines[h]!.split(",").map((s) => s.trim());
  const values = lines[h + 1]!.split(",").map((s) => s.trim());
  const get = (k: string): number => Number(values[keys.indexOf(k)]);
  return {
    records: get("data.consumed.in.nMsg"),
    mb: get("data.consumed.in.MB"),
    mbPerSec: get("fetch.MB.sec"),
    recordsPerSec: get("fetch.nMsg.sec"),
  };
}

/**
 * Produces `records` records of `recordSize` bytes at `rate` records/s (-1 = as fast as possible), with
 * `props` as producer properties (default: the tuned PRODUCER_PROPS every target gets).
 */
export async function producePerf(
  bootstrap: string,
  topic: string,
  records: number,
  recordSize: number,
  rate: number,
  props: readonly string[] = PRODUCER_PROPS,
): Promise<ProduceResult> {
  const r = await runKafkaTool(
    "producer-perf-test",
    [
      "--topic",
      topic,
      "--num-records",
      String(records),
      "--record-size",
      String(recordSize),
      "--throughput",
      String(rate),
      "--producer-props",
      `bootstrap.servers=${bootstrap}`,
      ...props,
    ],
    { timeoutMs: 300_000 },
  );
  if (r.code !== 0) throw new Error(`kafka-producer-perf-test failed (${r.code}):\n${r.stderr.slice(-2000)}`);
  return parseProducerPerf(r.stdout);
}

/** Consumes `records` records from the beginning of `topic` with a new group. */
export async function consumePerf(bootstrap: string, topic: string, records: number): Promise<ConsumeResult> {
  const r = await runKafkaTool(
    "consumer-perf-test",
    [
      "--bootstrap-server",
      bootstrap,
      "--topic",
      topic,
      "--messages",
      String(records),
      "--timeout",
      "30000",
      "--group",
      `bench-${Date.now()}`,
    ],
    { timeoutMs: 300_000 },
  );
  if (r.code !== 0) throw new Error(`kafka-consumer-perf-test failed (${r.code}):\n${r.stderr.slice(-2000)}`);
  return parseConsumerPerf(r.stdout);
}
