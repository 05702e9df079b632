/**
 * Keeps the ingestion files that the metadata log still references from expiring while compaction is
 * stalled. Files are written with an expiry of -ingestionTTL (DynamoDB TTL: free), which compaction
 * normally beats by far; when it stalls (compaction store unreachable, bucket gone) the holder of the
 * compaction lease gives every referenced file whose remaining life is under two thirds of the TTL
 * (written, or last extended, more than a third of the TTL ago) a new expiry of now + TTL. So a stall
 * of any length loses nothing as long as the ingestion store answers; past -maxUncompactedAge the
 * agents also stop taking new data (backlog.ts), which bounds how many files need this.
 *
 * An extension is billed like a write of the whole file (DynamoDB bills an update by the item's
 * size), and happens only to files compaction is late with. A referenced file the store no longer
 * holds is data lost: it is logged as an error, once.
 */
import type { Logger } from "../../../common/logger.js";
import { errorMessage } from "../../../common/logger.js";
import { mapLimit } from "../../../common/map-limit.js";
import type { MetadataLog } from "../metadata/log.js";
import type { ObjectStore } from "../store/types.js";
import { uncompactedFiles } from "./backlog.js";

export interface ExpiryExtenderOptions {
  /** The expiry ingestion files are written with (-ingestionTTL). */
  readonly ttlMs: number;
  /** Files extended in parallel; default 8. */
  readonly concurrency?: number;
}

export interface ExpiryExtenderDeps {
  readonly ingestion: ObjectStore;
  readonly log: MetadataLog;
  readonly logger: Logger;
}

export interface ExpiryResult {
  /** Files given a new expiry by this pass. */
  readonly extended: readonly string[];
  /** Referenced files the store no longer holds (first seen by this pass). */
  readonly lost: readonly string[];
}

export class ExpiryExtender {
  /** The expiry this extender gave each file; a file not in here expires TTL after it was written. */
  private readonly expiries = new Map<string, number>();
  private readonly lost = new Set<string>();

  constructor(
    private readonly deps: ExpiryExtenderDeps,
    private readonly options: ExpiryExtenderOptions,
  ) {}

  async runOnce(now = Date.now()): Promise<ExpiryResult> {
    const ttl = this.options.ttlMs;
    const files = uncompactedFiles(this.deps.log.state);
    for (const key of [...this.expiries.keys()]) if (!files.has(key)) this.expiries.delete(key);
    for (const key of [...this.lost]) if (!files.has(key)) this.lost.delete(key);
    const due: string[] = [];
    for (const [key, written] of files) {
      if (this.lost.has(key)) continue;
      const expiresAt = this.expiries.get(key) ?? written + ttl;
      if (expiresAt - now < (ttl * 2) / 3) due.push(key);
    }
    if (due.length === 0) return { extended: [], lost: [] };

    const expiresAt = now + ttl;
    const extended: string[] = [];
    const lost: string[] = [];
    const failures: string[] = [];
    await mapLimit(due, this.options.concurrency ?? 8, async (key) => {
      try {
        if (await this.deps.ingestion.setExpiry(key, new Date(expiresAt))) {
          this.expiries.set(key, expiresAt);
          extended.push(key);
        } else {
          this.lost.add(key);
          lost.push(key);
        }
      } catch (err) {
        failures.push(`${key}: ${errorMessage(err)}`);
      }
    });

    const { logger } = this.deps;
    if (extended.length > 0)
      logger.warn("compaction is behind: extended the expiry of ingestion files still referenced", {
        files: extended.length,
        expiresAt: new Date(expiresAt).toISOString(),
      });
    if (lost.length > 0)
      logger.error("ingestion files referenced by the metadata log are gone: their records are lost", {
        files: lost.length,
        keys: lost.slice(0, 10),
      });
    if (failures.length > 0)
      throw new Error(`extending the expiry of ${failures.length} ingestion files failed; first ${failures[0]}`);
    return { extended, lost };
  }
}
