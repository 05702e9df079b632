/**
 * Garbage collection of objects nothing references: compacted objects left behind by retention, by
 * L0 → L1 merges and by abandoned compactions; and, unless ingestion files are left to a TTL the store
 * enforces for free (DynamoDB), ingestion files that were compacted, truncated or never committed
 * (on S3, file and mem stores a delete costs nothing, or the store does not expire objects at all).
 *
 * An object is deleted only when it is unreferenced in the caught-up state AND it has been seen
 * unreferenced for at least graceMs by this collector AND (when its key carries its creation time)
 * it is older than graceMs. The grace covers objects written but not yet committed (a compaction or a
 * produce in flight) and agents that lag behind the log and may still read an object.
 */
import type { Logger } from "../../../common/logger.js";
import { errorMessage } from "../../../common/logger.js";
import { COMPACTED_PREFIX } from "./compactor.js";
import type { MetadataLog } from "../metadata/log.js";
import type { ObjectStore } from "../store/types.js";

export interface GcOptions {
  /** Default 5 minutes. */
  readonly graceMs?: number;
  /** Also collect unreferenced ingestion files (when they are not written with a TTL the store honours). */
  readonly collectIngestionFiles?: boolean;
  /** Key prefix of ingestion files; default "ingest/". */
  readonly ingestionPrefix?: string;
}

export interface GcDeps {
  readonly ingestion: ObjectStore;
  readonly compaction: ObjectStore;
  readonly log: MetadataLog;
  readonly logger: Logger;
  readonly onDeleted?: (info: { store: "ingestion" | "compaction"; keys: readonly string[]; bytes: number }) => void;
}

export interface GcResult {
  readonly deletedCompacted: readonly string[];
  readonly deletedIngestion: readonly string[];
}

const MIN_PLAUSIBLE_MS = Date.UTC(2020, 0, 1);

/**
 * Creation time (ms) carried by a key, when it has one: `compacted/<ms>-<id>` (compactor) or
 * `<prefix><agent>-<ms base 36>-<counter base 36>` (ingestion batcher). Null when unknown.
 */
export function keyTime(key: string): number | null {
  const compacted = /^compacted\/(\d{13})-/.exec(key);
  if (compacted) return Number(compacted[1]);
  const ingest = /-([0-9a-z]{6,10})-[0-9a-z]+$/.exec(key);
  if (ingest) {
    const t = parseInt(ingest[1]!, 36);
    if (t >= MIN_PLAUSIBLE_MS && t < MIN_PLAUSIBLE_MS * 2) return t;
  }
  return null;
}

export class GarbageCollector {
  readonly graceMs: number;
  private readonly firstSeen = new Map<string, number>();

  constructor(
    private readonly deps: GcDeps,
    private readonly options: GcOptions = {},
  ) {
    this.graceMs = options.graceMs ?? 5 * 60_000;
  }

  async runOnce(now = Date.now()): Promise<GcResult> {
    const compacted = await this.collect("compaction", this.deps.compaction, COMPACTED_PREFIX, now);
    const ingestion = this.options.collectIngestionFiles
      ? await this.collect("ingestion", this.deps.ingestion, this.options.ingestionPrefix ?? "ingest/", now)
      : [];
    return { deletedCompacted: compacted, deletedIngestion: ingestion };
  }

  private async collect(
    which: "ingestion" | "compaction",
    store: ObjectStore,
    prefix: string,
    now: number,
  ): Promise<string[]> {
    const listed: Array<{ key: string; size: number }> = [];
    for await (const o of store.list(prefix)) listed.push(o);
    // Catch up after listing: anything committed before the listing finished is seen as referenced.
    await this.deps.log.catchUp();
    const refs = this.deps.log.state.objectRefs;
    const seen = new Set<string>();
    const doomed: Array<{ key: string; size: number }> = [];
    for (const o of listed) {
      const id = `${which}:${o.key}`;
      if (refs.has(o.key)) {
        this.firstSeen.delete(id);
        continue;
      }
      seen.add(id);
      const first = this.firstSeen.get(id) ?? now;
      this.firstSeen.set(id, first);
      const created = keyTime(o.key);
      if (now - first >= this.graceMs && (created === null || now - created >= this.graceMs)) doomed.push(o);
    }
    // Forget objects that disappeared (deleted, expired) since the last pass.
    for (const id of [...this.firstSeen.keys()])
      if (id.startsWith(`${which}:`) && !seen.has(id)) this.firstSeen.delete(id);
    if (doomed.length === 0) return [];
    const keys = doomed.map((o) => o.key);
    try {
      await store.delete(keys);
    } catch (err) {
      this.deps.logger.warn("garbage collection delete failed", {
        store: which,
        objects: keys.length,
        error: errorMessage(err),
      });
      return [];
    }
    for (const k of keys) this.firstSeen.delete(`${which}:${k}`);
    const bytes = doomed.reduce((n, o) => n + o.size, 0);
    this.deps.logger.info("garbage collected unreferenced objects", { store: which, objects: keys.length, bytes });
    this.deps.onDeleted?.({ store: which, keys, bytes });
    return keys;
  }
}
