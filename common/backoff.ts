/** Full-jitter exponential backoff, shared by every retry loop of the agent and the operator. */

export interface Backoff {
  /** Upper bound of the first wait. */
  readonly baseMs: number;
  /** Upper bound of every wait. */
  readonly capMs: number;
}

/**
 * The wait before retry number `retry` (0 for the first): uniform in [0, min(cap, base * 2^retry)).
 * Full jitter spreads clients that failed together, so they do not retry in lockstep.
 */
export function fullJitterMs(backoff: Backoff, retry: number, random: () => number = Math.random): number {
  return random() * Math.min(backoff.capMs, backoff.baseMs * 2 ** retry);
}
