/**
 * Agent configuration: one table of flags (name, environment twin, default, parser, help) used for
 * parsing, for `warp agent --help` and for the README's flag table (scripts/gen-flag-docs.ts).
 *
 * Flag names follow the seed (WarpStream's documented Go-style flags: `-bucketURL`, `-batchTimeout`, ...);
 * every flag can also be set from its `WARP_*` environment variable. A flag given on the command line
 * wins over its environment variable; an environment variable set to "" counts as unset.
 */
import { type BucketUrl, BucketUrlError, parseBucketUrl } from "../../common/bucket-url.js";
import { SASL_MECHANISMS, isSaslMechanism } from "./security/mechanisms.js";
import type { SaslMechanism } from "./security/mechanisms.js";
import { DEFAULT_RELOAD_INTERVAL_MS } from "./security/reload.js";
import { checkStoreConfig, StoreConfigError } from "./store/open.js";

export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ConfigError";
  }
}

export const LOG_LEVELS = ["error", "warn", "info", "http", "verbose", "debug", "silly"] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export interface AgentConfig {
  /** One store for everything (`-bucketURL`); absent when the split form is used. */
  readonly bucketUrl?: BucketUrl;
  /** Ingestion files and the metadata log (`-ingestionBucketURL`); set together with compactionBucketUrl. */
  readonly ingestionBucketUrl?: BucketUrl;
  /** Compacted objects (`-compactionBucketURL`). */
  readonly compactionBucketUrl?: BucketUrl;
  readonly batchTimeoutMs: number;
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
  /** How long stop() waits for in-flight produce requests to drain. */
  readonly gracefulShutdownMs: number;
  /** Expiry given to ingestion files in DynamoDB (TTL); compaction must copy them out before. */
  readonly ingestionTtlMs: number;
  /** Past this compaction backlog (oldest uncompacted file's age) produce is refused and readiness drops; 0: never. */
  readonly maxUncompactedAgeMs: number;
  /** Period of the compaction pass (on the agent holding the compaction lease). */
  readonly compactionIntervalMs: number;
  /** Period of retention enforcement (retention.ms, retention.bytes). */
  readonly retentionIntervalMs: number;
  /** Unreferenced objects are deleted only after staying unreferenced this long. */
  readonly gcGraceMs: number;
  /** Create missing DynamoDB tables at start-up. */
  readonly createTables: boolean;
  /** Kafka cluster id; undefined means derived from the store location. */
  readonly clusterId?: string;
  /** Kafka node id; undefined means chosen by the agent. */
  readonly nodeId?: number;
  readonly logLevel: LogLevel;
  /** TLS on the Kafka listener (-kafkaTLSCertFile, -kafkaTLSKeyFile, -kafkaTLSClientCAFile); absent: plaintext. */
  readonly kafkaTLS?: { readonly certFile: string; readonly keyFile: string; readonly clientCaFile?: string };
  /** SASL on the Kafka listener (-kafkaSASLMechanisms, -kafkaSASLUsersFile); absent: no authentication. */
  readonly kafkaSASL?: { readonly mechanisms: readonly SaslMechanism[]; readonly usersFile: string };
  /** How often the TLS files and the SASL users file are checked for changes. */
  readonly kafkaSecurityReloadIntervalMs: number;
}

/** Parses one raw value; throws Error with a short reason (the caller names the flag and the value). */
type Parser<T> = (raw: string) => T;

export interface FlagSpec<T = unknown> {
  /** Name on the command line, without dashes (case-sensitive, as in Go's flag package). */
  readonly name: string;
  /** Environment twin. */
  readonly env: string;
  /** Default as shown in help and docs. */
  readonly defaultText: string;
  readonly help: string;
  /** A boolean flag may be given without a value (`-createTables` means true). */
  readonly boolean: boolean;
  /** Value placeholder in help ("<duration>"). */
  readonly valueName: string;
  /** Parses one raw value; throws Error with a short reason (the caller adds flag and value). */
  readonly parse: Parser<T>;
}

const KiB = 1024;
const MiB = 1024 * KiB;
const GiB = 1024 * MiB;

// ---------------------------------------------------------------------------------------------
// Value parsers

const DURATION_UNITS_MS: Record<string, number> = {
  ns: 1e-6,
  us: 1e-3,
  µs: 1e-3,
  μs: 1e-3,
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
};

/**
 * Go's time.ParseDuration syntax ("250ms", "0.05s", "1m30s", "0"), returned in milliseconds.
 * Negative durations are rejected: no agent setting takes one.
 */
export function parseGoDuration(text: string): number {
  if (text === "0") return 0;
  if (text === "") throw new Error("empty; expected a duration such as 250ms or 1s");
  const part = /(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)/y;
  let total = 0;
  let at = 0;
  while (at < text.length) {
    part.lastIndex = at;
    const m = part.exec(text);
    if (!m) {
      throw new Error(
        /^[+-]?[\d.]+$/.test(text)
          ? "missing unit; expected a duration such as 250ms, 0.05s or 1s (units ns, us, ms, s, m, h)"
          : "not a duration; expected a duration such as 250ms, 0.05s or 1s (units ns, us, ms, s, m, h)",
      );
    }
    total += Number(m[1]) * DURATION_UNITS_MS[m[2]!]!;
    at = part.lastIndex;
  }
  return total;
}

/** Formats milliseconds in Go duration style for help text ("250ms", "30s"). */
export function formatDurationMs(ms: number): string {
  if (ms !== 0 && ms % 1000 === 0) return `${ms / 1000}s`;
  return `${ms}ms`;
}

const BYTE_UNITS: Record<string, number> = {
  "": 1,
  b: 1,
  kb: 1000,
  mb: 1000 ** 2,
  gb: 1000 ** 3,
  k: KiB,
  kib: KiB,
  m: MiB,
  mib: MiB,
  g: GiB,
  gib: GiB,
};

/** A size in bytes with an optional unit: "8388608", "8MiB", "512KiB", "1GB" (KB/MB/GB are powers of 1000). */
export function parseByteSize(text: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*([A-Za-z]*)$/.exec(text.trim());
  const factor = m ? BYTE_UNITS[m[2]!.toLowerCase()] : undefined;
  if (!m || factor === undefined) {
    throw new Error("not a size; expected bytes with an optional unit such as 8388608, 512KiB, 8MiB or 1GiB");
  }
  const bytes = Number(m[1]) * factor;
  if (!Number.isInteger(bytes)) throw new Error("not a whole number of bytes");
  return bytes;
}

/** Formats a byte count for help text ("8MiB", "100MiB"). */
export function formatBytes(bytes: number): string {
  for (const [unit, size] of [
    ["GiB", GiB],
    ["MiB", MiB],
    ["KiB", KiB],
  ] as const) {
    if (bytes >= size && bytes % size === 0) return `${bytes / size}${unit}`;
  }
  return String(bytes);
}

export function parseBoolean(text: string): boolean {
  switch (text.toLowerCase()) {
    case "true":
    case "1":
      return true;
    case "false":
    case "0":
      return false;
    default:
      throw new Error("expected true, false, 1 or 0");
  }
}

function integer(min: number, max: number): Parser<number> {
  return (text) => {
    if (!/^-?\d+$/.test(text)) throw new Error(`expected an integer from ${min} to ${max}`);
    const n = Number(text);
    if (n < min || n > max) throw new Error(`out of range; expected ${min} to ${max}`);
    return n;
  };
}

function durationMs(minMs: number, maxMs: number): Parser<number> {
  return (text) => {
    const ms = parseGoDuration(text);
    if (ms < minMs) throw new Error(`must be at least ${formatDurationMs(minMs)}`);
    if (ms > maxMs) throw new Error(`must be at most ${formatDurationMs(maxMs)}`);
    return ms;
  };
}

function byteSize(min: number, max: number): Parser<number> {
  return (text) => {
    const bytes = parseByteSize(text);
    if (bytes < min) throw new Error(`must be at least ${formatBytes(min)}`);
    if (bytes > max) throw new Error(`must be at most ${formatBytes(max)}`);
    return bytes;
  };
}

function bucketUrl(text: string): BucketUrl {
  try {
    return parseBucketUrl(text);
  } catch (err) {
    if (err instanceof BucketUrlError) throw new Error(err.message, { cause: err });
    throw err;
  }
}

/** A host name or IP address: no spaces, no scheme, no port. */
function host(text: string): string {
  if (text === "") throw new Error("empty; expected a host name or IP address");
  if (/\s|\/|^\[|@/.test(text)) throw new Error("expected a bare host name or IP address (no scheme, path or spaces)");
  return text;
}

function token(what: string): Parser<string> {
  return (text) => {
    if (text === "") throw new Error(`empty; expected ${what}`);
    if (/\s/.test(text)) throw new Error(`must not contain spaces; expected ${what}`);
    if (text.length > 255) throw new Error(`longer than 255 characters; expected ${what}`);
    return text;
  };
}

function filePath(text: string): string {
  if (text.trim() === "") throw new Error("empty; expected a file path");
  return text;
}

/** A comma-separated list of SASL mechanisms (case-insensitive); "" or "none" means no authentication. */
function saslMechanisms(text: string): SaslMechanism[] {
  const names = text
    .split(",")
    .map((n) => n.trim().toUpperCase())
    .filter((n) => n !== "");
  if (names.length === 1 && names[0] === "NONE") return [];
  const out: SaslMechanism[] = [];
  for (const name of names) {
    if (!isSaslMechanism(name))
      throw new Error(
        `unknown SASL mechanism ${JSON.stringify(name)}; expected a comma-separated list of ${SASL_MECHANISMS.join(", ")}`,
      );
    if (!out.includes(name)) out.push(name);
  }
  return out;
}

function logLevel(text: string): LogLevel {
  const found = LOG_LEVELS.find((l) => l === text);
  if (!found) throw new Error(`expected one of ${LOG_LEVELS.join(", ")}`);
  return found;
}

// ---------------------------------------------------------------------------------------------
// The flag table

function flag<T>(spec: {
  name: string;
  env: string;
  defaultText: string;
  help: string;
  valueName: string;
  parse: Parser<T>;
  boolean?: boolean;
}): FlagSpec<T> {
  return { ...spec, boolean: spec.boolean ?? false };
}

const DEFAULT_BATCH_TIMEOUT_MS = 250;
const MIN_BATCH_TIMEOUT_MS = 25;
const DEFAULT_MAX_FILE_BYTES = 8 * MiB;
const DEFAULT_MAX_REQUEST_BYTES = 100 * MiB;
const DEFAULT_KAFKA_PORT = 9092;
const DEFAULT_HTTP_PORT = 8080;
const DEFAULT_GRACEFUL_SHUTDOWN_MS = 30_000;
const DEFAULT_MAX_CONNECTIONS = 10_000;
const DEFAULT_MAX_IN_FLIGHT_REQUESTS = 64;
const DEFAULT_MAX_PRODUCE_BUFFER_BYTES = 256 * MiB;

/** Every agent flag, in the order shown by `warp agent --help` and in the README. */
export const AGENT_FLAGS = {
  bucketURL: flag({
    name: "bucketURL",
    env: "WARP_BUCKET_URL",
    defaultText: "",
    valueName: "url",
    help: "One store for ingestion files, the metadata log and compacted objects: file://<path>, mem://<name> or dynamodb://<region>/<files_table><><chunks_table>. Use either this or -ingestionBucketURL with -compactionBucketURL.",
    parse: bucketUrl,
  }),
  ingestionBucketURL: flag({
    name: "ingestionBucketURL",
    env: "WARP_INGESTION_BUCKET_URL",
    defaultText: "",
    valueName: "url",
    help: "Where ingestion files and the metadata log live: dynamodb://<region>/<files_table><><chunks_table>[?endpoint=URL] (or file://, mem://). Needs -compactionBucketURL.",
    parse: bucketUrl,
  }),
  compactionBucketURL: flag({
    name: "compactionBucketURL",
    env: "WARP_COMPACTION_BUCKET_URL",
    defaultText: "",
    valueName: "url",
    help: "Where compacted objects live: s3://<bucket>[?region=R&endpoint=URL&s3ForcePathStyle=true&prefix=P] (or file://, mem://). Needs -ingestionBucketURL.",
    parse: bucketUrl,
  }),
  batchTimeout: flag({
    name: "batchTimeout",
    env: "WARP_BATCH_TIMEOUT",
    defaultText: formatDurationMs(DEFAULT_BATCH_TIMEOUT_MS),
    valueName: "duration",
    help: `How long produce requests are batched into one ingestion file (Go duration; at least ${MIN_BATCH_TIMEOUT_MS}ms; 50ms is a good value with DynamoDB).`,
    parse: durationMs(MIN_BATCH_TIMEOUT_MS, 60_000),
  }),
  maxFileSize: flag({
    name: "maxFileSize",
    env: "WARP_MAX_FILE_SIZE",
    defaultText: formatBytes(DEFAULT_MAX_FILE_BYTES),
    valueName: "size",
    help: "An ingestion file is written early when it reaches this size (bytes, or with a unit: KiB, MiB, GiB, KB, MB, GB).",
    parse: byteSize(KiB, GiB),
  }),
  ingestionTTL: flag({
    name: "ingestionTTL",
    env: "WARP_INGESTION_TTL",
    defaultText: "1h",
    valueName: "duration",
    help: "DynamoDB ingestion files expire (TTL, free) this long after they are written; compaction copies them to the compaction store within seconds. While compaction is stalled the agent holding the compaction lease extends the expiry of files still referenced (at least 10s).",
    parse: durationMs(10_000, 7 * 24 * 3_600_000),
  }),
  maxUncompactedAge: flag({
    name: "maxUncompactedAge",
    env: "WARP_MAX_UNCOMPACTED_AGE",
    defaultText: "half of -ingestionTTL",
    valueName: "duration",
    help: "When the oldest ingestion file not yet compacted is older than this (compaction stalled), every agent refuses produce requests with a retriable error and reports not ready until compaction catches up (0 turns this off).",
    parse: durationMs(0, 7 * 24 * 3_600_000),
  }),
  compactionInterval: flag({
    name: "compactionInterval",
    env: "WARP_COMPACTION_INTERVAL",
    defaultText: "2s",
    valueName: "duration",
    help: "How often the agent holding the compaction lease merges ingestion files into compacted objects.",
    parse: durationMs(100, 3_600_000),
  }),
  retentionInterval: flag({
    name: "retentionInterval",
    env: "WARP_RETENTION_INTERVAL",
    defaultText: "30s",
    valueName: "duration",
    help: "How often retention.ms and retention.bytes are enforced.",
    parse: durationMs(100, 24 * 3_600_000),
  }),
  gcGracePeriod: flag({
    name: "gcGracePeriod",
    env: "WARP_GC_GRACE_PERIOD",
    defaultText: "5m",
    valueName: "duration",
    help: "An object no longer referenced by the metadata log is deleted after this long (lets slow readers finish).",
    parse: durationMs(0, 7 * 24 * 3_600_000),
  }),
  kafkaHost: flag({
    name: "kafkaHost",
    env: "WARP_KAFKA_HOST",
    defaultText: "0.0.0.0",
    valueName: "address",
    help: "Address the Kafka and HTTP listeners bind to.",
    parse: host,
  }),
  kafkaPort: flag({
    name: "kafkaPort",
    env: "WARP_KAFKA_PORT",
    defaultText: String(DEFAULT_KAFKA_PORT),
    valueName: "port",
    help: "Kafka protocol port (0 picks a free port).",
    parse: integer(0, 65535),
  }),
  httpPort: flag({
    name: "httpPort",
    env: "WARP_HTTP_PORT",
    defaultText: String(DEFAULT_HTTP_PORT),
    valueName: "port",
    help: "HTTP port for /metrics (Prometheus), /healthz and /readyz (0 picks a free port).",
    parse: integer(0, 65535),
  }),
  advertisedHost: flag({
    name: "advertisedHost",
    env: "WARP_ADVERTISED_HOST",
    defaultText: "localhost",
    valueName: "host",
    help: "Host name given to clients in Metadata responses (the pod IP or DNS name in Kubernetes).",
    parse: host,
  }),
  advertisedPort: flag({
    name: "advertisedPort",
    env: "WARP_ADVERTISED_PORT",
    defaultText: "the Kafka port",
    valueName: "port",
    help: "Port given to clients in Metadata responses.",
    parse: integer(1, 65535),
  }),
  availabilityZone: flag({
    name: "availabilityZone",
    env: "WARP_AVAILABILITY_ZONE",
    defaultText: "none",
    valueName: "zone",
    help: "This agent's availability zone (e.g. us-east-1a); clients whose client.id contains ws_az=<zone> are routed to agents of their zone.",
    parse: (text) => (text === "" ? null : token("a zone name such as us-east-1a")(text)),
  }),
  autoCreateTopics: flag({
    name: "autoCreateTopics",
    env: "WARP_AUTO_CREATE_TOPICS",
    defaultText: "true for file:// and mem://, false otherwise",
    valueName: "bool",
    boolean: true,
    help: "Create a topic when a client produces to or asks Metadata for one that does not exist.",
    parse: parseBoolean,
  }),
  defaultPartitions: flag({
    name: "defaultPartitions",
    env: "WARP_DEFAULT_PARTITIONS",
    defaultText: "1",
    valueName: "n",
    help: "Partition count of auto-created topics (and of CreateTopics requests that leave it to the broker).",
    parse: integer(1, 100_000),
  }),
  maxRequestSize: flag({
    name: "maxRequestSize",
    env: "WARP_MAX_REQUEST_SIZE",
    defaultText: formatBytes(DEFAULT_MAX_REQUEST_BYTES),
    valueName: "size",
    help: "Largest Kafka request frame accepted; a larger frame closes the connection.",
    parse: byteSize(64 * KiB, GiB),
  }),
  maxConnections: flag({
    name: "maxConnections",
    env: "WARP_MAX_CONNECTIONS",
    defaultText: String(DEFAULT_MAX_CONNECTIONS),
    valueName: "n",
    help: "Most Kafka connections open at once; further connections are refused.",
    parse: integer(1, 1_000_000),
  }),
  maxInFlightRequests: flag({
    name: "maxInFlightRequests",
    env: "WARP_MAX_IN_FLIGHT_REQUESTS",
    defaultText: String(DEFAULT_MAX_IN_FLIGHT_REQUESTS),
    valueName: "n",
    help: "Requests one connection may have in flight; the agent stops reading that connection until responses catch up.",
    parse: integer(1, 10_000),
  }),
  maxProduceBufferSize: flag({
    name: "maxProduceBufferSize",
    env: "WARP_MAX_PRODUCE_BUFFER_SIZE",
    defaultText: formatBytes(DEFAULT_MAX_PRODUCE_BUFFER_BYTES),
    valueName: "size",
    help: "Memory for produced data not yet stored and committed; beyond it produce requests wait, then fail with REQUEST_TIMED_OUT (retriable).",
    parse: byteSize(MiB, 64 * GiB),
  }),
  gracefulShutdownDuration: flag({
    name: "gracefulShutdownDuration",
    env: "WARP_GRACEFUL_SHUTDOWN_DURATION",
    defaultText: formatDurationMs(DEFAULT_GRACEFUL_SHUTDOWN_MS),
    valueName: "duration",
    help: "On SIGTERM/SIGINT, how long to wait for in-flight produce requests to be written and committed.",
    parse: durationMs(0, 3_600_000),
  }),
  createTables: flag({
    name: "createTables",
    env: "WARP_CREATE_TABLES",
    defaultText: "true",
    valueName: "bool",
    boolean: true,
    help: "Create the DynamoDB tables when they do not exist (existing tables are verified either way).",
    parse: parseBoolean,
  }),
  clusterId: flag({
    name: "clusterId",
    env: "WARP_CLUSTER_ID",
    defaultText: "derived from the store location",
    valueName: "id",
    help: "Kafka cluster id reported to clients.",
    parse: token("a cluster id"),
  }),
  nodeId: flag({
    name: "nodeId",
    env: "WARP_NODE_ID",
    defaultText: "chosen by the agent",
    valueName: "n",
    help: "Kafka node (broker) id of this agent.",
    parse: integer(0, 2_147_483_647),
  }),
  kafkaTLSCertFile: flag({
    name: "kafkaTLSCertFile",
    env: "WARP_KAFKA_TLS_CERT_FILE",
    defaultText: "",
    valueName: "path",
    help: "PEM certificate (chain) of the Kafka listener; with -kafkaTLSKeyFile the listener speaks TLS only (plaintext clients are refused). See docs/security.md.",
    parse: filePath,
  }),
  kafkaTLSKeyFile: flag({
    name: "kafkaTLSKeyFile",
    env: "WARP_KAFKA_TLS_KEY_FILE",
    defaultText: "",
    valueName: "path",
    help: "PEM private key (unencrypted) of -kafkaTLSCertFile.",
    parse: filePath,
  }),
  kafkaTLSClientCAFile: flag({
    name: "kafkaTLSClientCAFile",
    env: "WARP_KAFKA_TLS_CLIENT_CA_FILE",
    defaultText: "",
    valueName: "path",
    help: "PEM CA certificate(s) for mutual TLS: every client must present a certificate signed by one of them. Needs -kafkaTLSCertFile.",
    parse: filePath,
  }),
  kafkaSASLMechanisms: flag({
    name: "kafkaSASLMechanisms",
    env: "WARP_KAFKA_SASL_MECHANISMS",
    defaultText: "none",
    valueName: "list",
    help: `SASL mechanisms clients must authenticate with, comma-separated: ${SASL_MECHANISMS.join(", ")} (empty: no authentication). Needs -kafkaSASLUsersFile.`,
    parse: saslMechanisms,
  }),
  kafkaSASLUsersFile: flag({
    name: "kafkaSASLUsersFile",
    env: "WARP_KAFKA_SASL_USERS_FILE",
    defaultText: "",
    valueName: "path",
    help: "Users for SASL, one <user>:<password> (or pre-hashed SCRAM credential) per line; read at start-up and again when it changes (new connections). See docs/security.md.",
    parse: filePath,
  }),
  kafkaSecurityReloadInterval: flag({
    name: "kafkaSecurityReloadInterval",
    env: "WARP_KAFKA_SECURITY_RELOAD_INTERVAL",
    defaultText: "30s",
    valueName: "duration",
    help: "How often the TLS files and the SASL users file are checked for changes (renewed certificates, rotated users); changes apply to new connections.",
    parse: durationMs(100, 3_600_000),
  }),
  logLevel: flag({
    name: "logLevel",
    env: "WARP_LOG_LEVEL",
    defaultText: "info",
    valueName: "level",
    help: `Log level of the JSON logs on stderr: ${LOG_LEVELS.join(", ")}.`,
    parse: logLevel,
  }),
} as const;

export type AgentFlagName = keyof typeof AGENT_FLAGS;
export const AGENT_FLAG_LIST: readonly FlagSpec[] = Object.values(AGENT_FLAGS);

type Parsed = { -readonly [K in AgentFlagName]?: ReturnType<(typeof AGENT_FLAGS)[K]["parse"]> };

function isAgentFlag(name: string): name is AgentFlagName {
  return Object.prototype.hasOwnProperty.call(AGENT_FLAGS, name);
}

/** Reads one flag from the command line or else its environment twin; undefined when neither is set. */
function readFlag<K extends AgentFlagName>(
  name: K,
  flags: Record<string, string | boolean | undefined>,
  env: NodeJS.ProcessEnv,
): Parsed[K] | undefined {
  const spec = AGENT_FLAGS[name] as FlagSpec<Parsed[K]>;
  const given = flags[name];
  let raw: string;
  let source: string;
  if (given !== undefined) {
    if (typeof given === "boolean") {
      if (!spec.boolean) throw new ConfigError(`flag -${name} needs a value (<${spec.valueName}>)`);
      return spec.parse(String(given));
    }
    raw = given;
    source = `flag -${name}`;
  } else {
    const fromEnv = env[spec.env];
    if (fromEnv === undefined || fromEnv === "") return undefined;
    raw = fromEnv;
    source = `environment variable ${spec.env} (-${name})`;
  }
  try {
    return spec.parse(raw);
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    throw new ConfigError(`invalid value ${JSON.stringify(raw)} for ${source}: ${reason}`);
  }
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
  for (const name of Object.keys(AGENT_FLAGS) as AgentFlagName[]) {
    const value = readFlag(name, flags, env);
    if (value !== undefined) (p as Record<string, unknown>)[name] = value;
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
  const metadataStore = (p.bucketURL ?? p.ingestionBucketURL)!;
  const embedded = metadataStore.kind === "file" || metadataStore.kind === "mem";

  return {
    ...stores,
    batchTimeoutMs: p.batchTimeout ?? DEFAULT_BATCH_TIMEOUT_MS,
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
    gracefulShutdownMs: p.gracefulShutdownDuration ?? DEFAULT_GRACEFUL_SHUTDOWN_MS,
    ingestionTtlMs: p.ingestionTTL ?? 3_600_000,
    maxUncompactedAgeMs: p.maxUncompactedAge ?? Math.floor((p.ingestionTTL ?? 3_600_000) / 2),
    compactionIntervalMs: p.compactionInterval ?? 2000,
    retentionIntervalMs: p.retentionInterval ?? 30_000,
    gcGraceMs: p.gcGracePeriod ?? 300_000,
    createTables: p.createTables ?? true,
    ...(p.clusterId !== undefined ? { clusterId: p.clusterId } : {}),
    ...(p.nodeId !== undefined ? { nodeId: p.nodeId } : {}),
    logLevel: p.logLevel ?? "info",
    kafkaSecurityReloadIntervalMs: p.kafkaSecurityReloadInterval ?? DEFAULT_RELOAD_INTERVAL_MS,
    ...security,
  };
}

/** The Kafka listener's TLS and SASL settings, with the combinations that make no sense refused. */
function listenerSecurity(p: Parsed): Pick<AgentConfig, "kafkaTLS" | "kafkaSASL"> {
  const out: { -readonly [K in "kafkaTLS" | "kafkaSASL"]?: AgentConfig[K] } = {};
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
  if (p.kafkaTLSCertFile !== undefined && p.kafkaTLSKeyFile !== undefined) {
    out.kafkaTLS = {
      certFile: p.kafkaTLSCertFile,
      keyFile: p.kafkaTLSKeyFile,
      ...(p.kafkaTLSClientCAFile !== undefined ? { clientCaFile: p.kafkaTLSClientCAFile } : {}),
    };
  }
  const mechanisms = p.kafkaSASLMechanisms ?? [];
  if (mechanisms.length > 0 && p.kafkaSASLUsersFile === undefined) {
    throw new ConfigError(
      "-kafkaSASLMechanisms (WARP_KAFKA_SASL_MECHANISMS) needs -kafkaSASLUsersFile (WARP_KAFKA_SASL_USERS_FILE)",
    );
  }
  if (mechanisms.length === 0 && p.kafkaSASLUsersFile !== undefined) {
    throw new ConfigError(
      `-kafkaSASLUsersFile (WARP_KAFKA_SASL_USERS_FILE) is set but -kafkaSASLMechanisms (WARP_KAFKA_SASL_MECHANISMS) is empty: name the mechanisms to enable (${SASL_MECHANISMS.join(", ")})`,
    );
  }
  if (mechanisms.length > 0) out.kafkaSASL = { mechanisms, usersFile: p.kafkaSASLUsersFile! };
  return out;
}
