/**
 * The coordinator's view of time: a clock and one-shot timers. Production uses real timers; tests pass a
 * manual implementation (agent/test/groups/manual-timers.ts) and advance time without sleeping.
 */

/** Cancels a scheduled timer; calling it after the timer fired, or twice, does nothing. */
export type CancelTimer = () => void;

export interface TimerSeam {
  /** Milliseconds since the epoch. */
  now(): number;
  /** Runs `fn` once after `delayMs` milliseconds. */
  schedule(delayMs: number, fn: () => void): CancelTimer;
}

/** Real timers. They are unref'd: a pending rebalance never keeps the process alive on its own. */
export const realTimers: TimerSeam = {
  now: () => Date.now(),
  schedule(delayMs, fn) {
    const handle = setTimeout(fn, Math.max(0, delayMs));
    handle.unref();
    return () => clearTimeout(handle);
  },
};
