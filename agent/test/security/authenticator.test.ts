/**
 * The per-connection SASL state machine and PLAIN: which requests are allowed before authentication,
 * handshake answers (enabled list, UNSUPPORTED_SASL_MECHANISM, ILLEGAL_SASL_STATE), PLAIN and SCRAM
 * success and failure, and the session being failed (so the connection closes) after a failure.
 */
import assert from "node:assert/strict";
import { componentLogger } from "../../../common/logger.js";
import { ApiKey, ErrorCode } from "../../src/protocol/index.js";
import { SaslSession } from "../../src/security/authenticator.js";
import type { SaslSettings } from "../../src/security/authenticator.js";
import { PlainServerExchange } from "../../src/security/plain.js";
import { parseUsersFile } from "../../src/security/users.js";
import { SaslAuthenticationError } from "../../src/security/mechanisms.js";
import { ScramClient } from "./support.js";

let settings: SaslSettings;

function session(s: SaslSettings | null = settings): SaslSession {
  return new SaslSession(s ? () => s : null, componentLogger("test"), { id: 1, remoteAddress: "127.0.0.1:1" });
}

const plain = (authzid: string, user: string, password: string): Buffer =>
  Buffer.from(`${authzid}\0${user}\0${password}`);

describe("SASL session", () => {
  before(async () => {
    settings = {
      mechanisms: ["SCRAM-SHA-256", "PLAIN"],
      users: await parseUsersFile("alice:alice-pw\n", { mechanisms: ["SCRAM-SHA-256", "PLAIN"] }),
      oauth: null,
      maxReauthMs: 0,
    };
  });

  it("allows only ApiVersions, SaslHandshake and SaslAuthenticate before authentication", () => {
    const s = session();
    assert.equal(s.required, true);
    for (const key of [ApiKey.ApiVersions, ApiKey.SaslHandshake, ApiKey.SaslAuthenticate])
      assert.equal(s.mayServe(key), true);
    for (const key of [ApiKey.Metadata, ApiKey.Produce, ApiKey.Fetch, ApiKey.CreateTopics])
      assert.equal(s.mayServe(key), false);
  });

  it("allows everything on a listener without SASL, and answers SASL requests with ILLEGAL_SASL_STATE", async () => {
    const s = session(null);
    assert.equal(s.mayServe(ApiKey.Produce), true);
    assert.deepEqual(s.handshake("PLAIN", 1), { errorCode: ErrorCode.ILLEGAL_SASL_STATE, mechanisms: [] });
    assert.equal((await s.authenticate(plain("", "alice", "alice-pw"))).errorCode, ErrorCode.ILLEGAL_SASL_STATE);
    assert.equal(s.failed, false);
  });

  it("authenticates with PLAIN and then serves everything", async () => {
    const s = session();
    assert.deepEqual(s.handshake("PLAIN", 1), { errorCode: ErrorCode.NONE, mechanisms: ["SCRAM-SHA-256", "PLAIN"] });
    const r = await s.authenticate(plain("", "alice", "alice-pw"));
    assert.equal(r.errorCode, ErrorCode.NONE);
    assert.equal(s.principal, "alice");
    assert.equal(s.state, "authenticated");
    assert.equal(s.mayServe(ApiKey.Produce), true);
    assert.equal(s.handshake("PLAIN", 1).errorCode, ErrorCode.ILLEGAL_SASL_STATE, "no re-authentication");
  });

  it("authenticates with SCRAM-SHA-256 in two SaslAuthenticate steps", async () => {
    const s = session();
    s.handshake("SCRAM-SHA-256", 1);
    const client = new ScramClient("SCRAM-SHA-256", "alice", "alice-pw");
    const first = await s.authenticate(client.first());
    assert.equal(first.errorCode, ErrorCode.NONE);
    assert.equal(s.state, "authenticate");
    const final = await s.authenticate(client.final(first.authBytes));
    assert.equal(final.errorCode, ErrorCode.NONE);
    client.verify(final.authBytes);
    assert.equal(s.principal, "alice");
  });

  it("fails on a wrong password with SASL_AUTHENTICATION_FAILED and stops serving", async () => {
    const s = session();
    s.handshake("PLAIN", 1);
    const r = await s.authenticate(plain("", "alice", "wrong"));
    assert.equal(r.errorCode, ErrorCode.SASL_AUTHENTICATION_FAILED);
    assert.match(r.errorMessage!, /Authentication failed/);
    assert.equal(s.failed, true);
    assert.equal(s.mayServe(ApiKey.ApiVersions), false);
    assert.equal(s.principal, null);
  });

  it("refuses an unknown mechanism with UNSUPPORTED_SASL_MECHANISM listing the enabled ones", () => {
    const s = session();
    assert.deepEqual(s.handshake("SCRAM-SHA-512", 1), {
      errorCode: ErrorCode.UNSUPPORTED_SASL_MECHANISM,
      mechanisms: ["SCRAM-SHA-256", "PLAIN"],
    });
    assert.equal(s.failed, true);
  });

  it("answers SaslAuthenticate before SaslHandshake with ILLEGAL_SASL_STATE, then fails (the connection closes)", async () => {
    const s = session();
    assert.equal((await s.authenticate(plain("", "alice", "alice-pw"))).errorCode, ErrorCode.ILLEGAL_SASL_STATE);
    assert.equal(s.failed, true);
  });

  it("fails on a second SaslHandshake in the middle of an exchange", () => {
    const s = session();
    s.handshake("SCRAM-SHA-256", 1);
    assert.equal(s.handshake("PLAIN", 1).errorCode, ErrorCode.ILLEGAL_SASL_STATE);
    assert.equal(s.failed, true);
  });

  it("answers SaslAuthenticate after authentication with ILLEGAL_SASL_STATE and stays authenticated", async () => {
    const s = session();
    s.handshake("PLAIN", 1);
    await s.authenticate(plain("", "alice", "alice-pw"));
    assert.equal((await s.authenticate(plain("", "alice", "alice-pw"))).errorCode, ErrorCode.ILLEGAL_SASL_STATE);
    assert.equal(s.state, "authenticated");
  });

  it("switches to raw tokens after SaslHandshake v0", async () => {
    const s = session();
    s.handshake("PLAIN", 0);
    assert.equal(s.expectsRawToken, true);
    await s.authenticate(plain("", "alice", "alice-pw"));
    assert.equal(s.expectsRawToken, false);
    assert.equal(s.principal, "alice");
  });
});

describe("SASL/PLAIN", () => {
  const verify = async (u: string, p: string): Promise<boolean> => u === "alice" && p === "pw";
  const fails = (message: Buffer, pattern: RegExp): Promise<void> =>
    assert.rejects(
      async () => new PlainServerExchange({ verify }).step(message),
      (e: unknown) => e instanceof SaslAuthenticationError && pattern.test(e.message),
    );

  it("accepts an empty or matching authorization id", async () => {
    assert.equal((await new PlainServerExchange({ verify }).step(plain("", "alice", "pw"))).principal, "alice");
    assert.equal((await new PlainServerExchange({ verify }).step(plain("alice", "alice", "pw"))).principal, "alice");
  });
  it("refuses another authorization id", () => fails(plain("bob", "alice", "pw"), /authorization id/));
  it("refuses a malformed message", () => fails(Buffer.from("alice:pw"), /expected authzid NUL user NUL password/));
  it("refuses extra NUL fields", () => fails(Buffer.from("\0alice\0pw\0x"), /expected authzid NUL user NUL password/));
  it("refuses a wrong password", () => fails(plain("", "alice", "nope"), /Invalid username or password/));
});
