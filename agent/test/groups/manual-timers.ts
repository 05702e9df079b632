/**
 * A TimerSeam whose time moves only when a test calls advance(): timers run in due order, each at its
 * own due time, including timers scheduled by timers that run during the same advance.
 */
import type { CancelTimer, TimerSeam } from "../../src/groups/timer.js";

interface Pending {
  readonly due: number;
  readonly seq: number;
  readonly fn: () => void;
  cancelled: boolean;
}

export class ManualTimers implements TimerSeam {
  private current: number;
  private seq = 0;
  private pending: Pending[] = [];

  constructor(start = 1_700_000_000_000) {
    this.current = start;
  }

  now(): number {
    return this.current;
  }

  schedule(delayMs: number, fn: () => void): CancelTimer {
    const timer: Pending = { due: this.current + Math.max(0, delayMs), seq: this.seq++, fn, cancelled: false };
    this.pending.push(timer);
    return () => {
      timer.cancelled = true;
    };
  }

  /** Timers still scheduled (not fired, not cancelled). */
  get scheduled(): number {
    return this.pending.filter((t) => !t.cancelled).length;
  }

  /** Moves time forward by `ms`, running every timer that falls due on the way. */
  advance(ms: number): void {
    const target = this.current + ms;
    for (;;) {
      this.pending = this.pending.filter((t) => !t.cancelled);
      const next = this.pending.filter((t) => t.due <= target).sort((a, b) => a.due - b.due || a.seq - b.seq)[0];
      if (!next) break;
      this.pending.splice(this.pending.indexOf(next), 1);
      this.current = next.due;
      next.fn();
    }
    this.current = target;
  }
}
