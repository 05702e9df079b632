import assert from "node:assert/strict";
import {
  ATTR_LOG_APPEND_TIME,
  InvalidBatchError,
  iterateBatches,
  offsetsInBatches,
  rewriteBatchOffset,
  rewriteBatchOffsets,
  splitAndValidateBatches,
  stampLogAppendTime,
} from "../../src/records/record-batch.js";
import { buildBatch } from "./batch-builder.js";

describe("record batches", () => {
  it("splits and validates concatenated batches without copying", () => {
    const a = buildBatch([{ key: "k", value: "v1" }, { value: "v2" }]);
    const b = buildBatch([{ value: "v3" }]);
    const both = Buffer.concat([a, b]);
    const batches = splitAndValidateBatches(both);
    assert.equal(batches.length, 2);
    assert.equal(batches[0]!.header.recordCount, 2);
    assert.equal(batches[1]!.header.recordCount, 1);
    assert.equal(batches[0]!.bytes.buffer, both.buffer);
  });

  it("rejects a bad CRC with CORRUPT_MESSAGE", () => {
    const a = buildBatch([{ value: "hello" }]);
    a.writeUInt8(a.readUInt8(a.length - 2) ^ 0xff, a.length - 2);
    assert.throws(
      () => splitAndValidateBatches(a),
      (e: unknown) => e instanceof InvalidBatchError && e.errorCode === 2,
    );
  });

  it("rejects a record count that disagrees with lastOffsetDelta", () => {
    const a = buildBatch([{ value: "x" }, { value: "y" }]);
    a.writeInt32BE(5, 57);
    assert.throws(
      () => splitAndValidateBatches(a),
      (e: unknown) => e instanceof InvalidBatchError && e.errorCode === 2,
    );
  });

  it("rejects control batches and old magic", () => {
    assert.throws(
      () => splitAndValidateBatches(buildBatch([{ value: "x" }], { attributes: 0x20 })),
      (e: unknown) => e instanceof InvalidBatchError && e.errorCode === 87,
    );
    const old = buildBatch([{ value: "x" }]);
    old.writeInt8(1, 16);
    assert.throws(
      () => splitAndValidateBatches(old),
      (e: unknown) => e instanceof InvalidBatchError && e.errorCode === 43,
    );
  });

  it("rejects truncated batches", () => {
    const a = buildBatch([{ value: "hello" }]);
    assert.throws(() => splitAndValidateBatches(a.subarray(0, a.length - 1)), InvalidBatchError);
    assert.throws(() => splitAndValidateBatches(a.subarray(0, 30)), InvalidBatchError);
  });

  it("rewrites base offset outside the CRC", () => {
    const a = buildBatch([{ value: "x" }]);
    rewriteBatchOffset(a, 0, 1234, -1);
    const [b] = [...iterateBatches(a)];
    assert.equal(b!.baseOffset, 1234);
    assert.doesNotThrow(() => splitAndValidateBatches(a));
  });

  it("reads and writes the header's int64 fields as Number(BigInt) would, for any int64", () => {
    const values = [0n, 1n, -1n, 1234n, 2n ** 31n, -(2n ** 31n), 2n ** 32n - 1n, 2n ** 32n, -(2n ** 32n)];
    values.push(
      1_767_225_600_000n,
      2n ** 53n - 1n,
      -(2n ** 53n - 1n),
      2n ** 53n,
      2n ** 53n + 1n,
      2n ** 63n - 1n,
      -(2n ** 63n),
    );
    let x = 0x9e3779b97f4a7c15n;
    for (let i = 0; i < 200; i++) {
      x = (x * 6364136223846793005n + 1442695040888963407n) & 0xffffffffffffffffn;
      values.push(BigInt.asIntN(64, x) >> BigInt(i % 64));
    }
    for (const v of values) {
      const a = buildBatch([{ value: "x" }]);
      a.writeBigInt64BE(v, 0);
      a.writeBigInt64BE(v, 35);
      const [b] = [...iterateBatches(a)];
      assert.equal(b!.baseOffset, Number(v), `base offset ${v}`);
      assert.equal(b!.header.maxTimestamp, Number(v), `max timestamp ${v}`);
      if (Number.isSafeInteger(Number(v))) {
        rewriteBatchOffset(a, 0, Number(v) + 1, -1);
        assert.equal(a.readBigInt64BE(0), v + 1n, `rewritten base offset ${v + 1n}`);
        stampLogAppendTime(a, 0, a.length, Number(v));
        assert.equal(a.readBigInt64BE(35), v, `stamped time ${v}`);
      }
    }
  });

  it("counts and rewrites the offsets of a range of batches as iterateBatches sees them, checking each header", () => {
    const batches = [buildBatch([{ value: "a" }]), buildBatch([{ value: "b" }, { value: "c" }, { value: "d" }])];
    const all = Buffer.concat([Buffer.from("junk"), ...batches, Buffer.from("tail")]);
    const start = 4;
    const end = all.length - 4;
    assert.equal(offsetsInBatches(all, start, end), 4, "1 + 3 records");
    assert.equal(offsetsInBatches(all, start, start + batches[0]!.length), 1);
    assert.equal(offsetsInBatches(all, start, start), 0, "an empty range holds none");
    // Batches that do not end exactly at the range's end: less than a header left over, or one cut short.
    assert.equal(offsetsInBatches(all, start, start + batches[0]!.length + 20), -1);
    assert.throws(() => offsetsInBatches(all, start, end - 1), InvalidBatchError);
    const oldMagic = Buffer.from(all);
    oldMagic.writeInt8(1, start + batches[0]!.length + 16);
    assert.throws(() => offsetsInBatches(oldMagic, start, end), InvalidBatchError);

    rewriteBatchOffsets(all, start, end, 1_000, 7);
    const seen = [...iterateBatches(all.subarray(start, end))].map((b) => [b.baseOffset, b.header.lastOffsetDelta]);
    assert.deepEqual(seen, [
      [1_000, 0],
      [1_001, 2],
    ]);
    assert.equal(all.readInt32BE(start + 12), 7, "leader epoch");
    assert.equal(all.subarray(0, 4).toString(), "junk", "nothing outside the range written");
    assert.equal(all.subarray(end).toString(), "tail");
    assert.doesNotThrow(() => splitAndValidateBatches(all.subarray(start, end)), "CRCs still hold");
  });

  it("stamps log-append time in place: timestamp type, maxTimestamp and a valid CRC, other attributes kept", () => {
    const first = buildBatch([{ value: "first" }], { timestamp: 1000 });
    const second = buildBatch([{ value: "a" }, { value: "b" }], { timestamp: 2000, attributes: 0x01 });
    const both = Buffer.concat([first, second]);
    stampLogAppendTime(both, first.length, second.length, 5555);
    const [a, b] = splitAndValidateBatches(both);
    assert.deepEqual(a!.bytes, first, "the other batch is untouched");
    assert.equal(b!.header.attributes, 0x01 | ATTR_LOG_APPEND_TIME, "codec bits kept, timestamp type set");
    assert.equal(b!.header.maxTimestamp, 5555);
    assert.equal(b!.header.baseTimestamp, 2000);
    assert.equal(b!.header.recordCount, 2);
  });
});
