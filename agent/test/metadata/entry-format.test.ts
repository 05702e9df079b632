/**
 * Metadata log entry formats and malformed input: a JSON entry is written in the oldest format its
 * commands allow, a binary one at format 3 or the newest its commands need (ACLs: 4); the same commands
 * fold alike from JSON 1, JSON 2 and binary 3; bytes that are no readable entry (not JSON, a newer format)
 * stop the reader with an error naming the problem; a malformed truncate, deleteOffsets, createAcls or
 * deleteAcls command is refused by its proposer and, if it is in the log anyway, skipped by the fold the
 * same way on every agent.
 */
import assert from "node:assert/strict";
import type { AclBinding } from "../../src/metadata/acls.js";
import type { Command } from "../../src/metadata/commands.js";
import { ENTRY_FORMAT, entryFormat } from "../../src/metadata/commands.js";
import { decodeEntry, encodeEntry } from "../../src/metadata/entry-codec.js";
import { MetadataFormatError } from "../../src/metadata/format.js";
import { ClusterState, FoldError } from "../../src/metadata/state.js";
import { MemMetadataStore } from "../../src/store/mem.js";
import { testMetadataLog } from "../support/metadata-log.js";
import { capturedLogger } from "../support/captured-logger.js";
import type { Logger } from "../../../common/logger.js";
import { asReaderOfFormatsUpTo } from "../support/log-entries.js";

const createTopic: Command = { type: "createTopic", name: "t", topicId: "a".repeat(32), partitions: 1, configs: {} };
const deleteOffsets: Command = {
  type: "deleteOffsets",
  group: "g",
  coordinatorEpoch: 1,
  partitions: [{ topic: "t", partition: 0 }],
};

const aliceReads: AclBinding = {
  resourceType: "TOPIC",
  resourceName: "t",
  patternType: "LITERAL",
  principal: "User:alice",
  host: "*",
  operation: "READ",
  permissionType: "ALLOW",
};
const createAcls: Command = { type: "createAcls", acls: [aliceReads] };
const deleteAcls: Command = {
  type: "deleteAcls",
  filters: [
    {
      resourceType: "ANY",
      resourceName: null,
      patternType: "ANY",
      principal: null,
      host: null,
      operation: "ANY",
      permissionType: "ANY",
    },
  ],
};

const raw = (value: unknown) => Buffer.from(JSON.stringify(value), "utf8");
const formatOf = (data: Buffer) => (JSON.parse(data.toString("utf8")) as { v: number }).v;

const openLog = (store: MemMetadataStore, logger: Logger) => testMetadataLog(store, { logger });

/** A format no agent of this release reads. */
const NEXT = ENTRY_FORMAT.latest + 1;

describe("metadata log entry formats", () => {
  it("writes JSON at format 1 unless a command needs a newer one (deleteOffsets: 2, ACLs: 4), binary at 3 or more, and reads all", () => {
    const old = encodeEntry({ proposer: "p", seq: 1, time: 5, commands: [createTopic] }, "json");
    assert.equal(formatOf(old), 1);
    const newer = encodeEntry({ proposer: "p", seq: 2, commands: [createTopic, deleteOffsets] }, "json");
    assert.equal(formatOf(newer), 2);
    assert.equal(entryFormat([createTopic, deleteOffsets], "binary"), 3);
    const binary = encodeEntry({ proposer: "p", seq: 3, commands: [createTopic, deleteOffsets] }, "binary");
    assert.deepEqual([binary.toString("latin1", 0, 2), binary[2]], ["WL", 3]);
    assert.deepEqual(decodeEntry(binary), { proposer: "p", seq: 3, commands: [createTopic, deleteOffsets] });
    assert.deepEqual(decodeEntry(old), { proposer: "p", seq: 1, time: 5, commands: [createTopic] });
    assert.deepEqual(decodeEntry(newer), { proposer: "p", seq: 2, commands: [createTopic, deleteOffsets] });
  });

  it("writes an entry carrying ACL commands at format 4 in both encodings, which a format 3 reader refuses naming 4", () => {
    for (const commands of [[createTopic, createAcls], [deleteOffsets, deleteAcls], [createAcls]]) {
      assert.equal(entryFormat(commands, "json"), 4);
      assert.equal(entryFormat(commands, "binary"), 4);
    }
    const entry = { proposer: "p", seq: 7, commands: [createTopic, createAcls] };
    const json = encodeEntry(entry, "json");
    assert.equal(formatOf(json), 4);
    const binary = encodeEntry(entry, "binary");
    assert.deepEqual([binary.toString("latin1", 0, 2), binary[2]], ["WL", 4]);
    // createAcls has no layout of its own: it travels as its JSON under the generic tag (13).
    assert.ok(binary.includes(Buffer.from(JSON.stringify(createAcls))), "createAcls as JSON");
    assert.deepEqual(decodeEntry(json), entry);
    assert.deepEqual(decodeEntry(binary), entry);
    // A format 3 agent: this reader with the newest format it reads set back to 3.
    asReaderOfFormatsUpTo(3, () => {
      for (const data of [json, binary]) {
        assert.throws(
          () => decodeEntry(data, 9n),
          (err: unknown) =>
            err instanceof MetadataFormatError &&
            err.formatVersion === 4 &&
            /^metadata log entry 9 has format 4, newer than this agent reads \(1-3\)\. It was written by a newer agent/.test(
              err.message,
            ),
        );
      }
    });
  });

  it("folds the same commands to the same state from JSON format 1 and 2 entries and binary format 3 ones", () => {
    const scenario: Command[][] = [
      [createTopic, { type: "createPartitions", name: "t", count: 2 }],
      [{ type: "coordinateGroup", group: "g", coordinator: "a" }],
      [
        {
          type: "commitOffsets",
          group: "g",
          coordinatorEpoch: 1,
          offsets: [
            { topic: "t", partition: 0, offset: 4, leaderEpoch: -1, metadata: null, time: 10 },
            { topic: "t", partition: 1, offset: 2, leaderEpoch: -1, metadata: "m", time: 10 },
          ],
        },
      ],
      [deleteOffsets, { type: "truncate", topic: "t", partition: 1, offset: 0, topicId: "a".repeat(32) }],
      [{ type: "truncate", topic: "t", partition: 0, offset: 0, topicId: "b".repeat(32) }],
    ];
    const fold = (encoding: "json" | "binary") => {
      const state = new ClusterState();
      const formats: string[] = [];
      const results = scenario.map((commands, i) => {
        const data = encodeEntry({ proposer: "p", seq: i + 1, time: 100 + i, commands }, encoding);
        formats.push(encoding === "binary" ? `binary ${data[2]}` : `JSON ${formatOf(data)}`);
        return state.apply(BigInt(i + 1), decodeEntry(data));
      });
      return { snapshot: state.toSnapshot().toString(), results, formats };
    };
    const json = fold("json");
    const binary = fold("binary");
    assert.deepEqual(json.formats, ["JSON 1", "JSON 1", "JSON 1", "JSON 2", "JSON 1"]);
    assert.deepEqual(binary.formats, Array(5).fill("binary 3"));
    assert.equal(binary.snapshot, json.snapshot);
    assert.deepStrictEqual(binary.results, json.results);
    const state = ClusterState.fromSnapshot(Buffer.from(json.snapshot));
    assert.deepEqual([...state.groupOffsets.get("g")!.get("t")!.keys()], [1], "deleteOffsets removed t-0");
    assert.equal(json.results[4]![0]!.errorCode, FoldError.UNKNOWN_TOPIC_OR_PARTITION, "another topic's id");
  });

  it("refuses bytes that are no entry it can read, saying what is wrong", () => {
    const cases: Array<[Buffer, RegExp]> = [
      [Buffer.from("{not json", "utf8"), /metadata log entry \(JSON\) is malformed: not JSON/],
      [raw([1, 2]), /is in no format this agent knows: it starts with 0x5b/],
      [raw("entry"), /is in no format this agent knows/],
      [Buffer.from("{}"), /no valid format/],
      [raw({ proposer: "p", seq: 1, commands: [] }), /no valid format \("v": absent\)/],
      [
        raw({ v: NEXT, proposer: "p", seq: 1, commands: [] }),
        new RegExp(`has format ${NEXT}, newer than this agent reads \\(1-${ENTRY_FORMAT.latest}\\)`),
      ],
      [raw({ v: 1, seq: 1, commands: [] }), /no proposer and seq/],
      [raw({ v: 1, proposer: "p", seq: 1, time: "noon", commands: [] }), /time "noon" is not an integer/],
      [raw({ v: 1, proposer: "p", seq: 1, commands: {} }), /no commands array/],
      [raw({ v: 1, proposer: "p", seq: 1, commands: [{ topic: "t" }] }), /command 0 has no type/],
    ];
    for (const [data, message] of cases)
      assert.throws(
        () => decodeEntry(data),
        (err: unknown) => err instanceof MetadataFormatError && message.test(err.message),
      );
  });

  it("stops replaying at an entry of a newer format, with the error", async () => {
    const store = new MemMetadataStore();
    assert.ok(await store.append(1n, encodeEntry({ proposer: "p", seq: 1, commands: [createTopic] })));
    assert.ok(await store.append(2n, raw({ v: NEXT, proposer: "future", seq: 1, commands: [{ type: "teleport" }] })));
    const log = openLog(store, capturedLogger().logger);
    await assert.rejects(
      log.open(),
      new RegExp(`entry 2 has format ${NEXT}, newer than this agent reads \\(1-${ENTRY_FORMAT.latest}\\)`),
    );
    assert.equal(log.state.appliedIndex, 1n, "everything before it is folded, nothing after");
    await log.close();
  });

  it("refuses a malformed truncate or deleteOffsets before appending it, naming the field", async () => {
    const store = new MemMetadataStore();
    const log = openLog(store, capturedLogger().logger);
    await log.open();
    const malformed = [
      [{ type: "truncate", topic: "t", partition: 0, offset: "5" }, /truncate: offset must be a non-negative integer/],
      [{ type: "truncate", topic: "t", partition: -1, offset: 5 }, /truncate: partition must be/],
      [{ type: "truncate", topic: "t", partition: 0, offset: 5, topicId: "ABC" }, /truncate: topicId must be 32/],
      [
        { type: "deleteOffsets", group: "g", coordinatorEpoch: 1, partitions: [{ topic: 7 }] },
        /partitions\[0\]\.topic/,
      ],
      [{ type: "deleteOffsets", group: "g", partitions: [] }, /deleteOffsets: coordinatorEpoch must be/],
      [{ type: "createAcls", acls: {} }, /createAcls: acls must be an array/],
      [
        { type: "createAcls", acls: [{ ...aliceReads, principal: "alice" }] },
        /createAcls: acls\[0\]: principal "alice" is not of the form User:<name>/,
      ],
      [
        { type: "createAcls", acls: [{ ...aliceReads, host: "localhost" }] },
        /host "localhost" is neither \* nor an IP address/,
      ],
      [
        {
          type: "createAcls",
          acls: [
            {
              ...aliceReads,
              operation: "ALTER_CONFIGS",
              resourceType: "TRANSACTIONAL_ID",
            },
          ],
        },
        /operation ALTER_CONFIGS does not apply to TRANSACTIONAL_ID resources/,
      ],
      [{ type: "createAcls", acls: [{ ...aliceReads, extra: 1 }] }, /unknown field "extra"/],
      [
        { type: "deleteAcls", filters: [{ resourceType: "SPACESHIP" }] },
        /deleteAcls: filters\[0\]: unknown resource type filter/,
      ],
      [{ type: "teleport" }, /unknown command type "teleport"/],
    ] as const;
    for (const [command, message] of malformed)
      await assert.rejects(log.propose([command as unknown as Command]), message);
    assert.deepEqual(await store.read(1n, 10), [], "nothing was appended");
    await log.close();
  });

  it("skips a malformed command found in the log on every replay, and applies the rest of the entry", async () => {
    const store = new MemMetadataStore();
    assert.ok(await store.append(1n, encodeEntry({ proposer: "p", seq: 1, commands: [createTopic] })));
    assert.ok(
      await store.append(
        2n,
        raw({
          v: 1,
          proposer: "older",
          seq: 1,
          commands: [
            { type: "truncate", topic: "t", partition: 0, offset: -3 },
            { type: "createPartitions", name: "t", count: 2 },
          ],
        }),
      ),
    );
    for (let replay = 0; replay < 2; replay++) {
      const { logger, lines } = capturedLogger();
      const log = openLog(store, logger);
      await log.open();
      assert.equal(log.state.appliedIndex, 2n);
      assert.equal(log.state.partition("t", 0)!.logStartOffset, 0);
      assert.equal(log.state.topics.get("t")!.partitions.length, 2, "the entry's other command applies");
      assert.deepEqual(
        lines.map((l) => [l.message, l.index, l.command, l.error]),
        [
          [
            "metadata log entry refused by the fold",
            "2",
            "truncate",
            "truncate: offset must be a non-negative integer",
          ],
        ],
      );
      await log.close();
    }
    const [result] = new ClusterState().apply(1n, {
      proposer: "p",
      seq: 1,
      commands: [{ type: "deleteOffsets", group: "g", coordinatorEpoch: 1.5, partitions: [] }],
    });
    assert.deepEqual(result, {
      errorCode: FoldError.INVALID_REQUEST,
      message: "deleteOffsets: coordinatorEpoch must be a non-negative integer",
    });
  });
});
