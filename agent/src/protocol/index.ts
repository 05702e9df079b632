/**
 * Sans-I/O Kafka protocol codec: request/response headers and bodies for every API in MESSAGES, for
 * both directions (server: decode requests, encode responses; client: the reverse, used by tests).
 * Frames are passed WITHOUT their 4-byte size prefix when decoding; encoders return size-prefixed
 * bytes. Every decoding failure is a ProtocolError.
 *
 * Header rules: request header v2 (with a tagged-field block) for flexible versions, v1 otherwise;
 * response header v1 (tagged fields) for flexible versions except ApiVersions, whose response header
 * is always v0 (KIP-511). The client id is an int16-length nullable string in every header version.
 */
import { compileStruct, decodeStruct, encodeStruct } from "./codec/engine.js";
import type { CompiledStruct } from "./codec/engine.js";
import { Reader } from "./codec/reader.js";
import { Writer } from "./codec/writer.js";
import { ApiKey, apiKeyName } from "./api-keys.js";
import type { ApiKeyValue } from "./api-keys.js";
import { ProtocolError } from "./codec/errors.js";
import { MESSAGES } from "./messages/index.js";
import type { Decoded, Encodable, MessageDef } from "./codec/schema.js";
import { parseVersionRange } from "./codec/schema.js";

export { ApiKey, apiKeyName, isApiKey } from "./api-keys.js";
export type { ApiKeyName, ApiKeyValue } from "./api-keys.js";
export { ErrorCode, errorCodeName, isRetriable } from "./error-codes.js";
export type { ErrorCodeName, ErrorCodeValue } from "./error-codes.js";
export { ProtocolError } from "./codec/errors.js";
export { ZERO_UUID } from "./codec/engine.js";
export { Reader } from "./codec/reader.js";
export { Writer } from "./codec/writer.js";
export { MESSAGES } from "./messages/index.js";
export type { Decoded, Encodable, FieldDef, MessageDef } from "./codec/schema.js";

type Messages = typeof MESSAGES;
type RequestDef<K extends ApiKeyValue> = Messages[K]["request"];
type ResponseDef<K extends ApiKeyValue> = Messages[K]["response"];

/** A decoded request body (every field present; records are subarrays of the frame). */
export type RequestOf<K extends ApiKeyValue> = Decoded<RequestDef<K>>;
/** A request body as accepted by encodeRequest (version-limited and tagged fields may be left out). */
export type RequestInputOf<K extends ApiKeyValue> = Encodable<RequestDef<K>>;
/** A response body as handlers build it (version-limited and tagged fields may be left out; records may be chunks). */
export type ResponseOf<K extends ApiKeyValue> = Encodable<ResponseDef<K>>;
/** A decoded response body (every field present). */
export type DecodedResponseOf<K extends ApiKeyValue> = Decoded<ResponseDef<K>>;

export interface RequestHeader {
  apiKey: number;
  apiVersion: number;
  correlationId: number;
  clientId: string | null;
}

export interface VersionInfo {
  readonly min: number;
  readonly max: number;
  /** First flexible version, or null when no version is flexible. */
  readonly flexibleFrom: number | null;
}

function versionInfo(def: MessageDef): VersionInfo {
  const valid = parseVersionRange(def.validVersions);
  const flex = def.flexibleVersions === "none" ? null : parseVersionRange(def.flexibleVersions).min;
  return { min: valid.min, max: valid.max, flexibleFrom: flex !== null && flex <= valid.max ? flex : null };
}

export const MESSAGE_VERSIONS = Object.fromEntries(
  Object.keys(MESSAGES).map((k) => [Number(k), versionInfo(MESSAGES[Number(k) as ApiKeyValue].request)]),
) as Record<ApiKeyValue, VersionInfo>;

function lookupVersions(apiKey: number): VersionInfo | undefined {
  return (MESSAGE_VERSIONS as Record<number, VersionInfo | undefined>)[apiKey];
}

function checkedVersions(apiKey: number, apiVersion: number): VersionInfo {
  const info = lookupVersions(apiKey);
  if (!info) throw new ProtocolError(`unknown API key ${apiKey}`);
  if (!Number.isInteger(apiVersion) || apiVersion < info.min || apiVersion > info.max) {
    throw new ProtocolError(`unsupported version ${apiVersion} of ${apiKeyName(apiKey)} (${info.min}-${info.max})`);
  }
  return info;
}

/** True when (apiKey, apiVersion) is known and flexible. */
export function isFlexible(apiKey: number, apiVersion: number): boolean {
  const info = lookupVersions(apiKey);
  return !!info && info.flexibleFrom !== null && apiVersion >= info.flexibleFrom && apiVersion <= info.max;
}

// Compiled plans, built lazily per (key, version, direction).
const plans = new Map<number, CompiledStruct>();

function plan(apiKey: number, apiVersion: number, response: boolean): CompiledStruct {
  const id = (apiKey << 9) | (apiVersion << 1) | (response ? 1 : 0);
  let p = plans.get(id);
  if (!p) {
    const info = checkedVersions(apiKey, apiVersion);
    const entry = MESSAGES[apiKey as ApiKeyValue];
    const def: MessageDef = response ? entry.response : entry.request;
    p = compileStruct(def.fields, apiVersion, info.flexibleFrom !== null && apiVersion >= info.flexibleFrom);
    plans.set(id, p);
  }
  return p;
}

/**
 * Reads the request header. Unknown keys or versions still yield apiKey/apiVersion/correlationId/
 * clientId (`known` false), so the server can answer ApiVersions with UNSUPPORTED_VERSION or close.
 */
export function decodeRequestHeader(frame: Buffer): { header: RequestHeader; bodyOffset: number; known: boolean } {
  const r = new Reader(frame);
  const apiKey = r.int16();
  const apiVersion = r.int16();
  const correlationId = r.int32();
  const clientId = r.nullableString();
  const info = lookupVersions(apiKey);
  const known = !!info && apiVersion >= info.min && apiVersion <= info.max;
  if (known && isFlexible(apiKey, apiVersion)) r.taggedFields(null);
  return { header: { apiKey, apiVersion, correlationId, clientId }, bodyOffset: r.pos, known };
}

function checkConsumed(r: Reader, what: string): void {
  if (r.pos !== r.end) throw new ProtocolError(`${r.end - r.pos} unexpected bytes after the ${what}`);
}

/** A decoded request body and the number of bytes the frame still held after it. */
export interface DecodedRequestBody<K extends ApiKeyValue> {
  readonly body: RequestOf<K>;
  readonly trailingBytes: number;
}

/**
 * Decodes a request body starting at `bodyOffset` of the frame (which has no size prefix) and reports
 * the bytes left after it. Like Kafka, which parses a request and ignores what follows its body, bytes
 * after a complete body are not an error (some client versions send them); a body cut short is.
 */
export function decodeRequestBodyWithTrailer<K extends ApiKeyValue>(
  apiKey: K,
  apiVersion: number,
  frame: Buffer,
  bodyOffset: number,
): DecodedRequestBody<K> {
  const p = plan(apiKey, apiVersion, false);
  const r = new Reader(frame, bodyOffset);
  const body = decodeStruct(r, p) as RequestOf<K>;
  return { body, trailingBytes: r.remaining };
}

/** Decodes a request body starting at `bodyOffset` of the frame; bytes after the body are ignored. */
export function decodeRequestBody<K extends ApiKeyValue>(
  apiKey: K,
  apiVersion: number,
  frame: Buffer,
  bodyOffset: number,
): RequestOf<K> {
  return decodeRequestBodyWithTrailer(apiKey, apiVersion, frame, bodyOffset).body;
}

/** Decodes a whole request frame (no size prefix): header and body. */
export function decodeRequest(frame: Buffer): { header: RequestHeader; body: unknown } {
  const { header, bodyOffset, known } = decodeRequestHeader(frame);
  if (!known) checkedVersions(header.apiKey, header.apiVersion);
  return { header, body: decodeRequestBody(header.apiKey as ApiKeyValue, header.apiVersion, frame, bodyOffset) };
}

/**
 * Encodes a size-prefixed response as chunks (large records buffers are passed through, not copied).
 * Response header v0 for non-flexible versions and always for ApiVersions; v1 otherwise.
 */
export function encodeResponse<K extends ApiKeyValue>(
  apiKey: K,
  apiVersion: number,
  correlationId: number,
  body: ResponseOf<K>,
): Buffer[] {
  const p = plan(apiKey, apiVersion, true);
  const w = new Writer(256);
  w.int32(0);
  w.int32(correlationId);
  if (p.flexible && apiKey !== ApiKey.ApiVersions) w.uvarint(0);
  encodeStruct(w, p, body);
  const size = w.length - 4;
  w.patchInt32(0, size);
  return w.finish();
}

/** Encodes a size-prefixed request (client direction). */
export function encodeRequest<K extends ApiKeyValue>(
  header: RequestHeader & { apiKey: K },
  body: RequestInputOf<K>,
): Buffer {
  const p = plan(header.apiKey, header.apiVersion, false);
  const w = new Writer(256);
  w.int32(0);
  w.int16(header.apiKey);
  w.int16(header.apiVersion);
  w.int32(header.correlationId);
  w.nullableString(header.clientId);
  if (p.flexible) w.uvarint(0);
  encodeStruct(w, p, body);
  w.patchInt32(0, w.length - 4);
  return w.finishBuffer();
}

/** Decodes a response frame (no size prefix) of the given API and version (client direction). */
export function decodeResponse<K extends ApiKeyValue>(
  apiKey: K,
  apiVersion: number,
  frame: Buffer,
): { correlationId: number; body: DecodedResponseOf<K> } {
  const p = plan(apiKey, apiVersion, true);
  const r = new Reader(frame);
  const correlationId = r.int32();
  if (p.flexible && apiKey !== ApiKey.ApiVersions) r.taggedFields(null);
  const body = decodeStruct(r, p);
  checkConsumed(r, `${apiKeyName(apiKey)} v${apiVersion} response`);
  return { correlationId, body: body as DecodedResponseOf<K> };
}
