/**
 * The WarpAgent API (warpagent.dev/v1alpha1). These TypeScript types are the source of truth;
 * operator/src/api/crd.ts holds the matching OpenAPI schema and operator/test/api/crd.test.ts fails
 * when the two disagree or when crds/warpagent.dev_warpagents.yaml is not the generated output
 * (regenerate with `npx tsx scripts/gen-crd.ts`).
 */
import type { KubeObject, ObjectMeta } from "../kube/client.js";

export const GROUP = "warpagent.dev";
export const VERSION = "v1alpha1";
export const API_VERSION = `${GROUP}/${VERSION}`;
export const KIND = "WarpAgent";
export const PLURAL = "warpagents";
export const SINGULAR = "warpagent";
export const SHORT_NAMES = ["wa"] as const;

/** Finalizer that applies the table deletion policy before a WarpAgent goes away. */
export const FINALIZER = "warpagent.dev/finalizer";
export const FIELD_MANAGER = "warp-operator";

/**
 * Annotations on a WarpAgent naming the table (by role) it created or adopted: the ownership record
 * for DynamoDB endpoints without tagging (DynamoDB Local). On AWS the table's owner tag is the record.
 */
export const OWNED_TABLE_ANNOTATIONS = {
  files: "tables.warpagent.dev/files",
  chunks: "tables.warpagent.dev/chunks",
} as const;

export const BILLING_MODES = ["PayPerRequest", "Provisioned"] as const;
export type BillingMode = (typeof BILLING_MODES)[number];
export const DELETION_POLICIES = ["Retain", "Delete"] as const;
export type DeletionPolicy = (typeof DELETION_POLICIES)[number];
export const PULL_POLICIES = ["Always", "IfNotPresent", "Never"] as const;
export type PullPolicy = (typeof PULL_POLICIES)[number];

export const DEFAULT_BATCH_TIMEOUT = "50ms";
export const MIN_BATCH_TIMEOUT_MS = 25;
/** The agent's -batchTimeout accepts at most a minute. */
export const MAX_BATCH_TIMEOUT_MS = 60_000;
export const DEFAULT_IMAGE = "ghcr.io/warp-agent/warp:0.1.0";
export const DEFAULT_REPLICAS_PER_ZONE = 1;

export interface TablesSpec {
  /** Files table (ingestion-file descriptors and the control plane). */
  files: string;
  /** Chunks table (the bytes of ingestion files). */
  chunks: string;
  /** Default PayPerRequest (on-demand). */
  billingMode?: BillingMode;
  /** Required iff billingMode is Provisioned. */
  readCapacityUnits?: number;
  writeCapacityUnits?: number;
  /** What happens to the tables when the WarpAgent is deleted. Default Retain. */
  deletionPolicy?: DeletionPolicy;
  /**
   * Take ownership of tables that already exist (default false: an existing table this WarpAgent did
   * not create is reported as TableNotOwned and left alone). Adopted tables are deleted under
   * deletionPolicy Delete like created ones.
   */
  adopt?: boolean;
}

export interface BucketSpec {
  /** The compaction bucket. */
  name: string;
  /** Key prefix inside the bucket. */
  prefix?: string;
  /** Create the bucket when it does not exist (default false: only check it). */
  create?: boolean;
}

export interface ZoneSpec {
  /** Availability zone, as in the nodes' topology.kubernetes.io/zone label. */
  name: string;
  /** Replicas in this zone; defaults to spec.replicasPerZone. */
  replicas?: number;
}

export interface EndpointsSpec {
  /** DynamoDB endpoint override (LocalStack, DynamoDB Local). */
  dynamodb?: string;
  /** S3 endpoint override; path-style addressing is used when set. */
  s3?: string;
}

export interface ResourcesSpec {
  requests?: Record<string, string | number>;
  limits?: Record<string, string | number>;
}

export interface EnvVarSpec {
  name: string;
  value?: string;
  /** A core/v1 EnvVarSource (secretKeyRef, configMapKeyRef, fieldRef, resourceFieldRef). */
  valueFrom?: Record<string, unknown>;
}

export const SASL_MECHANISMS = ["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512", "OAUTHBEARER"] as const;
export type SaslMechanismName = (typeof SASL_MECHANISMS)[number];
/** The mechanisms whose users come from the users file (spec.kafka.sasl.usersSecret). */
export const USERS_FILE_MECHANISMS = ["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"] as const;

/** The agent's defaults for the OAUTHBEARER settings (its flag defaults), filled in by the CRD too. */
export const DEFAULT_OAUTH_PRINCIPAL_CLAIM = "sub";
export const DEFAULT_OAUTH_CLOCK_SKEW = "30s";
export const DEFAULT_OAUTH_JWKS_REFRESH_INTERVAL = "1h";
/** The bounds of the agent's flags (-kafkaSASLOAuthClockSkew, -kafkaSASLOAuthJwksRefreshInterval, -kafkaConnectionsMaxReauth). */
export const MAX_OAUTH_CLOCK_SKEW_MS = 600_000;
export const MIN_OAUTH_JWKS_REFRESH_MS = 1000;
export const MAX_OAUTH_JWKS_REFRESH_MS = 7 * 24 * 3_600_000;
export const MIN_CONNECTIONS_MAX_REAUTH_MS = 1000;
export const MAX_CONNECTIONS_MAX_REAUTH_MS = 30 * 24 * 3_600_000;
/** The key a JWKS ConfigMap or Secret holds the key set under unless `key` says otherwise. */
export const DEFAULT_JWKS_KEY = "jwks.json";

/** TLS on the agents' Kafka listener, from a kubernetes.io/tls Secret in the WarpAgent's namespace. */
export interface KafkaTlsSpec {
  /** Secret with tls.crt and tls.key (and ca.crt when requireClientCert). */
  secretName: string;
  /** Mutual TLS: clients must present a certificate signed by the Secret's ca.crt. Default false. */
  requireClientCert?: boolean;
}

/** A key of a ConfigMap or Secret in the WarpAgent's namespace. */
export interface KeyRefSpec {
  name: string;
  /** Default jwks.json. */
  key?: string;
}

/**
 * Where the identity provider's signing keys (a JWKS) come from: exactly one of a URL the agents
 * fetch, or a ConfigMap or Secret key the operator mounts into the agent pods as a file.
 */
export interface JwksSourceSpec {
  /** The provider's jwks_uri, http:// or https://. */
  url?: string;
  configMapKeyRef?: KeyRefSpec;
  secretKeyRef?: KeyRefSpec;
}

/** OAUTHBEARER token checks (docs/security.md); each field is one agent flag. */
export interface KafkaOAuthBearerSpec {
  jwks: JwksSourceSpec;
  /** The iss every token must carry (-kafkaSASLOAuthIssuer). Default: not checked. */
  issuer?: string;
  /** A token's aud must name one of them (-kafkaSASLOAuthAudience). Default: not checked. */
  audience?: string[];
  /** The claim naming the principal (-kafkaSASLOAuthPrincipalClaim). Default sub. */
  principalClaim?: string;
  /** Allowance for clock differences on exp, nbf and iat, at most 10m (-kafkaSASLOAuthClockSkew). Default 30s. */
  clockSkew?: string;
  /** How often the JWKS is read again, 1s to 168h (-kafkaSASLOAuthJwksRefreshInterval). Default 1h. */
  jwksRefreshInterval?: string;
}

/**
 * SASL on the agents' Kafka listener. PLAIN and SCRAM users come from a Secret the operator never
 * reads (the pods mount it); OAUTHBEARER tokens are checked against the identity provider's JWKS.
 */
export interface KafkaSaslSpec {
  mechanisms: SaslMechanismName[];
  /**
   * Secret holding the users file (one `user:password` or pre-hashed SCRAM line each; docs/security.md).
   * Required iff PLAIN or a SCRAM mechanism is enabled.
   */
  usersSecret?: { name: string; key?: string };
  /** Required iff OAUTHBEARER is enabled. */
  oauthbearer?: KafkaOAuthBearerSpec;
  /**
   * Longest SASL session before a client must re-authenticate on its connection (KIP-368; Kafka's
   * connections.max.reauth.ms): 0s (off) or 1s to 720h. Default: off.
   */
  connectionsMaxReauth?: string;
}

/** ACLs on the agents (Kafka's authorizer; docs/security.md). ACLs themselves are managed with kafka-acls. */
export interface KafkaAuthorizationSpec {
  /** Enforce ACLs on every request. Default false: every client may do everything. */
  enabled?: boolean;
  /** Principals allowed everything whatever the ACLs say, e.g. `User:admin`. */
  superUsers?: string[];
  /** Whether a resource no ACL names is open to everybody. Default false (only super users), as in Kafka. */
  allowEveryoneIfNoAclFound?: boolean;
  /**
   * Mutual TLS: how a client certificate's subject becomes its principal, as Kafka's
   * ssl.principal.mapping.rules, one rule per item (`RULE:<pattern>/<replacement>/[L|U]` or `DEFAULT`),
   * first match wins. Default: DEFAULT (the whole subject, e.g. `User:CN=app,O=Example`).
   */
  principalMappingRules?: string[];
}

export interface KafkaListenerSpec {
  tls?: KafkaTlsSpec;
  sasl?: KafkaSaslSpec;
  authorization?: KafkaAuthorizationSpec;
}

export interface WarpAgentSpec {
  /** AWS region of the tables and the bucket. */
  region: string;
  tables: TablesSpec;
  bucket: BucketSpec;
  /** How long the agent batches produce requests into one ingestion file; at least 25ms. Default 50ms. */
  batchTimeout?: string;
  /** Zones to run agents in; when empty, discovered from the nodes' topology.kubernetes.io/zone labels. */
  zones?: ZoneSpec[];
  /** Default 1. */
  replicasPerZone?: number;
  /** Default ghcr.io/warp-agent/warp:<operator version>. */
  image?: string;
  imagePullPolicy?: PullPolicy;
  resources?: ResourcesSpec;
  /** Agents' service account (IRSA / Pod Identity). When empty the operator creates `<name>-agent`. */
  serviceAccountName?: string;
  endpoints?: EndpointsSpec;
  /** Extra environment for the agent container. */
  env?: EnvVarSpec[];
  /**
   * Security of the agents' Kafka listener: TLS (optionally mutual), SASL and ACLs. Default: plaintext, no
   * authentication, no authorization.
   */
  kafka?: KafkaListenerSpec;
  /** Stop reconciling (no AWS or Kubernetes writes except status). */
  paused?: boolean;
}

export type ConditionStatus = "True" | "False" | "Unknown";

export interface Condition {
  type: string;
  status: ConditionStatus;
  reason: string;
  message: string;
  lastTransitionTime: string;
  observedGeneration?: number;
}

export interface ZoneStatus {
  name: string;
  replicas: number;
  readyReplicas: number;
}

export interface TablesStatus {
  filesArn?: string;
  chunksArn?: string;
}

export interface WarpAgentStatus {
  observedGeneration?: number;
  conditions?: Condition[];
  zones?: ZoneStatus[];
  /** "ready zones/zones", for the printer column. */
  zoneSummary?: string;
  /** Ready agents in the zone with the fewest (the scale subresource's status.replicas). */
  replicasPerZone?: number;
  /** Label selector of all agent pods, as a string (the scale subresource's status.selector). */
  selector?: string;
  tables?: TablesStatus;
  /** host:port of the bootstrap Service. */
  bootstrap?: string;
}

export interface WarpAgent extends KubeObject {
  apiVersion: typeof API_VERSION;
  kind: typeof KIND;
  metadata: ObjectMeta & { name: string; namespace: string };
  spec: WarpAgentSpec;
  status?: WarpAgentStatus;
}
