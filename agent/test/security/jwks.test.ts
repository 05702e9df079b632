/**
 * The JWKS source and the OAUTHBEARER exchange: a JWKS read from a file and over HTTP; unusable keys
 * skipped and a set without usable keys refused; a rotated key found by re-reading the set when a
 * token names an unknown kid (at most once per spacing), a failed refresh keeping the old keys, the
 * periodic refresh; HTTP errors, redirects and oversized documents refused. The exchange: the client
 * first message as the Java client, librdkafka and kafkajs send it (extensions, authzid), malformed
 * messages, and a refused token answered with Kafka's invalid_token challenge before failing.
 */
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { componentLogger } from "../../../common/logger.js";
import { eventually } from "../../../e2e/support/eventually.js";
import { JwksError, JwksSource, MAX_JWKS_BYTES, parseJwks, readJwksDocument } from "../../src/security/jwks.js";
import { SaslAuthenticationError } from "../../src/security/mechanisms.js";
import {
  INVALID_TOKEN_RESPONSE,
  OAuthBearerServerExchange,
  OAuthBearerValidator,
  parseClientFirstMessage,
} from "../../src/security/oauthbearer.js";
import { tempDir } from "../support/agents.js";
import { TestIdentityProvider, makeSigningKey, oauthBearerMessage, signJwt } from "./oauth-support.js";

const logger = componentLogger("test");
const RULES = { audience: ["warp-kafka"], principalClaim: "sub", clockSkewMs: 30_000 };

describe("OAuth JWKS", function () {
  this.timeout(30_000);
  let dir: { path: string; remove(): void };
  let idp: TestIdentityProvider;
  const sources: JwksSource[] = [];
  beforeEach(async () => {
    dir = tempDir("jwks");
    idp = await TestIdentityProvider.start({ dir: dir.path, clients: {} });
  });
  afterEach(async () => {
    for (const s of sources.splice(0)) s.close();
    await idp.stop();
    dir.remove();
  });
  const open = async (url: string, extra: Partial<Parameters<typeof JwksSource.open>[0]> = {}) => {
    const s = await JwksSource.open({ url, logger, ...extra });
    sources.push(s);
    return s;
  };

  it("reads the set from a file:// URL and over http://", async () => {
    for (const url of [idp.jwksFileUrl, idp.jwksHttpUrl]) {
      const s = await open(url);
      assert.deepEqual(s.kids, [idp.signingKey.kid]);
      assert.equal(s.keysFor(idp.signingKey.kid).length, 1);
      assert.equal(s.keysFor("other").length, 0);
      assert.equal(s.keysFor(null).length, 1);
    }
  });

  it("skips unusable keys, and refuses a set with none", () => {
    const good = makeSigningKey("ES256").jwk;
    const loaded = parseJwks(JSON.stringify({ keys: [{ kty: "oct", k: "c2VjcmV0", kid: "hmac" }, good] }));
    assert.equal(loaded.keys.length, 1);
    assert.match(loaded.skipped[0]!, /key 1 \(kid "hmac"\): key type "oct" is not supported/);
    assert.throws(() => parseJwks('{"keys":[{"kty":"oct","k":"c2VjcmV0"}]}'), /no usable signing key.*skipped key 1/);
    assert.throws(() => parseJwks('{"keys": 3}'), /not a JWK set/);
    assert.throws(() => parseJwks("<html>"), /not JSON/);
  });

  it("finds a rotated key by reading the set again for an unknown kid, at most once per spacing", async () => {
    let clock = 0;
    const s = await open(idp.jwksFileUrl, { now: () => clock, unknownKidRefreshMs: 10_000 });
    const next = idp.rotate("ES256");
    assert.equal(s.keysFor(next.kid).length, 0);
    assert.equal(await s.refreshForUnknownKid(), true);
    assert.equal(s.keysFor(next.kid).length, 1, "the new key is found");
    const third = idp.rotate("RS256");
    clock = 9_999;
    assert.equal(await s.refreshForUnknownKid(), false, "too soon after the last unknown-kid refresh");
    assert.equal(s.keysFor(third.kid).length, 0);
    clock = 10_000;
    assert.equal(await s.refreshForUnknownKid(), true);
    assert.equal(s.keysFor(third.kid).length, 1);
  });

  it("keeps the keys it has when a refresh fails", async () => {
    let clock = 0;
    const s = await open(idp.jwksFileUrl, { now: () => (clock += 60_000) });
    const kid = idp.signingKey.kid;
    writeFileSync(idp.jwksFile, "{ broken");
    assert.equal(await s.refreshForUnknownKid(), false);
    assert.equal(s.keysFor(kid).length, 1);
  });

  it("reads the set again every refresh interval", async () => {
    const s = await open(idp.jwksHttpUrl, { refreshIntervalMs: 50 });
    const next = idp.rotate();
    await eventually(() => s.keysFor(next.kid).length === 1, { what: "the periodic refresh", timeoutMs: 10_000 });
  });

  it("refuses HTTP errors, redirects, oversized documents and missing files, saying why", async () => {
    const server = http.createServer((req, res) => {
      if (req.url === "/404") res.writeHead(404).end();
      else if (req.url === "/redirect") res.writeHead(302, { location: idp.jwksHttpUrl }).end();
      else res.writeHead(200).end("x".repeat(MAX_JWKS_BYTES + 1));
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      await assert.rejects(readJwksDocument(`${base}/404`), /HTTP 404/);
      await assert.rejects(readJwksDocument(`${base}/redirect`), JwksError);
      await assert.rejects(readJwksDocument(`${base}/big`), /larger than 1048576 bytes/);
      await assert.rejects(readJwksDocument("file:///nonexistent/jwks.json"), /no such file/);
      await assert.rejects(JwksSource.open({ url: `${base}/404`, logger }), /HTTP 404/);
    } finally {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    }
  });
});

describe("OAUTHBEARER exchange", function () {
  this.timeout(30_000);
  let dir: { path: string; remove(): void };
  let idp: TestIdentityProvider;
  let jwks: JwksSource;
  let validator: OAuthBearerValidator;
  before(async () => {
    dir = tempDir("oauthbearer");
    idp = await TestIdentityProvider.start({ dir: dir.path, clients: {} });
    jwks = await JwksSource.open({ url: idp.jwksFileUrl, logger });
    validator = new OAuthBearerValidator(jwks, { ...RULES, issuer: idp.issuer });
  });
  after(async () => {
    jwks.close();
    await idp.stop();
    dir.remove();
  });

  it("parses the client first message with extensions and an authorization id", () => {
    assert.deepEqual(parseClientFirstMessage("n,,\x01auth=Bearer abc.def.ghi\x01\x01"), {
      authzid: "",
      token: "abc.def.ghi",
    });
    assert.deepEqual(
      parseClientFirstMessage(
        "n,a=us=2Cer=3D,\x01auth=bearer  t-1_2.x~\x01traceId=123\x01logicalCluster=lkc-1\x01\x01",
      ),
      { authzid: "us,er=", token: "t-1_2.x~" },
    );
    for (const bad of [
      "auth=Bearer x",
      "n,,auth=Bearer x\x01\x01",
      "n,,\x01auth=Bearer x\x01",
      "n,,\x01auth=Basic x\x01\x01",
      "n,,\x01auth=Bearer x\x01auth=Bearer y\x01\x01",
      "n,,\x01traceId=1\x01\x01",
      "n,,\x01auth=Bearer x y\x01\x01",
      "n,,\x01=x\x01auth=Bearer x\x01\x01",
    ])
      assert.throws(
        () => parseClientFirstMessage(bad),
        (e: unknown) =>
          e instanceof SaslAuthenticationError &&
          /Invalid OAUTHBEARER client first message/.test(e.reason) &&
          /invalid credentials with SASL mechanism OAUTHBEARER/.test(e.message),
        JSON.stringify(bad),
      );
  });

  it("authenticates a valid token: the principal and the token's expiry", async () => {
    const token = idp.token("orders-app");
    const step = await new OAuthBearerServerExchange(validator).step(
      oauthBearerMessage(token, { extensions: { traceId: "7" } }),
    );
    assert.equal(step.principal, "orders-app");
    assert.equal(step.response.length, 0);
    assert.equal(
      step.credentialExpiresAtMs,
      (JSON.parse(Buffer.from(token.split(".")[1]!, "base64url").toString()) as { exp: number }).exp * 1000,
    );
  });

  it("answers a refused token with the invalid_token challenge, then fails at the client's \\x01", async () => {
    const exchange = new OAuthBearerServerExchange(validator);
    const step = await exchange.step(
      oauthBearerMessage(idp.token("orders-app", { exp: Math.floor(Date.now() / 1000) - 3600 })),
    );
    assert.equal(step.principal, null);
    assert.equal(step.response.toString(), INVALID_TOKEN_RESPONSE);
    assert.match(step.rejected!, /the token expired at/);
    await assert.rejects(
      async () => exchange.step(Buffer.from([1])),
      (e: unknown) => e instanceof SaslAuthenticationError && e.message === INVALID_TOKEN_RESPONSE,
    );
  });

  it("refuses a token signed by a key outside the JWKS, and an authorization id other than the principal", async () => {
    const stranger = makeSigningKey("RS256", idp.signingKey.kid);
    const forged = signJwt(idp.claims("orders-app"), stranger);
    const step = await new OAuthBearerServerExchange(validator).step(oauthBearerMessage(forged));
    assert.match(step.rejected!, /the signature does not verify with the key of kid/);
    await assert.rejects(
      async () =>
        new OAuthBearerServerExchange(validator).step(
          oauthBearerMessage(idp.token("orders-app"), { authzid: "admin" }),
        ),
      /Client requested an authorization id \(admin\) that is different from the token's principal name \(orders-app\)/,
    );
  });
});
