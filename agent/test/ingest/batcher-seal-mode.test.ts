/**
 * Seal modes. Window: a lone request waits for its file's batch window. Eager (group commit): a lone
 * request is sealed at once (or after the idle gap); requests arriving while a file is being written
 * wait for that write and are sealed together the moment it ends; batchTimeout still seals a file
 * whose predecessor's write is stuck; commits stay in seal order whatever order the writes end in; a
 * failed write fails its own producers only and releases the file waiting behind it.
 */
import assert from "node:assert/strict";
import { mock } from "node:test";
import { componentLogger } from "../../../common/logger.js";
import { IngestionBatcher, IngestionError } from "../../src/ingest/batcher.js";
import type { BatcherOptions, FileCommitter, FilePhases, IncomingBatch, SealReason } from "../../src/ingest/batcher.js";
import type { MetadataLog } from "../../src/metadata/log.js";
import type { BatchResult } from "../../src/metadata/state.js";
import { MemObjectStore } from "../../src/store/mem.js";
import type { PutOptions } from "../../src/store/types.js";
import { incomingBatch, openLogWithTopic } from "./support.js";

const batch = (partition: number): IncomingBatch => incomingBatch(partition, 100);

/** Puts wait for the test: each put is held until released (in any order), or fails when told to. */
class HeldObjectStore extends MemObjectStore {
  /** Keys of the puts started, in order, with their sizes. */
  readonly started: Array<{ key: string; bytes: number }> = [];
  private readonly gates: Array<{ release: () => void; fail: (e: Error) => void }> = [];
  hold = true;

  override async put(key: string, data: Buffer, options?: PutOptions): Promise<void> {
    this.started.push({ key, bytes: data.length });
    if (this.hold) {
      await new Promise<void>((release, fail) => this.gates.push({ release, fail }));
    }
    return super.put(key, data, options);
  }

  /** Lets the n-th put (0-based) finish. */
  release(n: number): void {
    this.gates[n]!.release();
  }

  fail(n: number): void {
    this.gates[n]!.fail(new Error("injected write failure"));
  }
}

interface Setup {
  readonly batcher: IngestionBatcher;
  readonly store: HeldObjectStore;
  readonly log: MetadataLog;
  readonly sealed: SealReason[];
}

async function setup(options: Partial<BatcherOptions>): Promise<Setup> {
  const log = await openLogWithTopic(4);
  const store = new HeldObjectStore();
  const sealed: SealReason[] = [];
  const batcher = new IngestionBatcher({
    store,
    log,
    batchTimeoutMs: 1_000_000,
    maxFileBytes: 1_000_000,
    keyPrefix: "seal/",
    logger: componentLogger("test"),
    onFileCommitted: (info) => sealed.push(info.sealed),
    ...options,
  });
  return { batcher, store, log, sealed };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const turn = () => new Promise((r) => setImmediate(r));

/** Records when a produce request settles. */
function track(p: Promise<BatchResult[]>): { readonly done: () => boolean; readonly result: Promise<BatchResult[]> } {
  let done = false;
  const result = p.finally(() => (done = true));
  result.catch(() => undefined);
  return { done: () => done, result };
}

describe("ingestion batcher: seal modes", () => {
  it("window: a lone request waits for its batch window", async () => {
    const { batcher, store } = await setup({ sealMode: "window", batchTimeoutMs: 400 });
    store.hold = false;
    const started = Date.now();
    const a = track(batcher.add([batch(0)]));
    await sleep(100);
    assert.equal(store.started.length, 0, "nothing is written before the window ends");
    assert.equal(a.done(), false);
    await a.result;
    assert.ok(Date.now() - started >= 390, `answered after ${Date.now() - started} ms`);
    await batcher.close();
  });

  it("window, aligned: a window ends at the next wall-clock multiple of batchTimeout, and its commit names that end", async () => {
    const { batcher: unused, store, log } = await setup({});
    await unused.close();
    const windows: Array<number | undefined> = [];
    const committer: FileCommitter = {
      propose: (commands, options) => {
        windows.push(options?.window);
        return log.propose(commands);
      },
      maxCommandBytes: log.maxCommandBytes,
      commandSize: (c) => log.commandSize(c),
    };
    const batcher = new IngestionBatcher({
      store,
      log: committer,
      batchTimeoutMs: 250,
      maxFileBytes: 1_000_000,
      sealMode: "window",
      alignWindows: true,
      keyPrefix: "aligned/",
      logger: componentLogger("test"),
    });
    store.hold = false;
    // The clock stands 100 ms into a window (test seam: node's mock timers, for setTimeout and Date only).
    const boundary = 250 * 7_000_000;
    mock.timers.enable({ apis: ["setTimeout", "Date"], now: boundary + 100 });
    try {
      const a = track(batcher.add([batch(0)]));
      mock.timers.tick(149);
      assert.equal(store.started.length, 0, "not sealed before the window's end");
      mock.timers.tick(1);
      assert.equal(store.started.length, 1, "sealed at the window's end, 150 ms after the request");
      await a.result;
      // The next request, 10 ms into the next window, waits only for that window's end.
      mock.timers.tick(10);
      const b = track(batcher.add([batch(1)]));
      mock.timers.tick(239);
      assert.equal(store.started.length, 1);
      mock.timers.tick(1);
      assert.equal(store.started.length, 2);
      await b.result;
      assert.deepEqual(windows, [boundary + 250, boundary + 500], "each commit names its window's end");
    } finally {
      mock.timers.reset();
    }
    // A file sealed for another reason (a flush) names no window: it does not wait at the sequencer.
    const c = batcher.add([batch(2)]);
    await batcher.flush();
    await c;
    assert.equal(windows.length, 3);
    assert.equal(windows[2], undefined);
    await batcher.close();
  });

  it("eager: a lone request is sealed at the end of the event-loop turn, without waiting for the window", async () => {
    const { batcher, store, sealed } = await setup({ sealMode: "eager" });
    store.hold = false;
    const a = batcher.add([batch(0)]);
    const b = batcher.add([batch(1)]); // same turn: same file
    assert.equal(store.started.length, 0, "not sealed within the turn that added to it");
    const [[ra], [rb]] = await Promise.all([a, b]);
    assert.equal(ra!.errorCode, 0);
    assert.equal(rb!.errorCode, 0);
    assert.equal(store.started.length, 1, "both requests of the turn went into one file");
    assert.deepEqual(sealed, ["eager"]);
    await batcher.close();
  });

  it("eager: requests arriving during a write wait for it, then are sealed together the moment it ends", async () => {
    const { batcher, store, sealed } = await setup({ sealMode: "eager" });
    const first = track(batcher.add([batch(0)]));
    await turn();
    assert.equal(store.started.length, 1, "the lone first request is being written");
    const later = [track(batcher.add([batch(0)])), track(batcher.add([batch(1)])), track(batcher.add([batch(0)]))];
    await sleep(30);
    assert.equal(store.started.length, 1, "no second file while the first is being written");
    assert.ok(!first.done() && later.every((l) => !l.done()));
    store.release(0);
    await first.result;
    await turn();
    assert.equal(store.started.length, 2, "the second file was sealed when the first write ended");
    assert.equal(store.started[1]!.bytes, 300, "it holds the three requests that waited");
    store.release(1);
    const results = await Promise.all(later.map((l) => l.result));
    // Partition 0: the first file's batch at offset 0, then the two waiting ones in arrival order.
    assert.deepEqual(
      results.map(([r]) => r!.baseOffset),
      [1, 0, 2],
    );
    assert.deepEqual(sealed, ["eager", "eager"]);
    await batcher.close();
  });

  it("eager: batchTimeout still seals a file while the previous write is stuck", async () => {
    const { batcher, store, sealed } = await setup({ sealMode: "eager", batchTimeoutMs: 300 });
    const first = track(batcher.add([batch(0)]));
    await turn();
    const second = track(batcher.add([batch(0)]));
    await sleep(50);
    assert.equal(store.started.length, 1);
    await sleep(350);
    assert.equal(
      store.started.length,
      2,
      "the window sealed the second file although the first is still being written",
    );
    // The second write ends first; its commit still waits for the first file's (seal order).
    store.release(1);
    await sleep(20);
    assert.equal(second.done(), false, "not committed before the file sealed ahead of it");
    store.release(0);
    const [[r1], [r2]] = await Promise.all([first.result, second.result]);
    assert.equal(r1!.baseOffset, 0);
    assert.equal(r2!.baseOffset, 1);
    assert.deepEqual(sealed, ["eager", "timeout"]);
    await batcher.close();
  });

  it("a committed file's time is split into its write, the wait for the previous file and its commit", async () => {
    const phases: FilePhases[] = [];
    const totals: number[] = [];
    const { batcher, store } = await setup({
      sealMode: "eager",
      batchTimeoutMs: 100,
      onFileCommitted: (info) => {
        phases.push(info.phases);
        totals.push(info.writeSeconds);
      },
    });
    const first = track(batcher.add([batch(0)]));
    await turn();
    const second = track(batcher.add([batch(1)]));
    await sleep(150); // the window seals the second file while the first is still being written
    assert.equal(store.started.length, 2);
    store.release(1);
    await sleep(200); // the second file, written, waits for the first
    store.release(0);
    await Promise.all([first.result, second.result]);
    assert.equal(phases.length, 2);
    const [p1, p2] = phases as [FilePhases, FilePhases];
    assert.ok(p1.write >= 0.3, `the first file's write was held ${p1.write} s`);
    assert.ok(p2.previous >= 0.15, `the second file waited ${p2.previous} s for the first after its write`);
    assert.ok(p1.previous < p2.previous, "the first file had no predecessor to wait for");
    phases.forEach((p, i) => {
      assert.ok(p.write >= 0 && p.previous >= 0 && p.commit >= 0, JSON.stringify(p));
      assert.ok(Math.abs(p.write + p.previous + p.commit - totals[i]!) < 1e-6, "the phases add up to the file's time");
    });
    await batcher.close();
  });

  it("eager with an idle gap: sealed once no request has arrived for the gap", async () => {
    const { batcher, store } = await setup({ sealMode: "eager", sealIdleGapMs: 200 });
    store.hold = false;
    const a = track(batcher.add([batch(0)]));
    await sleep(100);
    const b = track(batcher.add([batch(1)])); // within the gap: the gap starts again
    await sleep(150);
    assert.equal(store.started.length, 0, "still within the gap of the last request");
    await Promise.all([a.result, b.result]);
    assert.equal(store.started.length, 1, "both in one file");
    await batcher.close();
  });

  it("eager: a failed write fails its own producers and releases the file waiting behind it", async () => {
    const { batcher, store } = await setup({ sealMode: "eager" });
    const first = track(batcher.add([batch(0)]));
    await turn();
    const second = track(batcher.add([batch(1)]));
    await sleep(10);
    assert.equal(store.started.length, 1);
    store.fail(0);
    await assert.rejects(first.result, IngestionError);
    await turn();
    assert.equal(store.started.length, 2, "the waiting request was sealed when the failed write ended");
    store.release(1);
    const [r] = await second.result;
    assert.equal(r!.errorCode, 0);
    await batcher.close();
  });
});
