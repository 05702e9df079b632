/**
 * The authorizer: decides whether a principal, connected from a host, may perform an operation on a
 * resource, from the ACL bindings in the metadata log's fold (metadata/acls.ts), as Kafka's
 * StandardAuthorizer (formerly AclAuthorizer) decides:
 *
 *   1. a super user (-superUsers) may do everything;
 *   2. the bindings whose pattern matches the resource are found (literal with its name, the literal
 *      wildcard `*`, prefixed ones that start it); of those, a binding applies when its principal is the
 *      session's or `User:*`, its host is the session's IP or `*`, and its operation is the one asked,
 *      ALL, or — for ALLOW bindings only — one that implies it (READ, WRITE, DELETE and ALTER imply
 *      DESCRIBE; ALTER_CONFIGS implies DESCRIBE_CONFIGS);
 *   3. any DENY that applies denies (deny before allow); else any ALLOW that applies allows;
 *   4. no binding applies: denied when the resource has bindings (for anybody), otherwise
 *      -allowEveryoneIfNoAclFound decides (false by default, as in Kafka).
 *
 * With authorization off every request is allowed and no binding is looked at. Denials are logged at
 * debug with the principal, host, operation and resource (Kafka's authorizer log writes them at info);
 * the principal is a name, never a credential.
 */
import type { Logger } from "../../../common/logger.js";
import type { AclOperation, AclResourceType, AclStore, IndexedAcl } from "../metadata/acls.js";
import {
  canonicalHost,
  OPERATION_CODES,
  SUPPORTED_OPERATIONS,
  WILDCARD,
  WILDCARD_PRINCIPAL,
} from "../metadata/acls.js";
import { ANONYMOUS } from "./principal.js";

export interface AuthorizationConfig {
  readonly enabled: boolean;
  /** Principals allowed everything, e.g. `User:admin`. */
  readonly superUsers: readonly string[];
  /** What a resource without any binding allows: everything (true) or nothing (false, the default). */
  readonly allowEveryoneIfNoAclFound: boolean;
}

export const AUTHORIZATION_OFF: AuthorizationConfig = {
  enabled: false,
  superUsers: [],
  allowEveryoneIfNoAclFound: false,
};

/** Who asks, from where: `User:<name>` and the client's IP address. */
export interface Session {
  readonly principal: string;
  readonly host: string;
}

/** An operation asked for: never ALL (ALL only appears in bindings). */
export type RequestedOperation = Exclude<AclOperation, "ALL">;

/** The outcome and the rule that decided it (for logs and tests). */
export interface Decision {
  readonly allowed: boolean;
  readonly rule: "super user" | "deny acl" | "allow acl" | "no acl: allow everyone" | "no acl: deny" | "no match";
}

const IMPLIES_DESCRIBE: ReadonlySet<AclOperation> = new Set(["DESCRIBE", "READ", "WRITE", "DELETE", "ALTER"]);
const IMPLIES_DESCRIBE_CONFIGS: ReadonlySet<AclOperation> = new Set(["DESCRIBE_CONFIGS", "ALTER_CONFIGS"]);

/** Whether a binding applies to the session and operation: "allow", "deny", or null (it does not). */
function applies(acl: IndexedAcl, session: Session, op: RequestedOperation): "allow" | "deny" | null {
  const b = acl.binding;
  if (b.principal !== session.principal && b.principal !== WILDCARD_PRINCIPAL) return null;
  if (acl.host !== WILDCARD && acl.host !== session.host) return null;
  if (b.operation !== "ALL") {
    if (b.permissionType === "ALLOW") {
      if (op === "DESCRIBE") {
        if (!IMPLIES_DESCRIBE.has(b.operation)) return null;
      } else if (op === "DESCRIBE_CONFIGS") {
        if (!IMPLIES_DESCRIBE_CONFIGS.has(b.operation)) return null;
      } else if (b.operation !== op) return null;
    } else if (b.operation !== op) return null;
  }
  return b.permissionType === "ALLOW" ? "allow" : "deny";
}

/** The decision for one action (pure: the bindings, the session and the settings decide). */
export function decide(
  acls: AclStore,
  config: AuthorizationConfig,
  session: Session,
  op: RequestedOperation,
  type: AclResourceType,
  name: string,
): Decision {
  if (config.superUsers.includes(session.principal)) return { allowed: true, rule: "super user" };
  const matching = acls.patternMatches(type, name);
  let allowed = false;
  for (const acl of matching) {
    const verdict = applies(acl, session, op);
    if (verdict === "deny") return { allowed: false, rule: "deny acl" };
    if (verdict === "allow") allowed = true;
  }
  if (allowed) return { allowed: true, rule: "allow acl" };
  if (matching.length === 0)
    return config.allowEveryoneIfNoAclFound
      ? { allowed: true, rule: "no acl: allow everyone" }
      : { allowed: false, rule: "no acl: deny" };
  return { allowed: false, rule: "no match" };
}

/**
 * Whether the session may perform `op` on at least one resource of `type`, as Kafka's
 * Authorizer.authorizeByResourceType decides (InitProducerId without a transactional id asks it for WRITE
 * on some topic): allowed when it may on a resource named by no binding (super users, or
 * -allowEveryoneIfNoAclFound with no binding for it), or when an ALLOW binding for the operation (or ALL)
 * names some resource that no DENY binding covers — a literal wildcard DENY denies outright, a literal
 * name is covered by a literal DENY of that name or a prefixed DENY of any of its prefixes, a prefix by
 * a prefixed DENY of one of its prefixes. Implied operations do not count here, as in Kafka.
 */
export function decideByResourceType(
  acls: AclStore,
  config: AuthorizationConfig,
  session: Session,
  op: RequestedOperation,
  type: AclResourceType,
): boolean {
  if (decide(acls, config, session, op, type, "hardcode").allowed) return true;
  const denyLiteral = new Set<string>();
  const denyPrefixed = new Set<string>();
  const allowLiteral = new Set<string>();
  const allowPrefixed = new Set<string>();
  let wildcardAllow = false;
  for (const acl of acls.ofType(type)) {
    const b = acl.binding;
    if (acl.host !== session.host && acl.host !== WILDCARD) continue;
    if (b.principal !== session.principal && b.principal !== WILDCARD_PRINCIPAL) continue;
    if (b.operation !== op && b.operation !== "ALL") continue;
    if (b.permissionType === "DENY") {
      if (b.patternType === "LITERAL") {
        if (b.resourceName === WILDCARD) return false;
        denyLiteral.add(b.resourceName);
      } else denyPrefixed.add(b.resourceName);
      continue;
    }
    if (b.patternType === "LITERAL") {
      if (b.resourceName === WILDCARD) wildcardAllow = true;
      else allowLiteral.add(b.resourceName);
    } else allowPrefixed.add(b.resourceName);
  }
  if (wildcardAllow) return true;
  const dominated = (name: string) => {
    for (let i = 1; i <= name.length; i++) if (denyPrefixed.has(name.slice(0, i))) return true;
    return false;
  };
  for (const name of allowLiteral) if (!denyLiteral.has(name) && !dominated(name)) return true;
  for (const name of allowPrefixed) if (!dominated(name)) return true;
  return false;
}

export interface AuthorizeOptions {
  /** The API asking (for the debug log of a denial). */
  readonly api?: string;
  /** Log a denial (false when the answer only filters a listing, as Kafka's logIfDenied). */
  readonly logIfDenied?: boolean;
}

/** The agent's authorizer: the settings, and the current bindings read from the fold at each call. */
export class Authorizer {
  constructor(
    readonly config: AuthorizationConfig,
    private readonly acls: () => AclStore,
    private readonly logger: Logger | null,
  ) {}

  /** An authorizer that allows everything (authorization off). */
  static off(): Authorizer {
    return new Authorizer(
      AUTHORIZATION_OFF,
      () => {
        throw new Error("an authorizer that is off reads no ACLs");
      },
      null,
    );
  }

  get enabled(): boolean {
    return this.config.enabled;
  }

  /** Whether the session may perform `op` on resource `name` of `type` (always, with authorization off). */
  authorize(
    session: Session,
    op: RequestedOperation,
    type: AclResourceType,
    name: string,
    options: AuthorizeOptions = {},
  ): boolean {
    if (!this.config.enabled) return true;
    const decision = decide(this.acls(), this.config, session, op, type, name);
    if (!decision.allowed && options.logIfDenied !== false)
      this.logger?.debug("authorization denied", {
        host: session.host,
        operation: op,
        resource: `${type}:${name}`,
        ...(options.api !== undefined ? { api: options.api } : {}),
        rule: decision.rule,
      });
    return decision.allowed;
  }

  /** Whether the session may perform `op` on some resource of `type` (decideByResourceType). */
  authorizeByResourceType(session: Session, op: RequestedOperation, type: AclResourceType): boolean {
    if (!this.config.enabled) return true;
    return decideByResourceType(this.acls(), this.config, session, op, type);
  }

  /**
   * The operations of `type` the session may perform on `name`, as Kafka's authorized-operations bit
   * field (bit n set for operation code n); every operation the type has with authorization off.
   */
  authorizedOperations(session: Session, type: AclResourceType, name: string): number {
    let bits = 0;
    for (const op of SUPPORTED_OPERATIONS[type]) {
      const allowed =
        !this.config.enabled || decide(this.acls(), this.config, session, op as RequestedOperation, type, name).allowed;
      if (allowed) bits |= 1 << OPERATION_CODES[op];
    }
    return bits;
  }
}

/** A session as the authorizer sees it, from what the connection learned (see principal.ts). */
export function sessionOf(connection: {
  readonly principal: string | null;
  readonly tlsPrincipal: string | null;
  readonly host: string;
}): Session {
  const principal =
    connection.principal !== null
      ? `User:${connection.principal}`
      : connection.tlsPrincipal !== null
        ? `User:${connection.tlsPrincipal}`
        : ANONYMOUS;
  return { principal, host: canonicalHost(connection.host) };
}
