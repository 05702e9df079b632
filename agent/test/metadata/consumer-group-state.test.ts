/**
 * KIP-848 groups' durable state in the fold (metadata/state.ts, groups/consumer-group-record.ts):
 * consumerGroupState is admitted only at the group's current coordinator epoch, a claim hands the
 * recorded state to the new coordinator, null and DeleteGroups remove it, a malformed record is skipped
 * the same way everywhere, entries carrying it are format 6 (a format 5 reader refuses them), and
 * snapshots carry the records (version 4; none: an older version).
 */
import assert from "node:assert/strict";
import type { ConsumerGroupRecord } from "../../src/groups/consumer-group-record.js";
import type { Command } from "../../src/metadata/commands.js";
import { commandProblem, entryFormat } from "../../src/metadata/commands.js";
import { decodeEntry, encodeEntry } from "../../src/metadata/entry-codec.js";
import { MetadataFormatError } from "../../src/metadata/format.js";
import { ClusterState, FoldError } from "../../src/metadata/state.js";
import { asReaderOfFormatsUpTo, consumerGroupRecord } from "../support/log-entries.js";

function apply(state: ClusterState, ...commands: Command[]) {
  const index = state.appliedIndex + 1n;
  return state.apply(index, { proposer: "test", seq: Number(index), time: 1_000, commands });
}

const TOPIC = "0123456789abcdef0123456789abcdef";

const record = (groupEpoch = 3): ConsumerGroupRecord => consumerGroupRecord(groupEpoch, TOPIC);

const claim = (coordinator: string): Command => ({ type: "coordinateGroup", group: "g", coordinator });
const save = (coordinatorEpoch: number, state: ConsumerGroupRecord | null): Command => ({
  type: "consumerGroupState",
  group: "g",
  coordinatorEpoch,
  state,
});

describe("KIP-848 group state in the metadata fold", () => {
  it("records the state at the current coordinator epoch only, and hands it to the next claim", () => {
    const s = new ClusterState();
    assert.deepEqual(apply(s, save(1, record())), [{ errorCode: FoldError.NOT_COORDINATOR }], "no epoch given out yet");
    assert.equal(apply(s, claim("a"))[0]!.coordinatorEpoch, 1);
    assert.deepEqual(apply(s, save(1, record())), [{ errorCode: FoldError.NONE }]);
    const [taken] = apply(s, claim("b"));
    assert.equal(taken!.coordinatorEpoch, 2);
    assert.deepEqual(taken!.consumerGroup, record(), "the new coordinator starts from the record");
    assert.deepEqual(apply(s, save(1, record(4))), [{ errorCode: FoldError.NOT_COORDINATOR }], "the old one is fenced");
    assert.equal(s.consumerGroups.get("g")!.groupEpoch, 3);
    assert.deepEqual(apply(s, save(2, null)), [{ errorCode: FoldError.NONE }]);
    assert.equal(s.consumerGroups.has("g"), false, "an empty group's record goes");
    assert.equal(apply(s, claim("c"))[0]!.consumerGroup, undefined);
    apply(s, save(3, record()));
    apply(s, { type: "deleteGroup", group: "g" });
    assert.equal(s.consumerGroups.has("g"), false, "DeleteGroups removes it");
  });

  it("finds malformed records (the fold skips them on every agent alike)", () => {
    const bad = (state: unknown) => ({ ...save(1, null), state }) as unknown as Command;
    assert.equal(commandProblem(save(1, record())), null);
    assert.equal(commandProblem(save(1, null)), null);
    assert.match(commandProblem(bad({ ...record(), groupEpoch: -1 }))!, /groupEpoch must be a non-negative integer/);
    const twice = { ...record(), members: [record().members[0], record().members[0]] };
    assert.match(commandProblem(bad(twice))!, /member m1 appears twice/);
    const badState = { ...record(), members: [{ ...record().members[0], state: "HAPPY" }] };
    assert.match(commandProblem(bad(badState))!, /members\[0\]\.state is not a member state/);
    const classic = { sessionTimeoutMs: 10_000, protocols: [["range", "AAE="]] as [string, string][] };
    assert.equal(commandProblem(save(1, { ...record(), members: [{ ...record().members[0]!, classic }] })), null);
    const noProtocols = { ...record(), members: [{ ...record().members[0], classic: { ...classic, protocols: [] } }] };
    assert.match(commandProblem(bad(noProtocols))!, /classic\.protocols must be a non-empty array/);
    const badPartitions = { ...record(), members: [{ ...record().members[0], assigned: [[TOPIC, [-1]]] }] };
    assert.match(commandProblem(bad(badPartitions))!, /assigned\[0\] partitions must be non-negative integers/);
  });

  it("is written at entry format 6 in both encodings, which a format 5 reader refuses naming 6", () => {
    const command = save(1, record());
    assert.equal(entryFormat([command], "json"), 6);
    assert.equal(entryFormat([command], "binary"), 6);
    const entry = { proposer: "p", seq: 1, commands: [command] };
    const encoded = [encodeEntry(entry, "json"), encodeEntry(entry, "binary")];
    for (const data of encoded) assert.deepEqual(decodeEntry(data), entry);
    asReaderOfFormatsUpTo(5, () => {
      for (const data of encoded)
        assert.throws(
          () => decodeEntry(data, 3n),
          (err: unknown) =>
            err instanceof MetadataFormatError &&
            /^metadata log entry 3 has format 6, newer than this agent reads \(1-5\)/.test(err.message),
        );
    });
  });

  it("snapshots carry the records (version 4) and restore them; none: an older version", () => {
    const s = new ClusterState();
    apply(s, claim("a"), save(1, record()));
    const snapshot = s.toSnapshot();
    assert.equal((JSON.parse(snapshot.toString()) as { v: number }).v, 4);
    const restored = ClusterState.fromSnapshot(snapshot);
    assert.deepEqual(restored.consumerGroups.get("g"), record());
    apply(s, save(1, null));
    assert.equal((JSON.parse(s.toSnapshot().toString()) as { v: number }).v, 1);
    const raw = JSON.parse(snapshot.toString()) as Record<string, unknown>;
    const bad = { ...raw, cgroups: [["g", { ...record(), members: "none" }]] };
    assert.throws(
      () => ClusterState.fromSnapshot(Buffer.from(JSON.stringify(bad))),
      /snapshot: consumer group g: members must be an array/,
    );
  });
});
