/**
 * Measured counts for `warp cost --measured FILE`: the Prometheus text of one or more agents' /metrics
 * (concatenated), from which units and requests per MB stored are computed:
 *
 *   warp_dynamodb_capacity_units_total{table, kind="read"|"write"}   DynamoDB units (ConsumedCapacity)
 *   warp_s3_requests_total{type="put"|"get"|"list"|"delete"}          S3 requests by type
 *   warp_produce_bytes_total{topic}                                   record-batch bytes accepted
 *
 * Samples with the same name are summed over every label set and every agent in the text. S3 LIST is
 * billed at the PUT price and DELETE is free, as on AWS's price list.
 */
import type { MeasuredRates } from "./model.js";

export interface Sample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

export interface MeasuredCounts {
  readonly producedBytes: number;
  readonly dynamoWriteUnits: number;
  readonly dynamoReadUnits: number;
  readonly s3: Readonly<Record<"put" | "get" | "list" | "delete", number>>;
}

export class MeasuredParseError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "MeasuredParseError";
  }
}

const SAMPLE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)(?:\s+-?\d+)?\s*$/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;

function unescape(value: string): string {
  return value.replace(/\\(["\\n])/g, (_m, c: string) => (c === "n" ? "\n" : c));
}

/** Parses Prometheus text exposition (comments and blank lines skipped). Throws on a malformed sample line. */
export function parsePrometheusText(text: string): Sample[] {
  const out: Sample[] = [];
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.trim();
    if (line === "" || line.startsWith("#")) continue;
    const m = SAMPLE.exec(line);
    if (!m) throw new MeasuredParseError(`line ${i + 1}: not a Prometheus sample: ${line.slice(0, 80)}`);
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? "").matchAll(LABEL)) labels[l[1]!] = unescape(l[2]!);
    const raw = m[3]!;
    const value = raw === "+Inf" ? Infinity : raw === "-Inf" ? -Infinity : Number(raw);
    // prom-client writes NaN as "Nan" (lib/util.js getValueAsString); the exposition format says "NaN".
    if (Number.isNaN(value) && raw !== "NaN" && raw !== "Nan")
      throw new MeasuredParseError(`line ${i + 1}: bad value ${JSON.stringify(raw)}`);
    out.push({ name: m[1]!, labels, value });
  }
  return out;
}

/** The sum of the samples named `name` (over every label set, or those `where` accepts). */
export function sumSamples(
  samples: readonly Sample[],
  name: string,
  where: (labels: Readonly<Record<string, string>>) => boolean = () => true,
): number {
  return samples.filter((s) => s.name === name && where(s.labels)).reduce((t, s) => t + s.value, 0);
}

/** Totals of the counters the cost model needs. */
export function measuredCounts(samples: readonly Sample[]): MeasuredCounts {
  const s3 = (type: string) =>
    sumSamples(samples, "warp_s3_requests_total", (l) => (l.type ?? "").toLowerCase() === type);
  return {
    producedBytes: sumSamples(samples, "warp_produce_bytes_total"),
    dynamoWriteUnits: sumSamples(samples, "warp_dynamodb_capacity_units_total", (l) => l.kind === "write"),
    dynamoReadUnits: sumSamples(samples, "warp_dynamodb_capacity_units_total", (l) => l.kind === "read"),
    s3: { put: s3("put"), get: s3("get"), list: s3("list"), delete: s3("delete") },
  };
}

/** Units and requests per MB (10^6 bytes) produced; throws when no bytes were produced. */
export function ratesFromCounts(c: MeasuredCounts, source: string): MeasuredRates {
  if (!(c.producedBytes > 0)) {
    throw new MeasuredParseError(
      `${source}: warp_produce_bytes_total is missing or zero, so no per-MB rate can be computed`,
    );
  }
  const mb = c.producedBytes / 1e6;
  return {
    wruPerMB: c.dynamoWriteUnits / mb,
    rruPerMB: c.dynamoReadUnits / mb,
    s3PutPerMB: (c.s3.put + c.s3.list) / mb,
    s3GetPerMB: c.s3.get / mb,
    source: `${source}, ${(c.producedBytes / 1e6).toFixed(1)} MB produced`,
  };
}

/** Parses a Prometheus text and returns the per-MB rates. */
export function measuredRatesFromText(text: string, source: string): MeasuredRates {
  return ratesFromCounts(measuredCounts(parsePrometheusText(text)), source);
}
