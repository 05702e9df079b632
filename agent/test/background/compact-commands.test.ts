/**
 * A compaction pass's `compact` commands (background/compact-commands.ts): every kept run once, in order,
 * at its place in the object; each command within a log entry; the replaced files on the last; and built
 * a part at a time in slices, never by encoding the whole pass as one command (which held the lease
 * holder's event loop for 130-250 ms at 100,000 partitions).
 */
import assert from "node:assert/strict";
import { TimeSlicer } from "../../../common/time-slicer.js";
import { compactCommands, type CommandSizer, type ObjectRun } from "../../src/background/compact-commands.js";
import type { Command } from "../../src/metadata/commands.js";
import type { MetadataLog } from "../../src/metadata/log.js";
import { MemMetadataStore } from "../../src/store/mem.js";
import { openLogWithTopic } from "../ingest/support.js";
import { turnsDuring } from "../support/event-loop.js";

/** Entries of 8 KiB: a command holds a few hundred runs. */
class SmallEntryStore extends MemMetadataStore {
  override readonly maxEntryBytes = 8192;
}

/** Run `i` of partition `i % partitions`, `len` bytes, offsets that grow with `i` (varints of varied sizes). */
function runs(count: number, partitions: number): ObjectRun[] {
  return Array.from({ length: count }, (_, i) => {
    const base = i * 1000 + (i % 7) * 123_456;
    const segment = {
      baseOffset: base,
      lastOffset: base + 1 + (i % 50),
      maxTimestamp: 1_767_225_600_000 + i,
      appendTime: 1_767_225_600_000 + i,
      location: { store: "i" as const, key: `ingest/${i}`, pos: 0, len: 100 },
    };
    return {
      topic: "t",
      partition: i % partitions,
      segments: [segment],
      len: 100 + (i % 13),
      maxTimestamp: segment.maxTimestamp,
    };
  });
}

/** The log as sizer, recording the size of every command it was asked to size. */
function recording(log: MetadataLog): { sizer: CommandSizer; sized: number[] } {
  const sized: number[] = [];
  return {
    sized,
    sizer: {
      maxCommandBytes: log.maxCommandBytes,
      commandSize: (c: Command) => {
        const n = log.commandSize(c);
        sized.push(n);
        return n;
      },
    },
  };
}

describe("compaction's commands", () => {
  let log: MetadataLog;
  beforeEach(async () => {
    log = await openLogWithTopic(64, new SmallEntryStore());
  });
  afterEach(async () => {
    await log.close();
  });

  it("lists every kept run once, in order, at its place in the object; each command fits an entry", async () => {
    const all = runs(3000, 64);
    const keep = new Set(all.filter((_, i) => i % 5 !== 3));
    const replaced = ["ingest/a", "ingest/b"];
    const { sizer } = recording(log);
    const commands = await compactCommands(
      "compacted/x",
      all,
      all.filter((r) => keep.has(r)),
      log.state,
      sizer,
      replaced,
      new TimeSlicer(),
    );
    assert.ok(commands.length > 1, `${commands.length} commands`);
    for (const c of commands) {
      assert.ok(log.commandSize(c) <= log.maxCommandBytes, `a command of ${log.commandSize(c)} bytes`);
      assert.equal(c.key, "compacted/x");
      assert.equal(
        c.size,
        all.reduce((n, r) => n + r.len, 0),
      );
    }
    assert.deepEqual(
      commands.map((c) => c.replacedFiles),
      commands.map((_, i) => (i === commands.length - 1 ? replaced : [])),
    );
    let pos = 0;
    const expected = all.flatMap((r) => {
      const at = pos;
      pos += r.len;
      return keep.has(r)
        ? [{ partition: r.partition, baseOffset: r.segments[0]!.baseOffset, pos: at, len: r.len }]
        : [];
    });
    assert.deepEqual(
      commands.flatMap((c) =>
        c.runs.map((r) => ({ partition: r.partition, baseOffset: r.baseOffset, pos: r.pos, len: r.len })),
      ),
      expected,
    );
    // About as many commands as the runs need: the parts are cut from an estimate, not one run at a time.
    const bytes = commands.reduce((n, c) => n + log.commandSize(c), 0);
    assert.ok(
      commands.length <= Math.ceil(bytes / log.maxCommandBytes) + 1,
      `${commands.length} commands for ${bytes} bytes`,
    );
  });

  it("never sizes the whole pass as one command, and gives the event loop back while it builds", async () => {
    const all = runs(6000, 64);
    const { sizer, sized } = recording(log);
    const { turns, result } = await turnsDuring(() =>
      compactCommands("compacted/y", all, all, log.state, sizer, [], new TimeSlicer(0)),
    );
    assert.ok(turns > 3, `the event loop turned ${turns} times`);
    // The largest command sized is a part that fits or one a little over (halved then), never the pass.
    assert.ok(
      Math.max(...sized) <= log.maxCommandBytes * 1.5,
      `sized a command of ${Math.max(...sized)} bytes (entries hold ${log.maxCommandBytes})`,
    );
    const atOnce = await compactCommands("compacted/y", all, all, log.state, log, [], new TimeSlicer(Infinity));
    assert.deepEqual(result, atOnce);
    assert.equal(
      result.reduce((n, c) => n + c.runs.length, 0),
      6000,
    );
  });

  it("gives one command, with the replaced files, for a pass that fits an entry or keeps no run", async () => {
    const few = runs(10, 4);
    const one = await compactCommands("compacted/z", few, few, log.state, log, ["ingest/f"], new TimeSlicer());
    assert.equal(one.length, 1);
    assert.equal(one[0]!.runs.length, 10);
    assert.deepEqual(one[0]!.replacedFiles, ["ingest/f"]);
    const none = await compactCommands("compacted/z", few, [], log.state, log, [], new TimeSlicer());
    assert.deepEqual(
      none.map((c) => c.runs.length),
      [0],
    );
  });
});
