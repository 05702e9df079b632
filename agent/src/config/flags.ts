/**
 * The agent's flags: one table (name, environment twin, default, parser, help) used for parsing
 * (parse.ts), for `warp agent --help` and for the README's flag table (scripts/gen-flag-docs.ts).
 *
 * Flag names follow WarpStream's documented Go-style flags (`-bucketURL`, `-batchTimeout`, ...);
 * every flag can also be set from its `WARP_*` environment variable. A flag given on the command line
 * wins over its environment variable; an environment variable set to "" counts as unset.
 */
import { type BucketUrl, BucketUrlError, parseBucketUrl } from "../../../common/bucket-url.js";
import { flag, type FlagSpec } from "../../../common/flags/spec.js";
import {
  byteSize,
  durationMs,
  filePath,
  formatBytes,
  formatDurationMs,
  GiB,
  host,
  integer,
  KiB,
  LOG_LEVELS,
  logLevel,
  MiB,
  parseBoolean,
  token,
} from "../../../common/flags/values.js";
import { SEAL_MODES, type SealMode } from "../ingest/batcher.js";
import { MAX_PARTITIONS_PER_TOPIC } from "../metadata/limits.js";
import { DEFAULT_LOG_ENTRY_TTL_MS } from "../metadata/log.js";
import { principalProblem } from "../metadata/acls.js";
import { SASL_MECHANISMS, isSaslMechanism } from "../security/mechanisms.js";
import { PrincipalMapper, PrincipalMappingError } from "../security/principal.js";
import type { SaslMechanism } from "../security/mechanisms.js";

/** A store location (common/bucket-url.ts); its parse error's message is the reason. */
function bucketUrl(text: string): BucketUrl {
  try {
    return parseBucketUrl(text);
  } catch (err) {
    if (err instanceof BucketUrlError) throw new Error(err.message, { cause: err });
    throw err;
  }
}

/**
 * Where OAUTHBEARER verification keys are read: file:///path, http://… or https://… (no user name or
 * password in the URL: it is logged).
 */
function jwksUrl(text: string): string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new Error("not a URL; expected file:///path/to/jwks.json or https://issuer.example/jwks");
  }
  if (!["file:", "http:", "https:"].includes(url.protocol))
    throw new Error(`unsupported scheme ${JSON.stringify(url.protocol.slice(0, -1))}; expected file, http or https`);
  if (url.username !== "" || url.password !== "")
    throw new Error("must not contain a user name or password (the URL is logged)");
  if (url.protocol === "file:" && (url.pathname === "" || url.pathname.endsWith("/")))
    throw new Error("a file URL must name a file: file:///path/to/jwks.json");
  if (url.protocol === "file:" && url.host !== "" && url.host !== "localhost")
    throw new Error("a file URL names a local file: file:///path/to/jwks.json (three slashes)");
  return text;
}

/** A comma-separated list of non-empty values (spaces around commas ignored). */
function list(what: string): (text: string) => string[] {
  return (text) => {
    const items = text
      .split(",")
      .map((v) => v.trim())
      .filter((v) => v !== "");
    if (items.length === 0) throw new Error(`empty; expected one or more ${what}, comma-separated`);
    return [...new Set(items)];
  };
}

/** 0 (entries never expire) or a duration from 1 day to 365 days. */
function logEntryTtl(text: string): number {
  const ms = durationMs(0, 365 * 24 * 3_600_000)(text);
  if (ms !== 0 && ms < 24 * 3_600_000) throw new Error("must be 0 (entries never expire) or at least 24h");
  return ms;
}

/** 0 (off) or a duration from 1s to 30 days. */
function maxReauth(text: string): number {
  const ms = durationMs(0, 30 * 24 * 3_600_000)(text);
  if (ms !== 0 && ms < 1000) throw new Error("must be 0 (off) or at least 1s");
  return ms;
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

/** Kafka's super.users: principals separated by ';' (User:admin;User:ops). */
function superUsers(text: string): string[] {
  const out: string[] = [];
  for (const part of text.split(";")) {
    const principal = part.trim();
    if (principal === "") continue;
    const problem = principalProblem(principal);
    if (problem) throw new Error(`${problem}; expected principals separated by ';', e.g. User:admin;User:ops`);
    if (principal === "User:*") throw new Error("User:* cannot be a super user (that would turn authorization off)");
    if (!out.includes(principal)) out.push(principal);
  }
  return out;
}

/** Kafka's ssl.principal.mapping.rules. */
function principalMappingRules(text: string): PrincipalMapper {
  try {
    return PrincipalMapper.parse(text);
  } catch (err) {
    if (err instanceof PrincipalMappingError) throw new Error(err.message, { cause: err });
    throw err;
  }
}

/** window or eager (ingest/batcher.ts); `warp cost --sealMode` takes the same values. */
export function parseSealMode(text: string): SealMode {
  const mode = SEAL_MODES.find((m) => m === text);
  if (!mode) throw new Error(`unknown seal mode; expected ${SEAL_MODES.join(" or ")}`);
  return mode;
}

// Defaults shown in the table and applied by parseAgentConfig (parse.ts).
export const DEFAULT_BATCH_TIMEOUT_MS = 250;
/** -sealIdleGap on DynamoDB (0 on the embedded stores). */
export const DEFAULT_REMOTE_SEAL_IDLE_GAP_MS = 2;
const MIN_BATCH_TIMEOUT_MS = 25;
export const DEFAULT_MAX_FILE_BYTES = 8 * MiB;
export const DEFAULT_MAX_REQUEST_BYTES = 100 * MiB;
export const DEFAULT_KAFKA_PORT = 9092;
export const DEFAULT_HTTP_PORT = 8080;
export const DEFAULT_GRACEFUL_SHUTDOWN_MS = 30_000;
export const DEFAULT_MAX_CONNECTIONS = 10_000;
export const DEFAULT_MAX_IN_FLIGHT_REQUESTS = 64;
export const DEFAULT_MAX_PRODUCE_BUFFER_BYTES = 256 * MiB;
export const DEFAULT_FETCH_CACHE_BYTES = 256 * MiB;
/** -compactionMinBytes: data a compaction pass waits for (docs/metadata-log.md section 9, step 0). */
export const DEFAULT_COMPACTION_MIN_BYTES = 4 * MiB;
/** -compactionMaxWait: at most this, or a tenth of -ingestionTTL or a quarter of -maxUncompactedAge. */
export const DEFAULT_COMPACTION_MAX_WAIT_MS = 30_000;
export const DEFAULT_FETCH_SESSION_CACHE_SLOTS = 1000;
export const DEFAULT_METADATA_IDLE_POLL_MS = 1000;
/** -sequencerLinger: about the spread of the agents' file writes to DynamoDB after a shared window end. */
export const DEFAULT_SEQUENCER_LINGER_MS = 10;
/** Each session holds its partitions' fetch positions: bounded so that a typo cannot ask for millions. */
const MAX_FETCH_SESSION_CACHE_SLOTS = 100_000;

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
    help: "Where compacted objects live, and the metadata log's snapshots when the log is on DynamoDB: s3://<bucket>[?region=R&endpoint=URL&s3ForcePathStyle=true&prefix=P] (or file://, mem://). Needs -ingestionBucketURL.",
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
  sealMode: flag({
    name: "sealMode",
    env: "WARP_SEAL_MODE",
    defaultText: "eager for file:// and mem://, window otherwise",
    valueName: "mode",
    help: "When an ingestion file is sealed and written. window: when its batch window ends (see -windowAlign) or it is full; every produce request waits for the window. eager (group commit): also as soon as waiting cannot help, when no file is being written and no request arrives, or the moment the previous file's write ends; -batchTimeout stays the upper bound. Eager answers a lone request in the time of one store write, but writes more, smaller files: on DynamoDB each costs a metadata-log entry and whole-KB rounding (docs/cost.md).",
    parse: parseSealMode,
  }),
  sealIdleGap: flag({
    name: "sealIdleGap",
    env: "WARP_SEAL_IDLE_GAP",
    defaultText: `0 for file:// and mem://, ${formatDurationMs(DEFAULT_REMOTE_SEAL_IDLE_GAP_MS)} otherwise`,
    valueName: "duration",
    help: "With -sealMode eager, while no file is being written: a file is sealed once no produce request has arrived for this long (0: at the end of the event-loop turn that read the request). A short gap keeps a client's burst of requests in one file, which pays where a write is slow or billed per item (DynamoDB).",
    parse: durationMs(0, 1000),
  }),
  windowAlign: flag({
    name: "windowAlign",
    env: "WARP_WINDOW_ALIGN",
    defaultText: "true",
    valueName: "bool",
    boolean: true,
    help: "With -sealMode window, batch windows end at wall-clock multiples of -batchTimeout: a produce request waits between 0 and -batchTimeout (half on average), and agents whose clocks agree (NTP) seal their files at the same instants, so the sequencer writes one log entry for all of them (-sequencerLinger). Off: a window lasts -batchTimeout from its first request.",
    parse: parseBoolean,
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
    help: "DynamoDB ingestion files expire (TTL, free) this long after they are written; compaction copies them to the compaction store within seconds (-compactionMaxWait). While compaction is stalled the agent holding the compaction lease extends the expiry of files still referenced (at least 10s).",
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
  compactionMinBytes: flag({
    name: "compactionMinBytes",
    env: "WARP_COMPACTION_MIN_BYTES",
    defaultText: formatBytes(DEFAULT_COMPACTION_MIN_BYTES),
    valueName: "size",
    help: "A compaction pass waits until this much ingested data is waiting for it, or until the oldest of it is -compactionMaxWait old: at low throughput fewer, larger compacted objects (each costs an S3 PUT and a metadata log entry). 0: a pass every -compactionInterval.",
    parse: byteSize(0, GiB),
  }),
  compactionMaxWait: flag({
    name: "compactionMaxWait",
    env: "WARP_COMPACTION_MAX_WAIT",
    defaultText: "30s, or a tenth of -ingestionTTL or a quarter of -maxUncompactedAge when shorter",
    valueName: "duration",
    help: "The longest ingested data waits for compaction while less than -compactionMinBytes is waiting. Must stay below -maxUncompactedAge.",
    parse: durationMs(0, 3_600_000),
  }),
  compactionWorker: flag({
    name: "compactionWorker",
    env: "WARP_COMPACTION_WORKER",
    defaultText: "true",
    valueName: "bool",
    boolean: true,
    help: "With ingestion on DynamoDB and compacted objects on S3, the agent holding the compaction lease reads the ingestion files, checks them, assembles and uploads each compacted object in a worker thread with DynamoDB and S3 clients of its own, so that its event loop keeps serving requests (docs/metadata-log.md section 9); the lease holder then uses about 0.2–0.4 GB more memory. Off: it does that work in its event loop, in slices, as on the other stores.",
    parse: parseBoolean,
  }),
  metadataSnapshotEntries: flag({
    name: "metadataSnapshotEntries",
    env: "WARP_METADATA_SNAPSHOT_ENTRIES",
    defaultText: "2000",
    valueName: "count",
    help: "The agent holding the compaction lease snapshots the metadata state after this many log entries, and trims the log below it. A snapshot is rewritten whole (warp_metadata_snapshot_bytes): one object in the compaction bucket, or, with -bucketURL dynamodb:// alone, a DynamoDB write unit per KB written and another deleted. Fewer snapshots write less and make replay at start-up longer.",
    parse: integer(100, 10_000_000),
  }),
  metadataLogEntryTTL: flag({
    name: "metadataLogEntryTTL",
    env: "WARP_METADATA_LOG_ENTRY_TTL",
    defaultText: `${DEFAULT_LOG_ENTRY_TTL_MS / 3_600_000}h`,
    valueName: "duration",
    help: "With a DynamoDB metadata log, entries expire (TTL, free) this long after they are written, instead of each being rewritten by the trim after a snapshot (a write unit apiece). The agent holding the compaction lease snapshots at least hourly while entries come, and renews entries no snapshot covers while snapshots fail; only a cluster whose every agent stopped without its last snapshot and stays down longer than this loses the entries since. 0: entries never expire (at least 24h otherwise).",
    parse: logEntryTtl,
  }),
  metadataIdlePollInterval: flag({
    name: "metadataIdlePollInterval",
    env: "WARP_METADATA_IDLE_POLL_INTERVAL",
    defaultText: "1s",
    valueName: "duration",
    help: "Agents sharing a DynamoDB metadata log poll its tail every 50ms while it moves or a fetch waits on it; on a quiet log with nothing waiting, the polls back off to this interval (each poll costs read units even when it finds nothing). 50ms turns the back-off off.",
    parse: durationMs(50, 60_000),
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
    parse: integer(1, MAX_PARTITIONS_PER_TOPIC),
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
  fetchCacheSize: flag({
    name: "fetchCacheSize",
    env: "WARP_FETCH_CACHE_SIZE",
    defaultText: formatBytes(DEFAULT_FETCH_CACHE_BYTES),
    valueName: "size",
    help: "Memory for recently written ingestion files and recently read compacted runs, from which fetches are served without reading the store (least recently used first out; 0 keeps none).",
    parse: byteSize(0, 64 * GiB),
  }),
  fetchSessionCacheSlots: flag({
    name: "fetchSessionCacheSlots",
    env: "WARP_FETCH_SESSION_CACHE_SLOTS",
    defaultText: String(DEFAULT_FETCH_SESSION_CACHE_SLOTS),
    valueName: "n",
    help: `Incremental fetch sessions (KIP-227) this agent keeps, as Kafka's max.incremental.fetch.session.cache.slots: with none free, a consumer's fetches stay full fetches (0 keeps none; at most ${MAX_FETCH_SESSION_CACHE_SLOTS}).`,
    parse: integer(0, MAX_FETCH_SESSION_CACHE_SLOTS),
  }),
  gracefulShutdownDuration: flag({
    name: "gracefulShutdownDuration",
    env: "WARP_GRACEFUL_SHUTDOWN_DURATION",
    defaultText: formatDurationMs(DEFAULT_GRACEFUL_SHUTDOWN_MS),
    valueName: "duration",
    help: "On SIGTERM/SIGINT, how long to wait for in-flight produce requests to be written and committed.",
    parse: durationMs(0, 3_600_000),
  }),
  transactions: flag({
    name: "transactions",
    env: "WARP_TRANSACTIONS",
    defaultText: "true",
    valueName: "bool",
    boolean: true,
    help: "Serve transactional producers (transactional.id), Kafka Streams and other exactly-once clients, and read_committed consumers (docs/compatibility.md, Transactions). Off: transactional ids are refused with TRANSACTIONAL_ID_AUTHORIZATION_FAILED, which clients do not retry, and transactional batches with INVALID_RECORD.",
    parse: parseBoolean,
  }),
  sequencer: flag({
    name: "sequencer",
    env: "WARP_SEQUENCER",
    defaultText: "true",
    valueName: "bool",
    boolean: true,
    help: "On a shared (DynamoDB) metadata log, agents send their file commits to one of them, the holder of the sequencer lease, which writes them together: fewer log entries and no conflicting appends between agents (docs/metadata-log.md section 14.6). It listens on -httpPort, which agents must reach at -advertisedHost. Off: this agent appends its commits itself and never becomes the sequencer.",
    parse: parseBoolean,
  }),
  sequencerLinger: flag({
    name: "sequencerLinger",
    env: "WARP_SEQUENCER_LINGER",
    defaultText: formatDurationMs(DEFAULT_SEQUENCER_LINGER_MS),
    valueName: "duration",
    help: "As the sequencer: the longest a file commit ending an aligned batch window (-windowAlign) waits for the commits of the other agents that sent in the last second, so that one log entry holds them all (docs/metadata-log.md section 14.6). It waits only while one of them is missing. 0: no wait.",
    parse: durationMs(0, 1000),
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
    help: `SASL mechanisms clients must authenticate with, comma-separated: ${SASL_MECHANISMS.join(", ")} (empty: no authentication). PLAIN and SCRAM need -kafkaSASLUsersFile, OAUTHBEARER needs -kafkaSASLOAuthJwksURL.`,
    parse: saslMechanisms,
  }),
  kafkaSASLUsersFile: flag({
    name: "kafkaSASLUsersFile",
    env: "WARP_KAFKA_SASL_USERS_FILE",
    defaultText: "",
    valueName: "path",
    help: "Users for SASL, one <user>:<password> (or pre-hashed SCRAM credential) per line; read at start-up and again when it changes (new connections). SCRAM users created with kafka-configs live in the metadata log; a user named here has these credentials only. See docs/security.md.",
    parse: filePath,
  }),
  kafkaTLSPrincipalMappingRules: flag({
    name: "kafkaTLSPrincipalMappingRules",
    env: "WARP_KAFKA_TLS_PRINCIPAL_MAPPING_RULES",
    defaultText: "DEFAULT",
    valueName: "rules",
    help: "How a mutual-TLS client's certificate subject (RFC 2253, e.g. CN=app,O=Example) becomes its principal, as Kafka's ssl.principal.mapping.rules: comma-separated RULE:<pattern>/<replacement>/[L|U] and DEFAULT (the subject as it is), first match wins. Needs -kafkaTLSClientCAFile. See docs/security.md.",
    parse: principalMappingRules,
  }),
  authorizationEnabled: flag({
    name: "authorizationEnabled",
    env: "WARP_AUTHORIZATION_ENABLED",
    defaultText: "false",
    valueName: "bool",
    boolean: true,
    help: "Enforce ACLs (managed with kafka-acls: CreateAcls, DescribeAcls, DeleteAcls; kept in the metadata log) on every request. Off: every client may do everything and the ACL APIs answer SECURITY_DISABLED. See docs/security.md.",
    parse: parseBoolean,
  }),
  superUsers: flag({
    name: "superUsers",
    env: "WARP_SUPER_USERS",
    defaultText: "none",
    valueName: "principals",
    help: "Principals allowed everything whatever the ACLs say, separated by ';' (User:admin;User:ops). Needs -authorizationEnabled.",
    parse: superUsers,
  }),
  allowEveryoneIfNoAclFound: flag({
    name: "allowEveryoneIfNoAclFound",
    env: "WARP_ALLOW_EVERYONE_IF_NO_ACL_FOUND",
    defaultText: "false",
    valueName: "bool",
    boolean: true,
    help: "Whether a resource no ACL names is open to everybody (true) or to super users only (false, as in Kafka). Needs -authorizationEnabled.",
    parse: parseBoolean,
  }),
  kafkaSASLOAuthJwksURL: flag({
    name: "kafkaSASLOAuthJwksURL",
    env: "WARP_KAFKA_SASL_OAUTH_JWKS_URL",
    defaultText: "",
    valueName: "url",
    help: "Where the keys OAUTHBEARER tokens are signed with are published (a JWKS): file:///path or http(s)://… (the identity provider's jwks_uri). Read at start-up, every -kafkaSASLOAuthJwksRefreshInterval and when a token names an unknown key id. See docs/security.md.",
    parse: jwksUrl,
    redact: (raw) => raw.replace(/^([A-Za-z][A-Za-z0-9+.-]*:\/\/)[^/@]*@/, "$1***@"),
  }),
  kafkaSASLOAuthJwksRefreshInterval: flag({
    name: "kafkaSASLOAuthJwksRefreshInterval",
    env: "WARP_KAFKA_SASL_OAUTH_JWKS_REFRESH_INTERVAL",
    defaultText: "1h",
    valueName: "duration",
    help: "How often the JWKS is read again (Kafka's sasl.oauthbearer.jwks.endpoint.refresh.ms).",
    parse: durationMs(1000, 7 * 24 * 3_600_000),
  }),
  kafkaSASLOAuthIssuer: flag({
    name: "kafkaSASLOAuthIssuer",
    env: "WARP_KAFKA_SASL_OAUTH_ISSUER",
    defaultText: "not checked",
    valueName: "iss",
    help: "The issuer (iss claim) OAUTHBEARER tokens must carry (Kafka's sasl.oauthbearer.expected.issuer).",
    parse: token("an issuer such as https://idp.example/realms/kafka"),
  }),
  kafkaSASLOAuthAudience: flag({
    name: "kafkaSASLOAuthAudience",
    env: "WARP_KAFKA_SASL_OAUTH_AUDIENCE",
    defaultText: "not checked",
    valueName: "list",
    help: "Audiences, comma-separated: an OAUTHBEARER token's aud claim must name one of them (Kafka's sasl.oauthbearer.expected.audience).",
    parse: list("audiences"),
  }),
  kafkaSASLOAuthPrincipalClaim: flag({
    name: "kafkaSASLOAuthPrincipalClaim",
    env: "WARP_KAFKA_SASL_OAUTH_PRINCIPAL_CLAIM",
    defaultText: "sub",
    valueName: "claim",
    help: "The token claim naming the principal (Kafka's sasl.oauthbearer.sub.claim.name).",
    parse: token("a claim name such as sub or client_id"),
  }),
  kafkaSASLOAuthClockSkew: flag({
    name: "kafkaSASLOAuthClockSkew",
    env: "WARP_KAFKA_SASL_OAUTH_CLOCK_SKEW",
    defaultText: "30s",
    valueName: "duration",
    help: "Allowance for clock differences when checking a token's exp, nbf and iat (Kafka's sasl.oauthbearer.clock.skew.seconds).",
    parse: durationMs(0, 600_000),
  }),
  kafkaConnectionsMaxReauth: flag({
    name: "kafkaConnectionsMaxReauth",
    env: "WARP_KAFKA_CONNECTIONS_MAX_REAUTH",
    defaultText: "0",
    valueName: "duration",
    help: "Longest SASL session before the client must re-authenticate on its connection (Kafka's connections.max.reauth.ms, KIP-368); a connection that has not is closed at its next request. 0: no limit (OAUTHBEARER sessions still end when the token expires, as in Kafka). Needs -kafkaSASLMechanisms.",
    parse: maxReauth,
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
