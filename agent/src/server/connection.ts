/**
 * One client connection: framing (4-byte size prefix, maximum frame size), request decoding, dispatch
 * to the handler registry, and responses written in request order even when handlers finish out of
 * order. Anything malformed (a truncated body included) closes this connection only; bytes after a
 * complete request body are ignored, as Kafka ignores them. ApiVersions quirks live here: an unknown
 * ApiVersions version is answered in the v0 schema with UNSUPPORTED_VERSION (KIP-511); any other
 * unsupported API or version closes the connection, as Kafka does.
 *
 * Back-pressure: reading a connection pauses while it has maxInFlight requests unanswered,
 * MAX_QUEUED_RESPONSE_BYTES of responses queued in its socket for a client that is not reading, or a
 * SASL step being computed, and resumes once responses are answered and the socket drains.
 *
 * When the listener requires SASL (options.sasl), each connection has a SaslSession: before it has
 * authenticated only ApiVersions, SaslHandshake and SaslAuthenticate are served and anything else closes
 * the connection; a failed authentication is answered and then the connection closes. After a
 * SaslHandshake v0 the next frame is a raw SASL token (Kafka's legacy framing), answered raw. A session
 * with a lifetime (KIP-368) that has passed without a re-authentication closes the connection at its
 * next request, as a Kafka broker does; a re-authentication (SaslHandshake + SaslAuthenticate on the
 * authenticated connection) restarts it.
 */
import { setMaxListeners } from "node:events";
import type { Socket } from "node:net";
import { TLSSocket } from "node:tls";
import type { Logger } from "../../../common/logger.js";
import { errorMessage } from "../../../common/logger.js";
import {
  ApiKey,
  apiKeyName,
  decodeRequestBodyWithTrailer,
  decodeRequestHeader,
  encodeResponse,
} from "../protocol/index.js";
import type { ApiKeyValue, RequestHeader } from "../protocol/index.js";
import { SaslSession } from "../security/authenticator.js";
import type { SaslEvents, SaslSettings } from "../security/authenticator.js";
import { attachSaslSession } from "../security/sessions.js";
import { PrincipalMapper, subjectToDn } from "../security/principal.js";
import type { AgentContext } from "./context.js";
import { FrameReader } from "./frame-reader.js";
import type { ConnectionInfo, RegisteredHandler, RequestContext } from "./handler.js";
import { MalformedRequestError, lookupHandler, registeredHandlers } from "./handler.js";

export interface ConnectionOptions {
  readonly maxFrameBytes: number;
  /** Requests decoded but not yet answered; reading pauses above this. */
  readonly maxInFlight: number;
  readonly logger: Logger;
  /** A request was answered: its handling time and the response (null: none, acks=0). */
  readonly onRequest?: (header: RequestHeader, seconds: number, response: unknown) => void;
  /** SASL the listener requires; absent or null: none. */
  readonly sasl?: SaslSettings | null;
  /** How a mutual-TLS client certificate's subject becomes a principal name (default: the subject as it is). */
  readonly principalMapper?: PrincipalMapper;
  /**
   * The listener's SASL settings as they are now (the users file is reloaded; re-authentications use
   * the current users); default: `sasl`. Must be non-null exactly when `sasl` is.
   */
  readonly currentSasl?: () => SaslSettings;
  /** What SASL sessions report (metrics). */
  readonly saslEvents?: SaslEvents;
}

interface Slot {
  done: boolean;
  chunks: Buffer[] | null;
}

/**
 * Response bytes one connection may have queued in its socket (written, not yet taken by the kernel
 * because the client is not reading); reading that connection pauses at or above this, as it does
 * above the in-flight request limit.
 */
export const MAX_QUEUED_RESPONSE_BYTES = 4 * 1024 * 1024;

/** Largest frame accepted before SASL authentication (Kafka's sasl.server.max.receive.size default). */
const PRE_AUTH_MAX_FRAME_BYTES = 512 * 1024;

const ZONE_PATTERN = /(?:^|[,;\s])(?:ws_az|warpstream_az)=([^,;\s]+)/;

export function zoneFromClientId(clientId: string | null): string | null {
  if (!clientId) return null;
  return ZONE_PATTERN.exec(clientId)?.[1] ?? null;
}

/**
 * Requests answered without the metadata state's freshness mattering, or with their own way to it:
 * Produce (its proposal wakes the tail) and Fetch (a fetch that waits wakes it; one beyond the agent's
 * end catches up), ApiVersions and SASL. Every other request, after a quiet spell in which the tail's
 * polls backed off, is answered from a state read at the tail first (MetadataLog.freshenTail).
 */
const ANSWERED_WITHOUT_FRESH_STATE: ReadonlySet<number> = new Set([
  ApiKey.Produce,
  ApiKey.Fetch,
  ApiKey.ApiVersions,
  ApiKey.SaslHandshake,
  ApiKey.SaslAuthenticate,
]);

/** The read of the tail to wait for before answering, or null to answer at once. */
function freshState(apiKey: number, agent: AgentContext): Promise<void> | null {
  return ANSWERED_WITHOUT_FRESH_STATE.has(apiKey) ? null : agent.metadata.freshenTail();
}

export class Connection {
  private readonly frames = new FrameReader();
  private readonly slots: Slot[] = [];
  private inFlight = 0;
  private closedFlag = false;
  private readonly closedPromise: Promise<void>;
  private resolveClosed!: () => void;
  /**
   * Aborted when the connection closes; requests get its signal. A request adds its listeners for as
   * long as it runs and removes them when it finishes: the signal lives as long as the connection.
   */
  private readonly closing = new AbortController();
  readonly info: ConnectionInfo;
  private readonly sasl: SaslSession;

  constructor(
    private readonly socket: Socket,
    id: number,
    private readonly agent: AgentContext,
    private readonly options: ConnectionOptions,
  ) {
    this.closedPromise = new Promise((r) => (this.resolveClosed = r));
    // One listener per waiting request: as many as requests in flight, which is not bounded by a small number.
    setMaxListeners(0, this.closing.signal);
    // With SASL the SASL user is the principal (as Kafka's SASL_SSL): the certificate is not mapped.
    const certificate = socket instanceof TLSSocket && !options.sasl ? socket.getPeerX509Certificate() : undefined;
    const subject = certificate ? subjectToDn(certificate.subject) : null;
    const tlsPrincipal = subject === null ? null : (options.principalMapper ?? PrincipalMapper.DEFAULT).name(subject);
    this.info = {
      id,
      remoteAddress: `${socket.remoteAddress ?? "?"}:${socket.remotePort ?? "?"}`,
      host: socket.remoteAddress ?? "",
      clientZone: null,
      principal: null,
      tlsPrincipal,
    };
    const initial = options.sasl ?? null;
    this.sasl = new SaslSession(
      initial ? (options.currentSasl ?? (() => initial)) : null,
      options.logger,
      this.info,
      options.saslEvents ? { events: options.saslEvents } : {},
    );
    attachSaslSession(this.info, this.sasl);
    socket.setNoDelay(true);
    socket.on("data", (chunk: Buffer) => this.onData(chunk));
    socket.on("drain", () => this.drainFrames());
    socket.on("error", (err) => this.options.logger.debug("connection error", { conn: id, error: err.message }));
    socket.on("close", () => this.markClosed());
    // Kafka fails the authentication of a client whose certificate no mapping rule applies to.
    if (subject !== null && tlsPrincipal === null)
      this.close(
        `no principal mapping rule (-kafkaTLSPrincipalMappingRules) applies to the client certificate ${subject}`,
      );
  }

  get closed(): Promise<void> {
    return this.closedPromise;
  }

  private markClosed(): void {
    if (this.closedFlag) return;
    this.closedFlag = true;
    this.resolveClosed();
    this.closing.abort();
  }

  /** Closes the connection (malformed input, unsupported API, shutdown). */
  close(reason: string): void {
    if (this.closedFlag) return;
    this.options.logger.info("closing connection", { conn: this.info.id, remote: this.info.remoteAddress, reason });
    this.markClosed();
    this.socket.destroy();
  }

  /** Closes the connection once what was written has been sent (after a refusal the client should read). */
  private closeAfterWrites(reason: string): void {
    if (this.closedFlag) return;
    this.options.logger.info("closing connection", { conn: this.info.id, remote: this.info.remoteAddress, reason });
    this.markClosed();
    this.socket.end();
    setTimeout(() => this.socket.destroy(), 5000).unref();
  }

  private onData(chunk: Buffer): void {
    if (this.closedFlag) return;
    this.frames.push(chunk);
    this.drainFrames();
  }

  /**
   * Whether to handle no further frame for now: this connection's budget is spent (too many requests in
   * flight or too many response bytes queued), or a SASL step is being computed (what follows it
   * depends on its outcome).
   */
  private overBudget(): boolean {
    return (
      this.inFlight >= this.options.maxInFlight ||
      this.socket.writableLength >= MAX_QUEUED_RESPONSE_BYTES ||
      this.sasl.stepping
    );
  }

  /**
   * Handles the frames received so far while the budget allows; over budget, the rest wait in the frame
   * reader and the socket stops being read (TCP back-pressure on the client) until responses are
   * answered and taken by the client.
   */
  private drainFrames(): void {
    while (!this.closedFlag && !this.overBudget()) {
      const size = this.frames.peekSize();
      if (size === null) break;
      const minSize = this.sasl.expectsRawToken ? 0 : 8;
      // Before authentication frames are small (Kafka's sasl.server.max.receive.size): no large buffers for strangers.
      const maxSize = this.sasl.authenticated
        ? this.options.maxFrameBytes
        : Math.min(PRE_AUTH_MAX_FRAME_BYTES, this.options.maxFrameBytes);
      if (size < minSize || size > maxSize) {
        this.close(`frame size ${size} outside ${minSize}..${maxSize}`);
        return;
      }
      const frame = this.frames.take();
      if (frame === null) break;
      this.handleFrame(frame);
    }
    if (this.closedFlag) return;
    if (this.overBudget()) this.socket.pause();
    else if (this.socket.isPaused()) this.socket.resume();
  }

  private handleFrame(frame: Buffer): void {
    if (this.sasl.expectsRawToken) {
      this.handleRawSaslToken(frame);
      return;
    }
    let header: RequestHeader;
    let body: unknown;
    let handler: RegisteredHandler | undefined;
    try {
      const decoded = decodeRequestHeader(frame);
      header = decoded.header;
      const refusal = this.sasl.admit(header.apiKey);
      if (refusal !== null) {
        this.close(refusal);
        return;
      }
      handler = lookupHandler(header.apiKey);
      if (!handler || header.apiVersion < handler.min || header.apiVersion > handler.max || !decoded.known) {
        if (header.apiKey === ApiKey.ApiVersions) {
          this.enqueue(Promise.resolve(this.unsupportedApiVersions(header.correlationId)));
          return;
        }
        this.close(`unsupported API key ${header.apiKey} version ${header.apiVersion}`);
        return;
      }
      const decodedBody = decodeRequestBodyWithTrailer(
        header.apiKey as ApiKeyValue,
        header.apiVersion,
        frame,
        decoded.bodyOffset,
      );
      body = decodedBody.body;
      if (decodedBody.trailingBytes > 0) {
        this.options.logger.debug("ignoring bytes after a request body", {
          conn: this.info.id,
          api: `${apiKeyName(header.apiKey)} v${header.apiVersion}`,
          bytes: decodedBody.trailingBytes,
          clientId: header.clientId,
        });
      }
    } catch (err) {
      this.close(`malformed request: ${errorMessage(err)}`);
      return;
    }
    if (this.info.clientZone === null) {
      const zone = zoneFromClientId(header.clientId);
      if (zone) (this.info as { clientZone: string | null }).clientZone = zone;
    }
    const started = process.hrtime.bigint();
    const ctx: RequestContext = { agent: this.agent, connection: this.info, header, closed: this.closing.signal };
    const answer = (): Promise<Buffer[] | null> =>
      handler.handle(body, ctx).then((result) => {
        this.options.onRequest?.(header, Number(process.hrtime.bigint() - started) / 1e9, result);
        if (result === null) return null;
        return encodeResponse(header.apiKey as ApiKeyValue, header.apiVersion, header.correlationId, result as never);
      });
    // Handled at once unless the state must be read fresh first: a handler may change what this
    // connection reads next before it returns (a SASL step pauses reading, overBudget).
    const fresh = freshState(header.apiKey, this.agent);
    const response = fresh ? fresh.then(answer) : answer();
    this.enqueue(response);
  }

  /** Legacy SASL (after SaslHandshake v0): the frame is a raw token; the answer is a raw size-prefixed token. */
  private handleRawSaslToken(token: Buffer): void {
    const answer = this.sasl.authenticate(Buffer.from(token)).then((result): Buffer[] | null => {
      // Kafka closes a legacy connection on failure without an answer.
      if (result.errorCode !== 0) return null;
      if (this.sasl.principal !== null) this.info.principal = this.sasl.principal;
      const size = Buffer.alloc(4);
      size.writeInt32BE(result.authBytes.length, 0);
      return [size, result.authBytes];
    });
    this.enqueue(answer);
  }

  private unsupportedApiVersions(correlationId: number): Buffer[] {
    const self = lookupHandler(ApiKey.ApiVersions);
    const apiKeys = self ? [{ apiKey: ApiKey.ApiVersions, minVersion: self.min, maxVersion: self.max }] : [];
    return encodeResponse(ApiKey.ApiVersions, 0, correlationId, {
      errorCode: 35,
      apiKeys,
      throttleTimeMs: 0,
    });
  }

  private enqueue(response: Promise<Buffer[] | null>): void {
    const slot: Slot = { done: false, chunks: null };
    this.slots.push(slot);
    this.inFlight++;
    response.then(
      (chunks) => {
        slot.done = true;
        slot.chunks = chunks;
        this.flush();
      },
      (err: unknown) => {
        if (err instanceof MalformedRequestError) {
          this.close(`malformed request: ${err.message}`);
          return;
        }
        this.options.logger.error("request handler failed", {
          conn: this.info.id,
          error: errorMessage(err),
          stack: err instanceof Error ? err.stack : undefined,
        });
        this.close("internal error");
      },
    );
  }

  private flush(): void {
    while (this.slots.length > 0 && this.slots[0]!.done) {
      const slot = this.slots.shift()!;
      this.inFlight--;
      if (this.closedFlag || !slot.chunks) continue;
      if (slot.chunks.length === 1) this.socket.write(slot.chunks[0]!);
      else {
        this.socket.cork();
        for (const c of slot.chunks) this.socket.write(c);
        this.socket.uncork();
      }
    }
    if (this.sasl.failed) {
      // Every answer up to the failed authentication is out; nothing more is served.
      if (this.slots.length === 0) this.closeAfterWrites("SASL authentication failed");
      return;
    }
    this.drainFrames();
  }
}

/** API versions this agent serves, from the handler registry (for ApiVersions). */
export function supportedApiVersions(): Array<{ apiKey: number; minVersion: number; maxVersion: number }> {
  return registeredHandlers().map((h) => ({ apiKey: h.key, minVersion: h.min, maxVersion: h.max }));
}
