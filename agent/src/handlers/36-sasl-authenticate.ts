/**
 * SaslAuthenticate (36), v0–2. Carries one step of the mechanism chosen by SaslHandshake v1 (PLAIN and
 * OAUTHBEARER: one step; SCRAM: client-first then client-final; a rejected OAUTHBEARER token: Kafka's
 * `{"status":"invalid_token"}` challenge, then the client's acknowledgement). A failure is answered
 * with SASL_AUTHENTICATION_FAILED and a message, then the connection closes; before a SaslHandshake it
 * is ILLEGAL_SASL_STATE, then the connection closes. v1+ answers `session_lifetime_ms` (KIP-368): the
 * smaller of -kafkaConnectionsMaxReauth and an OAUTHBEARER token's remaining lifetime, 0 when neither
 * applies. Left out: GSSAPI, delegation tokens.
 */
import { ApiKey, ErrorCode } from "../protocol/index.js";
import { saslSessionOf } from "../security/sessions.js";
import { defineHandler } from "../server/handler.js";

defineHandler({ key: ApiKey.SaslAuthenticate, min: 0, max: 2 }, async (req, ctx) => {
  const session = saslSessionOf(ctx.connection);
  if (!session) {
    return {
      errorCode: ErrorCode.ILLEGAL_SASL_STATE,
      errorMessage: "SASL is not enabled on this listener",
      authBytes: Buffer.alloc(0),
      sessionLifetimeMs: 0n,
    };
  }
  const result = await session.authenticate(req.authBytes);
  if (result.errorCode === ErrorCode.NONE && session.principal !== null) ctx.connection.principal = session.principal;
  return result;
});
