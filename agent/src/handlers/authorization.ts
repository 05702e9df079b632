/**
 * What the handlers ask the authorizer (security/authorizer.ts), with the request's session (principal
 * and client host) and API name filled in. With authorization off every answer is "allowed" and no ACL is
 * looked at. The operations each API checks follow Kafka's KafkaApis (docs/security.md lists them).
 */
import type { AclResourceType } from "../metadata/acls.js";
import { CLUSTER_RESOURCE_NAME } from "../metadata/acls.js";
import { apiKeyName } from "../protocol/index.js";
import type { RequestedOperation, Session } from "../security/authorizer.js";
import { sessionOf } from "../security/authorizer.js";
import type { RequestContext } from "../server/handler.js";

export function session(ctx: RequestContext): Session {
  return sessionOf(ctx.connection);
}

/** Whether the request's principal may perform `op` on `name` of `type`; a denial is logged at debug unless `logIfDenied` is false. */
export function allowed(
  ctx: RequestContext,
  op: RequestedOperation,
  type: AclResourceType,
  name: string,
  logIfDenied = true,
): boolean {
  const authorizer = ctx.agent.authorizer;
  if (!authorizer.enabled) return true;
  return authorizer.authorize(session(ctx), op, type, name, { api: apiKeyName(ctx.header.apiKey), logIfDenied });
}

/** Whether the request's principal may perform `op` on the cluster. */
export function clusterAllowed(ctx: RequestContext, op: RequestedOperation, logIfDenied = true): boolean {
  return allowed(ctx, op, "CLUSTER", CLUSTER_RESOURCE_NAME, logIfDenied);
}

/** The names among `names` the principal may perform `op` on (each asked once). */
export function allowedNames(
  ctx: RequestContext,
  op: RequestedOperation,
  type: AclResourceType,
  names: Iterable<string>,
  logIfDenied = true,
): Set<string> {
  if (!ctx.agent.authorizer.enabled) return new Set(names);
  const out = new Set<string>();
  const asked = new Set<string>();
  for (const name of names) {
    if (asked.has(name)) continue;
    asked.add(name);
    if (allowed(ctx, op, type, name, logIfDenied)) out.add(name);
  }
  return out;
}

/** Kafka's authorized-operations bit field for a resource (every operation of the type with authorization off). */
export function authorizedOperations(ctx: RequestContext, type: AclResourceType, name: string): number {
  return ctx.agent.authorizer.authorizedOperations(session(ctx), type, name);
}
