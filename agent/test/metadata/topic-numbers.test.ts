/**
 * Topic numbers (entry level 8, docs/metadata-log.md "Entry formats"): level-8 entries name numbered
 * topics by number, decoded against the state they fold into; a number given to a topic deleted since
 * the entry was encoded still decodes, and its batches are dropped like those of a deleted topic; every
 * agent gives every topic the same number whether it replayed the log from entry 1 or started from a
 * snapshot; snapshot format 6 carries the numbers and the counter; an agent of level 7 refuses a level-8
 * entry; entries written while a level-7 agent is live keep names; topics created before level 8 are
 * numbered once, however often the numbering is proposed.
 */
import assert from "node:assert/strict";
import type { BatchMeta, Command, CommitFileCommand, LogEntry } from "../../src/metadata/commands.js";
import { ENTRY_FORMAT } from "../../src/metadata/commands.js";
import { decodeEntry, encodeEntry } from "../../src/metadata/entry-codec.js";
import { MetadataFormatError } from "../../src/metadata/format.js";
import { MetadataLog } from "../../src/metadata/log.js";
import { encodeSnapshot } from "../../src/metadata/snapshot-codec.js";
import { ClusterState, FoldError } from "../../src/metadata/state.js";
import { MemMetadataStore } from "../../src/store/mem.js";
import { capturedLogger } from "../support/captured-logger.js";
import { asReaderOfFormatsUpTo } from "../support/log-entries.js";

const id = (c: string) => c.repeat(32);
const create = (name: string, topicId: string, partitions = 2): Command => ({
  type: "createTopic",
  name,
  topicId,
  partitions,
  configs: {},
});
const number = (...topics: Array<[string, string]>): Command => ({
  type: "numberTopics",
  topics: topics.map(([name, topicId]) => ({ name, topicId })),
});
const batch = (topic: string, partition: number, pos: number): BatchMeta => ({
  topic,
  partition,
  pos,
  len: 100,
  count: 3,
  maxTimestamp: 1_000,
  producerId: -1,
  producerEpoch: -1,
  baseSequence: -1,
});
const commitFile = (key: string, topics: readonly string[]): CommitFileCommand => ({
  type: "commitFile",
  key,
  size: 100 * topics.length,
  time: 1_000,
  batches: topics.map((t, i) => batch(t, 0, 100 * i)),
});
const entry = (seq: number, ...commands: Command[]): LogEntry => ({ proposer: "p", seq, time: 1_000 + seq, commands });

/** Folds `data` into `state` at its next index, decoding it against that state as the log does. */
/** A log on `store` that writes for the live agents' oldest level, `readers()` (changed by the test). */
async function openLogReadBy(store: MemMetadataStore, readers: () => number): Promise<MetadataLog> {
  const log = new MetadataLog(store, {
    tailIntervalMs: 0,
    snapshotEveryEntries: 0,
    keepEntriesAfterSnapshot: 10,
    writesSnapshots: () => false,
    logger: capturedLogger().logger,
    readersFormat: readers,
  });
  await log.open();
  return log;
}

function fold(state: ClusterState, data: Buffer) {
  const index = state.appliedIndex + 1n;
  return state.apply(index, decodeEntry(data, index, state.numbering));
}

describe("topic numbers (entry level 8)", () => {
  it("round-trips a level-8 commitFile and compact naming numbered topics by number and the others by name", () => {
    const state = new ClusterState();
    fold(state, encodeEntry(entry(1, create("alpha", id("a")), create("beta", id("b")), create("gamma", id("c")))));
    fold(state, encodeEntry(entry(2, number(["alpha", id("a")], ["beta", id("b")]))));
    assert.deepEqual(
      [state.topicNumber("alpha"), state.topicNumber("beta"), state.topicNumber("gamma")],
      [0, 1, undefined],
    );
    assert.equal(state.nextTopicNumber, 2);

    const commit = commitFile("f1", ["alpha", "beta", "gamma"]);
    const compact: Command = {
      type: "compact",
      key: "c1",
      size: 10,
      runs: [
        {
          topic: "beta",
          topicId: id("b"),
          partition: 1,
          baseOffset: 0,
          lastOffset: 2,
          maxTimestamp: 5,
          pos: 0,
          len: 10,
        },
        {
          topic: "gamma",
          topicId: id("c"),
          partition: 0,
          baseOffset: 0,
          lastOffset: 2,
          maxTimestamp: 5,
          pos: 0,
          len: 10,
        },
      ],
      replacedFiles: [],
    };
    const numbered = encodeEntry(entry(3, commit, compact), "binary", state.numbering);
    const named = encodeEntry(entry(3, commit, compact), "binary");
    assert.equal(numbered[2], ENTRY_FORMAT.topicNumbers);
    assert.equal(named[2], ENTRY_FORMAT.binary);
    // alpha and beta cost a byte each in each table instead of their names.
    assert.ok(numbered.length < named.length - 10, `${numbered.length} against ${named.length}`);

    const decoded = decodeEntry(numbered, 3n, state.numbering);
    const batches = (decoded.commands[0] as CommitFileCommand).batches;
    assert.deepEqual(batches, [
      { ...batch("alpha", 0, 0), topicId: id("a") },
      { ...batch("beta", 0, 100), topicId: id("b") },
      batch("gamma", 0, 200),
    ]);
    assert.deepEqual(decoded.commands[1], compact);
    // Without the state, or against one that never gave the numbers, the entry cannot be read.
    assert.throws(
      () => decodeEntry(numbered, 3n),
      /entry 3 \(format 8, binary\) is malformed: topic number 0 was not given/,
    );
    assert.throws(() => decodeEntry(numbered, 3n, new ClusterState().numbering), MetadataFormatError);
  });

  it("drops a batch encoded for a topic number whose topic was deleted (and re-created) before the entry folds", () => {
    const state = new ClusterState();
    fold(state, encodeEntry(entry(1, create("alpha", id("a")), create("beta", id("b")))));
    fold(state, encodeEntry(entry(2, number(["alpha", id("a")], ["beta", id("b")]))));
    // Encoded while alpha is number 0; alpha is deleted and re-created under the same name before it folds.
    const late = encodeEntry(entry(3, commitFile("f1", ["alpha", "beta"])), "binary", state.numbering);
    fold(state, encodeEntry(entry(4, { type: "deleteTopic", name: "alpha" }, create("alpha", id("d")))));
    assert.equal(state.topicNumber("alpha"), undefined, "the new alpha has no number yet");
    assert.deepEqual(state.numbering.topicOf(0), { name: "alpha", topicId: id("a") }, "the number stays given");

    const [result] = fold(state, late);
    assert.deepEqual(
      result!.batches!.map((b) => b.errorCode),
      [FoldError.UNKNOWN_TOPIC_OR_PARTITION, FoldError.NONE],
    );
    assert.equal(state.partition("alpha", 0)!.nextOffset, 0, "nothing landed on the re-created topic");
    assert.equal(state.partition("beta", 0)!.nextOffset, 3);

    // The new alpha gets the next number, never 0 again.
    fold(state, encodeEntry(entry(5, number(["alpha", id("d")]))));
    assert.equal(state.topicNumber("alpha"), 2);
  });

  it("folds the same level-8 entries identically from entry 1 across a deletion and from later snapshots", async () => {
    const replayed = new ClusterState();
    // Before level 8: topics named only, one of them deleted.
    const before = [
      encodeEntry(entry(1, create("old-1", id("1")), create("old-2", id("2")), create("old-3", id("3")))),
      encodeEntry(entry(2, commitFile("f1", ["old-1", "old-2", "old-3"]))),
      encodeEntry(entry(3, { type: "deleteTopic", name: "old-1" })),
    ];
    for (const data of before) fold(replayed, data);
    // An agent that starts from a format 1 snapshot taken after the deletion has no numbers either.
    const fromJson = ClusterState.fromSnapshot(replayed.toSnapshot(), 3n);
    assert.equal(fromJson.nextTopicNumber, 0);

    // Level 8: the existing topics are numbered (old-1's id is refused: deleted), a new one is created
    // with its number, and a commit is encoded against those numbers.
    const numbering = encodeEntry(
      entry(
        4,
        number(["old-3", id("3")], ["old-1", id("1")], ["old-2", id("2")]),
        create("new", id("4")),
        number(["new", id("4")]),
      ),
    );
    fold(replayed, numbering);
    assert.deepEqual(
      ["old-3", "old-2", "new"].map((t) => replayed.topicNumber(t)),
      [0, 1, 2],
    );
    const commit = encodeEntry(entry(5, commitFile("f2", ["old-2", "old-3", "new"])), "binary", replayed.numbering);
    const deleteNew = encodeEntry(entry(6, { type: "deleteTopic", name: "new" }));
    // A later snapshot, in format 6, after the numbering.
    const view = replayed.captureSnapshot();
    const binary = await encodeSnapshot(view.view, "binary");
    view.release();
    assert.equal(binary.data[2], 6);
    const fromBinary = ClusterState.fromSnapshot(binary.data, 4n);

    fold(fromJson, numbering);
    for (const state of [replayed, fromJson, fromBinary]) {
      fold(state, deleteNew);
      // The commit folds after its topic "new" was deleted: that batch is dropped, on every agent alike.
      const [result] = fold(state, commit);
      assert.deepEqual(
        result!.batches!.map((b) => b.errorCode),
        [FoldError.NONE, FoldError.NONE, FoldError.UNKNOWN_TOPIC_OR_PARTITION],
      );
    }
    const snapshots = [replayed, fromJson, fromBinary].map((s) => s.toSnapshot().toString("utf8"));
    assert.equal(snapshots[1], snapshots[0]);
    assert.equal(snapshots[2], snapshots[0]);
    const json = JSON.parse(snapshots[0]!) as { v: number; numbers: unknown };
    assert.equal(json.v, 6);
    assert.deepEqual(json.numbers, [
      ["old-3", id("3")],
      ["old-2", id("2")],
      ["new", id("4")],
    ]);
  });

  it("keeps the numbers and the counter in snapshot format 6, never in an older format", async () => {
    const state = new ClusterState();
    fold(
      state,
      encodeEntry(entry(1, create("a", id("a")), create("b", id("b")), number(["a", id("a")], ["b", id("b")]))),
    );
    fold(state, encodeEntry(entry(2, { type: "deleteTopic", name: "a" })));
    for (const encoding of ["binary", "json"] as const) {
      const capture = state.captureSnapshot();
      // JSON asked (a live agent reads level 6): a state with numbers is still written in binary format 6.
      const { data } = await encodeSnapshot(capture.view, encoding);
      capture.release();
      assert.deepEqual([data.toString("latin1", 0, 2), data[2]], ["WS", 6], encoding);
      const restored = ClusterState.fromSnapshot(data, 2n);
      assert.equal(restored.nextTopicNumber, 2);
      assert.deepEqual(restored.numbering.topicOf(0), { name: "a", topicId: id("a") });
      assert.equal(restored.topicNumber("b"), 1);
      assert.deepEqual(restored.toSnapshot(), state.toSnapshot());
    }
    // A state without numbers is written as before (format 5), and loads with counter 0.
    const plain = new ClusterState();
    fold(plain, encodeEntry(entry(1, create("a", id("a")))));
    const capture = plain.captureSnapshot();
    const { data } = await encodeSnapshot(capture.view, "binary");
    capture.release();
    assert.equal(data[2], 5);
    const restored = ClusterState.fromSnapshot(data, 1n);
    assert.equal(restored.nextTopicNumber, 0);
    assert.deepEqual(
      [...restored.unnumberedTopics()].map((t) => t.name),
      ["a"],
    );
  });

  it("is refused by an agent of level 7, naming the level", () => {
    const state = new ClusterState();
    fold(state, encodeEntry(entry(1, create("a", id("a")), number(["a", id("a")]))));
    const data = encodeEntry(entry(2, commitFile("f", ["a"])), "binary", state.numbering);
    asReaderOfFormatsUpTo(7, () => {
      assert.throws(
        () => decodeEntry(data, 2n, state.numbering),
        (err: unknown) =>
          err instanceof MetadataFormatError &&
          err.formatVersion === 8 &&
          /^metadata log entry 2 has format 8, newer than this agent reads \(1-7\)/.test(err.message),
      );
    });
  });

  it("keeps names while a level-7 agent is live, then numbers the existing topics once", async () => {
    const store = new MemMetadataStore();
    let readers = 7;
    const log = await openLogReadBy(store, () => readers);
    await log.propose([create("a", id("a"))]);
    await log.propose([commitFile("f1", ["a"])]);
    await assert.rejects(log.propose([number(["a", id("a")])]), /format 8/);
    assert.equal(log.state.nextTopicNumber, 0);

    readers = 8;
    await log.propose([commitFile("f2", ["a"])]);
    await log.propose([create("b", id("b"))]);
    await log.propose([commitFile("f3", ["a", "b"])]);
    await log.propose([commitFile("f4", ["a", "b"])]);
    assert.deepEqual([log.state.topicNumber("a"), log.state.topicNumber("b")], [0, 1]);
    assert.equal(log.state.nextTopicNumber, 2);

    const records = await store.read(1n, 10);
    const formats = records.map((r) => r.data[2]);
    // Level 7 readers: names (binary format 3). Then f2's entry numbers a (f2 itself was encoded
    // with a named), b is numbered in the entry creating it, and the later commits name both by number.
    assert.deepEqual(formats, [3, 3, 8, 8, 8, 8]);
    const replay = new ClusterState();
    const entries = records.map((r) => {
      const e = decodeEntry(r.data, r.index, replay.numbering);
      replay.apply(r.index, e);
      return e;
    });
    assert.deepEqual(
      entries.map((e) => e.commands.map((c) => c.type)),
      [
        ["createTopic"],
        ["commitFile"],
        ["commitFile", "numberTopics"],
        ["createTopic", "numberTopics"],
        ["commitFile"],
        ["commitFile"],
      ],
    );
    const f4 = entries[5]!.commands[0] as CommitFileCommand;
    assert.deepEqual(
      f4.batches.map((b) => b.topicId),
      [id("a"), id("b")],
      "named by number",
    );
    assert.deepEqual(replay.toSnapshot(), log.state.toSnapshot());

    // Proposing the same numbering again (another agent's entry that lost the race) changes nothing.
    const [again] = await log.propose([number(["a", id("a")], ["b", id("b")])]);
    assert.equal(again!.errorCode, FoldError.NONE);
    assert.equal(log.state.nextTopicNumber, 2);
    assert.deepEqual([log.state.topicNumber("a"), log.state.topicNumber("b")], [0, 1]);
    await log.close();
  });

  it("encodes a queued or sized commit again with names when a level-7 agent becomes live", async () => {
    const store = new MemMetadataStore();
    let readers = 8;
    const log = await openLogReadBy(store, () => readers);
    await log.propose([create("a", id("a"))]);
    assert.equal(log.state.topicNumber("a"), 0);
    // Sized at level 8 (the batcher sizes before proposing), proposed after a level-7 agent joined.
    const sized = commitFile("f1", ["a"]);
    log.commandSize(sized);
    // Queued behind an entry in flight while the live agents read 8, written after one reads only 7.
    const inFlight = log.propose([commitFile("f2", ["a"])]);
    const queued = log.propose([commitFile("f3", ["a"])]);
    readers = 7;
    await Promise.all([inFlight, queued, log.propose([sized])]);
    const records = await store.read(2n, 10);
    const f2 = records.find((r) =>
      decodeEntry(r.data, r.index, log.state.numbering).commands.some((c) => c.type === "commitFile" && c.key === "f2"),
    );
    assert.equal(f2!.data[2], 8, "written before the level-7 agent came");
    const named = records.filter((r) => r !== f2);
    assert.ok(named.length >= 1);
    for (const r of named) {
      assert.equal(r.data[2], ENTRY_FORMAT.binary, "names, readable by the level-7 agent");
      asReaderOfFormatsUpTo(7, () => decodeEntry(r.data, r.index));
    }
    assert.equal(log.state.partition("a", 0)!.nextOffset, 9);
    await log.close();
  });
});
