/**
 * Handler registry: one file per API key under agent/src/handlers/ calls defineHandler() with the
 * version range it supports. ApiVersions is derived from the registry; registering a key twice throws.
 */
import type { ApiKeyValue, RequestHeader, RequestOf, ResponseOf } from "../protocol/index.js";
import type { AgentContext } from "./context.js";

export interface ConnectionInfo {
  readonly id: number;
  readonly remoteAddress: string;
  /** The client's IP address (what ACL hosts are compared with). */
  readonly host: string;
  /** The zone named in the client id (ws_az= / warpstream_az=), if any. */
  readonly clientZone: string | null;
  /** Set once SASL authentication succeeded (null when the listener needs none): the user name. */
  principal: string | null;
  /**
   * The name a mutual-TLS client certificate maps to (security/principal.ts), or null: the principal
   * when the connection does not authenticate with SASL.
   */
  readonly tlsPrincipal: string | null;
}

/**
 * Thrown by a handler for a request that decodes but that Kafka refuses to parse (an ACL request naming
 * an unknown resource type, for example): the connection is closed, as Kafka closes it, and the reason
 * is logged at info like any malformed input.
 */
export class MalformedRequestError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "MalformedRequestError";
  }
}

export interface RequestContext {
  readonly agent: AgentContext;
  readonly connection: ConnectionInfo;
  readonly header: RequestHeader;
  /**
   * Aborted when the connection closes (long polls stop waiting). It lives as long as the connection:
   * a listener added to it must be removed when the request finishes.
   */
  readonly closed: AbortSignal;
}

/** A handler returns the response body, or null to send no response (Produce with acks=0). */
export type HandlerFn<K extends ApiKeyValue> = (
  request: RequestOf<K>,
  ctx: RequestContext,
) => Promise<ResponseOf<K> | null>;

export interface HandlerSpec<K extends ApiKeyValue> {
  readonly key: K;
  /** Lowest version accepted (advertised in ApiVersions). */
  readonly min: number;
  /** Highest version accepted (advertised in ApiVersions). */
  readonly max: number;
}

export interface RegisteredHandler {
  readonly key: ApiKeyValue;
  readonly min: number;
  readonly max: number;
  readonly handle: (request: unknown, ctx: RequestContext) => Promise<unknown>;
}

const registry = new Map<number, RegisteredHandler>();

export function defineHandler<K extends ApiKeyValue>(spec: HandlerSpec<K>, fn: HandlerFn<K>): RegisteredHandler {
  if (registry.has(spec.key)) throw new Error(`handler for API key ${spec.key} registered twice`);
  if (spec.min > spec.max) throw new Error(`handler for API key ${spec.key}: min ${spec.min} > max ${spec.max}`);
  const handler: RegisteredHandler = {
    key: spec.key,
    min: spec.min,
    max: spec.max,
    handle: (request, ctx) => fn(request as RequestOf<K>, ctx),
  };
  registry.set(spec.key, handler);
  return handler;
}

export function lookupHandler(key: number): RegisteredHandler | undefined {
  return registry.get(key);
}

export function registeredHandlers(): RegisteredHandler[] {
  return [...registry.values()].sort((a, b) => a.key - b.key);
}
