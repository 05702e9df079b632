/**
 * Retention: the compaction lease holder drops data older than a topic's `retention.ms` and beyond
 * its `retention.bytes` (per partition) by proposing `truncate` commands at segment boundaries. The
 * fold then unreferences the segments' objects; GC (gc.ts) deletes objects nothing references.
 * DeleteRecords (handlers/21-delete-records.ts) moves the log start with the same command; retention
 * starts from wherever the log start is, and a cut below it changes nothing.
 *
 * A segment is expired by time when both its newest record timestamp and its log-append time are older
 * than retention.ms: records produced with old CreateTime timestamps are still kept for retention.ms
 * after they were written, and a compacted run (many batches) expires with its newest batch.
 * By size, Kafka's rule: the oldest segment goes while the partition keeps at least retention.bytes
 * without it. Segments are whole ingestion batches or compacted runs (up to a few MiB), so retention
 * is as coarse as they are. A topic whose cleanup.policy is compact alone keeps everything.
 */
import type { Logger } from "../../../common/logger.js";
import type { TruncateCommand } from "../metadata/commands.js";
import type { MetadataLog } from "../metadata/log.js";
import type { ClusterState, PartitionState } from "../metadata/state.js";
import { effectiveConfig } from "../metadata/topic-config.js";

function configNumber(configs: Readonly<Record<string, string>>, key: string): number {
  const v = Number(effectiveConfig(configs, key) ?? "-1");
  return Number.isFinite(v) ? v : -1;
}

/** The offset a partition should start at under its retention settings (its current start if none). */
export function retentionCut(p: PartitionState, retentionMs: number, retentionBytes: number, now: number): number {
  let cut = p.logStartOffset;
  if (retentionMs >= 0) {
    for (const s of p.segments) {
      if (Math.max(s.maxTimestamp, s.appendTime) >= now - retentionMs) break;
      cut = Math.max(cut, s.lastOffset + 1);
    }
  }
  if (retentionBytes >= 0) {
    let remaining = p.bytes;
    for (const s of p.segments) {
      if (remaining - s.location.len < retentionBytes) break;
      remaining -= s.location.len;
      cut = Math.max(cut, s.lastOffset + 1);
    }
  }
  return cut;
}

/** Truncations retention calls for now (pure: state in, commands out). */
export function planRetention(state: ClusterState, now: number): TruncateCommand[] {
  const out: TruncateCommand[] = [];
  for (const [name, topic] of state.topics) {
    // cleanup.policy=compact alone keeps everything (records are not compacted by key: topic-config.ts).
    const policies = (effectiveConfig(topic.configs, "cleanup.policy") ?? "delete").split(",").map((p) => p.trim());
    if (!policies.includes("delete")) continue;
    const retentionMs = configNumber(topic.configs, "retention.ms");
    const retentionBytes = configNumber(topic.configs, "retention.bytes");
    if (retentionMs < 0 && retentionBytes < 0) continue;
    topic.partitions.forEach((p, partition) => {
      const cut = retentionCut(p, retentionMs, retentionBytes, now);
      if (cut > p.logStartOffset)
        out.push({ type: "truncate", topic: name, partition, offset: cut, topicId: topic.topicId });
    });
  }
  return out;
}

export interface RetentionDeps {
  readonly log: MetadataLog;
  readonly logger: Logger;
  readonly onTruncate?: (commands: readonly TruncateCommand[]) => void;
}

export class RetentionEnforcer {
  constructor(private readonly deps: RetentionDeps) {}

  /** Catches up with the log and proposes the truncations due; returns them. */
  async runOnce(now = Date.now()): Promise<TruncateCommand[]> {
    await this.deps.log.catchUp();
    const commands = planRetention(this.deps.log.state, now);
    if (commands.length === 0) return commands;
    await this.deps.log.propose(commands);
    this.deps.logger.info("retention truncated partitions", { partitions: commands.length });
    this.deps.onTruncate?.(commands);
    return commands;
  }
}
