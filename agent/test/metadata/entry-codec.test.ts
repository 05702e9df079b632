/**
 * Log entry formats (docs/metadata-log.md, "Entry formats"): binary entries (format 3) round-trip every
 * command, JSON entries (formats 1 and 2) read the same, both fold to the same state, and whatever cannot
 * be read — truncated, corrupted, of a newer format — is a MetadataFormatError naming the entry, never a
 * crash or a partial entry.
 */
import assert from "node:assert/strict";
import type { BatchMeta, Command, CommitFileCommand, LogEntry } from "../../src/metadata/commands.js";
import { ENTRY_FORMAT, commandProblem } from "../../src/metadata/commands.js";
import {
  CommandEncodingError,
  decodeEntry,
  encodeCommand,
  encodeEntry,
  encodeEntryFrom,
  encodeJsonEntry,
  encodingFor,
  entryFormatFor,
} from "../../src/metadata/entry-codec.js";
import { MetadataFormatError } from "../../src/metadata/format.js";
import { ClusterState, FoldError } from "../../src/metadata/state.js";
import { seededRandom } from "../../../e2e/support/fault-proxy.js";
import { commitFileEntry, plainBatch } from "../support/log-entries.js";

const T0 = 1_767_225_600_000;
const ID_A = "0123456789abcdef0123456789abcdef";
const ID_B = "fedcba9876543210fedcba9876543210";

const batch = (topic: string, partition: number, pos: number, extra: Partial<BatchMeta> = {}) =>
  plainBatch(topic, partition, pos, T0 - 20, extra);

/** Every command type, with the values at the edges of what each field may hold. */
const EVERY_COMMAND: readonly Command[] = [
  { type: "createTopic", name: "t", topicId: ID_A, partitions: 3, configs: { "retention.ms": "1000" } },
  // A key that is special to JavaScript objects stays a key.
  { type: "createTopic", name: "u", topicId: "not-a-uuid", partitions: 1, configs: JSON.parse('{"__proto__":"x"}') },
  { type: "deleteTopic", name: "u" },
  { type: "createPartitions", name: "t", count: -1 },
  { type: "alterConfigs", name: "t", set: { "retention.ms": null, "cleanup.policy": "delete" }, replace: true },
  { type: "alterConfigs", name: "t", set: {}, replace: false },
  {
    type: "commitFile",
    key: "ingest/ä-😀",
    size: 2 ** 40,
    time: T0,
    batches: [
      batch("t", 0, 0),
      batch("t", 0, 100, { producerId: 1000, producerEpoch: 0, baseSequence: 0 }),
      batch("u", 7, 200, { producerId: 1000, producerEpoch: 0, baseSequence: 2 ** 31 - 1 }),
      // back to topic t: the same topic again after another one, at a position not following the last
      batch("t", 1, 5, { producerId: 2 ** 53 + 2, producerEpoch: 32767, baseSequence: -1 }),
      batch("t", 1, 105, { maxTimestamp: 2 ** 63, producerId: -1, producerEpoch: 0, baseSequence: -1 }),
      batch("t", 2, 0, { maxTimestamp: -(2 ** 63), len: 0xffffffff, count: 0 }),
      batch("t", 0, 1e15, { maxTimestamp: 0 }),
    ],
  },
  { type: "commitFile", key: "", size: 0, time: 0, batches: [] },
  {
    type: "commitOffsets",
    group: "g",
    offsets: [
      { topic: "t", partition: 0, offset: 10, leaderEpoch: -1, metadata: null, time: T0 },
      { topic: "t", partition: 1, offset: 2 ** 53 - 1, leaderEpoch: 5, metadata: "", time: T0 },
      { topic: "u", partition: -1, offset: -1, leaderEpoch: 0, metadata: "m ü", time: 2 ** 63 },
      { topic: "t", partition: 2, offset: 0, leaderEpoch: 0, metadata: null, time: T0 - 1 },
    ],
    coordinatorEpoch: 3,
    generationId: -1,
  },
  // Written before coordinators were fenced: no epoch, no generation.
  { type: "commitOffsets", group: "", offsets: [] },
  { type: "commitOffsets", group: "g", offsets: [], coordinatorEpoch: 0 },
  { type: "coordinateGroup", group: "g", coordinator: "node 1 (x)" },
  { type: "groupGeneration", group: "g", coordinatorEpoch: 3, generationId: 2 ** 31 - 1 },
  { type: "deleteGroup", group: "g" },
  { type: "allocateProducerId" },
  {
    type: "compact",
    key: "compacted/0001767225600000-abcdef",
    size: 300,
    runs: [
      { topic: "t", topicId: ID_A, partition: 0, baseOffset: 0, lastOffset: 9, maxTimestamp: T0, pos: 0, len: 100 },
      { topic: "t", topicId: ID_A, partition: 1, baseOffset: 5, lastOffset: 5, maxTimestamp: -1, pos: 100, len: 100 },
      { topic: "gone", topicId: "", partition: 0, baseOffset: 0, lastOffset: 0, maxTimestamp: 0, pos: 200, len: 50 },
      { topic: "t", partition: 2, baseOffset: 0, lastOffset: 0, maxTimestamp: 0, pos: 250, len: 50 },
    ],
    replacedFiles: ["ingest/a", "ingest/b"],
  },
  { type: "truncate", topic: "t", partition: 0, offset: 2 ** 53 - 1 },
  { type: "truncate", topic: "t", partition: 1, offset: 0, topicId: ID_B },
  // No layout of its own: JSON under the generic tag.
  {
    type: "deleteOffsets",
    group: "g ü",
    coordinatorEpoch: 7,
    partitions: [
      { topic: "t", partition: 0 },
      { topic: "\u2028", partition: 2 ** 31 - 1 },
    ],
  },
];

const ENTRIES: readonly LogEntry[] = [
  { proposer: "0123456789abcdef", seq: 1, time: T0, commands: EVERY_COMMAND },
  // Proposers of agents before binary entries (UUIDs), and any string; an entry without a time.
  { proposer: "8c1d0b7e-5f0a-4d8e-9b1c-2a3b4c5d6e7f", seq: 2 ** 40, commands: EVERY_COMMAND.slice(0, 3) },
  { proposer: "p", seq: 0, time: 0, commands: [] },
];

function throwsFormatError(fn: () => unknown, pattern: RegExp): MetadataFormatError {
  let caught: unknown;
  try {
    fn();
  } catch (err) {
    caught = err;
  }
  assert.ok(caught instanceof MetadataFormatError, `expected a MetadataFormatError, got ${String(caught)}`);
  assert.match(caught.message, pattern);
  return caught;
}

describe("metadata log entry formats", () => {
  it("round-trips every command through binary (format 3), and reads the JSON of the same entry identically", () => {
    for (const entry of ENTRIES) {
      const binary = encodeEntry(entry);
      assert.equal(binary.toString("latin1", 0, 2), "WL");
      assert.equal(binary[2], 3, "format 3");
      assert.deepStrictEqual(decodeEntry(binary), entry);
      const json = encodeEntry(entry, "json");
      const level = entry.commands.some((c) => c.type === "deleteOffsets") ? 2 : 1;
      assert.equal(json.toString("utf8", 0, 6), `{"v":${level}`, "the oldest JSON level the commands allow");
      assert.deepStrictEqual(json, encodeJsonEntry(entry));
      assert.deepStrictEqual(decodeEntry(json), entry);
    }
  });

  it("folds the same commands to the same state whichever format each entry used", () => {
    const generated = commitFileEntry({ topics: 2, partitionsPerTopic: 3, idempotent: true }, 7);
    const names = [...new Set((generated.commands[0] as CommitFileCommand).batches.map((b) => b.topic))];
    const producer = { producerId: 1000, producerEpoch: 0 };
    const scenario: Command[][] = [
      [
        { type: "createTopic", name: "t", topicId: ID_A, partitions: 3, configs: { "retention.ms": "3600000" } },
        { type: "createTopic", name: "u", topicId: ID_B, partitions: 1, configs: {} },
        ...names.map((name, i): Command => ({
          type: "createTopic",
          name,
          topicId: String(i).repeat(32),
          partitions: 3,
          configs: {},
        })),
      ],
      [{ type: "allocateProducerId" }],
      [
        {
          type: "commitFile",
          key: "ingest/f1",
          size: 400,
          time: T0,
          batches: [
            batch("t", 0, 0, { ...producer, baseSequence: 0 }),
            batch("t", 1, 100),
            batch("u", 0, 200, { ...producer, baseSequence: 0 }),
            batch("nope", 0, 300),
          ],
        },
      ],
      // A duplicate, an out-of-order sequence, and data for the next partition.
      [
        {
          type: "commitFile",
          key: "ingest/f2",
          size: 300,
          time: T0 + 10,
          batches: [
            batch("t", 0, 0, { ...producer, baseSequence: 0 }),
            batch("t", 0, 100, { ...producer, baseSequence: 7 }),
            batch("t", 2, 200, { ...producer, baseSequence: 0 }),
          ],
        },
      ],
      generated.commands as Command[],
      [{ type: "coordinateGroup", group: "g", coordinator: "a" }],
      [{ type: "groupGeneration", group: "g", coordinatorEpoch: 1, generationId: 1 }],
      [
        {
          type: "commitOffsets",
          group: "g",
          offsets: [
            { topic: "t", partition: 0, offset: 3, leaderEpoch: -1, metadata: null, time: T0 + 20 },
            { topic: "u", partition: 0, offset: 1, leaderEpoch: -1, metadata: "m", time: T0 + 20 },
            { topic: "u", partition: 9, offset: 1, leaderEpoch: -1, metadata: "m", time: T0 + 20 },
          ],
          coordinatorEpoch: 1,
          generationId: 1,
        },
        {
          type: "commitOffsets",
          group: "old",
          offsets: [{ topic: "t", partition: 1, offset: 1, leaderEpoch: 0, metadata: null, time: T0 }],
        },
        { type: "commitOffsets", group: "g", offsets: [], coordinatorEpoch: 0, generationId: 1 },
      ],
      [
        { type: "alterConfigs", name: "t", set: { "retention.ms": null, "retention.bytes": "1000" }, replace: false },
        { type: "createPartitions", name: "u", count: 2 },
      ],
      [
        {
          type: "compact",
          key: "compacted/c1",
          size: 200,
          runs: [
            {
              topic: "t",
              topicId: ID_A,
              partition: 0,
              baseOffset: 0,
              lastOffset: 2,
              maxTimestamp: T0,
              pos: 0,
              len: 100,
            },
            {
              topic: "t",
              topicId: ID_B,
              partition: 1,
              baseOffset: 0,
              lastOffset: 2,
              maxTimestamp: T0,
              pos: 100,
              len: 100,
            },
          ],
          replacedFiles: [],
        },
      ],
      [
        { type: "truncate", topic: "t", partition: 2, offset: 2, topicId: ID_A },
        // Of another topic called t: left alone.
        { type: "truncate", topic: "t", partition: 1, offset: 2, topicId: ID_B },
        { type: "deleteOffsets", group: "g", coordinatorEpoch: 1, partitions: [{ topic: "u", partition: 0 }] },
      ],
      [
        { type: "deleteTopic", name: "u" },
        { type: "deleteGroup", group: "old" },
      ],
    ];
    const fold = (format: (i: number) => "json" | "binary" | "none") => {
      const state = new ClusterState();
      const results = scenario.map((commands, i) => {
        const entry: LogEntry = { proposer: "0123456789abcdef", seq: i, time: T0 + i * 1000, commands };
        const f = format(i);
        return state.apply(BigInt(i + 1), f === "none" ? entry : decodeEntry(encodeEntry(entry, f)));
      });
      return { snapshot: state.toSnapshot().toString(), results };
    };
    const direct = fold(() => "none");
    for (const format of [
      () => "json" as const,
      () => "binary" as const,
      (i: number) => (i % 2 === 0 ? ("json" as const) : ("binary" as const)),
    ]) {
      const folded = fold(format);
      assert.equal(folded.snapshot, direct.snapshot);
      assert.deepStrictEqual(folded.results, direct.results);
    }
    // The scenario did reach the state it describes.
    const state = ClusterState.fromSnapshot(Buffer.from(direct.snapshot));
    assert.equal(state.partition("t", 0)!.nextOffset, 3, "the duplicate and the out-of-order batch add nothing");
    assert.equal(state.partition("t", 0)!.segments[0]!.location.store, "c");
    assert.equal(state.partition("t", 2)!.logStartOffset, 2);
    assert.equal(state.partition("t", 1)!.logStartOffset, 0);
    assert.deepEqual([...state.groupOffsets.get("g")!.keys()], ["t"], "deleteOffsets removed u-0 (and u-9)");
    assert.equal(state.topics.has("u"), false);
    assert.deepEqual([...state.groupOffsets.keys()], ["g"]);
    assert.equal(state.topics.get("t")!.configs["retention.bytes"], "1000");
  });

  it("refuses every truncation of an entry, and bytes after it, naming the entry's index", () => {
    const entry = encodeEntry(ENTRIES[0]!);
    for (let length = 0; length < entry.length; length++)
      throwsFormatError(() => decodeEntry(entry.subarray(0, length), 41n), /^metadata log entry 41 /);
    throwsFormatError(
      () => decodeEntry(Buffer.concat([entry, Buffer.from([0])]), 41n),
      /entry 41 \(format 3, binary\) is malformed: 1 bytes after the last command/,
    );
    const json = encodeJsonEntry(ENTRIES[0]!);
    throwsFormatError(
      () => decodeEntry(json.subarray(0, json.length - 1), 3n),
      /^metadata log entry 3 \(JSON\) is malformed: not JSON/,
    );
  });

  it("decodes corrupted entries to an entry or a MetadataFormatError, never anything else", () => {
    const random = seededRandom(13);
    const samples = [
      encodeEntry(ENTRIES[0]!),
      encodeEntry(commitFileEntry({ topics: 3, partitionsPerTopic: 4, idempotent: true })),
      encodeJsonEntry(ENTRIES[0]!),
    ];
    let refused = 0;
    for (let i = 0; i < 3000; i++) {
      const bytes = Buffer.from(samples[i % samples.length]!);
      const at = 3 + Math.floor(random() * (bytes.length - 3));
      bytes[at] = Math.floor(random() * 256);
      try {
        const entry = decodeEntry(bytes, 5n);
        assert.ok(Array.isArray(entry.commands));
      } catch (err) {
        assert.ok(err instanceof MetadataFormatError, `corruption at byte ${at} gave ${String(err)}`);
        assert.match(err.message, /^metadata log entry 5 /);
        refused++;
      }
    }
    assert.ok(refused > 0, "some corruptions are refused");
  });

  it("refuses a count larger than the bytes left before allocating for it", () => {
    // "WL", format 3, no flags, proposer "", seq 0, then 2^32 − 1 commands.
    const commands = Buffer.from([0x57, 0x4c, 3, 0, 1, 0, 0xff, 0xff, 0xff, 0xff, 0x0f]);
    throwsFormatError(
      () => decodeEntry(commands, 9n),
      /entry 9 \(format 3, binary\) is malformed: 4294967295 commands cannot fit in the 0 bytes left/,
    );
    const file = encodeEntry({
      proposer: "",
      seq: 0,
      commands: [{ type: "commitFile", key: "k", size: 0, time: 0, batches: [] }],
    });
    // The last byte is the commitFile's run count (0): make it the first byte of a huge one.
    const huge = Buffer.concat([file.subarray(0, file.length - 1), Buffer.from([0xff, 0xff, 0xff, 0xff, 0x07])]);
    throwsFormatError(() => decodeEntry(huge), /2147483647 runs cannot fit/);
  });

  it("names the format found and the formats it reads when an entry is of a newer format, in either encoding", () => {
    const L = ENTRY_FORMAT.latest;
    const N = L + 1;
    const newer = throwsFormatError(
      () => decodeEntry(Buffer.from([0x57, 0x4c, N, 0, 0]), 12n),
      new RegExp(
        `^metadata log entry 12 has format ${N}, newer than this agent reads \\(1-${L}\\)\\. It was written by a newer agent`,
      ),
    );
    assert.equal(newer.formatVersion, N);
    assert.equal(
      throwsFormatError(() => decodeEntry(Buffer.from([0x57, 0x4c, 0x80, 0x01])), /format 128, newer/).formatVersion,
      128,
    );
    throwsFormatError(
      () => decodeEntry(Buffer.from(`{"v":${N},"proposer":"p","seq":1,"commands":[{"type":"teleport"}]}`), 4n),
      new RegExp(`^metadata log entry 4 has format ${N}, newer than this agent reads \\(1-${L}\\)`),
    );
    throwsFormatError(
      () => decodeEntry(Buffer.from('{"proposer":"p"}'), 4n),
      /entry 4 \(JSON\) is malformed: no valid format \("v": absent\)/,
    );
    // Binary entries begin at format 3: "WL" 2 is no entry any agent writes.
    throwsFormatError(
      () => decodeEntry(Buffer.from([0x57, 0x4c, 2, 0, 0, 0, 0]), 6n),
      /entry 6 \(format 2, binary\) is malformed: binary entries start at format 3/,
    );
    throwsFormatError(
      () => decodeEntry(Buffer.from([1, 2, 3]), 8n),
      new RegExp(
        `^metadata log entry 8 is in no format this agent knows: it starts with 0x010203; this agent reads entry formats 1-${ENTRY_FORMAT.latest} \\(JSON, or binary from 3\\)$`,
      ),
    );
    throwsFormatError(() => decodeEntry(Buffer.alloc(0), 8n), /starts with nothing/);
  });

  it("carries a command without a layout of its own as JSON under the generic tag, and checks what it holds", () => {
    const deleteOffsets: Command = {
      type: "deleteOffsets",
      group: "g",
      coordinatorEpoch: 2,
      partitions: [{ topic: "t", partition: 1 }],
    };
    const bytes = encodeCommand(deleteOffsets);
    assert.equal(bytes[0], 13, "the generic JSON tag");
    assert.deepStrictEqual(JSON.parse(bytes.subarray(2).toString("utf8")), deleteOffsets);
    const header = { proposer: "0123456789abcdef", seq: 3, time: T0 };
    assert.deepStrictEqual(decodeEntry(encodeEntryFrom(header, 3, [bytes])), { ...header, commands: [deleteOffsets] });
    // Under the generic tag: JSON of a type with a layout, of an unknown type (a command of a newer
    // format in an entry that claims format 3), or no JSON object at all.
    const tagged = (json: string) => Buffer.concat([Buffer.from([13, Buffer.byteLength(json) + 1]), Buffer.from(json)]);
    const refused: Array<[string, RegExp]> = [
      ['{"type":"deleteGroup","group":"g"}', /deleteGroup as JSON, though it has a layout of its own/],
      ['{"type":"createAcls","acls":[]}', /createAcls \(format 4\) in an entry of format 3/],
      ['{"type":"teleport"}', /unknown command type "teleport"/],
      ['[{"type":"deleteOffsets"}]', /a command's JSON is not an object/],
      ['{"type":', /a command's JSON does not parse/],
    ];
    for (const [json, pattern] of refused)
      throwsFormatError(() => decodeEntry(encodeEntryFrom(header, 3, [tagged(json)]), 7n), pattern);
  });

  it("refuses to encode a value it could not give back exactly, and a JSON entry holding one", () => {
    const bad: Array<[Command, RegExp]> = [
      [{ type: "deleteGroup", group: "\ud800" }, /deleteGroup group is not a string/],
      [
        { type: "commitFile", key: "k", size: 0, time: 0, batches: [batch("t", -1, 0)] },
        /commitFile partition is not an unsigned 32-bit integer: -1/,
      ],
      [{ type: "commitFile", key: "k", size: 0, time: 0 } as unknown as Command, /commitFile batches is not a list/],
      [{ type: "createPartitions", name: "t", count: 1.5 }, /createPartitions count is not an integer: 1.5/],
      [{ type: "createPartitions", name: "t", count: 2 ** 64 }, /cannot be encoded/],
    ];
    for (const [command, pattern] of bad) {
      assert.throws(
        () => encodeCommand(command),
        (err: unknown) => err instanceof CommandEncodingError && pattern.test(err.message),
      );
      const json = encodeJsonEntry({ proposer: "p", seq: 1, commands: [command] });
      throwsFormatError(
        () => decodeEntry(json, 2n),
        /^metadata log entry 2 \(format 1, JSON\) is malformed: command 0:/,
      );
    }
  });

  it("passes on a JSON entry's command that the fold skips as malformed, and decodes the rest", () => {
    const skipped = [
      { type: "truncate", topic: "t", partition: 0, offset: 1.5 },
      { type: "truncate", topic: "t", partition: 0, offset: 1, topicId: "ABC" },
      { type: "deleteOffsets", group: "g", partitions: [] },
      { type: "nope" },
    ] as unknown as Command[];
    const fine: Command = { type: "allocateProducerId" };
    const entry = decodeEntry(encodeJsonEntry({ proposer: "p", seq: 1, commands: [...skipped, fine] }), 2n);
    assert.deepStrictEqual(entry.commands, [...skipped, fine]);
    const results = new ClusterState().apply(1n, entry);
    assert.deepEqual(
      results.map((r) => r.errorCode),
      [...skipped.map(() => FoldError.INVALID_REQUEST), FoldError.NONE],
      "INVALID_REQUEST for each skipped command, the last one applied",
    );
  });

  it("writes a deleteGroup fenced by its coordinator epoch at format 9 in either encoding, and reads one only from 9", () => {
    const entry: LogEntry = {
      proposer: "0123456789abcdef",
      seq: 3,
      time: T0,
      commands: [
        { type: "deleteGroup", group: "unfenced" },
        { type: "deleteGroup", group: "g ü", coordinatorEpoch: 0 },
        { type: "deleteGroup", group: "h", coordinatorEpoch: 2 ** 31 },
      ],
    };
    const binary = encodeEntry(entry);
    assert.equal(binary[2], ENTRY_FORMAT.fencedGroupDeletion);
    assert.deepStrictEqual(decodeEntry(binary), entry);
    const json = encodeEntry(entry, "json");
    assert.equal(json.toString("utf8", 0, 6), `{"v":${ENTRY_FORMAT.fencedGroupDeletion}`);
    assert.deepStrictEqual(decodeEntry(json), entry);
    assert.equal(encodeEntry({ ...entry, commands: [entry.commands[0]!] })[2], 3, "an unfenced one needs no new level");
    // The fenced form inside an entry claiming an older level: no agent of that level could have read it.
    const older = Buffer.from(binary);
    older[2] = ENTRY_FORMAT.fencedGroupDeletion - 1;
    throwsFormatError(
      () => decodeEntry(older, 5n),
      /entry 5 \(format 8, binary\) is malformed: deleteGroup with a coordinator epoch \(format 9\) in an entry of format 8/,
    );
    assert.match(
      commandProblem({ type: "deleteGroup", group: "g", coordinatorEpoch: -1 }) ?? "",
      /deleteGroup: coordinatorEpoch must be a non-negative integer/,
    );
  });

  it("writes the newest format every live agent reads, binary from format 3", () => {
    const L = ENTRY_FORMAT.latest;
    assert.equal(entryFormatFor([]), L);
    assert.equal(entryFormatFor([3, 3, 3]), 3);
    assert.equal(entryFormatFor([4, 4]), 4);
    assert.equal(entryFormatFor([5, 4]), 4);
    assert.equal(entryFormatFor([3, undefined, 3]), 1, "an agent from before binary entries advertises none");
    assert.equal(entryFormatFor([L + 1, 3]), 3);
    assert.equal(entryFormatFor([L + 1, L + 1]), L, "never a format this agent does not know");
    assert.equal(entryFormatFor([2, 3]), 2);
    assert.deepEqual([1, 2, 3, 4, 5, 6].map(encodingFor), ["json", "json", "binary", "binary", "binary", "binary"]);
  });

  it("keeps a partition batch within 32 bytes at 6 and at 1,000 partitions per file (bench/log-entry-size.ts)", () => {
    for (const [topics, partitionsPerTopic] of [
      [1, 6],
      [1, 1000],
      [100, 10],
    ] as const) {
      for (const idempotent of [false, true]) {
        const entry = commitFileEntry({ topics, partitionsPerTopic, idempotent });
        const perBatch = encodeEntry(entry).length / (topics * partitionsPerTopic);
        assert.ok(
          perBatch <= 32,
          `${topics} × ${partitionsPerTopic} partitions, idempotent ${idempotent}: ${perBatch} bytes`,
        );
        assert.deepStrictEqual(decodeEntry(encodeEntry(entry)), entry);
      }
    }
  });
});
