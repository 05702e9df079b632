/**
 * The cost model behind `warp cost`: pure functions from a workload, a design and prices to a monthly
 * bill per service, every line carrying the assumption that produced it.
 *
 * Two families of rows:
 *  - the reference table (docs/cost.md: a published comparison of S3 and DynamoDB as the ingestion store
 *    of a WarpStream-style agent; stores "s3", "s3-express", "dynamodb-on-demand", "dynamodb-provisioned"),
 *    computed the way that table computes them, so that its figures are reproduced (within 5 %) and
 *    explained. The design it prices, the reference design, writes one file per agent per batch and keeps
 *    the last five seconds of data in the ingestion store (DynamoDB items written, then deleted);
 *  - this project's design ("warp-dynamodb-on-demand", "warp-dynamodb-provisioned"): DynamoDB ingestion
 *    files that expire by TTL (no delete is ever billed) plus S3 compaction, one ingestion file per agent
 *    per batchTimeout holding every partition (-sealMode window) or, with -sealMode eager (group
 *    commit), one each time the previous file's write ends, chunks of at most 350 KiB, and the metadata log.
 *    With measured counts (measured.ts) the units per MB come from a real run instead.
 */
import type { SealMode } from "../../agent/src/ingest/batcher.js";
import type { Prices } from "./prices.js";
import {
  CLAIM_SESSIONS,
  DEFAULT_HEARTBEAT_MS,
  DEFAULT_REFRESH_MS,
  DEFAULT_SESSION_MS,
} from "../../agent/src/cluster/registry.js";
import { DEFAULT_LEASE_RENEW_MS as LEASE_RENEW_MS } from "../../agent/src/background/lease.js";
import { SEQUENCER_LEASE_RENEW_MS } from "../../agent/src/sequencer/wire.js";
import { DEFAULT_LOG_ENTRY_TTL_MS } from "../../agent/src/metadata/log.js";
import {
  DEFAULT_COMPACTION_MAX_WAIT_MS,
  DEFAULT_COMPACTION_MIN_BYTES,
  DEFAULT_METADATA_IDLE_POLL_MS,
} from "../../agent/src/config/flags.js";

export type ReferenceStore = "s3" | "s3-express" | "dynamodb-on-demand" | "dynamodb-provisioned";
export type WarpStore = "warp-dynamodb-on-demand" | "warp-dynamodb-provisioned";
export type Store = ReferenceStore | WarpStore;
/**
 * Which design a row prices: "seed" the reference design (the value is part of `warp cost --json`, kept
 * as it is), "warp" this project's design modelled, "warp-measured" this project's design from measured rates.
 */
export type Design = "seed" | "warp" | "warp-measured";

export const REFERENCE_STORES: readonly ReferenceStore[] = [
  "s3",
  "s3-express",
  "dynamodb-on-demand",
  "dynamodb-provisioned",
];
export const WARP_STORES: readonly WarpStore[] = ["warp-dynamodb-on-demand", "warp-dynamodb-provisioned"];

/** 100 KB/s, 1 MB/s and 10 MB/s (decimal units, as the reference table's "0.1 / 1 / 10 MB/s"). */
export const REFERENCE_THROUGHPUTS: readonly number[] = [100_000, 1_000_000, 10_000_000];

/** The reference table's published monthly figures, by store and throughput (bytes/s). */
export const REFERENCE_TABLE: Readonly<Record<ReferenceStore, Readonly<Record<number, number>>>> = {
  s3: { 100_000: 159, 1_000_000: 159, 10_000_000: 159 },
  "s3-express": { 100_000: 235, 1_000_000: 235, 10_000_000: 235 },
  "dynamodb-on-demand": { 100_000: 81, 1_000_000: 810, 10_000_000: 8100 },
  "dynamodb-provisioned": { 100_000: 7.5, 1_000_000: 75, 10_000_000: 750 },
};

/** What is produced and how the agents are laid out. */
export interface Workload {
  /** Bytes produced per second, before compression. */
  readonly bytesPerSecond: number;
  /** Raw bytes per stored byte (4 = the reference table's 1:4). */
  readonly compressionRatio: number;
  readonly agents: number;
  readonly zones: number;
  /** How long an agent batches before writing one file (the reference table's S3 figures: 250 ms = 4 PUTs/s). */
  readonly batchTimeoutMs: number;
  /** How long data stays in the ingestion store in the reference design ("the last five seconds"). */
  readonly retentionSeconds: number;
  /** Hours billed per month (720 = a 30-day month, which the reference table's DynamoDB figures use). */
  readonly hoursPerMonth: number;
}

export const DEFAULT_WORKLOAD: Omit<Workload, "bytesPerSecond"> = {
  compressionRatio: 4,
  agents: 3,
  zones: 3,
  batchTimeoutMs: 250,
  retentionSeconds: 5,
  hoursPerMonth: 720,
};

export type { SealMode };

/** The parameters of this project's design (defaults = the agent's defaults and storage format). */
export interface WarpDesign {
  /**
   * -sealMode: "window" (the DynamoDB default) seals one file per agent per batchTimeout; "eager" (group
   * commit) seals one each time the previous file's write ends while requests keep arriving.
   */
  readonly sealMode: SealMode;
  /**
   * The agents' -windowAlign with the sequencer (both on by default on a shared log): in window mode
   * every agent's file of one window is committed in one log entry (docs/metadata-log.md section 14.6).
   * Off, or in eager mode: one log entry per file.
   */
  readonly windowAlign: boolean;
  /**
   * Eager mode: how long one ingestion-file write to DynamoDB takes. Under steady traffic from many
   * clients each agent then seals a file this often (at most; never fewer files than window mode).
   */
  readonly writeLatencyMs: number;
  /**
   * Eager mode: bytes produced per produce request (before compression). A file holds at least one
   * request, so an agent cannot seal more files than it receives requests.
   */
  readonly requestBytes: number;
  /** -ingestionTTL: ingestion items expire (free) this long after they are written. */
  readonly ingestionTtlSeconds: number;
  /** DynamoDB deletes expired items "within a few days"; they are billed as storage until then. */
  readonly ttlDeletionLagSeconds: number;
  /** -compactionInterval: one compaction pass (one S3 object, one log entry) this often. */
  readonly compactionIntervalMs: number;
  /**
   * The agents' -compactionMinBytes and -compactionMaxWait: a pass compacts once this much stored data
   * waits, or once the oldest has waited compactionMaxWaitMs; never more often than compactionIntervalMs.
   * 0 bytes: a pass every interval.
   */
  readonly compactionMinBytes: number;
  readonly compactionMaxWaitMs: number;
  /** Largest compacted object written by one pass. */
  readonly compactedObjectMaxBytes: number;
  /** About this many small compacted objects are merged into one larger one (L0 → L1). */
  readonly mergeFanIn: number;
  /** Chunk items of the chunks table (350 KiB). */
  readonly chunkBytes: number;
  /** Files up to this size live inline in their files-table descriptor (64 KiB). */
  readonly inlineMaxBytes: number;
  /** Keys and attribute names per item, counted in its billed size. */
  readonly itemOverheadBytes: number;
  /** Billed size of one metadata log entry (commitFile or compact), in bytes. */
  readonly logEntryBytes: number;
  /** Every agent polls the log tail this often (an eventually consistent Query: at least 0.5 RRU). */
  readonly tailIntervalMs: number;
  /** The agents' -metadataSnapshotEntries: a metadata snapshot after this many log entries. */
  readonly snapshotEntries: number;
  /**
   * Log entries expire through TTL this long after they are written (entry level 13: trims leave them to
   * it, free; docs/metadata-log.md section 6, "Expiring entries"), and are billed as storage until then. 0: every entry is
   * trimmed by a tombstone (1 WRU, or its size), as agents before level 13 do.
   */
  readonly logEntryTtlSeconds: number;
  /**
   * Metadata snapshots are objects in the compaction bucket, the table holding a reference (agents with
   * -ingestionBucketURL dynamodb:// and -compactionBucketURL, once every live agent reads entry level 11;
   * docs/metadata-log.md section 6). Off: chunked in the chunks table, as with -bucketURL dynamodb:// alone.
   */
  readonly snapshotsInS3: boolean;
  /** Partitions of the cluster, and segments (ingestion batches or compacted runs) each holds: the state a snapshot writes. */
  readonly partitions: number;
  readonly segmentsPerPartition: number;
  /**
   * Every agent heartbeats in the registry this often, writing its entry (1 WRU); it lists the members
   * every second (1 RRU, or at each heartbeat when heartbeats come more often).
   */
  readonly heartbeatMs: number;
  /** The registry's session: a node-id claim lives 6 of them and is renewed (1 WRU) every quarter of that. */
  readonly sessionMs: number;
  /**
   * -metadataIdlePollInterval: on a quiet log with no fetch waiting, tail polls back off to this. At any
   * throughput the rows price the log as moving (polls every tailIntervalMs); idleCluster() prices both.
   */
  readonly idlePollMs: number;
  /** Provisioned capacity = average units per second / this (1 = exactly the average, as the reference table). */
  readonly provisionedUtilization: number;
}

export const DEFAULT_WARP_DESIGN: WarpDesign = {
  sealMode: "window",
  windowAlign: true,
  writeLatencyMs: 10,
  requestBytes: 1024,
  ingestionTtlSeconds: 3600,
  ttlDeletionLagSeconds: 48 * 3600,
  compactionIntervalMs: 2000,
  compactionMinBytes: DEFAULT_COMPACTION_MIN_BYTES,
  compactionMaxWaitMs: DEFAULT_COMPACTION_MAX_WAIT_MS,
  compactedObjectMaxBytes: 64 * 1024 * 1024,
  mergeFanIn: 32,
  chunkBytes: 350 * 1024,
  inlineMaxBytes: 64 * 1024,
  itemOverheadBytes: 100,
  logEntryBytes: 1000,
  tailIntervalMs: 50,
  snapshotEntries: 2000,
  logEntryTtlSeconds: DEFAULT_LOG_ENTRY_TTL_MS / 1000,
  snapshotsInS3: true,
  partitions: 1000,
  segmentsPerPartition: 32,
  heartbeatMs: DEFAULT_HEARTBEAT_MS,
  sessionMs: DEFAULT_SESSION_MS,
  idlePollMs: DEFAULT_METADATA_IDLE_POLL_MS,
  provisionedUtilization: 1,
};

/**
 * Units and requests per MB (10^6 bytes) stored, measured on a real run (see measured.ts). They replace
 * the design's per-file arithmetic; storage and TTL assumptions stay.
 */
export interface MeasuredRates {
  readonly wruPerMB: number;
  readonly rruPerMB: number;
  readonly s3PutPerMB: number;
  readonly s3GetPerMB: number;
  /** Where the figures come from, for the output. */
  readonly source: string;
}

export interface CostLine {
  /** The billed item, e.g. "DynamoDB write request units". */
  readonly service: string;
  /** Quantity per month in `unit`. */
  readonly quantity: number;
  readonly unit: string;
  readonly monthlyUsd: number;
  /** Why this quantity and price. */
  readonly assumption: string;
}

export interface CostRow {
  readonly store: Store;
  readonly design: Design;
  readonly bytesPerSecond: number;
  readonly monthlyUsd: number;
  /** The reference table's figure for this store and throughput, when it has one (JSON name kept as it is). */
  readonly seedUsd?: number;
  readonly lines: readonly CostLine[];
}

const KB = 1024;
const GB = 1024 ** 3;
/** S3 Express bills upload bytes above this size per PUT. */
const EXPRESS_FREE_UPLOAD_BYTES = 512 * KB;

function secondsPerMonth(w: Workload): number {
  return w.hoursPerMonth * 3600;
}

function storedBytesPerSecond(w: Workload): number {
  return w.bytesPerSecond / w.compressionRatio;
}

function round(n: number, digits = 4): number {
  const f = 10 ** digits;
  return Math.round(n * f) / f;
}

function fmt(n: number): string {
  if (n >= 100) return Math.round(n).toLocaleString("en-US");
  return Number(n.toPrecision(3)).toString();
}

function monthText(w: Workload): string {
  return `${w.hoursPerMonth} h/month`;
}

function row(store: Store, design: Design, w: Workload, lines: CostLine[]): CostRow {
  const total = lines.reduce((s, l) => s + l.monthlyUsd, 0);
  // The reference table's figure is shown only for its own workload (another one changes the reference design's
  // cost too).
  const referenceWorkload = (Object.keys(DEFAULT_WORKLOAD) as (keyof typeof DEFAULT_WORKLOAD)[]).every(
    (k) => w[k] === DEFAULT_WORKLOAD[k],
  );
  const referenceUsd = referenceWorkload
    ? (REFERENCE_TABLE as Record<string, Record<number, number> | undefined>)[store]?.[w.bytesPerSecond]
    : undefined;
  return {
    store,
    design,
    bytesPerSecond: w.bytesPerSecond,
    monthlyUsd: round(total, 2),
    ...(referenceUsd !== undefined && design === "seed" ? { seedUsd: referenceUsd } : {}),
    lines: lines.map((l) => ({ ...l, quantity: round(l.quantity, 2), monthlyUsd: round(l.monthlyUsd, 2) })),
  };
}

function storageLine(service: string, bytes: number, pricePerGbMonth: number, assumption: string): CostLine {
  return { service, quantity: bytes / GB, unit: "GB-month", monthlyUsd: (bytes / GB) * pricePerGbMonth, assumption };
}

/** Files written per second: every agent seals one file per batchTimeout. */
export function filesPerSecond(w: Workload): number {
  return (w.agents * 1000) / w.batchTimeoutMs;
}

/**
 * Files this project's agents write per second: one per batchTimeout each in window mode; in eager mode
 * one each time a write ends (every writeLatencyMs) while requests keep arriving, but no more than the
 * produce requests received, and never fewer than window mode (batchTimeout still seals a file whose
 * predecessor is slow).
 */
export function warpFilesPerSecond(w: Workload, d: WarpDesign): number {
  const window = filesPerSecond(w);
  if (d.sealMode === "window") return window;
  const requests = w.bytesPerSecond / d.requestBytes;
  return Math.max(window, Math.min(requests, (w.agents * 1000) / d.writeLatencyMs));
}

/**
 * Log entries a second that commit files: one per window when the sequencer gathers every agent's file
 * of a window (aligned windows, several agents), else one per file.
 */
export function fileCommitEntriesPerSecond(w: Workload, d: WarpDesign): number {
  const files = warpFilesPerSecond(w, d);
  return gathersWindows(w, d) ? Math.min(files, 1000 / w.batchTimeoutMs) : files;
}

function gathersWindows(w: Workload, d: WarpDesign): boolean {
  return d.sealMode === "window" && d.windowAlign && w.agents > 1;
}

function sealText(w: Workload, d: WarpDesign): string {
  return d.sealMode === "window"
    ? `one per ${w.batchTimeoutMs} ms`
    : `-sealMode eager: one each time a ${d.writeLatencyMs} ms write ends, at most one per produce request of ${fmt(d.requestBytes / KB)} KiB (${fmt(w.bytesPerSecond / d.requestBytes)}/s)`;
}

// The reference design's four stores

/** S3 Standard as ingestion store: one PUT per agent per batchTimeout, whatever the size ("flat"). */
export function referenceS3(w: Workload, p: Prices): CostRow {
  const puts = filesPerSecond(w) * secondsPerMonth(w);
  const stored = storedBytesPerSecond(w) * w.retentionSeconds;
  return row("s3", "seed", w, [
    {
      service: "S3 PUT requests",
      quantity: puts,
      unit: "requests",
      monthlyUsd: (puts / 1000) * p.s3PutPer1000,
      assumption: `${w.agents} agents × ${fmt(1000 / w.batchTimeoutMs)} PUT/s (one file per ${w.batchTimeoutMs} ms batch) × ${monthText(w)} × $${p.s3PutPer1000}/1000; reads not counted (as in the reference table)`,
    },
    storageLine(
      "S3 storage",
      stored,
      p.s3StorageGbMonth,
      `the last ${w.retentionSeconds} s of data, 1:${w.compressionRatio} compressed`,
    ),
  ]);
}

/** S3 Express One Zone: each file written to one directory bucket per zone (quorum across zones). */
export function referenceS3Express(w: Workload, p: Prices): CostRow {
  const files = filesPerSecond(w) * secondsPerMonth(w);
  const puts = files * w.zones;
  const fileBytes = storedBytesPerSecond(w) / filesPerSecond(w);
  const billedUploadGb = (Math.max(0, fileBytes - EXPRESS_FREE_UPLOAD_BYTES) * puts) / GB;
  const stored = storedBytesPerSecond(w) * w.retentionSeconds * w.zones;
  return row("s3-express", "seed", w, [
    {
      service: "S3 Express PUT requests",
      quantity: puts,
      unit: "requests",
      monthlyUsd: (puts / 1000) * p.s3ExpressPutPer1000,
      assumption: `${w.agents} agents × ${fmt(1000 / w.batchTimeoutMs)} files/s, each written to ${w.zones} zonal buckets × ${monthText(w)} × $${p.s3ExpressPutPer1000}/1000`,
    },
    {
      service: "S3 Express upload above 512 KB",
      quantity: billedUploadGb,
      unit: "GB",
      monthlyUsd: billedUploadGb * p.s3ExpressUploadPerGb,
      assumption: `files of ${fmt(fileBytes / KB)} KiB; only bytes above 512 KB per PUT are billed`,
    },
    storageLine(
      "S3 Express storage",
      stored,
      p.s3ExpressStorageGbMonth,
      `the last ${w.retentionSeconds} s of data in ${w.zones} zones`,
    ),
  ]);
}

/** DynamoDB on-demand: every KB written, then deleted when it leaves the window (a delete bills like a write). */
export function referenceDynamoOnDemand(w: Workload, p: Prices): CostRow {
  const wruPerSecond = storedBytesPerSecond(w) / KB;
  const writes = wruPerSecond * secondsPerMonth(w);
  return row("dynamodb-on-demand", "seed", w, [
    {
      service: "DynamoDB writes (WRU)",
      quantity: writes,
      unit: "WRU",
      monthlyUsd: (writes / 1e6) * p.ddbWruPerMillion,
      assumption: `${fmt(w.bytesPerSecond / 1000)} KB/s ÷ ${w.compressionRatio} = ${fmt(wruPerSecond)} WRU/s (1 WRU per KB) × ${monthText(w)} × $${p.ddbWruPerMillion}/million`,
    },
    {
      service: "DynamoDB deletes (WRU)",
      quantity: writes,
      unit: "WRU",
      monthlyUsd: (writes / 1e6) * p.ddbWruPerMillion,
      assumption: `every item deleted after ${w.retentionSeconds} s: a DeleteItem bills the item's size like a write`,
    },
    storageLine(
      "DynamoDB storage",
      storedBytesPerSecond(w) * w.retentionSeconds,
      p.ddbStorageGbMonth,
      `the last ${w.retentionSeconds} s of data`,
    ),
  ]);
}

/**
 * DynamoDB provisioned, as the reference table computes it: capacity for the writes and deletes of ONE agent's share
 * of the traffic (total ÷ agents) at the WCU-hour list price. Sizing the table for the whole traffic
 * costs `agents` times more (warp-dynamodb-provisioned does).
 */
export function referenceDynamoProvisioned(w: Workload, p: Prices): CostRow {
  const wcu = (2 * storedBytesPerSecond(w)) / KB / w.agents;
  const hours = wcu * w.hoursPerMonth;
  return row("dynamodb-provisioned", "seed", w, [
    {
      service: "DynamoDB provisioned WCU",
      quantity: hours,
      unit: "WCU-hours",
      monthlyUsd: hours * p.ddbWcuHour,
      assumption: `(writes + deletes) ${fmt((2 * storedBytesPerSecond(w)) / KB)} WCU ÷ ${w.agents} agents = ${fmt(wcu)} WCU (the reference table sizes capacity for one agent's share) × ${monthText(w)} × $${p.ddbWcuHour}/WCU-hour`,
    },
    storageLine(
      "DynamoDB storage",
      storedBytesPerSecond(w) * w.retentionSeconds,
      p.ddbStorageGbMonth,
      `the last ${w.retentionSeconds} s of data`,
    ),
  ]);
}

// This project's design

/** WRU of one registry heartbeat (the agent's entry, about 200 B); RRU of listing the members. */
const HEARTBEAT_WRU = 1;
const LIST_RRU = 1;
/** WRU of renewing a node-id claim. */
const CLAIM_WRU = 1;

/**
 * The cluster's coordination units a second, all agents, at any traffic: registry heartbeats and node-id
 * claim renewals; the compaction lease, renewed by its holder every second (1 WRU) and read by every other
 * agent as often (1 RRU, strongly consistent; they write only when it has expired); the sequencer lease
 * likewise every two seconds.
 */
function registryRates(w: Pick<Workload, "agents">, d: WarpDesign): { wru: number; rru: number; explain: string } {
  const beats = 1000 / d.heartbeatMs;
  const lists = 1000 / Math.min(DEFAULT_REFRESH_MS, d.heartbeatMs);
  const claims = 4000 / (d.sessionMs * CLAIM_SESSIONS);
  // Only a cluster of several agents has a sequencer worth leasing (one agent appends its own).
  const lease = 1000 / LEASE_RENEW_MS + (w.agents > 1 ? 1000 / SEQUENCER_LEASE_RENEW_MS : 0);
  return {
    wru: w.agents * (beats * HEARTBEAT_WRU + claims * CLAIM_WRU) + lease,
    rru: w.agents * lists * LIST_RRU + (w.agents - 1) * lease,
    explain: `${w.agents} agents heartbeat every ${fmt(d.heartbeatMs / 1000)} s (${HEARTBEAT_WRU} WRU), list the members ${fmt(lists)}×/s (${LIST_RRU} RRU) and renew their node-id claim every ${fmt((d.sessionMs * CLAIM_SESSIONS) / 4000)} s (${CLAIM_WRU} WRU); the compaction lease's holder renews it every ${fmt(LEASE_RENEW_MS / 1000)} s and the sequencer lease's every ${fmt(SEQUENCER_LEASE_RENEW_MS / 1000)} s (1 WRU), and the ${w.agents - 1} others read each as often (1 RRU)`,
  };
}

/** RRU of one tail poll: an entry read eventually consistent, half a strongly consistent read's units. */
/**
 * Tail polls a second while the log moves or a fetch waits: every agent at the active pace when it is
 * alone; with several, the sequencer alone, the others following the log through it (watches) and
 * polling at the idle interval as a safety net (docs/metadata-log.md section 14.6).
 */
function activeTailPolls(w: Pick<Workload, "agents">, d: WarpDesign): { perSecond: number; explain: string } {
  const active = 1000 / d.tailIntervalMs;
  if (w.agents === 1) return { perSecond: active, explain: `1 agent polls the log's tail ${fmt(active)}×/s` };
  const idle = 1000 / d.idlePollMs;
  return {
    perSecond: active + (w.agents - 1) * idle,
    explain: `the sequencer polls the log's tail ${fmt(active)}×/s and the ${w.agents - 1} other agents, following it through watches, ${fmt(idle)}×/s`,
  };
}

function tailPollRru(d: WarpDesign): number {
  return units(d.logEntryBytes, 0, 4 * KB) / 2;
}

/** Billed size units of an item of `bytes` payload: ceil((payload + overhead) / unit). */
function units(bytes: number, overhead: number, unit: number): number {
  return Math.ceil((bytes + overhead) / unit);
}

/**
 * WRU of one metadata log entry whose item is billed at `d.logEntryBytes`: written, then trimmed. An entry
 * whose item fits one write unit stays whole (the agents' ENTRY_BODY_MIN_BYTES of data with its keys), and
 * its trim's tombstone is billed at its size; a larger one is a body of its own beside a pointer of 1 WRU
 * (docs/metadata-log.md section 1, "Entry bodies"), and its trim is the pointer's tombstone (1 WRU) and
 * the body's deletion (billed at its size). An entry that expires (logEntryTtlSeconds) costs its trim
 * nothing: TTL removes it and its body.
 */
export function logEntryWru(d: WarpDesign): { readonly append: number; readonly trim: number } {
  const whole = units(d.logEntryBytes, 0, KB);
  const append = whole <= 1 ? whole : 1 + whole;
  return { append, trim: d.logEntryTtlSeconds > 0 ? 0 : append };
}

/** WRU (1 KB units) or RRU (4 KB units) to write or read one ingestion file of `fileBytes`. */
export function ingestionFileUnits(fileBytes: number, d: WarpDesign, unit: number): number {
  if (fileBytes <= d.inlineMaxBytes) return units(fileBytes, d.itemOverheadBytes, unit);
  const full = Math.floor(fileBytes / d.chunkBytes);
  const rest = fileBytes - full * d.chunkBytes;
  const chunkUnits =
    full * units(d.chunkBytes, d.itemOverheadBytes, unit) + (rest > 0 ? units(rest, d.itemOverheadBytes, unit) : 0);
  return chunkUnits + units(0, d.itemOverheadBytes, unit); // + the descriptor item
}

/**
 * Bytes of a binary metadata snapshot (format 5) per partition (offsets and about four idempotent
 * producers) and per segment, from bench/scale.ts: 100,000 partitions with 500,000 segments took 13.9 MiB.
 */
export const SNAPSHOT_BYTES_PER_PARTITION = 60;
export const SNAPSHOT_BYTES_PER_SEGMENT = 18;

export function snapshotBytes(d: WarpDesign): number {
  return d.partitions * (SNAPSHOT_BYTES_PER_PARTITION + d.segmentsPerPartition * SNAPSHOT_BYTES_PER_SEGMENT);
}

/** S3 requests per snapshot kept as an object: its PUT and the LIST that finds the superseded ones (DELETE is free). */
const SNAPSHOT_OBJECT_REQUESTS = 2;

/**
 * What keeping the metadata log short costs, per second: every `snapshotEntries` entries a snapshot is
 * written and the previous one deleted: as an S3 object with a reference in the table (1 WRU), or
 * chunked in the chunks table like an ingestion file (a DeleteItem then bills the item's size like a
 * write); every entry below it is then trimmed: read once more, and left to expire through TTL (free),
 * or, with logEntryTtlSeconds 0, replaced by a tombstone (1 WRU) that TTL removes.
 */
function snapshotRates(
  entriesPerSecond: number,
  d: WarpDesign,
): { wru: number; rru: number; s3Requests: number; explain: string } {
  const bytes = snapshotBytes(d);
  const perSnapshot = d.snapshotsInS3 ? 1 : 2 * ingestionFileUnits(bytes, d, KB);
  const snapshots = entriesPerSecond / d.snapshotEntries;
  // Trimming reads the entries again in pages of a Query (billed per 4 KB of the page, not per item),
  // eventually consistent.
  const entryRru = d.logEntryBytes / (4 * KB) / 2;
  const stored = d.snapshotsInS3
    ? `kept as an S3 object (a PUT, and a LIST to delete the one before it) with a reference in the table: ${perSnapshot} WRU each`
    : `written and later deleted: ${perSnapshot} WRU each`;
  return {
    wru: snapshots * perSnapshot + entriesPerSecond * logEntryWru(d).trim,
    rru: entriesPerSecond * entryRru,
    s3Requests: d.snapshotsInS3 ? snapshots * SNAPSHOT_OBJECT_REQUESTS : 0,
    explain: `a ${fmt(bytes / 1e6)} MB snapshot (${fmt(d.partitions)} partitions × (${SNAPSHOT_BYTES_PER_PARTITION} B + ${d.segmentsPerPartition} segments × ${SNAPSHOT_BYTES_PER_SEGMENT} B)) every ${fmt(d.snapshotEntries)} of ${fmt(entriesPerSecond)} log entries/s, ${stored}; each entry trimmed below it: read again (${fmt(entryRru)} RRU, in pages, eventually consistent) and ${d.logEntryTtlSeconds > 0 ? `left to expire through TTL ${fmt(d.logEntryTtlSeconds / 86400)} days after it was written (0 WRU)` : `tombstoned (${logEntryWru(d).trim} WRU)`}`,
  };
}

interface WarpRates {
  readonly wruPerSecond: number;
  readonly rruPerSecond: number;
  readonly s3PutPerSecond: number;
  readonly s3GetPerSecond: number;
  /** Snapshots and trims (modelled only: a measured run's units include them). */
  readonly snapshots?: {
    readonly wruPerSecond: number;
    readonly rruPerSecond: number;
    /** S3 requests of snapshots kept as objects, at the PUT price (PUT and LIST). */
    readonly s3RequestsPerSecond: number;
    readonly explain: string;
  };
  readonly explain: { readonly wru: string; readonly rru: string; readonly put: string; readonly get: string };
}

/**
 * How often a compaction pass writes an object: when compactionMinBytes of stored data wait, or the
 * oldest has waited compactionMaxWaitMs, whichever comes first, checked every compactionIntervalMs.
 */
export function compactionPassMs(w: Workload, d: WarpDesign): number {
  if (d.compactionMinBytes <= 0) return d.compactionIntervalMs;
  const fillMs = (d.compactionMinBytes / storedBytesPerSecond(w)) * 1000;
  const due = Math.min(fillMs, Math.max(d.compactionMaxWaitMs, d.compactionIntervalMs));
  // A pass starts at the first check after its data is due.
  return Math.max(d.compactionIntervalMs, Math.ceil(due / d.compactionIntervalMs) * d.compactionIntervalMs);
}

function passText(w: Workload, d: WarpDesign, passMs: number): string {
  if (d.compactionMinBytes <= 0) return `a pass every ${fmt(d.compactionIntervalMs)} ms`;
  return `every ${fmt(passMs / 1000)} s: when ${fmt(d.compactionMinBytes / 1024 / 1024)} MiB wait or the oldest data is ${fmt(d.compactionMaxWaitMs / 1000)} s old, checked every ${fmt(d.compactionIntervalMs)} ms`;
}

function modelledRates(w: Workload, d: WarpDesign): WarpRates {
  const files = warpFilesPerSecond(w, d);
  const fileBytes = storedBytesPerSecond(w) / files;
  const passMs = compactionPassMs(w, d);
  const passes = 1000 / passMs;
  const bytesPerPass = storedBytesPerSecond(w) * (passMs / 1000);
  const objectsPerPass = Math.max(1, Math.ceil(bytesPerPass / d.compactedObjectMaxBytes));
  const logWru = logEntryWru(d).append;
  const fileWru = ingestionFileUnits(fileBytes, d, KB);
  // A committed file is read eventually consistent (GetOptions.consistent false): half the units.
  const fileRru = ingestionFileUnits(fileBytes, d, 4 * KB) / 2;
  const l0PutsPerSecond = passes * objectsPerPass;
  const polls = activeTailPolls(w, d);
  const pollRru = tailPollRru(d);
  const registry = registryRates(w, d);
  const commitEntries = fileCommitEntriesPerSecond(w, d);
  const snapshots = snapshotRates(commitEntries + passes, d);
  const entriesText = gathersWindows(w, d)
    ? `+ ${fmt(commitEntries)} log entries/s of ${logWru} WRU (the sequencer commits each ${w.batchTimeoutMs} ms window's files of every agent in one entry: aligned windows)`
    : `+ ${logWru} WRU log entry each`;
  return {
    snapshots: {
      wruPerSecond: snapshots.wru,
      rruPerSecond: snapshots.rru,
      s3RequestsPerSecond: snapshots.s3Requests,
      explain: snapshots.explain,
    },
    wruPerSecond: files * fileWru + (commitEntries + passes) * logWru + registry.wru,
    rruPerSecond: files * fileRru + polls.perSecond * pollRru + registry.rru,
    s3PutPerSecond: l0PutsPerSecond * (1 + 1 / d.mergeFanIn),
    s3GetPerSecond: l0PutsPerSecond,
    explain: {
      wru: `${fmt(files)} files/s (${w.agents} agents, ${sealText(w, d)}) of ${fmt(fileBytes / KB)} KiB = ${fileWru} WRU each (chunks ≤ ${fmt(d.chunkBytes / KB)} KiB + descriptor, ${d.itemOverheadBytes} B/item) ${entriesText}; + ${fmt(passes)} compaction log entries/s; + ${fmt(registry.wru)} WRU/s for the registry and the leases; TTL expiry is free (no DeleteItem)`,
      rru: `compaction reads each file once (${fileRru} RRU, eventually consistent) + ${polls.explain} (${pollRru} RRU each, eventually consistent) + ${fmt(registry.rru)} RRU/s for the registry and the leases (${registry.explain})`,
      put: `one compacted object per pass (≤ ${fmt(d.compactedObjectMaxBytes / 1024 / 1024)} MiB), ${passText(w, d, passMs)}, + 1/${d.mergeFanIn} for L0→L1 merges`,
      get: `L0→L1 merges read each compacted object once; consumers at the tail read from the ingestion store and caches`,
    },
  };
}

function measuredRates(w: Workload, m: MeasuredRates): WarpRates {
  const mb = storedBytesPerSecond(w) / 1e6;
  const src = `measured: ${m.source}`;
  return {
    wruPerSecond: mb * m.wruPerMB,
    rruPerSecond: mb * m.rruPerMB,
    s3PutPerSecond: mb * m.s3PutPerMB,
    s3GetPerSecond: mb * m.s3GetPerMB,
    explain: {
      wru: `${fmt(m.wruPerMB)} WRU per MB stored (${src})`,
      rru: `${fmt(m.rruPerMB)} RRU per MB stored (${src})`,
      put: `${fmt(m.s3PutPerMB)} PUT per MB stored (${src})`,
      get: `${fmt(m.s3GetPerMB)} GET per MB stored (${src})`,
    },
  };
}

function warpRow(store: WarpStore, w: Workload, d: WarpDesign, p: Prices, measured?: MeasuredRates): CostRow {
  const r = measured ? measuredRates(w, measured) : modelledRates(w, d);
  const secs = secondsPerMonth(w);
  const lines: CostLine[] = [];
  if (store === "warp-dynamodb-on-demand") {
    const wru = r.wruPerSecond * secs;
    const rru = r.rruPerSecond * secs;
    lines.push(
      {
        service: "DynamoDB writes (WRU)",
        quantity: wru,
        unit: "WRU",
        monthlyUsd: (wru / 1e6) * p.ddbWruPerMillion,
        assumption: `${fmt(r.wruPerSecond)} WRU/s: ${r.explain.wru}; × $${p.ddbWruPerMillion}/million`,
      },
      {
        service: "DynamoDB reads (RRU)",
        quantity: rru,
        unit: "RRU",
        monthlyUsd: (rru / 1e6) * p.ddbRruPerMillion,
        assumption: `${fmt(r.rruPerSecond)} RRU/s: ${r.explain.rru}; × $${p.ddbRruPerMillion}/million`,
      },
    );
  } else {
    const wcuHours = (r.wruPerSecond / d.provisionedUtilization) * w.hoursPerMonth;
    const rcuHours = (r.rruPerSecond / d.provisionedUtilization) * w.hoursPerMonth;
    const util = `capacity = average ÷ ${d.provisionedUtilization} utilisation, whole traffic`;
    lines.push(
      {
        service: "DynamoDB provisioned WCU",
        quantity: wcuHours,
        unit: "WCU-hours",
        monthlyUsd: wcuHours * p.ddbWcuHour,
        assumption: `${fmt(r.wruPerSecond / d.provisionedUtilization)} WCU (${util}): ${r.explain.wru}; × $${p.ddbWcuHour}/WCU-hour`,
      },
      {
        service: "DynamoDB provisioned RCU",
        quantity: rcuHours,
        unit: "RCU-hours",
        monthlyUsd: rcuHours * p.ddbRcuHour,
        assumption: `${fmt(r.rruPerSecond / d.provisionedUtilization)} RCU: ${r.explain.rru}; × $${p.ddbRcuHour}/RCU-hour`,
      },
    );
  }
  if (r.snapshots) {
    const sn = r.snapshots;
    const s3Usd = ((sn.s3RequestsPerSecond * secs) / 1000) * p.s3PutPer1000;
    const s3Text =
      sn.s3RequestsPerSecond > 0 ? ` + ${fmt(sn.s3RequestsPerSecond)} S3 requests/s × $${p.s3PutPer1000}/1000` : "";
    if (store === "warp-dynamodb-on-demand") {
      const wru = sn.wruPerSecond * secs;
      const rru = sn.rruPerSecond * secs;
      lines.push({
        service: "DynamoDB metadata snapshots and log trims (WRU + RRU)",
        quantity: wru + rru,
        unit: "request units",
        monthlyUsd: (wru / 1e6) * p.ddbWruPerMillion + (rru / 1e6) * p.ddbRruPerMillion + s3Usd,
        assumption: `${fmt(sn.wruPerSecond)} WRU/s and ${fmt(sn.rruPerSecond)} RRU/s: ${sn.explain}; × $${p.ddbWruPerMillion} and $${p.ddbRruPerMillion}/million${s3Text}`,
      });
    } else {
      const wcuHours = (sn.wruPerSecond / d.provisionedUtilization) * w.hoursPerMonth;
      const rcuHours = (sn.rruPerSecond / d.provisionedUtilization) * w.hoursPerMonth;
      lines.push({
        service: "DynamoDB provisioned capacity for metadata snapshots and log trims",
        quantity: wcuHours + rcuHours,
        unit: "capacity-unit-hours",
        monthlyUsd: wcuHours * p.ddbWcuHour + rcuHours * p.ddbRcuHour + s3Usd,
        assumption: `${fmt(sn.wruPerSecond / d.provisionedUtilization)} WCU and ${fmt(sn.rruPerSecond / d.provisionedUtilization)} RCU: ${sn.explain}; × $${p.ddbWcuHour}/WCU-hour and $${p.ddbRcuHour}/RCU-hour${s3Text}`,
      });
    }
  }
  const ttlWindow = d.ingestionTtlSeconds + d.ttlDeletionLagSeconds;
  lines.push(
    {
      service: "DynamoDB TTL expiry",
      quantity: 0,
      unit: "WRU",
      monthlyUsd: 0,
      assumption: "expired ingestion items are removed by TTL, which is free",
    },
    storageLine(
      "DynamoDB storage",
      storedBytesPerSecond(w) * ttlWindow,
      p.ddbStorageGbMonth,
      `ingestion items live -ingestionTTL ${fmt(d.ingestionTtlSeconds / 3600)} h + up to ${fmt(d.ttlDeletionLagSeconds / 3600)} h until TTL deletes them (free tier ignored)`,
    ),
  );
  if (d.logEntryTtlSeconds > 0) {
    const entries = fileCommitEntriesPerSecond(w, d) + 1000 / compactionPassMs(w, d);
    const window = d.logEntryTtlSeconds + d.ttlDeletionLagSeconds;
    lines.push(
      storageLine(
        "DynamoDB storage (metadata log)",
        entries * d.logEntryBytes * window,
        p.ddbStorageGbMonth,
        `${fmt(entries)} log entries/s of ${fmt(d.logEntryBytes)} B live ${fmt(d.logEntryTtlSeconds / 86400)} days + up to ${fmt(d.ttlDeletionLagSeconds / 3600)} h until TTL deletes them`,
      ),
    );
  }
  const puts = r.s3PutPerSecond * secs;
  const gets = r.s3GetPerSecond * secs;
  lines.push(
    {
      service: "S3 PUT requests (compaction)",
      quantity: puts,
      unit: "requests",
      monthlyUsd: (puts / 1000) * p.s3PutPer1000,
      assumption: `${fmt(r.s3PutPerSecond)} PUT/s: ${r.explain.put}; × $${p.s3PutPer1000}/1000`,
    },
    {
      service: "S3 GET requests (compaction)",
      quantity: gets,
      unit: "requests",
      monthlyUsd: (gets / 1000) * p.s3GetPer1000,
      assumption: `${fmt(r.s3GetPerSecond)} GET/s: ${r.explain.get}; × $${p.s3GetPer1000}/1000; storage of retained data in S3 is not counted (the same for every design)`,
    },
  );
  return row(store, measured ? "warp-measured" : "warp", w, lines);
}

/** What an idle cluster (nothing produced) costs a month on-demand: DynamoDB reads and writes only. */
export interface IdleClusterCost {
  /** No client waits: each agent's tail polls back off to idlePollMs. */
  readonly quietUsd: number;
  /** A consumer waits at the tail on every agent: polls stay at tailIntervalMs. */
  readonly consumersWaitingUsd: number;
  /** The registry's part of both. */
  readonly registryUsd: number;
  readonly explain: string;
}

export function idleCluster(w: Pick<Workload, "agents" | "hoursPerMonth">, d: WarpDesign, p: Prices): IdleClusterCost {
  const secs = w.hoursPerMonth * 3600;
  const registry = registryRates(w, d);
  const pollRru = tailPollRru(d);
  const usd = (wru: number, rru: number) => secs * ((wru * p.ddbWruPerMillion + rru * p.ddbRruPerMillion) / 1e6);
  const waiting = activeTailPolls(w, d);
  return {
    quietUsd: usd(registry.wru, registry.rru + w.agents * (1000 / d.idlePollMs) * pollRru),
    consumersWaitingUsd: usd(registry.wru, registry.rru + waiting.perSecond * pollRru),
    registryUsd: usd(registry.wru, registry.rru),
    explain: `${registry.explain}; each agent polls the log tail (${pollRru} RRU, eventually consistent) every ${fmt(d.idlePollMs / 1000)} s with no fetch waiting; while fetches wait, ${waiting.explain}`,
  };
}

export interface CostInput {
  readonly throughputs: readonly number[];
  readonly workload: Omit<Workload, "bytesPerSecond">;
  readonly design: WarpDesign;
  readonly prices: Prices;
  readonly measured?: MeasuredRates;
}

/** Every row: the reference design's four stores, this design modelled and, with measured rates, measured. */
export function costTable(input: CostInput): CostRow[] {
  const rows: CostRow[] = [];
  for (const bytesPerSecond of input.throughputs) {
    const w: Workload = { ...input.workload, bytesPerSecond };
    rows.push(
      referenceS3(w, input.prices),
      referenceS3Express(w, input.prices),
      referenceDynamoOnDemand(w, input.prices),
      referenceDynamoProvisioned(w, input.prices),
    );
    for (const store of WARP_STORES) rows.push(warpRow(store, w, input.design, input.prices));
    if (input.measured)
      for (const store of WARP_STORES) rows.push(warpRow(store, w, input.design, input.prices, input.measured));
  }
  return rows;
}
