/**
 * Sub-benchmark: produce latency against a file-store agent (batchTimeout 250ms) with different
 * in-flight limits of the Java producer (see bench/lib/inflight.ts). `npx tsx bench/inflight.ts`
 */
import { runInflight } from "./lib/inflight.js";

for (const r of await runInflight())
  console.log(`${r.settings}: p50 ${r.p50Ms} ms, p99 ${r.p99Ms} ms, p99.9 ${r.p999Ms} ms`);
