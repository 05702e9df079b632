/**
 * Transactions in the metadata fold (metadata/transactions.ts through ClusterState.apply): producer ids
 * and epochs of transactional ids (fencing, KIP-360 recovery, epoch exhaustion), partitions and groups
 * joining a transaction, transactional batches admitted only inside their transaction, the last stable
 * offset, an end in one entry (markers, aborted ranges, offsets applied or dropped), retries, expiry,
 * truncation and topic deletion, snapshots (format 7 in binary and JSON), and the commands' entry level.
 */
import assert from "node:assert/strict";
import type { Command, OffsetCommitEntry } from "../../src/metadata/commands.js";
import { commandProblem, ENTRY_FORMAT, entryFormat } from "../../src/metadata/commands.js";
import { decodeEntry, encodeEntry } from "../../src/metadata/entry-codec.js";
import { MetadataLog } from "../../src/metadata/log.js";
import { FormatNotReadByAllError } from "../../src/metadata/proposal.js";
import { encodeBinarySnapshot } from "../../src/metadata/snapshot-binary.js";
import { ClusterState, FoldError } from "../../src/metadata/state.js";
import { MAX_PRODUCER_EPOCH, TRANSACTIONAL_ID_EXPIRATION_MS } from "../../src/metadata/transactions.js";
import { MemMetadataStore } from "../../src/store/mem.js";
import { componentLogger } from "../../../common/logger.js";

const T0 = 1_767_225_600_000;
const TXN = "txn-1";

function at(state: ClusterState, time: number, ...commands: Command[]) {
  const index = state.appliedIndex + 1n;
  return state.apply(index, { proposer: "test", seq: Number(index), time, commands });
}
const apply = (state: ClusterState, ...commands: Command[]) => at(state, T0, ...commands);
const one = (state: ClusterState, command: Command) => apply(state, command)[0]!;

/** A state holding topic "t" with 3 partitions and topic "u" with 1. */
function stateWithTopics(): ClusterState {
  const s = new ClusterState();
  apply(
    s,
    { type: "createTopic", name: "t", topicId: "a".repeat(32), partitions: 3, configs: {} },
    { type: "createTopic", name: "u", topicId: "b".repeat(32), partitions: 1, configs: {} },
  );
  return s;
}

const init = (producerId = -1, producerEpoch = -1, transactionalId = TXN): Command => ({
  type: "initTransaction",
  transactionalId,
  timeoutMs: 60_000,
  producerId,
  producerEpoch,
});

const add = (
  producerId: number,
  producerEpoch: number,
  partitions: Array<[string, number]>,
  groups: string[] = [],
): Command => ({
  type: "addToTransaction",
  transactionalId: TXN,
  producerId,
  producerEpoch,
  partitions: partitions.map(([topic, partition]) => ({ topic, partition })),
  groups,
});

/** A file of one batch per partition, each `count` records, by `producerId` at `producerEpoch` (−1: none). */
function file(
  key: string,
  partitions: Array<[string, number]>,
  producerId = -1,
  producerEpoch = -1,
  count = 2,
): Command {
  return {
    type: "commitFile",
    key,
    size: 100 * partitions.length,
    time: T0,
    batches: partitions.map(([topic, partition], i) => ({
      topic,
      partition,
      pos: i * 100,
      len: 100,
      count,
      maxTimestamp: T0,
      producerId,
      producerEpoch,
      baseSequence: producerId < 0 ? -1 : 0,
    })),
  };
}

const end = (
  producerId: number,
  producerEpoch: number,
  commit: boolean,
  partitions: Array<[string, number]>,
  bumpEpoch = false,
): Command => ({
  type: "endTransaction",
  transactionalId: TXN,
  producerId,
  producerEpoch,
  commit,
  bumpEpoch,
  markers:
    partitions.length === 0
      ? null
      : {
          key: `markers/${commit ? "c" : "a"}-${producerEpoch}`,
          size: 61 * partitions.length,
          time: T0 + 1,
          batches: partitions.map(([topic, partition], i) => ({ topic, partition, pos: i * 61, len: 61 })),
        },
});

const offset = (topic: string, partition: number, o: number): OffsetCommitEntry => ({
  topic,
  partition,
  offset: o,
  leaderEpoch: -1,
  metadata: null,
  time: T0,
});

const lso = (s: ClusterState, topic: string, partition: number) =>
  s.transactions.lastStableOffset(topic, partition, s.partition(topic, partition)!.nextOffset);
const hw = (s: ClusterState, topic: string, partition: number) => s.partition(topic, partition)!.nextOffset;

describe("transactions in the metadata fold", () => {
  it("gives a transactional id a producer id, bumps its epoch at each init, and fences the holder of an older one", () => {
    const s = stateWithTopics();
    assert.deepEqual(one(s, init()), { errorCode: FoldError.NONE, producerId: 1000, producerEpoch: 0 });
    assert.deepEqual(one(s, init()), { errorCode: FoldError.NONE, producerId: 1000, producerEpoch: 1 });
    // KIP-360: a producer naming what it holds is bumped only if it holds the current epoch.
    assert.deepEqual(one(s, init(1000, 0)), { errorCode: FoldError.PRODUCER_FENCED });
    assert.deepEqual(one(s, init(1000, 1)), { errorCode: FoldError.NONE, producerId: 1000, producerEpoch: 2 });
    assert.deepEqual(one(s, { ...init(), timeoutMs: 16 * 60_000 } as Command), {
      errorCode: FoldError.INVALID_TRANSACTION_TIMEOUT,
    });
    assert.equal(one(s, init(-1, -1, "other")).producerId, 1001, "another id, another producer id");
    assert.equal(s.nextProducerId, 1002, "shared with idempotent producers' allocations");
  });

  it("admits transactional batches only to partitions in the producer's ongoing transaction", () => {
    const s = stateWithTopics();
    const { producerId: pid } = one(s, init()) as { producerId: number };
    const refused = one(s, file("f0", [["t", 0]], pid, 0)).batches![0]!;
    assert.equal(refused.errorCode, FoldError.INVALID_TXN_STATE, "no transaction ongoing");
    assert.deepEqual(one(s, add(pid, 0, [["t", 0]])), { errorCode: FoldError.NONE, partitionErrors: [FoldError.NONE] });
    assert.equal(s.transactions.get(TXN)!.state, "Ongoing");
    const [inTxn, outside] = one(
      s,
      file(
        "f1",
        [
          ["t", 0],
          ["t", 1],
        ],
        pid,
        0,
      ),
    ).batches!;
    assert.equal(inTxn!.errorCode, FoldError.NONE);
    assert.equal(outside!.errorCode, FoldError.INVALID_TXN_STATE, "t-1 is not in the transaction");
    assert.equal(one(s, file("f2", [["t", 0]], pid, 1)).batches![0]!.errorCode, FoldError.INVALID_PRODUCER_EPOCH);
    assert.equal(hw(s, "t", 1), 0, "nothing refused took an offset");
    assert.equal(one(s, file("f3", [["t", 0]])).batches![0]!.errorCode, FoldError.NONE, "others write on");
  });

  it("holds the last stable offset at a transaction's first offset until its marker lands", () => {
    const s = stateWithTopics();
    apply(s, file("before", [["t", 0]]));
    const pid = one(s, init()).producerId!;
    apply(
      s,
      add(pid, 0, [
        ["t", 0],
        ["u", 0],
      ]),
    );
    assert.equal(lso(s, "t", 0), 2, "added, nothing written: the LSO is the high watermark");
    apply(s, file("txn-data", [["t", 0]], pid, 0));
    apply(s, file("after", [["t", 0]]));
    assert.deepEqual([hw(s, "t", 0), lso(s, "t", 0)], [6, 2]);
    assert.equal(
      one(
        s,
        end(pid, 0, true, [
          ["t", 0],
          ["u", 0],
        ]),
      ).errorCode,
      FoldError.NONE,
    );
    assert.deepEqual([hw(s, "t", 0), lso(s, "t", 0)], [7, 7], "the marker took offset 6");
    assert.deepEqual([hw(s, "u", 0), lso(s, "u", 0)], [1, 1], "a marker on every partition of the transaction");
    const marker = s.partition("t", 0)!.segments.at(-1)!;
    assert.deepEqual([marker.baseOffset, marker.lastOffset, marker.location.key], [6, 6, "markers/c-0"]);
    assert.equal(s.objectRefs.get("markers/c-0"), 2);
    assert.equal(s.transactions.get(TXN)!.state, "CompleteCommit");
    assert.deepEqual(s.transactions.abortedIn("t", 0, 0, 7), [], "a commit leaves no aborted range");
  });

  it("records an aborted transaction's range, and drops its offsets; a commit applies them", () => {
    const s = stateWithTopics();
    const pid = one(s, init()).producerId!;
    apply(s, add(pid, 0, [["t", 2]], ["g"]));
    apply(s, file("d1", [["t", 2]], pid, 0, 3));
    const commit: Command = {
      type: "txnOffsetCommit",
      transactionalId: TXN,
      producerId: pid,
      producerEpoch: 0,
      group: "g",
      offsets: [offset("t", 0, 42)],
    };
    assert.equal(one(s, commit).errorCode, FoldError.NONE);
    assert.equal(s.groupOffsets.get("g"), undefined, "held until the transaction ends");
    assert.equal(s.transactions.pendingFor("g").get(pid)?.size, 1);
    assert.equal(one(s, end(pid, 0, false, [["t", 2]])).errorCode, FoldError.NONE);
    assert.deepEqual(s.transactions.abortedIn("t", 2, 0, 10), [{ producerId: pid, firstOffset: 0, lastOffset: 3 }]);
    assert.deepEqual(s.transactions.abortedIn("t", 2, 4, 10), [], "a fetch from past the marker sees none");
    assert.equal(s.groupOffsets.get("g"), undefined, "an abort drops the offsets");
    assert.equal(s.transactions.pendingFor("g").size, 0);
    // The next transaction of the same producer commits its offsets.
    apply(s, add(pid, 0, [], ["g"]));
    assert.equal(one(s, { ...commit, offsets: [offset("t", 0, 43)] }).errorCode, FoldError.NONE);
    assert.equal(one(s, end(pid, 0, true, [])).errorCode, FoldError.NONE, "no partitions: no markers");
    assert.equal(s.groupOffsets.get("g")?.get("t")?.get(0)?.offset, 43);
  });

  it("refuses TxnOffsetCommit for a group not in the transaction, and a fenced one for an older coordinator epoch", () => {
    const s = stateWithTopics();
    const pid = one(s, init()).producerId!;
    apply(s, add(pid, 0, [], ["g"]));
    const commit = (group: string, fence = {}): Command => ({
      type: "txnOffsetCommit",
      transactionalId: TXN,
      producerId: pid,
      producerEpoch: 0,
      group,
      offsets: [offset("t", 0, 1)],
      ...fence,
    });
    assert.equal(one(s, commit("h")).errorCode, FoldError.INVALID_TXN_STATE);
    apply(s, { type: "coordinateGroup", group: "g", coordinator: "a" });
    apply(s, { type: "coordinateGroup", group: "g", coordinator: "b" });
    assert.equal(one(s, commit("g", { coordinatorEpoch: 1, generationId: 3 })).errorCode, FoldError.NOT_COORDINATOR);
    assert.equal(one(s, commit("g", { coordinatorEpoch: 2, generationId: 3 })).errorCode, FoldError.NONE);
  });

  it("answers an end's retry without a second marker, and refuses an end of the other kind or without a transaction", () => {
    const s = stateWithTopics();
    const pid = one(s, init()).producerId!;
    assert.equal(one(s, end(pid, 0, true, [])).errorCode, FoldError.INVALID_TXN_STATE, "Empty");
    apply(s, add(pid, 0, [["t", 0]]));
    apply(s, file("d", [["t", 0]], pid, 0));
    assert.equal(one(s, end(pid, 0, true, [["t", 0]])).errorCode, FoldError.NONE);
    assert.equal(one(s, end(pid, 0, true, [["t", 0]])).errorCode, FoldError.NONE, "a retry");
    assert.equal(hw(s, "t", 0), 3, "one marker");
    assert.equal(one(s, end(pid, 0, false, [["t", 0]])).errorCode, FoldError.INVALID_TXN_STATE);
    assert.equal(one(s, end(pid + 1, 0, true, [])).errorCode, FoldError.INVALID_PRODUCER_ID_MAPPING);
    assert.equal(one(s, end(pid, 1, true, [])).errorCode, FoldError.PRODUCER_FENCED);
  });

  it("refuses an end whose markers do not match the transaction's partitions (a proposer behind): nothing changes", () => {
    const s = stateWithTopics();
    const pid = one(s, init()).producerId!;
    apply(
      s,
      add(pid, 0, [
        ["t", 0],
        ["t", 1],
      ]),
    );
    apply(s, file("d", [["t", 0]], pid, 0));
    const before = s.toSnapshot().toString();
    for (const markers of [
      [["t", 0]],
      [
        ["t", 0],
        ["t", 1],
        ["u", 0],
      ],
      [
        ["t", 0],
        ["t", 0],
      ],
    ] as Array<Array<[string, number]>>)
      assert.equal(one(s, end(pid, 0, true, markers)).errorCode, FoldError.CONCURRENT_TRANSACTIONS);
    const after = JSON.parse(s.toSnapshot().toString()) as { applied: string };
    assert.equal(JSON.stringify({ ...after, applied: "x" }), JSON.stringify({ ...JSON.parse(before), applied: "x" }));
    // A deleted topic leaves the transaction: the end names the partitions that remain.
    apply(s, { type: "deleteTopic", name: "t" });
    assert.equal(s.transactions.get(TXN)!.partitions.size, 0);
    assert.equal(one(s, end(pid, 0, true, [])).errorCode, FoldError.NONE);
  });

  it("refuses an init while a transaction is ongoing; an abort with a new epoch fences the producer, which may recover (KIP-360)", () => {
    const s = stateWithTopics();
    const pid = one(s, init()).producerId!;
    apply(s, add(pid, 0, [["t", 0]]));
    apply(s, file("d", [["t", 0]], pid, 0));
    assert.deepEqual(one(s, init()), { errorCode: FoldError.CONCURRENT_TRANSACTIONS });
    // The coordinator aborts it (a timeout), bumping the epoch.
    assert.equal(one(s, end(pid, 0, false, [["t", 0]], true)).errorCode, FoldError.NONE);
    assert.equal(s.transactions.get(TXN)!.producerEpoch, 1);
    assert.equal(lso(s, "t", 0), hw(s, "t", 0), "the last stable offset moved on");
    assert.equal(one(s, add(pid, 0, [["t", 0]])).errorCode, FoldError.PRODUCER_FENCED);
    assert.equal(one(s, file("late", [["t", 0]], pid, 0)).batches![0]!.errorCode, FoldError.INVALID_PRODUCER_EPOCH);
    // The producer that held epoch 0 recovers with it: it gets the epoch the abort gave, once.
    assert.deepEqual(one(s, init(pid, 0)), { errorCode: FoldError.NONE, producerId: pid, producerEpoch: 1 });
    assert.deepEqual(one(s, init(pid, 0)), { errorCode: FoldError.PRODUCER_FENCED });
  });

  it("moves to a new producer id when the epoch is exhausted; the old one stays fenced", () => {
    const s = stateWithTopics();
    const pid = one(s, init()).producerId!;
    s.transactions.get(TXN)!.producerEpoch = MAX_PRODUCER_EPOCH;
    const next = one(s, init());
    assert.notEqual(next.producerId, pid);
    assert.equal(next.producerEpoch, 0);
    assert.equal(
      one(s, file("old", [["t", 0]], pid, MAX_PRODUCER_EPOCH)).batches![0]!.errorCode,
      FoldError.PRODUCER_FENCED,
    );
    const copy = ClusterState.fromSnapshot(s.toSnapshot());
    assert.equal(
      one(copy, file("old", [["t", 0]], pid, MAX_PRODUCER_EPOCH)).batches![0]!.errorCode,
      FoldError.PRODUCER_FENCED,
    );
  });

  it("forgets a transactional id unused for transactional.id.expiration.ms, never an ongoing transaction", () => {
    const s = stateWithTopics();
    const pid = one(s, init()).producerId!;
    at(s, T0, init(-1, -1, "busy"));
    const busy = s.transactions.get("busy")!.producerId;
    at(s, T0, { ...add(busy, 0, [["t", 0]]), transactionalId: "busy" } as Command);
    const restored = ClusterState.fromSnapshot(s.toSnapshot());
    at(s, T0 + TRANSACTIONAL_ID_EXPIRATION_MS + 1);
    at(restored, T0 + TRANSACTIONAL_ID_EXPIRATION_MS + 1);
    assert.equal(restored.transactions.get(TXN), undefined, "a state restored from a snapshot forgets alike");
    assert.equal(restored.transactions.get("busy")?.state, "Ongoing");
    assert.equal(s.transactions.get(TXN), undefined);
    assert.equal(s.transactions.get("busy")?.state, "Ongoing");
    assert.equal(
      one(s, file("f", [["t", 1]], pid, 0)).batches![0]!.errorCode,
      FoldError.NONE,
      "no longer transactional",
    );
  });

  it("drops aborted ranges below a partition's new log start", () => {
    const s = stateWithTopics();
    const pid = one(s, init()).producerId!;
    for (let epoch = 0; epoch < 2; epoch++) {
      if (epoch > 0) apply(s, init());
      apply(s, add(pid, epoch, [["t", 0]]));
      apply(s, file(`d${epoch}`, [["t", 0]], pid, epoch));
      apply(s, end(pid, epoch, false, [["t", 0]]));
    }
    assert.equal(s.transactions.abortedIn("t", 0, 0, 100).length, 2);
    apply(s, { type: "truncate", topic: "t", partition: 0, offset: 3 });
    assert.deepEqual(s.transactions.abortedIn("t", 0, 0, 100), [{ producerId: pid, firstOffset: 3, lastOffset: 5 }]);
  });

  it("carries transactions through snapshots, binary and JSON (format 7); a state without any keeps its format", async () => {
    const s = stateWithTopics();
    const first = s.captureSnapshot();
    const plain = await encodeBinarySnapshot(first.view);
    first.release();
    assert.equal(plain.data[2], 5);
    const pid = one(s, init()).producerId!;
    apply(s, add(pid, 0, [["t", 0]], ["g"]));
    apply(s, file("d", [["t", 0]], pid, 0));
    apply(s, end(pid, 0, false, [["t", 0]]));
    apply(s, init());
    apply(
      s,
      add(
        pid,
        1,
        [
          ["t", 1],
          ["u", 0],
        ],
        ["g"],
      ),
    );
    apply(s, file("e", [["t", 1]], pid, 1));
    apply(s, {
      type: "txnOffsetCommit",
      transactionalId: TXN,
      producerId: pid,
      producerEpoch: 1,
      group: "g",
      offsets: [offset("u", 0, 9)],
    });
    const json = s.toSnapshot();
    assert.equal((JSON.parse(json.toString()) as { v: number }).v, 7);
    const capture = s.captureSnapshot();
    const binary = await encodeBinarySnapshot(capture.view);
    capture.release();
    assert.equal(binary.data[2], 7);
    for (const data of [json, binary.data]) {
      const copy = ClusterState.fromSnapshot(data);
      assert.equal(copy.toSnapshot().toString(), json.toString());
      assert.deepEqual([hw(copy, "t", 1), lso(copy, "t", 1)], [2, 0], "the ongoing transaction holds the LSO");
      assert.equal(copy.transactions.abortedIn("t", 0, 0, 10).length, 1);
      assert.equal(
        one(
          copy,
          end(pid, 1, true, [
            ["t", 1],
            ["u", 0],
          ]),
        ).errorCode,
        FoldError.NONE,
      );
      assert.equal(copy.groupOffsets.get("g")?.get("u")?.get(0)?.offset, 9);
    }
  });

  it("writes transaction commands at level 10, refused while a live agent reads an older one; finds malformed ones", async () => {
    const commands = [init(), add(1000, 0, [["t", 0]], ["g"]), end(1000, 0, true, [["t", 0]])];
    for (const c of commands) {
      assert.equal(entryFormat([c], "binary"), ENTRY_FORMAT.transactions);
      const entry = { proposer: "p", seq: 1, time: T0, commands: [c] };
      assert.deepStrictEqual(decodeEntry(encodeEntry(entry)), entry);
      assert.deepStrictEqual(decodeEntry(encodeEntry(entry, "json")), entry);
    }
    assert.match(commandProblem({ ...init(), transactionalId: "" } as Command)!, /transactionalId must be a non-empty/);
    assert.match(commandProblem({ ...init(), producerEpoch: 40_000 } as Command)!, /producerEpoch must be/);
    assert.match(
      commandProblem({
        ...end(1, 0, true, [["t", 0]]),
        markers: { key: "k", size: 1, time: 0, batches: [{ topic: "t", partition: 0, pos: 0, len: 0 }] },
      } as Command)!,
      /markers.batches\[0\] is malformed/,
    );
    const log = new MetadataLog(new MemMetadataStore(), {
      tailIntervalMs: 0,
      snapshotEveryEntries: 0,
      keepEntriesAfterSnapshot: 10,
      writesSnapshots: () => false,
      logger: componentLogger("test"),
      readersFormat: () => ENTRY_FORMAT.transactions - 1,
    });
    await log.open();
    await assert.rejects(log.propose([init()]), FormatNotReadByAllError);
    await log.close();
  });
});
