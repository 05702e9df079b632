/**
 * The agent's HTTP endpoints over real HTTP on loopback: /metrics (Prometheus text with the warp_*
 * metrics and default Node metrics), /healthz, /readyz following the readiness callback, 404/405.
 */
import assert from "node:assert/strict";
import { request } from "node:http";
import type { Readiness, RunningHttpServer } from "../../../common/http-server.js";
import { startHttpServer } from "../../src/http/server.js";
import * as metrics from "../../src/metrics/metrics.js";

describe("agent HTTP server", () => {
  let server: RunningHttpServer;
  let readiness: Readiness = { ready: true };
  let base: string;

  before(async () => {
    server = await startHttpServer({ port: 0, host: "127.0.0.1", readiness: () => readiness });
    base = `http://127.0.0.1:${server.port}`;
  });
  after(async () => {
    await server.close();
  });

  it("binds a free port when asked for port 0", () => {
    assert.ok(server.port > 0);
  });

  it("GET /healthz answers 200 ok", async () => {
    const res = await fetch(`${base}/healthz`);
    assert.equal(res.status, 200);
    assert.equal(await res.text(), "ok\n");
  });

  it("GET /readyz follows the readiness callback", async () => {
    readiness = { ready: true };
    let res = await fetch(`${base}/readyz`);
    assert.equal(res.status, 200);
    assert.equal(await res.text(), "ok\n");

    readiness = { ready: false, reason: "replaying metadata log" };
    res = await fetch(`${base}/readyz`);
    assert.equal(res.status, 503);
    assert.match(res.headers.get("content-type") ?? "", /application\/json/);
    assert.deepEqual(await res.json(), { ready: false, reason: "replaying metadata log" });

    readiness = { ready: true };
    assert.equal((await fetch(`${base}/readyz`)).status, 200);
  });

  it("GET /readyz is 503 with a reason when the readiness callback throws", async () => {
    const throwing = await startHttpServer({
      port: 0,
      host: "127.0.0.1",
      readiness: () => {
        throw new Error("store unreachable");
      },
    });
    try {
      const res = await fetch(`http://127.0.0.1:${throwing.port}/readyz`);
      assert.equal(res.status, 503);
      const body = (await res.json()) as { ready: boolean; reason: string };
      assert.equal(body.ready, false);
      assert.match(body.reason, /store unreachable/);
    } finally {
      await throwing.close();
    }
  });

  it("GET /metrics serves the registry in Prometheus text format", async () => {
    // The registry is process-wide and other suites record into it: use label values only this test uses.
    metrics.produceBytes.inc({ topic: "http-test" }, 123);
    metrics.requests.inc({ api: "http-test", version: "9" });
    metrics.produceLatency.observe({ acks: "http-test" }, 0.03);
    metrics.dynamodbCapacityUnits.inc({ table: "http-test-files", kind: "write" }, 2.5);
    const res = await fetch(`${base}/metrics`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get("content-type") ?? "", /^text\/plain; version=0\.0\.4/);
    const text = await res.text();
    assert.match(text, /^warp_produce_bytes_total\{topic="http-test"\} 123$/m);
    assert.match(text, /^warp_requests_total\{api="http-test",version="9"\} 1$/m);
    assert.match(text, /^warp_produce_latency_seconds_bucket\{le="0\.005",acks="http-test"\} 0$/m);
    assert.match(text, /^warp_produce_latency_seconds_bucket\{le="0\.05",acks="http-test"\} 1$/m);
    assert.match(text, /^warp_produce_latency_seconds_bucket\{le="10",acks="http-test"\} 1$/m);
    assert.match(text, /^warp_dynamodb_capacity_units_total\{table="http-test-files",kind="write"\} 2\.5$/m);
    // Default Node.js metrics are registered too.
    assert.match(text, /^process_cpu_user_seconds_total /m);
    assert.match(text, /^nodejs_eventloop_lag_seconds /m);
  });

  it("exposes every agent metric under its documented name", async () => {
    const text = await (await fetch(`${base}/metrics`)).text();
    const names = [
      "warp_produce_bytes_total",
      "warp_produce_records_total",
      "warp_produce_latency_seconds",
      "warp_fetch_bytes_total",
      "warp_fetch_latency_seconds",
      "warp_fetch_session_requests_total",
      "warp_fetch_session_evictions_total",
      "warp_fetch_sessions",
      "warp_fetch_session_partitions",
      "warp_ingestion_files_total",
      "warp_ingestion_file_bytes",
      "warp_ingestion_file_batches",
      "warp_ingestion_file_write_seconds",
      "warp_ingestion_file_phase_seconds",
      "warp_metadata_log_appends_total",
      "warp_metadata_log_append_seconds",
      "warp_metadata_log_applied_index",
      "warp_metadata_log_entry_attempts",
      "warp_metadata_log_entry_seconds",
      "warp_metadata_snapshot_encode_seconds",
      "warp_metadata_snapshot_seconds",
      "warp_metadata_snapshot_event_loop_delay_seconds",
      "warp_metadata_snapshot_bytes",
      "warp_metadata_snapshot_failures_total",
      "warp_metadata_log_entries_renewed_total",
      "warp_open_connections",
      "warp_requests_total",
      "warp_request_errors_total",
      "warp_request_latency_seconds",
      "warp_compaction_runs_total",
      "warp_compacted_bytes_total",
      "warp_store_operations_total",
      "warp_store_operation_duration_seconds",
      "warp_dynamodb_capacity_units_total",
      "warp_dynamodb_partition_key_capacity_units_total",
      "warp_s3_requests_total",
    ];
    for (const name of names) assert.match(text, new RegExp(`^# TYPE ${name} `, "m"), name);
  });

  it("answers HEAD without a body", async () => {
    const res = await fetch(`${base}/healthz`, { method: "HEAD" });
    assert.equal(res.status, 200);
    assert.equal(await res.text(), "");
  });

  it("answers 404 for unknown paths and 405 for other methods", async () => {
    assert.equal((await fetch(`${base}/`)).status, 404);
    assert.equal((await fetch(`${base}/metricsx`)).status, 404);
    const post = await fetch(`${base}/metrics`, { method: "POST", body: "x" });
    assert.equal(post.status, 405);
    assert.equal(post.headers.get("allow"), "GET, HEAD");
  });

  it("ignores the query string", async () => {
    assert.equal((await fetch(`${base}/healthz?verbose=1`)).status, 200);
  });

  it("close() stops listening even with an idle keep-alive connection open", async () => {
    const other = await startHttpServer({ port: 0, host: "127.0.0.1", readiness: () => ({ ready: true }) });
    // Open a keep-alive connection and leave it idle.
    await new Promise<void>((resolve, reject) => {
      const req = request(
        { host: "127.0.0.1", port: other.port, path: "/healthz", agent: false, headers: { connection: "keep-alive" } },
        (res) => {
          res.resume();
          res.on("end", resolve);
        },
      );
      req.on("error", reject);
      req.end();
    });
    await other.close();
    await assert.rejects(fetch(`http://127.0.0.1:${other.port}/healthz`));
  });

  it("fails to start with a message naming the address when the port is taken", async () => {
    await assert.rejects(
      startHttpServer({ port: server.port, host: "127.0.0.1", readiness: () => ({ ready: true }) }),
      (err: unknown) =>
        err instanceof Error && err.message.includes(`127.0.0.1:${server.port}`) && /EADDRINUSE/.test(err.message),
    );
  });
});
