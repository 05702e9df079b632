/**
 * The SASL mechanisms the Kafka listener can offer, and the error type every mechanism throws when a
 * client fails to authenticate (its message goes to the client; it never contains a secret).
 */

export const SASL_MECHANISMS = ["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"] as const;
export type SaslMechanism = (typeof SASL_MECHANISMS)[number];

export const SCRAM_MECHANISMS = ["SCRAM-SHA-256", "SCRAM-SHA-512"] as const;
export type ScramMechanism = (typeof SCRAM_MECHANISMS)[number];

export function isSaslMechanism(name: string): name is SaslMechanism {
  return (SASL_MECHANISMS as readonly string[]).includes(name);
}

export function isScramMechanism(name: string): name is ScramMechanism {
  return (SCRAM_MECHANISMS as readonly string[]).includes(name);
}

/** A failed authentication: the message is sent to the client and logged, so it must hold no secret. */
export class SaslAuthenticationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "SaslAuthenticationError";
  }
}

/** One step of a server-side mechanism exchange. */
export interface SaslStep {
  /** Bytes for the client (the server's challenge or final message; empty when there is none). */
  readonly response: Buffer;
  /** The authenticated user once the exchange is complete; null while more steps are expected. */
  readonly principal: string | null;
}

/**
 * A server-side mechanism exchange for one connection. Fails (throws or rejects) with
 * SaslAuthenticationError; a step that derives a key (PLAIN) answers asynchronously.
 */
export interface SaslExchange {
  step(clientMessage: Buffer): SaslStep | Promise<SaslStep>;
  /** The user the client named, once known (for logs; never a secret). */
  readonly userName: string | null;
}
