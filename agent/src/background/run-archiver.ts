/**
 * Index pages (docs/metadata-log.md 14.3, "Bounded state"): the compaction lease holder moves a
 * partition's oldest compacted runs out of every agent's heap. When a partition holds more than
 * 2 × `pageRuns` compacted runs after its pages, its oldest `pageRuns` are written as one page object
 * (metadata/run-page.ts) in the compaction store, then an `archiveRuns` command names the page; the fold
 * swaps the runs for one page segment if they are still exactly the partition's oldest (state.ts). A
 * page whose command did not land (the runs were merged or dropped meanwhile, or the holder died between
 * the PUT and the append) is referenced by nothing and goes with garbage collection, like an abandoned
 * compaction's object: its key carries its creation time under the compacted prefix (gc.ts keyTime).
 *
 * Pages are written per `pageRuns` runs, not per pass: at 1 MB/s kept one page every few minutes, and
 * none for a partition that holds little. Only while every live agent reads entry level 14.
 */
import { randomBytes } from "node:crypto";
import type { Logger } from "../../../common/logger.js";
import { mapLimit } from "../../../common/map-limit.js";
import { TimeSlicer } from "../../../common/time-slicer.js";
import { ENTRY_FORMAT, type ArchiveRunsCommand } from "../metadata/commands.js";
import type { MetadataLog } from "../metadata/log.js";
import { encodeRunPage } from "../metadata/run-page.js";
import type { ClusterState, Segment } from "../metadata/state.js";
import type { ObjectStore } from "../store/types.js";
import { COMPACTED_PREFIX } from "./compactor.js";

export interface RunArchiverOptions {
  /** Runs per page; default 64. A partition gets a page once it holds more than twice as many runs. */
  readonly pageRuns?: number;
  /** Pages written per pass at most; default 32. */
  readonly maxPagesPerPass?: number;
  /** Runs are archived once the newest of them is this old (ms): merges of small runs come first; default 5 minutes. */
  readonly minAgeMs?: number;
  /** Parallel page writes; default 8. */
  readonly writeConcurrency?: number;
}

export interface RunArchiverDeps {
  readonly compaction: ObjectStore;
  readonly log: MetadataLog;
  readonly logger: Logger;
  /** Whether this agent still holds the compaction lease: pages written after it was lost are deleted. */
  readonly isLeader?: () => boolean;
}

export interface ArchiveStats {
  /** Pages written, and those whose command the fold applied. */
  readonly written: number;
  readonly applied: number;
  /** Runs the applied pages took out of the state. */
  readonly runs: number;
  /** Bytes of the pages written. */
  readonly pageBytes: number;
}

/** A page due: the partition's oldest compacted runs after its pages. */
export interface PlannedPage {
  readonly topic: string;
  readonly topicId: string;
  readonly partition: number;
  readonly runs: readonly Segment[];
}

/** The pages due in `state` now, at most `maxPages` (pure but for the slicer's pauses). */
export async function planPages(
  state: ClusterState,
  o: { readonly pageRuns: number; readonly maxPages: number; readonly before: number },
  slicer: TimeSlicer = new TimeSlicer(),
): Promise<PlannedPage[]> {
  const out: PlannedPage[] = [];
  for (const [name, topic] of state.topics) {
    for (let partition = 0; partition < topic.partitions.length; partition++) {
      if (slicer.due()) await slicer.pause();
      // The topic may have been deleted or re-created while paused: what is planned names its id.
      const segments = topic.partitions[partition]!.segments;
      if (segments.length <= 2 * o.pageRuns) continue;
      let first = 0;
      while (first < segments.length && segments[first]!.location.store === "p") first++;
      if (segments.length - first <= 2 * o.pageRuns) continue;
      let compacted = 0;
      while (compacted <= 2 * o.pageRuns && segments[first + compacted]?.location.store === "c") compacted++;
      if (compacted <= 2 * o.pageRuns) continue;
      const runs = segments.slice(first, first + o.pageRuns);
      if (runs.some((s) => s.appendTime > o.before)) continue;
      out.push({ topic: name, topicId: topic.topicId, partition, runs });
      if (out.length >= o.maxPages) return out;
    }
  }
  return out;
}

/** The command that swaps `page`'s runs for page object `key` of `size` bytes. */
export function archiveCommand(page: PlannedPage, key: string, size: number): ArchiveRunsCommand {
  const objects = new Map<string, number>();
  let bytes = 0;
  let maxTimestamp = -1;
  let appendTime = 0;
  for (const r of page.runs) {
    objects.set(r.location.key, (objects.get(r.location.key) ?? 0) + 1);
    bytes += r.location.len;
    maxTimestamp = Math.max(maxTimestamp, r.maxTimestamp);
    appendTime = Math.max(appendTime, r.appendTime);
  }
  return {
    type: "archiveRuns",
    topic: page.topic,
    topicId: page.topicId,
    partition: page.partition,
    key,
    size,
    baseOffset: page.runs[0]!.baseOffset,
    lastOffset: page.runs[page.runs.length - 1]!.lastOffset,
    runs: page.runs.length,
    bytes,
    maxTimestamp,
    appendTime,
    objects: [...objects.keys()],
    objectRuns: [...objects.values()],
  };
}

/** A page's key: under the compacted prefix with its creation time (gc.ts), then whose runs it lists. */
export function pageKey(now: number, page: PlannedPage): string {
  const base = page.runs[0]!.baseOffset;
  return `${COMPACTED_PREFIX}${String(now).padStart(13, "0")}-index-${page.topicId}-${page.partition}-${base}-${randomBytes(4).toString("hex")}`;
}

export class RunArchiver {
  readonly pageRuns: number;

  constructor(
    private readonly deps: RunArchiverDeps,
    private readonly options: RunArchiverOptions = {},
  ) {
    this.pageRuns = options.pageRuns ?? 64;
    if (!Number.isInteger(this.pageRuns) || this.pageRuns < 1) throw new Error("pageRuns must be a positive integer");
  }

  /** One pass: writes the pages due and appends their commands. */
  async runOnce(now = Date.now()): Promise<ArchiveStats> {
    const { log, logger, compaction } = this.deps;
    const none: ArchiveStats = { written: 0, applied: 0, runs: 0, pageBytes: 0 };
    // An agent of an older level would stop at the command: write no page it could never follow.
    if (log.readersFormat() < ENTRY_FORMAT.runPages) return none;
    // No read of the log of its own: it runs right after the compaction pass, which caught up (a read of
    // the log's tail each pass would double the holder's reads on an idle cluster). A plan made on a
    // state a little behind costs at most a page the fold does not apply, which is garbage.
    const planned = await planPages(log.state, {
      pageRuns: this.pageRuns,
      maxPages: this.options.maxPagesPerPass ?? 32,
      before: now - (this.options.minAgeMs ?? 5 * 60_000),
    });
    if (planned.length === 0) return none;
    const commands: ArchiveRunsCommand[] = [];
    let pageBytes = 0;
    await mapLimit(planned, this.options.writeConcurrency ?? 8, async (page) => {
      const data = encodeRunPage(page);
      const key = pageKey(now, page);
      await compaction.put(key, data);
      pageBytes += data.length;
      commands.push(archiveCommand(page, key, data.length));
    });
    if (this.deps.isLeader && !this.deps.isLeader()) {
      // Another holder may be collecting garbage already: its grace is all that protects new pages.
      logger.info("index pages abandoned: lease lost", { pages: commands.length });
      await compaction.delete(commands.map((c) => c.key));
      return none;
    }
    await log.propose(commands);
    let applied = 0;
    let runs = 0;
    for (const c of commands) {
      const segments = log.state.partition(c.topic, c.partition)?.segments ?? [];
      let k = 0;
      while (k < segments.length && segments[k]!.location.store === "p" && segments[k]!.location.key !== c.key) k++;
      if (segments[k]?.location.key === c.key) {
        applied++;
        runs += c.runs;
      }
    }
    logger.info("archived compacted runs into index pages", { written: commands.length, applied, runs, pageBytes });
    return { written: commands.length, applied, runs, pageBytes };
  }
}
