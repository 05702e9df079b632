/**
 * A lease on a MetadataStore item: one holder at a time among the agents that compete for it.
 *
 * Acquire: put with condition "absent" and expiresAt = now + ttlMs. Renew: put with the version the
 * holder wrote last. A holder whose renewal fails (or that could not renew in time) stops considering
 * itself the holder at once; the item expires ttlMs after its last renewal and another agent takes it.
 * isHeld() is true only while the last successful write (timed from before the call) is younger than
 * ttlMs - renewMs, so a holder stops before its lease can expire under the others' clocks (clocks are
 * assumed synchronised to well under renewMs).
 */
import type { Logger } from "../../../common/logger.js";
import { errorMessage } from "../../../common/logger.js";
import { isLive, type MetadataStore } from "../store/types.js";

/**
 * How often a lease is renewed by its holder and asked for by the others (ms), by default: the compaction
 * lease's. Each renewal is a billed write and each ask a billed read, whatever the traffic; the jobs it
 * guards (compaction, retention, garbage collection, snapshots) lose nothing by a holder's death going
 * unnoticed for a lifetime (3 × this, 6 s), so every 2 s rather than every second (about $1.10 a month
 * for three agents on-demand, docs/cost.md).
 */
export const DEFAULT_LEASE_RENEW_MS = 2000;

export interface LeaseOptions {
  readonly store: MetadataStore;
  /** Item key, e.g. "lease/compaction". */
  readonly key: string;
  /** Identifies this holder (unique per process). */
  readonly owner: string;
  /** Extra facts written into the item (node id, host) for people reading the table. */
  readonly info?: Readonly<Record<string, string | number | null>>;
  /** Renew (and, when not held, try to acquire) this often; default 1000 ms. */
  readonly renewMs?: number;
  /** Lease lifetime after each renewal; default 3 × renewMs. */
  readonly ttlMs?: number;
  readonly logger: Logger;
  readonly onChange?: (held: boolean) => void;
  /**
   * While true, this agent leaves a free lease to the others (it holds another role they should not
   * share): it does not take it until it has seen it free for `deferAtMostMs`, so that the lease is never
   * left unheld for long when nobody else takes it. A lease it holds is renewed as usual.
   */
  readonly defer?: () => boolean;
  /** How long a deferring agent leaves a free lease to the others (ms; default 2 × ttlMs). */
  readonly deferAtMostMs?: number;
}

/** A lease item's value as an agent last read or wrote it. */
export interface LeaseHolder {
  readonly owner: string;
  /** The holder's info (LeaseOptions.info). */
  readonly info: Readonly<Record<string, unknown>>;
}

/** The holder a lease item names; null when the item is not a lease's. */
function holderOf(data: Buffer): LeaseHolder | null {
  let parsed: unknown;
  try {
    parsed = JSON.parse(data.toString("utf8"));
  } catch {
    return null;
  }
  if (typeof parsed !== "object" || parsed === null) return null;
  const { owner, ...info } = parsed as Record<string, unknown>;
  return typeof owner === "string" ? { owner, info } : null;
}

export class Lease {
  readonly renewMs: number;
  readonly ttlMs: number;
  private version: number | null = null;
  private heldSince = 0;
  private validUntil = 0;
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private stopped = false;
  /** The holder as last read or written here, and when (ms); null when the item was absent or expired. */
  private seen: { readonly holder: LeaseHolder; readonly at: number } | null = null;
  /** When this agent, deferring, first saw the lease free (ms), or null. */
  private freeSince: number | null = null;
  /** A release is under way: no attempt may take the lease back meanwhile (it would find its own item). */
  private releasing = false;
  /** Test seam: when true, the holder neither renews nor acquires (a hung agent). */
  paused = false;

  constructor(private readonly options: LeaseOptions) {
    this.renewMs = options.renewMs ?? DEFAULT_LEASE_RENEW_MS;
    this.ttlMs = options.ttlMs ?? this.renewMs * 3;
    if (this.ttlMs <= this.renewMs)
      throw new RangeError(`lease ttlMs (${this.ttlMs}) must be larger than renewMs (${this.renewMs})`);
  }

  /** Tries once now, then every renewMs. */
  start(): void {
    if (this.timer || this.stopped) return;
    this.tick();
    this.timer = setInterval(() => this.tick(), this.renewMs);
    this.timer.unref();
  }

  isHeld(): boolean {
    return this.version !== null && Date.now() < this.validUntil - this.renewMs;
  }

  /**
   * Who holds the lease, as this agent last read it (every renewMs while it is not the holder) or wrote
   * it: null when nobody did then, or when that was longer than a lease lifetime ago.
   */
  holder(): LeaseHolder | null {
    const seen = this.seen;
    if (!seen || Date.now() - seen.at >= this.ttlMs) return null;
    return seen.holder;
  }

  /** When this agent became the holder (ms), or 0. */
  get since(): number {
    return this.version !== null ? this.heldSince : 0;
  }

  private tick(): void {
    if (this.running || this.stopped || this.paused || this.releasing) return;
    this.running = this.attempt()
      .then(() => undefined)
      .catch((err: unknown) => {
        this.options.logger.warn("lease renewal failed", { key: this.options.key, error: errorMessage(err) });
        if (this.version !== null && Date.now() >= this.validUntil - this.renewMs) this.lose();
      })
      .finally(() => {
        this.running = null;
      });
  }

  /** One acquire-or-renew attempt (the timer calls it; tests may too). Returns whether it is held. */
  async attempt(): Promise<boolean> {
    const { store, key } = this.options;
    const value = Buffer.from(JSON.stringify({ owner: this.options.owner, ...this.options.info }), "utf8");
    const started = Date.now();
    const mine: LeaseHolder = { owner: this.options.owner, info: this.options.info ?? {} };
    const expiresAt = new Date(started + this.ttlMs);
    if (this.version !== null) {
      const v = await store.putItem(key, value, { kind: "version", version: this.version }, expiresAt);
      if (v !== null) {
        this.version = v;
        this.validUntil = started + this.ttlMs;
        this.seen = { holder: mine, at: started };
        return true;
      }
      this.lose();
    }
    // Not the holder: read before writing. Every agent but the holder asks every renewMs, and on DynamoDB
    // a conditional put that fails is billed as a write, five times the price of this read.
    const current = await store.getItem(key);
    const holder = isLive(current) ? holderOf(current.value) : null;
    this.seen = holder ? { holder, at: started } : null;
    if (isLive(current) || !this.options.defer?.()) this.freeSince = null;
    else {
      this.freeSince ??= started;
      if (started - this.freeSince < (this.options.deferAtMostMs ?? 2 * this.ttlMs)) return false;
    }
    let v: number | null = null;
    if (!isLive(current)) v = await store.putItem(key, value, { kind: "absent" }, expiresAt);
    // Held: by a write of ours whose answer was lost, or by another agent.
    else if (holder?.owner === this.options.owner)
      v = await store.putItem(key, value, { kind: "version", version: current.version }, expiresAt);
    if (v === null) return false;
    this.freeSince = null;
    this.version = v;
    this.seen = { holder: mine, at: started };
    this.heldSince = started;
    this.validUntil = started + this.ttlMs;
    this.options.logger.info("lease acquired", { key, owner: this.options.owner });
    this.options.onChange?.(true);
    return true;
  }

  private lose(): void {
    if (this.version === null) return;
    this.version = null;
    this.seen = null;
    this.options.logger.warn("lease lost", { key: this.options.key, owner: this.options.owner });
    this.options.onChange?.(false);
  }

  /**
   * Gives the lease up and goes on competing: the item is deleted, so another agent takes it at its next
   * attempt (with `defer`, this one leaves it to them). Call it where the guarded work is at rest.
   */
  async release(): Promise<void> {
    this.releasing = true;
    try {
      await this.running;
      const version = this.version;
      if (version === null) return;
      this.version = null;
      this.seen = null;
      this.options.logger.info("lease released", { key: this.options.key, owner: this.options.owner });
      this.options.onChange?.(false);
      await this.options.store.deleteItem(this.options.key, version);
    } catch (err) {
      this.options.logger.warn("lease release failed; it will expire", {
        key: this.options.key,
        error: errorMessage(err),
      });
    } finally {
      this.releasing = false;
    }
  }

  /** Stops competing; a holder deletes the item so another agent takes over without waiting. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.release();
    this.seen = null;
  }
}
