/**
 * Which SASL session belongs to which connection: the connection attaches its session to its
 * ConnectionInfo, and the SaslHandshake / SaslAuthenticate handlers find it from their request context.
 */
import type { SaslSession } from "./authenticator.js";

const sessions = new WeakMap<object, SaslSession>();

export function attachSaslSession(connection: object, session: SaslSession): void {
  sessions.set(connection, session);
}

/** The connection's session; undefined for connections built without one (unit tests of other handlers). */
export function saslSessionOf(connection: object): SaslSession | undefined {
  return sessions.get(connection);
}
