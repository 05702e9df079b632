/**
 * The SASL mechanisms the Kafka listener can offer, and the error type every mechanism throws when a
 * client fails to authenticate (its message goes to the client; it never contains a secret).
 */

export const SASL_MECHANISMS = ["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512", "OAUTHBEARER"] as const;
export type SaslMechanism = (typeof SASL_MECHANISMS)[number];

export const SCRAM_MECHANISMS = ["SCRAM-SHA-256", "SCRAM-SHA-512"] as const;
export type ScramMechanism = (typeof SCRAM_MECHANISMS)[number];

/** Mechanisms whose users come from the users file (-kafkaSASLUsersFile). */
export const PASSWORD_MECHANISMS = ["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"] as const;
export type PasswordMechanism = (typeof PASSWORD_MECHANISMS)[number];

export function isSaslMechanism(name: string): name is SaslMechanism {
  return (SASL_MECHANISMS as readonly string[]).includes(name);
}

export function isScramMechanism(name: string): name is ScramMechanism {
  return (SCRAM_MECHANISMS as readonly string[]).includes(name);
}

export function isPasswordMechanism(name: string): name is PasswordMechanism {
  return (PASSWORD_MECHANISMS as readonly string[]).includes(name);
}

/**
 * A failed authentication. The message is sent to the client and logged, so it must hold no secret;
 * `reason`, when given, is logged instead of the message (a detail the client is not told, as Kafka
 * tells an OAUTHBEARER client only `{"status":"invalid_token"}`). Neither may contain a secret.
 */
export class SaslAuthenticationError extends Error {
  readonly reason: string;

  constructor(message: string, reason?: string) {
    super(message);
    this.name = "SaslAuthenticationError";
    this.reason = reason ?? message;
  }
}

/** One step of a server-side mechanism exchange. */
export interface SaslStep {
  /** Bytes for the client (the server's challenge or final message; empty when there is none). */
  readonly response: Buffer;
  /** The authenticated user once the exchange is complete; null while more steps are expected. */
  readonly principal: string | null;
  /**
   * When the credential the client authenticated with expires (wall-clock ms since the epoch): an
   * OAUTHBEARER token's `exp`. The session ends then unless the client re-authenticates (KIP-368).
   */
  readonly credentialExpiresAtMs?: number;
  /**
   * Set when the response is an error challenge (OAUTHBEARER's `{"status":"invalid_token"}`): the
   * exchange has failed for this reason (logged, never sent) and fails on the client's next message.
   */
  readonly rejected?: string;
}

/**
 * A server-side mechanism exchange for one connection. Fails (throws or rejects) with
 * SaslAuthenticationError; a step that derives a key (PLAIN) or fetches keys (OAUTHBEARER) answers
 * asynchronously.
 */
export interface SaslExchange {
  step(clientMessage: Buffer): SaslStep | Promise<SaslStep>;
}
