/** The benchmark report: JSON shape and the markdown tables (figures, agent/Kafka ratios, measured cost). */
import type { StoreCallRow } from "./store-calls.js";
import { costTable, DEFAULT_WARP_DESIGN, DEFAULT_WORKLOAD } from "../../cli/cost-model/model.js";
import { DEFAULT_PRICES } from "../../cli/cost-model/prices.js";
import type { InflightResult } from "./inflight.js";
import { logEntrySizeTable, type LogEntrySizeRow } from "./log-entry-size.js";
import type { ProfileSummary } from "./profile.js";
import { scaleReport, type ScaleResult } from "./scale.js";
import { idleCostReport, type IdleCostResult } from "./idle-cost.js";
import { lowRateReport, type LowRateResult } from "./low-rate-cost.js";
import type { ScenarioResult, Workload } from "./scenario.js";
import { SEQUENTIAL_WARMUP_SENDS } from "./sequential.js";
import {
  SEQUENTIAL_RECORD_SIZE,
  untunedCommand,
  type SmallRequestsResult,
  type SmallRequestsWorkload,
} from "./small-requests.js";
import { ratio } from "./stats.js";

export interface BenchReport {
  readonly date: string;
  readonly machine: {
    readonly cpus: number;
    readonly node: string;
    /** 1-minute load average at the start and the end of the run (absent in older reports). */
    readonly loadAverage?: { readonly start: number; readonly end: number };
  };
  readonly workload: Workload;
  /** The DynamoDB targets' S3 server (absent in older reports: moto). */
  readonly s3Server?: string;
  readonly wallSeconds: number;
  readonly results: readonly ScenarioResult[];
  readonly inflight?: readonly InflightResult[];
  readonly profile?: ProfileSummary;
  readonly logEntrySizes?: readonly LogEntrySizeRow[];
  /** The `scale` scenario (scale.ts). */
  readonly scale?: ScaleResult;
  /** The `idle` scenario (idle-cost.ts). */
  readonly idle?: IdleCostResult;
  /** The `lowrate` scenario (low-rate-cost.ts). */
  readonly lowRate?: LowRateResult;
  readonly smallRequests?: {
    readonly workload: SmallRequestsWorkload & { readonly baselineRecords: number };
    readonly results: readonly SmallRequestsResult[];
  };
}

interface Figure {
  readonly name: string;
  readonly get: (r: ScenarioResult) => number;
  readonly digits: number;
}

export const FIGURES: readonly Figure[] = [
  { name: "produce MB/s", get: (r) => r.produce.mbPerSec, digits: 1 },
  { name: "produce rec/s", get: (r) => r.produce.recordsPerSec, digits: 0 },
  { name: "produce p50 ms", get: (r) => r.latency.p50Ms, digits: 0 },
  { name: "produce p99 ms", get: (r) => r.latency.p99Ms, digits: 0 },
  { name: "produce p99.9 ms", get: (r) => r.latency.p999Ms, digits: 0 },
  { name: "e2e p50 ms", get: (r) => r.e2e.p50Ms, digits: 0 },
  { name: "e2e p99 ms", get: (r) => r.e2e.p99Ms, digits: 0 },
  { name: "e2e p99.9 ms", get: (r) => r.e2e.p999Ms, digits: 0 },
  { name: "consume MB/s", get: (r) => r.consume.mbPerSec, digits: 1 },
  { name: "CPU s/GB", get: (r) => r.cpuSecondsPerGb, digits: 1 },
  { name: "produce CPU s/GB", get: (r) => r.produceCpuSecondsPerGb, digits: 1 },
  { name: "peak RSS MB", get: (r) => r.peakRssMb, digits: 0 },
];

function num(n: number, digits: number): string {
  if (!Number.isFinite(n)) return "–";
  return n.toLocaleString("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  return [
    `| ${header.join(" | ")} |`,
    `|${header.map(() => "---").join("|")}|`,
    ...rows.map((r) => `| ${r.join(" | ")} |`),
  ].join("\n");
}

/** agent/Kafka per figure, for every agent scenario (null when there is no Kafka run). */
export function ratios(results: readonly ScenarioResult[]): { label: string; ratios: Record<string, number | null> }[] {
  const kafka = results.find((r) => r.store === "kafka");
  if (!kafka) return [];
  return results
    .filter((r) => r.store !== "kafka")
    .map((r) => ({
      label: r.label,
      ratios: Object.fromEntries(FIGURES.map((f) => [f.name, ratio(f.get(r), f.get(kafka))])),
    }));
}

/** Monthly on-demand cost at 1 MB/s (1:4, 3 agents) with this run's measured units. */
function measuredMonthly(r: ScenarioResult): number | null {
  if (!r.measured || r.batchTimeoutMs === null) return null;
  const rows = costTable({
    throughputs: [1_000_000],
    workload: { ...DEFAULT_WORKLOAD, batchTimeoutMs: r.batchTimeoutMs },
    design: DEFAULT_WARP_DESIGN,
    prices: DEFAULT_PRICES,
    measured: r.measured,
  });
  return rows.find((x) => x.store === "warp-dynamodb-on-demand" && x.design === "warp-measured")?.monthlyUsd ?? null;
}

function loadText(load: BenchReport["machine"]["loadAverage"]): string {
  return load ? `; load average ${load.start.toFixed(1)} at the start, ${load.end.toFixed(1)} at the end` : "";
}

export function markdownReport(report: BenchReport): string {
  const w = report.workload;
  const out: string[] = [
    `Run ${report.date} on ${report.machine.cpus} CPUs, Node ${report.machine.node}; wall time ${report.wallSeconds} s${loadText(report.machine.loadAverage)}.`,
  ];
  if (report.results.length > 0) {
    out.push(
      `Workload: ${w.recordSize}-byte records, ${w.partitions} partitions, acks=all, linger.ms=5; max-rate runs of ${w.throughputRecords.file} records (file, Kafka) / ${w.throughputRecords.dynamodb} (DynamoDB); latency runs at ${w.latencyRate} records/s for ${w.latencySeconds} s; the consume starts once compaction has caught up; DynamoDB targets' S3 server: ${report.s3Server ?? "moto"}.`,
      "",
      table(
        ["target", ...FIGURES.map((f) => f.name)],
        report.results.map((r) => [r.label, ...FIGURES.map((f) => num(f.get(r), f.digits))]),
      ),
    );
  }
  const rs = ratios(report.results);
  if (rs.length > 0) {
    out.push(
      "",
      "Ratio agent / Kafka for each figure (throughput: higher is better; latency, CPU and memory: lower is better):",
      "",
    );
    out.push(
      table(
        ["target", ...FIGURES.map((f) => f.name)],
        rs.map((r) => [
          r.label,
          ...FIGURES.map((f) => (r.ratios[f.name] === null ? "–" : `${r.ratios[f.name]!.toFixed(2)}×`)),
        ]),
      ),
    );
  }
  const measured = report.results.filter((r) => r.measured);
  if (measured.length > 0) {
    out.push(
      "",
      "Measured on DynamoDB Local + the S3 server above, per MB produced over the whole scenario (produce, consume, compaction), from the agents' /metrics; the last column is `warp cost --measured` for 1 MB/s, 1:4, on-demand:",
      "",
    );
    out.push(
      table(
        ["target", "WRU/MB", "RRU/MB", "S3 PUT/MB", "S3 GET/MB", "$/month at 1 MB/s"],
        measured.map((r) => {
          const m = r.measured!;
          const usd = measuredMonthly(r);
          return [
            r.label,
            num(m.wruPerMB, 0),
            num(m.rruPerMB, 0),
            num(m.s3PutPerMB, 3),
            num(m.s3GetPerMB, 3),
            usd === null ? "–" : `$${num(usd, 2)}`,
          ];
        }),
      ),
    );
  }
  const consumeCalls = report.results.filter((r) => r.consumeStoreCalls && r.consumeStoreCalls.length > 0);
  if (consumeCalls.length > 0) {
    out.push(
      "",
      "Store calls and fetches during the consume run (it starts once compaction has caught up), from the agents' /metrics before and after it (summed over agents):",
      "",
      storeCallTable(consumeCalls.map((r) => [r.label, r.consumeStoreCalls!])),
    );
  }
  const storeCalls = report.results.filter((r) => r.latencyStoreCalls && r.latencyStoreCalls.length > 0);
  if (storeCalls.length > 0) {
    out.push(
      "",
      "Store calls during the latency run, from the agents' /metrics before and after it (summed over agents; `file write to commit` is a whole ingestion file, from its first store write to its log entry folded):",
      "",
      storeCallTable(storeCalls.map((r) => [r.label, r.latencyStoreCalls!])),
    );
    const runtimes = storeCalls.filter((r) => r.latencyRuntime);
    if (runtimes.length > 0) {
      out.push(
        "",
        "The agents' runtime during the latency run (event-loop delay: the worst agent; GC: all agents):",
        "",
      );
      out.push(
        table(
          ["target", "event-loop delay max ms", "event-loop delay p99 ms", "GC pauses", "GC ms"],
          runtimes.map((r) => {
            const t = r.latencyRuntime!;
            return [
              r.label,
              num(t.eventLoopLagMaxMs, 1),
              num(t.eventLoopLagP99Ms, 1),
              String(t.gcPauses),
              num(t.gcMs, 0),
            ];
          }),
        ),
      );
    }
  }
  if (report.smallRequests)
    out.push("", smallRequestsReport(report.smallRequests.workload, report.smallRequests.results));
  if (report.inflight) {
    out.push(
      "",
      `Produce latency against a file-store agent at batchTimeout 250ms, ${w.latencyRate} records/s, by Java producer settings:`,
      "",
    );
    out.push(
      table(
        ["producer settings", "p50 ms", "p99 ms", "p99.9 ms"],
        report.inflight.map((r) => [r.settings, num(r.p50Ms, 0), num(r.p99Ms, 0), num(r.p999Ms, 0)]),
      ),
    );
  }
  if (report.profile) {
    out.push(
      "",
      `CPU profile (${report.profile.description}): self time by function, top ${report.profile.topFunctions.length}:`,
      "",
    );
    out.push(
      table(
        ["function", "where", "self %"],
        report.profile.topFunctions.map((f) => [f.name, f.where, num(f.selfPercent, 1)]),
      ),
    );
    out.push("", "Self time by agent source area:", "");
    out.push(
      table(
        ["area", "self %"],
        report.profile.byArea.map((a) => [a.area, num(a.selfPercent, 1)]),
      ),
    );
  }
  if (report.logEntrySizes) {
    out.push(
      "",
      "Metadata log bytes per partition batch: one ingestion file's commitFile per entry, 20 generated files per shape (`bench/log-entry-size.ts`; deterministic):",
      "",
      logEntrySizeTable(report.logEntrySizes),
    );
  }
  if (report.scale) out.push("", scaleReport(report.scale, 2));
  if (report.idle) out.push("", idleCostReport(report.idle));
  if (report.lowRate) out.push("", lowRateReport(report.lowRate));
  return out.join("\n") + "\n";
}

/** Store-call rows of several targets, one table. */
function storeCallTable(targets: ReadonlyArray<readonly [string, readonly StoreCallRow[]]>): string {
  return table(
    ["target", "call", "calls", "mean ms", "over 10 ms", "over 100 ms", "over 250 ms", "slowest (bucket) ms"],
    targets.flatMap(([label, rows]) =>
      rows.map((c) => [
        label,
        c.call,
        String(c.calls),
        num(c.meanMs, 1),
        String(c.over10ms),
        String(c.over100ms),
        String(c.over250ms),
        c.slowestMs,
      ]),
    ),
  );
}

/** The untuned and sequential produce figures, each agent target beside Kafka. */
function smallRequestsReport(
  w: SmallRequestsWorkload & { readonly baselineRecords: number },
  results: readonly SmallRequestsResult[],
): string {
  const kafka = results.find((r) => r.store === "kafka");
  const times = (a: number, b: number | undefined): string => {
    const r = ratio(a, b);
    return r === null ? "–" : `${r.toFixed(2)}×`;
  };
  const work = (r: SmallRequestsResult["untuned"] | SmallRequestsResult["sequential"]): string[] => {
    if (!r.work) return ["–", "–"];
    const mb = r.work.producedBytes / 1e6;
    return [num(r.work.files, 0), r.work.writeUnits > 0 && mb > 0 ? num(r.work.writeUnits / mb, 0) : "–"];
  };
  return [
    `Untuned producer: \`${untunedCommand(w.untunedRecords)}\` into a topic of 1 partition (${w.untunedRecords} records; ${w.baselineRecords} for the \`-sealMode window\` targets, whose rate is steady long before), after an unmeasured tenth of it; the Java producer's defaults otherwise (linger.ms 5, batch.size 16 KiB, 5 requests in flight, idempotent). Files and WRU/MB: ingestion files written and DynamoDB write units per MB produced during the run, from the agents' /metrics.`,
    "",
    table(
      ["target", "MB/s", "× Kafka", "p50 ms", "p99 ms", "files", "WRU/MB"],
      results.map((r) => [
        r.label,
        num(r.untuned.mbPerSec, 2),
        r === kafka ? "1.00×" : times(r.untuned.mbPerSec, kafka?.untuned.mbPerSec),
        num(r.untuned.p50Ms, 0),
        num(r.untuned.p99Ms, 0),
        ...work(r.untuned),
      ]),
    ),
    "",
    `Sequential produce: one kafkajs producer sends one ${SEQUENTIAL_RECORD_SIZE}-byte record (acks=all) and waits for its acknowledgement before the next, for ${w.sequentialSeconds} s after ${SEQUENTIAL_WARMUP_SENDS} unmeasured sends, into a topic of 6 partitions taken in turn; run first on each fresh target, before the untuned run:`,
    "",
    table(
      ["target", "sends", "p50 ms", "p99 ms", "p99.9 ms", "p50 × Kafka", "p99 × Kafka", "files", "WRU/MB"],
      results.map((r) => [
        r.label,
        num(r.sequential.count, 0),
        num(r.sequential.p50Ms, 1),
        num(r.sequential.p99Ms, 1),
        num(r.sequential.p999Ms, 1),
        times(r.sequential.p50Ms, kafka?.sequential.p50Ms),
        times(r.sequential.p99Ms, kafka?.sequential.p99Ms),
        ...work(r.sequential),
      ]),
    ),
  ].join("\n");
}

const START = "<!-- bench:results:start (written by npm run bench) -->";
const END = "<!-- bench:results:end -->";

/** Replaces the results section of docs/benchmarks.md (between the markers) with `md`; false if no markers. */
export function replaceResultsSection(doc: string, md: string): string | null {
  const a = doc.indexOf(START);
  const b = doc.indexOf(END);
  if (a < 0 || b < a) return null;
  return `${doc.slice(0, a + START.length)}\n${md}${doc.slice(b)}`;
}
