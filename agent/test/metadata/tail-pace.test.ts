import assert from "node:assert/strict";
import { setTimeout as sleep } from "node:timers/promises";
import { componentLogger } from "../../../common/logger.js";
import { MetadataLog, type MetadataLogOptions } from "../../src/metadata/log.js";
import { TailPace } from "../../src/metadata/tail-pace.js";
import { MemMetadataStore } from "../../src/store/mem.js";
import type { LogRecord, ReadOptions } from "../../src/store/types.js";

const base: MetadataLogOptions = {
  tailIntervalMs: 0,
  snapshotEveryEntries: 0,
  keepEntriesAfterSnapshot: 10,
  writesSnapshots: () => true,
  logger: componentLogger("test"),
};

/** Counts the eventually consistent reads (the tail polls; every other pass reads strongly consistent). */
class PollCountingStore extends MemMetadataStore {
  polls = 0;
  override async read(from: bigint, limit: number, options: ReadOptions = {}): Promise<LogRecord[]> {
    if (options.consistent === false) this.polls++;
    return super.read(from, limit);
  }
}

const createTopic = {
  type: "createTopic",
  name: "t",
  topicId: "a".repeat(32),
  partitions: 1,
  configs: {},
} as const;

/**
 * A writer and an agent tailing the same store at 10 ms, backing off to 60 s, left quiet for 3 s: its
 * waits of 10, 20, ... 1,280 ms end at 2,550 ms, and the next pass is due at 5,110 ms.
 */
async function backedOffPair(store: MemMetadataStore): Promise<{ writer: MetadataLog; tailer: MetadataLog }> {
  const writer = new MetadataLog(store, base);
  const tailer = new MetadataLog(store, { ...base, tailIntervalMs: 10, tailIdleIntervalMs: 60_000 });
  await writer.open();
  await tailer.open();
  await sleep(3000);
  return { writer, tailer };
}

async function until(condition: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!condition() && Date.now() < deadline) await sleep(5);
  return condition();
}

describe("metadata log tail pace", () => {
  it("doubles the wait after each empty pass up to the idle interval, and drops back when the log moves or something waits", () => {
    const pace = new TailPace({ activeMs: 50, idleMs: 1000 });
    assert.deepEqual(
      Array.from({ length: 6 }, () => pace.next(false, false)),
      [100, 200, 400, 800, 1000, 1000],
    );
    assert.equal(pace.next(true, false), 50, "entries found: the active interval");
    assert.equal(pace.next(false, false), 100);
    assert.equal(pace.next(false, true), 50, "a waiting fetch: the active interval");
    pace.next(false, false);
    pace.next(false, false);
    assert.equal(pace.backedOff(200), true);
    assert.equal(pace.backedOff(50), false);
    pace.reset();
    assert.equal(pace.next(false, false), 100, "after a wake-up the back-off starts again from the active interval");
    const flat = new TailPace({ activeMs: 50, idleMs: 50 });
    assert.equal(flat.next(false, false), 50, "idle = active: no back-off");
    assert.throws(() => new TailPace({ activeMs: 50, idleMs: 10 }), /idleMs \(10\) must be at least activeMs \(50\)/);
    assert.throws(() => new TailPace({ activeMs: 0, idleMs: 10 }), /must be positive/);
  });

  it("polls a quiet log with nothing waiting at most once per idle interval once backed off", async () => {
    const store = new PollCountingStore();
    const log = new MetadataLog(store, { ...base, tailIntervalMs: 10, tailIdleIntervalMs: 300 });
    await log.open();
    await sleep(1000); // 10, 20, ... 300 ms: backed off
    store.polls = 0;
    await sleep(900);
    // A timer never fires early: at most one poll per 300 ms, 4 with a partial interval (at a fixed
    // 10 ms, as before the back-off, about 90).
    assert.ok(store.polls <= 4, `${store.polls} polls in 900 ms of a quiet log`);
    await log.close();
  });

  it("keeps polling at the active interval while something waits on the tail", async () => {
    const store = new PollCountingStore();
    const log = new MetadataLog(store, {
      ...base,
      tailIntervalMs: 10,
      tailIdleIntervalMs: 60_000,
      tailWanted: () => true,
    });
    await log.open();
    await sleep(100);
    store.polls = 0;
    await sleep(900);
    // About 90 at 10 ms; backed off (10, 20, 40, ... ms) it would be at most 6.
    assert.ok(store.polls >= 10, `${store.polls} polls in 900 ms while a fetch waits`);
    await log.close();
  });

  it("a wake-up (a fetch starts waiting, a proposal, an unknown topic asked for) polls at once after a back-off", async () => {
    const { writer, tailer } = await backedOffPair(new PollCountingStore());
    await writer.propose([createTopic]);
    tailer.wakeTail();
    assert.ok(
      await until(() => tailer.state.topics.has("t"), 1500),
      "the woken tail read the other agent's entry before its next scheduled poll",
    );
    // Finding the entry put the tail back at its active interval: the next entry is read promptly too.
    await writer.propose([{ type: "deleteTopic", name: "t" }]);
    assert.ok(await until(() => !tailer.state.topics.has("t"), 1500), "polls are active again after entries");
    await writer.close();
    await tailer.close();
  });

  it("freshenTail reads the tail before an answer once polls have backed off; requests arriving together share the read", async () => {
    const store = new PollCountingStore();
    const { writer, tailer } = await backedOffPair(store);
    await writer.propose([createTopic]);
    assert.equal(tailer.state.topics.has("t"), false);
    // A Metadata request after the quiet spell: answered from the tail, not from a state a second old.
    const before = store.polls;
    await Promise.all([tailer.freshenTail(), tailer.freshenTail(), tailer.freshenTail()]);
    assert.equal(tailer.state.topics.has("t"), true, "the other agent's topic is seen by the first answer");
    assert.equal(store.polls - before, 1, "requests arriving together share one read");
    await writer.close();
    await tailer.close();
  });

  it("a single-writer log (no tail) ignores wake-ups", async () => {
    const store = new PollCountingStore();
    const log = new MetadataLog(store, base);
    await log.open();
    log.wakeTail();
    await log.freshenTail();
    await sleep(50);
    assert.equal(store.polls, 0);
    await log.close();
  });
});
