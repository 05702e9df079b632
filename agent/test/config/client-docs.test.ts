/**
 * The README's "Configure your clients" tables are rendered from the committed benchmark results
 * (scripts/gen-client-docs.ts, bench/lib/client-table.ts); this fails when the results and the README
 * disagree, as when figures are typed by hand or a run is committed without regenerating the README.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { renderClientTables } from "../../../bench/lib/client-table.js";
import type { BenchReport } from "../../../bench/lib/report.js";
import { LATEST, README, renderReadmeClients } from "../../../scripts/gen-client-docs.js";

describe("README client tables", () => {
  it("are the ones bench/results/latest.json gives (run npx tsx scripts/gen-client-docs.ts to fix)", () => {
    const current = readFileSync(README, "utf8");
    assert.equal(renderReadmeClients(current), current);
  });

  it("quote the run's own figures", () => {
    const report = JSON.parse(readFileSync(LATEST, "utf8")) as BenchReport;
    const text = renderClientTables(report);
    assert.ok(text.includes(report.date.slice(0, 10)), "the run's date");
    const kafka = report.results.find((r) => r.store === "kafka");
    if (kafka) assert.ok(text.includes(`| Apache Kafka | ${kafka.latency.p50Ms.toLocaleString("en-US")} |`));
  });
});
