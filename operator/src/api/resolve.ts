/**
 * A WarpAgent spec with every default filled in, and the checks the schema cannot make. The
 * apiserver applies the same defaults; resolving again here keeps the operator correct when it reads
 * objects stored before a default existed.
 */
import { TABLE_NAME_PATTERN } from "../../../common/bucket-url.js";
import { PrincipalMapper } from "../../../agent/src/security/principal.js";
import type {
  BillingMode,
  DeletionPolicy,
  EndpointsSpec,
  EnvVarSpec,
  PullPolicy,
  ResourcesSpec,
  SaslMechanismName,
  WarpAgent,
} from "./types.js";
import {
  DEFAULT_BATCH_TIMEOUT,
  DEFAULT_IMAGE,
  DEFAULT_REPLICAS_PER_ZONE,
  OWNED_TABLE_ANNOTATIONS,
  SASL_MECHANISMS,
} from "./types.js";
import {
  BATCH_TIMEOUT_RULES,
  BUCKET_NAME_RULES,
  ENV_NAME_RULE,
  IMAGE_RULE,
  PRINCIPAL_MAPPING_RULE,
  SERVICE_ACCOUNT_RULE,
  SUPER_USER_RULES,
  ZONE_NAME_RULE,
  firstBroken,
} from "./validation.js";
import type { FieldRule } from "./validation.js";

export interface ResolvedSpec {
  name: string;
  namespace: string;
  /** The WarpAgent's metadata.uid (part of the tables' owner tag). */
  uid: string;
  region: string;
  filesTable: string;
  chunksTable: string;
  billingMode: BillingMode;
  readCapacityUnits?: number;
  writeCapacityUnits?: number;
  deletionPolicy: DeletionPolicy;
  /** spec.tables.adopt: take ownership of existing tables. */
  adoptTables: boolean;
  /** Tables the WarpAgent's annotations record as created or adopted by it (OWNED_TABLE_ANNOTATIONS). */
  recordedTables: ReadonlySet<string>;
  bucket: string;
  bucketPrefix: string;
  createBucket: boolean;
  batchTimeout: string;
  /** Explicit zones (name → replicas), or null to discover them from nodes. */
  zones: Map<string, number> | null;
  replicasPerZone: number;
  image: string;
  imagePullPolicy?: PullPolicy;
  resources?: ResourcesSpec;
  /** The agents' service account, and whether the operator owns it. */
  serviceAccountName: string;
  createServiceAccount: boolean;
  endpoints: EndpointsSpec;
  env: EnvVarSpec[];
  /** TLS on the Kafka listener, from a Secret mounted into the agent pods. */
  kafkaTls?: { secretName: string; requireClientCert: boolean };
  /** SASL on the Kafka listener; the users file comes from a Secret key mounted into the agent pods. */
  kafkaSasl?: { mechanisms: SaslMechanismName[]; usersSecretName: string; usersSecretKey: string };
  /** ACL enforcement on the agents; absent: off. */
  kafkaAuthorization?: { superUsers: string[]; allowEveryoneIfNoAclFound: boolean };
  /** Mutual TLS principal mapping rules (Kafka's ssl.principal.mapping.rules); absent: DEFAULT. */
  kafkaPrincipalMappingRules?: string[];
  paused: boolean;
}

export class InvalidSpecError extends Error {
  constructor(
    readonly field: string,
    detail: string,
  ) {
    super(`spec.${field}: ${detail}`);
    this.name = "InvalidSpecError";
  }
}

/** Throws InvalidSpecError with the first rule `value` breaks. */
function check(field: string, rules: readonly FieldRule[], value: string): void {
  const broken = firstBroken(rules, value);
  if (broken) throw new InvalidSpecError(field, `${JSON.stringify(value)}: ${broken.message}`);
}

function recordedTables(agent: WarpAgent): Set<string> {
  const annotations = agent.metadata.annotations ?? {};
  const names = [annotations[OWNED_TABLE_ANNOTATIONS.files], annotations[OWNED_TABLE_ANNOTATIONS.chunks]];
  return new Set(names.filter((n): n is string => typeof n === "string" && n !== ""));
}

export function resolveSpec(agent: WarpAgent): ResolvedSpec {
  const s = agent.spec;
  const t = s.tables ?? ({} as WarpAgent["spec"]["tables"]);
  for (const [field, value] of [
    ["tables.files", t.files],
    ["tables.chunks", t.chunks],
  ] as const) {
    if (typeof value !== "string" || !TABLE_NAME_PATTERN.test(value))
      throw new InvalidSpecError(field, `${JSON.stringify(value ?? "")} is not a DynamoDB table name`);
  }
  if (t.files === t.chunks) throw new InvalidSpecError("tables.chunks", "files and chunks must name different tables");
  const billingMode = t.billingMode ?? "PayPerRequest";
  if (billingMode === "Provisioned" && (t.readCapacityUnits === undefined || t.writeCapacityUnits === undefined)) {
    throw new InvalidSpecError(
      "tables.billingMode",
      "readCapacityUnits and writeCapacityUnits are required when billingMode is Provisioned",
    );
  }
  const batchTimeout = s.batchTimeout ?? DEFAULT_BATCH_TIMEOUT;
  check("batchTimeout", BATCH_TIMEOUT_RULES, batchTimeout);
  if (!s.bucket?.name) throw new InvalidSpecError("bucket.name", "required");
  check("bucket.name", BUCKET_NAME_RULES, s.bucket.name);
  for (const z of s.zones ?? []) check("zones[].name", [ZONE_NAME_RULE], z.name);
  if (s.image !== undefined) check("image", [IMAGE_RULE], s.image);
  if (s.serviceAccountName !== undefined) check("serviceAccountName", [SERVICE_ACCOUNT_RULE], s.serviceAccountName);
  for (const e of s.env ?? []) check("env[].name", [ENV_NAME_RULE], e.name);
  const replicasPerZone = s.replicasPerZone ?? DEFAULT_REPLICAS_PER_ZONE;
  const zones =
    s.zones && s.zones.length > 0 ? new Map(s.zones.map((z) => [z.name, z.replicas ?? replicasPerZone])) : null;
  const name = agent.metadata.name;
  const out: ResolvedSpec = {
    name,
    namespace: agent.metadata.namespace,
    uid: agent.metadata.uid ?? "",
    region: s.region,
    filesTable: t.files,
    chunksTable: t.chunks,
    billingMode,
    deletionPolicy: t.deletionPolicy ?? "Retain",
    adoptTables: t.adopt ?? false,
    recordedTables: recordedTables(agent),
    bucket: s.bucket.name,
    bucketPrefix: s.bucket.prefix ?? "",
    createBucket: s.bucket.create ?? false,
    batchTimeout,
    zones,
    replicasPerZone,
    image: s.image ?? DEFAULT_IMAGE,
    serviceAccountName: s.serviceAccountName || `${name}-agent`,
    createServiceAccount: !s.serviceAccountName,
    endpoints: s.endpoints ?? {},
    env: s.env ?? [],
    paused: s.paused ?? false,
  };
  if (billingMode === "Provisioned") {
    out.readCapacityUnits = t.readCapacityUnits;
    out.writeCapacityUnits = t.writeCapacityUnits;
  }
  if (s.kafka?.tls) {
    if (!s.kafka.tls.secretName) throw new InvalidSpecError("kafka.tls.secretName", "required");
    out.kafkaTls = { secretName: s.kafka.tls.secretName, requireClientCert: s.kafka.tls.requireClientCert ?? false };
  }
  if (s.kafka?.sasl) {
    const mechanisms = [...new Set(s.kafka.sasl.mechanisms ?? [])];
    if (mechanisms.length === 0)
      throw new InvalidSpecError("kafka.sasl.mechanisms", `name at least one of ${SASL_MECHANISMS.join(", ")}`);
    const unknown = mechanisms.find((m) => !(SASL_MECHANISMS as readonly string[]).includes(m));
    if (unknown !== undefined)
      throw new InvalidSpecError(
        "kafka.sasl.mechanisms",
        `${JSON.stringify(unknown)} is not one of ${SASL_MECHANISMS.join(", ")}`,
      );
    if (!s.kafka.sasl.usersSecret?.name) throw new InvalidSpecError("kafka.sasl.usersSecret.name", "required");
    out.kafkaSasl = {
      mechanisms,
      usersSecretName: s.kafka.sasl.usersSecret.name,
      usersSecretKey: s.kafka.sasl.usersSecret.key || "users",
    };
  }
  const authz = s.kafka?.authorization;
  if (authz?.enabled) {
    const superUsers = [...new Set(authz.superUsers ?? [])];
    for (const u of superUsers) check("kafka.authorization.superUsers[]", SUPER_USER_RULES, u);
    const allowEveryoneIfNoAclFound = authz.allowEveryoneIfNoAclFound ?? false;
    if (superUsers.length === 0 && !allowEveryoneIfNoAclFound)
      throw new InvalidSpecError(
        "kafka.authorization.superUsers",
        "with authorization enabled, name at least one super user (or set allowEveryoneIfNoAclFound): creating ACLs needs ALTER on the cluster, which only they have at first",
      );
    out.kafkaAuthorization = { superUsers, allowEveryoneIfNoAclFound };
  }
  const rules = authz?.principalMappingRules ?? [];
  if (rules.length > 0) {
    if (!out.kafkaTls?.requireClientCert)
      throw new InvalidSpecError(
        "kafka.authorization.principalMappingRules",
        "principal mapping rules map client certificates to principals: they need tls.requireClientCert: true",
      );
    for (const rule of rules) {
      check("kafka.authorization.principalMappingRules[]", [PRINCIPAL_MAPPING_RULE], rule);
      try {
        PrincipalMapper.parse(rule);
      } catch (err) {
        throw new InvalidSpecError(
          "kafka.authorization.principalMappingRules[]",
          `${JSON.stringify(rule)}: ${err instanceof Error ? err.message : String(err)}`,
        );
      }
    }
    out.kafkaPrincipalMappingRules = rules;
  }
  if (s.imagePullPolicy) out.imagePullPolicy = s.imagePullPolicy;
  if (s.resources) out.resources = s.resources;
  return out;
}

/** Zones with their replica counts: the spec's, or the discovered ones at replicasPerZone. Sorted. */
export function effectiveZones(
  spec: ResolvedSpec,
  discovered: readonly string[],
): Array<{ name: string; replicas: number }> {
  const entries = spec.zones
    ? [...spec.zones]
    : [...new Set(discovered)].map((z) => [z, spec.replicasPerZone] as const);
  return entries.map(([name, replicas]) => ({ name, replicas })).sort((a, b) => a.name.localeCompare(b.name));
}
