/**
 * The agent's configuration: built from the command-line flags and their environment twins (flags.ts),
 * with defaults applied and the combinations that make no sense refused (store forms, TLS and SASL).
 */
import type { BucketUrl } from "../../../common/bucket-url.js";
import { ConfigError, readFlag } from "../../../common/flags/read.js";
import type { LogLevel } from "../../../common/flags/values.js";
import type { AuthorizationConfig } from "../security/authorizer.js";
import type { PrincipalMapper } from "../security/principal.js";
import type { OAuthBearerConfig } from "../security/listener.js";
import type { SealMode } from "../ingest/batcher.js";
import { PASSWORD_MECHANISMS, SASL_MECHANISMS, isPasswordMechanism } from "../security/mechanisms.js";
import type { SaslMechanism } from "../security/mechanisms.js";
import { DEFAULT_JWKS_REFRESH_MS } from "../security/jwks.js";
import { DEFAULT_RELOAD_INTERVAL_MS } from "../security/reload.js";
import { checkStoreConfig, StoreConfigError } from "../store/open/open-stores.js";
import {
  AGENT_FLAG_LIST,
  AGENT_FLAGS,
  type AgentFlagName,
  DEFAULT_BATCH_TIMEOUT_MS,
  DEFAULT_GRACEFUL_SHUTDOWN_MS,
  DEFAULT_HTTP_PORT,
  DEFAULT_KAFKA_PORT,
  DEFAULT_MAX_CONNECTIONS,
  DEFAULT_MAX_FILE_BYTES,
  DEFAULT_MAX_IN_FLIGHT_REQUESTS,
  DEFAULT_MAX_PRODUCE_BUFFER_BYTES,
  DEFAULT_COMPACTION_MAX_WAIT_MS,
  DEFAULT_COMPACTION_MIN_BYTES,
  DEFAULT_FETCH_CACHE_BYTES,
  DEFAULT_FETCH_SESSION_CACHE_SLOTS,
  DEFAULT_METADATA_IDLE_POLL_MS,
  DEFAULT_SEQUENCER_LINGER_MS,
  DEFAULT_MAX_REQUEST_BYTES,
  DEFAULT_REMOTE_SEAL_IDLE_GAP_MS,
} from "./flags.js";
import { DEFAULT_LOG_ENTRY_TTL_MS } from "../metadata/log.js";

export interface AgentConfig {
  /** One store for everything (`-bucketURL`); absent when the split form is used. */
  readonly bucketUrl?: BucketUrl;
  /** Ingestion files and the metadata log (`-ingestionBucketURL`); set together with compactionBucketUrl. */
  readonly ingestionBucketUrl?: BucketUrl;
  /** Compacted objects (`-compactionBucketURL`). */
  readonly compactionBucketUrl?: BucketUrl;
  readonly batchTimeoutMs: number;
  /** When ingestion files are sealed (ingest/batcher.ts): eager by default on embedded stores, window otherwise. */
  readonly sealMode: SealMode;
  /** Eager mode's idle gap (ingest/batcher.ts): 0 on embedded stores, 2 ms otherwise. */
  readonly sealIdleGapMs: number;
  /** Window mode: windows end at wall-clock multiples of batchTimeoutMs (-windowAlign, on by default). */
  readonly windowAlign: boolean;
  readonly maxFileBytes: number;
  /** Bind address of the Kafka listener (the HTTP listener binds to the same address). */
  readonly kafkaHost: string;
  /** 0 picks a free port. */
  readonly kafkaPort: number;
  /** 0 picks a free port. */
  readonly httpPort: number;
  readonly advertisedHost: string;
  /** Port given to clients in Metadata; undefined means the Kafka port actually bound. */
  readonly advertisedPort?: number;
  readonly availabilityZone: string | null;
  readonly autoCreateTopics: boolean;
  readonly defaultPartitions: number;
  /** Largest Kafka request frame accepted. */
  readonly maxFrameBytes: number;
  readonly maxConnections: number;
  /** Requests read from one connection before its responses are sent; the socket is paused beyond. */
  readonly maxInFlightRequests: number;
  /** Produced bytes held in memory (batching, writing, committing) before new produce requests wait. */
  readonly maxProduceBufferBytes: number;
  /** Memory for ingestion files and compacted runs kept for fetches (fetch/object-cache.ts). */
  readonly fetchCacheBytes: number;
  /** Incremental fetch sessions kept (fetch/sessions.ts); 0 keeps none. */
  readonly fetchSessionCacheSlots: number;
  /**
   * Not a flag: how long a session must be unused before any new one may evict it, and old before a
   * larger one may (Kafka's fixed 2 minutes when absent). Tests shorten it.
   */
  readonly fetchSessionEvictionMs?: number;
  /** How long stop() waits for in-flight produce requests to drain. */
  readonly gracefulShutdownMs: number;
  /** Expiry given to ingestion files in DynamoDB (TTL); compaction must copy them out before. */
  readonly ingestionTtlMs: number;
  /** Past this compaction backlog (oldest uncompacted file's age) produce is refused and readiness drops; 0: never. */
  readonly maxUncompactedAgeMs: number;
  /** Period of the compaction pass (on the agent holding the compaction lease). */
  readonly compactionIntervalMs: number;
  /** A pass waits for this many bytes of ingested data, or ... (-compactionMinBytes; 0: never waits). */
  readonly compactionMinBytes: number;
  /** ... for its oldest to be this old (-compactionMaxWait). */
  readonly compactionMaxWaitMs: number;
  /** Copy compaction data in a worker thread where the stores allow it (-compactionWorker, on by default). */
  readonly compactionWorker: boolean;
  /** Metadata log entries between two snapshots (-metadataSnapshotEntries). */
  readonly metadataSnapshotEntries: number;
  /** The longest interval between tail polls of a quiet shared metadata log (-metadataIdlePollInterval). */
  readonly metadataIdlePollMs: number;
  /** Metadata log entries expire this long after they are written; 0: never (-metadataLogEntryTTL). */
  readonly metadataLogEntryTtlMs: number;
  /** Period of retention enforcement (retention.ms, retention.bytes). */
  readonly retentionIntervalMs: number;
  /** Unreferenced objects are deleted only after staying unreferenced this long. */
  readonly gcGraceMs: number;
  /** Create missing DynamoDB tables at start-up. */
  readonly createTables: boolean;
  /** Serve transactions (-transactions, on by default); off, transactional ids are refused. */
  readonly transactions: boolean;
  /** Commit files through the sequencer and compete for its lease (-sequencer, on by default). */
  readonly sequencer: boolean;
  /** As the sequencer, how long an aligned window's commit may wait for the other agents' (-sequencerLinger). */
  readonly sequencerLingerMs: number;
  /** Kafka cluster id; undefined means derived from the store location. */
  readonly clusterId?: string;
  /** Kafka node id; undefined means chosen by the agent. */
  readonly nodeId?: number;
  readonly logLevel: LogLevel;
  /** TLS on the Kafka listener (-kafkaTLSCertFile, -kafkaTLSKeyFile, -kafkaTLSClientCAFile); absent: plaintext. */
  readonly kafkaTLS?: { readonly certFile: string; readonly keyFile: string; readonly clientCaFile?: string };
  /**
   * SASL on the Kafka listener (-kafkaSASLMechanisms; -kafkaSASLUsersFile for PLAIN and SCRAM,
   * -kafkaSASLOAuth* for OAUTHBEARER); absent: no authentication.
   */
  readonly kafkaSASL?: {
    readonly mechanisms: readonly SaslMechanism[];
    readonly usersFile?: string;
    readonly oauth?: OAuthBearerConfig;
  };
  /** Kafka's connections.max.reauth.ms (-kafkaConnectionsMaxReauth): 0 = no limit. */
  readonly kafkaConnectionsMaxReauthMs: number;
  /** How often the TLS files and the SASL users file are checked for changes. */
  readonly kafkaSecurityReloadIntervalMs: number;
  /** How a mutual-TLS client certificate's subject becomes a principal (-kafkaTLSPrincipalMappingRules). */
  readonly kafkaTLSPrincipalMapper?: PrincipalMapper;
  /** ACL enforcement (-authorizationEnabled, -superUsers, -allowEveryoneIfNoAclFound). */
  readonly authorization: AuthorizationConfig;
}

type Parsed = { -readonly [K in AgentFlagName]?: ReturnType<(typeof AGENT_FLAGS)[K]["parse"]> };

function isAgentFlag(name: string): name is AgentFlagName {
  return Object.prototype.hasOwnProperty.call(AGENT_FLAGS, name);
}

/**
 * Builds the agent configuration from parsed command-line flags (keys are flag names without dashes,
 * e.g. { bucketURL: "file://./data", createTables: true }) and the environment.
 * Throws ConfigError naming the flag (or environment variable) and the bad value.
 */
export function parseAgentConfig(
  flags: Record<string, string | boolean | undefined>,
  env: NodeJS.ProcessEnv,
): AgentConfig {
  for (const name of Object.keys(flags)) {
    if (!isAgentFlag(name)) throw new ConfigError(`unknown flag -${name} (see warp agent --help)`);
  }
  const p: Parsed = {};
  for (const spec of AGENT_FLAG_LIST) {
    const value = readFlag(spec, flags[spec.name], env);
    if (value !== undefined) (p as Record<string, unknown>)[spec.name] = value;
  }

  if (!p.bucketURL && !p.ingestionBucketURL && !p.compactionBucketURL) {
    throw new ConfigError(
      "no store configured: give -bucketURL (WARP_BUCKET_URL), or -ingestionBucketURL (WARP_INGESTION_BUCKET_URL) together with -compactionBucketURL (WARP_COMPACTION_BUCKET_URL)",
    );
  }
  const stores = {
    ...(p.bucketURL ? { bucketUrl: p.bucketURL } : {}),
    ...(p.ingestionBucketURL ? { ingestionBucketUrl: p.ingestionBucketURL } : {}),
    ...(p.compactionBucketURL ? { compactionBucketUrl: p.compactionBucketURL } : {}),
  };
  try {
    checkStoreConfig({ ...stores, createTables: false });
  } catch (err) {
    if (err instanceof StoreConfigError) throw new ConfigError(err.message);
    throw err;
  }
  const security = listenerSecurity(p);
  const authorization = authorizationConfig(p);
  const metadataStore = (p.bucketURL ?? p.ingestionBucketURL)!;
  const embedded = metadataStore.kind === "file" || metadataStore.kind === "mem";
  const ingestionTtlMs = p.ingestionTTL ?? 3_600_000;
  const maxUncompactedAgeMs = p.maxUncompactedAge ?? Math.floor(ingestionTtlMs / 2);

  return {
    ...stores,
    batchTimeoutMs: p.batchTimeout ?? DEFAULT_BATCH_TIMEOUT_MS,
    // A file costs nothing extra on the embedded stores; on DynamoDB each costs a log entry and rounding.
    sealMode: p.sealMode ?? (embedded ? "eager" : "window"),
    // A DynamoDB write takes 10-30 ms (DynamoDB Local): waiting 2 ms for the rest of a client's burst
    // saves a whole write; a local fsync costs about what the gap would (docs/benchmarks.md).
    sealIdleGapMs: p.sealIdleGap ?? (embedded ? 0 : DEFAULT_REMOTE_SEAL_IDLE_GAP_MS),
    windowAlign: p.windowAlign ?? true,
    maxFileBytes: p.maxFileSize ?? DEFAULT_MAX_FILE_BYTES,
    kafkaHost: p.kafkaHost ?? "0.0.0.0",
    kafkaPort: p.kafkaPort ?? DEFAULT_KAFKA_PORT,
    httpPort: p.httpPort ?? DEFAULT_HTTP_PORT,
    advertisedHost: p.advertisedHost ?? "localhost",
    ...(p.advertisedPort !== undefined ? { advertisedPort: p.advertisedPort } : {}),
    availabilityZone: p.availabilityZone ?? null,
    autoCreateTopics: p.autoCreateTopics ?? embedded,
    defaultPartitions: p.defaultPartitions ?? 1,
    maxFrameBytes: p.maxRequestSize ?? DEFAULT_MAX_REQUEST_BYTES,
    maxConnections: p.maxConnections ?? DEFAULT_MAX_CONNECTIONS,
    maxInFlightRequests: p.maxInFlightRequests ?? DEFAULT_MAX_IN_FLIGHT_REQUESTS,
    maxProduceBufferBytes: p.maxProduceBufferSize ?? DEFAULT_MAX_PRODUCE_BUFFER_BYTES,
    fetchCacheBytes: p.fetchCacheSize ?? DEFAULT_FETCH_CACHE_BYTES,
    fetchSessionCacheSlots: p.fetchSessionCacheSlots ?? DEFAULT_FETCH_SESSION_CACHE_SLOTS,
    gracefulShutdownMs: p.gracefulShutdownDuration ?? DEFAULT_GRACEFUL_SHUTDOWN_MS,
    ingestionTtlMs,
    maxUncompactedAgeMs,
    compactionIntervalMs: p.compactionInterval ?? 2000,
    compactionMinBytes: p.compactionMinBytes ?? DEFAULT_COMPACTION_MIN_BYTES,
    compactionMaxWaitMs: compactionMaxWait(p, ingestionTtlMs, maxUncompactedAgeMs),
    compactionWorker: p.compactionWorker ?? true,
    metadataSnapshotEntries: p.metadataSnapshotEntries ?? 2000,
    metadataIdlePollMs: p.metadataIdlePollInterval ?? DEFAULT_METADATA_IDLE_POLL_MS,
    metadataLogEntryTtlMs: p.metadataLogEntryTTL ?? DEFAULT_LOG_ENTRY_TTL_MS,
    retentionIntervalMs: p.retentionInterval ?? 30_000,
    gcGraceMs: p.gcGracePeriod ?? 300_000,
    createTables: p.createTables ?? true,
    transactions: p.transactions ?? true,
    sequencer: p.sequencer ?? true,
    sequencerLingerMs: p.sequencerLinger ?? DEFAULT_SEQUENCER_LINGER_MS,
    ...(p.clusterId !== undefined ? { clusterId: p.clusterId } : {}),
    ...(p.nodeId !== undefined ? { nodeId: p.nodeId } : {}),
    logLevel: p.logLevel ?? "info",
    kafkaSecurityReloadIntervalMs: p.kafkaSecurityReloadInterval ?? DEFAULT_RELOAD_INTERVAL_MS,
    kafkaConnectionsMaxReauthMs: p.kafkaConnectionsMaxReauth ?? 0,
    ...security,
    authorization,
  };
}

/** ACL enforcement; its settings without -authorizationEnabled are refused (they would do nothing). */
function authorizationConfig(p: Parsed): AuthorizationConfig {
  const enabled = p.authorizationEnabled ?? false;
  if (!enabled) {
    for (const [name, env] of [
      ["superUsers", "WARP_SUPER_USERS"],
      ["allowEveryoneIfNoAclFound", "WARP_ALLOW_EVERYONE_IF_NO_ACL_FOUND"],
    ] as const)
      if (p[name] !== undefined)
        throw new ConfigError(
          `-${name} (${env}) is set but authorization is off: add -authorizationEnabled (WARP_AUTHORIZATION_ENABLED), or drop -${name}`,
        );
  }
  return {
    enabled,
    superUsers: p.superUsers ?? [],
    allowEveryoneIfNoAclFound: p.allowEveryoneIfNoAclFound ?? false,
  };
}

/** Flags that configure OAUTHBEARER: refused unless -kafkaSASLMechanisms includes it. */
const OAUTH_FLAGS = [
  "kafkaSASLOAuthJwksURL",
  "kafkaSASLOAuthJwksRefreshInterval",
  "kafkaSASLOAuthIssuer",
  "kafkaSASLOAuthAudience",
  "kafkaSASLOAuthPrincipalClaim",
  "kafkaSASLOAuthClockSkew",
] as const satisfies readonly AgentFlagName[];

/**
 * -compactionMaxWait, by default 30 s, or a tenth of -ingestionTTL or a quarter of -maxUncompactedAge when
 * shorter; refused when set at or above -maxUncompactedAge, where waiting data would make every agent
 * refuse produce requests.
 */
function compactionMaxWait(p: Parsed, ttl: number, limit: number): number {
  const wait =
    p.compactionMaxWait ??
    Math.min(DEFAULT_COMPACTION_MAX_WAIT_MS, Math.floor(ttl / 10), limit > 0 ? Math.floor(limit / 4) : Infinity);
  if (limit > 0 && wait >= limit)
    throw new ConfigError(
      `-compactionMaxWait (WARP_COMPACTION_MAX_WAIT) ${wait} ms must stay below -maxUncompactedAge (WARP_MAX_UNCOMPACTED_AGE, ${limit} ms${p.maxUncompactedAge === undefined ? ": half of -ingestionTTL" : ""}): data waiting that long makes every agent refuse produce requests`,
    );
  return wait;
}

/** The Kafka listener's TLS and SASL settings, with the combinations that make no sense refused. */
function listenerSecurity(p: Parsed): Pick<AgentConfig, "kafkaTLS" | "kafkaSASL" | "kafkaTLSPrincipalMapper"> {
  const out: { -readonly [K in "kafkaTLS" | "kafkaSASL" | "kafkaTLSPrincipalMapper"]?: AgentConfig[K] } = {};
  if (p.kafkaTLSCertFile !== undefined && p.kafkaTLSKeyFile === undefined) {
    throw new ConfigError(
      "-kafkaTLSCertFile (WARP_KAFKA_TLS_CERT_FILE) needs -kafkaTLSKeyFile (WARP_KAFKA_TLS_KEY_FILE)",
    );
  }
  if (p.kafkaTLSKeyFile !== undefined && p.kafkaTLSCertFile === undefined) {
    throw new ConfigError(
      "-kafkaTLSKeyFile (WARP_KAFKA_TLS_KEY_FILE) needs -kafkaTLSCertFile (WARP_KAFKA_TLS_CERT_FILE)",
    );
  }
  if (p.kafkaTLSClientCAFile !== undefined && p.kafkaTLSCertFile === undefined) {
    throw new ConfigError(
      "-kafkaTLSClientCAFile (WARP_KAFKA_TLS_CLIENT_CA_FILE) needs TLS: give -kafkaTLSCertFile and -kafkaTLSKeyFile too",
    );
  }
  if (p.kafkaTLSPrincipalMappingRules !== undefined) {
    if (p.kafkaTLSClientCAFile === undefined)
      throw new ConfigError(
        "-kafkaTLSPrincipalMappingRules (WARP_KAFKA_TLS_PRINCIPAL_MAPPING_RULES) maps client certificates to principals: it needs mutual TLS (-kafkaTLSClientCAFile)",
      );
    out.kafkaTLSPrincipalMapper = p.kafkaTLSPrincipalMappingRules;
  }
  if (p.kafkaTLSCertFile !== undefined && p.kafkaTLSKeyFile !== undefined) {
    out.kafkaTLS = {
      certFile: p.kafkaTLSCertFile,
      keyFile: p.kafkaTLSKeyFile,
      ...(p.kafkaTLSClientCAFile !== undefined ? { clientCaFile: p.kafkaTLSClientCAFile } : {}),
    };
  }
  const mechanisms = p.kafkaSASLMechanisms ?? [];
  const passwordMechanisms = mechanisms.filter(isPasswordMechanism);
  if (passwordMechanisms.length > 0 && p.kafkaSASLUsersFile === undefined) {
    throw new ConfigError(
      `-kafkaSASLMechanisms (WARP_KAFKA_SASL_MECHANISMS) ${passwordMechanisms.join(", ")} needs -kafkaSASLUsersFile (WARP_KAFKA_SASL_USERS_FILE)`,
    );
  }
  if (mechanisms.length === 0 && p.kafkaSASLUsersFile !== undefined) {
    throw new ConfigError(
      `-kafkaSASLUsersFile (WARP_KAFKA_SASL_USERS_FILE) is set but -kafkaSASLMechanisms (WARP_KAFKA_SASL_MECHANISMS) is empty: name the mechanisms to enable (${SASL_MECHANISMS.join(", ")})`,
    );
  }
  if (passwordMechanisms.length === 0 && p.kafkaSASLUsersFile !== undefined) {
    throw new ConfigError(
      `-kafkaSASLUsersFile (WARP_KAFKA_SASL_USERS_FILE) is set but -kafkaSASLMechanisms (WARP_KAFKA_SASL_MECHANISMS) names no mechanism that uses it (${PASSWORD_MECHANISMS.join(", ")})`,
    );
  }
  const oauthOn = mechanisms.includes("OAUTHBEARER");
  if (oauthOn && p.kafkaSASLOAuthJwksURL === undefined) {
    throw new ConfigError(
      "-kafkaSASLMechanisms (WARP_KAFKA_SASL_MECHANISMS) OAUTHBEARER needs -kafkaSASLOAuthJwksURL (WARP_KAFKA_SASL_OAUTH_JWKS_URL)",
    );
  }
  if (!oauthOn) {
    const stray = OAUTH_FLAGS.find((name) => p[name] !== undefined);
    if (stray !== undefined)
      throw new ConfigError(
        `-${stray} (${AGENT_FLAGS[stray].env}) is set but -kafkaSASLMechanisms (WARP_KAFKA_SASL_MECHANISMS) does not include OAUTHBEARER`,
      );
  }
  if ((p.kafkaConnectionsMaxReauth ?? 0) > 0 && mechanisms.length === 0) {
    throw new ConfigError(
      "-kafkaConnectionsMaxReauth (WARP_KAFKA_CONNECTIONS_MAX_REAUTH) applies to SASL sessions: it needs -kafkaSASLMechanisms (WARP_KAFKA_SASL_MECHANISMS)",
    );
  }
  if (mechanisms.length > 0)
    out.kafkaSASL = {
      mechanisms,
      ...(p.kafkaSASLUsersFile !== undefined ? { usersFile: p.kafkaSASLUsersFile } : {}),
      ...(oauthOn
        ? {
            oauth: {
              jwksUrl: p.kafkaSASLOAuthJwksURL!,
              jwksRefreshIntervalMs: p.kafkaSASLOAuthJwksRefreshInterval ?? DEFAULT_JWKS_REFRESH_MS,
              ...(p.kafkaSASLOAuthIssuer !== undefined ? { issuer: p.kafkaSASLOAuthIssuer } : {}),
              audience: p.kafkaSASLOAuthAudience ?? [],
              principalClaim: p.kafkaSASLOAuthPrincipalClaim ?? "sub",
              clockSkewMs: p.kafkaSASLOAuthClockSkew ?? 30_000,
            },
          }
        : {}),
    };
  return out;
}
