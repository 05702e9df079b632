/** The fold's coordinator fences of consumer groups (metadata/group-fence.ts), through ClusterState.apply. */
import assert from "node:assert/strict";
import type { Command, OffsetCommitEntry } from "../../src/metadata/commands.js";
import { ClusterState, FoldError } from "../../src/metadata/state.js";

function apply(state: ClusterState, command: Command) {
  const index = state.appliedIndex + 1n;
  return state.apply(index, { proposer: "test", seq: Number(index), commands: [command] })[0]!;
}

function entry(offset: number): OffsetCommitEntry {
  return { topic: "t", partition: 0, offset, leaderEpoch: -1, metadata: null, time: 1 };
}

function commit(offset: number, fence?: { coordinatorEpoch: number; generationId: number }): Command {
  return { type: "commitOffsets", group: "g", offsets: [entry(offset)], ...fence };
}

/** A state holding topic "t" (offsets of partitions that do not exist are not stored). */
function stateWithTopic(): ClusterState {
  const s = new ClusterState();
  apply(s, { type: "createTopic", name: "t", topicId: "a".repeat(32), partitions: 1, configs: {} });
  return s;
}

const committed = (s: ClusterState) => s.groupOffsets.get("g")?.get("t")?.get(0)?.offset;

describe("metadata state fold: group coordinator fences", () => {
  it("gives each coordinateGroup the next epoch, carrying the last generation over", () => {
    const s = stateWithTopic();
    const first = apply(s, { type: "coordinateGroup", group: "g", coordinator: "a" });
    assert.deepEqual([first.errorCode, first.coordinatorEpoch, first.generationId], [FoldError.NONE, 1, 0]);
    assert.equal(apply(s, { type: "groupGeneration", group: "g", coordinatorEpoch: 1, generationId: 4 }).errorCode, 0);
    const second = apply(s, { type: "coordinateGroup", group: "g", coordinator: "b" });
    assert.deepEqual([second.coordinatorEpoch, second.generationId], [2, 4]);
    assert.deepEqual(s.groupFences.get("g"), { coordinator: "b", epoch: 2, generation: 4 });
    assert.equal(apply(s, { type: "coordinateGroup", group: "other", coordinator: "a" }).coordinatorEpoch, 1);
  });

  it("refuses commits and generations from an older coordinator epoch; offsets stay", () => {
    const s = stateWithTopic();
    apply(s, { type: "coordinateGroup", group: "g", coordinator: "a" });
    assert.equal(apply(s, commit(10, { coordinatorEpoch: 1, generationId: 1 })).errorCode, FoldError.NONE);
    apply(s, { type: "coordinateGroup", group: "g", coordinator: "b" });
    assert.equal(apply(s, commit(20, { coordinatorEpoch: 2, generationId: 2 })).errorCode, FoldError.NONE);
    assert.equal(apply(s, commit(15, { coordinatorEpoch: 1, generationId: 1 })).errorCode, FoldError.NOT_COORDINATOR);
    assert.equal(apply(s, commit(15, { coordinatorEpoch: 1, generationId: -1 })).errorCode, FoldError.NOT_COORDINATOR);
    assert.equal(
      apply(s, { type: "groupGeneration", group: "g", coordinatorEpoch: 1, generationId: 3 }).errorCode,
      FoldError.NOT_COORDINATOR,
    );
    assert.equal(committed(s), 20);
    assert.equal(s.groupFences.get("g")!.generation, 2);
  });

  it("within an epoch refuses a generation older than the last one; generation −1 is checked by epoch only", () => {
    const s = stateWithTopic();
    apply(s, { type: "coordinateGroup", group: "g", coordinator: "a" });
    apply(s, { type: "groupGeneration", group: "g", coordinatorEpoch: 1, generationId: 3 });
    assert.equal(apply(s, commit(30, { coordinatorEpoch: 1, generationId: 3 })).errorCode, FoldError.NONE);
    assert.equal(
      apply(s, commit(25, { coordinatorEpoch: 1, generationId: 2 })).errorCode,
      FoldError.ILLEGAL_GENERATION,
    );
    assert.equal(committed(s), 30);
    // A member of generation 4 commits before anything recorded it: the generation moves on.
    assert.equal(apply(s, commit(40, { coordinatorEpoch: 1, generationId: 4 })).errorCode, FoldError.NONE);
    assert.equal(
      apply(s, commit(35, { coordinatorEpoch: 1, generationId: 3 })).errorCode,
      FoldError.ILLEGAL_GENERATION,
    );
    assert.equal(apply(s, commit(50, { coordinatorEpoch: 1, generationId: -1 })).errorCode, FoldError.NONE);
    assert.equal(committed(s), 50);
  });

  it("refuses a fenced commit for a group nobody claimed, and applies commits without a fence unchecked", () => {
    const s = stateWithTopic();
    assert.equal(apply(s, commit(5, { coordinatorEpoch: 1, generationId: -1 })).errorCode, FoldError.NOT_COORDINATOR);
    assert.equal(committed(s), undefined);
    assert.equal(apply(s, commit(7)).errorCode, FoldError.NONE, "entries written before fences");
    assert.equal(committed(s), 7);
  });

  it("keeps the fence when the group's offsets are deleted, so epochs never go back", () => {
    const s = stateWithTopic();
    apply(s, { type: "coordinateGroup", group: "g", coordinator: "a" });
    apply(s, commit(10, { coordinatorEpoch: 1, generationId: -1 }));
    assert.equal(apply(s, { type: "deleteGroup", group: "g" }).errorCode, FoldError.NONE);
    assert.equal(apply(s, commit(3, { coordinatorEpoch: 1, generationId: -1 })).errorCode, FoldError.NONE);
    assert.equal(apply(s, { type: "coordinateGroup", group: "g", coordinator: "b" }).coordinatorEpoch, 2);
  });

  it("refuses a deletion fenced by an older coordinator epoch, or for a group nobody claimed; offsets stay", () => {
    const s = stateWithTopic();
    apply(s, { type: "coordinateGroup", group: "g", coordinator: "a" });
    apply(s, { type: "coordinateGroup", group: "g", coordinator: "b" });
    apply(s, commit(10, { coordinatorEpoch: 2, generationId: -1 }));
    assert.equal(
      apply(s, { type: "deleteGroup", group: "g", coordinatorEpoch: 1 }).errorCode,
      FoldError.NOT_COORDINATOR,
    );
    assert.equal(committed(s), 10);
    assert.equal(
      apply(s, { type: "deleteGroup", group: "h", coordinatorEpoch: 1 }).errorCode,
      FoldError.NOT_COORDINATOR,
    );
    assert.equal(apply(s, { type: "deleteGroup", group: "g", coordinatorEpoch: 2 }).errorCode, FoldError.NONE);
    assert.equal(committed(s), undefined);
    assert.equal(s.groupFences.get("g")?.epoch, 2, "the fence stays");
  });

  it("keeps fences through a snapshot, and loads snapshots that have none", () => {
    const s = stateWithTopic();
    apply(s, { type: "coordinateGroup", group: "g", coordinator: "a" });
    apply(s, { type: "groupGeneration", group: "g", coordinatorEpoch: 1, generationId: 7 });
    const copy = ClusterState.fromSnapshot(s.toSnapshot());
    assert.equal(copy.toSnapshot().toString(), s.toSnapshot().toString());
    assert.deepEqual(copy.groupFences.get("g"), { coordinator: "a", epoch: 1, generation: 7 });
    const older = JSON.parse(s.toSnapshot().toString()) as Record<string, unknown>;
    delete older.fences;
    assert.equal(ClusterState.fromSnapshot(Buffer.from(JSON.stringify(older))).groupFences.get("g"), undefined);
  });
});
