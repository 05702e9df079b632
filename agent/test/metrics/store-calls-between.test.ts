/**
 * The benchmark's store-call breakdown (bench/lib/store-calls.ts): the difference of two /metrics texts
 * of several agents, per store call and per ingestion file, with the calls over 10/100/250 ms and the
 * slowest call's bucket.
 */
import assert from "node:assert/strict";
import { breakdownBetween } from "../../../bench/lib/store-calls.js";

const BOUNDS = ["0.001", "0.01", "0.1", "0.25", "1", "+Inf"];

/** One agent's histogram samples: cumulative bucket counts for BOUNDS, then sum and count. */
function histogram(name: string, labels: string, cumulative: readonly number[], sum: number): string {
  const sep = labels === "" ? "" : ",";
  const lines = BOUNDS.map((le, i) => `${name}_bucket{${labels}${sep}le="${le}"} ${cumulative[i]}`);
  lines.push(`${name}_sum${labels === "" ? "" : `{${labels}}`} ${sum}`);
  lines.push(`${name}_count${labels === "" ? "" : `{${labels}}`} ${cumulative.at(-1)}`);
  return lines.join("\n");
}

const CALLS = "warp_store_operation_duration_seconds";
const FILES = "warp_ingestion_file_write_seconds";
const PUT = 'store="dynamodb",op="put"';
const APPEND = 'store="dynamodb",op="append"';

describe("bench: store calls between two /metrics texts", () => {
  it("sums agents, subtracts the earlier text and counts the slow calls", () => {
    const before = [
      "# TYPE warp_store_operation_duration_seconds histogram",
      histogram(CALLS, PUT, [0, 4, 5, 5, 5, 5], 0.02),
      histogram(CALLS, APPEND, [1, 2, 2, 2, 2, 2], 0.004),
      histogram(FILES, "", [0, 1, 2, 2, 2, 2], 0.05),
    ].join("\n");
    const after = [
      // agent 1: 5 more puts (2 under 10 ms, 1 in 100–250 ms, 2 in 250 ms–1 s), no new append
      histogram(CALLS, PUT, [0, 6, 7, 8, 10, 10], 0.62),
      histogram(CALLS, APPEND, [1, 2, 2, 2, 2, 2], 0.004),
      histogram(FILES, "", [0, 1, 3, 4, 4, 4], 0.35),
      // agent 2 (started between the texts): 1 put past the last bucket
      histogram(CALLS, 'store="dynamodb",op="put"', [0, 0, 0, 0, 0, 1], 2),
      histogram("warp_ingestion_file_phase_seconds", 'phase="previous"', [1, 1, 1, 1, 1, 1], 0.0005),
    ].join("\n");
    const rows = breakdownBetween(before, after).calls;
    assert.deepEqual(
      rows.map((r) => [r.call, r.calls, r.over10ms, r.over100ms, r.over250ms, r.slowestMs]),
      [
        ["dynamodb put", 6, 4, 4, 3, "> 1000"],
        ["file write to commit", 2, 2, 1, 0, "100–250"],
        ["file phase: previous", 1, 0, 0, 0, "0–1"],
      ],
    );
    assert.equal(rows[0]!.meanMs.toFixed(1), "433.3");
    assert.equal(rows[1]!.meanMs.toFixed(1), "150.0");
  });

  it("takes the agents' worst event-loop delay and their GC pauses between the texts", () => {
    const before = [
      'nodejs_gc_duration_seconds_sum{kind="minor"} 0.5',
      'nodejs_gc_duration_seconds_count{kind="minor"} 10',
    ].join("\n");
    const after = [
      // agent 1
      "nodejs_eventloop_lag_max_seconds 0.02",
      "nodejs_eventloop_lag_p99_seconds 0.011",
      'nodejs_gc_duration_seconds_sum{kind="minor"} 0.6',
      'nodejs_gc_duration_seconds_count{kind="minor"} 14',
      // agent 2 (no GC before)
      "nodejs_eventloop_lag_max_seconds 0.3",
      "nodejs_eventloop_lag_p99_seconds 0.009",
      'nodejs_gc_duration_seconds_sum{kind="major"} 0.05',
      'nodejs_gc_duration_seconds_count{kind="major"} 1',
    ].join("\n");
    const r = breakdownBetween(before, after).runtime;
    assert.equal(r.eventLoopLagMaxMs, 300);
    assert.equal(r.eventLoopLagP99Ms, 11);
    assert.equal(r.gcPauses, 5);
    assert.equal(r.gcMs.toFixed(0), "150");
  });
});
