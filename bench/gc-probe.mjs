// Loaded into a process with NODE_OPTIONS="--import ./bench/gc-probe.mjs" (beside bench/stall-probe.mjs):
// writes each of V8's collections of WARP_GC_MS or more (default 5) on the process's main thread to
// WARP_STALL_DIR/gc-<pid>.log as "<end, ms since the epoch> <ms> <kind> flags=<GC callback flags> heapMiB=<used
// after>", after a first line naming the process's arguments. Kinds: major, minor, incremental, weakcb. The
// flags are V8's GCCallbackFlags: 32 (CollectAllExternalMemory) marks a collection started because enough
// external memory (Buffers, ArrayBuffers) was allocated, often with 8 (synchronous phantom callbacks): 40;
// 64 (ScheduleIdleGarbageCollection) one started for the heap's own growth. The wall-clock end matches the
// agents' log lines (WARP_BENCH_AGENT_LOGS) and the stall probe's last field.
import { appendFileSync, mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { constants, performance, PerformanceObserver } from "node:perf_hooks";
import { isMainThread } from "node:worker_threads";

if (isMainThread) probe();

function probe() {
  const dir = process.env.WARP_STALL_DIR ?? "stalls";
  const threshold = Number(process.env.WARP_GC_MS ?? 5);
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `gc-${process.pid}.log`);
  writeFileSync(file, `${process.argv.slice(1).join(" ")}\n`);
  const kinds = {
    [constants.NODE_PERFORMANCE_GC_MAJOR]: "major",
    [constants.NODE_PERFORMANCE_GC_MINOR]: "minor",
    [constants.NODE_PERFORMANCE_GC_INCREMENTAL]: "incremental",
    [constants.NODE_PERFORMANCE_GC_WEAKCB]: "weakcb",
  };
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      if (e.duration < threshold) continue;
      const end = Math.round(performance.timeOrigin + e.startTime + e.duration);
      const heapMiB = (process.memoryUsage().heapUsed / 2 ** 20).toFixed(0);
      appendFileSync(
        file,
        `${end} ${e.duration.toFixed(1)} ${kinds[e.detail.kind] ?? e.detail.kind} flags=${e.detail.flags} heapMiB=${heapMiB}\n`,
      );
    }
  }).observe({ entryTypes: ["gc"] });
}
