/**
 * Whether this agent's ingestion writes get through, as its batcher sees them. A store can fail an
 * agent's data writes while still taking its heartbeats (a partial outage: one operation throttled or
 * failing, a broken route to one table). The agent registry asks `problem()` before each heartbeat
 * and skips it while there is one, so that the other agents drop this one from the cluster after a
 * session and it steps out of the cluster it advertises (cluster/registry.ts): clients move to agents
 * that can store their data instead of retrying here until the outage ends.
 *
 * A problem is a file write or commit pending for longer than `stuckAfterMs`, or one that failed
 * within the last `rememberFailureMs` with no success since. A commit lost with the sequencer (another
 * agent) is neither: the commits after it go to the store from here and tell. Once isolated no traffic
 * arrives, so the memory of a failure lapses and the agent rejoins; if the outage goes on, its next
 * files get stuck or fail and it steps out again.
 */
export interface IngestionHealthOptions {
  /** A write or commit pending this long is a problem (default 5 s; writes normally take milliseconds). */
  readonly stuckAfterMs?: number;
  /** A failure stays a problem this long unless a write succeeds meanwhile (default 10 s). */
  readonly rememberFailureMs?: number;
  /** Clock (test seam). */
  readonly now?: () => number;
}

export class IngestionHealth {
  private readonly stuckAfterMs: number;
  private readonly rememberFailureMs: number;
  private readonly now: () => number;
  private readonly pending = new Map<number, number>();
  private nextId = 0;
  /** When the last outcome was a failure (files end in seal order); null after a success. */
  private lastFailureAt: number | null = null;
  private lastFailure = "";

  constructor(options: IngestionHealthOptions = {}) {
    this.stuckAfterMs = options.stuckAfterMs ?? 5_000;
    this.rememberFailureMs = options.rememberFailureMs ?? 10_000;
    this.now = options.now ?? Date.now;
  }

  /** A file write starts; returns its ticket for succeeded/failed. */
  started(): number {
    const id = this.nextId++;
    this.pending.set(id, this.now());
    return id;
  }

  /** The file was written and committed. */
  succeeded(ticket: number): void {
    this.pending.delete(ticket);
    this.lastFailureAt = null;
  }

  /** The file could not be written or committed. */
  failed(ticket: number, reason: string): void {
    this.pending.delete(ticket);
    this.lastFailureAt = this.now();
    this.lastFailure = reason;
  }

  /**
   * The file failed for a reason that says nothing about this agent's storage (its commit was lost with
   * the sequencer: RelayedOutcomeUnknownError): no longer pending, and neither a failure nor a success.
   */
  ended(ticket: number): void {
    this.pending.delete(ticket);
  }

  /** Why ingestion is failing now, or null while it is healthy. */
  problem(): string | null {
    const now = this.now();
    let oldest: number | null = null;
    for (const started of this.pending.values()) if (oldest === null || started < oldest) oldest = started;
    if (oldest !== null && now - oldest > this.stuckAfterMs)
      return `an ingestion file has been pending for ${now - oldest} ms`;
    if (this.lastFailureAt !== null && now - this.lastFailureAt < this.rememberFailureMs)
      return `an ingestion file failed ${now - this.lastFailureAt} ms ago: ${this.lastFailure}`;
    return null;
  }
}
