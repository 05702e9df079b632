/**
 * Sub-benchmark: CPU profile of one agent under Kafka's perf tools (`npx tsx bench/profile.ts`).
 * Writes bench/results/profile/*.cpuprofile (open it in Chrome DevTools) and prints the summary.
 * `npx tsx bench/profile.ts untuned` profiles the `npm start` agent under the untuned producer instead
 * (bench/results/profile-untuned/; WARP_BENCH_UNTUNED_RECORDS records, default 200000).
 */
import path from "node:path";
import { REPO_ROOT } from "../agent/test/support/agents.js";
import { profileAgent, profileUntunedProducer } from "./lib/profile.js";

if (process.argv[2] === "untuned") {
  const records = Number(process.env.WARP_BENCH_UNTUNED_RECORDS ?? "200000");
  console.log(
    JSON.stringify(
      await profileUntunedProducer(records, path.join(REPO_ROOT, "bench", "results", "profile-untuned")),
      null,
      2,
    ),
  );
  process.exit(0);
}
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
