/**
 * Per-connection SASL state machine (what Kafka's SaslServerAuthenticator does):
 *
 *   handshake ──SaslHandshake(enabled mechanism)──▶ authenticate ──SaslAuthenticate…(success)──▶ authenticated
 *        │                                              │
 *        └─ unknown mechanism: UNSUPPORTED_SASL_MECHANISM, then closed; failure: SASL_AUTHENTICATION_FAILED, then closed
 *
 * Until authenticated, a connection may send only ApiVersions, SaslHandshake and SaslAuthenticate;
 * the connection closes on anything else. SaslHandshake v0 switches to Kafka's legacy framing, where
 * the tokens that follow are raw size-prefixed frames instead of SaslAuthenticate requests.
 * A step is computed asynchronously (PLAIN derives a key on the thread pool); while one is
 * (`stepping`), the connection reads no further frame, as a Kafka broker mutes a channel during
 * authentication.
 * Logs name the connection, mechanism and user, never a password, proof or key: failures at info,
 * successes at debug (as Kafka does; one line per connection would drown busy agents).
 */
import type { Logger } from "../../../common/logger.js";
import { ApiKey, ErrorCode } from "../protocol/index.js";
import { SaslAuthenticationError } from "./mechanisms.js";
import type { SaslExchange, SaslMechanism } from "./mechanisms.js";
import { PlainServerExchange } from "./plain.js";
import { ScramServerExchange } from "./scram.js";
import type { SaslUsers } from "./users.js";

/** What a listener requires of its clients (absent: no authentication). */
export interface SaslSettings {
  /** Enabled mechanisms, in the order offered to clients. */
  readonly mechanisms: readonly SaslMechanism[];
  readonly users: SaslUsers;
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
}

/** APIs a connection may use before it has authenticated. */
const BEFORE_AUTH: ReadonlySet<number> = new Set([ApiKey.ApiVersions, ApiKey.SaslHandshake, ApiKey.SaslAuthenticate]);

export class SaslSession {
  private stateValue: SaslState = "handshake";
  private exchange: SaslExchange | null = null;
  private mechanismValue: SaslMechanism | null = null;
  private principalValue: string | null = null;
  private legacy = false;
  private steppingValue = false;

  constructor(
    private readonly settings: SaslSettings | null,
    private readonly logger: Logger,
    private readonly connection: { readonly id: number; readonly remoteAddress: string },
  ) {}

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

  /** The authenticated user, once authenticated. */
  get principal(): string | null {
    return this.principalValue;
  }

  /** Whether an authentication step is being computed (its answer is not known yet). */
  get stepping(): boolean {
    return this.steppingValue;
  }

  /** After SaslHandshake v0 the next frame is a raw SASL token, not a Kafka request. */
  get expectsRawToken(): boolean {
    return this.legacy && this.stateValue === "authenticate";
  }

  /** Whether a request with this API key may be served now (false: close the connection). */
  mayServe(apiKey: number): boolean {
    if (!this.settings || this.stateValue === "authenticated") return true;
    return this.stateValue !== "failed" && BEFORE_AUTH.has(apiKey);
  }

  handshake(mechanism: string, version: number): HandshakeResult {
    if (!this.settings) return { errorCode: ErrorCode.ILLEGAL_SASL_STATE, mechanisms: [] };
    const enabled = [...this.settings.mechanisms];
    if (this.stateValue !== "handshake") {
      // After authenticating: answered (no re-authentication). In the middle of an exchange: Kafka closes.
      if (this.stateValue === "authenticate")
        this.fail(
          this.exchange?.userName ?? null,
          this.mechanismValue,
          "SaslHandshake during an authentication exchange",
        );
      return { errorCode: ErrorCode.ILLEGAL_SASL_STATE, mechanisms: enabled };
    }
    const chosen = this.settings.mechanisms.find((m) => m === mechanism);
    if (!chosen) {
      this.fail(null, mechanism.slice(0, 64), `unsupported SASL mechanism (enabled: ${enabled.join(", ")})`);
      return { errorCode: ErrorCode.UNSUPPORTED_SASL_MECHANISM, mechanisms: enabled };
    }
    const users = this.settings.users;
    this.mechanismValue = chosen;
    this.exchange =
      chosen === "PLAIN"
        ? new PlainServerExchange({ verify: (user, password) => users.passwordMatches(user, password) })
        : new ScramServerExchange(chosen, { lookup: (user) => users.scramCredential(user, chosen) });
    this.legacy = version === 0;
    this.stateValue = "authenticate";
    return { errorCode: ErrorCode.NONE, mechanisms: enabled };
  }

  async authenticate(authBytes: Buffer): Promise<AuthenticateResult> {
    if (!this.exchange || this.stateValue !== "authenticate" || this.steppingValue) {
      if (!this.settings)
        return {
          errorCode: ErrorCode.ILLEGAL_SASL_STATE,
          errorMessage: "SASL authentication is not enabled on this listener",
          authBytes: Buffer.alloc(0),
        };
      const message =
        this.stateValue === "authenticated"
          ? "Already authenticated (no re-authentication)"
          : this.steppingValue
            ? "SaslAuthenticate before the previous step was answered"
            : "SaslAuthenticate before a successful SaslHandshake";
      // Out of order before authentication: answered, then the connection closes (as Kafka does).
      if (this.stateValue !== "authenticated") this.fail(null, this.mechanismValue, message);
      return { errorCode: ErrorCode.ILLEGAL_SASL_STATE, errorMessage: message, authBytes: Buffer.alloc(0) };
    }
    const exchange = this.exchange;
    this.steppingValue = true;
    try {
      const step = await exchange.step(authBytes);
      // The session failed while the step was computed (a SaslHandshake in between): it stays failed.
      if (this.exchange !== exchange)
        return {
          errorCode: ErrorCode.ILLEGAL_SASL_STATE,
          errorMessage: "Authentication failed",
          authBytes: Buffer.alloc(0),
        };
      if (step.principal !== null) {
        this.stateValue = "authenticated";
        this.principalValue = step.principal;
        this.exchange = null;
        this.logger.debug("SASL authentication succeeded", {
          ...this.where(),
          mechanism: this.mechanismValue,
          user: step.principal,
        });
      }
      return { errorCode: ErrorCode.NONE, errorMessage: null, authBytes: step.response };
    } catch (err) {
      const message = err instanceof SaslAuthenticationError ? err.message : "Authentication failed";
      this.fail(exchange.userName, this.mechanismValue, message);
      return { errorCode: ErrorCode.SASL_AUTHENTICATION_FAILED, errorMessage: message, authBytes: Buffer.alloc(0) };
    } finally {
      this.steppingValue = false;
    }
  }

  private where(): Record<string, unknown> {
    return { conn: this.connection.id, remote: this.connection.remoteAddress };
  }

  private fail(user: string | null, mechanism: string | null, reason: string): void {
    this.stateValue = "failed";
    this.exchange = null;
    this.logger.info("SASL authentication failed", {
      ...this.where(),
      mechanism,
      ...(user ? { user: user.slice(0, 128) } : {}),
      reason,
    });
  }
}
