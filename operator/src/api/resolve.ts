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
  KafkaOAuthBearerSpec,
  KafkaSaslSpec,
  PullPolicy,
  ResourcesSpec,
  SaslMechanismName,
  WarpAgent,
} from "./types.js";
import {
  DEFAULT_BATCH_TIMEOUT,
  DEFAULT_IMAGE,
  DEFAULT_JWKS_KEY,
  DEFAULT_OAUTH_CLOCK_SKEW,
  DEFAULT_OAUTH_JWKS_REFRESH_INTERVAL,
  DEFAULT_OAUTH_PRINCIPAL_CLAIM,
  DEFAULT_REPLICAS_PER_ZONE,
  OWNED_TABLE_ANNOTATIONS,
  SASL_MECHANISMS,
  USERS_FILE_MECHANISMS,
} from "./types.js";
import {
  AUDIENCE_RULE,
  BATCH_TIMEOUT_RULES,
  BUCKET_NAME_RULES,
  CLOCK_SKEW_RULES,
  CONFIG_KEY_RULE,
  CONNECTIONS_MAX_REAUTH_RULES,
  ENV_NAME_RULE,
  IMAGE_RULE,
  JWKS_REFRESH_RULES,
  JWKS_URL_RULE,
  PRINCIPAL_MAPPING_RULE,
  SERVICE_ACCOUNT_RULE,
  SUPER_USER_RULES,
  ZONE_NAME_RULE,
  firstBroken,
  objectNameRule,
  wordRule,
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
  /** SASL on the Kafka listener. */
  kafkaSasl?: ResolvedSasl;
  /** ACL enforcement on the agents; absent: off. */
  kafkaAuthorization?: { superUsers: string[]; allowEveryoneIfNoAclFound: boolean };
  /** Mutual TLS principal mapping rules (Kafka's ssl.principal.mapping.rules); absent: DEFAULT. */
  kafkaPrincipalMappingRules?: string[];
  paused: boolean;
}

/** spec.kafka.sasl with its defaults filled in. */
export interface ResolvedSasl {
  mechanisms: SaslMechanismName[];
  /** PLAIN and SCRAM: the users file, from a Secret key mounted into the agent pods. */
  users?: { secretName: string; key: string };
  oauthBearer?: ResolvedOAuthBearer;
  /** KIP-368 session lifetime (-kafkaConnectionsMaxReauth); absent: the agent's default (off). */
  connectionsMaxReauth?: string;
}

export interface ResolvedOAuthBearer {
  /** An http(s) URL the agents fetch, or a ConfigMap or Secret key mounted into the agent pods as a file. */
  jwks:
    | { kind: "url"; url: string }
    | { kind: "configMap"; name: string; key: string }
    | { kind: "secret"; name: string; key: string };
  issuer?: string;
  audience: string[];
  principalClaim: string;
  clockSkew: string;
  jwksRefreshInterval: string;
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
  if (s.kafka?.sasl) out.kafkaSasl = resolveSasl(s.kafka.sasl);
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

function resolveSasl(sasl: KafkaSaslSpec): ResolvedSasl {
  const mechanisms = [...new Set(sasl.mechanisms ?? [])];
  if (mechanisms.length === 0)
    throw new InvalidSpecError("kafka.sasl.mechanisms", `name at least one of ${SASL_MECHANISMS.join(", ")}`);
  const unknown = mechanisms.find((m) => !(SASL_MECHANISMS as readonly string[]).includes(m));
  if (unknown !== undefined)
    throw new InvalidSpecError(
      "kafka.sasl.mechanisms",
      `${JSON.stringify(unknown)} is not one of ${SASL_MECHANISMS.join(", ")}`,
    );
  const out: ResolvedSasl = { mechanisms };
  const usersFile = mechanisms.some((m) => (USERS_FILE_MECHANISMS as readonly string[]).includes(m));
  if (usersFile) {
    if (!sasl.usersSecret?.name)
      throw new InvalidSpecError(
        "kafka.sasl.usersSecret",
        "required when PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512 is enabled: it holds their users",
      );
    check("kafka.sasl.usersSecret.name", [objectNameRule("usersSecret.name")], sasl.usersSecret.name);
    out.users = { secretName: sasl.usersSecret.name, key: sasl.usersSecret.key || "users" };
  } else if (sasl.usersSecret) {
    throw new InvalidSpecError(
      "kafka.sasl.usersSecret",
      "is only read by PLAIN, SCRAM-SHA-256 and SCRAM-SHA-512: enable one of them or remove usersSecret",
    );
  }
  const oauth = sasl.oauthbearer;
  if (mechanisms.includes("OAUTHBEARER")) {
    if (!oauth)
      throw new InvalidSpecError(
        "kafka.sasl.oauthbearer",
        "required when OAUTHBEARER is enabled (where the token signing keys come from, and the checks)",
      );
    out.oauthBearer = resolveOAuthBearer(oauth);
  } else if (oauth) {
    throw new InvalidSpecError(
      "kafka.sasl.oauthbearer",
      "is set but OAUTHBEARER is not in mechanisms: add it or remove oauthbearer",
    );
  }
  if (sasl.connectionsMaxReauth !== undefined) {
    check("kafka.sasl.connectionsMaxReauth", CONNECTIONS_MAX_REAUTH_RULES, sasl.connectionsMaxReauth);
    out.connectionsMaxReauth = sasl.connectionsMaxReauth;
  }
  return out;
}

function resolveOAuthBearer(o: KafkaOAuthBearerSpec): ResolvedOAuthBearer {
  const field = "kafka.sasl.oauthbearer";
  const j = o.jwks ?? {};
  const set = (["url", "configMapKeyRef", "secretKeyRef"] as const).filter((k) => j[k] !== undefined);
  if (set.length !== 1)
    throw new InvalidSpecError(`${field}.jwks`, "set exactly one of url, configMapKeyRef and secretKeyRef");
  let jwks: ResolvedOAuthBearer["jwks"];
  if (j.url !== undefined) {
    check(`${field}.jwks.url`, [JWKS_URL_RULE], j.url);
    try {
      new URL(j.url);
    } catch {
      throw new InvalidSpecError(`${field}.jwks.url`, `${JSON.stringify(j.url)}: ${JWKS_URL_RULE.message}`);
    }
    jwks = { kind: "url", url: j.url };
  } else {
    const [kind, ref, at] =
      j.configMapKeyRef !== undefined
        ? (["configMap", j.configMapKeyRef, "configMapKeyRef"] as const)
        : (["secret", j.secretKeyRef!, "secretKeyRef"] as const);
    check(`${field}.jwks.${at}.name`, [objectNameRule("name")], ref.name ?? "");
    const key = ref.key || DEFAULT_JWKS_KEY;
    check(`${field}.jwks.${at}.key`, [CONFIG_KEY_RULE], key);
    jwks = { kind, name: ref.name, key };
  }
  const out: ResolvedOAuthBearer = {
    jwks,
    audience: [...new Set(o.audience ?? [])],
    principalClaim: o.principalClaim ?? DEFAULT_OAUTH_PRINCIPAL_CLAIM,
    clockSkew: o.clockSkew ?? DEFAULT_OAUTH_CLOCK_SKEW,
    jwksRefreshInterval: o.jwksRefreshInterval ?? DEFAULT_OAUTH_JWKS_REFRESH_INTERVAL,
  };
  if (o.issuer !== undefined) {
    check(`${field}.issuer`, [wordRule("issuer")], o.issuer);
    out.issuer = o.issuer;
  }
  for (const a of out.audience) check(`${field}.audience[]`, [AUDIENCE_RULE], a);
  check(`${field}.principalClaim`, [wordRule("principalClaim")], out.principalClaim);
  check(`${field}.clockSkew`, CLOCK_SKEW_RULES, out.clockSkew);
  check(`${field}.jwksRefreshInterval`, JWKS_REFRESH_RULES, out.jwksRefreshInterval);
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
