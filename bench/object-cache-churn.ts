/**
 * The fetch cache under a compaction pass's offers (docs/benchmarks.md, "Metadata log at scale"): a
 * cache whose read-ahead bound is already full takes `WARP_BENCH_OFFERS` (44,000: one compaction pass at
 * 100,000 partitions) runs of about 1 KiB, each pushing out the oldest unread one, then as many ordinary
 * puts, each pushing out the least recently used entry. Prints the time per 10,000 calls and the slowest
 * 1,000 calls in a row, the work one slice of the compactor's `offerRuns` does between two clock reads.
 *
 *   npx tsx bench/object-cache-churn.ts
 */
import { performance } from "node:perf_hooks";
import { ObjectCache } from "../agent/src/fetch/object-cache.js";

const OFFERS = Number(process.env.WARP_BENCH_OFFERS ?? 44_000);
const RUN_BYTES = 1_024;
const STEP = 1_000;

const MiB = 1024 * 1024;

function churn(
  what: string,
  fill: (cache: ObjectCache, i: number) => void,
  fillCount: number,
  call: (cache: ObjectCache, i: number) => void,
): void {
  // The agent's default: a 256 MiB cache, a quarter of it for read-ahead.
  const cache = new ObjectCache(256 * MiB);
  for (let i = 0; i < fillCount; i++) fill(cache, i);
  let slowest = 0;
  const started = performance.now();
  for (let i = 0; i < OFFERS; i += STEP) {
    const t0 = performance.now();
    for (let j = i; j < Math.min(OFFERS, i + STEP); j++) call(cache, j);
    slowest = Math.max(slowest, performance.now() - t0);
  }
  const total = performance.now() - started;
  console.log(
    `${what}: ${OFFERS.toLocaleString("en-US")} calls in ${total.toFixed(1)} ms (${((total / OFFERS) * 10_000).toFixed(1)} ms per 10,000), slowest ${STEP.toLocaleString("en-US")} in a row ${slowest.toFixed(1)} ms; cache ${cache.size} bytes, read-ahead ${cache.readAheadSize}`,
  );
}

const run = Buffer.alloc(RUN_BYTES, 9);
// The read-ahead bound (64 MiB) full of unread runs, as a long run of compaction passes leaves it.
churn(
  "offer (read-ahead full: each pushes out the oldest unread run)",
  (cache, i) => cache.offer(`warm-${i}`, run),
  (64 * MiB) / RUN_BYTES,
  (cache, i) => cache.offer(`run-${i}`, run),
);
// The whole cache (256 MiB) full of runs that were asked for.
churn(
  "put (cache full: each pushes out the least recently used entry)",
  (cache, i) => cache.put(`warm-${i}`, run),
  (256 * MiB) / RUN_BYTES,
  (cache, i) => cache.put(`put-${i}`, run),
);
