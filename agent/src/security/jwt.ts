/**
 * JSON Web Tokens (RFC 7519) in JWS compact form (RFC 7515), checked with node:crypto only: the
 * signature with a public key from a JWKS (RFC 7517) and the claims a Kafka broker checks
 * (`exp` and `iat` required, `nbf` when present, issuer and audience when configured, the principal
 * claim), with a clock-skew allowance.
 *
 * Accepted algorithms: RS256/384/512 (RSASSA-PKCS1-v1_5), PS256/384/512 (RSASSA-PSS) and ES256/384/512
 * (ECDSA, P-256/384/521). Everything else is refused: `none`, the HMAC algorithms (a public key must
 * never serve as an HMAC secret), and tokens naming `crit` extensions. The key must match the
 * algorithm (RSA of at least 2048 bits, or EC on the algorithm's curve) and, when the JWK says so,
 * its `alg`, `use` (`sig`) and `key_ops` (`verify`).
 *
 * Sans-I/O: decodeJwt, verifyJwtSignature and checkJwtClaims take the token, a key and the time;
 * where keys come from is jwks.ts. Error messages name the reason and claim values, never the token.
 */
import { constants, createPublicKey, verify } from "node:crypto";
import type { KeyObject } from "node:crypto";

interface AlgorithmSpec {
  readonly kty: "RSA" | "EC";
  readonly hash: "sha256" | "sha384" | "sha512";
  readonly pss?: boolean;
  /** EC: node's name of the curve, and the JWK's. */
  readonly curve?: { readonly node: string; readonly jwk: string };
}

const ALGORITHMS = {
  RS256: { kty: "RSA", hash: "sha256" },
  RS384: { kty: "RSA", hash: "sha384" },
  RS512: { kty: "RSA", hash: "sha512" },
  PS256: { kty: "RSA", hash: "sha256", pss: true },
  PS384: { kty: "RSA", hash: "sha384", pss: true },
  PS512: { kty: "RSA", hash: "sha512", pss: true },
  ES256: { kty: "EC", hash: "sha256", curve: { node: "prime256v1", jwk: "P-256" } },
  ES384: { kty: "EC", hash: "sha384", curve: { node: "secp384r1", jwk: "P-384" } },
  ES512: { kty: "EC", hash: "sha512", curve: { node: "secp521r1", jwk: "P-521" } },
} as const satisfies Record<string, AlgorithmSpec>;

export type JwtAlgorithm = keyof typeof ALGORITHMS;
export const JWT_ALGORITHMS = Object.keys(ALGORITHMS) as JwtAlgorithm[];

const HASH_BYTES = { sha256: 32, sha384: 48, sha512: 64 } as const;

/** Smallest RSA modulus accepted (RFC 7518 §3.3 requires 2048 bits). */
export const MIN_RSA_BITS = 2048;

export function isJwtAlgorithm(name: string): name is JwtAlgorithm {
  return Object.prototype.hasOwnProperty.call(ALGORITHMS, name);
}

/** A token that is malformed, wrongly signed or whose claims are not accepted; the message is the reason. */
export class JwtError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "JwtError";
  }
}

/** A public key from a JWKS, ready to verify signatures. */
export interface VerificationKey {
  /** The JWK's `kid`; null when it has none. */
  readonly kid: string | null;
  readonly kty: "RSA" | "EC";
  /** The JWK's `alg`, when it names one: the key may sign with that algorithm only. */
  readonly alg: JwtAlgorithm | null;
  readonly key: KeyObject;
}

export interface DecodedJwt {
  readonly header: Readonly<Record<string, unknown>>;
  readonly claims: Readonly<Record<string, unknown>>;
  /** The `alg` header, checked to be one of JWT_ALGORITHMS. */
  readonly alg: JwtAlgorithm;
  /** The `kid` header; null when absent. */
  readonly kid: string | null;
  readonly signingInput: Buffer;
  readonly signature: Buffer;
}

const SEGMENT = /^[A-Za-z0-9_-]*$/;

function jsonObject(segment: string, what: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(segment, "base64url").toString("utf8"));
  } catch {
    throw new JwtError(`malformed token: the ${what} is not base64url-encoded JSON`);
  }
  if (typeof value !== "object" || value === null || Array.isArray(value))
    throw new JwtError(`malformed token: the ${what} is not a JSON object`);
  return value as Record<string, unknown>;
}

/** Splits and decodes a compact JWS; checks its structure and that its algorithm is accepted. */
export function decodeJwt(token: string): DecodedJwt {
  const parts = token.split(".");
  if (parts.length !== 3)
    throw new JwtError(
      `malformed token: expected a JWS in compact form (three base64url parts), got ${parts.length} part(s)`,
    );
  const [headerPart, payloadPart, signaturePart] = parts as [string, string, string];
  if (!SEGMENT.test(headerPart) || !SEGMENT.test(payloadPart) || !SEGMENT.test(signaturePart))
    throw new JwtError("malformed token: a part is not base64url");
  const header = jsonObject(headerPart, "header");
  const claims = jsonObject(payloadPart, "payload");
  const alg = header.alg;
  if (typeof alg !== "string") throw new JwtError("malformed token: the header has no alg");
  if (!isJwtAlgorithm(alg))
    throw new JwtError(
      `algorithm ${JSON.stringify(alg.slice(0, 32))} is not accepted (accepted: ${JWT_ALGORITHMS.join(", ")})`,
    );
  if (header.crit !== undefined)
    throw new JwtError("the token names critical header extensions (crit), none is supported");
  const kid = header.kid;
  if (kid !== undefined && typeof kid !== "string") throw new JwtError("malformed token: kid is not a string");
  const signature = Buffer.from(signaturePart, "base64url");
  if (signature.length === 0) throw new JwtError("the token is not signed");
  return {
    header,
    claims,
    alg,
    kid: kid ?? null,
    signingInput: Buffer.from(`${headerPart}.${payloadPart}`, "ascii"),
    signature,
  };
}

/** Whether `key` may verify a signature made with `alg` (key type, curve or size, and the JWK's own alg). */
export function keyFitsAlgorithm(key: VerificationKey, alg: JwtAlgorithm): boolean {
  const spec: AlgorithmSpec = ALGORITHMS[alg];
  if (key.alg !== null && key.alg !== alg) return false;
  if (key.kty !== spec.kty) return false;
  const details = key.key.asymmetricKeyDetails;
  if (spec.kty === "RSA") return (details?.modulusLength ?? 0) >= MIN_RSA_BITS;
  return details?.namedCurve === spec.curve!.node;
}

/** Verifies the token's signature with `key` (which must fit the algorithm). */
export function verifyJwtSignature(jwt: DecodedJwt, key: VerificationKey): boolean {
  if (!keyFitsAlgorithm(key, jwt.alg)) return false;
  const spec: AlgorithmSpec = ALGORITHMS[jwt.alg];
  try {
    if (spec.kty === "EC")
      return verify(spec.hash, jwt.signingInput, { key: key.key, dsaEncoding: "ieee-p1363" }, jwt.signature);
    if (spec.pss)
      return verify(
        spec.hash,
        jwt.signingInput,
        { key: key.key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: HASH_BYTES[spec.hash] },
        jwt.signature,
      );
    return verify(spec.hash, jwt.signingInput, key.key, jwt.signature);
  } catch {
    return false;
  }
}

/** What a token's claims must satisfy (the -kafkaSASLOAuth* flags). */
export interface JwtClaimRules {
  /** The `iss` every token must carry; absent: not checked. */
  readonly issuer?: string;
  /** At least one of these must be in `aud`; empty: not checked. */
  readonly audience: readonly string[];
  /** The claim naming the principal (Kafka's sasl.oauthbearer.sub.claim.name, default `sub`). */
  readonly principalClaim: string;
  /** Allowance for clocks that differ (Kafka's sasl.oauthbearer.clock.skew.seconds, default 30 s). */
  readonly clockSkewMs: number;
}

export interface AcceptedClaims {
  readonly principal: string;
  /** `exp` in ms since the epoch. */
  readonly expiresAtMs: number;
}

function numericDate(claims: Readonly<Record<string, unknown>>, name: string, required: boolean): number | null {
  const value = claims[name];
  if (value === undefined) {
    if (required) throw new JwtError(`the token has no ${name} claim`);
    return null;
  }
  if (typeof value !== "number" || !Number.isFinite(value))
    throw new JwtError(`the ${name} claim is not a number of seconds (NumericDate)`);
  return value * 1000;
}

const iso = (ms: number): string => {
  const d = new Date(ms);
  return Number.isNaN(d.getTime()) ? String(ms) : d.toISOString();
};

/** A claim value for a message: strings quoted and cut short (it comes from an untrusted token). */
const shown = (value: unknown): string =>
  JSON.stringify(typeof value === "string" ? value.slice(0, 128) : value) ?? "null";

/** Checks the claims of a token whose signature verified; returns its principal and expiry. */
export function checkJwtClaims(
  claims: Readonly<Record<string, unknown>>,
  rules: JwtClaimRules,
  nowMs: number,
): AcceptedClaims {
  const skew = rules.clockSkewMs;
  const exp = numericDate(claims, "exp", true)!;
  const iat = numericDate(claims, "iat", true)!;
  const nbf = numericDate(claims, "nbf", false);
  if (nowMs - skew >= exp) throw new JwtError(`the token expired at ${iso(exp)} (now ${iso(nowMs)})`);
  if (nbf !== null && nowMs + skew < nbf)
    throw new JwtError(`the token is not valid before ${iso(nbf)} (now ${iso(nowMs)})`);
  if (iat > nowMs + skew) throw new JwtError(`the token is issued in the future, at ${iso(iat)} (now ${iso(nowMs)})`);
  if (rules.issuer !== undefined && claims.iss !== rules.issuer)
    throw new JwtError(
      claims.iss === undefined
        ? `the token has no iss claim (expected ${shown(rules.issuer)})`
        : `the token's issuer ${shown(claims.iss)} is not ${shown(rules.issuer)}`,
    );
  if (rules.audience.length > 0) {
    const aud = claims.aud;
    const audiences = typeof aud === "string" ? [aud] : Array.isArray(aud) ? aud : [];
    if (!audiences.some((a) => typeof a === "string" && rules.audience.includes(a)))
      throw new JwtError(
        aud === undefined
          ? `the token has no aud claim (expected one of ${rules.audience.map(shown).join(", ")})`
          : `the token's audience ${shown(Array.isArray(aud) ? aud.slice(0, 8) : aud)} includes none of ${rules.audience.map(shown).join(", ")}`,
      );
  }
  const principal = claims[rules.principalClaim];
  if (typeof principal !== "string" || principal.trim() === "")
    throw new JwtError(
      principal === undefined
        ? `the token has no ${rules.principalClaim} claim (the principal)`
        : `the ${rules.principalClaim} claim (the principal) is not a non-empty string`,
    );
  return { principal, expiresAtMs: exp };
}

/** A JWK (RFC 7517) imported for verification; throws JwtError saying why a key cannot be used. */
export function importJwk(jwk: unknown): VerificationKey {
  if (typeof jwk !== "object" || jwk === null || Array.isArray(jwk)) throw new JwtError("not a JSON object");
  const k = jwk as Record<string, unknown>;
  const kid = k.kid === undefined ? null : typeof k.kid === "string" ? k.kid : undefined;
  if (kid === undefined) throw new JwtError("kid is not a string");
  const kty = k.kty;
  if (kty !== "RSA" && kty !== "EC") throw new JwtError(`key type ${shown(kty)} is not supported (RSA or EC)`);
  if (k.d !== undefined) throw new JwtError("it holds a private key; publish only public keys");
  if (k.use !== undefined && k.use !== "sig") throw new JwtError(`its use is ${shown(k.use)}, not "sig"`);
  if (k.key_ops !== undefined && !(Array.isArray(k.key_ops) && k.key_ops.includes("verify")))
    throw new JwtError('its key_ops do not include "verify"');
  let alg: JwtAlgorithm | null = null;
  if (k.alg !== undefined) {
    if (typeof k.alg !== "string" || !isJwtAlgorithm(k.alg))
      throw new JwtError(`algorithm ${shown(k.alg)} is not accepted (accepted: ${JWT_ALGORITHMS.join(", ")})`);
    if (ALGORITHMS[k.alg].kty !== kty) throw new JwtError(`algorithm ${k.alg} does not fit key type ${kty}`);
    alg = k.alg;
  }
  let key: KeyObject;
  try {
    key = createPublicKey({ key: k, format: "jwk" });
  } catch (err) {
    throw new JwtError(`not a valid ${kty} public key (${(err as Error).message})`);
  }
  const details = key.asymmetricKeyDetails;
  if (kty === "RSA" && (details?.modulusLength ?? 0) < MIN_RSA_BITS)
    throw new JwtError(`RSA key of ${details?.modulusLength ?? 0} bits; at least ${MIN_RSA_BITS} are required`);
  if (kty === "EC" && !Object.values(ALGORITHMS).some((a: AlgorithmSpec) => a.curve?.node === details?.namedCurve))
    throw new JwtError(`curve ${shown(k.crv)} is not supported (P-256, P-384, P-521)`);
  const curve = (ALGORITHMS[alg ?? "RS256"] as AlgorithmSpec).curve;
  if (alg !== null && curve !== undefined && curve.node !== details?.namedCurve)
    throw new JwtError(`algorithm ${alg} needs curve ${curve.jwk}, not ${shown(k.crv)}`);
  return { kid, kty, alg, key };
}
