/**
 * Background jobs of an agent in a cluster: every agent competes for the compaction lease
 * (`lease/compaction`); the holder runs compaction every compactionIntervalMs, retention every
 * retentionIntervalMs and garbage collection every gcIntervalMs, and writes metadata snapshots (the
 * agent passes `writesSnapshots: () => jobs.isLeader()` to its MetadataLog). The others stand by.
 */
import { randomUUID } from "node:crypto";
import type { Logger } from "../../../common/logger.js";
import { errorMessage } from "../../../common/logger.js";
import type { MetadataLog } from "../metadata/log.js";
import * as metrics from "../metrics.js";
import type { TruncateCommand } from "../metadata/commands.js";
import { GarbageCollector } from "./gc.js";
import type { GcOptions, GcResult } from "./gc.js";
import { RetentionEnforcer } from "./retention.js";
import type { AgentInfo } from "../cluster/types.js";
import type { Stores } from "../store/types.js";
import type { CompactionStats, CompactorOptions } from "./compactor.js";
import { Compactor } from "./compactor.js";
import { Lease } from "./lease.js";

export const COMPACTION_LEASE_KEY = "lease/compaction";

export interface BackgroundJobOptions {
  /** Default 2000 ms. */
  readonly compactionIntervalMs?: number;
  /** Default 30000 ms. */
  readonly retentionIntervalMs?: number;
  /** Default 60000 ms. */
  readonly gcIntervalMs?: number;
  /** Lease renewal period; default 1000 ms. The lease lives 3 × as long unless leaseTtlMs says otherwise. */
  readonly leaseRenewMs?: number;
  readonly leaseTtlMs?: number;
  readonly compactor?: CompactorOptions;
  /**
   * Whether ingestion files are written with an expiry the ingestion store enforces (DynamoDB TTL).
   * Default: the ingestion store is DynamoDB. When false, GC deletes unreferenced ingestion files
   * (unless gc.collectIngestionFiles says otherwise).
   */
  readonly ingestionFilesExpire?: boolean;
  readonly gc?: GcOptions;
}

/**
 * Observation hooks. compactionRuns / compactedBytes / compactionFailures (agent/src/metrics.ts) are counted here already;
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
  readonly onJobError?: (job: "compaction" | "retention" | "gc", err: unknown) => void;
}

export interface BackgroundJobsDeps {
  readonly stores: Pick<Stores, "ingestion" | "compaction" | "metadata">;
  readonly log: MetadataLog;
  readonly logger: Logger;
  /** This agent, written into the lease item for people reading the table. */
  readonly self?: AgentInfo;
  readonly options?: BackgroundJobOptions;
  readonly hooks?: BackgroundJobHooks;
}

export interface BackgroundJobs {
  /** Whether this agent holds the compaction lease (and so compacts, enforces retention, snapshots). */
  isLeader(): boolean;
  readonly compactor: Compactor;
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

  const lease = new Lease({
    store: stores.metadata,
    key: COMPACTION_LEASE_KEY,
    owner: randomUUID(),
    ...(deps.self ? { info: { nodeId: deps.self.nodeId, host: deps.self.host, zone: deps.self.zone } } : {}),
    ...(options.leaseRenewMs !== undefined ? { renewMs: options.leaseRenewMs } : {}),
    ...(options.leaseTtlMs !== undefined ? { ttlMs: options.leaseTtlMs } : {}),
    logger,
    onChange: (held) => hooks.onLeaseChange?.(held),
  });
  const isLeader = () => lease.isHeld();
  const compactor = new Compactor(
    {
      ingestion: stores.ingestion,
      compaction: stores.compaction,
      log,
      logger,
      isLeader,
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

  let stopped = false;
  let timer: NodeJS.Timeout | null = null;
  let running: Promise<void> | null = null;
  let nextRetention = 0;
  let nextGc = 0;

  const guarded = async (job: "compaction" | "retention" | "gc", fn: () => Promise<unknown>) => {
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
    const now = Date.now();
    if (now >= nextRetention) {
      nextRetention = now + retentionIntervalMs;
      await guarded("retention", () => retention.runOnce());
    }
    if (now >= nextGc) {
      nextGc = now + gcIntervalMs;
      await guarded("gc", (): Promise<GcResult> => gc.runOnce());
    }
  };

  const schedule = () => {
    if (stopped) return;
    timer = setTimeout(() => {
      running = pass().finally(() => {
        running = null;
        schedule();
      });
    }, compactionIntervalMs);
    timer.unref();
  };

  lease.start();
  schedule();

  return {
    isLeader,
    compactor,
    retention,
    gc,
    lease,
    stop: async () => {
      if (stopped) return;
      stopped = true;
      if (timer) clearTimeout(timer);
      timer = null;
      await running;
      await lease.stop();
    },
  };
}
