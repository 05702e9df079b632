/**
 * SaslAuthenticate (36), v0–2. Carries one step of the mechanism chosen by SaslHandshake v1 (PLAIN: one
 * step; SCRAM: client-first then client-final). A failure is answered with SASL_AUTHENTICATION_FAILED
 * and a message, then the connection closes; before a SaslHandshake it is ILLEGAL_SASL_STATE, then the
 * connection closes. Session lifetime is 0: no re-authentication (KIP-368).
 * Left out: OAUTHBEARER, GSSAPI, delegation tokens.
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
  return { ...result, sessionLifetimeMs: 0n };
});
