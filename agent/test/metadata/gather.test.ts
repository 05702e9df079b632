/**
 * Gathering an aligned window's file commits into one entry (metadata/gather.ts): whom the sequencer's log
 * waits for, and that a wait always ends (at the linger, or at once for a proposal not gathered).
 */
import assert from "node:assert/strict";
import { componentLogger } from "../../../common/logger.js";
import { decodeEntry } from "../../src/metadata/entry-codec.js";
import { CommitGathering } from "../../src/metadata/gather.js";
import { MetadataLog } from "../../src/metadata/log.js";
import type { Command } from "../../src/metadata/commands.js";
import { MemMetadataStore } from "../../src/store/mem.js";

const commit = (key: string, partition: number): Command => ({
  type: "commitFile",
  key,
  size: 10,
  time: 1_767_225_600_000,
  batches: [
    {
      topic: "t",
      partition,
      pos: 0,
      len: 10,
      count: 1,
      maxTimestamp: 0,
      producerId: -1,
      producerEpoch: -1,
      baseSequence: -1,
    },
  ],
});

describe("commit gathering", () => {
  it("waits for the senders seen lately whose last commit is of an earlier window, and for no one else", () => {
    const g = new CommitGathering(10, 1000);
    assert.equal(g.complete([{ from: "a", window: 250 }], 0), true, "nobody is expected at first");
    g.appended([{ from: "a", window: 250 }], 0);
    // b's first window: a's commit of that window is already appended.
    assert.equal(g.complete([{ from: "b", window: 250 }], 5), true);
    g.appended([{ from: "b", window: 250 }], 5);
    // The next window: each waits for the other.
    assert.equal(g.complete([{ from: "a", window: 500 }], 250), false);
    assert.equal(
      g.complete(
        [
          { from: "a", window: 500 },
          { from: "b", window: 500 },
        ],
        255,
      ),
      true,
    );
    // b gone quiet for longer than the memory: no longer waited for.
    g.appended([{ from: "a", window: 500 }], 260);
    assert.equal(g.complete([{ from: "a", window: 1000 }], 900), false, "b was seen 895 ms ago");
    assert.equal(g.complete([{ from: "a", window: 1250 }], 1006), true, "b was last seen 1,001 ms ago");
  });

  it("puts the held commits in one entry once the expected ones arrive, and never holds one past the linger", async () => {
    const store = new MemMetadataStore();
    const log = new MetadataLog(store, {
      tailIntervalMs: 0,
      snapshotEveryEntries: 0,
      keepEntriesAfterSnapshot: 10,
      writesSnapshots: () => false,
      logger: componentLogger("test"),
      gatherLingerMs: 300,
    });
    await log.open();
    await log.propose([{ type: "createTopic", name: "t", topicId: "b".repeat(32), partitions: 3, configs: {} }]);
    const entries = async (from: bigint) =>
      (await store.read(from, 100)).map((r) => decodeEntry(r.data, r.index, log.state.numbering).commands.length);
    const next = () => log.state.appliedIndex + 1n;
    const gathered = (from: string, window: number, partition: number) =>
      log.proposeIndexed([commit(`${from}-${window}`, partition)], { gather: { from, window } });

    // Window 250: a, b and c are seen (no one is expected yet, so nothing waits).
    await Promise.all([gathered("a", 250, 0), gathered("b", 250, 1), gathered("c", 250, 2)]);
    // Window 500: the three share one entry, however far apart they come.
    let from = next();
    const a = gathered("a", 500, 0);
    await new Promise((r) => setTimeout(r, 20));
    const b = gathered("b", 500, 1);
    await new Promise((r) => setTimeout(r, 20));
    await Promise.all([a, b, gathered("c", 500, 2)]);
    assert.deepEqual(await entries(from), [3]);
    // Window 750 without c: a and b wait out the linger, then go together.
    from = next();
    await Promise.all([gathered("a", 750, 0), gathered("b", 750, 1)]);
    assert.deepEqual(await entries(from), [2]);
    // A proposal that is not gathered takes the held one with it at once.
    from = next();
    const held = gathered("a", 1000, 0);
    await new Promise((r) => setTimeout(r, 20));
    await Promise.all([held, log.propose([{ type: "allocateProducerId" }])]);
    assert.deepEqual(await entries(from), [2]);
    await log.close();
  });
});
