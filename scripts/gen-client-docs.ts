/**
 * Writes the README's "Configure your clients" tables (between the clients:start and clients:end marker
 * comments) from the committed benchmark results, bench/results/latest.json, so the figures cannot be
 * typed by hand or drift from the run. `npm run bench` does the same after a full run.
 *
 *   npx tsx scripts/gen-client-docs.ts          rewrite README.md
 *   npx tsx scripts/gen-client-docs.ts --check  exit 1 if README.md is out of date
 */
import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { renderClientTables, replaceClientSection } from "../bench/lib/client-table.js";
import type { BenchReport } from "../bench/lib/report.js";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
export const README = path.join(ROOT, "README.md");
export const LATEST = path.join(ROOT, "bench", "results", "latest.json");

/** The README with its client tables rendered from `report` (default: bench/results/latest.json). */
export function renderReadmeClients(
  current: string,
  report: BenchReport = JSON.parse(readFileSync(LATEST, "utf8")) as BenchReport,
): string {
  return replaceClientSection(current, renderClientTables(report));
}

const invoked = process.argv[1] !== undefined && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url);
if (invoked) {
  const current = readFileSync(README, "utf8");
  const next = renderReadmeClients(current);
  if (process.argv.includes("--check")) {
    if (next !== current) {
      process.stderr.write("README.md client tables are out of date: run npx tsx scripts/gen-client-docs.ts\n");
      process.exit(1);
    }
  } else if (next !== current) {
    writeFileSync(README, next);
    process.stdout.write("README.md client tables updated\n");
  }
}
