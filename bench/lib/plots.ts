/**
 * The benchmark's plots, written to docs/: produce and end-to-end latency percentiles against batch
 * timeout (agents, with Kafka as a flat reference), and throughput of every target against Kafka.
 */
import { writeFileSync } from "node:fs";
import path from "node:path";
import type { BenchReport } from "./report.js";
import type { ScenarioResult } from "./scenario.js";
import { barChartSvg, lineChartSvg, svgToPng, type Series } from "./svg-chart.js";

const COLORS = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e"];
const DASH: Record<string, string | undefined> = { p50: undefined, p99: "8 5", "p99.9": "2 4" };

function groupsOf(results: readonly ScenarioResult[]): { name: string; byTimeout: Map<number, ScenarioResult> }[] {
  const groups = new Map<string, Map<number, ScenarioResult>>();
  for (const r of results) {
    if (r.batchTimeoutMs === null) continue;
    // One line per set-up: store, agents and any flags (the label without its batch timeout).
    const name = r.label.replace(/, batchTimeout \d+ms/, "");
    const g = groups.get(name) ?? new Map<number, ScenarioResult>();
    g.set(r.batchTimeoutMs, r);
    groups.set(name, g);
  }
  return [...groups.entries()].map(([name, byTimeout]) => ({ name, byTimeout }));
}

function latencySeries(
  report: BenchReport,
  pick: (r: ScenarioResult) => { p50Ms: number; p99Ms: number; p999Ms: number },
  timeouts: number[],
): Series[] {
  const series: Series[] = [];
  const groups = groupsOf(report.results);
  groups.forEach((g, gi) => {
    for (const [p, key] of [
      ["p50", "p50Ms"],
      ["p99", "p99Ms"],
      ["p99.9", "p999Ms"],
    ] as const) {
      series.push({
        name: `${g.name} ${p}`,
        color: COLORS[gi % COLORS.length]!,
        dash: DASH[p],
        values: timeouts.map((t) => {
          const r = g.byTimeout.get(t);
          return r ? pick(r)[key] : NaN;
        }),
      });
    }
  });
  const kafka = report.results.find((r) => r.store === "kafka");
  if (kafka) {
    for (const [p, key] of [
      ["p50", "p50Ms"],
      ["p99", "p99Ms"],
    ] as const) {
      series.push({
        name: `Kafka ${p}`,
        color: "#555555",
        dash: DASH[p],
        values: timeouts.map(() => pick(kafka)[key]),
      });
    }
  }
  return series;
}

/** Writes the PNGs; returns their paths. */
export async function renderPlots(report: BenchReport, docsDir: string): Promise<string[]> {
  const timeouts = [
    ...new Set(report.results.map((r) => r.batchTimeoutMs).filter((t): t is number => t !== null)),
  ].sort((a, b) => a - b);
  const written: string[] = [];
  const rate = `${report.workload.latencyRate} rec/s × ${report.workload.recordSize} B`;
  if (timeouts.length > 0) {
    const produce = lineChartSvg({
      title: `Produce latency vs batchTimeout (acks=all, ${rate})`,
      xLabel: "agent -batchTimeout",
      yLabel: "produce latency, ms (log scale)",
      xTicks: timeouts.map((t) => `${t} ms`),
      series: latencySeries(report, (r) => r.latency, timeouts),
      logY: true,
    });
    const e2e = lineChartSvg({
      title: `End-to-end latency vs batchTimeout (kcat consumer, ${rate})`,
      xLabel: "agent -batchTimeout",
      yLabel: "end-to-end latency, ms (log scale)",
      xTicks: timeouts.map((t) => `${t} ms`),
      series: latencySeries(report, (r) => r.e2e, timeouts),
      logY: true,
    });
    for (const [name, svg] of [
      ["bench-produce-latency.png", produce],
      ["bench-e2e-latency.png", e2e],
    ] as const) {
      const f = path.join(docsDir, name);
      writeFileSync(f, await svgToPng(svg));
      written.push(f);
    }
  }
  const short = (r: ScenarioResult): string =>
    r.store === "kafka" ? "Kafka 4.1.1" : `${r.store} ${r.agents}a ${r.batchTimeoutMs}ms`;
  const tput = barChartSvg({
    title: "Throughput: agent vs Apache Kafka (kafka-*-perf-test, 1 KiB records)",
    yLabel: "MB/s",
    groups: report.results.map(short),
    series: [
      { name: "produce MB/s (max rate)", color: COLORS[0]!, values: report.results.map((r) => r.produce.mbPerSec) },
      { name: "consume MB/s", color: COLORS[2]!, values: report.results.map((r) => r.consume.mbPerSec) },
    ],
  });
  const f = path.join(docsDir, "bench-throughput.png");
  writeFileSync(f, await svgToPng(tput));
  written.push(f);
  return written;
}
