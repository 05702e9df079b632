/**
 * The machine's floor for event-loop figures: a Node process that does nothing but measure its own
 * event-loop delay, one-second windows, as the agents' `nodejs_eventloop_lag_p99_seconds` does
 * (prom-client: monitorEventLoopDelay at 10 ms resolution, reset at each scrape). Run beside a benchmark's
 * agents, its worst seconds are what waiting for a core costs any process there: an agent's seconds are
 * its own work only by what they exceed these.
 */
import { spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { percentile, round1 } from "./stats.js";

/** Its one-second windows: p99 and max of the event-loop delay (ms). */
export interface LoopFloor {
  readonly seconds: number;
  readonly p99WorstMs: number;
  readonly p99MedianMs: number;
  readonly maxMs: number;
  /** Windows whose p99 is over the threshold given to stop(). */
  readonly secondsOver: number;
}

const SCRIPT = `
const { monitorEventLoopDelay } = require("node:perf_hooks");
const h = monitorEventLoopDelay({ resolution: 10 });
h.enable();
setInterval(() => {
  process.stdout.write(JSON.stringify({ p99: h.percentile(99) / 1e6, max: h.max / 1e6 }) + "\\n");
  h.reset();
}, 1000);
`;

export function startLoopFloor(): { stop(overMs: number): Promise<LoopFloor> } {
  const child = spawn(process.execPath, ["-e", SCRIPT], { stdio: ["ignore", "pipe", "inherit"] });
  const windows: Array<{ p99: number; max: number }> = [];
  createInterface({ input: child.stdout }).on("line", (line) => {
    windows.push(JSON.parse(line) as { p99: number; max: number });
  });
  return {
    async stop(overMs) {
      const exited = new Promise((resolve) => child.once("exit", resolve));
      child.kill("SIGTERM");
      await exited;
      const p99s = windows.map((w) => w.p99);
      return {
        seconds: windows.length,
        p99WorstMs: round1(Math.max(0, ...p99s)),
        p99MedianMs: round1(percentile(p99s, 50)),
        maxMs: round1(Math.max(0, ...windows.map((w) => w.max))),
        secondsOver: p99s.filter((p) => p > overMs).length,
      };
    },
  };
}
