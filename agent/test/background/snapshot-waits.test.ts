/**
 * The compaction lease holder's snapshot and its background pass (compaction, archive, retention, GC)
 * wait for each other instead of sharing the event loop (jobs.ts SNAPSHOT_WAIT_STEP_MS, MetadataLog
 * `snapshotWaits`): a pass due while a snapshot is being stored waits for it (at most
 * snapshotWaitAtMostMs), and a snapshot due while a pass runs starts at the next entry after it. On mem
 * stores, with the snapshot's store call and the compactor's pass held open by the test.
 */
import assert from "node:assert/strict";
import { setTimeout as sleep } from "node:timers/promises";
import { startBackgroundJobs, type BackgroundJobs } from "../../src/background/jobs.js";
import { MemMetadataStore, MemObjectStore } from "../../src/store/mem.js";
import type { Snapshot } from "../../src/store/types.js";
import { testMetadataLog } from "../support/metadata-log.js";
import { logger } from "./support.js";

/** A gate a test opens once: `wait()` resolves when it is open. */
function gate() {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => (open = resolve));
  return { open, wait: () => opened };
}

/** A metadata store whose snapshot writes wait for `gate` (a fresh one per test). */
class HeldSnapshots extends MemMetadataStore {
  gate = gate();
  started = 0;
  stored = 0;
  override async putSnapshot(snapshot: Snapshot): Promise<void> {
    this.started++;
    await this.gate.wait();
    await super.putSnapshot(snapshot);
    this.stored++;
  }
}

async function until(what: string, check: () => boolean, withinMs = 5000): Promise<void> {
  const deadline = Date.now() + withinMs;
  while (!check()) {
    assert.ok(Date.now() < deadline, what);
    await sleep(5);
  }
}

describe("the holder's snapshot and its background pass", () => {
  let metadata: HeldSnapshots;
  let jobs: BackgroundJobs | undefined;
  let passes: number;
  let passGate: ReturnType<typeof gate> | null;
  let topics: number;

  async function start(snapshotWaitAtMostMs?: number) {
    metadata = new HeldSnapshots();
    passes = 0;
    passGate = null;
    topics = 0;
    const log = testMetadataLog(metadata, {
      snapshotEveryEntries: 1,
      writesSnapshots: () => true,
      snapshotWaits: () => jobs?.passRunning() ?? false,
    });
    await log.open();
    jobs = startBackgroundJobs({
      stores: { ingestion: new MemObjectStore(), compaction: new MemObjectStore(), metadata },
      log,
      logger,
      options: {
        compactionIntervalMs: 5,
        leaseRenewMs: 20,
        ...(snapshotWaitAtMostMs !== undefined ? { snapshotWaitAtMostMs } : {}),
      },
    });
    const runOnce = jobs.compactor.runOnce.bind(jobs.compactor);
    jobs.compactor.runOnce = async () => {
      passes++;
      await passGate?.wait();
      return runOnce();
    };
    await until("the agent holds the compaction lease", () => jobs!.isLeader());
    await until("passes run", () => passes > 2);
    return log;
  }

  const newTopic = (log: Awaited<ReturnType<typeof start>>) =>
    log.propose([
      {
        type: "createTopic",
        name: `t${topics}`,
        topicId: String(++topics).padStart(32, "0"),
        partitions: 1,
        configs: {},
      },
    ]);

  afterEach(async () => {
    metadata.gate.open();
    passGate?.open();
    await jobs?.stop();
    jobs = undefined;
  });

  it("a pass due while a snapshot is stored waits for it", async () => {
    const log = await start();
    await newTopic(log);
    await until("a snapshot is being stored", () => metadata.started === 1);
    assert.ok(log.writingSnapshot);
    const before = passes;
    await sleep(300);
    assert.ok(passes <= before + 1, `${passes - before} passes ran while the snapshot was stored`);
    metadata.gate.open();
    await until("the snapshot is stored", () => metadata.stored === 1 && !log.writingSnapshot);
    await until("passes run again", () => passes > before + 2);
    await log.close();
  });

  it("waits at most snapshotWaitAtMostMs", async () => {
    const log = await start(100);
    await newTopic(log);
    await until("a snapshot is being stored", () => metadata.started === 1);
    const before = passes;
    // The snapshot never ends here; passes go on after 100 ms of waiting, each waiting anew.
    await until("passes run again", () => passes > before + 2, 3000);
    assert.ok(log.writingSnapshot);
    metadata.gate.open();
    await log.close();
  });

  it("a snapshot due while a pass runs starts at the next entry after it", async () => {
    const log = await start();
    metadata.gate.open();
    passGate = gate();
    await until("a pass is running", () => jobs!.passRunning());
    await newTopic(log);
    await sleep(50);
    assert.equal(metadata.started, 0, "no snapshot started while the pass ran");
    passGate.open();
    await until("the pass ended", () => !jobs!.passRunning());
    await newTopic(log);
    await until("the snapshot is stored", () => metadata.stored === 1);
    await log.close();
  });
});
