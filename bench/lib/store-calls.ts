/**
 * Where a run's time went in the stores: the difference of the agents' /metrics before and after the
 * run, per store call (warp_store_operation_duration_seconds by store and operation) and per ingestion
 * file (warp_ingestion_file_write_seconds: first store write to commit folded). The agents' texts are
 * concatenated; samples of the same series are summed over agents.
 */
import { parsePrometheusText, sumSamples, type Sample } from "../../cli/cost-model/measured.js";

export interface StoreCallRow {
  /**
   * "dynamodb put", "dynamodb append", ...; "file write to commit" for whole ingestion files, and
   * "file phase: write" / "previous" / "commit" for their parts, and the produce requests as the agents
   * timed them (their client's latency less the network and the client's own queue).
   */
  readonly call: string;
  readonly calls: number;
  readonly meanMs: number;
  /** Calls that took longer than 10, 100 and 250 ms (histogram buckets). */
  readonly over10ms: number;
  readonly over100ms: number;
  readonly over250ms: number;
  /** Upper bound of the bucket holding the slowest call, in ms ("> 10000" past the last bucket). */
  readonly slowestMs: string;
}

const CALL_HISTOGRAM = "warp_store_operation_duration_seconds";
const FILE_HISTOGRAM = "warp_ingestion_file_write_seconds";
const PHASE_HISTOGRAM = "warp_ingestion_file_phase_seconds";
const PRODUCE_HISTOGRAM = "warp_produce_latency_seconds";
const FETCH_HISTOGRAM = "warp_fetch_latency_seconds";
const SNAPSHOT_HISTOGRAM = "warp_metadata_snapshot_encode_seconds";
const ENTRY_HISTOGRAM = "warp_metadata_log_entry_seconds";

/** The call a histogram sample belongs to, or null for other metrics. */
function callOf(base: string, labels: Readonly<Record<string, string>>): string | null {
  if (base === CALL_HISTOGRAM) return `${labels.store} ${labels.op}`;
  if (base === FILE_HISTOGRAM) return "file write to commit";
  if (base === PHASE_HISTOGRAM) return `file phase: ${labels.phase}`;
  if (base === SNAPSHOT_HISTOGRAM) return "snapshot encode (event loop held)";
  if (base === ENTRY_HISTOGRAM) return `log entry phase: ${labels.phase}`;
  if (base === FETCH_HISTOGRAM) return "fetch request: arrival to response";
  if (base === PRODUCE_HISTOGRAM) return `produce request (acks ${labels.acks}): arrival to response`;
  return null;
}

type Series = Map<string, { count: number; sum: number; buckets: Map<number, number> }>;

function histograms(samples: readonly Sample[]): Series {
  const out: Series = new Map();
  const entry = (call: string) => {
    let e = out.get(call);
    if (!e) out.set(call, (e = { count: 0, sum: 0, buckets: new Map() }));
    return e;
  };
  for (const s of samples) {
    const call = callOf(s.name.replace(/_(bucket|sum|count)$/, ""), s.labels);
    if (call === null) continue;
    const e = entry(call);
    if (s.name.endsWith("_count")) e.count += s.value;
    else if (s.name.endsWith("_sum")) e.sum += s.value;
    else {
      const le = s.labels.le === "+Inf" ? Infinity : Number(s.labels.le);
      e.buckets.set(le, (e.buckets.get(le) ?? 0) + s.value);
    }
  }
  return out;
}

/** One row as a log line. */
export function describeCall(c: StoreCallRow): string {
  return `${c.call}: ${c.calls} calls, mean ${c.meanMs.toFixed(1)} ms, over 10/100/250 ms: ${c.over10ms}/${c.over100ms}/${c.over250ms}, slowest ${c.slowestMs} ms`;
}

/** What two /metrics scrapes around a run say about it; each text is parsed once. */
export interface RunBreakdown {
  readonly calls: StoreCallRow[];
  readonly runtime: RuntimeDuring;
  readonly entries: EntryAttempts;
}

export function breakdownBetween(before: string, after: string): RunBreakdown {
  const a = parsePrometheusText(before);
  const b = parsePrometheusText(after);
  return { calls: storeCallsBetween(a, b), runtime: runtimeBetween(a, b), entries: entryAttemptsBetween(a, b) };
}

/** Store calls made between two scrapes, busiest first; calls not made in between are left out. */
function storeCallsBetween(before: readonly Sample[], after: readonly Sample[]): StoreCallRow[] {
  const a = histograms(before);
  const b = histograms(after);
  const rows: StoreCallRow[] = [];
  for (const [call, end] of b) {
    const start = a.get(call);
    const calls = end.count - (start?.count ?? 0);
    if (calls <= 0) continue;
    const within = (le: number) => (end.buckets.get(le) ?? 0) - (start?.buckets.get(le) ?? 0);
    const bounds = [...end.buckets.keys()].sort((x, y) => x - y);
    const slowest = bounds.find((le) => within(le) >= calls) ?? Infinity;
    const previous = bounds[bounds.indexOf(slowest) - 1];
    rows.push({
      call,
      calls,
      meanMs: ((end.sum - (start?.sum ?? 0)) / calls) * 1000,
      over10ms: calls - within(0.01),
      over100ms: calls - within(0.1),
      over250ms: calls - within(0.25),
      slowestMs:
        slowest === Infinity
          ? `> ${(previous ?? 0) * 1000}`
          : `${previous === undefined ? 0 : previous * 1000}–${slowest * 1000}`,
    });
  }
  return rows.sort((x, y) => y.calls - x.calls);
}

export interface RuntimeDuring {
  /** Longest event-loop delay of any agent since the earlier text (prom-client resets it per scrape). */
  readonly eventLoopLagMaxMs: number;
  /** Highest of the agents' event-loop delay p99s over the same time. */
  readonly eventLoopLagP99Ms: number;
  /** Garbage-collection pauses between the two texts, over all agents: count and total. */
  readonly gcPauses: number;
  readonly gcMs: number;
}

/**
 * The agents' runtime between two scrapes. The event-loop delay gauges cover the time since each
 * agent's previous scrape, so the earlier scrape must be the one just before.
 */
function runtimeBetween(before: readonly Sample[], after: readonly Sample[]): RuntimeDuring {
  const max = (name: string) => Math.max(0, ...after.filter((s) => s.name === name).map((s) => s.value));
  const delta = (name: string) => sumSamples(after, name) - sumSamples(before, name);
  return {
    eventLoopLagMaxMs: max("nodejs_eventloop_lag_max_seconds") * 1000,
    eventLoopLagP99Ms: max("nodejs_eventloop_lag_p99_seconds") * 1000,
    gcPauses: delta("nodejs_gc_duration_seconds_count"),
    gcMs: delta("nodejs_gc_duration_seconds_sum") * 1000,
  };
}

export interface EntryAttempts {
  /** The agents' log entries applied between the texts. */
  readonly entries: number;
  /** Their conditional appends (one per entry plus one per conflict). */
  readonly attempts: number;
  /** Entries that needed 3 attempts or more (2 conflicts or more: the backoff waits start). */
  readonly threeOrMore: number;
  /** The bucket of the entry that needed the most: "≤ 4". */
  readonly most: string;
}

/** Conditional appends per log entry between two scrapes. */
function entryAttemptsBetween(before: readonly Sample[], after: readonly Sample[]): EntryAttempts {
  const at = (le?: string) => (labels: Readonly<Record<string, string>>) => le === undefined || labels.le === le;
  const delta = (name: string, le?: string) => sumSamples(after, name, at(le)) - sumSamples(before, name, at(le));
  const entries = delta("warp_metadata_log_entry_attempts_count");
  const bounds = ["1", "2", "3", "4", "6", "8", "12", "16", "32", "64", "+Inf"];
  const most = bounds.find((le) => delta("warp_metadata_log_entry_attempts_bucket", le) >= entries) ?? "+Inf";
  return {
    entries,
    attempts: delta("warp_metadata_log_entry_attempts_sum"),
    threeOrMore: entries - delta("warp_metadata_log_entry_attempts_bucket", "2"),
    most: most === "+Inf" ? "> 64" : `≤ ${most}`,
  };
}
