/**
 * A raw Kafka client for tests that need to speak the protocol by hand (malformed input, SASL steps):
 * over TCP or TLS, it writes frames and reads size-prefixed responses.
 */
import assert from "node:assert/strict";
import net from "node:net";
import tls from "node:tls";
import { eventually } from "../../../e2e/support/eventually.js";
import { ApiKey, decodeResponse, encodeRequest } from "../../src/protocol/index.js";
import type { ApiKeyValue, DecodedResponseOf, RequestInputOf } from "../../src/protocol/index.js";

/** A raw Kafka client over TCP or TLS: size-prefixed frames in and out. */
export class RawKafkaClient {
  private buf = Buffer.alloc(0);
  private waiters: Array<() => void> = [];
  private nextCorrelation = 1;
  closed = false;

  private constructor(readonly socket: net.Socket) {
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

  static connect(port: number, tlsOptions?: tls.ConnectionOptions): Promise<RawKafkaClient> {
    return new Promise((resolve, reject) => {
      if (tlsOptions) {
        const s = tls.connect({ host: "127.0.0.1", port, ...tlsOptions }, () => resolve(new RawKafkaClient(s)));
        s.once("error", reject);
      } else {
        const s = net.connect(port, "127.0.0.1", () => resolve(new RawKafkaClient(s)));
        s.once("error", reject);
      }
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
        setTimeout(r, 50);
      });
    }
  }

  async request<K extends ApiKeyValue>(
    apiKey: K,
    apiVersion: number,
    body: RequestInputOf<K>,
  ): Promise<DecodedResponseOf<K>> {
    const correlationId = this.nextCorrelation++;
    this.socket.write(encodeRequest({ apiKey, apiVersion, correlationId, clientId: "raw-test" }, body));
    const { correlationId: got, body: response } = decodeResponse(apiKey, apiVersion, await this.readFrame());
    assert.equal(got, correlationId);
    return response;
  }

  /** Authenticates with SASL/PLAIN (SaslHandshake v1, SaslAuthenticate v2); throws when refused. */
  async authenticatePlain(user: string, password: string): Promise<void> {
    const handshake = await this.request(ApiKey.SaslHandshake, 1, { mechanism: "PLAIN" });
    assert.equal(handshake.errorCode, 0, `PLAIN is enabled (${handshake.mechanisms.join(",")})`);
    const auth = await this.request(ApiKey.SaslAuthenticate, 2, {
      authBytes: Buffer.from(`\0${user}\0${password}`),
    });
    assert.equal(auth.errorCode, 0, auth.errorMessage ?? "");
  }

  /** Sends a raw size-prefixed token (legacy SaslHandshake v0 framing) and reads the raw answer. */
  async rawToken(token: Buffer): Promise<Buffer> {
    const size = Buffer.alloc(4);
    size.writeInt32BE(token.length);
    this.socket.write(Buffer.concat([size, token]));
    return Buffer.from(await this.readFrame());
  }

  /** Whether the connection is closed within timeoutMs. */
  async waitClosed(timeoutMs = 10_000): Promise<boolean> {
    return eventually(() => this.closed, { what: "the connection to close", timeoutMs, intervalMs: 20 }).then(
      () => true,
      () => false,
    );
  }

  close(): void {
    this.socket.destroy();
  }
}
