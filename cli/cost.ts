/**
 * `warp cost`: the monthly AWS bill of the ingestion store for a workload, per service, with the
 * assumption behind every figure. Reproduces the reference table (docs/cost.md: S3, S3 Express,
 * DynamoDB on-demand and provisioned at 0.1 / 1 / 10 MB/s) and sets this project's design beside it;
 * `--measured FILE` takes the units per MB from an agent's /metrics instead of the model. `--json`
 * prints the rows as JSON.
 *
 * Flags are GNU long options (`--agents 3`, `--agents=3`); a bad value exits 2 naming the flag.
 */
import { readFileSync } from "node:fs";
import type { Command } from "commander";
import { parseSealMode } from "../agent/src/config/flags.js";
import { parseBoolean, parseByteSize, parseGoDuration } from "../common/flags/values.js";
import { errorMessage } from "../common/logger.js";
import { measuredRatesFromText } from "./cost-model/measured.js";
import {
  costTable,
  DEFAULT_WARP_DESIGN,
  DEFAULT_WORKLOAD,
  idleCluster,
  type CostInput,
  type CostRow,
  type MeasuredRates,
  REFERENCE_THROUGHPUTS,
  type SealMode,
  type WarpDesign,
  type Workload,
} from "./cost-model/model.js";
import { DEFAULT_PRICES, PRICE_KEYS, PRICE_LABELS, type Prices } from "./cost-model/prices.js";

export class CostUsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "CostUsageError";
  }
}

/** The parsed command line. */
export interface CostOptions extends CostInput {
  readonly json: boolean;
  readonly measuredFile?: string;
}

type RawOptions = Readonly<Record<string, unknown>>;

function bad(flag: string, raw: string, why: string): never {
  throw new CostUsageError(`invalid value ${JSON.stringify(raw)} for flag --${flag}: ${why}`);
}

function str(opts: RawOptions, flag: string): string | undefined {
  const v = opts[flag];
  return typeof v === "string" ? v : undefined;
}

function positiveNumber(
  opts: RawOptions,
  flag: string,
  dflt: number,
  { integer = false, max = Infinity } = {},
): number {
  const raw = str(opts, flag);
  if (raw === undefined) return dflt;
  const n = Number(raw);
  if (raw.trim() === "" || !Number.isFinite(n) || n <= 0)
    bad(flag, raw, `expected a positive ${integer ? "whole number" : "number"}`);
  if (integer && !Number.isInteger(n)) bad(flag, raw, "expected a positive whole number");
  if (n > max) bad(flag, raw, `expected at most ${max}`);
  return n;
}

function nonNegativeNumber(opts: RawOptions, flag: string, dflt: number): number {
  const raw = str(opts, flag);
  if (raw === undefined) return dflt;
  const n = Number(raw);
  if (raw.trim() === "" || !Number.isFinite(n) || n < 0) bad(flag, raw, "expected a number ≥ 0");
  return n;
}

function durationMs(opts: RawOptions, flag: string, dflt: number, { min = 0 } = {}): number {
  const raw = str(opts, flag);
  if (raw === undefined) return dflt;
  let ms: number;
  try {
    ms = parseGoDuration(raw);
  } catch (err) {
    bad(flag, raw, errorMessage(err));
  }
  if (ms < min || (min > 0 && ms === 0)) bad(flag, raw, `expected at least ${min} ms`);
  return ms;
}

function byteSizeFlag(opts: RawOptions, flag: string, dflt: number, allowZero = false): number {
  const raw = str(opts, flag);
  if (raw === undefined) return dflt;
  let n: number;
  try {
    n = parseByteSize(raw);
  } catch (err) {
    bad(flag, raw, errorMessage(err));
  }
  if (allowZero ? !(n >= 0) : !(n > 0)) bad(flag, raw, allowZero ? "expected a size" : "expected a size above zero");
  return n;
}

function bool(opts: RawOptions, flag: string, dflt: boolean): boolean {
  const raw = str(opts, flag);
  if (raw === undefined) return dflt;
  try {
    return parseBoolean(raw);
  } catch (err) {
    bad(flag, raw, errorMessage(err));
  }
}

function sealMode(opts: RawOptions, flag: string, dflt: SealMode): SealMode {
  const raw = str(opts, flag);
  if (raw === undefined) return dflt;
  try {
    return parseSealMode(raw);
  } catch (err) {
    bad(flag, raw, errorMessage(err));
  }
}

/** "100KB,1MB,10MB/s" → bytes per second (KB/MB/GB are powers of 1000, KiB/MiB/GiB of 1024). */
export function parseThroughputs(raw: string, flag = "throughput"): number[] {
  const parts = raw.split(",").map((p) => p.trim().replace(/\/s$/i, ""));
  if (parts.some((p) => p === "")) bad(flag, raw, "expected comma-separated sizes per second such as 100KB,1MB,10MB");
  return parts.map((p) => {
    let n: number;
    try {
      n = parseByteSize(p);
    } catch (err) {
      bad(flag, raw, `${JSON.stringify(p)}: ${errorMessage(err)}`);
    }
    if (!(n > 0)) bad(flag, raw, `${JSON.stringify(p)}: a throughput must be above zero`);
    return n;
  });
}

/** Validates the flags commander collected; throws CostUsageError naming the bad flag. */
export function parseCostOptions(opts: RawOptions): CostOptions {
  const throughputRaw = str(opts, "throughput");
  const workload: Omit<Workload, "bytesPerSecond"> = {
    compressionRatio: positiveNumber(opts, "compression", DEFAULT_WORKLOAD.compressionRatio),
    agents: positiveNumber(opts, "agents", DEFAULT_WORKLOAD.agents, { integer: true }),
    zones: positiveNumber(opts, "zones", DEFAULT_WORKLOAD.zones, { integer: true }),
    batchTimeoutMs: durationMs(opts, "batchTimeout", DEFAULT_WORKLOAD.batchTimeoutMs, { min: 1 }),
    retentionSeconds: durationMs(opts, "retention", DEFAULT_WORKLOAD.retentionSeconds * 1000) / 1000,
    hoursPerMonth: positiveNumber(opts, "hoursPerMonth", DEFAULT_WORKLOAD.hoursPerMonth, { max: 744 }),
  };
  const design: WarpDesign = {
    ...DEFAULT_WARP_DESIGN,
    sealMode: sealMode(opts, "sealMode", DEFAULT_WARP_DESIGN.sealMode),
    windowAlign: bool(opts, "windowAlign", DEFAULT_WARP_DESIGN.windowAlign),
    writeLatencyMs: durationMs(opts, "writeLatency", DEFAULT_WARP_DESIGN.writeLatencyMs, { min: 1 }),
    requestBytes: byteSizeFlag(opts, "requestSize", DEFAULT_WARP_DESIGN.requestBytes),
    ingestionTtlSeconds: durationMs(opts, "ingestionTTL", DEFAULT_WARP_DESIGN.ingestionTtlSeconds * 1000) / 1000,
    ttlDeletionLagSeconds: durationMs(opts, "ttlDeletionLag", DEFAULT_WARP_DESIGN.ttlDeletionLagSeconds * 1000) / 1000,
    compactionIntervalMs: durationMs(opts, "compactionInterval", DEFAULT_WARP_DESIGN.compactionIntervalMs, { min: 1 }),
    compactionMinBytes: byteSizeFlag(opts, "compactionMinBytes", DEFAULT_WARP_DESIGN.compactionMinBytes, true),
    compactionMaxWaitMs: durationMs(opts, "compactionMaxWait", DEFAULT_WARP_DESIGN.compactionMaxWaitMs, { min: 1 }),
    logEntryBytes: positiveNumber(opts, "logEntryBytes", DEFAULT_WARP_DESIGN.logEntryBytes),
    snapshotEntries: positiveNumber(opts, "snapshotEntries", DEFAULT_WARP_DESIGN.snapshotEntries, { integer: true }),
    logEntryTtlSeconds: durationMs(opts, "logEntryTTL", DEFAULT_WARP_DESIGN.logEntryTtlSeconds * 1000) / 1000,
    snapshotsInS3: bool(opts, "snapshotsInS3", DEFAULT_WARP_DESIGN.snapshotsInS3),
    idlePollMs: durationMs(opts, "idlePollInterval", DEFAULT_WARP_DESIGN.idlePollMs, {
      min: DEFAULT_WARP_DESIGN.tailIntervalMs,
    }),
    partitions: positiveNumber(opts, "partitions", DEFAULT_WARP_DESIGN.partitions, { integer: true }),
    segmentsPerPartition: positiveNumber(opts, "segmentsPerPartition", DEFAULT_WARP_DESIGN.segmentsPerPartition, {
      integer: true,
    }),
    provisionedUtilization: positiveNumber(opts, "provisionedUtilization", DEFAULT_WARP_DESIGN.provisionedUtilization, {
      max: 1,
    }),
  };
  const prices = Object.fromEntries(
    PRICE_KEYS.map((k) => [k, nonNegativeNumber(opts, k, DEFAULT_PRICES[k])]),
  ) as unknown as Prices;
  const measuredFile = str(opts, "measured");
  if (measuredFile !== undefined && measuredFile.trim() === "") bad("measured", measuredFile, "expected a file path");
  return {
    throughputs: throughputRaw === undefined ? REFERENCE_THROUGHPUTS : parseThroughputs(throughputRaw),
    workload,
    design,
    prices,
    json: opts.json === true,
    ...(measuredFile !== undefined ? { measuredFile } : {}),
  };
}

/** Reads and parses the measured file; a missing or malformed file is a usage error naming --measured. */
export function loadMeasured(file: string): MeasuredRates {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (err) {
    throw new CostUsageError(`invalid value ${JSON.stringify(file)} for flag --measured: ${errorMessage(err)}`);
  }
  try {
    return measuredRatesFromText(text, file);
  } catch (err) {
    throw new CostUsageError(`invalid value ${JSON.stringify(file)} for flag --measured: ${errorMessage(err)}`);
  }
}

function usd(n: number): string {
  return `$${n.toLocaleString("en-US", { minimumFractionDigits: 2, maximumFractionDigits: 2 })}`;
}

function rate(bytesPerSecond: number): string {
  if (bytesPerSecond >= 1e6) return `${Number((bytesPerSecond / 1e6).toPrecision(4))} MB/s`;
  return `${Number((bytesPerSecond / 1e3).toPrecision(4))} KB/s`;
}

const DESIGN_TEXT = {
  seed: "the reference design",
  warp: "this project: DynamoDB + TTL, S3 compaction (modelled)",
  "warp-measured": "this project, units per MB measured",
} as const;

/** The human table: per throughput, one line per store, then every billed item with its assumption. */
export function renderTable(rows: readonly CostRow[], o: CostInput): string {
  const w = o.workload;
  const out: string[] = [
    `Monthly AWS cost of the ingestion path, us-east-1 list prices, ${w.hoursPerMonth} h/month.`,
    `Workload: 1:${w.compressionRatio} compression, ${w.agents} agents in ${w.zones} zones, batchTimeout ${w.batchTimeoutMs} ms; the reference design keeps the last ${w.retentionSeconds} s of data.`,
    `This design: -sealMode ${o.design.sealMode}${o.design.sealMode === "eager" ? ` (group commit), writes of ${o.design.writeLatencyMs} ms, produce requests of ${o.design.requestBytes} bytes` : `, -windowAlign ${o.design.windowAlign}`}.`,
    "",
  ];
  for (const bps of o.throughputs) {
    out.push(`== ${rate(bps)} produced ==`);
    out.push(`${"store".padEnd(28)} ${"$/month".padStart(12)}  ${"reference table".padStart(17)}  design`);
    const these = rows.filter((r) => r.bytesPerSecond === bps);
    for (const r of these) {
      const reference =
        r.seedUsd !== undefined
          ? `${usd(r.seedUsd)} (${r.monthlyUsd >= r.seedUsd ? "+" : ""}${((r.monthlyUsd / r.seedUsd - 1) * 100).toFixed(1)}%)`
          : "";
      out.push(
        `${r.store.padEnd(28)} ${usd(r.monthlyUsd).padStart(12)}  ${reference.padStart(17)}  ${DESIGN_TEXT[r.design]}`,
      );
    }
    out.push("");
    for (const r of these) {
      out.push(`  ${r.store} (${DESIGN_TEXT[r.design]}): ${usd(r.monthlyUsd)}`);
      for (const l of r.lines) out.push(`    ${usd(l.monthlyUsd).padStart(10)}  ${l.service}: ${l.assumption}`);
    }
    out.push(otherSealMode(bps, o), "");
  }
  const idle = idleCluster(w, o.design, o.prices);
  out.push(
    `== An idle cluster (nothing produced) ==`,
    `warp-dynamodb-on-demand: ${usd(idle.quietUsd)} a month with no client waiting, ${usd(idle.consumersWaitingUsd)} with a consumer waiting at the tail on every agent (modelled; DynamoDB only, the registry and the leases ${usd(idle.registryUsd)} of it): ${idle.explain}.`,
    "",
  );
  const changed = PRICE_KEYS.filter((k) => o.prices[k] !== DEFAULT_PRICES[k]);
  out.push(
    "Prices: " +
      PRICE_KEYS.map((k) => `${PRICE_LABELS[k]} ${o.prices[k]}${changed.includes(k) ? " (overridden)" : ""}`).join(
        "; ",
      ) +
      ".",
    "The reference table's provisioned figures size capacity for one agent's share of the traffic; sized for all of it they are agents × higher (compare warp-dynamodb-provisioned).",
    "S3 Express uses the reference table's (pre-April-2025) prices; --s3ExpressPutPer1000 0.00113 gives today's.",
  );
  if (o.measured)
    out.push(
      `Measured rates: ${o.measured.source}. They hold for the batch timeout and throughput of that run (per-file costs do not scale with bytes).`,
    );
  return out.join("\n") + "\n";
}

/** What this design costs at `bytesPerSecond` with the other -sealMode (modelled), as one line. */
function otherSealMode(bytesPerSecond: number, o: CostInput): string {
  const other: SealMode = o.design.sealMode === "window" ? "eager" : "window";
  const design = { ...o.design, sealMode: other };
  const rows = costTable({ ...o, throughputs: [bytesPerSecond], design, measured: undefined }).filter(
    (r) => r.design === "warp",
  );
  const cost = (store: string): string => usd(rows.find((r) => r.store === store)?.monthlyUsd ?? NaN);
  const how =
    other === "eager"
      ? `group commit; a file each time a ${design.writeLatencyMs} ms write ends, at most one per ${design.requestBytes}-byte produce request`
      : `one file per ${o.workload.batchTimeoutMs} ms`;
  return `  With -sealMode ${other} (${how}): ${cost("warp-dynamodb-on-demand")} on-demand, ${cost("warp-dynamodb-provisioned")} provisioned (modelled; --sealMode ${other}).`;
}

/**
 * `rows` holds the reference design's rows only (design "seed"; store: s3 | s3-express |
 * dynamodb-on-demand | dynamodb-provisioned), the stable shape scripts read; this project's design
 * (modelled, and measured with --measured) is under `thisDesign`.
 */
export function renderJson(rows: readonly CostRow[], o: CostInput): string {
  return (
    JSON.stringify(
      {
        rows: rows.filter((r) => r.design === "seed"),
        thisDesign: rows.filter((r) => r.design !== "seed"),
        workload: o.workload,
        design: o.design,
        prices: o.prices,
        idleCluster: idleCluster(o.workload, o.design, o.prices),
        ...(o.measured ? { measured: o.measured } : {}),
      },
      null,
      2,
    ) + "\n"
  );
}

export interface CostIo {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
}

const PROCESS_IO: CostIo = {
  stdout: (t) => process.stdout.write(t),
  stderr: (t) => process.stderr.write(t),
};

/** Runs `warp cost` on commander's parsed options; returns the exit code (0, or 2 for usage errors). */
export function runCost(opts: RawOptions, io: CostIo = PROCESS_IO): number {
  try {
    const parsed = parseCostOptions(opts);
    const input: CostInput =
      parsed.measuredFile !== undefined ? { ...parsed, measured: loadMeasured(parsed.measuredFile) } : parsed;
    const rows = costTable(input);
    io.stdout(parsed.json ? renderJson(rows, input) : renderTable(rows, input));
    return 0;
  } catch (err) {
    if (err instanceof CostUsageError) {
      io.stderr(`warp cost: ${err.message} (see warp cost --help)\n`);
      return 2;
    }
    throw err;
  }
}

const FLAG_HELP: ReadonlyArray<readonly [string, string]> = [
  [
    "throughput <sizes>",
    "bytes produced per second, comma-separated, before compression (KB/MB/GB = 1000^n, KiB/MiB/GiB = 1024^n; default 100KB,1MB,10MB)",
  ],
  ["compression <ratio>", "raw bytes per stored byte (default 4, the reference table's 1:4)"],
  ["agents <n>", "agents writing ingestion files (default 3)"],
  ["zones <n>", "availability zones; S3 Express writes one copy per zone (default 3)"],
  [
    "batchTimeout <duration>",
    "one ingestion file per agent per batchTimeout (default 250ms, the reference table's 4 PUTs/s per agent)",
  ],
  ["retention <duration>", "how long the reference design keeps data in the ingestion store (default 5s)"],
  ["hoursPerMonth <h>", "billed hours per month (default 720, a 30-day month)"],
  ["ingestionTTL <duration>", "this design: ingestion items expire by TTL after this long (default 1h)"],
  [
    "ttlDeletionLag <duration>",
    "this design: expired items are billed as storage until TTL deletes them (default 48h)",
  ],
  [
    "sealMode <mode>",
    "this design: the agent's -sealMode, window (one file per agent per batchTimeout; the DynamoDB default) or eager (group commit: a file each time the previous write ends) (default window)",
  ],
  [
    "windowAlign <bool>",
    "this design: the agents' -windowAlign; with several agents in window mode the sequencer commits each window's files of every agent in one log entry (default true; false: one entry per file)",
  ],
  [
    "writeLatency <duration>",
    "this design, -sealMode eager: time of one ingestion-file write to DynamoDB; under steady traffic each agent seals a file this often (default 10ms)",
  ],
  [
    "requestSize <size>",
    "this design, -sealMode eager: bytes produced per produce request, before compression; no more files than requests (default 1KiB: one 1 KiB record per request)",
  ],
  [
    "compactionInterval <duration>",
    "this design: the compaction holder checks this often whether a pass is due (default 2s)",
  ],
  [
    "compactionMinBytes <size>",
    "this design: the agents' -compactionMinBytes, a pass (one S3 object and one log entry) once this much stored data waits (default 4MiB; 0: a pass every -compactionInterval)",
  ],
  [
    "compactionMaxWait <duration>",
    "this design: the agents' -compactionMaxWait, a pass once the oldest waiting data is this old (default 30s)",
  ],
  ["logEntryBytes <n>", "this design: billed size of one metadata log entry (default 1000)"],
  [
    "snapshotEntries <n>",
    "this design: the agents' -metadataSnapshotEntries, a metadata snapshot after this many log entries (default 2000)",
  ],
  [
    "logEntryTTL <duration>",
    "this design: metadata log entries expire through TTL this long after they are written, and trims leave them to it (default 168h; 0: each trimmed entry is replaced by a tombstone, as agents before entry level 13 do)",
  ],
  [
    "snapshotsInS3 <bool>",
    "this design: metadata snapshots kept as objects in the compaction bucket (agents with -ingestionBucketURL dynamodb:// and -compactionBucketURL; default true; false: chunked in DynamoDB, as with -bucketURL dynamodb:// alone)",
  ],
  [
    "idlePollInterval <duration>",
    "this design: the agents' -metadataIdlePollInterval, how often an agent polls a quiet metadata log with no fetch waiting; prices the idle cluster (default 1s)",
  ],
  [
    "partitions <n>",
    "this design: partitions of the cluster, whose state each metadata snapshot writes (default 1000)",
  ],
  [
    "segmentsPerPartition <n>",
    "this design: ingestion batches and compacted runs each partition holds, in each metadata snapshot (default 32)",
  ],
  ["provisionedUtilization <0-1>", "this design: provisioned capacity = average units / this (default 1)"],
  ["measured <file>", "Prometheus text of the agents' /metrics: units and requests per MB from a real run"],
];

/** Registers `warp cost` on the program (called from cli/warp.ts). */
export function addCostCommand(program: Command): void {
  const cmd = program
    .command("cost")
    .description(
      "Print the monthly AWS cost of the ingestion path per service, the reference table (docs/cost.md) and this design side by side, with the assumption behind each figure.",
    )
    .allowExcessArguments(false)
    .option("--json", 'print JSON: {"rows": the reference design\'s rows, "thisDesign": this project\'s rows, ...}');
  for (const [flag, help] of FLAG_HELP) cmd.option(`--${flag}`, help);
  for (const k of PRICE_KEYS) cmd.option(`--${k} <usd>`, `${PRICE_LABELS[k]} (default ${DEFAULT_PRICES[k]})`);
  cmd.action((_opts: unknown, command: Command) => {
    const code = runCost(command.opts<Record<string, unknown>>());
    if (code !== 0) process.exit(code);
  });
}
