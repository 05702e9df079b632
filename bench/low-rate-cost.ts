/**
 * What 0.1 MB/s costs, measured, with and without the sequencer (issue 13; figures in docs/benchmarks.md,
 * "Cost at 0.1 MB/s"): 3 agents on DynamoDB Local, 25 KB/s stored (0.1 MB/s at 1:4).
 *
 *   npx tsx bench/low-rate-cost.ts
 *
 * WARP_BENCH_LOWRATE_AGENTS (3), WARP_BENCH_LOWRATE_SECONDS (60) per measured window.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { lowRateOptionsFromEnv, lowRateReport, runLowRateCost } from "./lib/low-rate-cost.js";

const log = (line: string) => console.log(`[${new Date().toISOString()}] ${line}`);
const result = await runLowRateCost(lowRateOptionsFromEnv(), log);
const dir = path.join(import.meta.dirname, "results", "low-rate");
mkdirSync(dir, { recursive: true });
writeFileSync(path.join(dir, "latest.json"), `${JSON.stringify(result, null, 2)}\n`);
writeFileSync(path.join(dir, "latest.md"), `${lowRateReport(result)}\n`);
console.log(lowRateReport(result));
// As bench/idle-cost.ts: a kafkajs retry timer left behind once the agents are gone must not keep this alive.
process.exit(0);
