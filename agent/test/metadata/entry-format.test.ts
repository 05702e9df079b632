/**
 * Metadata log entry formats and malformed input: an entry is written in the oldest format its commands
 * allow; bytes that are no readable entry (not JSON, a newer format) stop the reader with an error naming
 * the problem; a malformed truncate, deleteOffsets, createAcls or deleteAcls command is refused by its
 * proposer and, if it is in the log anyway, skipped by the fold the same way on every agent.
 */
import assert from "node:assert/strict";
import type { AclBinding } from "../../src/metadata/acls.js";
import type { Command } from "../../src/metadata/commands.js";
import { decodeEntry, encodeEntry, ENTRY_FORMAT, EntryFormatError } from "../../src/metadata/commands.js";
import { MetadataLog } from "../../src/metadata/log.js";
import { ClusterState, FoldError } from "../../src/metadata/state.js";
import { MemMetadataStore } from "../../src/store/mem.js";
import { capturedLogger } from "../support/captured-logger.js";
import type { Logger } from "../../../common/logger.js";

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

function openLog(store: MemMetadataStore, logger: Logger): MetadataLog {
  return new MetadataLog(store, {
    tailIntervalMs: 0,
    snapshotEveryEntries: 0,
    keepEntriesAfterSnapshot: 10,
    writesSnapshots: () => false,
    logger,
  });
}

describe("metadata log entry formats", () => {
  it("writes format 1 unless a command needs a newer one (deleteOffsets: 2, ACLs: 3), and reads them all", () => {
    const old = encodeEntry({ proposer: "p", seq: 1, time: 5, commands: [createTopic] });
    assert.equal(formatOf(old), 1);
    const newer = encodeEntry({ proposer: "p", seq: 2, commands: [createTopic, deleteOffsets] });
    assert.equal(formatOf(newer), 2);
    const acls = encodeEntry({ proposer: "p", seq: 3, commands: [createTopic, createAcls] });
    assert.equal(formatOf(acls), 3);
    assert.equal(formatOf(encodeEntry({ proposer: "p", seq: 4, commands: [deleteOffsets, deleteAcls] })), 3);
    assert.equal(ENTRY_FORMAT.latest, 3);
    assert.deepEqual(decodeEntry(acls), { proposer: "p", seq: 3, commands: [createTopic, createAcls] });
    assert.deepEqual(decodeEntry(old), { proposer: "p", seq: 1, time: 5, commands: [createTopic] });
    assert.deepEqual(decodeEntry(newer), { proposer: "p", seq: 2, commands: [createTopic, deleteOffsets] });
  });

  it("refuses bytes that are no entry it can read, saying what is wrong", () => {
    const cases: Array<[Buffer, RegExp]> = [
      [Buffer.from("{not json", "utf8"), /metadata log entry is not JSON/],
      [raw([1, 2]), /not a JSON object/],
      [raw({ proposer: "p", seq: 1, commands: [] }), /no valid format version \(v: undefined\)/],
      [raw({ v: 4, proposer: "p", seq: 1, commands: [] }), /format 4 is newer than this agent reads \(1-3\): upgrade/],
      [raw({ v: 1, seq: 1, commands: [] }), /no proposer and seq/],
      [raw({ v: 1, proposer: "p", seq: 1, time: "noon", commands: [] }), /time "noon" is not a number/],
      [raw({ v: 1, proposer: "p", seq: 1, commands: {} }), /no commands array/],
      [raw({ v: 1, proposer: "p", seq: 1, commands: [{ topic: "t" }] }), /command 0 has no type/],
    ];
    for (const [data, message] of cases)
      assert.throws(
        () => decodeEntry(data),
        (err: unknown) => err instanceof EntryFormatError && message.test(err.message),
      );
  });

  it("stops replaying at an entry of a newer format, with the error", async () => {
    const store = new MemMetadataStore();
    assert.ok(await store.append(1n, encodeEntry({ proposer: "p", seq: 1, commands: [createTopic] })));
    assert.ok(await store.append(2n, raw({ v: 4, proposer: "future", seq: 1, commands: [{ type: "teleport" }] })));
    const log = openLog(store, capturedLogger().logger);
    await assert.rejects(log.open(), /format 4 is newer than this agent reads/);
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
