/**
 * The agent's Prometheus metrics: one registry (served at GET /metrics) holding the default Node.js
 * process metrics and every warp_* metric. Components import the metric objects and update them;
 * names and label sets are part of the agent's interface (dashboards and alerts use them).
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";

export const metricsRegistry = new Registry();
collectDefaultMetrics({ register: metricsRegistry });

const registers = [metricsRegistry];

/** 5 ms to 10 s: produce latency is dominated by batchTimeout (25 ms to 1 s) plus the store write. */
const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.25, 0.35, 0.5, 0.75, 1, 2.5, 5, 10];
/** 1 ms to 10 s, for store calls and log appends. */
const STORE_LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
/** 1 KiB to 64 MiB, powers of four. */
const FILE_SIZE_BUCKETS = [
  1024, 4096, 16_384, 65_536, 262_144, 1_048_576, 4_194_304, 8_388_608, 16_777_216, 67_108_864,
];

// Produce and fetch

export const produceBytes = new Counter({
  name: "warp_produce_bytes_total",
  help: "Record-batch bytes accepted by Produce, per topic.",
  labelNames: ["topic"] as const,
  registers,
});
export const produceRecords = new Counter({
  name: "warp_produce_records_total",
  help: "Records acknowledged by Produce, per topic.",
  labelNames: ["topic"] as const,
  registers,
});
export const produceLatency = new Histogram({
  name: "warp_produce_latency_seconds",
  help: "Time from a Produce request's arrival to its response, by acks.",
  labelNames: ["acks"] as const,
  buckets: LATENCY_BUCKETS,
  registers,
});
export const fetchBytes = new Counter({
  name: "warp_fetch_bytes_total",
  help: "Record-batch bytes returned by Fetch, per topic.",
  labelNames: ["topic"] as const,
  registers,
});
export const fetchLatency = new Histogram({
  name: "warp_fetch_latency_seconds",
  help: "Time from a Fetch request's arrival to its response (long polls included).",
  buckets: LATENCY_BUCKETS,
  registers,
});

// Incremental fetch sessions (KIP-227)

export const fetchSessionRequests = new Counter({
  name: "warp_fetch_session_requests_total",
  help: "Fetch requests by how their session was handled: sessionless (epoch -1: librdkafka, kafkajs), created (a full fetch got a session), not_created (a full fetch found no free slot), incremental, id_not_found (FETCH_SESSION_ID_NOT_FOUND: another agent's or an evicted session), invalid_epoch (INVALID_FETCH_SESSION_EPOCH).",
  labelNames: ["result"] as const,
  registers,
});
export const fetchSessionEvictions = new Counter({
  name: "warp_fetch_session_evictions_total",
  help: "Fetch sessions evicted to make room for a new one (unused for 2 minutes, or older than 2 minutes and smaller than the new one).",
  registers,
});
/** Reads the fetch session cache at scrape time (set by the agent once its cache exists). */
export interface FetchSessionProbe {
  readonly sessions: () => number;
  readonly partitions: () => number;
}
let fetchSessionProbe: FetchSessionProbe = { sessions: () => 0, partitions: () => 0 };
export function setFetchSessionProbe(probe: FetchSessionProbe): void {
  fetchSessionProbe = probe;
}
export const fetchSessions = new Gauge({
  name: "warp_fetch_sessions",
  help: "Incremental fetch sessions held by this agent (limit: -fetchSessionCacheSlots).",
  registers,
  collect() {
    this.set(fetchSessionProbe.sessions());
  },
});
export const fetchSessionPartitions = new Gauge({
  name: "warp_fetch_session_partitions",
  help: "Partitions held over all of this agent's fetch sessions.",
  registers,
  collect() {
    this.set(fetchSessionProbe.partitions());
  },
});

// Ingestion files

export const filesWritten = new Counter({
  name: "warp_ingestion_files_total",
  help: "Ingestion files written and committed to the metadata log, by why they were sealed: timeout (-batchTimeout), full (-maxFileSize or the log entry limit), eager (-sealMode eager: the store was free), flush (shutdown).",
  labelNames: ["sealed"] as const,
  registers,
});
export const fileBytes = new Histogram({
  name: "warp_ingestion_file_bytes",
  help: "Size of ingestion files written.",
  buckets: FILE_SIZE_BUCKETS,
  registers,
});
export const fileBatches = new Histogram({
  name: "warp_ingestion_file_batches",
  help: "Record batches in each committed ingestion file (one per partition and produce request): each is one location in its metadata log entry, so this says how many partitions a file spreads over.",
  buckets: [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10_000, 50_000],
  registers,
});
export const fileWriteLatency = new Histogram({
  name: "warp_ingestion_file_write_seconds",
  help: "Time to write one ingestion file to the ingestion store.",
  buckets: STORE_LATENCY_BUCKETS,
  registers,
});

export const filePhaseLatency = new Histogram({
  name: "warp_ingestion_file_phase_seconds",
  help: "Where a committed ingestion file's time went, by phase: write (its store write), previous (waiting after it for the previous file's proposal: files commit in seal order), commit (from its proposal to its log entry folded: the log's queue, the conditional append, retries after conflicts).",
  labelNames: ["phase"] as const,
  buckets: STORE_LATENCY_BUCKETS,
  registers,
});

// Metadata log

export const logAppends = new Counter({
  name: "warp_metadata_log_appends_total",
  help: "Metadata log append attempts, by result (ok, or conflict when another agent took the entry).",
  labelNames: ["result"] as const,
  registers,
});
export const fileCommits = new Counter({
  name: "warp_metadata_file_commits_total",
  help: "Ingestion file commits proposed, by route: local (appended by this agent: no sequencer, or this agent is it), sequencer (through the sequencer), fallback (appended here after the sequencer could not take it), unknown (the sequencer's outcome is not known; the file's producers got a retriable error).",
  labelNames: ["route"] as const,
  registers,
});
export const forwardedRequestLatency = new Histogram({
  name: "warp_sequencer_forward_seconds",
  help: "Time of one request of this agent's file commits to the sequencer, from sending to its answer (the agent's own fold of the entry comes after), by outcome (applied, not-applied, unknown).",
  labelNames: ["outcome"] as const,
  buckets: STORE_LATENCY_BUCKETS,
  registers,
});
export const sequencerRequests = new Counter({
  name: "warp_sequencer_requests_total",
  help: "Commit requests this agent answered as the sequencer, by outcome (applied, not-applied, unknown, refused: a bad token, not the lease holder, or a malformed body).",
  labelNames: ["outcome"] as const,
  registers,
});
export const sequencerCommands = new Counter({
  name: "warp_sequencer_commands_total",
  help: "commitFile commands other agents sent this agent as the sequencer that it appended.",
  registers,
});
export const tailWatches = new Counter({
  name: "warp_sequencer_watches_total",
  help: "Watches of the metadata log through the sequencer that this agent's watcher ended, by outcome (ok: answered with the entries past this agent's, or after the sequencer's hold with none; failed: this agent polls the log itself for a while).",
  labelNames: ["outcome"] as const,
  registers,
});
export const sequencerHeld = new Gauge({
  name: "warp_sequencer_lease_held",
  help: "1 while this agent holds the sequencer lease (other agents send it their file commits), else 0.",
  registers,
});
export const compactionHeld = new Gauge({
  name: "warp_compaction_lease_held",
  help: "1 while this agent holds the compaction lease (it compacts, enforces retention, collects garbage and writes snapshots), else 0.",
  registers,
});
export const logAppendLatency = new Histogram({
  name: "warp_metadata_log_append_seconds",
  help: "Time of one metadata log append attempt.",
  buckets: STORE_LATENCY_BUCKETS,
  registers,
});
export const logEntryAttempts = new Histogram({
  name: "warp_metadata_log_entry_attempts",
  help: "Conditional appends each of this agent's applied log entries took (1 + the conflicts: other agents took the index first).",
  buckets: [1, 2, 3, 4, 6, 8, 12, 16, 32, 64],
  registers,
});
export const logEntryLatency = new Histogram({
  name: "warp_metadata_log_entry_seconds",
  help: "Where an applied log entry's time went, by phase: queued (its oldest proposal waiting for the entry before it: one entry at a time per agent), appending (first attempt to applied here: appends, waits after conflicts, catching up).",
  labelNames: ["phase"] as const,
  buckets: STORE_LATENCY_BUCKETS,
  registers,
});
export const snapshotEncodeLatency = new Histogram({
  name: "warp_metadata_snapshot_encode_seconds",
  help: "Longest time writing a metadata snapshot held the event loop at once (capturing the folded state, or one slice of encoding it; a JSON snapshot, written while an older agent is live, is encoded in one go), per snapshot this agent wrote.",
  buckets: STORE_LATENCY_BUCKETS,
  registers,
});
export const snapshotLatency = new Histogram({
  name: "warp_metadata_snapshot_seconds",
  help: "Time writing a metadata snapshot took, from capturing the folded state to the snapshot stored (the log trimmed after it not counted), per snapshot this agent wrote.",
  buckets: STORE_LATENCY_BUCKETS,
  registers,
});
export const snapshotLoopDelay = new Histogram({
  name: "warp_metadata_snapshot_event_loop_delay_seconds",
  help: "The event-loop delay's p99 while this agent wrote a metadata snapshot (warp_metadata_snapshot_seconds), per snapshot: whatever held the loop then, the snapshot's own slices or other work.",
  buckets: STORE_LATENCY_BUCKETS,
  registers,
});
export const snapshotBytes = new Gauge({
  name: "warp_metadata_snapshot_bytes",
  help: "Size of the last metadata snapshot this agent wrote.",
  registers,
});
export const snapshotFailures = new Counter({
  name: "warp_metadata_snapshot_failures_total",
  help: "Metadata snapshots this agent failed to write (as the compaction lease holder; each is tried again an hour later or after -metadataSnapshotEntries entries). While they fail, the log's entries no snapshot covers are renewed before they expire.",
  registers,
});
export const logEntriesRenewed = new Counter({
  name: "warp_metadata_log_entries_renewed_total",
  help: "Metadata log entries this agent gave a new expiry because no snapshot covered them within half of -metadataLogEntryTTL (snapshots failing for that long).",
  registers,
});
export const logAppliedIndex = new Gauge({
  name: "warp_metadata_log_applied_index",
  help: "Index of the last metadata log entry applied to this agent's state.",
  registers,
});

// Kafka connections and requests

/** Reads the produce buffer's size at scrape time (set by the agent once its batcher exists). */
let produceBufferProbe: () => number = () => 0;
export function setProduceBufferProbe(probe: () => number): void {
  produceBufferProbe = probe;
}
export const produceBufferBytes = new Gauge({
  name: "warp_produce_buffer_bytes",
  help: "Produced bytes held in memory: the open ingestion file plus files being written or committed (limit: -maxProduceBufferSize).",
  registers,
  collect() {
    this.set(produceBufferProbe());
  },
});

// Cluster membership, as this agent sees it

/** Reads membership and ingestion health at scrape time (set by the agent once its cluster view exists). */
export interface ClusterProbe {
  /** Agents this agent lists to clients (itself included unless it stepped out). */
  readonly listedAgents: () => number;
  /** Whether it stepped out of the cluster it advertises (no heartbeat written for a session). */
  readonly steppedOut: () => boolean;
  /** Whether its ingestion writes are stuck or failing (it skips heartbeats meanwhile). */
  readonly ingestionFailing: () => boolean;
}
let clusterProbe: ClusterProbe = { listedAgents: () => 1, steppedOut: () => false, ingestionFailing: () => false };
export function setClusterProbe(probe: ClusterProbe): void {
  clusterProbe = probe;
}
export const clusterAgents = new Gauge({
  name: "warp_cluster_agents",
  help: "Agents this agent lists to clients in Metadata (itself included unless it stepped out).",
  registers,
  collect() {
    this.set(clusterProbe.listedAgents());
  },
});
export const steppedOut = new Gauge({
  name: "warp_agent_stepped_out",
  help: "1 while this agent has stepped out of the cluster it advertises (its heartbeats are not being written), else 0.",
  registers,
  collect() {
    this.set(clusterProbe.steppedOut() ? 1 : 0);
  },
});
export const ingestionFailing = new Gauge({
  name: "warp_ingestion_failing",
  help: "1 while this agent's ingestion file writes are stuck (over 5 s) or failing, else 0; it skips heartbeats meanwhile.",
  registers,
  collect() {
    this.set(clusterProbe.ingestionFailing() ? 1 : 0);
  },
});

export const openConnections = new Gauge({
  name: "warp_open_connections",
  help: "Kafka client connections currently open.",
  registers,
});
export const saslAuthentications = new Counter({
  name: "warp_sasl_authentications_total",
  help: "SASL authentications and re-authentications (KIP-368) that completed, by mechanism and result (success, failure).",
  labelNames: ["mechanism", "kind", "result"] as const,
  registers,
});
export const saslExpiredConnections = new Counter({
  name: "warp_sasl_expired_connections_closed_total",
  help: "Connections closed because their SASL session lifetime passed without a re-authentication (Kafka's expired-connections-killed-count).",
  registers,
});
export const requests = new Counter({
  name: "warp_requests_total",
  help: "Kafka requests handled, by API key and version.",
  labelNames: ["api", "version"] as const,
  registers,
});
export const requestErrors = new Counter({
  name: "warp_request_errors_total",
  help: "Kafka error codes returned (top-level and per topic, partition or member: each occurrence), by API key and error code.",
  labelNames: ["api", "code"] as const,
  registers,
});
export const requestLatency = new Histogram({
  name: "warp_request_latency_seconds",
  help: "Time from a Kafka request's arrival to its response, by API key.",
  labelNames: ["api"] as const,
  buckets: LATENCY_BUCKETS,
  registers,
});

// Compaction, stores and cost

export const compactionRuns = new Counter({
  name: "warp_compaction_runs_total",
  help: "Compaction jobs completed (each merges ingestion files or objects into one larger object).",
  registers,
});
/** Reads the compaction backlog at scrape time (set by the agent once its metadata log is open). */
let backlogProbe: () => number = () => 0;
export function setCompactionBacklogProbe(probe: () => number): void {
  backlogProbe = probe;
}
export const oldestUncompactedFileAge = new Gauge({
  name: "warp_oldest_uncompacted_file_age_seconds",
  help: "Age of the oldest ingestion file the metadata log still references (not yet compacted), from the folded state: every agent reports the cluster's backlog. Past -maxUncompactedAge (default half of -ingestionTTL) agents refuse produce and report not ready.",
  registers,
  collect() {
    this.set(backlogProbe() / 1000);
  },
});
export const compactionFailures = new Counter({
  name: "warp_compaction_failures_total",
  help: "Compaction passes that failed (the compaction store unreachable, a missing bucket, ...); the pass is tried again at the next interval.",
  registers,
});
export const compactedBytes = new Counter({
  name: "warp_compacted_bytes_total",
  help: "Bytes written to compacted objects.",
  registers,
});
export const storeOperations = new Counter({
  name: "warp_store_operations_total",
  help: "Calls to the object and metadata stores, by store (dynamodb, s3, file, mem), operation (object stores: put, get, setExpiry, delete, list; the metadata store: append, read, putSnapshot, latestSnapshot, trim, getItem, putItem, listItems, deleteItem) and outcome (ok; conflict: a conditional write found its condition false; missing: get found no object; error).",
  labelNames: ["store", "op", "outcome"] as const,
  registers,
});
export const storeOperationLatency = new Histogram({
  name: "warp_store_operation_duration_seconds",
  help: "Duration of one call to the object and metadata stores, by store and operation (retries inside the call included; for list, the whole iteration).",
  labelNames: ["store", "op"] as const,
  buckets: STORE_LATENCY_BUCKETS,
  registers,
});
export const dynamodbCapacityUnits = new Counter({
  name: "warp_dynamodb_capacity_units_total",
  help: "DynamoDB capacity units consumed (from ConsumedCapacity), by table and kind (read or write).",
  labelNames: ["table", "kind"] as const,
  registers,
});
export const dynamodbPartitionKeyCapacityUnits = new Counter({
  name: "warp_dynamodb_partition_key_capacity_units_total",
  help: 'DynamoDB capacity units spent on a hot partition key, by key and kind (read or write): the metadata log\'s (key "log": appends, conflicting appends estimated, tail reads, trims) and the 64 stripes holding the bodies of its entries over 1 KiB (key "logbody": all stripes together, each taking a 64th). DynamoDB serves one key at most 1,000 write and 3,000 read units a second. Also counted in warp_dynamodb_capacity_units_total.',
  labelNames: ["key", "kind"] as const,
  registers,
});
export const s3Requests = new Counter({
  name: "warp_s3_requests_total",
  help: "S3 requests sent, by type (PUT, GET, LIST, DELETE, HEAD...), for the cost model.",
  labelNames: ["type"] as const,
  registers,
});
