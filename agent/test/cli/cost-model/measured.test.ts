/** --measured: Prometheus text from agents' /metrics → units and requests per MB produced. */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import path from "node:path";
import {
  measuredCounts,
  measuredRatesFromText,
  MeasuredParseError,
  parsePrometheusText,
} from "../../../../cli/cost-model/measured.js";

/** A hand-written sample in prom-client's text format: two agents' /metrics concatenated. */
const SAMPLE = `# HELP process_cpu_user_seconds_total Total user CPU time spent in seconds.
# TYPE process_cpu_user_seconds_total counter
process_cpu_user_seconds_total 12.345

# HELP warp_produce_bytes_total Record-batch bytes accepted by Produce, per topic.
# TYPE warp_produce_bytes_total counter
warp_produce_bytes_total{topic="bench"} 150000000
warp_produce_bytes_total{topic="other"} 50000000

# HELP warp_produce_latency_seconds Time from a Produce request's arrival to its response, by acks.
# TYPE warp_produce_latency_seconds histogram
warp_produce_latency_seconds_bucket{le="0.005",acks="-1"} 0
warp_produce_latency_seconds_bucket{le="+Inf",acks="-1"} 1200
warp_produce_latency_seconds_sum{acks="-1"} 70.5
warp_produce_latency_seconds_count{acks="-1"} 1200

# HELP warp_dynamodb_capacity_units_total DynamoDB capacity units consumed (from ConsumedCapacity), by table and kind (read or write).
# TYPE warp_dynamodb_capacity_units_total counter
warp_dynamodb_capacity_units_total{table="bench-files",kind="write"} 20000
warp_dynamodb_capacity_units_total{table="bench-chunks",kind="write"} 180000
warp_dynamodb_capacity_units_total{table="bench-chunks",kind="read"} 50000
warp_dynamodb_capacity_units_total{table="bench-files",kind="read"} 10000

# HELP warp_s3_requests_total S3 requests sent, by type (PUT, GET, LIST, DELETE, HEAD...), for the cost model.
# TYPE warp_s3_requests_total counter
warp_s3_requests_total{type="put"} 90
warp_s3_requests_total{type="get"} 30
warp_s3_requests_total{type="list"} 10
warp_s3_requests_total{type="delete"} 5
# HELP warp_produce_bytes_total Record-batch bytes accepted by Produce, per topic.
# TYPE warp_produce_bytes_total counter
warp_produce_bytes_total{topic="bench"} 0
# HELP warp_dynamodb_capacity_units_total DynamoDB capacity units consumed.
# TYPE warp_dynamodb_capacity_units_total counter
warp_dynamodb_capacity_units_total{table="bench-files",kind="read"} 40000
warp_s3_requests_total{type="get"} 70
`;

describe("measured counts", () => {
  it("parses samples, labels (escaped quotes included) and special values", () => {
    const s = parsePrometheusText('a_total{x="q\\"uote",y="b"} 3\nb +Inf\nc 1.5e3 1700000000000\n');
    assert.deepEqual(s[0], { name: "a_total", labels: { x: 'q"uote', y: "b" }, value: 3 });
    assert.equal(s[1]!.value, Infinity);
    assert.equal(s[2]!.value, 1500);
  });

  it("reads NaN as prom-client writes it (Nan), e.g. a gauge with nothing to measure yet", () => {
    const s = parsePrometheusText("a NaN\nb Nan\n");
    assert.ok(Number.isNaN(s[0]!.value));
    assert.ok(Number.isNaN(s[1]!.value));
    assert.throws(() => parsePrometheusText("c Nana\n"), /bad value "Nana"/);
  });

  it("sums the cost counters over tables, types, topics and agents", () => {
    const c = measuredCounts(parsePrometheusText(SAMPLE));
    assert.equal(c.producedBytes, 200_000_000);
    assert.equal(c.dynamoWriteUnits, 200_000);
    assert.equal(c.dynamoReadUnits, 100_000);
    assert.deepEqual(c.s3, { put: 90, get: 100, list: 10, delete: 5 });
  });

  it("computes units and requests per MB produced (LIST billed as PUT, DELETE free)", () => {
    const r = measuredRatesFromText(SAMPLE, "metrics.txt");
    assert.equal(r.wruPerMB, 1000);
    assert.equal(r.rruPerMB, 500);
    assert.equal(r.s3PutPerMB, 0.5);
    assert.equal(r.s3GetPerMB, 0.5);
    assert.match(r.source, /metrics\.txt, 200\.0 MB produced/);
  });

  it("reads a real agent's /metrics (DynamoDB run of npm run bench, every metric family included)", () => {
    const text = readFileSync(path.join(import.meta.dirname, "fixtures", "agent-dynamodb-metrics.prom"), "utf8");
    const samples = parsePrometheusText(text);
    assert.ok(samples.length > 100);
    assert.ok(samples.some((s) => s.name === "process_cpu_user_seconds_total"));
    const c = measuredCounts(samples);
    assert.equal(c.producedBytes, 20_734_542 + 51_700_279);
    assert.equal(c.dynamoWriteUnits, 9181 + 62220);
    assert.equal(c.dynamoReadUnits, 2165 + 7779.5);
    assert.deepEqual(c.s3, { put: 9, get: 20, list: 1, delete: 0 });
    const r = measuredRatesFromText(text, "fixture");
    assert.ok(Math.abs(r.wruPerMB - 71401 / 72.434821) < 0.01);
    assert.ok(Math.abs(r.s3PutPerMB - 10 / 72.434821) < 1e-9);
  });

  it("rejects a text with no produced bytes, and malformed lines, with a clear message", () => {
    assert.throws(
      () => measuredRatesFromText('warp_s3_requests_total{type="put"} 1\n', "m.txt"),
      /warp_produce_bytes_total is missing or zero/,
    );
    assert.throws(() => parsePrometheusText("this is not { a metric\n"), MeasuredParseError);
  });
});
