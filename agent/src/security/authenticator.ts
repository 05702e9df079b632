/**
 * Per-connection SASL state machine (what Kafka's SaslServerAuthenticator and KafkaChannel do):
 *
 *   handshake ──SaslHandshake(enabled mechanism)──▶ authenticate ──SaslAuthenticate…(success)──▶ authenticated
 *        │                                              │    ▲                                        │
 *        │                                              │    └──── SaslHandshake (re-authentication) ──┘
 *        └─ unknown mechanism: UNSUPPORTED_SASL_MECHANISM, then closed; failure: SASL_AUTHENTICATION_FAILED, then closed
 *
 * Until authenticated, a connection may send only ApiVersions, SaslHandshake and SaslAuthenticate;
 * the connection closes on anything else. SaslHandshake v0 switches to Kafka's legacy framing, where
 * the tokens that follow are raw size-prefixed frames instead of SaslAuthenticate requests.
 * A step is computed asynchronously (PLAIN derives a key on the thread pool, OAUTHBEARER may fetch
 * keys); while one is (`stepping`), the connection reads no further frame, as a Kafka broker mutes a
 * channel during authentication.
 *
 * Session lifetime and re-authentication (KIP-368), as Kafka computes them: a successful
 * authentication gets a session lifetime when `maxReauthMs` (connections.max.reauth.ms) is above 0 or
 * the credential expires (an OAUTHBEARER token's `exp`): the smaller of the two, at least 0; otherwise
 * none (0 is sent, the session never ends). SaslAuthenticate v1+ tells the client; v0 and legacy
 * clients are not told but are held to it all the same. With a lifetime, a SaslHandshake on the
 * authenticated connection starts a re-authentication (at most one a second, else ILLEGAL_SASL_STATE):
 * same mechanism required (another fails at its SaslAuthenticate), same principal required, against
 * the users and keys current at that time (a password changed since is refused). Past the deadline,
 * any request but such a SaslHandshake closes the connection (`admit`). Without a lifetime a
 * SaslHandshake after authenticating is answered ILLEGAL_SASL_STATE and the connection stays.
 *
 * Logs name the connection, its remote address and the mechanism, never a user name or principal, a
 * password, proof, key or token: failures at info, successes at debug (as Kafka does; one line per
 * connection would drown busy agents). The reason logged for a failure is the error's `reason`, which
 * names nobody (the client's message may repeat the names it sent).
 */
import type { Logger } from "../../../common/logger.js";
import { ApiKey, ErrorCode, apiKeyName } from "../protocol/index.js";
import { UserCredentials } from "./credentials.js";
import type { ScramCredentialSource } from "./credentials.js";
import { SaslAuthenticationError } from "./mechanisms.js";
import type { SaslExchange, SaslMechanism } from "./mechanisms.js";
import { OAuthBearerServerExchange } from "./oauthbearer.js";
import type { OAuthBearerValidator } from "./oauthbearer.js";
import { PlainServerExchange } from "./plain.js";
import { ScramServerExchange } from "./scram.js";
import type { SaslUsers } from "./users.js";

/** What a listener requires of its clients (absent: no authentication). */
export interface SaslSettings {
  /** Enabled mechanisms, in the order offered to clients. */
  readonly mechanisms: readonly SaslMechanism[];
  /** PLAIN and SCRAM users (the users file); empty when only OAUTHBEARER is enabled. */
  readonly users: SaslUsers;
  /**
   * SCRAM credentials created through the Kafka API (the metadata log's): users the file does not name
   * log in with these (credentials.ts). Absent: the users file alone.
   */
  readonly logCredentials?: ScramCredentialSource;
  /** OAUTHBEARER token validation; null when OAUTHBEARER is not enabled. */
  readonly oauth: OAuthBearerValidator | null;
  /** Kafka's connections.max.reauth.ms: the longest session before re-authentication; 0: no limit. */
  readonly maxReauthMs: number;
}

export type SaslState = "handshake" | "authenticate" | "authenticated" | "failed";

export interface HandshakeResult {
  readonly errorCode: number;
  readonly mechanisms: string[];
}

export interface AuthenticateResult {
  readonly errorCode: number;
  readonly errorMessage: string | null;
  readonly authBytes: Buffer;
  /** The session lifetime granted when this step completed the authentication (0: none, or not complete). */
  readonly sessionLifetimeMs: bigint;
}

/** Wall-clock time (for token expiry) and monotonic time (for session deadlines), in ms. */
export interface SaslClock {
  wallMs(): number;
  monotonicMs(): number;
}

const SYSTEM_CLOCK: SaslClock = { wallMs: () => Date.now(), monotonicMs: () => performance.now() };

/** What sessions report, for metrics. */
export interface SaslEvents {
  authenticated?(mechanism: SaslMechanism, reauthentication: boolean): void;
  failed?(mechanism: SaslMechanism | null, reauthentication: boolean): void;
  /** A connection is being closed because its session expired without re-authentication. */
  expired?(mechanism: SaslMechanism | null): void;
}

export interface SaslSessionOptions {
  readonly clock?: SaslClock;
  readonly events?: SaslEvents;
}

/** Kafka refuses a re-authentication that starts less than a second after the previous one started. */
export const MIN_REAUTH_INTERVAL_MS = 1000;

/** APIs a connection may use before it has authenticated. */
const BEFORE_AUTH: ReadonlySet<number> = new Set([ApiKey.ApiVersions, ApiKey.SaslHandshake, ApiKey.SaslAuthenticate]);

/** An exchange that fails at its first message (re-authentication with another mechanism, as Kafka does). */
class RefusingExchange implements SaslExchange {
  constructor(private readonly message: string) {}
  step(): never {
    throw new SaslAuthenticationError(this.message);
  }
}

export class SaslSession {
  private stateValue: SaslState = "handshake";
  private exchange: SaslExchange | null = null;
  private mechanismValue: SaslMechanism | null = null;
  private principalValue: string | null = null;
  private legacy = false;
  private steppingValue = false;
  /** Monotonic ms after which the session has expired; null: it never does. */
  private deadline: number | null = null;
  /** Set during a re-authentication: what the connection was authenticated as. */
  private reauth: { readonly mechanism: SaslMechanism; readonly principal: string } | null = null;
  private lastReauthStart: number | null = null;
  /** The exchange's failure was logged already (OAUTHBEARER's error challenge). */
  private failureLogged = false;
  private readonly clock: SaslClock;
  private readonly events: SaslEvents;

  /**
   * @param settings the listener's current SASL settings (they change when the users file is
   *   reloaded; re-authentications use the current ones), or null on a listener without SASL.
   */
  constructor(
    private readonly settings: (() => SaslSettings) | null,
    private readonly logger: Logger,
    private readonly connection: { readonly id: number; readonly remoteAddress: string },
    options: SaslSessionOptions = {},
  ) {
    this.clock = options.clock ?? SYSTEM_CLOCK;
    this.events = options.events ?? {};
  }

  /** Whether this listener requires authentication at all. */
  get required(): boolean {
    return this.settings !== null;
  }

  get state(): SaslState {
    return this.stateValue;
  }

  get failed(): boolean {
    return this.stateValue === "failed";
  }

  /** Whether the connection is authenticated (or needs no authentication): large frames are accepted. */
  get authenticated(): boolean {
    return this.settings === null || this.stateValue === "authenticated";
  }

  /** Whether a re-authentication is in progress. */
  get reauthenticating(): boolean {
    return this.reauth !== null;
  }

  /** The authenticated user, once authenticated (unchanged during a re-authentication). */
  get principal(): string | null {
    return this.principalValue;
  }

  /** The mechanism of the current (or last) exchange. */
  get mechanism(): SaslMechanism | null {
    return this.mechanismValue;
  }

  /** Whether an authentication step is being computed (its answer is not known yet). */
  get stepping(): boolean {
    return this.steppingValue;
  }

  /** After SaslHandshake v0 the next frame is a raw SASL token, not a Kafka request. */
  get expectsRawToken(): boolean {
    return this.legacy && this.stateValue === "authenticate";
  }

  /** Whether the session has a lifetime and it has passed. */
  get expired(): boolean {
    return this.deadline !== null && this.clock.monotonicMs() > this.deadline;
  }

  /** Whether a request with this API key may be served now (false: close the connection). */
  mayServe(apiKey: number): boolean {
    return this.refusal(apiKey) === null;
  }

  /**
   * Why a request with this API key must not be served (the connection closes with that reason), or
   * null to serve it. Reports expired sessions (events.expired).
   */
  admit(apiKey: number): string | null {
    const reason = this.refusal(apiKey);
    if (reason !== null && this.stateValue === "authenticated") this.events.expired?.(this.mechanismValue);
    return reason;
  }

  private refusal(apiKey: number): string | null {
    if (!this.settings) return null;
    if (this.stateValue === "authenticated") {
      if (!this.expired) return null;
      if (apiKey === ApiKey.SaslHandshake && this.mayBeginReauthentication()) return null;
      return `SASL session expired: ${apiKeyName(apiKey)} (key ${apiKey}) arrived after the session lifetime without a re-authentication`;
    }
    if (this.stateValue !== "failed" && BEFORE_AUTH.has(apiKey)) return null;
    if (this.reauth !== null)
      return `${apiKeyName(apiKey)} (key ${apiKey}) during SASL re-authentication; only SaslHandshake and SaslAuthenticate are served until it completes`;
    return `${apiKeyName(apiKey)} (key ${apiKey}) before SASL authentication; only ApiVersions, SaslHandshake and SaslAuthenticate are served until then`;
  }

  /** KafkaChannel.maybeBeginServerReauthentication: only sessions with a lifetime, at most once a second. */
  private mayBeginReauthentication(): boolean {
    if (this.stateValue !== "authenticated" || this.deadline === null) return false;
    return this.lastReauthStart === null || this.clock.monotonicMs() - this.lastReauthStart >= MIN_REAUTH_INTERVAL_MS;
  }

  handshake(mechanism: string, version: number): HandshakeResult {
    const settings = this.settings?.();
    if (!settings) return { errorCode: ErrorCode.ILLEGAL_SASL_STATE, mechanisms: [] };
    const enabled = [...settings.mechanisms];
    if (this.stateValue === "authenticated") {
      // Without a session lifetime (or too soon after the last one) Kafka answers ILLEGAL_SASL_STATE.
      if (!this.mayBeginReauthentication()) return { errorCode: ErrorCode.ILLEGAL_SASL_STATE, mechanisms: enabled };
      this.lastReauthStart = this.clock.monotonicMs();
      this.reauth = { mechanism: this.mechanismValue!, principal: this.principalValue! };
    } else if (this.stateValue !== "handshake") {
      // In the middle of an exchange: Kafka closes.
      if (this.stateValue === "authenticate")
        this.fail(this.mechanismValue, "SaslHandshake during an authentication exchange");
      return { errorCode: ErrorCode.ILLEGAL_SASL_STATE, mechanisms: enabled };
    }
    const chosen = settings.mechanisms.find((m) => m === mechanism);
    if (!chosen) {
      this.fail(mechanism.slice(0, 64), `unsupported SASL mechanism (enabled: ${enabled.join(", ")})`);
      return { errorCode: ErrorCode.UNSUPPORTED_SASL_MECHANISM, mechanisms: enabled };
    }
    if (this.reauth !== null && chosen !== this.reauth.mechanism) {
      this.exchange = new RefusingExchange(
        `SASL mechanism '${chosen}' requested by client is not supported for re-authentication of mechanism '${this.reauth.mechanism}'`,
      );
    } else {
      this.exchange = this.newExchange(chosen, settings);
    }
    this.mechanismValue = chosen;
    this.failureLogged = false;
    this.legacy = version === 0;
    this.stateValue = "authenticate";
    return { errorCode: ErrorCode.NONE, mechanisms: enabled };
  }

  private newExchange(mechanism: SaslMechanism, settings: SaslSettings): SaslExchange {
    const users = new UserCredentials(settings.users, settings.logCredentials ?? null);
    switch (mechanism) {
      case "PLAIN":
        return new PlainServerExchange({ verify: (user, password) => users.passwordMatches(user, password) });
      case "SCRAM-SHA-256":
      case "SCRAM-SHA-512":
        return new ScramServerExchange(mechanism, { lookup: (user) => users.scramCredential(user, mechanism) });
      case "OAUTHBEARER":
        if (!settings.oauth) throw new Error("OAUTHBEARER is enabled without token validation settings");
        return new OAuthBearerServerExchange(settings.oauth, this.logger);
    }
  }

  async authenticate(authBytes: Buffer): Promise<AuthenticateResult> {
    if (!this.exchange || this.stateValue !== "authenticate" || this.steppingValue) {
      if (!this.settings)
        return this.answer(ErrorCode.ILLEGAL_SASL_STATE, "SASL authentication is not enabled on this listener");
      const message =
        this.stateValue === "authenticated"
          ? "Already authenticated (re-authenticate with a SaslHandshake first)"
          : this.steppingValue
            ? "SaslAuthenticate before the previous step was answered"
            : "SaslAuthenticate before a successful SaslHandshake";
      // Out of order before authentication: answered, then the connection closes (as Kafka does).
      if (this.stateValue !== "authenticated") this.fail(this.mechanismValue, message);
      return this.answer(ErrorCode.ILLEGAL_SASL_STATE, message);
    }
    const exchange = this.exchange;
    this.steppingValue = true;
    try {
      const step = await exchange.step(authBytes);
      // The session failed while the step was computed (a SaslHandshake in between): it stays failed.
      if (this.exchange !== exchange) return this.answer(ErrorCode.ILLEGAL_SASL_STATE, "Authentication failed");
      if (step.rejected !== undefined) {
        // An error challenge (OAUTHBEARER): logged now, failed at the client's acknowledgement.
        this.logFailure(this.mechanismValue, step.rejected);
        this.failureLogged = true;
        return { errorCode: ErrorCode.NONE, errorMessage: null, authBytes: step.response, sessionLifetimeMs: 0n };
      }
      if (step.principal === null)
        return { errorCode: ErrorCode.NONE, errorMessage: null, authBytes: step.response, sessionLifetimeMs: 0n };
      const reauth = this.reauth;
      if (reauth !== null && step.principal !== reauth.principal)
        throw new SaslAuthenticationError(
          `Cannot change principals during re-authentication from User.${reauth.principal}: User.${step.principal}`,
          "cannot change principals during re-authentication",
        );
      const lifetimeMs = this.startSession(step.credentialExpiresAtMs);
      this.stateValue = "authenticated";
      this.principalValue = step.principal;
      this.exchange = null;
      this.reauth = null;
      this.logger.debug(reauth ? "SASL re-authentication succeeded" : "SASL authentication succeeded", {
        ...this.where(),
        mechanism: this.mechanismValue,
        ...(lifetimeMs !== null ? { sessionLifetimeMs: lifetimeMs } : {}),
      });
      this.events.authenticated?.(this.mechanismValue!, reauth !== null);
      return {
        errorCode: ErrorCode.NONE,
        errorMessage: null,
        authBytes: step.response,
        sessionLifetimeMs: BigInt(lifetimeMs ?? 0),
      };
    } catch (err) {
      const message = err instanceof SaslAuthenticationError ? err.message : "Authentication failed";
      const reason = err instanceof SaslAuthenticationError ? err.reason : "Authentication failed";
      this.fail(this.mechanismValue, reason);
      return this.answer(ErrorCode.SASL_AUTHENTICATION_FAILED, message);
    } finally {
      this.steppingValue = false;
    }
  }

  /**
   * Kafka's session lifetime (SaslServerAuthenticator.calcCompletionTimesAndReturnSessionLifetimeMs):
   * the smaller of maxReauthMs (when above 0) and the credential's remaining lifetime (when it expires),
   * at least 0; null when neither applies. Sets the deadline.
   */
  private startSession(credentialExpiresAtMs: number | undefined): number | null {
    const maxReauthMs = this.settings?.().maxReauthMs ?? 0;
    const remaining = credentialExpiresAtMs !== undefined ? credentialExpiresAtMs - this.clock.wallMs() : null;
    let lifetime: number | null = null;
    if (remaining !== null && maxReauthMs > 0) lifetime = Math.min(remaining, maxReauthMs);
    else if (remaining !== null) lifetime = remaining;
    else if (maxReauthMs > 0) lifetime = maxReauthMs;
    if (lifetime === null) {
      this.deadline = null;
      return null;
    }
    // At least 0; at most what an int64 and a double both hold (a token may claim an absurd exp).
    lifetime = Math.min(Number.MAX_SAFE_INTEGER, Math.max(0, Math.floor(lifetime)));
    this.deadline = this.clock.monotonicMs() + lifetime;
    return lifetime;
  }

  private answer(errorCode: number, errorMessage: string): AuthenticateResult {
    return { errorCode, errorMessage, authBytes: Buffer.alloc(0), sessionLifetimeMs: 0n };
  }

  private where(): Record<string, unknown> {
    return { conn: this.connection.id, remote: this.connection.remoteAddress };
  }

  private fail(mechanism: SaslMechanism | string | null, reason: string): void {
    this.stateValue = "failed";
    this.exchange = null;
    if (!this.failureLogged) this.logFailure(mechanism, reason);
  }

  private logFailure(mechanism: SaslMechanism | string | null, reason: string): void {
    const reauthentication = this.reauth !== null;
    this.logger.info(reauthentication ? "SASL re-authentication failed" : "SASL authentication failed", {
      ...this.where(),
      mechanism,
      reason,
    });
    const known = this.settings?.().mechanisms.find((m) => m === mechanism) ?? null;
    this.events.failed?.(known, reauthentication);
  }
}
