/**
 * Sub-command: redraw docs/bench-*.png from bench/results/latest.json without running the benchmark
 * (`npx tsx bench/plots.ts`).
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { REPO_ROOT } from "../agent/test/support/agents.js";
import { renderPlots } from "./lib/plots.js";
import type { BenchReport } from "./lib/report.js";

const report = JSON.parse(readFileSync(path.join(REPO_ROOT, "bench", "results", "latest.json"), "utf8")) as BenchReport;
for (const f of await renderPlots(report, path.join(REPO_ROOT, "docs")))
  console.log(`wrote ${path.relative(REPO_ROOT, f)}`);
