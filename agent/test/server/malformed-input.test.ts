/**
 * Malformed input closes only the offending connection: random bytes, truncated frames, oversized and
 * negative frame sizes, unknown API keys and versions, garbage bodies, bodies cut short (the admin APIs
 * DeleteRecords, OffsetDelete, DescribeProducers and DescribeLogDirs included). A healthy
 * connection opened before keeps working throughout, and new connections are accepted afterwards.
 * Bytes after a complete request body are not malformed: Kafka ignores them, and so does the agent.
 */
import assert from "node:assert/strict";
import { ApiKey, decodeResponse, encodeRequest } from "../../src/protocol/index.js";
import { startTestAgent } from "../support/agents.js";
import type { TestAgent } from "../support/agents.js";
import { RawKafkaClient } from "../support/raw-kafka-client.js";

/** ApiVersions v0 on a raw connection: its error code (0 while the connection is healthy). */
async function apiVersions(c: RawKafkaClient): Promise<number> {
  return (await c.request(ApiKey.ApiVersions, 0, {})).errorCode;
}

function frame(payload: Buffer): Buffer {
  const size = Buffer.alloc(4);
  size.writeInt32BE(payload.length);
  return Buffer.concat([size, payload]);
}

function header(apiKey: number, apiVersion: number, correlationId = 1): Buffer {
  const b = Buffer.alloc(10);
  b.writeInt16BE(apiKey, 0);
  b.writeInt16BE(apiVersion, 2);
  b.writeInt32BE(correlationId, 4);
  b.writeInt16BE(-1, 8);
  return b;
}

describe("malformed input", function () {
  this.timeout(60_000);
  let agent: TestAgent;
  let healthy: RawKafkaClient;

  before(async () => {
    agent = await startTestAgent({ maxRequestSize: "1MiB" });
    healthy = await RawKafkaClient.connect(agent.port);
    assert.equal(await apiVersions(healthy), 0);
  });
  after(async () => {
    healthy?.socket.destroy();
    await agent?.stop();
  });

  const cases: Array<[string, Buffer]> = [
    ["random bytes", Buffer.from("GET / HTTP/1.1\r\nHost: x\r\n\r\n")],
    ["a negative frame size", Buffer.from([0xff, 0xff, 0xff, 0xf0, 1, 2, 3])],
    ["an oversized frame", Buffer.concat([Buffer.from([0x10, 0, 0, 0]), Buffer.alloc(64)])],
    ["an unknown API key", frame(header(9999, 0))],
    ["an unsupported version of a known API", frame(header(ApiKey.Metadata, 99))],
    ["a truncated header", frame(Buffer.from([0, 3, 0]))],
    [
      "a Metadata body that lies about its array length",
      frame(Buffer.concat([header(ApiKey.Metadata, 1), Buffer.from([0x7f, 0xff, 0xff, 0xff])])),
    ],
    [
      "a Produce body cut short",
      frame(Buffer.concat([header(ApiKey.Produce, 7), Buffer.from([0xff, 0xff, 0, 1, 0, 0])])),
    ],
    [
      "a DeleteRecords body cut short",
      frame(Buffer.concat([header(ApiKey.DeleteRecords, 1), Buffer.from([0, 0, 0, 1, 0, 1, 0x74, 0, 0, 0, 1, 0])])),
    ],
    [
      "an OffsetDelete body that lies about its array length",
      frame(Buffer.concat([header(ApiKey.OffsetDelete, 0), Buffer.from([0, 1, 0x67, 0x7f, 0xff, 0xff, 0xff])])),
    ],
    [
      "a flexible DescribeProducers body that lies about its compact array length",
      frame(Buffer.concat([header(ApiKey.DescribeProducers, 0), Buffer.from([0]), Buffer.from([0xff, 0xff, 0x7f])])),
    ],
    [
      "a DescribeLogDirs body with a negative topic count",
      frame(Buffer.concat([header(ApiKey.DescribeLogDirs, 1), Buffer.from([0xff, 0xff, 0xff, 0xfe])])),
    ],
  ];

  for (const [name, bytes] of cases) {
    it(`closes the connection on ${name}, others keep working`, async () => {
      const bad = await RawKafkaClient.connect(agent.port);
      bad.socket.write(bytes);
      assert.ok(await bad.waitClosed(), "the offending connection is closed");
      assert.equal(await apiVersions(healthy), 0, "the healthy connection still answers");
      const fresh = await RawKafkaClient.connect(agent.port);
      assert.equal(await apiVersions(fresh), 0, "new connections are accepted");
      fresh.socket.destroy();
    });
  }

  it("answers a request whose frame carries bytes after the body, as Kafka does", async () => {
    const c = await RawKafkaClient.connect(agent.port);
    const request = encodeRequest(
      { apiKey: ApiKey.Metadata, apiVersion: 12, correlationId: 5, clientId: "trailing" },
      { topics: null, allowAutoTopicCreation: false, includeTopicAuthorizedOperations: false },
    );
    c.socket.write(frame(Buffer.concat([request.subarray(4), Buffer.from([0, 0, 0])])));
    const { correlationId, body } = decodeResponse(ApiKey.Metadata, 12, await c.readFrame());
    assert.equal(correlationId, 5);
    assert.equal(body.brokers.length, 1, "a normal Metadata answer");
    assert.equal(await apiVersions(c), 0, "the connection stays open");
    c.socket.destroy();
  });

  it("closes the connection on a request body cut short, others keep working", async () => {
    const request = encodeRequest(
      { apiKey: ApiKey.Metadata, apiVersion: 12, correlationId: 6, clientId: "cut" },
      { topics: [{ topicId: "00000000000000000000000000000000", name: "some-topic" }] },
    );
    const bad = await RawKafkaClient.connect(agent.port);
    bad.socket.write(frame(request.subarray(4, request.length - 4)));
    assert.ok(await bad.waitClosed(), "the offending connection is closed");
    assert.equal(await apiVersions(healthy), 0, "the healthy connection still answers");
  });

  it("answers an unknown ApiVersions version with UNSUPPORTED_VERSION in the v0 schema", async () => {
    const c = await RawKafkaClient.connect(agent.port);
    c.socket.write(frame(Buffer.concat([header(ApiKey.ApiVersions, 77, 42), Buffer.from([0, 0])])));
    const response = await c.readFrame();
    const { correlationId, body } = decodeResponse(ApiKey.ApiVersions, 0, response);
    assert.equal(correlationId, 42);
    assert.equal((body as { errorCode: number }).errorCode, 35);
    c.socket.destroy();
  });

  it("waits for a frame split across many writes", async () => {
    const c = await RawKafkaClient.connect(agent.port);
    const req = encodeRequest({ apiKey: ApiKey.ApiVersions, apiVersion: 0, correlationId: 7, clientId: "slow" }, {});
    for (const byte of req) {
      c.socket.write(Buffer.from([byte]));
      await new Promise((r) => setImmediate(r));
    }
    const { correlationId } = decodeResponse(ApiKey.ApiVersions, 0, await c.readFrame());
    assert.equal(correlationId, 7);
    c.socket.destroy();
  });
});
