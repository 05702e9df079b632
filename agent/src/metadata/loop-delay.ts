/**
 * The event-loop delay over spans of time an agent chooses (the metadata snapshots it writes), each span on
 * its own and all of them together since the agent started.
 *
 * It samples as perf_hooks.monitorEventLoopDelay does (the time between ticks of a timer of `resolutionMs`,
 * recorded in an HDR histogram, so a free loop reads about the resolution), but in histograms it owns:
 * a monitorEventLoopDelay histogram cannot be added to another, and one enabled again after a pause records
 * the whole pause as its first sample. The histogram of all spans is the figure "p99 during snapshots"
 * (every sample taken while one was written); a span's own p99, over a second of 10 ms samples, is about
 * its longest delay.
 */
import { createHistogram, type RecordableHistogram } from "node:perf_hooks";

/** One span's measurement; `stop` ends it and returns its samples (nanoseconds). */
export interface LoopDelaySpan {
  stop(): RecordableHistogram;
}

/** p99 and max of a histogram of nanoseconds, in seconds; 0 before its first sample (it reads NaN then). */
export function delaySeconds(h: RecordableHistogram): { readonly p99: number; readonly max: number } {
  return h.count > 0 ? { p99: h.percentile(99) / 1e9, max: h.max / 1e9 } : { p99: 0, max: 0 };
}

export class LoopDelayMeter {
  private readonly spans = createHistogram();

  constructor(private readonly resolutionMs: number) {}

  /** Every sample of every span measured so far (one at a time or overlapping alike). */
  get allSpans(): RecordableHistogram {
    return this.spans;
  }

  start(): LoopDelaySpan {
    const span = createHistogram();
    let last = process.hrtime.bigint();
    const timer = setInterval(() => {
      const now = process.hrtime.bigint();
      const delay = now - last;
      last = now;
      span.record(delay);
      this.spans.record(delay);
    }, this.resolutionMs);
    timer.unref();
    return {
      stop: () => {
        clearInterval(timer);
        return span;
      },
    };
  }
}
