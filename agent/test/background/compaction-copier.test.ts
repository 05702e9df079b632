/**
 * Compaction's data path in a worker thread (compaction-copier.ts WorkerCopier), on DynamoDB Local and a
 * real S3 API server: the worker opens its own clients from the bucket URLs, reads and checks the sources,
 * writes the object, and reports its store calls and units to this thread. The copy code is the one the
 * event loop runs on mem and file stores (compaction-copy.ts CopySession; compactor.test.ts covers it there).
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { promisify } from "node:util";
import { setTimeout as sleep } from "node:timers/promises";
import { randomBytes } from "node:crypto";
import { CreateBucketCommand, GetObjectCommand, S3Client } from "@aws-sdk/client-s3";
import type { BucketUrl, DynamoBucketUrl, S3BucketUrl } from "../../../common/bucket-url.js";
import { Compactor, type CompactionStats } from "../../src/background/compactor.js";
import { DEFAULT_COPY_LIMITS, SEGMENT_FIELDS, SegmentStatus } from "../../src/background/compaction-copy.js";
import { copiesInWorker, WorkerCopier, workerExecArgv } from "../../src/background/compaction-copier.js";
import { openDynamoStores } from "../../src/store/dynamodb/index.js";
import type { StoreCall } from "../../src/store/measured.js";
import { openS3ObjectStore } from "../../src/store/s3/index.js";
import { storeUsage } from "../../src/store/usage.js";
import { iterateBatches } from "../../src/records/record-batch.js";
import { ObjectCache } from "../../src/fetch/object-cache.js";
import { MemMetadataStore } from "../../src/store/mem.js";
import type { Stores } from "../../src/store/types.js";
import { capturedLogger } from "../support/captured-logger.js";
import { REPO_ROOT } from "../support/agents.js";
import { startDynamo, startS3 } from "../store/servers.js";
import { eventually } from "../../../e2e/support/eventually.js";
import {
  closeFixture,
  createTopic,
  logger,
  openFixture,
  produceFile,
  segmentStores,
  verifyReadBack,
  type Fixture,
} from "./support.js";

const REGION = "us-east-1";
const T0 = Date.UTC(2026, 0, 1);
const CREDENTIALS = ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"] as const;

const execFileAsync = promisify(execFile);

describe("compaction data path in a worker thread (DynamoDB Local + S3)", function () {
  this.timeout(120_000);
  let dynamoEndpoint = "";
  let s3Endpoint = "";
  const stops: Array<() => Promise<void>> = [];
  const savedEnv = new Map<string, string | undefined>();
  let counter = 0;
  const open: Array<{ fixture: Fixture; dynamo: Stores; copier?: WorkerCopier }> = [];

  before(async function () {
    this.timeout(240_000);
    // Both threads' clients take their credentials from the environment, as an agent's do.
    for (const k of CREDENTIALS) savedEnv.set(k, process.env[k]);
    process.env.AWS_ACCESS_KEY_ID = "warplocal";
    process.env.AWS_SECRET_ACCESS_KEY = "warplocal";
    delete process.env.AWS_SESSION_TOKEN;
    delete process.env.AWS_PROFILE;
    const [dynamo, s3] = await Promise.all([startDynamo(), startS3()]);
    dynamoEndpoint = dynamo.endpoint;
    s3Endpoint = s3.endpoint;
    stops.push(
      () => dynamo.stop(),
      () => s3.stop(),
    );
  });

  afterEach(async () => {
    for (const o of open.splice(0)) {
      await o.copier?.close();
      await closeFixture(o.fixture);
      await o.dynamo.close();
    }
  });

  after(async () => {
    for (const stop of stops) await stop();
    for (const [k, v] of savedEnv) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  });

  /** Fresh tables and bucket: ingestion files on DynamoDB, compacted objects on S3, the log in memory. */
  async function fixture(): Promise<{
    fixture: Fixture;
    urls: { ingestion: DynamoBucketUrl; compaction: S3BucketUrl };
  }> {
    const id = `${process.pid}-${++counter}-${randomBytes(3).toString("hex")}`;
    const ingestion: DynamoBucketUrl = {
      kind: "dynamodb",
      region: REGION,
      filesTable: `warp-files-${id}`,
      chunksTable: `warp-chunks-${id}`,
      endpoint: dynamoEndpoint,
    };
    const bucket = `warp-copy-${id}`;
    const s3 = new S3Client({ region: REGION, endpoint: s3Endpoint, forcePathStyle: true });
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
    s3.destroy();
    const compaction: S3BucketUrl = {
      kind: "s3",
      bucket,
      region: REGION,
      endpoint: s3Endpoint,
      forcePathStyle: true,
      prefix: "",
    };
    const dynamo = await openDynamoStores(ingestion, { createTables: true });
    const f = await openFixture(2, {
      ingestion: dynamo.ingestion,
      compaction: openS3ObjectStore(compaction),
      metadata: new MemMetadataStore(),
    });
    open.push({ fixture: f, dynamo });
    return { fixture: f, urls: { ingestion, compaction } };
  }

  /** The same files in any fixture: two topics, both agents, a few files each (times T0 + i). */
  async function produce(f: Fixture): Promise<void> {
    await createTopic(f, "a", 3);
    await createTopic(f, "b", 2);
    for (let i = 0; i < 4; i++)
      for (const agent of [0, 1])
        await produceFile(
          f,
          agent,
          [
            { topic: "a", partition: 0, records: 3, valueBytes: 200 },
            { topic: "a", partition: 1, records: 2, valueBytes: 2000 },
            { topic: "a", partition: 2, records: 1 },
            { topic: "b", partition: 0, records: 5, valueBytes: 50 },
            { topic: "b", partition: 1, records: 4, valueBytes: 30_000 },
          ],
          T0 + i,
        );
  }

  async function objectBytes(url: S3BucketUrl, key: string): Promise<Buffer> {
    const s3 = new S3Client({ region: REGION, endpoint: s3Endpoint, forcePathStyle: true });
    try {
      const got = await s3.send(new GetObjectCommand({ Bucket: url.bucket, Key: key }));
      return Buffer.from(await got.Body!.transformToByteArray());
    } finally {
      s3.destroy();
    }
  }

  it("compacts through the worker, never asking the event loop's stores, and counts the worker's store calls and units here", async () => {
    assert.equal(
      copiesInWorker(
        { kind: "dynamodb", region: REGION, filesTable: "f", chunksTable: "c" },
        { kind: "mem", name: "x" },
      ),
      false,
      "a mem store is never opened in a worker",
    );
    const inWorker = await fixture();
    await produce(inWorker.fixture);
    assert.ok(copiesInWorker(inWorker.urls.ingestion, inWorker.urls.compaction));
    assert.equal(
      copiesInWorker(inWorker.urls.ingestion, inWorker.urls.compaction, false),
      false,
      "-compactionWorker=false: in the event loop",
    );
    assert.equal(
      copiesInWorker(inWorker.urls.ingestion, inWorker.urls.ingestion),
      false,
      "with DynamoDB alone compaction copies in the event loop",
    );
    let fileBytes = 0;
    for await (const o of inWorker.fixture.ingestion.list("")) fileBytes += o.size;

    const calls: StoreCall[] = [];
    const copier = new WorkerCopier({ ...inWorker.urls, limits: DEFAULT_COPY_LIMITS }, (c) => calls.push(c));
    open[0]!.copier = copier;
    // The compactor's own stores must not be asked for the data: every call to them fails the test.
    const refuse = new Proxy(inWorker.fixture.ingestion, {
      get(target, prop, receiver) {
        if (prop === "get" || prop === "put")
          return () => Promise.reject(new Error(`the event loop's store was asked to ${String(prop)}`));
        return Reflect.get(target, prop, receiver) as unknown;
      },
    });
    const usageBefore = storeUsage.snapshot();
    const stats: CompactionStats[] = [];
    const compactor = new Compactor(
      {
        ingestion: refuse,
        compaction: refuse,
        log: inWorker.fixture.logs[1]!,
        logger,
        copier,
        onCompaction: (s) => stats.push(s),
      },
      { maxRunBytes: 40_000 },
    );
    const pass = await compactor.runOnce(T0 + 60_000);

    assert.ok(pass.key, "the pass wrote an object");
    assert.deepEqual(stats, [pass]);
    assert.equal(pass.sourceObjects, 8);
    assert.equal(pass.segments, 8 * 5);
    assert.equal(pass.appliedRuns, pass.runs);
    assert.equal(pass.bytes, fileBytes, "every batch of every file, once");
    assert.equal((await objectBytes(inWorker.urls.compaction, pass.key)).length, fileBytes);
    // Every agent reads the compacted data back (from S3 now): each batch as produced, with its final offset.
    for (const log of inWorker.fixture.logs) {
      await log.catchUp();
      for (const p of [0, 1, 2]) assert.deepEqual(segmentStores(log, "a", p), ["c"]);
    }
    assert.equal(await verifyReadBack(inWorker.fixture, inWorker.fixture.logs[0]!), 8 * 5);

    // The worker's calls reached this thread's observer and its units this thread's counters.
    const gets = calls.filter((c) => c.op === "get" && c.store === "dynamodb" && c.outcome === "ok");
    assert.equal(gets.length, 8, "one read per ingestion file");
    assert.deepEqual(
      calls.filter((c) => c.op === "put").map((c) => [c.store, c.outcome]),
      [["s3", "ok"]],
    );
    const usage = storeUsage.snapshot();
    assert.ok(usage.dynamoReadUnits > usageBefore.dynamoReadUnits, "the worker's read units are counted here");
    assert.ok(usage.s3Requests.put >= usageBefore.s3Requests.put + 1, "the worker's S3 put is counted here");
  });

  it("takes the ingestion files the fetch cache holds along to the worker instead of reading them again", async () => {
    const { fixture: f, urls } = await fixture();
    await produce(f);
    const files: Array<{ key: string; size: number }> = [];
    for await (const o of f.ingestion.list("")) files.push({ key: o.key, size: o.size });
    const cache = new ObjectCache(64 * 1024 * 1024);
    // Two files held, each as a view into a larger buffer with other bytes around it (the packing must send
    // exactly the view's bytes).
    for (const { key } of files.slice(0, 2)) {
      const data = await f.ingestion.get(key);
      const around = Buffer.alloc(data.length + 2000, 0xee);
      data.copy(around, 1000);
      cache.put(key, around.subarray(1000, 1000 + data.length));
    }
    const calls: StoreCall[] = [];
    const copier = new WorkerCopier({ ...urls, limits: DEFAULT_COPY_LIMITS }, (c) => calls.push(c));
    open[0]!.copier = copier;
    const compactor = new Compactor(
      { ingestion: f.ingestion, compaction: f.compaction, log: f.logs[1]!, logger, copier, cache },
      { maxRunBytes: 40_000 },
    );
    const pass = await compactor.runOnce(T0 + 60_000);
    assert.equal(pass.sourceObjects, files.length);
    assert.equal(
      pass.bytes,
      files.reduce((n, x) => n + x.size, 0),
    );
    assert.equal(calls.filter((c) => c.op === "get").length, files.length - 2, "the held files are not read");
    assert.equal(await verifyReadBack(f, f.logs[0]!), 8 * 5);
  });

  it("reports missing sources and segments that do not hold their offsets, and copies the rest", async () => {
    const { fixture: f, urls } = await fixture();
    await createTopic(f, "t", 2);
    const kept = await produceFile(f, 0, [{ topic: "t", partition: 0, records: 2 }], T0);
    const lost = await produceFile(f, 0, [{ topic: "t", partition: 1, records: 2 }], T0 + 1);
    await f.ingestion.delete([lost]);
    const copier = new WorkerCopier({ ...urls, limits: DEFAULT_COPY_LIMITS });
    open[0]!.copier = copier;

    // Straight to the copier: segment 1 claims 3 offsets where its batch holds 2.
    const p0 = f.logs[0]!.state.partition("t", 0)!.segments[0]!;
    const p1 = f.logs[0]!.state.partition("t", 1)!.segments[0]!;
    const segments = new Float64Array(3 * SEGMENT_FIELDS);
    segments.set([0, p0.location.pos, p0.location.len, 0, 2], 0);
    segments.set([0, p0.location.pos, p0.location.len, 0, 3], SEGMENT_FIELDS);
    segments.set([1, p1.location.pos, p1.location.len, 0, 2], 2 * SEGMENT_FIELDS);
    const checks = await copier.read({
      keys: [kept, lost],
      stores: Uint8Array.from([0, 0]),
      spans: Float64Array.from([0, p0.location.len, 0, p1.location.len]),
      segments,
      held: [],
    });
    assert.deepEqual([...checks.status], [SegmentStatus.ok, SegmentStatus.offsets, SegmentStatus.missing]);
    assert.deepEqual(checks.missing, [lost]);
    assert.equal(checks.sourceObjects, 1);
    copier.release(checks.pass);

    // Through the compactor: the missing file is logged, the other partition compacted.
    const captured = capturedLogger("error");
    const compactor = new Compactor({
      ingestion: f.ingestion,
      compaction: f.compaction,
      log: f.logs[1]!,
      logger: captured.logger,
      copier,
    });
    const stats = await compactor.runOnce(T0 + 60_000);
    assert.equal(stats.appliedRuns, 1);
    assert.deepEqual(
      captured.lines.map((l) => [l.message, l.key]),
      [["compaction source object is missing; its segments are skipped", lost]],
    );
  });

  it("stops a worker idle for idleMs, never one holding a pass's sources, and starts another for the next pass", async () => {
    const { fixture: f, urls } = await fixture();
    await createTopic(f, "t", 1);
    const file = await produceFile(f, 0, [{ topic: "t", partition: 0, records: 3 }], T0);
    const idleMs = 200;
    const copier = new WorkerCopier({ ...urls, limits: DEFAULT_COPY_LIMITS }, undefined, idleMs);
    open[0]!.copier = copier;
    const s = f.logs[0]!.state.partition("t", 0)!.segments[0]!;
    const request = () => ({
      keys: [file],
      stores: Uint8Array.from([0]),
      spans: Float64Array.from([0, s.location.len]),
      segments: Float64Array.from([0, s.location.pos, s.location.len, 40, 3]),
      held: [],
    });
    assert.equal(copier.running, false, "no worker before the first pass");
    const first = await copier.read(request());
    assert.deepEqual([...first.status], [SegmentStatus.ok]);
    // Idle for longer than idleMs, but with the pass's sources in the worker: it must stay.
    await sleep(idleMs * 3);
    assert.equal(copier.running, true, "a worker holding a pass's sources is not stopped");
    const written = await copier.write(first.pass, "compacted/idle-test", Int32Array.from([0]), true);
    assert.equal(written.bytes, s.location.len);
    assert.deepEqual(
      [...iterateBatches(written.data!)].map((b) => b.baseOffset),
      [40],
      "the object's batch carries its final offset",
    );
    assert.ok((await f.compaction.get("compacted/idle-test")).equals(written.data!));
    await eventually(() => !copier.running, { what: "the idle worker to stop", timeoutMs: 20_000 });
    // The next pass starts another worker.
    const second = await copier.read(request());
    assert.equal(copier.running, true);
    assert.deepEqual([...second.status], [SegmentStatus.ok]);
    copier.release(second.pass);
    await eventually(() => !copier.running, { what: "the idle worker to stop again", timeoutMs: 20_000 });
  });

  it("fails the pass with the worker's error when the worker cannot start, instead of waiting for it", async () => {
    const bad: BucketUrl = { kind: "file", path: "/nonexistent" };
    const copier = new WorkerCopier({
      ingestion: bad,
      compaction: bad,
      limits: DEFAULT_COPY_LIMITS,
    });
    try {
      const request = {
        keys: [],
        stores: new Uint8Array(0),
        spans: new Float64Array(0),
        segments: new Float64Array(0),
        held: [],
      };
      await assert.rejects(copier.read(request), /compaction worker failed: .*file:\/\/\/nonexistent.*opened again/);
      // A pass after that starts a worker again (and fails the same way here): nothing hangs.
      await assert.rejects(copier.read({ ...request, segments: new Float64Array(0) }), /compaction worker failed/);
    } finally {
      await copier.close();
    }
    await assert.rejects(
      copier.read({
        keys: [],
        stores: new Uint8Array(0),
        spans: new Float64Array(0),
        segments: new Float64Array(0),
        held: [],
      }),
      /compaction worker closed/,
    );
  });

  it("starts its worker from a process running code given on the command line (node -e)", async () => {
    // Inherited as they were, `--input-type=module -e CODE` stopped the worker before its code ran
    // (ERR_WORKER_INVALID_EXEC_ARGV); the worker still gets the rest (`--import tsx` loads its TypeScript).
    assert.deepEqual(
      workerExecArgv(["--import", "tsx", "--input-type=module", "-e", "code", "--max-old-space-size=512"]),
      ["--import", "tsx", "--max-old-space-size=512"],
    );
    assert.deepEqual(workerExecArgv(["--eval=code", "-p", "x", "--input-type", "module", "--enable-source-maps"]), [
      "--enable-source-maps",
    ]);
    const code = `
      import { WorkerCopier } from ${JSON.stringify(pathToFileURL(path.join(REPO_ROOT, "agent/src/background/compaction-copier.ts")).href)};
      const bad = { kind: "file", path: "/nonexistent" };
      const copier = new WorkerCopier({ ingestion: bad, compaction: bad, limits: { readConcurrency: 1, readBytesInFlight: 1 } });
      const empty = { keys: [], stores: new Uint8Array(0), spans: new Float64Array(0), segments: new Float64Array(0), held: [] };
      try { await copier.read(empty); } catch (err) { console.log(err.message); }
      await copier.close();`;
    const { stdout } = await execFileAsync(process.execPath, ["--import", "tsx", "--input-type=module", "-e", code], {
      cwd: REPO_ROOT,
    });
    // The refusal comes from the worker's own code: it started and ran.
    assert.match(stdout, /compaction worker failed: .*file:\/\/\/nonexistent.*opened again/);
  });
});
