/**
 * The history checker on hand-built histories: a clean one, and one per anomaly it must report.
 */
import assert from "node:assert/strict";
import { checkHistory, checkTransactions, describeResult, describeTransactionResult } from "../support/checker.js";
import type { AckedRecord, ConsumedRecord, History, SentRecord } from "../support/checker.js";

function sent(producer: string, seq: number, partition: number): SentRecord {
  return { producer, seq, partition, key: `k${seq % 3}`, value: `${producer}-${seq}` };
}

function ack(producer: string, seq: number, partition: number, offset: number): AckedRecord {
  return { ...sent(producer, seq, partition), offset: BigInt(offset) };
}

function read(r: SentRecord, offset: number, partition = r.partition): ConsumedRecord {
  return { partition, offset: BigInt(offset), key: r.key, value: r.value };
}

/** p1 sends seq 0..3 alternating partitions 0 and 1; p2 sends 0..1 to partition 0. */
function cleanHistory(): History {
  const acked = [
    ack("p1", 0, 0, 0),
    ack("p1", 1, 1, 0),
    ack("p2", 0, 0, 1),
    ack("p1", 2, 0, 2),
    ack("p1", 3, 1, 1),
    ack("p2", 1, 0, 3),
  ];
  return { acked, indeterminate: [], consumed: acked.map((a) => read(a, Number(a.offset))), idempotent: true };
}

describe("history checker", () => {
  it("passes a history with no anomaly, in any read order, with re-reads folded", () => {
    const h = cleanHistory();
    const r = checkHistory({ ...h, consumed: [...h.consumed].reverse().concat(h.consumed.slice(0, 2)) });
    assert.equal(r.ok, true, describeResult(r));
    assert.equal(r.acked, 6);
    assert.equal(r.consumed, 6);
  });

  it("reports an acknowledged record that was never read as lost", () => {
    const h = cleanHistory();
    // p1-3 (partition 1, offset 1) was acknowledged but the partition ends at offset 0.
    const r = checkHistory({ ...h, consumed: h.consumed.filter((c) => c.value !== "p1-3") });
    assert.equal(r.ok, false);
    assert.deepEqual(
      r.lost.map((l) => l.value),
      ["p1-3"],
    );
  });

  it("reports a record stored twice by an idempotent producer as a duplicate", () => {
    const h = cleanHistory();
    const p13 = h.acked.find((a) => a.value === "p1-3")!;
    const r = checkHistory({ ...h, consumed: [...h.consumed, read(p13, 2)] });
    assert.equal(r.ok, false);
    assert.deepEqual(r.duplicates, [{ value: "p1-3", positions: ["1@1", "1@2"] }]);
  });

  it("allows duplicates of non-idempotent producers but counts them", () => {
    const h = cleanHistory();
    const p13 = h.acked.find((a) => a.value === "p1-3")!;
    const r = checkHistory({ ...h, idempotent: false, consumed: [...h.consumed, read(p13, 2)] });
    assert.equal(r.ok, true, describeResult(r));
    assert.equal(r.allowedDuplicates, 1);
    assert.deepEqual(r.duplicates, []);
  });

  it("reports a producer's records stored out of send order within a partition", () => {
    // p1 sent seq 0 then seq 2 to partition 0, but they are stored the other way round.
    const a = ack("p1", 0, 0, 1);
    const b = ack("p1", 2, 0, 0);
    const r = checkHistory({ acked: [a, b], indeterminate: [], consumed: [read(a, 1), read(b, 0)], idempotent: true });
    assert.equal(r.ok, false);
    assert.equal(r.reordered.length, 1);
    assert.deepEqual({ value: r.reordered[0]!.value, after: r.reordered[0]!.after }, { value: "p1-0", after: "p1-2" });
  });

  it("does not call two producers' interleaving a reordering", () => {
    const a = ack("p1", 5, 0, 0);
    const b = ack("p2", 0, 0, 1);
    const c = ack("p1", 6, 0, 2);
    const r = checkHistory({
      acked: [a, b, c],
      indeterminate: [],
      consumed: [a, b, c].map((x) => read(x, Number(x.offset))),
      idempotent: true,
    });
    assert.equal(r.ok, true, describeResult(r));
  });

  it("reports a record read at another offset than its acknowledgement", () => {
    const a = ack("p1", 0, 0, 0);
    const b = ack("p1", 1, 0, 1);
    const r = checkHistory({
      acked: [a, b],
      indeterminate: [],
      consumed: [read(a, 0), read(b, 1), { ...read(b, 1), value: "p1-0" }],
      idempotent: true,
    });
    assert.equal(r.ok, false);
    assert.deepEqual(r.conflicts, [{ partition: 0, offset: 1n, values: ["p1-1", "p1-0"] }]);
    const moved = checkHistory({
      acked: [a, b],
      indeterminate: [],
      consumed: [read(a, 0), read(b, 1, 1)],
      idempotent: true,
    });
    assert.deepEqual(moved.wrongOffset, [{ value: "p1-1", acked: "0@1", read: ["1@1"] }]);
  });

  it("accepts indeterminate records whether stored or not, once", () => {
    const a = ack("p1", 0, 0, 0);
    const maybe = sent("p1", 1, 0);
    const never = sent("p1", 2, 0);
    const b = ack("p2", 0, 0, 2);
    const r = checkHistory({
      acked: [a, b],
      indeterminate: [maybe, never],
      consumed: [read(a, 0), read(maybe, 1), read(b, 2)],
      idempotent: true,
    });
    assert.equal(r.ok, true, describeResult(r));
    assert.equal(r.indeterminateStored, 1);
  });

  it("reports records nobody sent and holes in a partition's offsets", () => {
    const a = ack("p1", 0, 0, 0);
    const b = ack("p1", 1, 0, 3);
    const r = checkHistory({
      acked: [a, b],
      indeterminate: [],
      consumed: [read(a, 0), { partition: 0, offset: 1n, key: "x", value: "ghost" }, read(b, 3)],
      idempotent: true,
    });
    assert.equal(r.ok, false);
    assert.deepEqual(
      r.unexpected.map((u) => u.value),
      ["ghost"],
    );
    assert.deepEqual(r.gaps, [{ partition: 0, from: 2n, to: 2n }]);
  });
});

describe("the transactional history checker", () => {
  const txn = (id: string, n: number) => ({ id, values: Array.from({ length: n }, (_, i) => `${id}-${i}`) });
  const readAll = (...txns: Array<{ values: readonly string[] }>): ConsumedRecord[] =>
    txns.flatMap((t) => t.values).map((value, i) => ({ partition: i % 2, offset: BigInt(i), key: "", value }));

  it("passes a history where committed transactions are whole, aborted ones absent, indeterminate ones all or nothing", () => {
    const [c1, c2, a1, u1, u2] = [txn("c1", 3), txn("c2", 2), txn("a1", 4), txn("u1", 2), txn("u2", 2)];
    const r = checkTransactions({
      committed: [c1, c2],
      aborted: [a1],
      indeterminate: [u1, u2],
      consumed: readAll(c1, u1, c2),
    });
    assert.ok(r.ok, describeTransactionResult(r));
    assert.equal(r.indeterminateCommitted, 1);
  });

  it("reports a committed transaction partly visible, an aborted record visible, an indeterminate one split, a duplicate", () => {
    const [c1, a1, u1] = [txn("c1", 3), txn("a1", 2), txn("u1", 2)];
    const consumed = [
      ...readAll({ values: c1.values.slice(0, 2) }),
      { partition: 0, offset: 10n, key: "", value: "a1-1" },
      { partition: 1, offset: 11n, key: "", value: "u1-0" },
      { partition: 1, offset: 12n, key: "", value: "c1-0" },
    ];
    const r = checkTransactions({ committed: [c1], aborted: [a1], indeterminate: [u1], consumed });
    assert.equal(r.ok, false);
    assert.deepEqual(r.partlyOrNotVisible, [{ id: "c1", missing: 1, of: 3 }]);
    assert.deepEqual(
      r.abortedVisible.map((x) => x.value),
      ["a1-1"],
    );
    assert.deepEqual(r.partlyVisible, [{ id: "u1", read: 1, of: 2 }]);
    assert.deepEqual(
      r.duplicates.map((d) => d.value),
      ["c1-0"],
    );
  });
});
