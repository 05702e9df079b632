/**
 * The README's "Configure your clients" tables, rendered from a benchmark report (latest.json), so the
 * figures users read are the ones the committed run measured: what the producer settings that matter
 * do to throughput and latency, against Apache Kafka with the same client and settings in the same run.
 * Written by scripts/gen-client-docs.ts (and by `npm run bench` after a full run).
 */
import type { BenchReport } from "./report.js";
import type { ScenarioResult } from "./scenario.js";
import { PRODUCER_PROPS } from "./perf-tools.js";
import { UNTUNED_PRODUCER_PROPS, UNTUNED_RECORD_SIZE, type SmallRequestsResult } from "./small-requests.js";
import { ratio } from "./stats.js";

function fmt(n: number | undefined, digits: number): string {
  if (n === undefined || !Number.isFinite(n)) return "–";
  return n.toLocaleString("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

function times(a: number | undefined, b: number | undefined): string {
  const r = a === undefined ? null : ratio(a, b);
  return r === null ? "–" : `${r.toFixed(2)}×`;
}

function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  return [
    `| ${header.join(" | ")} |`,
    `|${header.map(() => "---").join("|")}|`,
    ...rows.map((r) => `| ${r.join(" | ")} |`),
  ].join("\n");
}

/** "file store, default flags" and the like, from a target's label. */
function agentText(label: string): string {
  const flags = label.split(", ").slice(3).join(" ");
  const m = /^(file|dynamodb), (\d+) agents?, batchTimeout (\d+)ms/.exec(label);
  if (!m) return label;
  const where = m[1] === "file" ? "file store" : `${m[2]} agent${m[2] === "1" ? "" : "s"} on DynamoDB`;
  return `${where}, \`-batchTimeout ${m[3]}ms\`${flags ? ` \`${flags}\`` : ", other flags default"}`;
}

const tuned = PRODUCER_PROPS.filter((p) => !p.startsWith("acks=") && !p.startsWith("max.in.flight")).join(" ");

/** The tables, or a line saying what is missing when the report lacks the runs they need. */
export function renderClientTables(report: BenchReport): string {
  const out: string[] = [];
  const small = report.smallRequests?.results ?? [];
  const kafkaSmall = small.find((r) => r.store === "kafka");
  const kafka = report.results.find((r) => r.store === "kafka");
  const load = report.machine.loadAverage;
  out.push(
    `Measured by \`npm run bench\` on ${report.date.slice(0, 10)} (${report.machine.cpus} CPUs shared with other work${load ? `, load average ${load.start.toFixed(1)} at the start and ${load.end.toFixed(1)} at the end` : ""}; DynamoDB is DynamoDB Local), Apache Kafka ${kafka?.label.match(/Kafka ([\d.]+)/)?.[1] ?? ""} with the same client and settings in the same run; every figure in [bench/results/latest.md](bench/results/latest.md).`,
    "",
  );
  const rows: string[][] = [];
  const untuned = `Java producer defaults, \`${UNTUNED_PRODUCER_PROPS.join(" ")}\` (${UNTUNED_RECORD_SIZE}-byte records, 1 partition)`;
  for (const r of small.filter((s) => s.store !== "kafka"))
    rows.push([
      untuned,
      agentText(r.label),
      fmt(r.untuned.mbPerSec, 1),
      times(r.untuned.mbPerSec, kafkaSmall?.untuned.mbPerSec),
    ]);
  const best = (store: ScenarioResult["store"], agents: number): ScenarioResult | undefined =>
    report.results
      .filter((r) => r.store === store && r.agents === agents)
      .reduce<ScenarioResult | undefined>((a, b) => (!a || b.produce.mbPerSec > a.produce.mbPerSec ? b : a), undefined);
  for (const r of [best("file", 1), best("dynamodb", 3)])
    if (r)
      rows.push([
        `\`${tuned}\` (1 KiB records, ${report.workload.partitions} partitions)`,
        agentText(r.label),
        fmt(r.produce.mbPerSec, 1),
        times(r.produce.mbPerSec, kafka?.produce.mbPerSec),
      ]);
  if (rows.length > 0) {
    out.push(
      "Producer throughput, acks=all, as fast as the producer goes (`kafka-producer-perf-test`; the tuned rows show the agent flags that gave the most):",
      "",
    );
    out.push(table(["producer settings", "agent", "MB/s", "× Kafka"], rows), "");
  }
  const lat: string[][] = [];
  const seq = (r: SmallRequestsResult): string[] => [
    "one record at a time, waiting for each acknowledgement (kafkajs, acks=all)",
    r.store === "kafka" ? "Apache Kafka" : agentText(r.label),
    fmt(r.sequential.p50Ms, 1),
    fmt(r.sequential.p99Ms, 1),
  ];
  for (const r of small) lat.push(seq(r));
  /** The scenario of that set-up with default flags, or with `flags` when given. */
  const latencyRows = (
    store: ScenarioResult["store"],
    agents: number,
    ms: number,
    flags?: string,
  ): ScenarioResult | undefined =>
    report.results.find(
      (r) =>
        r.store === store &&
        r.agents === agents &&
        r.batchTimeoutMs === ms &&
        (flags === undefined ? !r.label.includes(" -") : r.label.includes(flags)),
    );
  const w = report.workload;
  for (const r of [
    kafka,
    latencyRows("file", 1, 25, "-sealMode window"),
    latencyRows("dynamodb", 3, 50),
    latencyRows("dynamodb", 3, 50, "-sealMode eager"),
  ])
    if (r)
      lat.push([
        `Java producer, \`${tuned}\`, ${fmt(w.latencyRate, 0)} records/s over ${w.partitions} partitions`,
        r.store === "kafka" ? "Apache Kafka" : agentText(r.label),
        fmt(r.latency.p50Ms, 0),
        fmt(r.latency.p99Ms, 0),
      ]);
  for (const i of report.inflight ?? [])
    lat.push([
      `Java producer, ${i.settings}, ${fmt(w.latencyRate, 0)} records/s`,
      agentText("file, 1 agent, batchTimeout 250ms, -sealMode window"),
      fmt(i.p50Ms, 0),
      fmt(i.p99Ms, 0),
    ]);
  if (lat.length > 0) {
    out.push("Produce latency (send to acknowledgement):", "");
    out.push(table(["producer settings", "target", "p50 ms", "p99 ms"], lat));
  }
  if (rows.length === 0 && lat.length === 0) out.push("(the report has no produce runs)");
  return out.join("\n").trimEnd();
}

const START = "<!-- clients:start (generated from bench/results/latest.json by scripts/gen-client-docs.ts) -->";
const END = "<!-- clients:end -->";

/** `doc` with the tables between the markers replaced; throws when the markers are missing. */
export function replaceClientSection(doc: string, body: string): string {
  const a = doc.indexOf(START);
  const b = doc.indexOf(END);
  if (a < 0 || b < a) throw new Error(`README.md lacks the markers ${START} ... ${END}`);
  return `${doc.slice(0, a + START.length)}\n${body}\n${doc.slice(b)}`;
}
