/**
 * SaslHandshake (17), v0–1. Picks the connection's SASL mechanism: an enabled one moves the connection
 * on to SaslAuthenticate (v1) or to raw legacy tokens (v0); any other gets UNSUPPORTED_SASL_MECHANISM
 * with the enabled list, and the connection closes. The list offers OAUTHBEARER only when it is
 * configured. On an authenticated connection whose session has a lifetime it starts a
 * re-authentication (KIP-368; at most one a second, same mechanism); otherwise, and on a listener
 * without SASL, the answer is ILLEGAL_SASL_STATE. In the middle of an exchange it is ILLEGAL_SASL_STATE
 * and the connection closes.
 */
import { ApiKey, ErrorCode } from "../protocol/index.js";
import { saslSessionOf } from "../security/sessions.js";
import { defineHandler } from "../server/handler.js";

defineHandler({ key: ApiKey.SaslHandshake, min: 0, max: 1 }, async (req, ctx) => {
  const session = saslSessionOf(ctx.connection);
  if (!session) return { errorCode: ErrorCode.ILLEGAL_SASL_STATE, mechanisms: [] };
  return session.handshake(req.mechanism, ctx.header.apiVersion);
});
