/**
 * The sequencer (docs/metadata-log.md section 14.6) in one process: metadata logs sharing one in-memory
 * store, as agents share the DynamoDB table, the sequencer's route on a real HTTP server, and forwarders
 * sending to it over real HTTP. What is checked: commits through the sequencer are appended by it alone,
 * in the order each agent proposed them, and answered once the sender has folded them; a sequencer that
 * cannot take a commit leaves it to the sender, and one whose outcome is unknown fails it as unknown.
 */
import assert from "node:assert/strict";
import { createServer } from "node:net";
import { eventually } from "../../../e2e/support/eventually.js";
import { serveHttp, type RunningHttpServer } from "../../../common/http-server.js";
import { componentLogger } from "../../../common/logger.js";
import { Lease } from "../../src/background/lease.js";
import { IngestionBatcher } from "../../src/ingest/batcher.js";
import { IngestionHealth } from "../../src/ingest/health.js";
import type { BatchMeta, Command } from "../../src/metadata/commands.js";
import { decodeEntry } from "../../src/metadata/entry-codec.js";
import { MetadataLog, type MetadataLogOptions } from "../../src/metadata/log.js";
import { ProposalOutcomeUnknownError } from "../../src/metadata/proposal.js";
import { CommitForwarder, type CommitRoute } from "../../src/sequencer/forwarder.js";
import { SequencerService } from "../../src/sequencer/service.js";
import {
  APPLIED_HEADER,
  COMMIT_PATH,
  decodeCommitReply,
  decodeWatchReply,
  encodeCommitReply,
  encodeCommitRequest,
  encodeWatchReply,
  REPLY_ACCEPT,
  sequencerAddress,
  sequencerLeaseInfo,
  WATCH_PATH,
  type SequencerAddress,
} from "../../src/sequencer/wire.js";
import { FRAMED_REPLY_TYPE } from "../../src/sequencer/reply-frame.js";
import { TailWatcher } from "../../src/sequencer/watcher.js";
import { MemMetadataStore, MemObjectStore } from "../../src/store/mem.js";
import type { LogRecord, MetadataStore, ReadOptions } from "../../src/store/types.js";
import { incomingBatch } from "../ingest/support.js";

const logger = componentLogger("test");
const options: MetadataLogOptions = {
  tailIntervalMs: 20,
  snapshotEveryEntries: 0,
  keepEntriesAfterSnapshot: 10,
  writesSnapshots: () => false,
  logger,
};
const TOKEN = "token-of-this-test";

function batch(partition: number, producer?: { id: number; seq: number }): BatchMeta {
  return {
    topic: "t",
    partition,
    pos: 0,
    len: 10,
    count: 2,
    maxTimestamp: 0,
    producerId: producer?.id ?? -1,
    producerEpoch: producer ? 0 : -1,
    baseSequence: producer?.seq ?? -1,
  };
}

/** A JSON answer of `status` for one command, as a sequencer before framed answers sends it. */
function jsonReply(status: number, text: string) {
  return decodeCommitReply(status, Buffer.from(text), "application/json", 1);
}

/** A fetch response's reply to `commands` commands, in whichever form it came. */
async function replyOf(res: Response, commands: number) {
  return decodeCommitReply(
    res.status,
    Buffer.from(await res.arrayBuffer()),
    res.headers.get("content-type") ?? undefined,
    commands,
  );
}

function commit(key: string, b: BatchMeta): Command {
  return { type: "commitFile", key, size: 10, time: 1_767_225_600_000, batches: [b] };
}

/** A store whose appends can be held (a sequencer stuck in its append). */
class HoldingStore extends MemMetadataStore {
  hold: Promise<void> | null = null;
  override async append(index: bigint, data: Buffer): Promise<boolean> {
    if (this.hold) await this.hold;
    return super.append(index, data);
  }
}

interface Rig {
  readonly store: HoldingStore;
  readonly service: SequencerService;
  readonly sequencerLog: MetadataLog;
  readonly server: RunningHttpServer;
  readonly address: SequencerAddress;
  held: boolean;
  /** Requests the sequencer answered. */
  requests: number;
  close(): Promise<void>;
}

async function rig(gatherLingerMs = 0): Promise<Rig> {
  const store = new HoldingStore();
  const sequencerLog = new MetadataLog(store, { ...options, gatherLingerMs });
  await sequencerLog.open();
  await sequencerLog.propose([{ type: "createTopic", name: "t", topicId: "a".repeat(32), partitions: 4, configs: {} }]);
  const state = { held: true, requests: 0 };
  const service = new SequencerService({
    log: sequencerLog,
    isHeld: () => state.held,
    token: TOKEN,
    logger,
    onRequest: () => state.requests++,
  });
  const server = await serveHttp({
    port: 0,
    host: "127.0.0.1",
    routes: new Map(),
    postRoutes: new Map([
      [COMMIT_PATH, service.route],
      [WATCH_PATH, service.watchRoute],
    ]),
    logger,
  });
  return Object.assign(state, {
    store,
    service,
    sequencerLog,
    server,
    address: { owner: "sequencer", host: "127.0.0.1", port: server.port, token: TOKEN },
    close: async () => {
      await server.close();
      await sequencerLog.close();
    },
  });
}

/** `store`, counting its strongly consistent reads of the log (the tail's polls are eventually consistent). */
function countingReads(store: MetadataStore): { store: MetadataStore; reads: { consistent: number } } {
  const reads = { consistent: 0 };
  const counted = new Proxy(store, {
    get(target, prop) {
      if (prop === "read")
        return (from: bigint, limit: number, opts?: ReadOptions) => {
          if (opts?.consistent !== false) reads.consistent++;
          return target.read(from, limit, opts);
        };
      const value: unknown = Reflect.get(target, prop, target);
      return typeof value === "function" ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
  return { store: counted, reads };
}

async function agent(
  shared: MetadataStore,
  sequencer: () => SequencerAddress | null,
  extra: Partial<ConstructorParameters<typeof CommitForwarder>[1]> = {},
): Promise<{
  log: MetadataLog;
  forwarder: CommitForwarder;
  routes: CommitRoute[];
  requests: string[];
  reads: { consistent: number };
}> {
  const { store, reads } = countingReads(shared);
  const log = new MetadataLog(store, options);
  await log.open();
  const routes: CommitRoute[] = [];
  const requests: string[] = [];
  const forwarder = new CommitForwarder(
    log,
    {
      sequencer,
      logger,
      onCommit: (r) => routes.push(r),
      onRequest: (outcome) => requests.push(outcome),
      suspectMs: 60_000,
      ...extra,
    },
    `agent-${Math.random()}`,
  );
  return { log, forwarder, routes, requests, reads };
}

/** The proposer of every entry from `from` on. */
async function proposers(store: MetadataStore, from: bigint, log: MetadataLog): Promise<string[]> {
  const records: LogRecord[] = await store.read(from, 1000);
  // Entries name topics by the numbers the log gave them.
  return records.map((r) => decodeEntry(r.data, r.index, log.state.numbering).proposer);
}

/** The index the next entry will take. */
async function nextIndex(store: MetadataStore): Promise<bigint> {
  const records = await store.read(1n, 100_000);
  return (records.at(-1)?.index ?? 0n) + 1n;
}

/** A port nothing listens on. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const { port } = server.address() as { port: number };
  await new Promise<void>((r) => server.close(() => r()));
  return port;
}

describe("sequencer", () => {
  it("appends every agent's commits itself, in each agent's order, answered once the sender folded them", async () => {
    const r = await rig();
    const a = await agent(r.store, () => r.address);
    const b = await agent(r.store, () => r.address);
    const [pidA, pidB] = await Promise.all([
      a.log.propose([{ type: "allocateProducerId" }]),
      b.log.propose([{ type: "allocateProducerId" }]),
    ]);
    const from = await nextIndex(r.store);
    await a.log.catchUp();
    await b.log.catchUp();
    a.reads.consistent = 0;
    b.reads.consistent = 0;
    // Forty commits each, proposed at once: an idempotent producer's sequence numbers fail unless each
    // agent's commits land in the order proposed.
    const sends = (x: typeof a, id: number, partition: number) =>
      Array.from({ length: 40 }, (_, i) =>
        x.forwarder
          .propose([commit(`${partition}-${i}`, batch(partition, { id, seq: i * 2 }))])
          .then((results) => ({ results, served: x.log.state.partition("t", partition)!.nextOffset })),
      );
    const done = await Promise.all([...sends(a, pidA[0]!.producerId!, 0), ...sends(b, pidB[0]!.producerId!, 1)]);
    for (const [i, { results }] of done.entries()) {
      const r0 = results[0]!.batches![0]!;
      assert.equal(r0.errorCode, 0, `commit ${i}: ${JSON.stringify(results)}`);
      assert.equal(r0.baseOffset, (i % 40) * 2);
    }
    // Each answer came after its sender folded the entry: its state serves what it acknowledged. The
    // entries came with the answers: the senders did not read the log for them.
    for (const [i, d] of done.entries()) assert.ok(d.served >= (i % 40) * 2 + 2, `commit ${i} served`);
    assert.equal(a.reads.consistent + b.reads.consistent, 0, "no read of the log to fold the commits");
    assert.deepEqual([...new Set(a.routes)], ["sequencer"]);
    assert.deepEqual([...new Set(b.routes)], ["sequencer"]);
    const writers = new Set(await proposers(r.store, from, r.sequencerLog));
    assert.equal(writers.size, 1, "one writer: the sequencer");
    const entries = (await r.store.read(from, 1000)).length;
    assert.ok(entries < 80, `80 commits shared entries (${entries} entries)`);
    await Promise.all([a.log.close(), b.log.close(), r.close()]);
  });

  it("gathers one aligned window's commits of every agent, its own included, into one entry", async () => {
    // A linger far longer than the test's gaps: an entry is written early only once every agent expected
    // has a commit queued (metadata/gather.ts), so no timing decides the outcome.
    const r = await rig(10_000);
    const own = new CommitForwarder(
      r.sequencerLog,
      { sequencer: () => null, isSequencer: () => true, logger },
      "agent-a",
    );
    const b = await agent(r.store, () => r.address);
    const c = await agent(r.store, () => r.address);
    const windowOf = async (n: number, senders: ReadonlyArray<{ propose: CommitForwarder["propose"] }>) => {
      const from = await nextIndex(r.store);
      const answered: boolean[] = [];
      const commits: Promise<unknown>[] = [];
      for (const [i, s] of senders.entries()) {
        // Each agent's file write ends a little later than the previous one's.
        if (i > 0) await new Promise((resolve) => setTimeout(resolve, 30));
        answered.push(false);
        commits.push(s.propose([commit(`w${n}-${i}`, batch(i))], { window: n * 250 }).then(() => (answered[i] = true)));
      }
      const before = [...answered];
      await Promise.all(commits);
      const records = await r.store.read(from, 1000);
      return {
        before,
        commands: records.map(
          (rec) => decodeEntry(rec.data, rec.index, r.sequencerLog.state.numbering).commands.length,
        ),
      };
    };
    // The first window teaches the sequencer who sends.
    await windowOf(1, [own, b.forwarder, c.forwarder]);
    const second = await windowOf(2, [own, b.forwarder, c.forwarder]);
    assert.deepEqual(second.commands, [3], "one entry holds the three agents' commits");
    assert.deepEqual(second.before, [false, false, false], "the first commits waited for the last agent's");
    assert.deepEqual(b.routes, ["sequencer", "sequencer"]);
    // A commit not ending an aligned window is not held: it goes at once, taking the held ones with it.
    const from = await nextIndex(r.store);
    const held = own.propose([commit("held", batch(0))], { window: 3 * 250 });
    await new Promise((resolve) => setTimeout(resolve, 30));
    await Promise.all([held, b.forwarder.propose([commit("early", batch(1))])]);
    const plain = await r.store.read(from, 1000);
    assert.equal(plain.length, 1, "the held commit went with the plain one");
    await Promise.all([b.log.close(), c.log.close(), r.close()]);
  });

  it("splits what is queued into requests of a bounded size, in order", async () => {
    const r = await rig();
    const x = await agent(r.store, () => r.address, { maxRequestBytes: 200 });
    const [pid] = await x.log.propose([{ type: "allocateProducerId" }]);
    const sends = Array.from({ length: 30 }, (_, i) =>
      x.forwarder.propose([commit(`split-${i}`, batch(1, { id: pid!.producerId!, seq: i * 2 }))]),
    );
    const results = await Promise.all(sends);
    results.forEach(([res], i) => assert.equal(res!.batches![0]!.baseOffset, i * 2, `commit ${i}`));
    assert.ok(r.requests >= 5, `${r.requests} requests for 30 commits of about 30 bytes each`);
    assert.deepEqual([...new Set(x.routes)], ["sequencer"]);
    await x.log.close();
    await r.close();
  });

  it("leaves a commit to its sender when the sequencer refuses it: not the holder, a wrong token, unreachable", async () => {
    const r = await rig();
    const port = await closedPort();
    const cases: [string, () => SequencerAddress, () => void][] = [
      ["not the holder", () => r.address, () => (r.held = false)],
      ["wrong token", () => ({ ...r.address, token: "guess" }), () => (r.held = true)],
      ["unreachable", () => ({ ...r.address, port }), () => undefined],
    ];
    for (const [name, address, arrange] of cases) {
      arrange();
      const x = await agent(r.store, address);
      const from = await nextIndex(r.store);
      const [result] = await x.forwarder.propose([commit(`refused-${name}`, batch(2))]);
      assert.equal(result!.batches![0]!.errorCode, 0, name);
      assert.deepEqual(x.routes, ["fallback"], name);
      assert.deepEqual(x.requests, ["not-applied"], name);
      // Appended by the sender, once.
      const written = await proposers(r.store, from, r.sequencerLog);
      assert.equal(written.length, 1, name);
      assert.notEqual(written[0], (await proposers(r.store, 1n, r.sequencerLog))[0], `${name}: not by the sequencer`);
      await x.log.close();
    }
    await r.close();
  });

  it("fails a commit whose outcome is unknown, and appends the next ones itself", async () => {
    const r = await rig();
    const x = await agent(r.store, () => r.address, { requestTimeoutMs: 300 });
    let release!: () => void;
    r.store.hold = new Promise<void>((resolve) => (release = resolve));
    await assert.rejects(x.forwarder.propose([commit("stuck", batch(3))]), ProposalOutcomeUnknownError);
    // The sequencer is suspect now: the next commit is appended here, even while it is still stuck.
    const next = x.forwarder.propose([commit("after", batch(3))]);
    await new Promise((resolve) => setTimeout(resolve, 100));
    r.store.hold = null;
    release();
    const [result] = await next;
    assert.equal(result!.batches![0]!.errorCode, 0);
    assert.deepEqual(x.routes, ["unknown", "local"]);
    assert.deepEqual(x.requests, ["unknown"], "the next commit sent no request");
    // The stuck commit landed after all (its producer's retry would find it): both files are in the log.
    await x.log.catchUp();
    await r.sequencerLog.catchUp();
    assert.equal(x.log.state.partition("t", 3)!.nextOffset, 4);
    await x.log.close();
    await r.close();
  });

  it("does not count a commit lost with the sequencer against this agent's ingestion health", async () => {
    // A survivor of a killed sequencer stepped out of the cluster for one such commit, though its own
    // writes to the store were fine; its next commits, appended here, are what tell.
    const r = await rig();
    const x = await agent(r.store, () => r.address, { requestTimeoutMs: 300 });
    const health = new IngestionHealth({ stuckAfterMs: 5_000, rememberFailureMs: 60_000 });
    const batcher = new IngestionBatcher({
      store: new MemObjectStore(),
      log: x.forwarder,
      batchTimeoutMs: 1_000_000,
      maxFileBytes: 64,
      keyPrefix: "test/",
      logger,
      health,
    });
    let release!: () => void;
    r.store.hold = new Promise<void>((resolve) => (release = resolve));
    await assert.rejects(batcher.add([incomingBatch(3, 70)]), /commit through the sequencer failed/);
    assert.equal(health.problem(), null, "the sequencer's loss is not this agent's");
    r.store.hold = null;
    release();
    const [after] = await batcher.add([incomingBatch(3, 70)]);
    assert.equal(after!.errorCode, 0);
    assert.deepEqual(x.routes, ["unknown", "local"]);
    assert.equal(health.problem(), null);
    await batcher.close();
    await x.log.close();
    await r.close();
  });

  it("answers a malformed or foreign request without appending anything", async () => {
    const r = await rig();
    const url = `http://127.0.0.1:${r.server.port}${COMMIT_PATH}`;
    const before = await nextIndex(r.store);
    const post = async (body: Buffer, token = TOKEN) => {
      const res = await fetch(url, { method: "POST", headers: { authorization: `Bearer ${token}` }, body });
      return { status: res.status, reply: await replyOf(res, 1) };
    };
    const garbage = await post(Buffer.from("not an entry"));
    assert.equal(garbage.status, 400);
    assert.equal(garbage.reply.outcome, "not-applied");
    const foreign = encodeCommitRequest("x", 1, []);
    assert.equal((await post(foreign)).status, 400);
    const unauthorized = await post(encodeCommitRequest("x", 1, [commit("f", batch(0)) as never]), "nope");
    assert.equal(unauthorized.status, 401);
    assert.equal(await nextIndex(r.store), before, "nothing appended");
    const get = await fetch(url);
    assert.equal(get.status, 405);
    await r.close();
  });

  it("trusts only the sequencer's own word that nothing was appended", () => {
    assert.equal(jsonReply(200, "{}").outcome, "unknown");
    assert.equal(jsonReply(200, '{"outcome":"applied","index":"5","results":[]}').outcome, "unknown");
    assert.equal(jsonReply(200, '{"outcome":"applied","index":"5","results":[{"errorCode":0}]}').outcome, "applied");
    assert.equal(jsonReply(502, "<html>bad gateway</html>").outcome, "unknown");
    assert.equal(jsonReply(500, '{"outcome":"not-applied","error":"x"}').outcome, "unknown");
    assert.equal(jsonReply(409, '{"outcome":"not-applied","error":"x"}').outcome, "not-applied");
    assert.equal(jsonReply(409, "proxy says no").outcome, "unknown");
    // Entries are taken only consecutive and ending at the commit's index; else the sender reads the log.
    const withEntries = (entries: unknown) =>
      jsonReply(200, JSON.stringify({ outcome: "applied", index: "5", results: [{ errorCode: 0 }], entries }));
    const e = (index: string) => ({ index, data: Buffer.from(`entry ${index}`).toString("base64") });
    const taken = withEntries([e("4"), e("5")]);
    assert.ok(taken.outcome === "applied");
    assert.deepEqual(
      taken.entries?.map((r) => [r.index, r.data.toString()]),
      [
        [4n, "entry 4"],
        [5n, "entry 5"],
      ],
    );
    for (const bad of [[e("3"), e("5")], [e("4")], [{ index: "5", data: "%%" }], "x"]) {
      const reply = withEntries(bad);
      assert.ok(reply.outcome === "applied" && reply.entries === undefined, JSON.stringify(bad));
    }
  });

  it("answers framed when asked and JSON otherwise (agents before framed answers), with the same reply", async () => {
    const r = await rig();
    const x = await agent(r.store, () => null);
    await x.log.catchUp();
    const applied = x.log.state.appliedIndex;
    const post = async (path: string, accept: string | null, body: Buffer) => {
      const res = await fetch(`http://127.0.0.1:${r.server.port}${path}`, {
        method: "POST",
        headers: {
          authorization: `Bearer ${TOKEN}`,
          [APPLIED_HEADER]: applied.toString(),
          ...(accept !== null ? { accept } : {}),
        },
        body,
      });
      return { res, body: Buffer.from(await res.arrayBuffer()) };
    };
    const replies = [];
    for (const [i, accept] of [REPLY_ACCEPT, null, "application/json"].entries()) {
      const { res, body } = await post(
        COMMIT_PATH,
        accept,
        encodeCommitRequest("x", i + 1, [commit(`f${i}`, batch(0))] as never),
      );
      const type = res.headers.get("content-type") ?? undefined;
      assert.equal(type, accept === REPLY_ACCEPT ? FRAMED_REPLY_TYPE : "application/json", `accept ${accept}`);
      const reply = decodeCommitReply(res.status, body, type, 1);
      assert.ok(reply.outcome === "applied", `${reply.outcome} (accept ${accept})`);
      // Every entry after the sender's applied index, as stored, ending at the commit's.
      const stored = r.sequencerLog.recentEntries(applied + 1n, reply.index)!;
      assert.deepEqual(
        reply.entries?.map((e) => [e.index, e.data.toString("hex")]),
        stored.map((e) => [e.index, e.data.toString("hex")]),
      );
      replies.push(reply);
    }
    // Batches of two records each, in the order sent.
    assert.deepEqual(
      replies.map((reply) => reply.outcome === "applied" && reply.results[0]!.batches!.map((b) => b.baseOffset)),
      [[0], [2], [4]],
    );
    // A refusal is framed too when asked, and says the same.
    const refused = await post(COMMIT_PATH, REPLY_ACCEPT, Buffer.from("not an entry"));
    assert.equal(refused.res.status, 400);
    assert.equal(decodeCommitReply(400, refused.body, FRAMED_REPLY_TYPE, 1).outcome, "not-applied");
    // Watches: framed or JSON, the same entries.
    for (const accept of [REPLY_ACCEPT, null]) {
      const { res, body } = await post(WATCH_PATH, accept, Buffer.alloc(0));
      const watch = decodeWatchReply(res.status, body, res.headers.get("content-type") ?? undefined);
      assert.ok(watch, `a watch answered (accept ${accept})`);
      assert.equal(watch.entries?.length, Number(watch.index - applied));
      assert.equal(watch.entries?.at(-1)?.index, r.sequencerLog.state.appliedIndex);
    }
    await x.log.close();
    await r.close();
  });

  it("takes a framed answer only whole, and its entries only consecutive up to the index", () => {
    const entries = [4n, 5n].map((index) => ({ index, data: Buffer.from(`entry ${index}`) }));
    const applied = { outcome: "applied" as const, index: 5n, results: [{ errorCode: 0 }], entries };
    const { body, contentType } = encodeCommitReply(applied, true);
    assert.equal(contentType, FRAMED_REPLY_TYPE);
    assert.ok(Buffer.isBuffer(body));
    assert.deepEqual(decodeCommitReply(200, body, contentType, 1), applied);
    // Cut anywhere, or with a byte after it, or another magic: nothing sure (the log took the commit).
    for (const bad of [body.subarray(0, body.length - 1), body.subarray(0, 9), Buffer.concat([body, Buffer.alloc(1)])])
      assert.equal(decodeCommitReply(200, bad, contentType, 1).outcome, "unknown", `${bad.length} bytes`);
    const otherMagic = Buffer.from(body);
    otherMagic[3] = 2;
    assert.equal(decodeCommitReply(200, otherMagic, contentType, 1).outcome, "unknown");
    assert.equal(decodeWatchReply(200, otherMagic, contentType), null);
    // Entries that skip one, or end elsewhere than at the index, are left out.
    for (const indexes of [[3n, 5n], [4n], [5n, 6n]]) {
      const reply = { ...applied, entries: indexes.map((index) => ({ index, data: Buffer.from("e") })) };
      const decoded = decodeCommitReply(200, encodeCommitReply(reply, true).body as Buffer, contentType, 1);
      assert.ok(decoded.outcome === "applied" && decoded.entries === undefined, indexes.join(","));
    }
    // A watch's answer round-trips, with and without entries.
    for (const watch of [
      { index: 5n, active: true, entries },
      { index: 7n, active: false },
    ]) {
      const framed = encodeWatchReply(watch, true);
      assert.deepEqual(decodeWatchReply(200, framed.body as Buffer, framed.contentType), watch);
      const json = encodeWatchReply(watch, false);
      assert.deepEqual(decodeWatchReply(200, Buffer.from(json.body), json.contentType), watch);
    }
  });

  it("folds handed entries that come next, and leaves one that does not decode to the log's own read", async () => {
    const r = await rig();
    const x = await agent(r.store, () => null);
    await x.log.catchUp();
    const at = x.log.state.appliedIndex;
    await r.sequencerLog.propose([commit("handed", batch(0))]);
    const [entry] = r.sequencerLog.recentEntries(at + 1n, at + 1n)!;
    assert.equal(await x.log.foldRecords([{ index: at + 2n, data: entry!.data }]), 0, "not the next entry");
    assert.equal(await x.log.foldRecords([{ index: at + 1n, data: Buffer.from("garbage") }]), 0);
    assert.equal(x.log.halted, null, "a bad handed entry does not stop the log");
    assert.equal(await x.log.foldRecords([entry!]), 1);
    assert.equal(x.log.state.partition("t", 0)!.nextOffset, 2);
    await x.log.close();
    await r.close();
  });
});

describe("watching the log through the sequencer", () => {
  const until = (what: string, cond: () => boolean) => eventually(cond, { what, timeoutMs: 10_000, intervalMs: 10 });

  it("follows the sequencer's entries as it folds them, polling the store only at the idle pace", async () => {
    const r = await rig();
    const { store, reads } = countingReads(r.store);
    let polls = 0;
    const counted = new Proxy(store, {
      get(target, prop) {
        if (prop === "read")
          return (from: bigint, limit: number, opts?: ReadOptions) => {
            polls++;
            return target.read(from, limit, opts);
          };
        const value: unknown = Reflect.get(target, prop, target);
        return typeof value === "function" ? (value as (...a: unknown[]) => unknown).bind(target) : value;
      },
    });
    // Polled every 20 ms while the log moves, once a second when it does not.
    const log = new MetadataLog(counted, { ...options, tailIdleIntervalMs: 1000 });
    await log.open();
    const watcher = new TailWatcher(log, { sequencer: () => r.address, wanted: () => false, logger });
    watcher.start();
    // The first answer comes once the hold ends (nothing new yet).
    await new Promise((resolve) => setTimeout(resolve, 1200));
    polls = 0;
    reads.consistent = 0;
    // Twelve entries, 30 ms apart: an active tail would poll about eighteen times meanwhile.
    for (let i = 0; i < 12; i++) {
      await r.sequencerLog.propose([commit(`watched-${i}`, batch(i % 4))]);
      await new Promise((resolve) => setTimeout(resolve, 30));
    }
    await until(
      "the watcher to fold the sequencer's entries",
      () => log.state.appliedIndex === r.sequencerLog.state.appliedIndex,
    );
    assert.equal(log.state.partition("t", 0)!.nextOffset, r.sequencerLog.state.partition("t", 0)!.nextOffset);
    assert.ok(polls <= 2, `${polls} reads of the store while following 12 entries (an active tail: about 18)`);
    assert.equal(reads.consistent, 0);
    await watcher.stop();
    await log.close();
    await r.close();
  });

  it("says when a fetch waits on the watcher, and falls back to its own polls when the sequencer goes away", async () => {
    const r = await rig();
    const log = new MetadataLog(r.store, { ...options, tailIdleIntervalMs: 1000 });
    await log.open();
    let wanted = false;
    const watcher = new TailWatcher(log, { sequencer: () => r.address, wanted: () => wanted, logger });
    watcher.start();
    assert.equal(r.service.watchersWant(), false);
    // A fetch starts waiting: the log's wake-up sends the watch again, saying so.
    wanted = true;
    await until(
      "the first watch, not wanting",
      () => log.state.appliedIndex >= 0n && r.service.watchersWant() === false,
    );
    log.wakeTail();
    await until("a watch saying a fetch waits", () => r.service.watchersWant());
    wanted = false;
    // The sequencer stops answering: the watcher's log polls the store itself again, and still sees entries.
    r.held = false;
    const other = new MetadataLog(r.store, options);
    await other.open();
    await other.propose([commit("after-the-sequencer", batch(1))]);
    await until(
      "the watcher's own polls to fold the other agent's entry",
      () => log.state.appliedIndex === other.state.appliedIndex,
    );
    await watcher.stop();
    await Promise.all([log.close(), other.close(), r.close()]);
  });
});

describe("sequencer lease", () => {
  it("tells the other agents where the holder is, and nothing once it has stopped", async () => {
    const store = new MemMetadataStore();
    const lease = (owner: string, port: number) =>
      new Lease({
        store,
        key: "lease/sequencer",
        owner,
        info: sequencerLeaseInfo(1, "10.0.0.7", port, `token-${owner}`),
        logger,
      });
    const first = lease("first", 9644);
    const second = lease("second", 9645);
    assert.equal(await first.attempt(), true);
    assert.equal(await second.attempt(), false);
    const seen = second.holder();
    assert.ok(seen);
    assert.deepEqual(sequencerAddress(seen), { owner: "first", host: "10.0.0.7", port: 9644, token: "token-first" });
    assert.equal(first.holder()?.owner, "first");
    await first.stop();
    assert.equal(first.holder(), null);
    assert.equal(await second.attempt(), true, "the released lease is taken at once");
    assert.equal(second.holder()?.owner, "second");
    await second.stop();
  });

  it("names no sequencer for an item without an address", () => {
    assert.equal(sequencerAddress({ owner: "x", info: { host: "h", httpPort: 0, token: "t" } }), null);
    assert.equal(sequencerAddress({ owner: "x", info: { host: "h", httpPort: 80 } }), null);
    assert.deepEqual(sequencerAddress({ owner: "x", info: { host: "::1", httpPort: 80, token: "t" } }), {
      owner: "x",
      host: "::1",
      port: 80,
      token: "t",
    });
  });
});
