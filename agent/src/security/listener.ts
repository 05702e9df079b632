/**
 * The Kafka listener's security, loaded once at start-up from the agent configuration: TLS options
 * (from the PEM files) and SASL settings (mechanisms + users file). Every problem stops start-up with a
 * SecurityConfigError naming the flag and, for the users file, the line.
 */
import { readFile } from "node:fs/promises";
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

export async function loadSaslSettings(mechanisms: readonly SaslMechanism[], usersFile: string): Promise<SaslSettings> {
  let text: string;
  try {
    text = await readFile(usersFile, "utf8");
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
    return { mechanisms, users: await parseUsersFile(text, { mechanisms }) };
  } catch (err) {
    if (err instanceof UsersFileError)
      throw new SecurityConfigError(`-kafkaSASLUsersFile ${usersFile}: ${err.message}`);
    throw err;
  }
}

export async function loadListenerSecurity(config: ListenerSecurityConfig): Promise<ListenerSecurity> {
  const tls = config.kafkaTLS ? loadTls(config.kafkaTLS) : null;
  const sasl = config.kafkaSASL
    ? await loadSaslSettings(config.kafkaSASL.mechanisms, config.kafkaSASL.usersFile)
    : null;
  return { tls, sasl };
}

/** The security protocol clients must use, as Kafka names it (for logs and docs). */
export function securityProtocol(security: ListenerSecurity): "PLAINTEXT" | "SSL" | "SASL_PLAINTEXT" | "SASL_SSL" {
  if (security.tls) return security.sasl ? "SASL_SSL" : "SSL";
  return security.sasl ? "SASL_PLAINTEXT" : "PLAINTEXT";
}
