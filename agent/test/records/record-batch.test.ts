import assert from "node:assert/strict";
import {
  ATTR_LOG_APPEND_TIME,
  InvalidBatchError,
  iterateBatches,
  rewriteBatchOffset,
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
