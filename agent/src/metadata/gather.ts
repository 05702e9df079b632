/**
 * Gathering a window's file commits into one entry (docs/metadata-log.md section 14.6, "Gathering"). With
 * aligned batch windows every agent seals its file at the same wall-clock instant, and the sequencer gets
 * their commits a few milliseconds apart (each after its own file write). A commit marked for gathering
 * names its window (the wall-clock time, ms since the epoch, at which it ended) and may wait in the log's
 * queue, at most the linger, for the other senders' commits of that window, so that they share one entry
 * instead of one each.
 *
 * Which senders to wait for: those with a gathered commit appended within the last `memoryMs` whose last
 * one was of an earlier window than those held. A sender that goes quiet costs at most one linger per
 * entry until it drops out of that memory; a new one is waited for from its second window on. Any
 * proposal not marked for gathering (an offset commit, a topic change, a commit from a file sealed early)
 * ends the wait at once for everything queued.
 */

/** How long a sender is expected again after its last gathered commit was appended (ms). */
export const GATHER_MEMORY_MS = 1000;

/** A gathered commit: its sender (an agent id) and the end of its window (ms since the epoch). */
export interface GatherMark {
  readonly from: string;
  readonly window: number;
}

export class CommitGathering {
  /** Sender → when (Date.now()) its last gathered commit was appended, and that commit's window. */
  private readonly lastSeen = new Map<string, { at: number; window: number }>();

  constructor(
    /** The longest a gathered commit waits for the others (ms). */
    readonly lingerMs: number,
    private readonly memoryMs = GATHER_MEMORY_MS,
  ) {}

  /** Whether the commits held now (`held`) leave no expected sender missing, as of `now`. */
  complete(held: readonly GatherMark[], now: number): boolean {
    let window = -Infinity;
    const senders = new Set<string>();
    for (const m of held) {
      senders.add(m.from);
      if (m.window > window) window = m.window;
    }
    for (const [sender, seen] of this.lastSeen) {
      if (now - seen.at > this.memoryMs) this.lastSeen.delete(sender);
      else if (seen.window < window && !senders.has(sender)) return false;
    }
    return true;
  }

  /** Gathered commits (`marks`) went into an entry being appended at `now`. */
  appended(marks: readonly GatherMark[], now: number): void {
    for (const m of marks) {
      const seen = this.lastSeen.get(m.from);
      this.lastSeen.set(m.from, { at: now, window: Math.max(m.window, seen?.window ?? -Infinity) });
    }
  }
}
