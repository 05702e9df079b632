/**
 * Shared by CreateAcls (30), DescribeAcls (29) and DeleteAcls (31): Kafka's wire codes to the ACL model
 * (metadata/acls.ts) and back. A request naming a code Kafka does not define (UNKNOWN, 0, or past the
 * last) is one Kafka refuses to parse: the connection is closed (MalformedRequestError), as Kafka closes
 * it. Everything else is answered, a binding that cannot be created with INVALID_REQUEST and a message.
 */
import type { AclBinding, AclFilter } from "../metadata/acls.js";
import {
  aclBindingProblem,
  OPERATION_CODES,
  operationName,
  PATTERN_TYPE_CODES,
  patternTypeName,
  PERMISSION_CODES,
  permissionName,
  RESOURCE_TYPE_CODES,
  resourceTypeName,
} from "../metadata/acls.js";
import { ErrorCode } from "../protocol/index.js";
import type { RequestContext } from "../server/handler.js";
import { MalformedRequestError } from "../server/handler.js";

/** The four codes of a binding or filter, as they come on the wire. */
interface WireCodes {
  readonly resourceType: number;
  readonly patternType: number;
  readonly operation: number;
  readonly permissionType: number;
}

function names(what: string, codes: WireCodes) {
  const resourceType = resourceTypeName(codes.resourceType);
  const patternType = patternTypeName(codes.patternType);
  const operation = operationName(codes.operation);
  const permissionType = permissionName(codes.permissionType);
  if (resourceType === null) throw new MalformedRequestError(`${what}: unknown resource type ${codes.resourceType}`);
  if (patternType === null) throw new MalformedRequestError(`${what}: unknown pattern type ${codes.patternType}`);
  if (operation === null) throw new MalformedRequestError(`${what}: unknown operation ${codes.operation}`);
  if (permissionType === null)
    throw new MalformedRequestError(`${what}: unknown permission type ${codes.permissionType}`);
  return { resourceType, patternType, operation, permissionType };
}

/** A filter from the wire; throws MalformedRequestError for unknown codes. */
export function filterFromWire(
  what: string,
  wire: WireCodes & {
    readonly resourceName: string | null;
    readonly principal: string | null;
    readonly host: string | null;
  },
): AclFilter {
  return { ...names(what, wire), resourceName: wire.resourceName, principal: wire.principal, host: wire.host };
}

/**
 * A binding to create from the wire: the binding, or why it cannot be created (answered INVALID_REQUEST).
 * Throws MalformedRequestError for unknown codes.
 */
export function bindingFromWire(
  what: string,
  wire: WireCodes & { readonly resourceName: string; readonly principal: string; readonly host: string },
): { readonly binding: AclBinding } | { readonly problem: string } {
  const n = names(what, wire);
  const candidate = {
    resourceType: n.resourceType,
    resourceName: wire.resourceName,
    patternType: n.patternType,
    principal: wire.principal,
    host: wire.host,
    operation: n.operation,
    permissionType: n.permissionType,
  };
  const problem = aclBindingProblem(candidate);
  return problem === null ? { binding: candidate as AclBinding } : { problem };
}

/** A binding's wire codes. */
export function bindingToWire(b: AclBinding) {
  return {
    resourceType: RESOURCE_TYPE_CODES[b.resourceType],
    resourceName: b.resourceName,
    patternType: PATTERN_TYPE_CODES[b.patternType],
    principal: b.principal,
    host: b.host,
    operation: OPERATION_CODES[b.operation],
    permissionType: PERMISSION_CODES[b.permissionType],
  };
}

/** Why a whole ACL request is refused before looking at it, or null: not authorized, or authorization off. */
export function aclRequestRefusal(
  ctx: RequestContext,
  clusterAllowed: boolean,
): { readonly errorCode: number; readonly errorMessage: string } | null {
  if (!clusterAllowed)
    return {
      errorCode: ErrorCode.CLUSTER_AUTHORIZATION_FAILED,
      errorMessage: "Cluster authorization failed.",
    };
  if (!ctx.agent.authorizer.enabled)
    return {
      errorCode: ErrorCode.SECURITY_DISABLED,
      errorMessage: "No Authorizer is configured on the broker (start the agents with -authorizationEnabled).",
    };
  return null;
}
