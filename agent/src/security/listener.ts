/**
 * The Kafka listener's security, loaded once at start-up from the agent configuration: TLS options
 * (from the PEM files) and SASL settings (mechanisms, the users file for PLAIN and SCRAM, the JWKS and
 * claim rules for OAUTHBEARER, the re-authentication limit). Every problem stops start-up with a
 * SecurityConfigError naming the flag and, for the users file, the line.
 */
import { readFile } from "node:fs/promises";
import type { Logger } from "../../../common/logger.js";
import type { SaslSettings } from "./authenticator.js";
import { JwksError, JwksSource, jwksUrlForLogs } from "./jwks.js";
import type { JwtClaimRules } from "./jwt.js";
import { isPasswordMechanism } from "./mechanisms.js";
import type { SaslMechanism } from "./mechanisms.js";
import { OAuthBearerValidator } from "./oauthbearer.js";
import { SecurityConfigError, loadTls } from "./tls.js";
import type { LoadedTls, TlsFiles } from "./tls.js";
import { SaslUsers, UsersFileError, parseUsersFile } from "./users.js";

/** OAUTHBEARER settings (the -kafkaSASLOAuth* flags). */
export interface OAuthBearerConfig extends JwtClaimRules {
  /** file:///path, http://… or https://… */
  readonly jwksUrl: string;
  readonly jwksRefreshIntervalMs: number;
}

export interface ListenerSecurityConfig {
  readonly kafkaTLS?: TlsFiles;
  readonly kafkaSASL?: {
    readonly mechanisms: readonly SaslMechanism[];
    /** Needed when a PLAIN or SCRAM mechanism is enabled. */
    readonly usersFile?: string;
    /** Needed when OAUTHBEARER is enabled. */
    readonly oauth?: OAuthBearerConfig;
  };
  /** Kafka's connections.max.reauth.ms; 0 or absent: no limit. */
  readonly kafkaConnectionsMaxReauthMs?: number;
}

export interface ListenerSecurity {
  readonly tls: LoadedTls | null;
  readonly sasl: SaslSettings | null;
  /** The JWKS kept up to date for OAUTHBEARER (stop it with close()); null without OAUTHBEARER. */
  readonly jwks: JwksSource | null;
}

/** Reads and parses the users file for the PLAIN and SCRAM mechanisms among `mechanisms`. */
export async function loadSaslUsers(mechanisms: readonly SaslMechanism[], usersFile: string): Promise<SaslUsers> {
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
    return await parseUsersFile(text, { mechanisms });
  } catch (err) {
    if (err instanceof UsersFileError)
      throw new SecurityConfigError(`-kafkaSASLUsersFile ${usersFile}: ${err.message}`);
    throw err;
  }
}

/** Loads the JWKS once (a failure names the flag) and keeps it refreshed. */
export async function openJwks(config: OAuthBearerConfig, logger: Logger): Promise<JwksSource> {
  try {
    return await JwksSource.open({ url: config.jwksUrl, refreshIntervalMs: config.jwksRefreshIntervalMs, logger });
  } catch (err) {
    if (err instanceof JwksError)
      throw new SecurityConfigError(`-kafkaSASLOAuthJwksURL ${jwksUrlForLogs(config.jwksUrl)}: ${err.message}`);
    throw err;
  }
}

export async function loadListenerSecurity(config: ListenerSecurityConfig, logger: Logger): Promise<ListenerSecurity> {
  const tls = config.kafkaTLS ? loadTls(config.kafkaTLS) : null;
  const sasl = config.kafkaSASL;
  if (!sasl) return { tls, sasl: null, jwks: null };
  const users =
    sasl.usersFile !== undefined && sasl.mechanisms.some(isPasswordMechanism)
      ? await loadSaslUsers(sasl.mechanisms, sasl.usersFile)
      : new SaslUsers([]);
  const jwks = sasl.oauth && sasl.mechanisms.includes("OAUTHBEARER") ? await openJwks(sasl.oauth, logger) : null;
  return {
    tls,
    jwks,
    sasl: {
      mechanisms: sasl.mechanisms,
      users,
      oauth: jwks && sasl.oauth ? new OAuthBearerValidator(jwks, sasl.oauth) : null,
      maxReauthMs: config.kafkaConnectionsMaxReauthMs ?? 0,
    },
  };
}

/** The security protocol clients must use, as Kafka names it (for logs and docs). */
export function securityProtocol(security: ListenerSecurity): "PLAINTEXT" | "SSL" | "SASL_PLAINTEXT" | "SASL_SSL" {
  if (security.tls) return security.sasl ? "SASL_SSL" : "SSL";
  return security.sasl ? "SASL_PLAINTEXT" : "PLAINTEXT";
}
