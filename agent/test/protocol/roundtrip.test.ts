/**
 * Round trips for every API at every version, both directions: a sample body built from the
 * definition is encoded and decoded again and must come back identical (absent fields as defaults).
 */
import assert from "node:assert/strict";
import {
  ApiKey,
  MESSAGES,
  MESSAGE_VERSIONS,
  decodeRequest,
  decodeRequestBody,
  decodeRequestBodyWithTrailer,
  decodeRequestHeader,
  decodeResponse,
  encodeRequest,
  encodeResponse,
} from "../../src/protocol/index.js";
import type { ApiKeyValue } from "../../src/protocol/index.js";
import { Rng, sampleBody, versionsOf } from "./samples.js";

const SAMPLES_PER_VERSION = 12;

const REQUIRED: Array<[number, number, number]> = [
  [0, 0, 11],
  [1, 0, 12],
  [2, 0, 8],
  [3, 0, 12],
  [8, 0, 9],
  [9, 0, 9],
  [10, 0, 5],
  [11, 0, 9],
  [12, 0, 4],
  [13, 0, 5],
  [14, 0, 5],
  [15, 0, 5],
  [16, 0, 5],
  [17, 0, 1],
  [18, 0, 4],
  [19, 0, 7],
  [20, 0, 6],
  [22, 0, 5],
  [32, 0, 4],
  [33, 0, 2],
  [36, 0, 2],
  [37, 0, 3],
  [42, 0, 2],
  [44, 0, 1],
  [60, 0, 1],
];

// First flexible versions, checked against Kafka's message specs by hand.
const FLEXIBLE_FROM: Record<number, number | null> = {
  0: 9,
  1: 12,
  2: 6,
  3: 9,
  8: 8,
  9: 6,
  10: 3,
  11: 6,
  12: 4,
  13: 4,
  14: 4,
  15: 5,
  16: 3,
  17: null,
  18: 3,
  19: 5,
  20: 4,
  22: 2,
  32: 4,
  33: 2,
  36: 2,
  37: 2,
  42: 2,
  44: 1,
  60: 0,
};

describe("protocol round trips", () => {
  it("defines every required API with the required version range and flexible boundary", () => {
    for (const [key, min, max] of REQUIRED) {
      const info = MESSAGE_VERSIONS[key as ApiKeyValue];
      assert.ok(info, `API key ${key} is defined`);
      assert.deepEqual({ min: info.min, max: info.max }, { min, max }, `versions of API key ${key}`);
      assert.equal(info.flexibleFrom, FLEXIBLE_FROM[key], `first flexible version of API key ${key}`);
      const entry = MESSAGES[key as ApiKeyValue];
      assert.equal(entry.request.apiKey, key);
      assert.equal(entry.response.apiKey, key);
      assert.equal(entry.request.validVersions, entry.response.validVersions);
      assert.equal(entry.request.flexibleVersions, entry.response.flexibleVersions);
    }
  });

  for (const key of Object.keys(MESSAGES).map(Number) as ApiKeyValue[]) {
    const { request, response } = MESSAGES[key];
    describe(`${request.name.replace(/Request$/, "")} (${key})`, () => {
      for (const v of versionsOf(request)) {
        it(`v${v} request and response`, () => {
          const rng = new Rng(key * 1000 + v);
          for (let i = 0; i < SAMPLES_PER_VERSION; i++) {
            const body = sampleBody(request, v, rng);
            const header = {
              apiKey: key,
              apiVersion: v,
              correlationId: rng.range(-5, 1 << 30),
              clientId: rng.chance(0.2) ? null : "client-ü",
            };
            const frame = encodeRequest(header, body as never);
            assert.equal(frame.readInt32BE(0), frame.length - 4, "size prefix");
            const decodedHeader = decodeRequestHeader(frame.subarray(4));
            assert.deepEqual(decodedHeader.header, header);
            assert.equal(decodedHeader.known, true);
            const decoded = decodeRequestBodyWithTrailer(key, v, frame.subarray(4), decodedHeader.bodyOffset);
            assert.deepEqual(decoded.body, body);
            assert.equal(decoded.trailingBytes, 0, "the decoder reads every byte the encoder wrote");
            assert.deepEqual(decodeRequest(frame.subarray(4)).body, body);

            const resBody = sampleBody(response, v, rng);
            const correlationId = rng.range(0, 1 << 30);
            const chunks = encodeResponse(key, v, correlationId, resBody as never);
            const bytes = Buffer.concat(chunks);
            assert.equal(bytes.readInt32BE(0), bytes.length - 4, "size prefix");
            const out = decodeResponse(key, v, bytes.subarray(4));
            assert.equal(out.correlationId, correlationId);
            assert.deepEqual(out.body, resBody);
          }
        });
      }
    });
  }

  it("encodes fields omitted by the caller as their defaults", () => {
    const chunks = encodeResponse(ApiKey.Produce, 11, 7, {
      responses: [{ name: "t", partitionResponses: [{ index: 0, errorCode: 0, baseOffset: 5n }] }],
    });
    const out = decodeResponse(ApiKey.Produce, 11, Buffer.concat(chunks).subarray(4));
    const p = out.body.responses[0]!.partitionResponses[0]!;
    assert.equal(p.logAppendTimeMs, -1n);
    assert.equal(p.logStartOffset, -1n);
    assert.deepEqual(p.recordErrors, []);
    assert.equal(p.errorMessage, null);
    assert.deepEqual(p.currentLeader, { leaderId: -1, leaderEpoch: -1 });
    assert.equal(out.body.throttleTimeMs, 0);
  });

  it("fills defaults for fields absent in the decoded version", () => {
    const frame = encodeRequest(
      { apiKey: ApiKey.Fetch, apiVersion: 4, correlationId: 1, clientId: null },
      {
        replicaId: -1,
        maxWaitMs: 500,
        minBytes: 1,
        maxBytes: 1000,
        isolationLevel: 1,
        topics: [{ topic: "t", partitions: [{ partition: 0, fetchOffset: 10n, partitionMaxBytes: 100 }] }],
      },
    );
    const { body } = decodeRequest(frame.subarray(4));
    const fetch = body as ReturnType<typeof decodeRequestBody<typeof ApiKey.Fetch>>;
    assert.equal(fetch.sessionEpoch, -1);
    assert.equal(fetch.rackId, "");
    assert.deepEqual(fetch.forgottenTopicsData, []);
    assert.equal(fetch.topics[0]!.partitions[0]!.currentLeaderEpoch, -1);
    assert.equal(fetch.topics[0]!.partitions[0]!.logStartOffset, -1n);
    assert.equal(fetch.clusterId, null);
  });
});
