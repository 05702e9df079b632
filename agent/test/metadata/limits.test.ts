/**
 * The fold refuses partition counts beyond metadata/limits.ts, so one CreateTopics or CreatePartitions
 * entry cannot make every agent allocate without bound, on every replay; the agent refuses them before
 * proposing.
 */
import assert from "node:assert/strict";
import type { Command } from "../../src/metadata/commands.js";
import { encodeEntry } from "../../src/metadata/entry-codec.js";
import { MAX_PARTITIONS_PER_TOPIC, MAX_PARTITIONS_TOTAL, partitionCountProblem } from "../../src/metadata/limits.js";
import { MetadataLog } from "../../src/metadata/log.js";
import { ClusterState, FoldError } from "../../src/metadata/state.js";
import { MemMetadataStore } from "../../src/store/mem.js";
import { capturedLogger } from "../support/captured-logger.js";

const topic = (name: string, partitions: number): Command => ({
  type: "createTopic",
  name,
  topicId: "a".repeat(32),
  partitions,
  configs: {},
});

function apply(state: ClusterState, ...commands: Command[]) {
  return state.apply(state.appliedIndex + 1n, { proposer: "test", seq: 1, commands });
}

describe("metadata fold: partition limits", () => {
  it("skips a createPartitions or createTopic beyond the per-topic limit, allocating nothing, and reports it", () => {
    const s = new ClusterState();
    const refused: Array<[bigint, string]> = [];
    s.onRefused = (index, command) => refused.push([index, command]);
    apply(s, topic("t", 2));
    for (const count of [MAX_PARTITIONS_PER_TOPIC + 1, 2.5, 2 ** 31 - 1, Number.POSITIVE_INFINITY]) {
      const [r] = apply(s, { type: "createPartitions", name: "t", count });
      assert.equal(r!.errorCode, FoldError.INVALID_PARTITIONS, `count ${count}`);
      assert.equal(s.topics.get("t")!.partitions.length, 2, `count ${count} allocated nothing`);
    }
    for (const partitions of [MAX_PARTITIONS_PER_TOPIC + 1, 2 ** 31 - 1, 0.5]) {
      const [r] = apply(s, topic(`u${partitions}`, partitions));
      assert.equal(r!.errorCode, FoldError.INVALID_PARTITIONS, `partitions ${partitions}`);
      assert.equal(s.topics.has(`u${partitions}`), false);
    }
    assert.deepEqual(
      refused.map(([, c]) => c),
      [...Array<string>(4).fill("createPartitions"), ...Array<string>(3).fill("createTopic")],
    );
    assert.equal(refused[0]![0], 2n, "the refusal names the entry's index");
    assert.equal(s.partitionTotal, 2);
    assert.equal(apply(s, { type: "createPartitions", name: "t", count: 5 })[0]!.errorCode, FoldError.NONE);
    assert.equal(s.topics.get("t")!.partitions.length, 5, "a valid count still applies");
  });

  it("counts every topic's partitions, through deletion and snapshots", () => {
    const s = new ClusterState();
    apply(s, topic("a", 3), topic("b", 4));
    apply(s, { type: "createPartitions", name: "a", count: 10 });
    assert.equal(s.partitionTotal, 14);
    apply(s, { type: "deleteTopic", name: "b" });
    assert.equal(s.partitionTotal, 10);
    assert.equal(ClusterState.fromSnapshot(s.toSnapshot()).partitionTotal, 10);
  });

  it("bounds the partitions of all topics together", () => {
    assert.equal(
      partitionCountProblem(MAX_PARTITIONS_PER_TOPIC, 0, MAX_PARTITIONS_TOTAL - MAX_PARTITIONS_PER_TOPIC),
      null,
    );
    assert.match(partitionCountProblem(1, 0, MAX_PARTITIONS_TOTAL) ?? "", /above the cluster's limit/);
    assert.match(partitionCountProblem(11, 10, MAX_PARTITIONS_TOTAL) ?? "", /1 more partitions/);
    assert.equal(partitionCountProblem(10, 10, MAX_PARTITIONS_TOTAL), null, "no growth never passes the limit");
  });

  it("replays a log holding an oversized createPartitions entry without allocating it", async () => {
    const store = new MemMetadataStore();
    const entry = (seq: number, ...commands: Command[]) => encodeEntry({ proposer: "older-agent", seq, commands });
    assert.ok(await store.append(1n, entry(1, topic("t", 1))));
    assert.ok(
      await store.append(2n, entry(2, { type: "createPartitions", name: "t", count: MAX_PARTITIONS_PER_TOPIC * 10 })),
    );
    assert.ok(await store.append(3n, entry(3, { type: "createPartitions", name: "t", count: 3 })));
    const { logger, lines } = capturedLogger();
    const log = new MetadataLog(store, {
      tailIntervalMs: 0,
      snapshotEveryEntries: 0,
      keepEntriesAfterSnapshot: 10,
      writesSnapshots: () => false,
      logger,
    });
    await log.open();
    assert.equal(log.state.appliedIndex, 3n);
    assert.equal(log.state.topics.get("t")!.partitions.length, 3, "the entry after the refused one applies");
    assert.deepEqual(
      lines.map((l) => [l.message, l.index, l.command]),
      [["metadata log entry refused by the fold", "2", "createPartitions"]],
    );
    await log.close();
  });
});
