/**
 * Sub-benchmark: CPU profile of one agent under Kafka's perf tools (`npx tsx bench/profile.ts`).
 * Writes bench/results/profile/*.cpuprofile (open it in Chrome DevTools) and prints the summary.
 */
import path from "node:path";
import { REPO_ROOT } from "../agent/test/support/agents.js";
import { profileAgent } from "./lib/profile.js";

const summary = await profileAgent(
  {
    recordSize: 1024,
    partitions: 6,
    throughputRecords: { file: 100_000, kafka: 100_000, dynamodb: 30_000 },
    latencyRate: 1000,
    latencySeconds: 10,
  },
  path.join(REPO_ROOT, "bench", "results", "profile"),
);
console.log(JSON.stringify(summary, null, 2));
