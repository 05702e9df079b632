/**
 * The per-connection SASL state machine and PLAIN: which requests are allowed before authentication,
 * handshake answers (enabled list, UNSUPPORTED_SASL_MECHANISM, ILLEGAL_SASL_STATE), PLAIN and SCRAM
 * success and failure, and the session being failed (so the connection closes) after a failure.
 * Session lifetimes and re-authentication (KIP-368) on a test clock: the lifetime Kafka computes
 * (the flag, an OAUTHBEARER token's expiry, the smaller of both), expiry closing the connection at
 * the next request, re-authentication before and after the deadline, at most once a second, with
 * the same principal and mechanism, against the users current at that time.
 */
import assert from "node:assert/strict";
import { componentLogger } from "../../../common/logger.js";
import { ApiKey, ErrorCode } from "../../src/protocol/index.js";
import { SaslSession } from "../../src/security/authenticator.js";
import type { SaslSettings } from "../../src/security/authenticator.js";
import { PlainServerExchange } from "../../src/security/plain.js";
import { parseUsersFile } from "../../src/security/users.js";
import { SaslAuthenticationError } from "../../src/security/mechanisms.js";
import { OAuthBearerValidator } from "../../src/security/oauthbearer.js";
import type { SaslUsers } from "../../src/security/users.js";
import { ScramClient, captureLogs } from "./support.js";

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

describe("SASL session lifetime and re-authentication (KIP-368)", () => {
  let users: SaslUsers;
  let clock: { wall: number; mono: number };
  const events: string[] = [];
  before(async () => {
    users = await parseUsersFile("alice:alice-pw\nbob:bob-pw\n", { mechanisms: ["SCRAM-SHA-256", "PLAIN"] });
  });
  beforeEach(() => {
    clock = { wall: Date.UTC(2030, 0, 1), mono: 1000 };
    events.length = 0;
  });

  /** A session on a listener with these settings (replaceable through `current.settings`), on the test clock. */
  function sessionWith(over: Partial<SaslSettings>): { s: SaslSession; current: { settings: SaslSettings } } {
    const settings: SaslSettings = {
      mechanisms: ["PLAIN", "SCRAM-SHA-256", "OAUTHBEARER"],
      users,
      oauth: null,
      maxReauthMs: 0,
      ...over,
    };
    const current = {
      settings,
    };
    const s = new SaslSession(
      () => current.settings,
      componentLogger("test"),
      { id: 1, remoteAddress: "127.0.0.1:1" },
      {
        clock: { wallMs: () => clock.wall, monotonicMs: () => clock.mono },
        events: {
          authenticated: (m, re) => events.push(`ok ${m}${re ? " re" : ""}`),
          failed: (m, re) => events.push(`failed ${m}${re ? " re" : ""}`),
          expired: () => events.push("expired"),
        },
      },
    );
    return { s, current };
  }

  async function plainLogin(s: SaslSession, user: string, password: string) {
    assert.equal(s.handshake("PLAIN", 1).errorCode, ErrorCode.NONE);
    return s.authenticate(plain("", user, password));
  }

  /** An OAUTHBEARER validator that accepts any token "<principal>:<exp seconds>". */
  const fakeOAuth = (): SaslSettings["oauth"] =>
    new OAuthBearerValidator(
      { keysFor: () => [], refreshForUnknownKid: async () => false },
      { audience: [], principalClaim: "sub", clockSkewMs: 0 },
    );

  it("without -kafkaConnectionsMaxReauth a password session has no lifetime and cannot re-authenticate", async () => {
    const { s } = sessionWith({});
    assert.equal((await plainLogin(s, "alice", "alice-pw")).sessionLifetimeMs, 0n);
    clock.mono += 365 * 86_400_000;
    assert.equal(s.expired, false);
    assert.equal(s.admit(ApiKey.Metadata), null);
    assert.equal(s.handshake("PLAIN", 1).errorCode, ErrorCode.ILLEGAL_SASL_STATE);
    assert.equal(s.state, "authenticated");
  });

  it("with it, the lifetime is the flag; past it any request but a SaslHandshake closes the connection", async () => {
    const { s } = sessionWith({ maxReauthMs: 60_000 });
    assert.equal((await plainLogin(s, "alice", "alice-pw")).sessionLifetimeMs, 60_000n);
    clock.mono += 60_000;
    assert.equal(s.admit(ApiKey.Metadata), null, "at the deadline itself the session is still valid");
    clock.mono += 1;
    assert.match(s.admit(ApiKey.Metadata)!, /SASL session expired: Metadata \(key 3\)/);
    assert.match(s.admit(ApiKey.ApiVersions)!, /SASL session expired/);
    assert.deepEqual(events, ["ok PLAIN", "expired", "expired"]);
    assert.equal(s.admit(ApiKey.SaslHandshake), null, "a re-authentication may still start");
  });

  it("re-authenticates on the same connection before or after the deadline, which then moves", async () => {
    const { s } = sessionWith({ maxReauthMs: 60_000 });
    await plainLogin(s, "alice", "alice-pw");
    clock.mono += 50_000;
    assert.equal(s.handshake("PLAIN", 1).errorCode, ErrorCode.NONE);
    assert.equal(s.reauthenticating, true);
    assert.equal(s.principal, "alice", "the principal stays during the re-authentication");
    assert.match(s.admit(ApiKey.Produce)!, /during SASL re-authentication/);
    const r = await s.authenticate(plain("", "alice", "alice-pw"));
    assert.equal(r.errorCode, ErrorCode.NONE);
    assert.equal(r.sessionLifetimeMs, 60_000n);
    clock.mono += 59_000;
    assert.equal(s.admit(ApiKey.Produce), null, "109 s after the first login, 59 s after the second");
    clock.mono += 2_000;
    assert.notEqual(s.admit(ApiKey.Produce), null);
    assert.equal(s.handshake("PLAIN", 1).errorCode, ErrorCode.NONE, "after expiry too");
    assert.equal((await s.authenticate(plain("", "alice", "alice-pw"))).errorCode, ErrorCode.NONE);
    assert.equal(s.admit(ApiKey.Produce), null);
    assert.deepEqual(events, ["ok PLAIN", "ok PLAIN re", "expired", "ok PLAIN re"]);
  });

  it("SCRAM re-authenticates in its two steps", async () => {
    const { s } = sessionWith({ maxReauthMs: 60_000 });
    for (let i = 0; i < 2; i++) {
      clock.mono += 1_000;
      assert.equal(s.handshake("SCRAM-SHA-256", 1).errorCode, ErrorCode.NONE);
      const client = new ScramClient("SCRAM-SHA-256", "alice", "alice-pw");
      const first = await s.authenticate(client.first());
      const final = await s.authenticate(client.final(first.authBytes));
      assert.equal(final.errorCode, ErrorCode.NONE);
      assert.equal(final.sessionLifetimeMs, 60_000n);
    }
    assert.deepEqual(events, ["ok SCRAM-SHA-256", "ok SCRAM-SHA-256 re"]);
  });

  it("refuses a re-authentication less than a second after the previous one started", async () => {
    const { s } = sessionWith({ maxReauthMs: 60_000 });
    await plainLogin(s, "alice", "alice-pw");
    assert.equal(s.handshake("PLAIN", 1).errorCode, ErrorCode.NONE, "the first may follow the login at once");
    await s.authenticate(plain("", "alice", "alice-pw"));
    clock.mono += 999;
    assert.equal(s.handshake("PLAIN", 1).errorCode, ErrorCode.ILLEGAL_SASL_STATE);
    assert.equal(s.state, "authenticated");
    clock.mono += 1;
    assert.equal(s.handshake("PLAIN", 1).errorCode, ErrorCode.NONE);
  });

  it("refuses a change of principal, and closes", async () => {
    const { s } = sessionWith({ maxReauthMs: 60_000 });
    await plainLogin(s, "alice", "alice-pw");
    s.handshake("PLAIN", 1);
    const r = await s.authenticate(plain("", "bob", "bob-pw"));
    assert.equal(r.errorCode, ErrorCode.SASL_AUTHENTICATION_FAILED);
    assert.equal(r.errorMessage, "Cannot change principals during re-authentication from User.alice: User.bob");
    assert.equal(s.failed, true);
    assert.deepEqual(events, ["ok PLAIN", "failed PLAIN re"]);
  });

  it("refuses a change of mechanism at its SaslAuthenticate, as Kafka does", async () => {
    const { s } = sessionWith({ maxReauthMs: 60_000 });
    await plainLogin(s, "alice", "alice-pw");
    assert.equal(s.handshake("SCRAM-SHA-256", 1).errorCode, ErrorCode.NONE);
    const r = await s.authenticate(new ScramClient("SCRAM-SHA-256", "alice", "alice-pw").first());
    assert.equal(r.errorCode, ErrorCode.SASL_AUTHENTICATION_FAILED);
    assert.equal(
      r.errorMessage,
      "SASL mechanism 'SCRAM-SHA-256' requested by client is not supported for re-authentication of mechanism 'PLAIN'",
    );
    assert.equal(s.failed, true);
  });

  it("re-authenticates against the current users: a password changed since is refused", async () => {
    const { s, current } = sessionWith({ maxReauthMs: 60_000 });
    await plainLogin(s, "alice", "alice-pw");
    current.settings = {
      ...current.settings,
      users: await parseUsersFile("alice:new-pw\n", { mechanisms: ["SCRAM-SHA-256", "PLAIN"] }),
    };
    s.handshake("PLAIN", 1);
    assert.equal(
      (await s.authenticate(plain("", "alice", "alice-pw"))).errorCode,
      ErrorCode.SASL_AUTHENTICATION_FAILED,
    );
    assert.equal(s.failed, true);
  });

  describe("OAUTHBEARER", () => {
    /** A validator whose tokens are "<principal>.<exp seconds>" (the signature is the test's concern elsewhere). */
    class FakeValidator extends OAuthBearerValidator {
      constructor() {
        super(
          { keysFor: () => [], refreshForUnknownKid: async () => false },
          { audience: [], principalClaim: "sub", clockSkewMs: 0 },
        );
      }
      override async validate(token: string) {
        const [principal, exp] = token.split(".");
        return { principal: principal!, expiresAtMs: Number(exp) * 1000 };
      }
    }
    const login = async (s: SaslSession, principal: string, expSeconds: number) => {
      assert.equal(s.handshake("OAUTHBEARER", 1).errorCode, ErrorCode.NONE);
      return s.authenticate(Buffer.from(`n,,\x01auth=Bearer ${principal}.${expSeconds}\x01\x01`));
    };
    const inSeconds = (s: number): number => Math.floor(clock.wall / 1000) + s;

    it("the session ends with the token even without -kafkaConnectionsMaxReauth (as Kafka)", async () => {
      const { s } = sessionWith({ oauth: new FakeValidator() });
      assert.equal((await login(s, "svc", 1e300)).sessionLifetimeMs, BigInt(Number.MAX_SAFE_INTEGER), "int64-safe");
      clock.mono += 1_000;
      const r = await login(s, "svc", inSeconds(300));
      assert.equal(r.errorCode, ErrorCode.NONE);
      assert.equal(r.sessionLifetimeMs, 300_000n);
      clock.mono += 300_001;
      assert.notEqual(s.admit(ApiKey.Fetch), null);
    });

    it("with the flag, the lifetime is the smaller of the flag and the token's remaining lifetime", async () => {
      const { s } = sessionWith({ oauth: new FakeValidator(), maxReauthMs: 60_000 });
      assert.equal((await login(s, "svc", inSeconds(300))).sessionLifetimeMs, 60_000n);
      clock.mono += 1_000;
      assert.equal((await login(s, "svc", inSeconds(20))).sessionLifetimeMs, 20_000n);
      clock.mono += 1_000;
      clock.wall += 25_000;
      assert.equal((await login(s, "svc", inSeconds(-1))).sessionLifetimeMs, 0n, "never negative");
      clock.mono += 1;
      assert.notEqual(s.admit(ApiKey.Metadata), null, "a zero lifetime expires at once");
      clock.mono += 1_000;
      const absurd = await login(s, "svc", 1e300);
      assert.equal(absurd.sessionLifetimeMs, 60_000n, "the flag bounds an absurd exp");
    });

    it("a re-authentication with a token of another principal is refused", async () => {
      const { s } = sessionWith({ oauth: new FakeValidator(), maxReauthMs: 60_000 });
      await login(s, "svc-a", inSeconds(300));
      const r = await login(s, "svc-b", inSeconds(300));
      assert.equal(r.errorCode, ErrorCode.SASL_AUTHENTICATION_FAILED);
      assert.match(r.errorMessage!, /from User.svc-a: User.svc-b/);
    });

    it("a token that does not validate is answered with the challenge and logged once, then fails", async () => {
      const { s } = sessionWith({ oauth: fakeOAuth() });
      assert.equal(s.handshake("OAUTHBEARER", 1).errorCode, ErrorCode.NONE);
      const logs = await captureLogs(async () => {
        const challenge = await s.authenticate(Buffer.from("n,,\x01auth=Bearer a.b.c\x01\x01"));
        assert.equal(challenge.errorCode, ErrorCode.NONE);
        assert.equal(challenge.authBytes.toString(), '{"status":"invalid_token"}');
        assert.equal(s.failed, false);
        const final = await s.authenticate(Buffer.from([1]));
        assert.equal(final.errorCode, ErrorCode.SASL_AUTHENTICATION_FAILED);
        assert.equal(final.errorMessage, '{"status":"invalid_token"}');
        assert.equal(s.failed, true);
      });
      assert.equal(logs.match(/SASL authentication failed/g)?.length, 1, logs);
      assert.match(logs, /"reason":"malformed token/);
      assert.deepEqual(events, ["failed OAUTHBEARER"]);
    });
  });
});
