/**
 * OffsetDelete in the metadata log: `deleteOffsets` removes committed offsets only under the group's
 * current coordinator epoch, a group left without offsets is gone, the fence stays; and the deletion
 * holds on every agent folding the log, on a fresh replay and in snapshots.
 */
import assert from "node:assert/strict";
import type { Command, OffsetCommitEntry } from "../../src/metadata/commands.js";
import { LogGroupOffsetStore } from "../../src/metadata/group-offsets.js";
import { MetadataLog } from "../../src/metadata/log.js";
import { ClusterState, FoldError } from "../../src/metadata/state.js";
import { MemMetadataStore } from "../../src/store/mem.js";
import { logger } from "../background/support.js";

function apply(state: ClusterState, ...commands: Command[]) {
  return state.apply(state.appliedIndex + 1n, { proposer: "test", seq: 1, commands });
}

const offset = (topic: string, partition: number, value: number): OffsetCommitEntry => ({
  topic,
  partition,
  offset: value,
  leaderEpoch: -1,
  metadata: null,
  time: 1,
});

/** Group → topic → partitions with offsets. */
function committed(state: ClusterState): Record<string, Record<string, number[]>> {
  const store = new LogGroupOffsetStore({ state } as MetadataLog);
  return Object.fromEntries(
    store
      .groupsWithOffsets()
      .map((g) => [
        g,
        Object.fromEntries([...store.committed(g)].map(([t, ps]) => [t, [...ps.keys()].sort((a, b) => a - b)])),
      ]),
  );
}

function openLog(store: MemMetadataStore): Promise<MetadataLog> {
  const log = new MetadataLog(store, {
    tailIntervalMs: 0,
    snapshotEveryEntries: 0,
    keepEntriesAfterSnapshot: 10,
    writesSnapshots: () => false,
    logger,
  });
  return log.open().then(() => log);
}

describe("metadata fold: deleteOffsets (OffsetDelete)", () => {
  it("deletes under the current coordinator epoch only; a group left without offsets is gone, its fence kept", () => {
    const s = new ClusterState();
    apply(
      s,
      { type: "createTopic", name: "t", topicId: "a".repeat(32), partitions: 2, configs: {} },
      { type: "createTopic", name: "u", topicId: "b".repeat(32), partitions: 1, configs: {} },
    );
    apply(s, { type: "coordinateGroup", group: "g", coordinator: "first" });
    apply(s, {
      type: "commitOffsets",
      group: "g",
      offsets: [offset("t", 0, 5), offset("t", 1, 6), offset("u", 0, 7)],
      coordinatorEpoch: 1,
      generationId: -1,
    });
    const del = (coordinatorEpoch: number, ...partitions: Array<[string, number]>) =>
      apply(s, {
        type: "deleteOffsets",
        group: "g",
        coordinatorEpoch,
        partitions: partitions.map(([topic, partition]) => ({ topic, partition })),
      })[0]!.errorCode;

    assert.equal(del(1, ["t", 0], ["u", 0], ["never-committed", 3]), FoldError.NONE);
    assert.deepEqual(committed(s), { g: { t: [1] } });

    apply(s, { type: "coordinateGroup", group: "g", coordinator: "second" });
    assert.equal(del(1, ["t", 1]), FoldError.NOT_COORDINATOR, "a fenced coordinator deletes nothing");
    assert.deepEqual(committed(s), { g: { t: [1] } });
    assert.equal(del(0, ["t", 1]), FoldError.NOT_COORDINATOR, "an epoch never given out is not current");

    assert.equal(del(2, ["t", 1]), FoldError.NONE);
    assert.deepEqual(committed(s), {}, "the group's last offset went: the group is known by none");
    assert.equal(s.groupFences.get("g")!.epoch, 2, "the fence stays");
    assert.equal(del(2, ["t", 1]), FoldError.NONE, "deleting again is harmless");
    assert.deepEqual(committed(ClusterState.fromSnapshot(s.toSnapshot())), {});
  });

  it("holds on every agent folding the log, on a fresh replay and in snapshots", async () => {
    const store = new MemMetadataStore();
    const a = await openLog(store);
    const b = await openLog(store);
    await a.propose([{ type: "createTopic", name: "t", topicId: "a".repeat(32), partitions: 2, configs: {} }]);
    const offsets = new LogGroupOffsetStore(a);
    const claim = await offsets.claimGroup("g", "agent-a");
    const at = (partition: number) => ({
      topic: "t",
      partition,
      offset: 10n,
      leaderEpoch: -1,
      metadata: null,
      commitTimestamp: 1n,
    });
    assert.equal(
      await offsets.commit("g", [at(0), at(1)], { coordinatorEpoch: claim.coordinatorEpoch, generationId: -1 }),
      FoldError.NONE,
    );
    await b.catchUp();
    assert.deepEqual(committed(b.state), { g: { t: [0, 1] } });

    assert.equal(
      await offsets.deleteOffsets("g", [{ topic: "t", partition: 0 }], claim.coordinatorEpoch),
      FoldError.NONE,
    );
    await b.catchUp();
    assert.deepEqual(committed(b.state), { g: { t: [1] } }, "the other agent folds the deletion");
    const fresh = await openLog(store);
    assert.deepEqual(committed(fresh.state), { g: { t: [1] } }, "a replay from the start folds it");
    assert.deepEqual(committed(ClusterState.fromSnapshot(b.state.toSnapshot())), { g: { t: [1] } });
    for (const log of [a, b, fresh]) await log.close();
  });
});
