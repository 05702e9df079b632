/**
 * Long synchronous work cut into slices of a few milliseconds, so that one pass over a large state (a
 * snapshot of 100,000 partitions, a compaction plan) never holds the event loop for long: requests,
 * heartbeats and lease renewals run between the slices.
 *
 *     const slicer = new TimeSlicer(5);
 *     for (const item of items) {
 *       work(item);
 *       if (slicer.due()) await slicer.pause();
 *     }
 *     slicer.end();
 *
 * Work that yields must tolerate the state changing between slices (copy what it walks, or check again
 * before acting on what it found).
 */
import { performance } from "node:perf_hooks";
import { setImmediate as yieldToEventLoop } from "node:timers/promises";

/** The slice length used unless a caller says otherwise (ms). */
export const DEFAULT_SLICE_MS = 5;

/** How many `due()` calls share one clock read by default: items of a few microseconds each. */
const CALLS_PER_CLOCK_READ = 32;

export class TimeSlicer {
  private started = performance.now();
  private calls = 0;
  private pauses = 0;
  private longest = 0;

  constructor(
    private readonly sliceMs: number = DEFAULT_SLICE_MS,
    /** 1 for items that may take a millisecond or more each (a log entry of thousands of batches). */
    private readonly callsPerClockRead: number = CALLS_PER_CLOCK_READ,
  ) {}

  /** Whether the current slice has run its time (cheap: reads the clock every few calls). */
  due(): boolean {
    if (++this.calls % this.callsPerClockRead !== 0) return false;
    return performance.now() - this.started >= this.sliceMs;
  }

  /** Ends the slice, lets the event loop run what waits (I/O, timers), and starts the next. */
  async pause(): Promise<void> {
    this.end();
    this.pauses++;
    await yieldToEventLoop();
    this.started = performance.now();
  }

  /** Ends the current slice (its length counts towards `longestMs`); call it when the work is done. */
  end(): void {
    this.longest = Math.max(this.longest, performance.now() - this.started);
  }

  /** Starts a slice now: work resumed after awaiting something else (I/O) did not hold the loop meanwhile. */
  begin(): void {
    this.started = performance.now();
    this.calls = 0;
  }

  /** The longest slice so far (ms): how long the work held the event loop at once. */
  get longestMs(): number {
    return this.longest;
  }

  /** How many times the work gave the event loop back. */
  get pauseCount(): number {
    return this.pauses;
  }
}

/**
 * Work written as a generator that yields between its steps (a partition decoded, a topic restored) runs
 * either at once (`runSteps`) or in slices (`runStepsSliced`), the same code either way.
 */
export type Steps<T> = Generator<void, T, void>;

/** Runs every step at once and returns the result. */
export function runSteps<T>(steps: Steps<T>): T {
  for (;;) {
    const step = steps.next();
    if (step.done) return step.value;
  }
}

/** Runs the steps, giving the event loop back whenever the slice has run its time. */
export async function runStepsSliced<T>(steps: Steps<T>, slicer: TimeSlicer = new TimeSlicer()): Promise<T> {
  slicer.begin();
  for (;;) {
    const step = steps.next();
    if (step.done) {
      slicer.end();
      return step.value;
    }
    if (slicer.due()) await slicer.pause();
  }
}
