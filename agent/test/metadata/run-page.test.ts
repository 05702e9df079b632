/**
 * Index pages' bytes (metadata/run-page.ts) and the formats that carry pages: a page round-trips and a
 * malformed or newer one is refused naming it; `archiveRuns` is written at entry level 14, which an agent
 * of level 13 refuses naming 14; its fields are checked; a state holding page segments is written as
 * snapshot format 9 (binary), which an agent reading binary formats up to 7 refuses naming 9.
 */
import assert from "node:assert/strict";
import type { ArchiveRunsCommand, Command } from "../../src/metadata/commands.js";
import { commandProblem, ENTRY_FORMAT, entryFormat } from "../../src/metadata/commands.js";
import { decodeEntry, encodeEntry } from "../../src/metadata/entry-codec.js";
import { MetadataFormatError } from "../../src/metadata/format.js";
import { decodeRunPage, encodeRunPage, PAGE_FORMAT } from "../../src/metadata/run-page.js";
import { decodeBinarySnapshot } from "../../src/metadata/snapshot-binary.js";
import { encodeSnapshot } from "../../src/metadata/snapshot-codec.js";
import { ClusterState, findSegment, type Segment } from "../../src/metadata/state.js";
import { asReaderOfFormatsUpTo } from "../support/log-entries.js";

const TOPIC_ID = "0123456789abcdef0123456789abcdef";

function run(baseOffset: number, lastOffset: number, key: string, pos: number, len: number): Segment {
  return {
    baseOffset,
    lastOffset,
    maxTimestamp: 1_700_000_000_000 + baseOffset,
    appendTime: 1_700_000_100_000 + baseOffset,
    location: { store: "c", key, pos, len },
  };
}

const RUNS: Segment[] = [
  run(10, 19, "compacted/a", 0, 4000),
  run(20, 20, "compacted/a", 4000, 100),
  // A gap (offsets deleted by a transaction's abort leave none, but retention at a run boundary may).
  run(25, 2 ** 40, "compacted/b", 123, 4 * 1024 * 1024),
];

const isFormatError = (pattern: RegExp) => (err: unknown) =>
  err instanceof MetadataFormatError && pattern.test(err.message);

describe("index pages", () => {
  it("round-trip their runs, keys written once", () => {
    const data = encodeRunPage({ topicId: TOPIC_ID, partition: 7, runs: RUNS });
    assert.equal(data.toString("latin1", 0, 2), "WP");
    assert.equal(data.toString("latin1").split("compacted/a").length - 1, 1, "each key once");
    assert.deepEqual(decodeRunPage(data, "page"), { topicId: TOPIC_ID, partition: 7, runs: RUNS });
    assert.equal(findSegment(RUNS, 0), 0);
    assert.equal(findSegment(RUNS, 20), 1);
    assert.equal(findSegment(RUNS, 21), 2);
    assert.equal(findSegment(RUNS, 2 ** 40 + 1), 3);
  });

  it("refuse to list anything but compacted runs in offset order", () => {
    assert.throws(
      () =>
        encodeRunPage({
          topicId: TOPIC_ID,
          partition: 0,
          runs: [{ ...RUNS[0]!, location: { ...RUNS[0]!.location, store: "i" } }],
        }),
      /compacted runs only/,
    );
    assert.throws(() => encodeRunPage({ topicId: TOPIC_ID, partition: 0, runs: [RUNS[1]!, RUNS[0]!] }), /offset order/);
  });

  it("are refused when malformed or of a newer format, naming the page", () => {
    const data = encodeRunPage({ topicId: TOPIC_ID, partition: 7, runs: RUNS });
    assert.throws(
      () => decodeRunPage(Buffer.from("WS\x01"), "index page k"),
      isFormatError(/^index page k is not an index page/),
    );
    const newer = Buffer.concat([Buffer.from("WP"), Buffer.from([PAGE_FORMAT + 1]), data.subarray(3)]);
    assert.throws(
      () => decodeRunPage(newer, "index page k"),
      isFormatError(
        new RegExp(`^index page k has page format ${PAGE_FORMAT + 1}; this agent reads page format ${PAGE_FORMAT}$`),
      ),
    );
    assert.throws(
      () => decodeRunPage(data.subarray(0, data.length - 1), "index page k"),
      isFormatError(/^index page k \(page format 1\) is malformed at byte/),
    );
    assert.throws(
      () => decodeRunPage(Buffer.concat([data, Buffer.from([0])]), "index page k"),
      isFormatError(/1 bytes after the end/),
    );
    // A run count larger than the bytes could hold is refused before anything is allocated.
    const huge = Buffer.concat([
      data.subarray(0, 3),
      Buffer.from([TOPIC_ID.length + 1]),
      Buffer.from(TOPIC_ID),
      Buffer.from([14, 0xff, 0xff, 0xff, 0x0f]),
    ]);
    assert.throws(() => decodeRunPage(huge, "index page k"), isFormatError(/run count \d+ exceeds/));
  });
});

const archive: ArchiveRunsCommand = {
  type: "archiveRuns",
  topic: "t",
  topicId: TOPIC_ID,
  partition: 0,
  key: "compacted/1700000000000-index-x",
  size: 120,
  baseOffset: 10,
  lastOffset: 20,
  runs: 2,
  bytes: 4100,
  maxTimestamp: 1_700_000_000_020,
  appendTime: 1_700_000_100_020,
  objects: ["compacted/a"],
  objectRuns: [2],
};

describe("archiveRuns (entry level 14)", () => {
  it("is written at level 14, which an agent of level 13 refuses naming 14", () => {
    assert.equal(ENTRY_FORMAT.runPages, 14);
    assert.equal(entryFormat([archive], "binary"), 14);
    const entry = { proposer: "p", seq: 1, commands: [archive] as Command[] };
    const data = encodeEntry(entry, "binary");
    assert.deepEqual(decodeEntry(data), entry);
    asReaderOfFormatsUpTo(13, () => {
      assert.throws(
        () => decodeEntry(data, 3n),
        isFormatError(/^metadata log entry 3 has format 14, newer than this agent reads \(1-13\)/),
      );
    });
  });

  it("has its fields checked", () => {
    assert.equal(commandProblem(archive), null);
    const bad = (over: Record<string, unknown>) => commandProblem({ ...archive, ...over });
    assert.match(bad({ topicId: "x" })!, /topicId must be 32 lowercase hex/);
    assert.match(bad({ key: "" })!, /key must be a non-empty string/);
    assert.match(bad({ partition: -1 })!, /partition must be a non-negative integer/);
    assert.match(bad({ runs: 0 })!, /runs must be a positive integer/);
    assert.match(bad({ lastOffset: 9 })!, /lastOffset is before baseOffset/);
    assert.match(bad({ objectRuns: [1] })!, /objects count 1 runs, not 2/);
    assert.match(bad({ objectRuns: [2, 1] })!, /objectRuns must be an array as long as objects/);
    assert.match(bad({ objectRuns: [0] })!, /objectRuns\[0\] must be a positive integer/);
    assert.match(bad({ objects: [""] })!, /objects\[0\] must be a non-empty string/);
    assert.equal(bad({ maxTimestamp: -1 }), null, "a run of batches without timestamps");
  });
});

describe("snapshots holding index pages", () => {
  function stateWithPage(): ClusterState {
    const s = new ClusterState();
    let index = 0n;
    const apply = (...commands: Command[]) =>
      s.apply(++index, { proposer: "p", seq: Number(index), time: 1_700_000_200_000, commands });
    apply({ type: "createTopic", name: "t", topicId: TOPIC_ID, partitions: 1, configs: {} });
    apply({
      type: "commitFile",
      key: "ingest/f",
      size: 4100,
      time: 1_700_000_100_000,
      batches: [
        {
          topic: "t",
          partition: 0,
          pos: 0,
          len: 4000,
          count: 20,
          maxTimestamp: 1,
          producerId: -1,
          producerEpoch: -1,
          baseSequence: -1,
        },
        {
          topic: "t",
          partition: 0,
          pos: 4000,
          len: 100,
          count: 1,
          maxTimestamp: 2,
          producerId: -1,
          producerEpoch: -1,
          baseSequence: -1,
        },
      ],
    });
    apply({
      type: "compact",
      key: "compacted/a",
      size: 4100,
      runs: [
        { topic: "t", partition: 0, baseOffset: 0, lastOffset: 19, maxTimestamp: 1, pos: 0, len: 4000 },
        { topic: "t", partition: 0, baseOffset: 20, lastOffset: 20, maxTimestamp: 2, pos: 4000, len: 100 },
      ],
      replacedFiles: ["ingest/f"],
    });
    apply({ ...archive, baseOffset: 0, lastOffset: 20, maxTimestamp: 2 });
    assert.equal(s.pageSegments, 1);
    return s;
  }

  it("are binary format 9, which an agent reading binary formats up to 7 refuses naming 9", async () => {
    const s = stateWithPage();
    const { view, release } = s.captureSnapshot();
    const { data } = await encodeSnapshot(view, "binary");
    release();
    assert.equal(data[2], 9);
    const restored = ClusterState.fromSnapshot(data, 4n);
    assert.deepEqual(restored.partition("t", 0)!.segments, s.partition("t", 0)!.segments);
    assert.deepEqual([...restored.objectRefs].sort(), [...s.objectRefs].sort());
    // Format 7's reader meets store code 2.
    assert.throws(
      () => decodeBinarySnapshot(data, 3, "metadata snapshot at log index 4", 7),
      isFormatError(/unknown segment store code 2/),
    );
  });

  it("drop a page's references with it when its topic is deleted", () => {
    const s = stateWithPage();
    assert.deepEqual(
      [...s.objectRefs].sort(),
      [
        ["compacted/1700000000000-index-x", 1],
        ["compacted/a", 1],
      ],
      "the page references its object and, once, the object its two runs lie in",
    );
    s.apply(s.appliedIndex + 1n, { proposer: "p", seq: 99, commands: [{ type: "deleteTopic", name: "t" }] });
    assert.deepEqual([...s.objectRefs], []);
    assert.equal(s.pageSegments, 0);
  });
});
