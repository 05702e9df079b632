/**
 * Where PLAIN and SCRAM logins find their credentials: the users file (-kafkaSASLUsersFile), then the
 * SCRAM credentials created with AlterUserScramCredentials and kept in the metadata log. The file wins
 * per user: a user it names has the file's credentials only (the log's are not consulted, and the admin
 * API refuses to change that user), so that what a platform team put in a Secret cannot be overridden
 * through the Kafka API. A user the file does not name has the log's credentials.
 */
import type { ScramMechanism } from "./mechanisms.js";
import type { ScramCredential } from "./scram.js";
import { passwordMatchesAny } from "./users.js";
import type { SaslUsers } from "./users.js";

/** SCRAM credentials kept outside the users file (the metadata log's). */
export interface ScramCredentialSource {
  credential(user: string, mechanism: ScramMechanism): ScramCredential | undefined;
}

/** The users file, then the log's credentials, for one login. */
export class UserCredentials {
  constructor(
    private readonly file: SaslUsers,
    private readonly log: ScramCredentialSource | null,
  ) {}

  scramCredential(user: string, mechanism: ScramMechanism): ScramCredential | undefined {
    if (this.file.has(user) || !this.log) return this.file.scramCredential(user, mechanism);
    return this.log.credential(user, mechanism);
  }

  /** Checks a PLAIN password; false for unknown users, after the same work as for a known one. */
  async passwordMatches(user: string, password: string): Promise<boolean> {
    if (this.file.has(user) || !this.log) return this.file.passwordMatches(user, password);
    const log = this.log;
    return passwordMatchesAny((mechanism) => log.credential(user, mechanism), password);
  }
}
