// Loaded into a process with NODE_OPTIONS="--import ./bench/alloc-probe.mjs": samples every allocation of the
// process with V8's sampling heap profiler, keeping the samples of objects collected since (unlike
// --heap-prof, which keeps only what is live at exit), and writes them at exit to
// WARP_ALLOC_DIR/alloc-<pid>.heapprofile (Chrome DevTools' format). bench/profile-allocations.ts ranks
// the functions by the bytes they allocated.
// Only a process's main thread is sampled: NODE_OPTIONS' --import runs in its worker threads too (the lease
// holder copies compaction data in one), which would write over the main thread's file.
import { Session } from "node:inspector";
import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { isMainThread } from "node:worker_threads";

if (isMainThread) sample();

function sample() {
  const dir = process.env.WARP_ALLOC_DIR ?? "allocations";
  const interval = Number(process.env.WARP_ALLOC_INTERVAL ?? 64 * 1024);
  mkdirSync(dir, { recursive: true });
  const session = new Session();
  session.connect();
  session.post("HeapProfiler.startSampling", {
    samplingInterval: interval,
    includeObjectsCollectedByMajorGC: true,
    includeObjectsCollectedByMinorGC: true,
  });
  process.on("exit", () => {
    // A session on the process's own thread answers synchronously, so this runs to the end inside "exit".
    session.post("HeapProfiler.stopSampling", (err, result) => {
      if (err) return;
      writeFileSync(
        path.join(dir, `alloc-${process.pid}.heapprofile`),
        JSON.stringify({ argv: process.argv.slice(1), ...result.profile }),
      );
    });
  });
}
