/**
 * The metadata log at scale (issue 13's `scale` scenario; figures in docs/benchmarks.md, "Metadata log at
 * scale"): the state of 100,000 partitions in this process, with its JSON (before) and binary (now)
 * snapshots; what retained compacted runs cost; then real agents on DynamoDB Local: log units per MB, many
 * partitions, cold start.
 *
 *   npx tsx bench/scale.ts
 *
 * WARP_BENCH_SCALE_TOPICS (1000) × WARP_BENCH_SCALE_PARTITIONS (100) partitions; WARP_BENCH_SCALE_AGENTS (3);
 * WARP_BENCH_SCALE_SECONDS (60) of produce to all of them; WARP_BENCH_SCALE_SNAPSHOT_ENTRIES (200);
 * WARP_BENCH_SCALE_UNITS_SECONDS (15) per log-units run; WARP_BENCH_SCALE_CALLS_PER_SECOND (4) produce calls of
 * 2,000 partitions per agent a second in the many-partitions run (0: back to back); WARP_BENCH_SCALE_ONLY: a
 * comma-separated subset of state, runs (the heap and snapshot bytes of retained compacted runs) and cluster;
 * WARP_BENCH_SCALE_NICE (0): the niceness of DynamoDB Local, the S3 server and the producing clients, which
 * stand in for other machines, beside the agents at 0.
 */
import { writeFileSync, mkdirSync } from "node:fs";
import path from "node:path";
import { runScale, scaleOptionsFromEnv, scaleReport } from "./lib/scale.js";

const options = scaleOptionsFromEnv();
const log = (line: string) => console.log(`[${new Date().toISOString()}] ${line}`);
const result = await runScale(options, log);
const dir = path.join(import.meta.dirname, "results", "scale");
mkdirSync(dir, { recursive: true });
writeFileSync(path.join(dir, "latest.json"), `${JSON.stringify(result, null, 2)}\n`);
writeFileSync(path.join(dir, "latest.md"), `${scaleReport(result)}\n`);
console.log(scaleReport(result));
