/**
 * What an idle cluster costs (issue 13; figures in docs/benchmarks.md, "Idle cluster"): 3 agents on
 * DynamoDB Local with nothing produced, first with no client, then with a consumer waiting at the tail on
 * every agent; the metadata log's tail polled every 50 ms (before) and backing off to 1 s (now).
 *
 *   npx tsx bench/idle-cost.ts
 *
 * WARP_BENCH_IDLE_AGENTS (3), WARP_BENCH_IDLE_SECONDS (60) per measured window.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { idleCostReport, runIdleCost } from "./lib/idle-cost.js";

const log = (line: string) => console.log(`[${new Date().toISOString()}] ${line}`);
const result = await runIdleCost(log);
const dir = path.join(import.meta.dirname, "results", "idle");
mkdirSync(dir, { recursive: true });
writeFileSync(path.join(dir, "latest.json"), `${JSON.stringify(result, null, 2)}\n`);
writeFileSync(path.join(dir, "latest.md"), `${idleCostReport(result)}\n`);
console.log(idleCostReport(result));
// kafkajs can leave a retry timer behind once the agents are gone (its TimeoutNegativeWarning), which kept
// this process alive after the report in two runs of 60 s windows: the results are written, so end here.
process.exit(0);
