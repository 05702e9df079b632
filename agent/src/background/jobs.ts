/**
 * Background jobs of an agent in a cluster: every agent competes for the compaction lease
 * (`lease/compaction`); the holder runs compaction (then archives old runs into index pages,
 * run-archiver.ts) every compactionIntervalMs, retention every
 * retentionIntervalMs and garbage collection every gcIntervalMs, and writes metadata snapshots (the
 * agent passes `writesSnapshots: () => jobs.isLeader()` to its MetadataLog; a pass and a snapshot wait
 * for each other rather than overlap: SNAPSHOT_WAIT_STEP_MS). Where ingestion files
 * expire, it also keeps those still referenced from expiring (expiry.ts), on a timer of its own so
 * that a compaction pass hanging on an unreachable compaction store does not hold it up. The others
 * stand by.
 */
import { randomUUID } from "node:crypto";
import type { Logger } from "../../../common/logger.js";
import { errorMessage } from "../../../common/logger.js";
import type { MetadataLog } from "../metadata/log.js";
import * as metrics from "../metrics/metrics.js";
import type { TruncateCommand } from "../metadata/commands.js";
import { GarbageCollector } from "./gc.js";
import type { GcOptions, GcResult } from "./gc.js";
import { RetentionEnforcer } from "./retention.js";
import type { AgentInfo } from "../cluster/types.js";
import type { Stores } from "../store/types.js";
import type { CompactionCache, CompactionStats, CompactorOptions } from "./compactor.js";
import { Compactor } from "./compactor.js";
import type { CompactionCopier } from "./compaction-copier.js";
import { ExpiryExtender } from "./expiry.js";
import { RunArchiver, type RunArchiverOptions } from "./run-archiver.js";
import { Lease } from "./lease.js";

export const COMPACTION_LEASE_KEY = "lease/compaction";

export type BackgroundJob = "compaction" | "archive" | "retention" | "gc" | "expiry";

export interface BackgroundJobOptions {
  /** Default 2000 ms. */
  readonly compactionIntervalMs?: number;
  /** Default 30000 ms. */
  readonly retentionIntervalMs?: number;
  /** Default 60000 ms. */
  readonly gcIntervalMs?: number;
  /** How long a pass waits at most for this agent's snapshot; default SNAPSHOT_WAIT_AT_MOST_MS. */
  readonly snapshotWaitAtMostMs?: number;
  /** Lease renewal period; default 1000 ms. The lease lives 3 × as long unless leaseTtlMs says otherwise. */
  readonly leaseRenewMs?: number;
  readonly leaseTtlMs?: number;
  readonly compactor?: CompactorOptions;
  /** Index pages of old compacted runs (run-archiver.ts), written after each compaction pass. */
  readonly archiver?: RunArchiverOptions;
  /**
   * Whether ingestion files are written with an expiry the ingestion store enforces (DynamoDB TTL).
   * Default: the ingestion store is DynamoDB. When false, GC deletes unreferenced ingestion files
   * (unless gc.collectIngestionFiles says otherwise).
   */
  readonly ingestionFilesExpire?: boolean;
  /**
   * The expiry ingestion files are written with, when they expire: the lease holder extends the expiry
   * of files still referenced (expiry.ts). Without it nothing is extended.
   */
  readonly ingestionTtlMs?: number;
  readonly gc?: GcOptions;
}

/**
 * Observation hooks. compactionRuns / compactedBytes / compactionFailures (agent/src/metrics/metrics.ts) are counted here already;
 * the hooks feed anything else (gauges of leadership and backlog, GC and retention counters).
 */
export interface BackgroundJobHooks {
  readonly onCompaction?: (stats: CompactionStats) => void;
  readonly onTruncate?: (commands: readonly TruncateCommand[]) => void;
  readonly onGarbageDeleted?: (info: {
    store: "ingestion" | "compaction";
    keys: readonly string[];
    bytes: number;
  }) => void;
  readonly onLeaseChange?: (held: boolean) => void;
  readonly onJobError?: (job: BackgroundJob, err: unknown) => void;
}

export interface BackgroundJobsDeps {
  readonly stores: Pick<Stores, "ingestion" | "compaction" | "metadata">;
  readonly log: MetadataLog;
  readonly logger: Logger;
  /** This agent, written into the lease item for people reading the table. */
  readonly self?: AgentInfo;
  /** The fetch cache: compaction reads the ingestion files it holds and offers it the runs it writes. */
  readonly fetchCache?: CompactionCache;
  /** Where compaction's data path runs (compaction-copier.ts); absent: in this event loop. */
  readonly copier?: CompactionCopier;
  /** Whether this agent read the partition lately: only those partitions' runs are offered (compactor.ts). */
  readonly readsPartition?: (topic: string, partition: number) => boolean;
  readonly options?: BackgroundJobOptions;
  readonly hooks?: BackgroundJobHooks;
  /**
   * Whether another agent should hold the compaction lease rather than this one: it holds the sequencer's
   * and other agents are live. This agent then leaves a free lease to them (Lease `defer`) and, holding
   * it, gives it up between passes (at most every HAND_OVER_EVERY_MS), so that compaction's work and
   * collections do not stall the agent every commit goes through.
   */
  readonly handOver?: () => boolean;
}

/** Least time between two hand-overs of the compaction lease by one agent (ms). */
export const HAND_OVER_EVERY_MS = 5 * 60_000;
/**
 * A pass due while this agent writes a snapshot waits for it, asking again this often (ms), at most
 * SNAPSHOT_WAIT_AT_MOST_MS in all; the log's snapshot waits for a running pass likewise (MetadataLog
 * `snapshotWaits`). The two heaviest things the holder does then never share its event loop's seconds.
 */
export const SNAPSHOT_WAIT_STEP_MS = 50;
export const SNAPSHOT_WAIT_AT_MOST_MS = 10_000;

export interface BackgroundJobs {
  /** Whether this agent holds the compaction lease (and so compacts, enforces retention, snapshots). */
  isLeader(): boolean;
  /** Whether a pass (compaction, archive, retention, GC) is running now. */
  passRunning(): boolean;
  readonly compactor: Compactor;
  readonly archiver: RunArchiver;
  readonly retention: RetentionEnforcer;
  readonly gc: GarbageCollector;
  readonly lease: Lease;
  /** Stops the jobs, waits for a running pass, and releases the lease so another agent takes over. */
  stop(): Promise<void>;
}

export function startBackgroundJobs(deps: BackgroundJobsDeps): BackgroundJobs {
  const options = deps.options ?? {};
  const { stores, log, logger } = deps;
  const hooks = deps.hooks ?? {};
  const compactionIntervalMs = options.compactionIntervalMs ?? 2000;
  const retentionIntervalMs = options.retentionIntervalMs ?? 30_000;
  const gcIntervalMs = options.gcIntervalMs ?? 60_000;
  const snapshotWaitAtMostMs = options.snapshotWaitAtMostMs ?? SNAPSHOT_WAIT_AT_MOST_MS;

  const lease = new Lease({
    store: stores.metadata,
    key: COMPACTION_LEASE_KEY,
    owner: randomUUID(),
    ...(deps.self ? { info: { nodeId: deps.self.nodeId, host: deps.self.host, zone: deps.self.zone } } : {}),
    ...(options.leaseRenewMs !== undefined ? { renewMs: options.leaseRenewMs } : {}),
    ...(options.leaseTtlMs !== undefined ? { ttlMs: options.leaseTtlMs } : {}),
    logger,
    onChange: (held) => hooks.onLeaseChange?.(held),
    ...(deps.handOver ? { defer: deps.handOver } : {}),
  });
  const isLeader = () => lease.isHeld();
  const compactor = new Compactor(
    {
      ingestion: stores.ingestion,
      compaction: stores.compaction,
      log,
      logger,
      isLeader,
      ...(deps.fetchCache ? { cache: deps.fetchCache } : {}),
      ...(deps.copier ? { copier: deps.copier } : {}),
      ...(deps.readsPartition ? { readsPartition: deps.readsPartition } : {}),
      onCompaction: (stats) => {
        if (stats.key !== null) {
          metrics.compactionRuns.inc();
          metrics.compactedBytes.inc(stats.bytes);
        }
        hooks.onCompaction?.(stats);
      },
    },
    options.compactor ?? {},
  );
  const archiver = new RunArchiver({ compaction: stores.compaction, log, logger, isLeader }, options.archiver ?? {});
  const retention = new RetentionEnforcer({
    log,
    logger,
    ...(hooks.onTruncate ? { onTruncate: hooks.onTruncate } : {}),
  });
  const ingestionFilesExpire = options.ingestionFilesExpire ?? stores.ingestion.kind === "dynamodb";
  const gc = new GarbageCollector(
    {
      ingestion: stores.ingestion,
      compaction: stores.compaction,
      log,
      logger,
      ...(hooks.onGarbageDeleted ? { onDeleted: hooks.onGarbageDeleted } : {}),
    },
    { ...options.gc, collectIngestionFiles: options.gc?.collectIngestionFiles ?? !ingestionFilesExpire },
  );

  const expiry =
    ingestionFilesExpire && options.ingestionTtlMs !== undefined
      ? new ExpiryExtender({ ingestion: stores.ingestion, log, logger }, { ttlMs: options.ingestionTtlMs })
      : null;
  // Extensions start at a third of the TTL; checking ten times per TTL leaves a wide margin.
  const expiryIntervalMs =
    options.ingestionTtlMs !== undefined ? Math.max(1000, Math.min(60_000, options.ingestionTtlMs / 10)) : 0;

  let stopped = false;
  let timer: NodeJS.Timeout | null = null;
  let running: Promise<void> | null = null;
  let expiryTimer: NodeJS.Timeout | null = null;
  let expiryRunning: Promise<void> | null = null;
  let nextRetention = 0;
  let nextGc = 0;
  let handedOverAt = -Infinity;

  const guarded = async (job: BackgroundJob, fn: () => Promise<unknown>) => {
    if (stopped || !isLeader()) return;
    try {
      await fn();
    } catch (err) {
      if (job === "compaction") metrics.compactionFailures.inc();
      logger.warn(`${job} pass failed`, { error: errorMessage(err) });
      hooks.onJobError?.(job, err);
    }
  };

  const pass = async () => {
    if (!isLeader()) {
      // Whoever takes over starts its schedules afresh (GC's grace counts from its own first sighting).
      nextRetention = 0;
      nextGc = 0;
      return;
    }
    await guarded("compaction", () => compactor.runOnce());
    await guarded("archive", () => archiver.runOnce());
    const now = Date.now();
    if (now >= nextRetention) {
      nextRetention = now + retentionIntervalMs;
      await guarded("retention", () => retention.runOnce());
    }
    if (now >= nextGc) {
      nextGc = now + gcIntervalMs;
      await guarded("gc", (): Promise<GcResult> => gc.runOnce());
    }
    if (!stopped && isLeader() && deps.handOver?.() && now - handedOverAt >= HAND_OVER_EVERY_MS) {
      handedOverAt = now;
      logger.info("handing the compaction lease over: this agent is the sequencer and others are live");
      await lease.release();
    }
  };

  // When the pass now due started waiting for this agent's snapshot (null: it is not waiting).
  let waitingSince: number | null = null;
  const schedule = (delayMs = compactionIntervalMs) => {
    if (stopped) return;
    timer = setTimeout(() => {
      if (log.writingSnapshot) {
        waitingSince ??= Date.now();
        if (Date.now() - waitingSince < snapshotWaitAtMostMs) {
          schedule(SNAPSHOT_WAIT_STEP_MS);
          return;
        }
      }
      waitingSince = null;
      running = pass().finally(() => {
        running = null;
        schedule();
      });
    }, delayMs);
    timer.unref();
  };

  const scheduleExpiry = () => {
    if (stopped || !expiry) return;
    expiryTimer = setTimeout(() => {
      expiryRunning = guarded("expiry", () => expiry.runOnce()).finally(() => {
        expiryRunning = null;
        scheduleExpiry();
      });
    }, expiryIntervalMs);
    expiryTimer.unref();
  };

  lease.start();
  schedule();
  scheduleExpiry();

  return {
    isLeader,
    passRunning: () => running !== null,
    compactor,
    archiver,
    retention,
    gc,
    lease,
    stop: async () => {
      if (stopped) return;
      stopped = true;
      if (timer) clearTimeout(timer);
      if (expiryTimer) clearTimeout(expiryTimer);
      timer = null;
      expiryTimer = null;
      await running;
      await expiryRunning;
      await lease.stop();
    },
  };
}
