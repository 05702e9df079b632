/**
 * The SASL users file (`-kafkaSASLUsersFile`): one user per line.
 *
 *   # comment lines and blank lines are ignored
 *   alice:alice-secret                       user:password (the password is everything after the first ':')
 *   bob:SCRAM-SHA-512:salt=<base64>,stored_key=<base64>,server_key=<base64>,iterations=8192
 *
 * A password line gives the user every enabled mechanism; SCRAM credentials are derived from it at
 * load time (random salt, 4096 iterations, on the thread pool once the whole file has parsed) and the
 * password itself is not kept. A pre-hashed line
 * (Kafka's stored SCRAM form, as `kafka-configs --describe` prints it) gives that SCRAM mechanism;
 * PLAIN also works for such a user (the password is checked against the stored key).
 * Error messages name the line but never repeat its content (it may hold a password).
 */
import { randomBytes } from "node:crypto";
import { isScramMechanism } from "./mechanisms.js";
import type { SaslMechanism, ScramMechanism } from "./mechanisms.js";
import {
  SCRAM_DEFAULT_ITERATIONS,
  SCRAM_MAX_ITERATIONS,
  SCRAM_MIN_ITERATIONS,
  deriveScramCredential,
  scramKeyLength,
  scramPasswordMatches,
} from "./scram.js";
import type { ScramCredential } from "./scram.js";

export class UsersFileError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "UsersFileError";
  }
}

export interface SaslUser {
  readonly name: string;
  /** Stored SCRAM credentials by mechanism. */
  readonly scram: Readonly<Partial<Record<ScramMechanism, ScramCredential>>>;
}

/** The users a listener accepts; holds no password, only SCRAM stored keys. */
export class SaslUsers {
  private readonly byName: ReadonlyMap<string, SaslUser>;

  constructor(users: readonly SaslUser[]) {
    this.byName = new Map(users.map((u) => [u.name, u]));
  }

  get size(): number {
    return this.byName.size;
  }

  scramCredential(user: string, mechanism: ScramMechanism): ScramCredential | undefined {
    return this.byName.get(user)?.scram[mechanism];
  }

  /** Whether the file names the user (it then decides the user's credentials alone: credentials.ts). */
  has(user: string): boolean {
    return this.byName.has(user);
  }

  /** The users the file names, sorted. */
  names(): string[] {
    return [...this.byName.keys()].sort();
  }

  /** The SCRAM mechanisms a user has credentials for, with their iteration counts. */
  describe(user: string): Array<{ mechanism: ScramMechanism; iterations: number }> {
    const found = this.byName.get(user);
    if (!found) return [];
    return (["SCRAM-SHA-256", "SCRAM-SHA-512"] as const).flatMap((mechanism) => {
      const credential = found.scram[mechanism];
      return credential ? [{ mechanism, iterations: credential.iterations }] : [];
    });
  }

  /** Checks a PLAIN password against the user's stored SCRAM key; false for unknown users. */
  async passwordMatches(user: string, password: string): Promise<boolean> {
    const found = this.byName.get(user);
    return passwordMatchesAny((mechanism) => found?.scram[mechanism], password);
  }
}

/**
 * Checks a PLAIN password against the first stored SCRAM credential `credential` gives (SHA-256 first).
 * False when there is none, after the same work as for a known user, so that the answer's timing does
 * not tell which users exist.
 */
export async function passwordMatchesAny(
  credential: (mechanism: ScramMechanism) => ScramCredential | undefined,
  password: string,
): Promise<boolean> {
  for (const mechanism of ["SCRAM-SHA-256", "SCRAM-SHA-512"] as const) {
    const found = credential(mechanism);
    if (found) return scramPasswordMatches(mechanism, found, password);
  }
  await scramPasswordMatches("SCRAM-SHA-256", await unknownUserCredential(), password);
  return false;
}

let dummy: Promise<ScramCredential> | null = null;
/** A credential no password matches, to spend on unknown users the work a known one costs. */
function unknownUserCredential(): Promise<ScramCredential> {
  dummy ??= deriveScramCredential("SCRAM-SHA-256", randomBytes(16).toString("base64"));
  return dummy;
}

const PREHASHED = /^(SCRAM-SHA-256|SCRAM-SHA-512):(.*)$/;
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

function parsePrehashed(mechanism: ScramMechanism, text: string, where: string): ScramCredential {
  const fields = new Map<string, string>();
  for (const part of text.split(",")) {
    const eq = part.indexOf("=");
    const key = eq > 0 ? part.slice(0, eq).trim() : "";
    if (!["salt", "stored_key", "server_key", "iterations"].includes(key)) {
      throw new UsersFileError(
        `${where}: a pre-hashed ${mechanism} credential is salt=<base64>,stored_key=<base64>,server_key=<base64>,iterations=<n>`,
      );
    }
    if (fields.has(key)) throw new UsersFileError(`${where}: ${key} given twice`);
    fields.set(key, part.slice(eq + 1).trim());
  }
  for (const key of ["salt", "stored_key", "server_key", "iterations"]) {
    if (!fields.has(key)) throw new UsersFileError(`${where}: pre-hashed ${mechanism} credential lacks ${key}=`);
  }
  const bytes = (key: string, length?: number): Buffer => {
    const value = fields.get(key)!;
    if (!BASE64.test(value)) throw new UsersFileError(`${where}: ${key} is not base64`);
    const decoded = Buffer.from(value, "base64");
    if (length !== undefined && decoded.length !== length) {
      throw new UsersFileError(`${where}: ${key} must be ${length} bytes for ${mechanism} (got ${decoded.length})`);
    }
    return decoded;
  };
  const iterationsText = fields.get("iterations")!;
  const iterations = /^\d+$/.test(iterationsText) ? Number(iterationsText) : NaN;
  if (!(iterations >= SCRAM_MIN_ITERATIONS && iterations <= SCRAM_MAX_ITERATIONS)) {
    throw new UsersFileError(
      `${where}: iterations must be an integer from ${SCRAM_MIN_ITERATIONS} to ${SCRAM_MAX_ITERATIONS}`,
    );
  }
  const keyLength = scramKeyLength(mechanism);
  return {
    salt: bytes("salt"),
    iterations,
    storedKey: bytes("stored_key", keyLength),
    serverKey: bytes("server_key", keyLength),
  };
}

export interface ParseUsersOptions {
  /** Mechanisms the listener offers: decides which credentials are derived from passwords. */
  readonly mechanisms: readonly SaslMechanism[];
  /** Iterations for credentials derived from passwords (default 4096). */
  readonly iterations?: number;
}

/**
 * Parses a users file's text, then derives the password lines' credentials. Rejects with
 * UsersFileError naming the line (never its content) before deriving anything.
 */
export async function parseUsersFile(text: string, options: ParseUsersOptions): Promise<SaslUsers> {
  const derive: ScramMechanism[] = options.mechanisms.filter(isScramMechanism);
  // PLAIN alone still needs one stored key to check passwords against.
  if (derive.length === 0) derive.push("SCRAM-SHA-256");
  const iterations = options.iterations ?? SCRAM_DEFAULT_ITERATIONS;
  const users = new Map<
    string,
    {
      scram: Partial<Record<ScramMechanism, ScramCredential>>;
      password: string | null;
      passwordLine: number | null;
      lines: number[];
    }
  >();
  const lines = text.split("\n");
  lines.forEach((raw, index) => {
    const lineNo = index + 1;
    const where = `line ${lineNo}`;
    const line = raw.endsWith("\r") ? raw.slice(0, -1) : raw;
    const trimmed = line.trim();
    if (trimmed === "" || trimmed.startsWith("#")) return;
    const colon = line.indexOf(":");
    if (colon < 0) throw new UsersFileError(`${where}: expected <user>:<password> (no ':' found)`);
    const name = line.slice(0, colon);
    const secret = line.slice(colon + 1);
    if (name.trim() === "") throw new UsersFileError(`${where}: empty user name`);
    if (name !== name.trim()) throw new UsersFileError(`${where}: the user name has leading or trailing spaces`);
    // eslint-disable-next-line no-control-regex
    if (/[\x00-\x1f\x7f]/.test(name)) throw new UsersFileError(`${where}: the user name contains control characters`);
    if (secret === "") throw new UsersFileError(`${where}: empty password for user ${JSON.stringify(name)}`);
    let entry = users.get(name);
    if (!entry) users.set(name, (entry = { scram: {}, password: null, passwordLine: null, lines: [] }));
    const prehashed = PREHASHED.exec(secret);
    if (prehashed) {
      const mechanism = prehashed[1] as ScramMechanism;
      if (entry.passwordLine !== null)
        throw new UsersFileError(
          `${where}: user ${JSON.stringify(name)} already has a password on line ${entry.passwordLine}`,
        );
      if (entry.scram[mechanism])
        throw new UsersFileError(
          `${where}: user ${JSON.stringify(name)} has a ${mechanism} credential already (line ${entry.lines.join(", ")})`,
        );
      entry.scram[mechanism] = parsePrehashed(mechanism, prehashed[2]!, where);
    } else {
      if (entry.lines.length > 0)
        throw new UsersFileError(
          `${where}: user ${JSON.stringify(name)} is already defined on line ${entry.lines.join(", ")}`,
        );
      entry.passwordLine = lineNo;
      entry.password = secret;
    }
    entry.lines.push(lineNo);
  });
  if (users.size === 0) throw new UsersFileError("no users (expected one <user>:<password> per line)");
  // One derivation at a time: the thread pool also serves file and DNS work.
  for (const entry of users.values()) {
    if (entry.password === null) continue;
    for (const mechanism of derive)
      entry.scram[mechanism] = await deriveScramCredential(mechanism, entry.password, iterations);
    entry.password = null;
  }
  return new SaslUsers([...users].map(([name, u]) => ({ name, scram: u.scram })));
}

/** Formats a pre-hashed users-file line for a password (what docs/security.md shows how to make). */
export async function prehashedUserLine(
  user: string,
  mechanism: ScramMechanism,
  password: string,
  iterations = SCRAM_DEFAULT_ITERATIONS,
): Promise<string> {
  const c = await deriveScramCredential(mechanism, password, iterations);
  return `${user}:${mechanism}:salt=${c.salt.toString("base64")},stored_key=${c.storedKey.toString("base64")},server_key=${c.serverKey.toString("base64")},iterations=${c.iterations}`;
}
