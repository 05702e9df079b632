/**
 * ACL bindings, part of the fold (state.ts), in Kafka's model: a binding allows or denies one principal,
 * from one host (or any: `*`), one operation on the resources one pattern names — a literal name (`*`
 * for every resource of the type) or a prefix. CreateAcls adds bindings (`createAcls`), DeleteAcls
 * removes those matching filters (`deleteAcls`), every agent folds both in log order, so every agent
 * decides with the same set (security/authorizer.ts).
 *
 * Bindings are kept in the log and in snapshots with Kafka's names (TOPIC, LITERAL, READ, ALLOW, ...);
 * the wire carries Kafka's codes (tables below). Validation is strict and shared by the handlers (which
 * answer INVALID_REQUEST per binding) and the fold (which skips a malformed command identically on every
 * agent): a resource type this agent has resources of (TOPIC, GROUP, CLUSTER, TRANSACTIONAL_ID), a
 * LITERAL or PREFIXED pattern with a non-empty name (`kafka-cluster` for CLUSTER), a `User:` principal, a
 * host that is `*` or an IP address, an operation that applies to the resource type, ALLOW or DENY.
 */
import { isIP } from "node:net";

/** Kafka's ResourceType codes. */
export const RESOURCE_TYPE_CODES = {
  UNKNOWN: 0,
  ANY: 1,
  TOPIC: 2,
  GROUP: 3,
  CLUSTER: 4,
  TRANSACTIONAL_ID: 5,
  DELEGATION_TOKEN: 6,
  USER: 7,
} as const;

/** Kafka's PatternType codes. */
export const PATTERN_TYPE_CODES = { UNKNOWN: 0, ANY: 1, MATCH: 2, LITERAL: 3, PREFIXED: 4 } as const;

/** Kafka's AclOperation codes. */
export const OPERATION_CODES = {
  UNKNOWN: 0,
  ANY: 1,
  ALL: 2,
  READ: 3,
  WRITE: 4,
  CREATE: 5,
  DELETE: 6,
  ALTER: 7,
  DESCRIBE: 8,
  CLUSTER_ACTION: 9,
  DESCRIBE_CONFIGS: 10,
  ALTER_CONFIGS: 11,
  IDEMPOTENT_WRITE: 12,
  CREATE_TOKENS: 13,
  DESCRIBE_TOKENS: 14,
} as const;

/** Kafka's AclPermissionType codes. */
export const PERMISSION_CODES = { UNKNOWN: 0, ANY: 1, DENY: 2, ALLOW: 3 } as const;

export type ResourceTypeName = Exclude<keyof typeof RESOURCE_TYPE_CODES, "UNKNOWN">;
export type PatternTypeName = Exclude<keyof typeof PATTERN_TYPE_CODES, "UNKNOWN">;
export type OperationName = Exclude<keyof typeof OPERATION_CODES, "UNKNOWN">;
export type PermissionName = Exclude<keyof typeof PERMISSION_CODES, "UNKNOWN">;

/** The resource types bindings may name: those this agent has resources of. */
export type AclResourceType = "TOPIC" | "GROUP" | "CLUSTER" | "TRANSACTIONAL_ID";
/** Operations a binding names (ANY only exists in filters). */
export type AclOperation = Exclude<OperationName, "ANY">;

/** The only name of the CLUSTER resource. */
export const CLUSTER_RESOURCE_NAME = "kafka-cluster";
/** A literal resource name matching every resource of its type; a host or principal name matching any. */
export const WILDCARD = "*";
export const WILDCARD_PRINCIPAL = "User:*";

/** Operations that apply to each resource type (Kafka's AclEntry.supportedOperations), ALL aside. */
export const SUPPORTED_OPERATIONS: Readonly<Record<AclResourceType, readonly AclOperation[]>> = {
  TOPIC: ["READ", "WRITE", "CREATE", "DESCRIBE", "DELETE", "ALTER", "DESCRIBE_CONFIGS", "ALTER_CONFIGS"],
  GROUP: ["READ", "DESCRIBE", "DELETE", "DESCRIBE_CONFIGS", "ALTER_CONFIGS"],
  CLUSTER: ["CREATE", "CLUSTER_ACTION", "DESCRIBE_CONFIGS", "ALTER_CONFIGS", "IDEMPOTENT_WRITE", "ALTER", "DESCRIBE"],
  TRANSACTIONAL_ID: ["DESCRIBE", "WRITE"],
};

/** One ACL binding, as the log, snapshots and the authorizer keep it. */
export interface AclBinding {
  readonly resourceType: AclResourceType;
  readonly resourceName: string;
  readonly patternType: "LITERAL" | "PREFIXED";
  /** `User:<name>` or `User:*`. */
  readonly principal: string;
  /** `*` or an IP address, as given. */
  readonly host: string;
  readonly operation: AclOperation;
  readonly permissionType: "ALLOW" | "DENY";
}

/** A filter over bindings (DescribeAcls, DeleteAcls): null and ANY match anything; MATCH as in Kafka. */
export interface AclFilter {
  readonly resourceType: ResourceTypeName;
  readonly resourceName: string | null;
  readonly patternType: PatternTypeName;
  readonly principal: string | null;
  readonly host: string | null;
  readonly operation: OperationName;
  readonly permissionType: PermissionName;
}

function nameOf<T extends Record<string, number>>(table: T, code: number): Exclude<keyof T, "UNKNOWN"> | null {
  for (const [name, value] of Object.entries(table)) if (value === code && name !== "UNKNOWN") return name as never;
  return null;
}

/** Name of a wire code, or null for UNKNOWN (0) and codes Kafka does not define. */
export const resourceTypeName = (code: number): ResourceTypeName | null => nameOf(RESOURCE_TYPE_CODES, code);
export const patternTypeName = (code: number): PatternTypeName | null => nameOf(PATTERN_TYPE_CODES, code);
export const operationName = (code: number): OperationName | null => nameOf(OPERATION_CODES, code);
export const permissionName = (code: number): PermissionName | null => nameOf(PERMISSION_CODES, code);

const isResourceType = (v: unknown): v is AclResourceType =>
  v === "TOPIC" || v === "GROUP" || v === "CLUSTER" || v === "TRANSACTIONAL_ID";
const isKey = <T extends object>(table: T, v: unknown): v is Exclude<keyof T, "UNKNOWN"> =>
  typeof v === "string" && v !== "UNKNOWN" && Object.prototype.hasOwnProperty.call(table, v);

const PRINCIPAL = /^User:(.+)$/s;

/** Why `principal` cannot be named in a binding (`User:<name>` or `User:*`), or null. */
export function principalProblem(principal: string): string | null {
  const m = PRINCIPAL.exec(principal);
  if (!m) {
    const hint = /^[^:]+:./s.test(principal)
      ? ` (principal types are case-sensitive and only User principals exist here)`
      : "";
    return `principal ${JSON.stringify(principal)} is not of the form User:<name> or User:*${hint}`;
  }
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(m[1]!)) return "principal contains control characters";
  return null;
}

/**
 * The form hosts are compared in: `*` as is, IPv4 dotted, IPv6 compressed in lowercase, an IPv4-mapped
 * IPv6 address (how a dual-stack socket reports an IPv4 client) as the IPv4 address, as Java's
 * InetAddress reports it. Anything else is returned unchanged (it never equals an IP address).
 */
export function canonicalHost(host: string): string {
  if (host === WILDCARD) return host;
  const kind = isIP(host);
  if (kind === 4) return host;
  if (kind !== 6 || host.includes("%")) return host;
  let compressed: string;
  try {
    compressed = new URL(`http://[${host}]/`).hostname.slice(1, -1);
  } catch {
    return host;
  }
  const mapped = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(compressed);
  if (mapped) {
    const hi = parseInt(mapped[1]!, 16);
    const lo = parseInt(mapped[2]!, 16);
    return `${hi >> 8}.${hi & 0xff}.${lo >> 8}.${lo & 0xff}`;
  }
  return compressed;
}

/** Why `host` cannot be named in a binding (`*` or an IP address without a zone), or null. */
export function hostProblem(host: string): string | null {
  if (host === WILDCARD) return null;
  if (isIP(host) === 0 || host.includes("%"))
    return `host ${JSON.stringify(host)} is neither * nor an IP address (host names are not resolved)`;
  return null;
}

/**
 * Why a value is not a valid binding, or null. Takes what the log holds (any JSON) as well as what a
 * handler built, so it checks every field's type too.
 */
export function aclBindingProblem(value: unknown): string | null {
  if (typeof value !== "object" || value === null) return "ACL binding is not an object";
  const b = value as Record<string, unknown>;
  if (!isResourceType(b.resourceType))
    return `resource type ${String(b.resourceType)} cannot be named in an ACL here (TOPIC, GROUP, CLUSTER or TRANSACTIONAL_ID)`;
  if (typeof b.resourceName !== "string" || b.resourceName === "") return "resource name must not be empty";
  if (b.resourceType === "CLUSTER" && b.resourceName !== CLUSTER_RESOURCE_NAME)
    return `the only valid name for the CLUSTER resource is ${CLUSTER_RESOURCE_NAME}`;
  if (b.patternType !== "LITERAL" && b.patternType !== "PREFIXED")
    return `pattern type ${String(b.patternType)} cannot be named in an ACL (LITERAL or PREFIXED)`;
  if (typeof b.principal !== "string") return "principal must be a string";
  const principal = principalProblem(b.principal);
  if (principal) return principal;
  if (typeof b.host !== "string") return "host must be a string";
  const host = hostProblem(b.host);
  if (host) return host;
  if (!isKey(OPERATION_CODES, b.operation) || b.operation === "ANY")
    return `operation ${String(b.operation)} cannot be named in an ACL`;
  const supported = SUPPORTED_OPERATIONS[b.resourceType];
  if (b.operation !== "ALL" && !supported.includes(b.operation))
    return `operation ${b.operation} does not apply to ${b.resourceType} resources (ALL, ${supported.join(", ")})`;
  if (b.permissionType !== "ALLOW" && b.permissionType !== "DENY")
    return `permission type ${String(b.permissionType)} cannot be named in an ACL (ALLOW or DENY)`;
  const extra = Object.keys(b).find((k) => !BINDING_FIELDS.has(k));
  if (extra !== undefined) return `ACL binding has an unknown field ${JSON.stringify(extra)}`;
  return null;
}

const BINDING_FIELDS = new Set([
  "resourceType",
  "resourceName",
  "patternType",
  "principal",
  "host",
  "operation",
  "permissionType",
]);

/** Why a value is not a valid filter, or null. */
export function aclFilterProblem(value: unknown): string | null {
  if (typeof value !== "object" || value === null) return "ACL filter is not an object";
  const f = value as Record<string, unknown>;
  if (!isKey(RESOURCE_TYPE_CODES, f.resourceType)) return `unknown resource type filter ${String(f.resourceType)}`;
  if (!isKey(PATTERN_TYPE_CODES, f.patternType)) return `unknown pattern type filter ${String(f.patternType)}`;
  if (!isKey(OPERATION_CODES, f.operation)) return `unknown operation filter ${String(f.operation)}`;
  if (!isKey(PERMISSION_CODES, f.permissionType)) return `unknown permission type filter ${String(f.permissionType)}`;
  for (const field of ["resourceName", "principal", "host"] as const)
    if (f[field] !== null && typeof f[field] !== "string") return `${field} filter must be a string or null`;
  return null;
}

/** Whether `filter` matches `binding`, as Kafka's AclBindingFilter.matches decides. */
export function filterMatches(filter: AclFilter, binding: AclBinding): boolean {
  if (filter.resourceType !== "ANY" && filter.resourceType !== binding.resourceType) return false;
  if (filter.patternType !== "ANY" && filter.patternType !== "MATCH" && filter.patternType !== binding.patternType)
    return false;
  if (filter.resourceName !== null) {
    if (filter.patternType === "ANY" || filter.patternType === binding.patternType) {
      if (filter.resourceName !== binding.resourceName) return false;
    } else if (binding.patternType === "LITERAL") {
      // MATCH: the bindings that apply to the named resource.
      if (filter.resourceName !== binding.resourceName && binding.resourceName !== WILDCARD) return false;
    } else if (!filter.resourceName.startsWith(binding.resourceName)) return false;
  }
  if (filter.principal !== null && filter.principal !== binding.principal) return false;
  if (filter.host !== null && filter.host !== binding.host) return false;
  if (filter.operation !== "ANY" && filter.operation !== binding.operation) return false;
  return filter.permissionType === "ANY" || filter.permissionType === binding.permissionType;
}

/** Snapshot form of a binding: [resourceType, resourceName, patternType, principal, host, operation, permissionType]. */
export type AclRow = [string, string, string, string, string, string, string];

function toRow(b: AclBinding): AclRow {
  return [b.resourceType, b.resourceName, b.patternType, b.principal, b.host, b.operation, b.permissionType];
}

function fromRow(row: AclRow): AclBinding {
  const [resourceType, resourceName, patternType, principal, host, operation, permissionType] = row;
  return { resourceType, resourceName, patternType, principal, host, operation, permissionType } as AclBinding;
}

/** One binding as the authorizer looks at it: with its host in canonical form. */
export interface IndexedAcl {
  readonly binding: AclBinding;
  readonly host: string;
}

class TypeIndex {
  readonly literal = new Map<string, IndexedAcl[]>();
  readonly prefixed = new Map<string, IndexedAcl[]>();
  /** Lengths of the prefixes present, with how many prefixes have each. */
  readonly prefixLengths = new Map<number, number>();
  readonly all = new Set<IndexedAcl>();
}

/**
 * The bindings, in the order they were created (deterministic: the fold's order), with an index by
 * resource type and name for the authorizer. Identical bindings are kept once.
 */
export class AclStore {
  private readonly byKey = new Map<string, IndexedAcl>();
  private readonly index = new Map<AclResourceType, TypeIndex>();

  get size(): number {
    return this.byKey.size;
  }

  /** Every binding, in creation order. */
  bindings(): AclBinding[] {
    return [...this.byKey.values()].map((e) => e.binding);
  }

  has(binding: AclBinding): boolean {
    return this.byKey.has(aclKey(binding));
  }

  /** Adds a binding; false when an identical one exists. */
  add(binding: AclBinding): boolean {
    const key = aclKey(binding);
    if (this.byKey.has(key)) return false;
    const entry: IndexedAcl = { binding, host: canonicalHost(binding.host) };
    this.byKey.set(key, entry);
    let idx = this.index.get(binding.resourceType);
    if (!idx) this.index.set(binding.resourceType, (idx = new TypeIndex()));
    idx.all.add(entry);
    const map = binding.patternType === "LITERAL" ? idx.literal : idx.prefixed;
    const list = map.get(binding.resourceName);
    if (list) list.push(entry);
    else {
      map.set(binding.resourceName, [entry]);
      if (binding.patternType === "PREFIXED") {
        const n = binding.resourceName.length;
        idx.prefixLengths.set(n, (idx.prefixLengths.get(n) ?? 0) + 1);
      }
    }
    return true;
  }

  private remove(binding: AclBinding): void {
    const key = aclKey(binding);
    const entry = this.byKey.get(key);
    if (!entry) return;
    this.byKey.delete(key);
    const idx = this.index.get(binding.resourceType)!;
    idx.all.delete(entry);
    const map = binding.patternType === "LITERAL" ? idx.literal : idx.prefixed;
    const list = map.get(binding.resourceName)!.filter((e) => e !== entry);
    if (list.length > 0) map.set(binding.resourceName, list);
    else {
      map.delete(binding.resourceName);
      if (binding.patternType === "PREFIXED") {
        const n = binding.resourceName.length;
        const left = idx.prefixLengths.get(n)! - 1;
        if (left > 0) idx.prefixLengths.set(n, left);
        else idx.prefixLengths.delete(n);
      }
    }
  }

  /** The bindings each filter matches (before any is removed), then removes all of them. */
  deleteMatching(filters: readonly AclFilter[]): AclBinding[][] {
    const all = this.bindings();
    const matched = filters.map((f) => all.filter((b) => filterMatches(f, b)));
    for (const list of matched) for (const b of list) this.remove(b);
    return matched;
  }

  /** The bindings a filter matches, in creation order. */
  matching(filter: AclFilter): AclBinding[] {
    return this.bindings().filter((b) => filterMatches(filter, b));
  }

  /**
   * The bindings whose pattern matches resource `name` of `type`: literal ones naming it, the literal
   * wildcard `*`, and prefixed ones whose prefix starts it.
   */
  patternMatches(type: AclResourceType, name: string): IndexedAcl[] {
    const idx = this.index.get(type);
    if (!idx) return [];
    const out: IndexedAcl[] = [...(idx.literal.get(name) ?? [])];
    if (name !== WILDCARD) out.push(...(idx.literal.get(WILDCARD) ?? []));
    for (const n of idx.prefixLengths.keys()) {
      if (n > name.length) continue;
      const list = idx.prefixed.get(name.slice(0, n));
      if (list) out.push(...list);
    }
    return out;
  }

  /** Every binding of a resource type. */
  ofType(type: AclResourceType): Iterable<IndexedAcl> {
    return this.index.get(type)?.all ?? [];
  }

  toRows(): AclRow[] {
    return [...this.byKey.values()].map((e) => toRow(e.binding));
  }

  /** Restores snapshot rows; throws naming the first malformed one. */
  restore(rows: readonly AclRow[]): void {
    rows.forEach((row, i) => {
      const binding = Array.isArray(row) ? fromRow(row) : null;
      const problem = aclBindingProblem(binding);
      if (problem) throw new Error(`snapshot: ACL ${i} is malformed: ${problem}`);
      this.add(binding!);
    });
  }
}

/** A binding's identity: two bindings with the same fields are the same binding. */
export function aclKey(b: AclBinding): string {
  return JSON.stringify(toRow(b));
}
