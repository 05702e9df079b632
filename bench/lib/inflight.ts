/**
 * Client settings against batching: the same rate-limited kafka-producer-perf-test against a file-store
 * agent (batchTimeout 250ms, -sealMode window) with the idempotent producer's limit of 5 in-flight requests per connection
 * (linger.ms 5, then 50), and with idempotence off and 100 in flight. Shows why produce latency is about
 * 1.5 × batchTimeout with the Java client's defaults.
 */
import { runKafkaTool } from "../../e2e/support/kafka-tools.js";
import { parseProducerPerf } from "./perf-tools.js";
import { createTopic, startFileTarget } from "./targets.js";

export interface InflightResult {
  readonly settings: string;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly p999Ms: number;
}

export const INFLIGHT_VARIANTS: readonly (readonly [string, readonly string[]])[] = [
  ["idempotent (default), max.in.flight 5, linger.ms 5", ["max.in.flight.requests.per.connection=5", "linger.ms=5"]],
  ["idempotent (default), max.in.flight 5, linger.ms 50", ["max.in.flight.requests.per.connection=5", "linger.ms=50"]],
  [
    "enable.idempotence=false, max.in.flight 100, linger.ms 5",
    ["enable.idempotence=false", "max.in.flight.requests.per.connection=100", "linger.ms=5"],
  ],
];

export async function runInflight(batchTimeoutMs = 250, rate = 1000, seconds = 10): Promise<InflightResult[]> {
  // The window is what the study is about: eager sealing (the file store's default) would not wait for it.
  const target = await startFileTarget(batchTimeoutMs, ["-sealMode", "window"]);
  const out: InflightResult[] = [];
  try {
    await createTopic(target.bootstrap, "inflight", 6);
    for (const [settings, props] of INFLIGHT_VARIANTS) {
      const r = await runKafkaTool(
        "producer-perf-test",
        [
          "--topic",
          "inflight",
          "--num-records",
          String(rate * seconds),
          "--record-size",
          "1024",
          "--throughput",
          String(rate),
          "--producer-props",
          `bootstrap.servers=${target.bootstrap}`,
          "acks=all",
          "batch.size=262144",
          ...props,
        ],
        { timeoutMs: 120_000 },
      );
      if (r.code !== 0) throw new Error(`kafka-producer-perf-test failed (${r.code}):\n${r.stderr.slice(-2000)}`);
      const p = parseProducerPerf(r.stdout);
      out.push({ settings, p50Ms: p.p50Ms, p99Ms: p.p99Ms, p999Ms: p.p999Ms });
    }
  } finally {
    await target.stop();
  }
  return out;
}
