/**
 * JWT checks (agent/src/security/jwt.ts): signatures of every accepted algorithm verify with the
 * matching JWK and fail with any other key or a changed payload; `alg: none`, HMAC and unknown
 * algorithms, `crit` and malformed tokens are refused; claims (exp, nbf, iat with the skew allowance,
 * issuer, audience, principal claim); JWKs that must not be used (private, encryption, weak RSA, key
 * type or curve not fitting the algorithm). An RS256 token signed by the openssl CLI verifies too, so
 * the check does not only agree with the test's own signer.
 */
import assert from "node:assert/strict";
import { createHmac, generateKeyPairSync } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { runCommand, which } from "../../../e2e/support/processes.js";
import { JwtError, checkJwtClaims, decodeJwt, importJwk, verifyJwtSignature } from "../../src/security/jwt.js";
import type { JwtClaimRules } from "../../src/security/jwt.js";
import { tempDir } from "../support/agents.js";
import { makeSigningKey, signJwt, unsignedJwt } from "./oauth-support.js";
import type { SigningKey, TestAlgorithm } from "./oauth-support.js";

const NOW = Date.UTC(2030, 0, 1);
const SEC = Math.floor(NOW / 1000);
const RULES: JwtClaimRules = {
  issuer: "https://idp.test",
  audience: ["kafka"],
  principalClaim: "sub",
  clockSkewMs: 30_000,
};
const claims = (over: Record<string, unknown> = {}): Record<string, unknown> => ({
  iss: "https://idp.test",
  aud: "kafka",
  sub: "orders",
  iat: SEC - 10,
  exp: SEC + 600,
  ...over,
});

const refused = (fn: () => unknown, pattern: RegExp): void =>
  assert.throws(fn, (e: unknown) => e instanceof JwtError && pattern.test(e.message));

describe("JWT", () => {
  const keys = new Map<TestAlgorithm, SigningKey>();
  before(() => {
    for (const alg of ["RS256", "RS384", "PS256", "ES256", "ES384"] as const) keys.set(alg, makeSigningKey(alg));
  });

  describe("signatures", () => {
    for (const alg of ["RS256", "RS384", "PS256", "ES256", "ES384"] as const) {
      it(`${alg} verifies with its JWK and not with another key or a changed payload`, () => {
        const key = keys.get(alg)!;
        const token = signJwt(claims(), key);
        const jwt = decodeJwt(token);
        assert.equal(jwt.alg, alg);
        assert.equal(jwt.kid, key.kid);
        assert.equal(verifyJwtSignature(jwt, importJwk(key.jwk)), true);
        assert.equal(
          verifyJwtSignature(jwt, importJwk(makeSigningKey(alg).jwk)),
          false,
          "another key of the same kind",
        );
        const [h, , s] = token.split(".");
        const forged = `${h}.${Buffer.from(JSON.stringify(claims({ sub: "admin" }))).toString("base64url")}.${s}`;
        assert.equal(verifyJwtSignature(decodeJwt(forged), importJwk(key.jwk)), false, "a changed payload");
      });
    }

    it("a key of another type or curve never verifies (RS256 token, EC key; ES256 token, P-384 key)", () => {
      const rs = decodeJwt(signJwt(claims(), keys.get("RS256")!));
      assert.equal(verifyJwtSignature(rs, importJwk(keys.get("ES256")!.jwk)), false);
      const es = decodeJwt(signJwt(claims(), keys.get("ES256")!));
      assert.equal(verifyJwtSignature(es, importJwk({ ...keys.get("ES384")!.jwk, alg: undefined })), false);
    });

    it("a JWK naming another alg is not used for the token's alg (RS256 key, PS256 token)", () => {
      const key = keys.get("RS256")!;
      const ps = signJwt(claims(), { ...key, alg: "PS256" });
      assert.equal(verifyJwtSignature(decodeJwt(ps), importJwk(key.jwk)), false);
      assert.equal(verifyJwtSignature(decodeJwt(ps), importJwk({ ...key.jwk, alg: undefined })), true);
    });

    it("verifies an RS256 token signed with the openssl CLI", async function () {
      if (!which("openssl")) throw new Error("openssl not found: install it with `apt-get install openssl`");
      const dir = tempDir("jwt-openssl");
      try {
        const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
        writeFileSync(path.join(dir.path, "key.pem"), privateKey.export({ format: "pem", type: "pkcs8" }));
        const input = `${Buffer.from('{"alg":"RS256","kid":"o"}').toString("base64url")}.${Buffer.from(JSON.stringify(claims())).toString("base64url")}`;
        writeFileSync(path.join(dir.path, "input"), input);
        const r = await runCommand("openssl", ["dgst", "-sha256", "-sign", "key.pem", "-out", "sig", "input"], {
          cwd: dir.path,
        });
        assert.equal(r.code, 0, r.stderr);
        const token = `${input}.${readFileSync(path.join(dir.path, "sig")).toString("base64url")}`;
        const jwk = { ...publicKey.export({ format: "jwk" }), kid: "o" };
        assert.equal(verifyJwtSignature(decodeJwt(token), importJwk(jwk)), true);
      } finally {
        dir.remove();
      }
    });
  });

  describe("refused tokens", () => {
    it("alg none", () => refused(() => decodeJwt(unsignedJwt(claims())), /algorithm "none" is not accepted/));

    it("HS256, even with the public key as the HMAC secret", () => {
      const key = keys.get("RS256")!;
      const input = `${Buffer.from('{"alg":"HS256"}').toString("base64url")}.${Buffer.from(JSON.stringify(claims())).toString("base64url")}`;
      const pem = importJwk(key.jwk).key.export({ format: "pem", type: "spki" });
      const token = `${input}.${createHmac("sha256", pem).update(input).digest("base64url")}`;
      refused(() => decodeJwt(token), /algorithm "HS256" is not accepted/);
    });

    it("crit header extensions", () =>
      refused(() => decodeJwt(signJwt(claims(), keys.get("ES256")!, { crit: ["exp"] })), /crit/));

    it("malformed tokens", () => {
      refused(() => decodeJwt("abc"), /three base64url parts/);
      refused(() => decodeJwt("a.b.c.d"), /three base64url parts/);
      refused(() => decodeJwt("a+b.c.d"), /not base64url/);
      refused(() => decodeJwt(`${Buffer.from("[1]").toString("base64url")}.e30.c2ln`), /header is not a JSON object/);
      refused(
        () => decodeJwt(`${Buffer.from('{"alg":"RS256"}').toString("base64url")}.bm90IGpzb24.c2ln`),
        /payload is not base64url-encoded JSON/,
      );
      refused(() => decodeJwt(`${Buffer.from('{"alg":"RS256"}').toString("base64url")}.e30.`), /not signed/);
    });
  });

  describe("claims", () => {
    const ok = (over: Record<string, unknown>, rules: JwtClaimRules = RULES) =>
      checkJwtClaims(claims(over), rules, NOW);

    it("accepts a valid token: principal and expiry", () => {
      assert.deepEqual(ok({}), { principal: "orders", expiresAtMs: (SEC + 600) * 1000 });
      assert.equal(ok({ aud: ["other", "kafka"] }).principal, "orders");
    });

    it("exp: required; expired beyond the skew refused, within it accepted", () => {
      refused(() => ok({ exp: undefined }), /no exp claim/);
      refused(() => ok({ exp: "soon" }), /exp claim is not a number/);
      refused(() => ok({ exp: SEC - 31 }), /the token expired at 2029-12-31T23:59:29.000Z/);
      assert.equal(ok({ exp: SEC - 29 }).principal, "orders");
    });

    it("nbf: optional; in the future beyond the skew refused", () => {
      refused(() => ok({ nbf: SEC + 31 }), /not valid before/);
      assert.equal(ok({ nbf: SEC + 29 }).principal, "orders");
    });

    it("iat: required, not in the future beyond the skew", () => {
      refused(() => ok({ iat: undefined }), /no iat claim/);
      refused(() => ok({ iat: SEC + 31 }), /issued in the future/);
      assert.equal(ok({ iat: SEC + 29 }).principal, "orders");
    });

    it("issuer and audience when configured, and only then", () => {
      refused(() => ok({ iss: "https://evil.test" }), /issuer "https:\/\/evil.test" is not "https:\/\/idp.test"/);
      refused(() => ok({ iss: undefined }), /no iss claim/);
      refused(() => ok({ aud: "other" }), /audience "other" includes none of "kafka"/);
      refused(() => ok({ aud: ["a", "b"] }), /includes none of/);
      refused(() => ok({ aud: undefined }), /no aud claim/);
      const open: JwtClaimRules = { audience: [], principalClaim: "sub", clockSkewMs: 0 };
      assert.equal(ok({ iss: "https://any", aud: undefined }, open).principal, "orders");
    });

    it("the principal claim: configurable, a non-empty string", () => {
      refused(() => ok({ sub: undefined }), /no sub claim/);
      refused(() => ok({ sub: "  " }), /not a non-empty string/);
      refused(() => ok({ sub: 42 }), /not a non-empty string/);
      assert.equal(ok({ client_id: "svc-a" }, { ...RULES, principalClaim: "client_id" }).principal, "svc-a");
    });
  });

  describe("JWKs", () => {
    it("refuses keys that must not verify tokens, saying why", () => {
      const rsa = keys.get("RS256")!.jwk;
      refused(() => importJwk({ ...rsa, use: "enc" }), /use is "enc"/);
      refused(() => importJwk({ ...rsa, key_ops: ["encrypt"] }), /key_ops/);
      refused(() => importJwk({ kty: "oct", k: "c2VjcmV0" }), /key type "oct" is not supported/);
      refused(() => importJwk({ ...rsa, alg: "HS256" }), /algorithm "HS256" is not accepted/);
      refused(() => importJwk({ ...rsa, alg: "ES256" }), /does not fit key type RSA/);
      refused(() => importJwk({ ...keys.get("ES384")!.jwk, alg: "ES256" }), /ES256 needs curve P-256, not "P-384"/);
      refused(() => importJwk({ ...rsa, n: "AQAB" }), /RSA key of \d+ bits|not a valid RSA public key/);
      const withPrivate = generateKeyPairSync("ec", { namedCurve: "P-256" }).privateKey.export({ format: "jwk" });
      refused(() => importJwk(withPrivate), /private key/);
      const weak = generateKeyPairSync("rsa", { modulusLength: 1024 }).publicKey.export({ format: "jwk" });
      refused(() => importJwk(weak), /RSA key of 1024 bits; at least 2048/);
      const k256 = generateKeyPairSync("ec", { namedCurve: "secp256k1" }).publicKey.export({ format: "jwk" });
      refused(() => importJwk(k256), /curve "secp256k1" is not supported|not a valid EC public key/);
    });
  });
});
