/**
 * Index pages of compacted runs (docs/metadata-log.md 14.3, "Bounded state"; run-archiver.ts): the lease
 * holder writes a partition's oldest runs as a page object and appends `archiveRuns`; every agent's state
 * then holds one page segment instead of the runs. Checked on mem stores and, for the whole round, on
 * DynamoDB Local with the S3 server as the compaction bucket: every record is read back through pages,
 * ListOffsets answers by time and for the largest timestamp through them, garbage collection keeps the
 * objects only pages reference, retention drops pages, a page whose command never landed (the holder
 * killed between its PUT and its append) is garbage and nothing is lost, and the swap lands only on the
 * exact runs it names.
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { CreateBucketCommand, S3Client } from "@aws-sdk/client-s3";
import { LOCAL_AWS, startDynamoDbLocal, type DynamoDbLocal } from "../../../e2e/support/dynamodb-local.js";
import { startS3Server, type S3Server } from "../../../e2e/support/s3-server.js";
import { Compactor } from "../../src/background/compactor.js";
import { GarbageCollector } from "../../src/background/gc.js";
import { archiveCommand, planPages, RunArchiver } from "../../src/background/run-archiver.js";
import { ObjectCache } from "../../src/fetch/object-cache.js";
import { PartitionReader, runKey } from "../../src/fetch/reader.js";
import type { ArchiveRunsCommand } from "../../src/metadata/commands.js";
import { ENTRY_FORMAT } from "../../src/metadata/commands.js";
import { MetadataLog } from "../../src/metadata/log.js";
import { decodeRunPage } from "../../src/metadata/run-page.js";
import { ClusterState } from "../../src/metadata/state.js";
import { storedFormat, SNAPSHOT_MAGIC } from "../../src/metadata/format.js";
import { encodeSnapshot } from "../../src/metadata/snapshot-codec.js";
import { ApiKey, ErrorCode } from "../../src/protocol/index.js";
import { Authorizer } from "../../src/security/authorizer.js";
import type { AgentContext } from "../../src/server/context.js";
import { openDynamoStores } from "../../src/store/dynamodb/index.js";
import { openS3ObjectStore } from "../../src/store/s3/index.js";
import { MemMetadataStore, MemObjectStore } from "../../src/store/mem.js";
import type { MetadataStore, ObjectStore } from "../../src/store/types.js";
import { callHandler } from "../support/handler-call.js";
import { useLocalAwsCredentials } from "../support/dynamodb-agents.js";
import {
  closeFixture,
  createTopic,
  listKeys,
  logger,
  openFixture,
  produceFile,
  verifyReadBack,
  type Fixture,
} from "./support.js";

const T0 = 1_700_000_000_000;
const PAGE_RUNS = 4;
/** Compacted runs made per partition: more than 2 × PAGE_RUNS + PAGE_RUNS, so two pages are due. */
const RUNS = 13;
const RECORDS = 3;

interface StoreSet {
  readonly ingestion: ObjectStore;
  readonly compaction: ObjectStore;
  readonly metadata: MetadataStore;
  close?(): Promise<void>;
}

function memStores(): StoreSet {
  return { ingestion: new MemObjectStore(), compaction: new MemObjectStore(), metadata: new MemMetadataStore() };
}

/**
 * Topic "t" (2 partitions): partition 0 gets RUNS compacted runs (one per compaction pass), batch n with
 * timestamp (n + 1) × 1000, appended at T0 + n; partition 1 gets 3 runs (too few for a page).
 */
async function withRuns(stores: StoreSet): Promise<Fixture> {
  const f = await openFixture(2, stores);
  await createTopic(f, "t", 2);
  const compactor = new Compactor(
    { ingestion: f.ingestion, compaction: f.compaction, log: f.logs[0]!, logger },
    { minAgeMs: 0, mergeRunsBelowBytes: 0 },
  );
  for (let n = 0; n < RUNS; n++) {
    const batches = [{ topic: "t", partition: 0, records: RECORDS, timestamp: (n + 1) * 1000, valueBytes: 50 }];
    // Partition 1's runs share the newest passes' objects: the oldest objects hold partition 0's runs only.
    if (n >= RUNS - 3)
      batches.push({ topic: "t", partition: 1, records: RECORDS, timestamp: (n + 1) * 1000, valueBytes: 50 });
    await produceFile(f, n % 2, batches, T0 + n);
    const stats = await compactor.runOnce(T0 + 60_000 + n);
    assert.notEqual(stats.key, null, `pass ${n} compacted`);
  }
  assert.deepEqual(stores0(f), Array(RUNS).fill("c"));
  return f;
}

function stores0(f: Fixture, log = 0): string[] {
  return f.logs[log]!.state.partition("t", 0)!.segments.map((s) => s.location.store);
}

function archiver(f: Fixture, log = 0): RunArchiver {
  return new RunArchiver({ compaction: f.compaction, log: f.logs[log]!, logger }, { pageRuns: PAGE_RUNS, minAgeMs: 0 });
}

function gc(f: Fixture): GarbageCollector {
  return new GarbageCollector(
    { ingestion: f.ingestion, compaction: f.compaction, log: f.logs[0]!, logger },
    { graceMs: 0 },
  );
}

function agentReading(f: Fixture, log = 1): AgentContext {
  return {
    metadata: f.logs[log]!,
    reader: new PartitionReader(f.ingestion, f.compaction, new ObjectCache(1 << 20)),
    log: logger,
    authorizer: Authorizer.off(),
  } as unknown as AgentContext;
}

async function listOffset(agent: AgentContext, partition: number, timestamp: bigint) {
  const out = await callHandler(agent, ApiKey.ListOffsets, 7, {
    replicaId: -1,
    isolationLevel: 0,
    topics: [{ name: "t", partitions: [{ partitionIndex: partition, currentLeaderEpoch: -1, timestamp }] }],
  });
  return out.topics[0]!.partitions[0]!;
}

/** The same state in both logs, compared in full (JSON snapshots of both). */
async function assertSameState(f: Fixture): Promise<void> {
  for (const l of f.logs) await l.catchUp();
  assert.equal(f.logs[1]!.state.toSnapshot().toString(), f.logs[0]!.state.toSnapshot().toString());
  assert.deepEqual([...f.logs[1]!.state.objectRefs].sort(), [...f.logs[0]!.state.objectRefs].sort());
}

/** The whole round, on whichever stores. */
function pageRound(name: string, open: () => Promise<StoreSet>): void {
  describe(`index pages on ${name}`, function () {
    this.timeout(120_000);
    let f: Fixture;

    beforeEach(async () => {
      f = await withRuns(await open());
    });

    afterEach(async () => {
      await closeFixture(f);
    });

    it("archives the oldest runs of a partition holding more than two pages' worth, and serves every record through the pages", async () => {
      const refsBefore = new Map(f.logs[0]!.state.objectRefs);
      const first = await archiver(f).runOnce(T0 + 120_000);
      assert.deepEqual(first, { written: 1, applied: 1, runs: PAGE_RUNS, pageBytes: first.pageBytes });
      // 13 runs: one page of 4, then 9 runs (more than 8): the next pass takes the next 4.
      const second = await archiver(f).runOnce(T0 + 120_001);
      assert.equal(second.applied, 1);
      const third = await archiver(f).runOnce(T0 + 120_002);
      assert.equal(third.written, 0, "5 runs after two pages: no page due");
      assert.deepEqual(stores0(f), ["p", "p", ...Array(RUNS - 2 * PAGE_RUNS).fill("c")]);
      assert.deepEqual(
        f.logs[0]!.state.partition("t", 1)!.segments.map((s) => s.location.store),
        ["c", "c", "c"],
        "a partition holding little gets no page",
      );
      const p = f.logs[0]!.state.partition("t", 0)!;
      assert.equal(p.segments[0]!.baseOffset, 0);
      assert.equal(p.segments[0]!.lastOffset, PAGE_RUNS * RECORDS - 1);
      assert.equal(p.segments[1]!.baseOffset, PAGE_RUNS * RECORDS);
      // The runs' objects are still referenced once per run (now through the pages), and the pages too.
      const refs = f.logs[0]!.state.objectRefs;
      for (const [key, n] of refsBefore) assert.equal(refs.get(key), n, `references of ${key}`);
      for (const s of p.segments.slice(0, 2)) assert.equal(refs.get(s.location.key), 1);
      // The page object lists the runs it replaced.
      const page = decodeRunPage(await f.compaction.get(p.segments[0]!.location.key), "page");
      assert.equal(page.runs.length, PAGE_RUNS);
      assert.equal(page.partition, 0);
      await assertSameState(f);
      // Every batch through a fresh reader of the other agent, from every offset.
      assert.equal(await verifyReadBack(f, f.logs[1]!), RUNS + 3);
      // A read from a page's first offset with room for everything stays in the page.
      const reader = new PartitionReader(f.ingestion, f.compaction, new ObjectCache(1 << 20));
      const whole = await reader.read(f.logs[1]!.state.partition("t", 0)!, 0, 1 << 20);
      assert.equal(whole.chunks.length, PAGE_RUNS, "one chunk per run of the first page");
      // From the middle of a run inside the second page.
      const mid = await reader.read(f.logs[1]!.state.partition("t", 0)!, PAGE_RUNS * RECORDS + 4, 1);
      assert.equal(Buffer.concat(mid.chunks).readBigInt64BE(0), BigInt(PAGE_RUNS * RECORDS + 3));
    });

    it("reads ahead through a page's runs after a read from it", async () => {
      await archiver(f).runOnce(T0 + 120_000);
      await f.logs[1]!.catchUp();
      const p = f.logs[1]!.state.partition("t", 0)!;
      const cache = new ObjectCache(1 << 20);
      const reader = new PartitionReader(f.ingestion, f.compaction, cache);
      await reader.read(p, 0, 1);
      const runs = await reader.pageRuns(p.segments[0]!);
      assert.ok(cache.has(runKey(runs[0]!.location)), "the run read is cached");
      assert.ok(!cache.has(runKey(runs[1]!.location)), "the next is not, before read-ahead");
      reader.readAhead(p, 0, 1);
      for (const r of runs) assert.ok(cache.has(runKey(r.location)), `run at ${r.baseOffset} loading or cached`);
      // The runs after the page too (the partition's own segments).
      assert.ok(cache.has(runKey(p.segments[1]!.location)));
    });

    it("answers ListOffsets by time and for the largest timestamp through pages", async () => {
      await archiver(f).runOnce(T0 + 120_000);
      await archiver(f).runOnce(T0 + 120_001);
      assert.deepEqual(stores0(f, 0).slice(0, 2), ["p", "p"]);
      await f.logs[1]!.catchUp();
      const agent = agentReading(f);
      // Batch n (offsets 3n..3n+2) has timestamp (n + 1) × 1000.
      for (const [target, offset, timestamp] of [
        [0n, 0n, 1000n],
        [1500n, 3n, 2000n],
        [4000n, 9n, 4000n],
        [6001n, 18n, 7000n],
        [13_000n, 36n, 13_000n],
      ] as const) {
        const answer = await listOffset(agent, 0, target);
        assert.equal(answer.errorCode, ErrorCode.NONE);
        assert.equal(answer.offset, offset, `offset for ${target}`);
        assert.equal(answer.timestamp, timestamp, `timestamp for ${target}`);
      }
      assert.equal((await listOffset(agent, 0, 13_001n)).offset, -1n);
      // After a truncation into the first page, the largest timestamp is still found in the runs.
      const [r] = await f.logs[0]!.propose([
        { type: "truncate", topic: "t", partition: 0, offset: 5, topicId: topicIdOf(f) },
      ]);
      assert.equal(r!.errorCode, ErrorCode.NONE);
      await f.logs[1]!.catchUp();
      assert.equal((await listOffset(agent, 0, 1000n)).offset, 5n, "no answer below the log start");
      const max = await listOffset(agent, 0, -3n);
      assert.deepEqual([max.offset, max.timestamp], [36n, 13_000n]);
    });

    it("keeps the objects only pages reference through garbage collection, and drops pages with retention", async () => {
      await archiver(f).runOnce(T0 + 120_000);
      await archiver(f).runOnce(T0 + 120_001);
      const pages = f.logs[0]!.state.partition("t", 0)!
        .segments.slice(0, 2)
        .map((s) => s.location.key);
      const runsOfFirst = decodeRunPage(await f.compaction.get(pages[0]!), "page").runs.map((r) => r.location.key);
      // The runs of the first page lie in objects no in-heap segment names any more.
      for (const key of runsOfFirst)
        assert.ok(
          !f.logs[0]!.state.partition("t", 0)!.segments.some((s) => s.location.key === key),
          `${key} is referenced only from a page`,
        );
      const first = await gc(f).runOnce(T0 + 10 * 60_000);
      assert.deepEqual(first.deletedCompacted, [], "nothing a page or a segment references is collected");
      assert.equal(await verifyReadBack(f, f.logs[0]!), RUNS + 3);

      // Retention by bytes: keep the runs after the pages; both pages go, as whole pages.
      const keptBytes = f.logs[0]!.state.partition("t", 0)!
        .segments.slice(2)
        .reduce((n, s) => n + s.location.len, 0);
      const [r] = await f.logs[0]!.propose([
        {
          type: "alterConfigs",
          name: "t",
          set: { "retention.bytes": String(keptBytes) },
          replace: false,
        },
      ]);
      assert.equal(r!.errorCode, ErrorCode.NONE);
      const { RetentionEnforcer } = await import("../../src/background/retention.js");
      await new RetentionEnforcer({ log: f.logs[0]!, logger }).runOnce(T0 + 10 * 60_000);
      const p = f.logs[0]!.state.partition("t", 0)!;
      assert.ok(!p.segments.some((s) => s.location.store === "p"), "the pages are dropped");
      assert.equal(p.logStartOffset, 2 * PAGE_RUNS * RECORDS);
      assert.equal(f.logs[0]!.state.pageSegments, 0);
      for (const key of [...pages, ...runsOfFirst])
        assert.ok(!f.logs[0]!.state.objectRefs.has(key), `${key} unreferenced`);
      const collected = await gc(f).runOnce(T0 + 20 * 60_000);
      for (const key of pages) assert.ok(collected.deletedCompacted.includes(key), `page ${key} collected`);
      for (const key of runsOfFirst) assert.ok(collected.deletedCompacted.includes(key), `run object ${key} collected`);
      await assertSameState(f);
      assert.ok((await verifyReadBack(f, f.logs[1]!)) > 0);
    });

    it("leaves a page whose command never landed to garbage collection and loses nothing", async () => {
      const log = f.logs[0]!;
      // The lease holder dies between the page's PUT and its append: its proposal never reaches the log.
      const propose = log.propose.bind(log);
      log.propose = () => Promise.reject(new Error("killed before appending"));
      await assert.rejects(archiver(f).runOnce(T0 + 120_000), /killed before appending/);
      log.propose = propose;
      const orphans = (await listKeys(f.compaction, "compacted/")).filter((k) => k.includes("-index-"));
      assert.equal(orphans.length, 1, "the page was written");
      assert.deepEqual(stores0(f), Array(RUNS).fill("c"), "the state is unchanged");
      const collected = await gc(f).runOnce(T0 + 10 * 60_000);
      assert.deepEqual(collected.deletedCompacted, orphans, "only the orphaned page is collected");
      // The next holder writes the page again (after its compaction pass caught it up), and every record is served.
      await f.logs[1]!.catchUp();
      assert.equal((await archiver(f, 1).runOnce(T0 + 10 * 60_000)).applied, 1);
      await assertSameState(f);
      assert.equal(await verifyReadBack(f, f.logs[0]!), RUNS + 3);
    });
  });
}

/** What the fold holds of the topic's partitions and the objects they reference (not the applied index). */
function heldState(state: ClusterState): string {
  const t = state.topics.get("t")!;
  return JSON.stringify({ partitions: t.partitions, refs: [...state.objectRefs].sort(), pages: state.pageSegments });
}

function topicIdOf(f: Fixture): string {
  return f.logs[0]!.state.topics.get("t")!.topicId;
}

pageRound("mem stores", async () => memStores());

describe("index pages on DynamoDB Local and the S3 server", function () {
  this.timeout(240_000);
  let ddb: DynamoDbLocal;
  let s3: S3Server;
  let s3client: S3Client;
  let restoreEnv = (): void => {};
  const stores: StoreSet[] = [];

  before(async () => {
    restoreEnv = useLocalAwsCredentials();
    ddb = await startDynamoDbLocal();
    s3 = await startS3Server();
    s3client = new S3Client({ ...LOCAL_AWS, endpoint: s3.endpoint, forcePathStyle: true });
  });

  after(async () => {
    for (const s of stores) await s.close?.();
    s3client?.destroy();
    await s3?.stop();
    await ddb?.stop();
    restoreEnv();
  });

  pageRound("DynamoDB Local and the S3 server", async () => {
    const id = randomBytes(3).toString("hex");
    const bucket = `pages-${id}`;
    await s3client.send(new CreateBucketCommand({ Bucket: bucket }));
    const dynamo = await openDynamoStores(
      {
        kind: "dynamodb",
        region: "us-east-1",
        filesTable: `pages-${id}-files`,
        chunksTable: `pages-${id}-chunks`,
        endpoint: ddb.endpoint,
      },
      { createTables: true },
    );
    const compaction = openS3ObjectStore({
      kind: "s3",
      bucket,
      prefix: "warp/",
      forcePathStyle: true,
      endpoint: s3.endpoint,
      region: "us-east-1",
    });
    const set: StoreSet = {
      ingestion: dynamo.ingestion,
      metadata: dynamo.metadata,
      compaction,
      close: async () => {
        await compaction.close();
        await dynamo.close();
      },
    };
    stores.push(set);
    return set;
  });
});

describe("archiveRuns in the fold", () => {
  let f: Fixture;

  before(async () => {
    f = await withRuns(memStores());
  });

  after(async () => {
    await closeFixture(f);
  });

  it("swaps only the exact runs the command names; any other command leaves the state as it was", async () => {
    const log = f.logs[0]!;
    const [page] = await planPages(log.state, { pageRuns: PAGE_RUNS, maxPages: 1, before: Infinity });
    assert.ok(page);
    const exact = archiveCommand(page, "compacted/0000000000000-index-x", 100);
    const before = heldState(log.state);
    const variants: Array<[string, ArchiveRunsCommand]> = [
      [
        "one run fewer",
        {
          ...exact,
          runs: PAGE_RUNS - 1,
          objects: exact.objects.slice(1),
          objectRuns: exact.objectRuns.slice(1),
          lastOffset: exact.lastOffset - RECORDS,
        },
      ],
      ["another first offset", { ...exact, baseOffset: 1 }],
      ["another last offset", { ...exact, lastOffset: exact.lastOffset + 1 }],
      ["other bytes", { ...exact, bytes: exact.bytes + 1 }],
      ["another object", { ...exact, objects: ["compacted/elsewhere", ...exact.objects.slice(1)] }],
      ["all the runs and more", { ...exact, runs: RUNS + 1, objects: [exact.objects[0]!], objectRuns: [RUNS + 1] }],
      ["a re-created topic's id", { ...exact, topicId: "f".repeat(32) }],
    ];
    for (const [what, c] of variants) {
      await log.propose([c]);
      assert.equal(heldState(log.state), before, `${what}: nothing changes`);
    }
    const [malformed] = await log
      .propose([{ ...exact, objects: [], objectRuns: [] }])
      .catch((err: Error) => [{ errorCode: -1, message: err.message }]);
    assert.match(String(malformed!.message), /objects must be a non-empty array/);
    await log.propose([exact]);
    assert.deepEqual(stores0(f), ["p", ...Array(RUNS - PAGE_RUNS).fill("c")]);
    // The same command again: the runs it names are gone, nothing changes.
    const once = heldState(log.state);
    await log.propose([exact]);
    assert.equal(heldState(log.state), once);
  });

  it("keeps pages out of compaction's merges", async () => {
    const log = f.logs[0]!;
    assert.equal(stores0(f)[0], "p");
    // Every run below the merge threshold and old enough: the runs merge, the page stays as it is.
    const page = log.state.partition("t", 0)!.segments[0]!;
    const compactor = new Compactor(
      { ingestion: f.ingestion, compaction: f.compaction, log, logger },
      { minAgeMs: 0, mergeRunsBelowBytes: 1 << 20, mergeAfterMs: 0 },
    );
    await compactor.runOnce(T0 + 3_600_000);
    const segments = log.state.partition("t", 0)!.segments;
    assert.equal(segments[0], page, "the page segment is untouched");
    assert.deepEqual(
      segments.map((s) => s.location.store),
      ["p", "c"],
      "the runs after it merged into one",
    );
  });

  it("round-trips pages through binary snapshots (format 9) and their references", async () => {
    const state = f.logs[0]!.state;
    assert.ok(state.pageSegments > 0);
    const { view, release } = state.captureSnapshot();
    const encoded = await encodeSnapshot(view, "json");
    release();
    const format = storedFormat(encoded.data, SNAPSHOT_MAGIC);
    assert.deepEqual(
      format.kind === "binary" ? format.version : format.kind,
      9,
      "written in binary format 9 even when JSON is asked",
    );
    const restored = ClusterState.fromSnapshot(encoded.data, 1n);
    assert.equal(restored.toSnapshot().toString(), state.toSnapshot().toString());
    assert.deepEqual([...restored.objectRefs].sort(), [...state.objectRefs].sort());
    assert.equal(restored.pageSegments, state.pageSegments);
    // The JSON form (what tests compare states in) carries them too.
    const fromJson = ClusterState.fromSnapshot(state.toSnapshot(), 1n);
    assert.deepEqual([...fromJson.objectRefs].sort(), [...state.objectRefs].sort());
  });

  it("writes no page while a live agent reads an older entry level", async () => {
    const g = await withRuns(memStores());
    try {
      const old = new MetadataLog(g.metadata, {
        tailIntervalMs: 0,
        snapshotEveryEntries: 0,
        keepEntriesAfterSnapshot: 10,
        writesSnapshots: () => false,
        readersFormat: () => ENTRY_FORMAT.runPages - 1,
        logger,
      });
      await old.open();
      const stats = await new RunArchiver(
        { compaction: g.compaction, log: old, logger },
        { pageRuns: PAGE_RUNS, minAgeMs: 0 },
      ).runOnce(T0 + 120_000);
      assert.equal(stats.written, 0);
      assert.deepEqual(
        (await listKeys(g.compaction, "compacted/")).filter((k) => k.includes("-index-")),
        [],
      );
      await old.close();
    } finally {
      await closeFixture(g);
    }
  });

  it("deletes the pages it wrote and appends nothing once the lease is lost", async () => {
    const g = await withRuns(memStores());
    try {
      let leader = true;
      const compaction = g.compaction;
      // The lease goes while the pages are written (as it may during their PUTs).
      const putting: ObjectStore = Object.assign(Object.create(compaction) as ObjectStore, {
        put: async (key: string, data: Buffer) => {
          await compaction.put(key, data);
          leader = false;
        },
      });
      const before = heldState(g.logs[0]!.state);
      const stats = await new RunArchiver(
        { compaction: putting, log: g.logs[0]!, logger, isLeader: () => leader },
        { pageRuns: PAGE_RUNS, minAgeMs: 0 },
      ).runOnce(T0 + 120_000);
      assert.equal(stats.applied, 0);
      assert.deepEqual(
        (await listKeys(compaction, "compacted/")).filter((k) => k.includes("-index-")),
        [],
      );
      await g.logs[0]!.catchUp();
      assert.equal(heldState(g.logs[0]!.state), before);
    } finally {
      await closeFixture(g);
    }
  });

  it("waits until the runs are minAgeMs old", async () => {
    const g = await withRuns(memStores());
    try {
      const young = new RunArchiver(
        { compaction: g.compaction, log: g.logs[0]!, logger },
        { pageRuns: PAGE_RUNS, minAgeMs: 60_000 },
      );
      // The runs were appended at T0 + n: the first page's newest at T0 + 3.
      assert.equal((await young.runOnce(T0 + 30_000)).written, 0);
      assert.equal((await young.runOnce(T0 + 60_000 + PAGE_RUNS - 1)).applied, 1);
    } finally {
      await closeFixture(g);
    }
  });
});
