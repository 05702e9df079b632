/**
 * The Kafka listener's security, loaded once at start-up from the agent configuration: TLS options
 * (from the PEM files) and SASL settings (mechanisms + users file). Every problem stops start-up with a
 * SecurityConfigError naming the flag and, for the users file, the line.
 */
import { readFileSync } from "node:fs";
import type { SaslSettings } from "./authenticator.js";
import type { SaslMechanism } from "./mechanisms.js";
import { SecurityConfigError, loadTls } from "./tls.js";
import type { LoadedTls, TlsFiles } from "./tls.js";
import { UsersFileError, parseUsersFile } from "./users.js";

export interface ListenerSecurityConfig {
  readonly kafkaTLS?: TlsFiles;
  readonly kafkaSASL?: { readonly mechanisms: readonly SaslMechanism[]; readonly usersFile: string };
}

export interface ListenerSecurity {
  readonly tls: LoadedTls | null;
  readonly sasl: SaslSettings | null;
}

export function loadSaslSettings(mechanisms: readonly SaslMechanism[], usersFile: string): SaslSettings {
  let text: string;
  try {
    text = readFileSync(usersFile, "utf8");
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const reason =
      code === "ENOENT"
        ? "no such file"
        : code === "EACCES"
          ? "permission denied"
          : code === "EISDIR"
            ? "is a directory"
            : (err as Error).message;
    throw new SecurityConfigError(`cannot read -kafkaSASLUsersFile ${usersFile}: ${reason}`);
  }
  try {
    return { mechanisms, users: parseUsersFile(text, { mechanisms }) };
  } catch (err) {
    if (err instanceof UsersFileError)
      throw new SecurityConfigError(`-kafkaSASLUsersFile ${usersFile}: ${err.message}`);
    throw err;
  }
}

export function loadListenerSecurity(config: ListenerSecurityConfig): ListenerSecurity {
  return {
    tls: config.kafkaTLS ? loadTls(config.kafkaTLS) : null,
    sasl: config.kafkaSASL ? loadSaslSettings(config.kafkaSASL.mechanisms, config.kafkaSASL.usersFile) : null,
  };
}

/** The security protocol clients must use, as Kafka names it (for logs and docs). */
export function securityProtocol(security: ListenerSecurity): "PLAINTEXT" | "SSL" | "SASL_PLAINTEXT" | "SASL_SSL" {
  if (security.tls) return security.sasl ? "SASL_SSL" : "SSL";
  return security.sasl ? "SASL_PLAINTEXT" : "PLAINTEXT";
}
