/**
 * SCRAM-SHA-256 and SCRAM-SHA-512, server side (RFC 5802, RFC 7677), as Kafka speaks them: no
 * channel binding (gs2 flag "n" or "y"), an optional authzid that must equal the user name, no
 * SASLprep (user names and passwords are used as UTF-8 bytes, like Kafka's ScramFormatter), and no
 * delegation tokens (`tokenauth=true` is refused).
 *
 * Credentials are the RFC's stored form: salt, iterations, StoredKey = H(ClientKey) and
 * ServerKey = HMAC(SaltedPassword, "Server Key"); the salted password itself is never kept.
 * An unknown user is given a made-up salt and fails at the proof, like a wrong password, so the
 * exchange does not tell which users exist. Salted passwords (PBKDF2, up to SCRAM_MAX_ITERATIONS) are
 * derived on libuv's thread pool, never on the event loop, so a login or a users-file load does not
 * hold up other connections.
 */
import { createHash, createHmac, pbkdf2, randomBytes, timingSafeEqual } from "node:crypto";
import { promisify } from "node:util";
import { isBase64Text } from "../../../common/base64.js";
import { SaslAuthenticationError } from "./mechanisms.js";
import type { SaslExchange, SaslStep, ScramMechanism } from "./mechanisms.js";

/** Kafka's lowest accepted iteration count for both SCRAM mechanisms (the Java client refuses fewer). */
export const SCRAM_MIN_ITERATIONS = 4096;
/** Highest iteration count accepted in a users file (each PLAIN login derives a key with it). */
export const SCRAM_MAX_ITERATIONS = 1_000_000;
export const SCRAM_DEFAULT_ITERATIONS = 4096;

const HASHES: Record<ScramMechanism, { readonly hash: "sha256" | "sha512"; readonly bytes: number }> = {
  "SCRAM-SHA-256": { hash: "sha256", bytes: 32 },
  "SCRAM-SHA-512": { hash: "sha512", bytes: 64 },
};

export interface ScramCredential {
  readonly salt: Buffer;
  readonly iterations: number;
  readonly storedKey: Buffer;
  readonly serverKey: Buffer;
}

/** Key length in bytes of a mechanism's hash (StoredKey and ServerKey have this length). */
export function scramKeyLength(mechanism: ScramMechanism): number {
  return HASHES[mechanism].bytes;
}

function hmac(mechanism: ScramMechanism, key: Buffer, data: string | Buffer): Buffer {
  return createHmac(HASHES[mechanism].hash, key).update(data).digest();
}

function hash(mechanism: ScramMechanism, data: Buffer): Buffer {
  return createHash(HASHES[mechanism].hash).update(data).digest();
}

const pbkdf2Async = promisify(pbkdf2);

function saltedPassword(
  mechanism: ScramMechanism,
  password: string,
  salt: Buffer,
  iterations: number,
): Promise<Buffer> {
  const { hash: h, bytes } = HASHES[mechanism];
  return pbkdf2Async(Buffer.from(password, "utf8"), salt, iterations, bytes, h);
}

/** Derives the stored credential for a password (a random 32-byte salt unless one is given). */
export async function deriveScramCredential(
  mechanism: ScramMechanism,
  password: string,
  iterations: number = SCRAM_DEFAULT_ITERATIONS,
  salt: Buffer = randomBytes(32),
): Promise<ScramCredential> {
  const salted = await saltedPassword(mechanism, password, salt, iterations);
  const credential = scramCredentialFromSaltedPassword(mechanism, salt, iterations, salted);
  salted.fill(0);
  return credential;
}

/**
 * The stored credential for a SaltedPassword (RFC 5802: StoredKey = H(HMAC(SaltedPassword, "Client Key")),
 * ServerKey = HMAC(SaltedPassword, "Server Key")), as AlterUserScramCredentials sends it. The caller
 * zeroes `salted` once done with it.
 */
export function scramCredentialFromSaltedPassword(
  mechanism: ScramMechanism,
  salt: Buffer,
  iterations: number,
  salted: Buffer,
): ScramCredential {
  const clientKey = hmac(mechanism, salted, "Client Key");
  const credential = {
    salt,
    iterations,
    storedKey: hash(mechanism, clientKey),
    serverKey: hmac(mechanism, salted, "Server Key"),
  };
  clientKey.fill(0);
  return credential;
}

/** Whether `password` matches a stored credential (used by PLAIN; constant-time comparison). */
export async function scramPasswordMatches(
  mechanism: ScramMechanism,
  credential: ScramCredential,
  password: string,
): Promise<boolean> {
  const candidate = await deriveScramCredential(mechanism, password, credential.iterations, credential.salt);
  return (
    candidate.storedKey.length === credential.storedKey.length &&
    timingSafeEqual(candidate.storedKey, credential.storedKey)
  );
}

/** Parses "k=v,k=v" attributes, in order; a value may contain "=" (base64). */
function attributes(message: string, what: string): Array<[string, string]> {
  return message.split(",").map((part) => {
    const eq = part.indexOf("=");
    if (eq < 1) throw new SaslAuthenticationError(`Invalid SCRAM ${what}: malformed attribute`);
    return [part.slice(0, eq), part.slice(eq + 1)];
  });
}

/** RFC 5802 saslname: "=2C" is ",", "=3D" is "="; any other "=" is malformed. */
function decodeSaslName(text: string): string {
  if (/=(?!2C|3D)/.test(text))
    throw new SaslAuthenticationError("Invalid SCRAM client first message: malformed user name");
  return text.replace(/=2C/g, ",").replace(/=3D/g, "=");
}

const PRINTABLE_NONCE = /^[\x21-\x2B\x2D-\x7E]+$/;

function b64(text: string, what: string): Buffer {
  if (!isBase64Text(text))
    throw new SaslAuthenticationError(`Invalid SCRAM client final message: ${what} is not base64`);
  return Buffer.from(text, "base64");
}

export interface ScramServerOptions {
  /** Looks a user's credential up; undefined when the user (or its credential for this mechanism) is unknown. */
  readonly lookup: (user: string) => ScramCredential | undefined;
  /** Secret that makes made-up salts for unknown users stable per user (random per process by default). */
  readonly unknownUserSecret?: Buffer;
  /** The server's nonce part (tests); random by default. */
  readonly serverNonce?: () => string;
}

const PROCESS_SECRET = randomBytes(32);

/** The server side of one SCRAM exchange: client-first → server-first, client-final → server-final. */
export class ScramServerExchange implements SaslExchange {
  private state: "first" | "final" | "done" = "first";
  private user = "";
  private credential: ScramCredential | null = null;
  private known = false;
  private gs2Header = "";
  private clientFirstBare = "";
  private serverFirst = "";
  private nonce = "";

  constructor(
    readonly mechanism: ScramMechanism,
    private readonly options: ScramServerOptions,
  ) {}

  step(clientMessage: Buffer): SaslStep {
    const text = clientMessage.toString("utf8");
    switch (this.state) {
      case "first":
        return this.first(text);
      case "final":
        return this.final(text);
      default:
        throw new SaslAuthenticationError("SCRAM exchange already complete");
    }
  }

  private first(message: string): SaslStep {
    // gs2-header = cbind-flag "," [authzid] ","
    const firstComma = message.indexOf(",");
    const secondComma = firstComma < 0 ? -1 : message.indexOf(",", firstComma + 1);
    if (secondComma < 0) throw new SaslAuthenticationError("Invalid SCRAM client first message: no GS2 header");
    const flag = message.slice(0, firstComma);
    const authzidPart = message.slice(firstComma + 1, secondComma);
    if (flag.startsWith("p=")) throw new SaslAuthenticationError("SCRAM channel binding is not supported");
    if (flag !== "n" && flag !== "y")
      throw new SaslAuthenticationError("Invalid SCRAM client first message: bad GS2 flag");
    if (authzidPart !== "" && !authzidPart.startsWith("a="))
      throw new SaslAuthenticationError("Invalid SCRAM client first message: bad authorization id");
    this.gs2Header = message.slice(0, secondComma + 1);
    this.clientFirstBare = message.slice(secondComma + 1);
    const attrs = attributes(this.clientFirstBare, "client first message");
    if (attrs[0]?.[0] === "m") throw new SaslAuthenticationError("SCRAM mandatory extensions are not supported");
    if (attrs[0]?.[0] !== "n" || attrs[1]?.[0] !== "r")
      throw new SaslAuthenticationError("Invalid SCRAM client first message: expected n=<user>,r=<nonce>");
    const user = decodeSaslName(attrs[0][1]);
    const clientNonce = attrs[1][1];
    if (user === "") throw new SaslAuthenticationError("Invalid SCRAM client first message: empty user name");
    if (!PRINTABLE_NONCE.test(clientNonce))
      throw new SaslAuthenticationError("Invalid SCRAM client first message: bad nonce");
    if (authzidPart !== "" && decodeSaslName(authzidPart.slice(2)) !== user) {
      throw new SaslAuthenticationError("Authentication failed: the authorization id must be the user name");
    }
    // Extensions (Kafka's SCRAM extensions): only delegation tokens carry meaning, and they are not offered.
    for (const [key, value] of attrs.slice(2)) {
      if (key === "tokenauth" && value.toLowerCase() === "true")
        throw new SaslAuthenticationError("Delegation tokens are not supported");
    }

    this.user = user;
    const credential = this.options.lookup(user);
    this.known = credential !== undefined;
    this.credential = credential ?? this.madeUpCredential(user);
    this.nonce = clientNonce + (this.options.serverNonce?.() ?? randomBytes(24).toString("base64"));
    this.serverFirst = `r=${this.nonce},s=${this.credential.salt.toString("base64")},i=${this.credential.iterations}`;
    this.state = "final";
    return { response: Buffer.from(this.serverFirst, "utf8"), principal: null };
  }

  private final(message: string): SaslStep {
    this.state = "done";
    const proofAt = message.lastIndexOf(",p=");
    if (proofAt < 0) throw new SaslAuthenticationError("Invalid SCRAM client final message: no proof");
    const withoutProof = message.slice(0, proofAt);
    const attrs = attributes(withoutProof, "client final message");
    if (attrs[0]?.[0] !== "c" || attrs[1]?.[0] !== "r")
      throw new SaslAuthenticationError("Invalid SCRAM client final message: expected c=<binding>,r=<nonce>");
    const binding = b64(attrs[0][1], "channel binding");
    if (!binding.equals(Buffer.from(this.gs2Header, "utf8")))
      throw new SaslAuthenticationError("Invalid SCRAM client final message: channel binding does not match");
    // endsWith, as Kafka's ScramSaslServer checks: librdkafka (2.0 at least) sends its own nonce again in
    // front of the combined one. The proof covers the message as sent, so nothing is lost.
    if (!attrs[1][1].endsWith(this.nonce))
      throw new SaslAuthenticationError("Invalid SCRAM client final message: nonce does not match");
    const proof = b64(message.slice(proofAt + 3), "proof");
    const credential = this.credential!;
    const authMessage = `${this.clientFirstBare},${this.serverFirst},${withoutProof}`;
    const clientSignature = hmac(this.mechanism, credential.storedKey, authMessage);
    const ok =
      this.known &&
      proof.length === clientSignature.length &&
      timingSafeEqual(hash(this.mechanism, xor(proof, clientSignature)), credential.storedKey);
    if (!ok)
      throw new SaslAuthenticationError(
        `Authentication failed during authentication due to invalid credentials with SASL mechanism ${this.mechanism}`,
      );
    const serverSignature = hmac(this.mechanism, credential.serverKey, authMessage);
    return { response: Buffer.from(`v=${serverSignature.toString("base64")}`, "utf8"), principal: this.user };
  }

  /** A credential for a user that does not exist: a stable per-user salt, keys nobody can match. */
  private madeUpCredential(user: string): ScramCredential {
    const secret = this.options.unknownUserSecret ?? PROCESS_SECRET;
    const salt = hmac("SCRAM-SHA-256", secret, `salt:${user}`);
    const length = scramKeyLength(this.mechanism);
    return {
      salt,
      iterations: SCRAM_DEFAULT_ITERATIONS,
      storedKey: randomBytes(length),
      serverKey: randomBytes(length),
    };
  }
}

function xor(a: Buffer, b: Buffer): Buffer {
  const out = Buffer.alloc(a.length);
  for (let i = 0; i < a.length; i++) out[i] = a[i]! ^ b[i]!;
  return out;
}
