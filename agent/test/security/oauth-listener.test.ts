/**
 * OAUTHBEARER and re-authentication on a running agent, spoken to byte by byte. OAUTHBEARER: offered
 * in SaslHandshake only when configured; a valid token authenticates (session lifetime = the token's
 * remaining lifetime); an expired token, a token signed by another key, an unsigned (`alg: none`)
 * token and a token for another audience get Kafka's `{"status":"invalid_token"}` challenge, then
 * SASL_AUTHENTICATION_FAILED and the connection closes; a rotated signing key is picked up from the
 * JWKS without a restart; no token reaches the logs. Re-authentication (-kafkaConnectionsMaxReauth):
 * a connection past its session lifetime that did not re-authenticate is closed at its next request;
 * one that re-authenticates keeps working for several lifetimes; a principal change is refused. With
 * ACLs an OAUTHBEARER principal is User:<claim value>, the same across re-authentications.
 */
import assert from "node:assert/strict";
import { ApiKey, ErrorCode } from "../../src/protocol/index.js";
import { startTestAgent, tempDir } from "../support/agents.js";
import type { TestAgent } from "../support/agents.js";
import {
  TestIdentityProvider,
  makeSigningKey,
  metricValue,
  oauthBearerMessage,
  signJwt,
  unsignedJwt,
} from "./oauth-support.js";
import { RawKafkaClient, captureLogs, writeUsersFile } from "./support.js";

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** SaslHandshake v1 + one SaslAuthenticate v2 with the OAUTHBEARER message of `token`. */
async function oauthLogin(c: RawKafkaClient, token: string) {
  const hs = await c.request(ApiKey.SaslHandshake, 1, { mechanism: "OAUTHBEARER" });
  assert.equal(hs.errorCode, ErrorCode.NONE);
  return c.request(ApiKey.SaslAuthenticate, 2, { authBytes: oauthBearerMessage(token) });
}

/** A refused token: the invalid_token challenge, then SASL_AUTHENTICATION_FAILED at the \x01, then closed. */
async function assertRefused(c: RawKafkaClient, token: string): Promise<void> {
  const challenge = await oauthLogin(c, token);
  assert.equal(challenge.errorCode, ErrorCode.NONE);
  assert.equal(challenge.authBytes.toString(), '{"status":"invalid_token"}');
  assert.equal(challenge.sessionLifetimeMs, 0n);
  const final = await c.request(ApiKey.SaslAuthenticate, 2, { authBytes: Buffer.from([1]) });
  assert.equal(final.errorCode, ErrorCode.SASL_AUTHENTICATION_FAILED);
  assert.equal(final.errorMessage, '{"status":"invalid_token"}');
  assert.equal(await c.waitClosed(), true);
}

async function plainLogin(c: RawKafkaClient, user: string, password: string, handshake = true) {
  if (handshake)
    assert.equal((await c.request(ApiKey.SaslHandshake, 1, { mechanism: "PLAIN" })).errorCode, ErrorCode.NONE);
  return c.request(ApiKey.SaslAuthenticate, 2, { authBytes: Buffer.from(`\0${user}\0${password}`) });
}

const metadata = (c: RawKafkaClient) => c.request(ApiKey.Metadata, 4, { topics: [], allowAutoTopicCreation: false });

describe("Kafka listener with SASL/OAUTHBEARER", function () {
  this.timeout(60_000);
  let dir: { path: string; remove(): void };
  let idp: TestIdentityProvider;
  let agent: TestAgent;

  before(async () => {
    dir = tempDir("oauth-listener");
    idp = await TestIdentityProvider.start({ dir: dir.path, clients: {} });
    agent = await startTestAgent({
      kafkaSASLMechanisms: "SCRAM-SHA-256,OAUTHBEARER",
      kafkaSASLUsersFile: writeUsersFile(dir.path, { alice: "alice-pw" }),
      kafkaSASLOAuthJwksURL: idp.jwksFileUrl,
      kafkaSASLOAuthIssuer: idp.issuer,
      kafkaSASLOAuthAudience: `other-service, ${idp.audience}`,
    });
  });
  after(async () => {
    await agent?.stop();
    await idp?.stop();
    dir?.remove();
  });

  it("is offered in SaslHandshake next to the other mechanisms, and only where configured", async () => {
    const c = await RawKafkaClient.connect(agent.port);
    const hs = await c.request(ApiKey.SaslHandshake, 1, { mechanism: "OAUTHBEARER" });
    assert.deepEqual(hs.mechanisms, ["SCRAM-SHA-256", "OAUTHBEARER"]);
    c.close();
    const scramOnly = await startTestAgent({
      kafkaSASLMechanisms: "SCRAM-SHA-256",
      kafkaSASLUsersFile: writeUsersFile(dir.path, { alice: "alice-pw" }, "users-scram"),
    });
    try {
      const s = await RawKafkaClient.connect(scramOnly.port);
      const refused = await s.request(ApiKey.SaslHandshake, 1, { mechanism: "OAUTHBEARER" });
      assert.equal(refused.errorCode, ErrorCode.UNSUPPORTED_SASL_MECHANISM);
      assert.deepEqual(refused.mechanisms, ["SCRAM-SHA-256"]);
    } finally {
      await scramOnly.stop();
    }
  });

  it("authenticates a valid token; the session lifetime is the token's remaining lifetime", async () => {
    const before = await metricValue(agent.httpPort, "warp_sasl_authentications_total", {
      mechanism: "OAUTHBEARER",
      kind: "authentication",
      result: "success",
    });
    const c = await RawKafkaClient.connect(agent.port);
    const exp = Math.floor(Date.now() / 1000) + 600;
    const r = await oauthLogin(c, idp.token("orders-app", { exp }));
    assert.equal(r.errorCode, ErrorCode.NONE, r.errorMessage ?? "");
    assert.equal(r.authBytes.length, 0);
    assert.ok(
      r.sessionLifetimeMs > 0n && r.sessionLifetimeMs <= BigInt(exp * 1000 - Date.now() + 1000),
      String(r.sessionLifetimeMs),
    );
    assert.equal((await metadata(c)).brokers.length, 1);
    c.close();
    const after = await metricValue(agent.httpPort, "warp_sasl_authentications_total", {
      mechanism: "OAUTHBEARER",
      kind: "authentication",
      result: "success",
    });
    assert.equal(after - before, 1);
  });

  it("refuses an expired token", async () =>
    assertRefused(
      await RawKafkaClient.connect(agent.port),
      idp.token("orders-app", { exp: Math.floor(Date.now() / 1000) - 120 }),
    ));

  it("refuses a token signed by a key that is not in the JWKS (same kid)", async () =>
    assertRefused(
      await RawKafkaClient.connect(agent.port),
      signJwt(idp.claims("orders-app"), makeSigningKey("RS256", idp.signingKey.kid)),
    ));

  it("refuses an unsigned token (alg none)", async () =>
    assertRefused(await RawKafkaClient.connect(agent.port), unsignedJwt(idp.claims("orders-app"))));

  it("refuses a token for another audience and one from another issuer", async () => {
    await assertRefused(await RawKafkaClient.connect(agent.port), idp.token("orders-app", { aud: "billing" }));
    await assertRefused(
      await RawKafkaClient.connect(agent.port),
      idp.token("orders-app", { iss: "https://elsewhere" }),
    );
  });

  it("closes the connection on a malformed client message", async () => {
    const c = await RawKafkaClient.connect(agent.port);
    await c.request(ApiKey.SaslHandshake, 1, { mechanism: "OAUTHBEARER" });
    const r = await c.request(ApiKey.SaslAuthenticate, 2, { authBytes: Buffer.from("Bearer x") });
    assert.equal(r.errorCode, ErrorCode.SASL_AUTHENTICATION_FAILED);
    assert.match(r.errorMessage ?? "", /invalid credentials with SASL mechanism OAUTHBEARER/);
    assert.equal(await c.waitClosed(), true);
  });

  it("accepts tokens of a rotated key without a restart (the JWKS is read again for an unknown kid)", async () => {
    const rotated = idp.rotate("ES256");
    const c = await RawKafkaClient.connect(agent.port);
    const r = await oauthLogin(c, idp.token("orders-app", {}, rotated));
    assert.equal(r.errorCode, ErrorCode.NONE, r.errorMessage ?? "");
    assert.equal((await metadata(c)).brokers.length, 1);
    c.close();
  });

  it("never logs a token or the principal; logs the reason of a refusal", async () => {
    const good = idp.token("orders-app");
    const expired = idp.token("orders-app", { exp: Math.floor(Date.now() / 1000) - 120 });
    const logs = await captureLogs(async () => {
      const c = await RawKafkaClient.connect(agent.port);
      assert.equal((await oauthLogin(c, good)).errorCode, ErrorCode.NONE);
      c.close();
      await assertRefused(await RawKafkaClient.connect(agent.port), expired);
    });
    const lines = logs
      .split("\n")
      .filter((l) => l.startsWith("{"))
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    const succeeded = lines.find((l) => l.message === "SASL authentication succeeded");
    assert.equal(succeeded?.mechanism, "OAUTHBEARER");
    assert.equal(succeeded?.user, undefined, "no user field");
    const failed = lines.find((l) => l.message === "SASL authentication failed");
    assert.match(String(failed?.reason), /^the token expired at /);
    for (const token of [good, expired]) {
      assert.ok(!logs.includes(token), "the token is not logged");
      assert.ok(!logs.includes(token.split(".")[2]!), "nor its signature");
    }
    assert.ok(!logs.includes("orders-app"), "the principal is not logged, verified or not");
  });
});

describe("Kafka listener with re-authentication (-kafkaConnectionsMaxReauth)", function () {
  this.timeout(60_000);
  let dir: { path: string; remove(): void };
  let idp: TestIdentityProvider;
  let agent: TestAgent;
  // Above two seconds: re-authentications half a lifetime apart respect Kafka's one-a-second limit.
  const LIFETIME_MS = 2500;

  before(async () => {
    dir = tempDir("reauth-listener");
    idp = await TestIdentityProvider.start({ dir: dir.path, clients: {} });
    agent = await startTestAgent({
      kafkaSASLMechanisms: "PLAIN,OAUTHBEARER",
      kafkaSASLUsersFile: writeUsersFile(dir.path, { alice: "alice-pw", bob: "bob-pw" }),
      kafkaSASLOAuthJwksURL: idp.jwksFileUrl,
      kafkaConnectionsMaxReauth: `${LIFETIME_MS}ms`,
    });
  });
  after(async () => {
    await agent?.stop();
    await idp?.stop();
    dir?.remove();
  });

  it("answers the session lifetime: the flag, or the token's remaining lifetime when shorter", async () => {
    const c = await RawKafkaClient.connect(agent.port);
    assert.equal((await plainLogin(c, "alice", "alice-pw")).sessionLifetimeMs, BigInt(LIFETIME_MS));
    c.close();
    const o = await RawKafkaClient.connect(agent.port);
    assert.equal((await oauthLogin(o, idp.token("svc"))).sessionLifetimeMs, BigInt(LIFETIME_MS));
    o.close();
    const shortToken = await RawKafkaClient.connect(agent.port);
    const exp = Math.floor(Date.now() / 1000) + 1;
    const lifetime = (await oauthLogin(shortToken, idp.token("svc", { exp }))).sessionLifetimeMs;
    assert.ok(lifetime <= BigInt(exp * 1000 - Date.now() + 100), `the token's ${lifetime} ms`);
    shortToken.close();
  });

  it("closes a connection that did not re-authenticate within its session lifetime at its next request", async () => {
    const before = await metricValue(agent.httpPort, "warp_sasl_expired_connections_closed_total");
    const logs = await captureLogs(async () => {
      const c = await RawKafkaClient.connect(agent.port);
      assert.equal((await plainLogin(c, "alice", "alice-pw")).errorCode, ErrorCode.NONE);
      assert.equal((await metadata(c)).brokers.length, 1, "served within the lifetime");
      await sleep(LIFETIME_MS + 300);
      await assert.rejects(metadata(c), /connection closed/);
      assert.equal(await c.waitClosed(), true);
    });
    assert.match(logs, /"message":"closing connection".*"reason":"SASL session expired: Metadata/);
    assert.equal((await metricValue(agent.httpPort, "warp_sasl_expired_connections_closed_total")) - before, 1);
  });

  for (const mechanism of ["PLAIN", "OAUTHBEARER"] as const) {
    it(`${mechanism === "PLAIN" ? "a" : "an"} ${mechanism} connection that re-authenticates keeps working for several lifetimes`, async () => {
      const c = await RawKafkaClient.connect(agent.port);
      const login = () =>
        mechanism === "PLAIN" ? plainLogin(c, "alice", "alice-pw") : oauthLogin(c, idp.token("svc"));
      assert.equal((await login()).errorCode, ErrorCode.NONE);
      // Four re-authentications half a lifetime apart: two lifetimes in all. Had the deadline not
      // moved with each, the Metadata requests of the second lifetime would close the connection.
      for (let i = 0; i < 4; i++) {
        await sleep(LIFETIME_MS / 2);
        const r = await login();
        assert.equal(r.errorCode, ErrorCode.NONE, r.errorMessage ?? "");
        assert.equal(r.sessionLifetimeMs, BigInt(LIFETIME_MS));
        assert.equal((await metadata(c)).brokers.length, 1, `round ${i}`);
      }
      c.close();
    });
  }

  it("refuses a re-authentication as another principal, and closes", async () => {
    const c = await RawKafkaClient.connect(agent.port);
    assert.equal((await plainLogin(c, "alice", "alice-pw")).errorCode, ErrorCode.NONE);
    const r = await plainLogin(c, "bob", "bob-pw");
    assert.equal(r.errorCode, ErrorCode.SASL_AUTHENTICATION_FAILED);
    assert.equal(r.errorMessage, "Cannot change principals during re-authentication from User.alice: User.bob");
    assert.equal(await c.waitClosed(), true);
  });

  it("closes a connection that sends another request in the middle of its re-authentication", async () => {
    const c = await RawKafkaClient.connect(agent.port);
    assert.equal((await plainLogin(c, "alice", "alice-pw")).errorCode, ErrorCode.NONE);
    assert.equal((await c.request(ApiKey.SaslHandshake, 1, { mechanism: "PLAIN" })).errorCode, ErrorCode.NONE);
    await assert.rejects(metadata(c), /connection closed/);
  });
});

describe("OAUTHBEARER principals under ACLs (-authorizationEnabled)", function () {
  this.timeout(60_000);
  let dir: { path: string; remove(): void };
  let idp: TestIdentityProvider;
  let agent: TestAgent;
  const LIFETIME_MS = 2500;

  before(async () => {
    dir = tempDir("oauth-acls");
    idp = await TestIdentityProvider.start({ dir: dir.path, clients: {} });
    agent = await startTestAgent({
      kafkaSASLMechanisms: "OAUTHBEARER",
      kafkaSASLOAuthJwksURL: idp.jwksFileUrl,
      kafkaConnectionsMaxReauth: `${LIFETIME_MS}ms`,
      authorizationEnabled: "true",
      superUsers: "User:admin",
    });
    const { topics, metadata: log } = agent.running.context;
    assert.equal((await topics.create("orders", 1, {})).errorCode, ErrorCode.NONE);
    await log.propose([
      {
        type: "createAcls",
        acls: [
          {
            resourceType: "TOPIC",
            resourceName: "orders",
            patternType: "LITERAL",
            principal: "User:orders-app",
            host: "*",
            operation: "DESCRIBE",
            permissionType: "ALLOW",
          },
        ],
      },
    ]);
  });
  after(async () => {
    await agent?.stop();
    await idp?.stop();
    dir?.remove();
  });

  const describeOrders = (c: RawKafkaClient) =>
    c
      .request(ApiKey.Metadata, 4, { topics: [{ name: "orders" }], allowAutoTopicCreation: false })
      .then((r) => r.topics[0]!.errorCode);

  it("is User:<principal claim>, and stays so across re-authentications", async () => {
    const c = await RawKafkaClient.connect(agent.port);
    assert.equal((await oauthLogin(c, idp.token("orders-app"))).errorCode, ErrorCode.NONE);
    assert.equal(await describeOrders(c), ErrorCode.NONE, "the binding for User:orders-app applies");
    for (let i = 0; i < 2; i++) {
      await sleep(LIFETIME_MS / 2);
      assert.equal((await oauthLogin(c, idp.token("orders-app"))).errorCode, ErrorCode.NONE);
      assert.equal(await describeOrders(c), ErrorCode.NONE, `after re-authentication ${i + 1}`);
    }
    // A token for another principal cannot take the connection over (and its ACLs with it).
    await sleep(LIFETIME_MS / 2);
    const other = await oauthLogin(c, idp.token("billing"));
    assert.equal(other.errorCode, ErrorCode.SASL_AUTHENTICATION_FAILED);
    assert.equal(await c.waitClosed(), true);

    const b = await RawKafkaClient.connect(agent.port);
    assert.equal((await oauthLogin(b, idp.token("billing"))).errorCode, ErrorCode.NONE);
    assert.equal(await describeOrders(b), ErrorCode.TOPIC_AUTHORIZATION_FAILED, "no binding for User:billing");
    b.close();
  });
});
