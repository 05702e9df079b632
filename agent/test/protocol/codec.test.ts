/** Primitive reader/writer behaviour and the error contract: malformed input is always a ProtocolError. */
import assert from "node:assert/strict";
import {
  ApiKey,
  ProtocolError,
  Reader,
  Writer,
  decodeRequestBody,
  decodeRequestBodyWithTrailer,
  decodeRequestHeader,
  decodeResponse,
  errorCodeName,
  isRetriable,
  ErrorCode,
  apiKeyName,
} from "../../src/protocol/index.js";

function written(fn: (w: Writer) => void): Buffer {
  const w = new Writer(4);
  fn(w);
  return w.finishBuffer();
}

describe("protocol codec primitives", () => {
  it("round-trips fixed-width numbers", () => {
    const b = written((w) => {
      w.int8(-128);
      w.int16(-2);
      w.uint16(65535);
      w.int32(-2147483648);
      w.uint32(4294967295);
      w.int64(-9223372036854775808n);
      w.float64(1.5);
      w.bool(true);
    });
    assert.equal(
      b.toString("hex"),
      "80" + "fffe" + "ffff" + "80000000" + "ffffffff" + "8000000000000000" + "3ff8000000000000" + "01",
    );
    const r = new Reader(b);
    assert.deepEqual(
      [r.int8(), r.int16(), r.uint16(), r.int32(), r.uint32(), r.int64(), r.float64(), r.bool()],
      [-128, -2, 65535, -2147483648, 4294967295, -9223372036854775808n, 1.5, true],
    );
    assert.equal(r.remaining, 0);
  });

  it("encodes varints with zigzag as the spec examples", () => {
    const cases: Array<[number, string]> = [
      [0, "00"],
      [-1, "01"],
      [1, "02"],
      [-64, "7f"],
      [64, "8001"],
      [2147483647, "feffffff0f"],
      [-2147483648, "ffffffff0f"],
    ];
    for (const [v, h] of cases) {
      const b = written((w) => w.varint(v));
      assert.equal(b.toString("hex"), h, `varint ${v}`);
      assert.equal(new Reader(b).varint(), v);
    }
    for (const v of [0n, -1n, 1n, 300n, -9223372036854775808n, 9223372036854775807n]) {
      assert.equal(new Reader(written((w) => w.varlong(v))).varlong(), v);
    }
    assert.equal(written((w) => w.uvarint(300)).toString("hex"), "ac02");
  });

  it("writes every int64 as Buffer.writeBigInt64BE does, whether or not it is a safe integer", () => {
    const safe = BigInt(Number.MAX_SAFE_INTEGER);
    const values = [0n, 1n, -1n, 2n ** 32n - 1n, 2n ** 32n, -(2n ** 32n), -(2n ** 32n) - 1n, safe, -safe];
    values.push(safe + 1n, -safe - 1n, 2n ** 63n - 1n, -(2n ** 63n), 1_767_225_600_000n, -1_767_225_600_000n);
    for (const v of values) {
      const expected = Buffer.alloc(8);
      expected.writeBigInt64BE(v);
      assert.equal(written((w) => w.int64(v)).toString("hex"), expected.toString("hex"), `int64 ${v}`);
    }
    for (const bad of [2n ** 63n, -(2n ** 63n) - 1n])
      assert.throws(() => written((w) => w.int64(bad)), ProtocolError, `int64 ${bad}`);
  });

  it("writes an int64 held as a number as the varlong of that int64, and reads it back exactly", () => {
    const cases = [0, -1, 1, 63, -64, 64, 2 ** 31 - 1, -(2 ** 31), 2 ** 31, 1_767_225_600_000, 2 ** 53 - 1, -(2 ** 53)];
    for (const v of [...cases, 2 ** 60, -(2 ** 63), 2 ** 63, Number(0x7ffffffffffffdffn)]) {
      const b = written((w) => w.varlongNumber(v));
      if (Number.isSafeInteger(v))
        assert.equal(b.toString("hex"), written((w) => w.varlong(BigInt(v))).toString("hex"));
      const r = new Reader(b);
      assert.equal(r.varlongNumber(), v, `varlongNumber ${v}`);
      assert.equal(r.remaining, 0);
    }
    // Every length of encoding, each side of the point where number arithmetic gives way to BigInt.
    const edges = [2 ** 52, -(2 ** 52), 2 ** 52 + 1, -(2 ** 52) - 1, 2 ** 48, -(2 ** 48), 2 ** 49, -(2 ** 49) - 1];
    for (let bits = 0; bits <= 53; bits++) edges.push(2 ** bits - 1, 2 ** bits, -(2 ** bits), -(2 ** bits) - 1);
    for (const v of edges.filter((e) => Number.isSafeInteger(e))) {
      const b = written((w) => w.varlongNumber(v));
      assert.equal(b.toString("hex"), written((w) => w.varlong(BigInt(v))).toString("hex"), `varlongNumber ${v}`);
      const r = new Reader(b);
      assert.equal(r.varlongNumber(), v, `read back ${v}`);
      assert.equal(r.remaining, 0);
    }
    // A varlong cut short within its first seven bytes is refused, not read as a number.
    assert.throws(() => new Reader(Buffer.from("80808080808080", "hex")).varlongNumber(), ProtocolError);
    // 2^63 is how Number() rounds int64's largest values: written as 2^63 − 1, read back as 2^63.
    assert.equal(new Reader(written((w) => w.varlong(0x7fffffffffffffffn))).varlongNumber(), 2 ** 63);
    for (const bad of [1.5, NaN, Infinity, 2 ** 64, -(2 ** 64)])
      assert.throws(() => written((w) => w.varlongNumber(bad)), ProtocolError, `varlongNumber ${bad}`);
    assert.throws(() => new Reader(Buffer.from("8080", "hex")).varlongNumber(), ProtocolError);
  });

  it("reads strings, compact strings, bytes and uuids", () => {
    const b = written((w) => {
      w.string("héllo");
      w.nullableString(null);
      w.compactString("");
      w.compactNullableString(null);
      w.bytes(Buffer.from("ab"));
      w.compactNullableBytes(null);
      w.uuid("0123456789abcdef0123456789abcdef");
    });
    const r = new Reader(b);
    assert.equal(r.string(), "héllo");
    assert.equal(r.nullableString(), null);
    assert.equal(r.compactString(), "");
    assert.equal(r.compactNullableString(), null);
    assert.deepEqual(r.bytes(), Buffer.from("ab"));
    assert.equal(r.compactNullableBytes(), null);
    assert.equal(r.uuid(), "0123456789abcdef0123456789abcdef");
  });

  it("throws ProtocolError for truncation, bad lengths, invalid UTF-8 and overlong varints", () => {
    const bad: Array<[string, (r: Reader) => unknown]> = [
      ["", (r) => r.int32()],
      ["0001", (r) => r.int64()],
      ["fffe", (r) => r.nullableString()],
      ["ffff", (r) => r.string()],
      ["0005616263", (r) => r.string()],
      ["0002c328", (r) => r.string()],
      ["03c328", (r) => r.compactString()],
      ["00", (r) => r.compactString()],
      ["fffffffe", (r) => r.nullableBytes()],
      ["7fffffff", (r) => r.bytes()],
      ["7fffffff", (r) => r.arrayLength(1)],
      ["fffffffe", (r) => r.arrayLength(1)],
      ["ffffffff0f", (r) => r.compactArrayLength(1)],
      ["ffffffffff01", (r) => r.uvarint()],
      ["ffffffff7f", (r) => r.uvarint()],
      ["ffffffffffffffffffff7f", (r) => r.uvarlong()],
      ["80", (r) => r.uvarint()],
      ["0101", (r) => r.taggedFields(null)],
      ["0201000100", (r) => r.taggedFields(null)],
    ];
    for (const [h, fn] of bad) {
      assert.throws(() => fn(new Reader(Buffer.from(h, "hex"))), ProtocolError, `input ${h}`);
    }
  });

  it("a huge array length fails before allocating", () => {
    // Metadata v0 request claiming 2^31-1 topics in a 4-byte body.
    const frame = Buffer.from("00030000000000010000" + "7fffffff", "hex");
    const { bodyOffset } = decodeRequestHeader(frame);
    assert.throws(() => decodeRequestBody(ApiKey.Metadata, 0, frame, bodyOffset), ProtocolError);
  });

  it("reports bytes after a complete request body instead of rejecting them, as Kafka ignores them", () => {
    const frame = Buffer.from("00030000000000010000" + "00000000" + "aabbcc", "hex");
    const { bodyOffset } = decodeRequestHeader(frame);
    const decoded = decodeRequestBodyWithTrailer(ApiKey.Metadata, 0, frame, bodyOffset);
    assert.deepEqual(decoded.body.topics, []);
    assert.equal(decoded.trailingBytes, 3);
    assert.deepEqual(decodeRequestBody(ApiKey.Metadata, 0, frame, bodyOffset).topics, []);
  });

  it("rejects a request body cut short, and unknown versions", () => {
    // Metadata v1: one topic announced, its name missing.
    const cut = Buffer.from("00030001000000010000" + "00000001" + "0005", "hex");
    const { bodyOffset } = decodeRequestHeader(cut);
    assert.throws(() => decodeRequestBody(ApiKey.Metadata, 1, cut, bodyOffset), ProtocolError);
    const frame = Buffer.from("00030000000000010000" + "00000000", "hex");
    assert.throws(() => decodeRequestBody(ApiKey.Metadata, 13, frame, bodyOffset), ProtocolError);
  });

  it("still rejects bytes after a response body (client direction)", () => {
    // ApiVersions v0 response: correlation id, error code, empty array, then one stray byte.
    const frame = Buffer.from("00000001" + "0000" + "00000000" + "00", "hex");
    assert.throws(() => decodeResponse(ApiKey.ApiVersions, 0, frame), ProtocolError);
  });

  it("decodes the header of unknown keys and versions and reports them as unknown", () => {
    const h = decodeRequestHeader(Buffer.from("0012" + "0063" + "0000002a" + "ffff" + "00", "hex"));
    assert.deepEqual(h.header, { apiKey: 18, apiVersion: 99, correlationId: 42, clientId: null });
    assert.equal(h.known, false);
    const k = decodeRequestHeader(Buffer.from("03e7" + "0000" + "00000001" + "0000", "hex"));
    assert.equal(k.header.apiKey, 999);
    assert.equal(k.known, false);
  });

  it("refuses to encode out-of-range values or null where not nullable", () => {
    assert.throws(() => written((w) => w.int16(40000)), ProtocolError);
    assert.throws(() => written((w) => w.int32(1.5)), ProtocolError);
    assert.throws(() => written((w) => w.uuid("not-a-uuid")), ProtocolError);
    assert.throws(() => written((w) => w.string(null as unknown as string)), ProtocolError);
  });

  it("names API keys and error codes and knows which errors are retriable", () => {
    assert.equal(apiKeyName(ApiKey.Produce), "Produce");
    assert.equal(apiKeyName(1234), "ApiKey(1234)");
    assert.equal(errorCodeName(ErrorCode.NOT_LEADER_OR_FOLLOWER), "NOT_LEADER_OR_FOLLOWER");
    assert.equal(errorCodeName(-42), "ERROR(-42)");
    assert.equal(isRetriable(ErrorCode.NOT_LEADER_OR_FOLLOWER), true);
    assert.equal(isRetriable(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION), true);
    assert.equal(isRetriable(ErrorCode.COORDINATOR_LOAD_IN_PROGRESS), true);
    assert.equal(isRetriable(ErrorCode.REBALANCE_IN_PROGRESS), false);
    assert.equal(isRetriable(ErrorCode.INVALID_CONFIG), false);
    assert.equal(isRetriable(ErrorCode.NONE), false);
    const required: Record<string, number> = {
      UNKNOWN_SERVER_ERROR: -1,
      OFFSET_OUT_OF_RANGE: 1,
      CORRUPT_MESSAGE: 2,
      UNKNOWN_TOPIC_OR_PARTITION: 3,
      LEADER_NOT_AVAILABLE: 5,
      NOT_LEADER_OR_FOLLOWER: 6,
      REQUEST_TIMED_OUT: 7,
      MESSAGE_TOO_LARGE: 10,
      OFFSET_METADATA_TOO_LARGE: 12,
      COORDINATOR_LOAD_IN_PROGRESS: 14,
      COORDINATOR_NOT_AVAILABLE: 15,
      NOT_COORDINATOR: 16,
      INVALID_TOPIC_EXCEPTION: 17,
      NOT_ENOUGH_REPLICAS: 19,
      ILLEGAL_GENERATION: 22,
      INCONSISTENT_GROUP_PROTOCOL: 23,
      UNKNOWN_MEMBER_ID: 25,
      INVALID_SESSION_TIMEOUT: 26,
      REBALANCE_IN_PROGRESS: 27,
      UNSUPPORTED_SASL_MECHANISM: 33,
      ILLEGAL_SASL_STATE: 34,
      UNSUPPORTED_VERSION: 35,
      TOPIC_ALREADY_EXISTS: 36,
      INVALID_PARTITIONS: 37,
      INVALID_REPLICATION_FACTOR: 38,
      INVALID_CONFIG: 40,
      NOT_CONTROLLER: 41,
      INVALID_REQUEST: 42,
      UNSUPPORTED_FOR_MESSAGE_FORMAT: 43,
      POLICY_VIOLATION: 44,
      OUT_OF_ORDER_SEQUENCE_NUMBER: 45,
      INVALID_PRODUCER_EPOCH: 47,
      INVALID_TXN_STATE: 48,
      KAFKA_STORAGE_ERROR: 56,
      SASL_AUTHENTICATION_FAILED: 58,
      NON_EMPTY_GROUP: 68,
      GROUP_ID_NOT_FOUND: 69,
      FENCED_LEADER_EPOCH: 74,
      UNKNOWN_LEADER_EPOCH: 75,
      UNSUPPORTED_COMPRESSION_TYPE: 76,
      MEMBER_ID_REQUIRED: 79,
      FENCED_INSTANCE_ID: 82,
      INVALID_RECORD: 87,
    };
    for (const [name, code] of Object.entries(required))
      assert.equal((ErrorCode as Record<string, number>)[name], code, name);
  });
});
