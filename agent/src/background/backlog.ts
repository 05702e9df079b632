/**
 * The compaction backlog, read from the folded state: the ingestion files the metadata log still
 * references (not yet compacted) and when each was written. Every agent folds the same log, so every
 * agent sees the same backlog and reports it (warp_oldest_uncompacted_file_age_seconds), whichever
 * agent holds the compaction lease.
 *
 * Ingestion files on DynamoDB expire -ingestionTTL after they were written; compaction normally copies
 * them out within seconds. When it stalls (compaction store unreachable, no lease holder able to
 * work) the backlog ages. Past `limitMs` (-maxUncompactedAge, half the TTL by default) every agent
 * refuses new produce data with a retriable error and reports not ready, so the backlog stops growing;
 * meanwhile the lease holder keeps the files still referenced from expiring (expiry.ts).
 */
import type { Logger } from "../../../common/logger.js";
import type { ClusterState } from "../metadata/state.js";
import { COMPACTED_PREFIX } from "./compactor.js";
import { keyTime } from "./gc.js";

/**
 * The ingestion files the state references → when each was written (ms): the time in its key (the
 * writer's clock when it named the file, just before it set the file's expiry), or, for a key without
 * one, the earliest append time of its segments.
 */
export function uncompactedFiles(state: ClusterState): Map<string, number> {
  const out = new Map<string, number>();
  const untimed = new Set<string>();
  for (const key of state.objectRefs.keys()) {
    if (key.startsWith(COMPACTED_PREFIX)) continue;
    const written = keyTime(key);
    if (written === null) untimed.add(key);
    else out.set(key, written);
  }
  if (untimed.size === 0) return out;
  for (const topic of state.topics.values()) {
    for (const p of topic.partitions) {
      for (const s of p.segments) {
        if (s.location.store !== "i" || !untimed.has(s.location.key)) continue;
        const known = out.get(s.location.key);
        if (known === undefined || s.appendTime < known) out.set(s.location.key, s.appendTime);
      }
    }
  }
  return out;
}

/** When the oldest ingestion file the state references was written (ms), or null when there is none. */
export function oldestUncompactedWrite(state: ClusterState): number | null {
  let oldest: number | null = null;
  for (const written of uncompactedFiles(state).values()) if (oldest === null || written < oldest) oldest = written;
  return oldest;
}

export interface CompactionBacklogOptions {
  /** Oldest uncompacted age tolerated before new data is refused; 0: never refuse. */
  readonly limitMs: number;
  readonly logger: Logger;
  /** The backlog is computed again at most this often (default 500 ms): every produce request asks. */
  readonly refreshMs?: number;
  /** Clock (test seam). */
  readonly now?: () => number;
}

export class CompactionBacklog {
  private readonly refreshMs: number;
  private readonly now: () => number;
  private oldestWrite: number | null = null;
  private computedFor: { state: ClusterState; index: bigint } | null = null;
  private computedAt = -Infinity;
  private over = false;

  constructor(
    private readonly state: () => ClusterState,
    private readonly options: CompactionBacklogOptions,
  ) {
    this.refreshMs = options.refreshMs ?? 500;
    this.now = options.now ?? Date.now;
  }

  /** Age (ms) of the oldest ingestion file the log references; 0 when there is none. */
  oldestAgeMs(): number {
    const now = this.now();
    const state = this.state();
    const changed = this.computedFor?.state !== state || this.computedFor.index !== state.appliedIndex;
    if (changed && now - this.computedAt >= this.refreshMs) {
      this.oldestWrite = oldestUncompactedWrite(state);
      this.computedFor = { state, index: state.appliedIndex };
      this.computedAt = now;
    }
    return this.oldestWrite === null ? 0 : Math.max(0, now - this.oldestWrite);
  }

  /** Why new produce data is refused now (the backlog is over the limit), or null. */
  refusal(): string | null {
    const limit = this.options.limitMs;
    const age = this.oldestAgeMs();
    const over = limit > 0 && age > limit;
    if (over !== this.over) {
      this.over = over;
      if (over)
        this.options.logger.error(
          "compaction is behind: refusing produce requests and reporting not ready until it catches up",
          { oldestUncompactedAgeMs: age, maxUncompactedAgeMs: limit },
        );
      else
        this.options.logger.info("compaction caught up: accepting produce requests again", {
          oldestUncompactedAgeMs: age,
        });
    }
    if (!over) return null;
    return `compaction is behind: the oldest uncompacted ingestion file is ${Math.round(age / 1000)} s old (limit ${Math.round(limit / 1000)} s, -maxUncompactedAge); new data is refused until compaction catches up`;
  }
}
