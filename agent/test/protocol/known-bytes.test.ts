/**
 * Encodings checked against hand-assembled bytes from the Kafka protocol spec (not against the codec
 * itself): header versions, compact vs classic lengths, tagged-field blocks, ApiVersions' v0 response
 * header, and zero-copy records chunks.
 */
import assert from "node:assert/strict";
import {
  ApiKey,
  ZERO_UUID,
  decodeRequest,
  decodeRequestBody,
  decodeRequestHeader,
  decodeResponse,
  encodeRequest,
  encodeResponse,
} from "../../src/protocol/index.js";

/** Hex with spaces/newlines ignored. */
function hex(s: string): Buffer {
  return Buffer.from(s.replace(/\s+/g, ""), "hex");
}
function sized(body: Buffer): Buffer {
  const b = Buffer.alloc(4);
  b.writeInt32BE(body.length);
  return Buffer.concat([b, body]);
}

describe("protocol known bytes", () => {
  it("ApiVersions v0 request: header v1, empty body", () => {
    const expected = sized(hex("0012 0000 00000007 0003 616263"));
    const frame = encodeRequest({ apiKey: ApiKey.ApiVersions, apiVersion: 0, correlationId: 7, clientId: "abc" }, {});
    assert.deepEqual(frame, expected);
    const { header, bodyOffset, known } = decodeRequestHeader(expected.subarray(4));
    assert.deepEqual(header, { apiKey: 18, apiVersion: 0, correlationId: 7, clientId: "abc" });
    assert.equal(known, true);
    assert.equal(bodyOffset, 13);
    assert.deepEqual(decodeRequestBody(ApiKey.ApiVersions, 0, expected.subarray(4), bodyOffset), {
      clientSoftwareName: "",
      clientSoftwareVersion: "",
    });
  });

  it("ApiVersions v3 request: header v2 (nullable int16 client id, tagged block) and compact strings", () => {
    const expected = sized(hex("0012 0003 00000001 ffff 00   04 6b6a73 02 31 00"));
    const frame = encodeRequest(
      { apiKey: ApiKey.ApiVersions, apiVersion: 3, correlationId: 1, clientId: null },
      { clientSoftwareName: "kjs", clientSoftwareVersion: "1" },
    );
    assert.deepEqual(frame, expected);
  });

  it("ApiVersions v3 response: header v0 despite the flexible body, tagged field 1", () => {
    const expected = sized(
      hex(`
      0000002a
      0000
      02 0012 0000 0004 00
      00000000
      01 01 08 0000000000000005`),
    );
    const chunks = encodeResponse(ApiKey.ApiVersions, 3, 42, {
      errorCode: 0,
      apiKeys: [{ apiKey: 18, minVersion: 0, maxVersion: 4 }],
      throttleTimeMs: 0,
      finalizedFeaturesEpoch: 5n,
    });
    assert.deepEqual(Buffer.concat(chunks), expected);
    const out = decodeResponse(ApiKey.ApiVersions, 3, expected.subarray(4));
    assert.equal(out.correlationId, 42);
    assert.equal(out.body.finalizedFeaturesEpoch, 5n);
    assert.deepEqual(out.body.supportedFeatures, []);
    assert.equal(out.body.zkMigrationReady, false);
  });

  it("ApiVersions v0 response with UNSUPPORTED_VERSION (what an unknown version gets)", () => {
    const expected = sized(hex("00000009 0023 00000001 0012 0000 0004"));
    const chunks = encodeResponse(ApiKey.ApiVersions, 0, 9, {
      errorCode: 35,
      apiKeys: [{ apiKey: 18, minVersion: 0, maxVersion: 4 }],
    });
    assert.deepEqual(Buffer.concat(chunks), expected);
  });

  it("Metadata v1 response", () => {
    const expected = sized(
      hex(`
      00000005
      00000001 00000001 0009 6c6f63616c686f7374 00002384 ffff
      00000001
      00000001
        0000 0001 74 00
        00000001
          0000 00000000 00000001 00000001 00000001 00000001 00000001`),
    );
    const chunks = encodeResponse(ApiKey.Metadata, 1, 5, {
      brokers: [{ nodeId: 1, host: "localhost", port: 9092, rack: null }],
      controllerId: 1,
      topics: [
        {
          errorCode: 0,
          name: "t",
          isInternal: false,
          partitions: [{ errorCode: 0, partitionIndex: 0, leaderId: 1, replicaNodes: [1], isrNodes: [1] }],
        },
      ],
    });
    assert.deepEqual(Buffer.concat(chunks), expected);
    const out = decodeResponse(ApiKey.Metadata, 1, expected.subarray(4));
    assert.equal(out.body.brokers[0]!.host, "localhost");
    assert.equal(out.body.clusterId, null, "absent in v1: default");
    assert.equal(out.body.topics[0]!.topicId, ZERO_UUID, "absent in v1: zero uuid");
    assert.equal(out.body.topics[0]!.partitions[0]!.leaderEpoch, -1, "absent in v1: default -1");
  });

  it("Produce v9 request: compact encodings, tagged blocks, an unknown top-level tagged field skipped", () => {
    const records = hex("00112233445566");
    const frame = sized(
      hex(`
      0000 0009 0000000b 0002 6964 00
      00
      ffff
      00001388
      02
        02 74
        02
          00000003
          08 00112233445566
          00
        00
      01 05 02 abcd`),
    );
    const { header, body } = decodeRequest(frame.subarray(4));
    assert.deepEqual(header, { apiKey: 0, apiVersion: 9, correlationId: 11, clientId: "id" });
    assert.deepEqual(body, {
      transactionalId: null,
      acks: -1,
      timeoutMs: 5000,
      topicData: [{ name: "t", partitionData: [{ index: 3, records }] }],
    });
    const decodedRecords = (body as { topicData: Array<{ partitionData: Array<{ records: Buffer }> }> }).topicData[0]!
      .partitionData[0]!.records;
    assert.equal(decodedRecords.buffer, frame.buffer, "records are a slice of the frame, not a copy");

    // Re-encoding drops the unknown tag.
    const again = encodeRequest(header as typeof header & { apiKey: 0 }, body as never);
    assert.deepEqual(again, Buffer.concat([sized(Buffer.concat([frame.subarray(4, frame.length - 5), hex("00")]))]));
  });

  it("Fetch v12 response: records chunks are passed through without copying", () => {
    const big = Buffer.alloc(10_000, 7);
    const small = hex("0102");
    const chunks = encodeResponse(ApiKey.Fetch, 12, 3, {
      throttleTimeMs: 0,
      errorCode: 0,
      sessionId: 0,
      responses: [
        {
          topic: "t",
          partitions: [
            {
              partitionIndex: 0,
              errorCode: 0,
              highWatermark: 10n,
              lastStableOffset: 10n,
              logStartOffset: 0n,
              abortedTransactions: null,
              preferredReadReplica: -1,
              records: [small, big, small],
            },
          ],
        },
      ],
    });
    assert.ok(chunks.includes(big), "the large chunk is one of the output chunks");
    const all = Buffer.concat(chunks);
    const expectedHead = hex(`
      00000003 00
      00000000 0000 00000000
      02 02 74
        02 00000000 0000 000000000000000a 000000000000000a 0000000000000000 00 ffffffff
        954e`); // records: compact length 10004 + 1 = 10005 = 0x2715, as an unsigned varint 95 4e
    const fixed = expectedHead;
    assert.deepEqual(all.subarray(4, 4 + fixed.length), fixed);
    assert.deepEqual(all.subarray(4 + fixed.length, 4 + fixed.length + 10_004), Buffer.concat([small, big, small]));
    assert.deepEqual(
      all.subarray(4 + fixed.length + 10_004),
      hex("00 00 00"),
      "partition, topic and top-level tagged blocks",
    );
  });
});
