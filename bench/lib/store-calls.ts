/**
 * Where a run's time went in the stores: the difference of the agents' /metrics before and after the
 * run, per store call (warp_store_operation_duration_seconds by store and operation) and per ingestion
 * file (warp_ingestion_file_write_seconds: first store write to commit folded). The agents' texts are
 * concatenated; samples of the same series are summed over agents.
 */
import { parsePrometheusText, type Sample } from "../../cli/cost-model/measured.js";

export interface StoreCallRow {
  /** "dynamodb put", "dynamodb append", ...; "file write to commit" for whole ingestion files. */
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

type Series = Map<string, { count: number; sum: number; buckets: Map<number, number> }>;

function histograms(samples: readonly Sample[]): Series {
  const out: Series = new Map();
  const entry = (call: string) => {
    let e = out.get(call);
    if (!e) out.set(call, (e = { count: 0, sum: 0, buckets: new Map() }));
    return e;
  };
  for (const s of samples) {
    const base = s.name.replace(/_(bucket|sum|count)$/, "");
    if (base !== CALL_HISTOGRAM && base !== FILE_HISTOGRAM) continue;
    const call = base === FILE_HISTOGRAM ? "file write to commit" : `${s.labels.store} ${s.labels.op}`;
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

/** Store calls made between two /metrics texts, busiest first; calls not made in between are left out. */
export function storeCallsBetween(before: string, after: string): StoreCallRow[] {
  const a = histograms(parsePrometheusText(before));
  const b = histograms(parsePrometheusText(after));
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
