/** `warp cost`: flags, the JSON shape, the human table, and usage errors (exit 2 naming the flag). */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parseCostOptions, parseThroughputs, runCost } from "../../../cli/cost.js";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..");

function run(opts: Record<string, unknown>): { code: number; stdout: string; stderr: string } {
  let stdout = "";
  let stderr = "";
  const code = runCost(opts, { stdout: (t) => (stdout += t), stderr: (t) => (stderr += t) });
  return { code, stdout, stderr };
}

interface JsonRow {
  store: string;
  bytesPerSecond: number;
  monthlyUsd: number;
  lines: { service: string; assumption: string; monthlyUsd: number }[];
}

describe("warp cost", () => {
  it("--json prints the reference design's four stores at 100 KB/s, 1 MB/s and 10 MB/s, and this design apart", () => {
    const r = run({ json: true });
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout) as { rows: JsonRow[]; thisDesign: JsonRow[] };
    assert.ok(Array.isArray(out.rows));
    const referenceStores = ["s3", "s3-express", "dynamodb-on-demand", "dynamodb-provisioned"];
    assert.equal(out.rows.length, 12);
    assert.ok(
      out.rows.every((row) => referenceStores.includes(row.store)),
      "rows holds the reference design's rows only",
    );
    for (const store of [...referenceStores, "warp-dynamodb-on-demand", "warp-dynamodb-provisioned"]) {
      const rows = [...out.rows, ...out.thisDesign].filter((row) => row.store === store);
      assert.deepEqual(
        rows.map((row) => row.bytesPerSecond),
        [100_000, 1_000_000, 10_000_000],
        store,
      );
      for (const row of rows) {
        assert.equal(typeof row.monthlyUsd, "number");
        assert.ok(row.lines.every((l) => typeof l.assumption === "string" && typeof l.monthlyUsd === "number"));
      }
    }
  });

  it("prints a human table naming the assumption of every figure", () => {
    const r = run({ throughput: "1MB" });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /== 1 MB\/s produced ==/);
    assert.match(r.stdout, /store\s+\$\/month\s+reference table\s+design/);
    assert.match(r.stdout, /\$810\.00 \(-2\.3%\)\s+the reference design\n/);
    assert.match(r.stdout, /dynamodb-on-demand\s+\$791\.02\s+\$810\.00 \(-2\.3%\)/);
    assert.match(r.stdout, /DeleteItem bills the item's size like a write/);
    assert.match(r.stdout, /TTL, which is free/);
  });

  it("prices -sealMode window by default and names what eager would cost; --sealMode eager prices it", () => {
    const window = run({ throughput: "1MB" });
    assert.equal(window.code, 0, window.stderr);
    assert.match(window.stdout, /This design: -sealMode window, -windowAlign true\./);
    assert.match(window.stdout, /warp-dynamodb-on-demand\s+\$448\.05/);
    // Metadata snapshots chunked in DynamoDB instead of kept in S3 (as with -bucketURL dynamodb:// alone).
    const inTable = run({ throughput: "1MB", snapshotsInS3: "false" });
    assert.equal(inTable.code, 0, inTable.stderr);
    assert.match(inTable.stdout, /warp-dynamodb-on-demand\s+\$452\.09/);
    assert.match(window.stdout, /4 log entries\/s of 1 WRU \(the sequencer commits each 250 ms window's files/);
    // An entry per file (the windows not gathered; the other agents still follow the sequencer's tail).
    const perFile = run({ throughput: "1MB", windowAlign: "false" });
    assert.equal(perFile.code, 0, perFile.stderr);
    assert.match(perFile.stdout, /This design: -sealMode window, -windowAlign false\./);
    assert.match(perFile.stdout, /warp-dynamodb-on-demand\s+\$462\.89/);
    assert.match(
      window.stdout,
      /With -sealMode eager \(.*10 ms write.*\): \$1,111\.64 on-demand, \$370\.41 provisioned/,
    );
    const eager = run({ throughput: "1MB", sealMode: "eager", writeLatency: "20ms" });
    assert.equal(eager.code, 0, eager.stderr);
    assert.match(
      eager.stdout,
      /This design: -sealMode eager \(group commit\), writes of 20 ms, produce requests of 1024 bytes\./,
    );
    assert.match(eager.stdout, /150 files\/s \(3 agents, -sealMode eager/);
    assert.match(eager.stdout, /With -sealMode window \(one file per 250 ms\): \$448\.05 on-demand/);
    assert.match(
      window.stdout,
      /An idle cluster \(nothing produced\) ==\nwarp-dynamodb-on-demand: \$6\.48 a month with no client waiting, \$9\.56 with a consumer waiting/,
    );
    const o = parseCostOptions({ sealMode: "eager", writeLatency: "5ms", requestSize: "16KiB" });
    assert.equal(o.design.sealMode, "eager");
    assert.equal(o.design.writeLatencyMs, 5);
    assert.equal(o.design.requestBytes, 16_384);
  });

  it("takes flags for the workload and prices", () => {
    const o = parseCostOptions({
      throughput: "100KiB,2MB/s",
      agents: "6",
      batchTimeout: "50ms",
      ddbWruPerMillion: "1.25",
      retention: "10s",
    });
    assert.deepEqual(o.throughputs, [102_400, 2_000_000]);
    assert.equal(o.workload.agents, 6);
    assert.equal(o.workload.batchTimeoutMs, 50);
    assert.equal(o.workload.retentionSeconds, 10);
    assert.equal(o.prices.ddbWruPerMillion, 1.25);
    assert.deepEqual(parseThroughputs("10MB"), [10_000_000]);
    const state = parseCostOptions({
      partitions: "100000",
      segmentsPerPartition: "5",
      snapshotEntries: "10000",
    }).design;
    assert.deepEqual([state.partitions, state.segmentsPerPartition, state.snapshotEntries], [100_000, 5, 10_000]);
  });

  for (const [flag, value, why] of [
    ["agents", "abc", /--agents: expected a positive whole number/],
    ["agents", "1.5", /--agents: expected a positive whole number/],
    ["compression", "0", /--compression: expected a positive number/],
    ["throughput", "fast", /--throughput: "fast": not a size/],
    ["batchTimeout", "50", /--batchTimeout: missing unit/],
    ["s3PutPer1000", "-1", /--s3PutPer1000: expected a number ≥ 0/],
    ["provisionedUtilization", "2", /--provisionedUtilization: expected at most 1/],
    ["sealMode", "fast", /--sealMode: unknown seal mode; expected window or eager/],
    ["writeLatency", "0", /--writeLatency: expected at least 1 ms/],
    ["requestSize", "0", /--requestSize: expected a size above zero/],
    ["requestSize", "big", /--requestSize: not a size/],
    ["partitions", "0", /--partitions: expected a positive whole number/],
    ["segmentsPerPartition", "2.5", /--segmentsPerPartition: expected a positive whole number/],
    ["snapshotEntries", "many", /--snapshotEntries: expected a positive whole number/],
  ] as const) {
    it(`rejects --${flag} ${value} with exit 2 and a message naming the flag`, () => {
      const r = run({ [flag]: value });
      assert.equal(r.code, 2);
      assert.equal(r.stdout, "");
      assert.match(r.stderr, /^warp cost: invalid value /);
      assert.match(r.stderr, why);
    });
  }

  it("--measured reads an agent's /metrics text; a missing file is a usage error", () => {
    const dir = mkdtempSync(path.join(tmpdir(), "warp-cost-"));
    try {
      const file = path.join(dir, "metrics.txt");
      writeFileSync(
        file,
        'warp_produce_bytes_total{topic="t"} 4000000\nwarp_dynamodb_capacity_units_total{table="f",kind="write"} 4400\nwarp_s3_requests_total{type="put"} 2\n',
      );
      const r = run({ measured: file, json: true, throughput: "1MB" });
      assert.equal(r.code, 0, r.stderr);
      const out = JSON.parse(r.stdout) as {
        thisDesign: (JsonRow & { design: string })[];
        measured: { wruPerMB: number };
      };
      assert.equal(out.measured.wruPerMB, 1100);
      assert.ok(out.thisDesign.some((row) => row.design === "warp-measured"));
      const missing = run({ measured: path.join(dir, "nope.txt") });
      assert.equal(missing.code, 2);
      assert.match(missing.stderr, /--measured: ENOENT/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("as a process: exit 2 for a bad number, JSON on stdout otherwise", () => {
    const tsx = path.join(ROOT, "node_modules", ".bin", "tsx");
    const bad = spawnSync(tsx, [path.join(ROOT, "cli", "warp.ts"), "cost", "--zones", "many"], {
      cwd: ROOT,
      encoding: "utf8",
    });
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /warp cost: invalid value "many" for flag --zones/);
    const ok = spawnSync(tsx, [path.join(ROOT, "cli", "warp.ts"), "cost", "--json"], { cwd: ROOT, encoding: "utf8" });
    assert.equal(ok.status, 0, ok.stderr);
    assert.equal((JSON.parse(ok.stdout) as { rows: unknown[] }).rows.length, 12);
  });
});
