/**
 * SCRAM credentials created with AlterUserScramCredentials (`kafka-configs --entity-type users
 * --add-config 'SCRAM-SHA-512=[password=…]'`), part of the fold (state.ts) so that every agent accepts
 * the same logins once it has read the entry. Only what a SCRAM server needs is kept: the salt, the
 * iteration count, StoredKey and ServerKey (RFC 5802). The salted password the client sends is turned
 * into the two keys by the handler and never reaches the log; neither password nor key is ever logged.
 *
 * The users file (-kafkaSASLUsersFile) takes precedence: a user it names logs in with the file's
 * credentials only, and the admin API refuses to change such a user (security/credentials.ts,
 * docs/security.md).
 *
 * In the log and in snapshots a credential is a record of base64 strings; in memory, Buffers.
 */

export type ScramMechanismName = "SCRAM-SHA-256" | "SCRAM-SHA-512";

/** Kafka's ScramMechanism codes on the wire (0 is UNKNOWN). */
export const SCRAM_MECHANISM_CODES: Readonly<Record<ScramMechanismName, number>> = {
  "SCRAM-SHA-256": 1,
  "SCRAM-SHA-512": 2,
};

/** The mechanism a wire code names, or null for UNKNOWN and codes Kafka does not define. */
export function scramMechanismName(code: number): ScramMechanismName | null {
  if (code === 1) return "SCRAM-SHA-256";
  if (code === 2) return "SCRAM-SHA-512";
  return null;
}

/** Length of StoredKey and ServerKey (the hash's output) per mechanism. */
export const SCRAM_KEY_BYTES: Readonly<Record<ScramMechanismName, number>> = {
  "SCRAM-SHA-256": 32,
  "SCRAM-SHA-512": 64,
};

/** Iteration counts Kafka accepts from AlterUserScramCredentials (ScramMechanism's bounds). */
export const SCRAM_ADMIN_MIN_ITERATIONS = 4096;
export const SCRAM_ADMIN_MAX_ITERATIONS = 16384;

/** Longest user name and salt accepted (Kafka has no bound; these keep one command small). */
export const MAX_SCRAM_USER_LENGTH = 1024;
export const MAX_SCRAM_SALT_BYTES = 1024;

/** One credential as a command and a snapshot carry it. */
export interface ScramCredentialRecord {
  readonly mechanism: ScramMechanismName;
  readonly iterations: number;
  /** base64 */
  readonly salt: string;
  /** base64 */
  readonly storedKey: string;
  /** base64 */
  readonly serverKey: string;
}

/** One credential in memory: what the SCRAM server exchange reads (security/scram.ts). */
export interface StoredScramCredential {
  readonly salt: Buffer;
  readonly iterations: number;
  readonly storedKey: Buffer;
  readonly serverKey: Buffer;
}

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

const isMechanism = (v: unknown): v is ScramMechanismName => v === "SCRAM-SHA-256" || v === "SCRAM-SHA-512";

/** Why a user name cannot have credentials, or null. The message does not repeat the name. */
export function scramUserProblem(user: unknown): string | null {
  if (typeof user !== "string") return "the user name must be a string";
  if (user === "") return "Username must not be empty";
  if (user.length > MAX_SCRAM_USER_LENGTH) return `the user name is longer than ${MAX_SCRAM_USER_LENGTH} characters`;
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(user)) return "the user name contains control characters";
  return null;
}

/** Why an iteration count is not accepted (Kafka's messages), or null. */
export function scramIterationsProblem(iterations: number): string | null {
  if (!Number.isInteger(iterations) || iterations < SCRAM_ADMIN_MIN_ITERATIONS) return "Too few iterations";
  if (iterations > SCRAM_ADMIN_MAX_ITERATIONS) return "Too many iterations";
  return null;
}

/** Why a credential record is malformed, or null. */
export function scramRecordProblem(raw: unknown): string | null {
  const r = (typeof raw === "object" && raw !== null ? raw : {}) as Record<string, unknown>;
  if (!isMechanism(r.mechanism)) return "mechanism must be SCRAM-SHA-256 or SCRAM-SHA-512";
  if (typeof r.iterations !== "number") return "iterations must be a number";
  const iterations = scramIterationsProblem(r.iterations);
  if (iterations) return iterations;
  for (const key of ["salt", "storedKey", "serverKey"] as const) {
    const value = r[key];
    if (typeof value !== "string" || value === "" || !BASE64.test(value)) return `${key} must be non-empty base64`;
  }
  const saltBytes = Buffer.from(r.salt as string, "base64").length;
  if (saltBytes > MAX_SCRAM_SALT_BYTES) return `salt is longer than ${MAX_SCRAM_SALT_BYTES} bytes`;
  const keyBytes = SCRAM_KEY_BYTES[r.mechanism];
  for (const key of ["storedKey", "serverKey"] as const) {
    if (Buffer.from(r[key] as string, "base64").length !== keyBytes)
      return `${key} must be ${keyBytes} bytes for ${r.mechanism}`;
  }
  return null;
}

function toStored(r: ScramCredentialRecord): StoredScramCredential {
  return {
    salt: Buffer.from(r.salt, "base64"),
    iterations: r.iterations,
    storedKey: Buffer.from(r.storedKey, "base64"),
    serverKey: Buffer.from(r.serverKey, "base64"),
  };
}

function toRecord(mechanism: ScramMechanismName, c: StoredScramCredential): ScramCredentialRecord {
  return {
    mechanism,
    iterations: c.iterations,
    salt: c.salt.toString("base64"),
    storedKey: c.storedKey.toString("base64"),
    serverKey: c.serverKey.toString("base64"),
  };
}

/** A user and its credentials, as snapshots keep them. */
export type ScramUserRow = [user: string, credentials: ScramCredentialRecord[]];

/** The credentials every agent folded: user → mechanism → credential. */
export class ScramCredentialStore {
  private readonly byUser = new Map<string, Map<ScramMechanismName, StoredScramCredential>>();
  private count = 0;

  /** Number of credentials (a user with both mechanisms counts twice). */
  get size(): number {
    return this.count;
  }

  credential(user: string, mechanism: ScramMechanismName): StoredScramCredential | undefined {
    return this.byUser.get(user)?.get(mechanism);
  }

  /** The mechanisms a user has credentials for, with their iteration counts (sorted by mechanism). */
  describe(user: string): Array<{ mechanism: ScramMechanismName; iterations: number }> {
    const found = this.byUser.get(user);
    if (!found) return [];
    return [...found]
      .map(([mechanism, c]) => ({ mechanism, iterations: c.iterations }))
      .sort((a, b) => SCRAM_MECHANISM_CODES[a.mechanism] - SCRAM_MECHANISM_CODES[b.mechanism]);
  }

  /** Users with at least one credential, sorted. */
  users(): string[] {
    return [...this.byUser.keys()].sort();
  }

  /** Adds or replaces a credential. */
  upsert(user: string, record: ScramCredentialRecord): void {
    let found = this.byUser.get(user);
    if (!found) this.byUser.set(user, (found = new Map()));
    if (!found.has(record.mechanism)) this.count++;
    found.set(record.mechanism, toStored(record));
  }

  /** Removes a credential; false when there was none. */
  delete(user: string, mechanism: ScramMechanismName): boolean {
    const found = this.byUser.get(user);
    if (!found?.delete(mechanism)) return false;
    this.count--;
    if (found.size === 0) this.byUser.delete(user);
    return true;
  }

  toRows(): ScramUserRow[] {
    return this.users().map((user) => [
      user,
      [...this.byUser.get(user)!].map(([mechanism, c]) => toRecord(mechanism, c)),
    ]);
  }

  /** Restores a snapshot's rows (validated: a malformed row fails the snapshot, naming its position). */
  restore(rows: unknown): void {
    if (!Array.isArray(rows)) throw new Error("snapshot: scram is not an array");
    rows.forEach((row: unknown, i) => {
      if (!Array.isArray(row) || row.length !== 2 || !Array.isArray(row[1]))
        throw new Error(`snapshot: scram[${i}] is not [user, credentials]`);
      const [user, records] = row as [unknown, unknown[]];
      const userProblem = scramUserProblem(user);
      if (userProblem) throw new Error(`snapshot: scram[${i}]: ${userProblem}`);
      for (const [j, r] of records.entries()) {
        const problem = scramRecordProblem(r);
        if (problem) throw new Error(`snapshot: scram[${i}][${j}]: ${problem}`);
        this.upsert(user as string, r as ScramCredentialRecord);
      }
    });
  }
}
