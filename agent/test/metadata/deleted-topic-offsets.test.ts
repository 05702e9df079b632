/**
 * Committed offsets go with their topic: the fold drops a deleted topic's offsets from every group (as
 * Kafka does), so OffsetFetch and `kafka-consumer-groups --describe` never name a topic that no longer
 * exists; a commit for a partition deleted meanwhile is not stored.
 */
import assert from "node:assert/strict";
import type { Command, OffsetCommitEntry } from "../../src/metadata/commands.js";
import { LogGroupOffsetStore } from "../../src/metadata/group-offsets.js";
import type { MetadataLog } from "../../src/metadata/log.js";
import { ClusterState } from "../../src/metadata/state.js";

function apply(state: ClusterState, ...commands: Command[]) {
  return state.apply(state.appliedIndex + 1n, { proposer: "test", seq: 1, commands });
}

const topic = (name: string, partitions: number, id = "a"): Command => ({
  type: "createTopic",
  name,
  topicId: id.repeat(32),
  partitions,
  configs: {},
});

const offset = (topic: string, partition: number, value: number): OffsetCommitEntry => ({
  topic,
  partition,
  offset: value,
  leaderEpoch: -1,
  metadata: null,
  time: 1,
});

/** Group → topic → partitions with offsets, as the offset store reads them from the fold. */
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

describe("metadata fold: committed offsets of deleted topics", () => {
  it("drops a deleted topic's offsets from every group, and groups left with none", () => {
    const s = new ClusterState();
    apply(s, topic("kept", 1), topic("doomed", 2));
    apply(s, {
      type: "commitOffsets",
      group: "both",
      offsets: [offset("kept", 0, 5), offset("doomed", 0, 3), offset("doomed", 1, 4)],
    });
    apply(s, { type: "commitOffsets", group: "only-doomed", offsets: [offset("doomed", 1, 9)] });
    assert.deepEqual(committed(s), { both: { kept: [0], doomed: [0, 1] }, "only-doomed": { doomed: [1] } });

    apply(s, { type: "deleteTopic", name: "doomed" });
    assert.deepEqual(committed(s), { both: { kept: [0] } });
    assert.deepEqual(committed(ClusterState.fromSnapshot(s.toSnapshot())), { both: { kept: [0] } });

    apply(s, topic("doomed", 2, "b"));
    assert.deepEqual(committed(s), { both: { kept: [0] } }, "a re-created topic starts without offsets");
  });

  it("does not store a commit for a partition that no longer exists", () => {
    const s = new ClusterState();
    apply(s, topic("kept", 1), topic("doomed", 1));
    apply(s, { type: "deleteTopic", name: "doomed" });
    apply(s, {
      type: "commitOffsets",
      group: "g",
      offsets: [offset("doomed", 0, 1), offset("kept", 0, 2), offset("kept", 7, 2)],
    });
    apply(s, { type: "commitOffsets", group: "h", offsets: [offset("doomed", 0, 1)] });
    assert.deepEqual(committed(s), { g: { kept: [0] } });
  });
});
