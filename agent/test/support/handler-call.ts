/**
 * Runs a registered handler the way a connection does: the request encoded and decoded at a version,
 * the handler called with a request context, the response encoded and decoded again.
 */
import assert from "node:assert/strict";
import "../../src/handlers/index.js";
import { decodeRequest, decodeResponse, encodeRequest, encodeResponse } from "../../src/protocol/index.js";
import type { ApiKeyValue, DecodedResponseOf, RequestInputOf, ResponseOf } from "../../src/protocol/index.js";
import type { AgentContext } from "../../src/server/context.js";
import type { ConnectionInfo } from "../../src/server/handler.js";
import { lookupHandler } from "../../src/server/handler.js";

let correlation = 0;

export async function callHandler<K extends ApiKeyValue>(
  agent: AgentContext,
  key: K,
  version: number,
  request: RequestInputOf<K>,
  closed: AbortSignal = new AbortController().signal,
  connection: Partial<ConnectionInfo> = {},
): Promise<DecodedResponseOf<K>> {
  const handler = lookupHandler(key);
  assert.ok(handler, `no handler for API key ${key}`);
  const correlationId = ++correlation;
  const frame = encodeRequest({ apiKey: key, apiVersion: version, correlationId, clientId: "handler-test" }, request);
  const decoded = decodeRequest(frame.subarray(4));
  const response = await handler.handle(decoded.body, {
    agent,
    connection: {
      id: 1,
      remoteAddress: "127.0.0.1",
      host: "127.0.0.1",
      clientZone: null,
      principal: null,
      tlsPrincipal: null,
      ...connection,
    },
    header: decoded.header,
    closed,
  });
  assert.ok(response !== null, "the handler answered");
  const bytes = Buffer.concat(encodeResponse(key, version, correlationId, response as ResponseOf<K>));
  const out = decodeResponse(key, version, bytes.subarray(4));
  assert.equal(out.correlationId, correlationId);
  return out.body;
}
