/**
 * Malformed input closes only the offending connection: random bytes, truncated frames, oversized and
 * negative frame sizes, unknown API keys and versions, garbage bodies. A healthy connection opened
 * before keeps working throughout, and new connections are accepted afterwards.
 */
import assert from "node:assert/strict";
import net from "node:net";
import { ApiKey, decodeResponse, encodeRequest } from "../../src/protocol/index.js";
import { startTestAgent } from "../support/agents.js";
import type { TestAgent } from "../support/agents.js";

/** A raw client: sends frames and reads size-prefixed responses. */
class RawClient {
  private buf = Buffer.alloc(0);
  private waiters: Array<() => void> = [];
  closed = false;
  readonly socket: net.Socket;

  private constructor(socket: net.Socket) {
    this.socket = socket;
    socket.on("data", (d: Buffer) => {
      this.buf = Buffer.concat([this.buf, d]);
      this.wake();
    });
    socket.on("close", () => {
      this.closed = true;
      this.wake();
    });
    socket.on("error", () => undefined);
  }

  static connect(port: number): Promise<RawClient> {
    return new Promise((resolve, reject) => {
      const s = net.connect(port, "127.0.0.1", () => resolve(new RawClient(s)));
      s.once("error", reject);
    });
  }

  private wake(): void {
    for (const w of this.waiters.splice(0)) w();
  }

  async readFrame(timeoutMs = 10_000): Promise<Buffer> {
    const end = Date.now() + timeoutMs;
    for (;;) {
      if (this.buf.length >= 4) {
        const size = this.buf.readInt32BE(0);
        if (this.buf.length >= 4 + size) {
          const frame = this.buf.subarray(4, 4 + size);
          this.buf = this.buf.subarray(4 + size);
          return frame;
        }
      }
      if (this.closed) throw new Error("connection closed");
      if (Date.now() > end) throw new Error("timed out waiting for a response");
      await new Promise<void>((r) => {
        this.waiters.push(r);
        setTimeout(r, 100);
      });
    }
  }

  async waitClosed(timeoutMs = 10_000): Promise<boolean> {
    const end = Date.now() + timeoutMs;
    while (!this.closed && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
    return this.closed;
  }

  async apiVersions(correlationId: number): Promise<number> {
    this.socket.write(encodeRequest({ apiKey: ApiKey.ApiVersions, apiVersion: 0, correlationId, clientId: "raw" }, {} as never));
    const frame = await this.readFrame();
    const { correlationId: got, body } = decodeResponse(ApiKey.ApiVersions, 0, frame);
    assert.equal(got, correlationId);
    return (body as { errorCode: number }).errorCode;
  }
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
  let healthy: RawClient;

  before(async () => {
    agent = await startTestAgent({ maxRequestSize: "1MiB" });
    healthy = await RawClient.connect(agent.port);
    assert.equal(await healthy.apiVersions(1), 0);
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
    ["a Metadata body that lies about its array length", frame(Buffer.concat([header(ApiKey.Metadata, 1), Buffer.from([0x7f, 0xff, 0xff, 0xff])]))],
    ["a Produce body cut short", frame(Buffer.concat([header(ApiKey.Produce, 7), Buffer.from([0xff, 0xff, 0, 1, 0, 0])]))],
  ];

  let n = 10;
  for (const [name, bytes] of cases) {
    it(`closes the connection on ${name}, others keep working`, async () => {
      const bad = await RawClient.connect(agent.port);
      bad.socket.write(bytes);
      assert.ok(await bad.waitClosed(), "the offending connection is closed");
      assert.equal(await healthy.apiVersions(n++), 0, "the healthy connection still answers");
      const fresh = await RawClient.connect(agent.port);
      assert.equal(await fresh.apiVersions(n++), 0, "new connections are accepted");
      fresh.socket.destroy();
    });
  }

  it("answers an unknown ApiVersions version with UNSUPPORTED_VERSION in the v0 schema", async () => {
    const c = await RawClient.connect(agent.port);
    c.socket.write(frame(Buffer.concat([header(ApiKey.ApiVersions, 77, 42), Buffer.from([0, 0])])));
    const response = await c.readFrame();
    const { correlationId, body } = decodeResponse(ApiKey.ApiVersions, 0, response);
    assert.equal(correlationId, 42);
    assert.equal((body as { errorCode: number }).errorCode, 35);
    c.socket.destroy();
  });

  it("waits for a frame split across many writes", async () => {
    const c = await RawClient.connect(agent.port);
    const req = encodeRequest({ apiKey: ApiKey.ApiVersions, apiVersion: 0, correlationId: 7, clientId: "slow" }, {} as never);
    for (const byte of req) {
      c.socket.write(Buffer.from([byte]));
      await new Promise((r) => setImmediate(r));
    }
    const { correlationId } = decodeResponse(ApiKey.ApiVersions, 0, await c.readFrame());
    assert.equal(correlationId, 7);
    c.socket.destroy();
  });
});
