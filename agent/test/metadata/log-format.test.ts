/**
 * The metadata log and entry formats (docs/metadata-log.md, "Entry formats"): it writes the format every
 * live agent reads, folds entries of either format alike, and stops — at start-up, or while tailing — at
 * an entry or snapshot it cannot read, naming it, instead of folding past it.
 */
import assert from "node:assert/strict";
import { componentLogger } from "../../../common/logger.js";
import type { Command } from "../../src/metadata/commands.js";
import { CommandEncodingError, decodeEntry, encodeEntry } from "../../src/metadata/entry-codec.js";
import { MetadataFormatError } from "../../src/metadata/format.js";
import { MetadataLog } from "../../src/metadata/log.js";
import type { MetadataLogOptions } from "../../src/metadata/log.js";
import { ProposalNotAppliedError } from "../../src/metadata/proposal.js";
import { ENTRY_FORMAT } from "../../src/metadata/commands.js";
import { LogGroupOffsetStore } from "../../src/metadata/group-offsets.js";
import { ErrorCode } from "../../src/protocol/index.js";
import { MemMetadataStore } from "../../src/store/mem.js";
import { capturedLogger } from "../support/captured-logger.js";

const options: MetadataLogOptions = {
  tailIntervalMs: 0,
  snapshotEveryEntries: 0,
  keepEntriesAfterSnapshot: 10,
  writesSnapshots: () => false,
  logger: componentLogger("test"),
};

const createTopic: Command = { type: "createTopic", name: "t", topicId: "a".repeat(32), partitions: 2, configs: {} };

function commitFile(key: string, partition: number): Command {
  return {
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
        count: 2,
        maxTimestamp: 1_767_225_600_000,
        producerId: -1,
        producerEpoch: -1,
        baseSequence: -1,
      },
    ],
  };
}

/** An entry as another agent would append it. */
function entry(seq: number, ...commands: Command[]): Buffer {
  return encodeEntry({ proposer: "other", seq, time: 1_767_225_600_000 + seq, commands });
}

/** A format no agent of this release reads. */
const NEXT = ENTRY_FORMAT.latest + 1;
/** "WL", that format, and bytes this agent cannot know the meaning of. */
const NEWER_ENTRY = Buffer.from([0x57, 0x4c, NEXT, 0, 0, 0]);
const newerThan = (index: number) =>
  new RegExp(
    `^metadata log entry ${index} has format ${NEXT}, newer than this agent reads \\(1-${ENTRY_FORMAT.latest}\\)`,
  );

async function rejectsWith(promise: Promise<unknown>, type: new (...args: never[]) => Error, pattern: RegExp) {
  await assert.rejects(promise, (err: unknown) => {
    assert.ok(err instanceof type, `expected ${type.name}, got ${String(err)}`);
    assert.match(err.message, pattern);
    return true;
  });
}

describe("metadata log: entry formats", () => {
  it("writes binary, or JSON while an agent that does not read format 3 is live, and folds both alike", async () => {
    const store = new MemMetadataStore();
    const binary = new MetadataLog(store, { ...options, readersFormat: () => 3 });
    const json = new MetadataLog(store, { ...options, readersFormat: () => 2 });
    await binary.open();
    await json.open();
    await binary.propose([createTopic]);
    await json.catchUp();
    for (let i = 0; i < 6; i++) {
      const log = i % 2 === 0 ? json : binary;
      await log.catchUp();
      await log.propose([commitFile(`f${i}`, i % 2), { type: "allocateProducerId" }]);
    }
    await binary.catchUp();
    await json.catchUp();
    assert.equal(binary.state.toSnapshot().toString(), json.state.toSnapshot().toString());
    assert.equal(binary.state.partition("t", 0)!.nextOffset, 6);
    const starts = (await store.read(1n, 100)).map((r) => r.data.toString("latin1", 0, 2));
    assert.deepEqual(starts, ["WL", '{"', "WL", '{"', "WL", '{"', "WL"]);
    await binary.close();
    await json.close();
  });

  it("writes JSON at the oldest format its commands allow (deleteOffsets: 2), binary at format 3; refuses a command a live agent cannot read", async () => {
    const deleteOffsets: Command = { type: "deleteOffsets", group: "g", coordinatorEpoch: 0, partitions: [] };
    const written: Array<[number, string, string]> = [];
    for (const readers of [1, 2, 3, 4]) {
      const store = new MemMetadataStore();
      const log = new MetadataLog(store, { ...options, readersFormat: () => readers });
      await log.open();
      await log.propose([createTopic]);
      if (readers < 2)
        await assert.rejects(
          log.propose([deleteOffsets]),
          /reads metadata log entries up to format 1, and this change \(deleteOffsets\) needs format 2/,
        );
      else await log.propose([deleteOffsets]);
      for (const r of await store.read(1n, 10)) {
        const binary = r.data.toString("latin1", 0, 2) === "WL";
        const format = binary ? r.data[2]! : (JSON.parse(r.data.toString("utf8")) as { v: number }).v;
        written.push([readers, decodeEntry(r.data).commands[0]!.type, `${binary ? "binary" : "JSON"} ${format}`]);
      }
      await log.close();
    }
    assert.deepEqual(written, [
      [1, "createTopic", "JSON 1"],
      [2, "createTopic", "JSON 1"],
      [2, "deleteOffsets", "JSON 2"],
      [3, "createTopic", "binary 3"],
      [3, "deleteOffsets", "binary 3"],
      [4, "createTopic", "binary 3"],
      [4, "deleteOffsets", "binary 3"],
    ]);
  });

  it("fences a group deletion by its coordinator epoch (format 9) only while every live agent reads format 9", async () => {
    const written: Array<[number, string, number | undefined]> = [];
    for (const readers of [8, 9]) {
      const store = new MemMetadataStore();
      const log = new MetadataLog(store, { ...options, readersFormat: () => readers });
      await log.open();
      const offsets = new LogGroupOffsetStore(log);
      const { coordinatorEpoch } = await offsets.claimGroup("g", "me");
      assert.equal(await offsets.deleteGroup("g", coordinatorEpoch), ErrorCode.NONE);
      // The other agent claims the group: a fenced deletion at the older epoch is refused.
      await log.propose([{ type: "coordinateGroup", group: "g", coordinator: "other" }]);
      assert.equal(
        await offsets.deleteGroup("g", coordinatorEpoch),
        readers >= 9 ? ErrorCode.NOT_COORDINATOR : ErrorCode.NONE,
      );
      for (const r of await store.read(1n, 10)) {
        const c = decodeEntry(r.data).commands[0]!;
        if (c.type === "deleteGroup") written.push([readers, `binary ${r.data[2]}`, c.coordinatorEpoch]);
      }
      await log.close();
    }
    assert.deepEqual(written, [
      [8, "binary 3", undefined],
      [8, "binary 3", undefined],
      [9, "binary 9", 1],
      [9, "binary 9", 1],
    ]);
  });

  it("refuses to start on a log holding an entry of a newer format, naming its index and the formats it reads", async () => {
    const store = new MemMetadataStore();
    assert.ok(await store.append(1n, entry(1, createTopic)));
    assert.ok(await store.append(2n, NEWER_ENTRY));
    const log = new MetadataLog(store, options);
    await rejectsWith(log.open(), MetadataFormatError, newerThan(2));
  });

  it("refuses to start on a snapshot of a newer format, naming the version and the versions it reads", async () => {
    for (const [data, version] of [
      [Buffer.from(JSON.stringify({ v: 99, applied: "5" })), 99],
      [Buffer.from([0x57, 0x53, 99, 1, 2, 3]), 99],
    ] as const) {
      const store = new MemMetadataStore();
      await store.putSnapshot({ index: 5n, data });
      await rejectsWith(
        new MetadataLog(store, options).open(),
        MetadataFormatError,
        new RegExp(
          `^metadata snapshot at log index 5 has format version ${version}; this agent reads snapshot format versions 1, 2, 3, 4, 5, 6, 7 and 9\\. It was written by a newer agent`,
        ),
      );
    }
    const store = new MemMetadataStore();
    await store.putSnapshot({ index: 5n, data: Buffer.from([0, 1]) });
    await rejectsWith(
      new MetadataLog(store, options).open(),
      MetadataFormatError,
      /^metadata snapshot at log index 5 is in no format this agent knows: it starts with 0x0001/,
    );
  });

  for (const [what, bad, pattern] of [
    ["an entry of a newer format", NEWER_ENTRY, newerThan(3)],
    [
      "a truncated entry",
      entry(3, commitFile("f3", 0)).subarray(0, 12),
      /^metadata log entry 3 \(format 3, binary\) is malformed: truncated/,
    ],
  ] as const) {
    it(`stops folding at ${what} met while running, rather than fold past it or part of it`, async () => {
      const store = new MemMetadataStore();
      const { logger, lines } = capturedLogger();
      const unreadable: MetadataFormatError[] = [];
      const log = new MetadataLog(store, { ...options, logger, onUnreadable: (e) => unreadable.push(e) });
      await log.open();
      assert.ok(await store.append(1n, entry(1, createTopic)));
      assert.ok(await store.append(2n, entry(2, commitFile("f2", 0))));
      await log.catchUp();
      const before = log.state.toSnapshot().toString();
      assert.ok(await store.append(3n, bad));
      assert.ok(await store.append(4n, entry(4, commitFile("f4", 1))));

      await rejectsWith(log.catchUp(), MetadataFormatError, pattern);
      assert.equal(log.state.appliedIndex, 2n, "nothing at or after the entry it cannot read is folded");
      assert.equal(log.state.toSnapshot().toString(), before);
      assert.equal(unreadable.length, 1);
      assert.match(unreadable[0]!.message, pattern);
      assert.equal(log.halted, unreadable[0]);
      assert.deepEqual(
        lines.map((l) => [l.level, l.message, l.appliedIndex]),
        [["error", "metadata log unreadable: this agent stops folding it", "2"]],
      );
      // It stays stopped: no later pass folds entry 4, and nothing new is proposed.
      await rejectsWith(log.catchUp(), MetadataFormatError, pattern);
      await rejectsWith(
        log.propose([commitFile("f5", 0)]),
        ProposalNotAppliedError,
        /^metadata log stopped: metadata log entry 3 /,
      );
      assert.equal(log.state.appliedIndex, 2n);
      assert.equal((await store.read(5n, 10)).length, 0, "no entry was appended");
      assert.equal(unreadable.length, 1);
      await log.close();
    });
  }

  it("refuses a command the format cannot hold or a malformed one, alone, and commits the others of its entry", async () => {
    const store = new MemMetadataStore();
    const log = new MetadataLog(store, options);
    await log.open();
    await log.propose([createTopic]);
    const [good, bad, malformed] = await Promise.allSettled([
      log.propose([commitFile("ok", 0)]),
      log.propose([{ type: "createPartitions", name: "t", count: 0.5 }]),
      log.propose([{ type: "truncate", topic: "t", partition: 0, offset: 0.5 }]),
    ]);
    assert.equal(good.status, "fulfilled");
    assert.ok(bad.status === "rejected" && bad.reason instanceof CommandEncodingError, String(bad));
    assert.ok(malformed.status === "rejected" && /truncate: offset must be/.test(String(malformed.reason)));
    // The commitFile names topic t by its number (given in the createTopic's entry): decoded against the state.
    const entries = (await store.read(1n, 10)).map((r) => decodeEntry(r.data, r.index, log.state.numbering));
    assert.deepEqual(
      entries.map((e) => e.commands.map((c) => c.type)),
      [["createTopic", "numberTopics"], ["commitFile"]],
    );
    await log.close();
  });
});
