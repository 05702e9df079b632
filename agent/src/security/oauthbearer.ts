/**
 * SASL/OAUTHBEARER, server side (RFC 7628), as Kafka speaks it: one client message
 * `n,[a=<authzid>],\x01auth=Bearer <token>\x01[<key>=<value>\x01...]\x01` carrying a JWT access token,
 * verified against the JWKS (jwks.ts) and the claim rules (jwt.ts). The principal is the value of the
 * principal claim (`sub` unless configured otherwise); an authorization id, if sent, must equal it.
 * SASL extensions are accepted and ignored, as Kafka's default validator does.
 *
 * A token that does not validate is answered as Kafka answers it: an error challenge
 * `{"status":"invalid_token"}` (error code NONE), to which the client replies `\x01`, and then
 * SASL_AUTHENTICATION_FAILED with that JSON as the message. The reason (expired, bad signature,
 * wrong audience...) is logged, never sent. A message that does not parse fails at once with Kafka's
 * generic message. The token itself is never logged or kept after the step.
 */
import type { Logger } from "../../../common/logger.js";
import { checkJwtClaims, decodeJwt, JwtError, keyFitsAlgorithm, verifyJwtSignature } from "./jwt.js";
import type { AcceptedClaims, JwtClaimRules } from "./jwt.js";
import type { VerificationKeys } from "./jwks.js";
import { SaslAuthenticationError } from "./mechanisms.js";
import type { SaslExchange, SaslStep } from "./mechanisms.js";

/** What Kafka's client is told when the token does not validate (OAuthBearerSaslServer's JSON error). */
export const INVALID_TOKEN_RESPONSE = '{"status":"invalid_token"}';
const GENERIC_FAILURE =
  "Authentication failed during authentication due to invalid credentials with SASL mechanism OAUTHBEARER";

/** Validates OAUTHBEARER access tokens: signature (JWKS) and claims. */
export class OAuthBearerValidator {
  constructor(
    private readonly keys: VerificationKeys,
    readonly rules: JwtClaimRules,
    private readonly now: () => number = Date.now,
  ) {}

  /** The token's principal and expiry; rejects with JwtError naming the reason. */
  async validate(token: string): Promise<AcceptedClaims> {
    const jwt = decodeJwt(token);
    let candidates = this.keys.keysFor(jwt.kid).filter((k) => keyFitsAlgorithm(k, jwt.alg));
    if (candidates.length === 0 && jwt.kid !== null && (await this.keys.refreshForUnknownKid()))
      candidates = this.keys.keysFor(jwt.kid).filter((k) => keyFitsAlgorithm(k, jwt.alg));
    if (candidates.length === 0)
      throw new JwtError(
        jwt.kid === null
          ? `no key of the JWKS fits algorithm ${jwt.alg}`
          : `no key with kid ${JSON.stringify(jwt.kid.slice(0, 64))} for algorithm ${jwt.alg} in the JWKS`,
      );
    // Without a kid, a token may have been signed by any key of its type; with one, by that key only.
    if (!candidates.some((key) => verifyJwtSignature(jwt, key)))
      throw new JwtError(
        `the signature does not verify${jwt.kid !== null ? ` with the key of kid ${JSON.stringify(jwt.kid.slice(0, 64))}` : ""}`,
      );
    return checkJwtClaims(jwt.claims, this.rules, this.now());
  }
}

/** Parsed client first message. */
interface ClientFirst {
  readonly authzid: string;
  readonly token: string;
}

// eslint-disable-next-line no-control-regex -- RFC 5801 saslname: any US-ASCII but NUL, "," and "="
const SASLNAME = /^(?:[\x01-\x2b\x2d-\x3c\x3e-\x7f]|=2C|=3D)+$/;
const KEY = /^[A-Za-z]+$/;
const VALUE = /^[\x21-\x7e \t\r\n]+$/;
/** RFC 6750's b64token. */
const B64TOKEN = /^[A-Za-z0-9\-._~+/]+=*$/;
const SEP = "\x01";

/** Parses `n,[a=authzid],\x01kvpairs\x01`; throws a reason (logged) when it does not parse. */
export function parseClientFirstMessage(message: string): ClientFirst {
  const fail = (why: string): never => {
    throw new SaslAuthenticationError(GENERIC_FAILURE, `Invalid OAUTHBEARER client first message: ${why}`);
  };
  if (!message.startsWith("n,") && !message.startsWith("y,")) fail("no GS2 header (n,)");
  const comma = message.indexOf(",", 2);
  if (comma < 0) fail("no GS2 header (n,,)");
  const authzField = message.slice(2, comma);
  let authzid = "";
  if (authzField !== "") {
    if (!authzField.startsWith("a=") || !SASLNAME.test(authzField.slice(2))) fail("malformed authorization id");
    authzid = authzField.slice(2).replace(/=2C/g, ",").replace(/=3D/g, "=");
  }
  const rest = message.slice(comma + 1);
  if (!rest.startsWith(SEP) || !rest.endsWith(SEP + SEP) || rest.length < 2) fail("not \\x01-separated");
  const pairs = rest.slice(1, -2);
  let auth: string | null = null;
  for (const pair of pairs === "" ? [] : pairs.split(SEP)) {
    const eq = pair.indexOf("=");
    const key = eq > 0 ? pair.slice(0, eq) : "";
    const value = pair.slice(eq + 1);
    if (!KEY.test(key) || !VALUE.test(value)) fail("malformed key=value pair");
    if (key === "auth") {
      if (auth !== null) fail("auth given twice");
      auth = value;
    }
  }
  if (auth === null) fail("no auth=Bearer <token>");
  const m = /^([A-Za-z0-9_]+) +(.+)$/.exec(auth!);
  if (!m || m[1]!.toLowerCase() !== "bearer") fail("the auth scheme is not Bearer");
  if (!B64TOKEN.test(m![2]!)) fail("the token is not a b64token");
  return { authzid, token: m![2]! };
}

/** One connection's OAUTHBEARER exchange. */
export class OAuthBearerServerExchange implements SaslExchange {
  private state: "initial" | "rejected" | "done" = "initial";

  constructor(
    private readonly validator: OAuthBearerValidator,
    private readonly logger?: Logger,
  ) {}

  async step(clientMessage: Buffer): Promise<SaslStep> {
    if (this.state === "rejected") {
      // The client acknowledges the error challenge with \x01 (anything else fails the same way).
      this.state = "done";
      throw new SaslAuthenticationError(INVALID_TOKEN_RESPONSE);
    }
    if (this.state === "done") throw new SaslAuthenticationError("OAUTHBEARER exchange already complete");
    this.state = "done";
    const first = parseClientFirstMessage(clientMessage.toString("latin1"));
    let accepted: AcceptedClaims;
    try {
      accepted = await this.validator.validate(first.token);
    } catch (err) {
      if (!(err instanceof JwtError)) {
        this.logger?.error("OAUTHBEARER token validation failed unexpectedly", { error: String(err) });
        throw new SaslAuthenticationError(
          "Authentication could not be performed due to an internal error on the server",
          `internal error: ${(err as Error).message}`,
        );
      }
      this.state = "rejected";
      return { response: Buffer.from(INVALID_TOKEN_RESPONSE, "utf8"), principal: null, rejected: err.message };
    }
    if (first.authzid !== "" && first.authzid !== accepted.principal)
      throw new SaslAuthenticationError(
        `Authentication failed: Client requested an authorization id (${first.authzid.slice(0, 128)}) that is different from the token's principal name (${accepted.principal.slice(0, 128)})`,
        "the client requested an authorization id different from the token's principal name",
      );
    return { response: Buffer.alloc(0), principal: accepted.principal, credentialExpiresAtMs: accepted.expiresAtMs };
  }
}
