/**
 * What a process allocated, by function: a sampling heap profile written by bench/alloc-probe.mjs (which
 * keeps the samples of objects collected since), ranked by the bytes allocated in each function itself
 * and under it. Run the `scale` scenario with the probe, then this on the process of interest:
 *
 *   NODE_OPTIONS="--import ./bench/alloc-probe.mjs" WARP_ALLOC_DIR=DIR WARP_BENCH_SCALE_ONLY=cluster npx tsx bench/scale.ts
 *   npx tsx bench/profile-allocations.ts DIR/alloc-<pid>.heapprofile [--top 25]
 */
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { allocationsBy, type HeapProfile } from "./lib/profile.js";

const { values, positionals } = parseArgs({
  options: { top: { type: "string", default: "25" } },
  allowPositionals: true,
});
const [file] = positionals;
if (!file) {
  console.error("usage: npx tsx bench/profile-allocations.ts FILE.heapprofile [--top N]");
  process.exit(2);
}
const profile = JSON.parse(readFileSync(file, "utf8")) as HeapProfile & { argv?: string[] };
const report = allocationsBy(profile, Number(values.top));
const mib = (b: number): string => (b / 2 ** 20).toFixed(1).padStart(8);
console.log(`# ${(profile.argv ?? []).join(" ")}`);
console.log(`${mib(report.totalBytes)} MiB sampled in all`);
console.log("\nallocated in the function itself:");
for (const e of report.self) console.log(`${mib(e.bytes)} MiB  ${e.name}${e.where ? `  ${e.where}` : ""}`);
console.log("\nallocated in the function or below it:");
for (const e of report.inclusive) console.log(`${mib(e.bytes)} MiB  ${e.name}${e.where ? `  ${e.where}` : ""}`);
