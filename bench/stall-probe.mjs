// Loaded into a process with NODE_OPTIONS="--import ./bench/stall-probe.mjs": writes each event-loop stall
// (more than WARP_STALL_MS, default 40, between ticks of a 2 ms timer) to WARP_STALL_DIR/stalls-<pid>.log as
// "<from µs> <to µs> <ms> <CPU ms> <end, ms since the epoch>" on the monotonic clock that V8's CPU profiles
// use (the last field on the wall clock, to match log lines), after a first line
// naming the process's arguments; CPU ms is the time the process ran meanwhile (all its threads, so V8's
// helper threads count too): well under the stall's length, the process was mostly waiting for a core.
// bench/profile-stalls.ts matches them with a profile (--cpu-prof) of the same process.
// Only a process's main thread is probed: NODE_OPTIONS' --import runs in its worker threads too (the lease
// holder copies compaction data in one), whose stalls would land in the same file.
import { appendFileSync, mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { isMainThread } from "node:worker_threads";

if (isMainThread) probe();

function probe() {
  const dir = process.env.WARP_STALL_DIR ?? "stalls";
  const threshold = Number(process.env.WARP_STALL_MS ?? 40);
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `stalls-${process.pid}.log`);
  writeFileSync(file, `${process.argv.slice(1).join(" ")}\n`);
  let last = process.hrtime.bigint();
  let lastCpu = process.cpuUsage();
  setInterval(() => {
    const now = process.hrtime.bigint();
    const cpu = process.cpuUsage();
    const ms = Number(now - last) / 1e6;
    if (ms > threshold) {
      const cpuMs = (cpu.user - lastCpu.user + cpu.system - lastCpu.system) / 1000;
      appendFileSync(file, `${last / 1000n} ${now / 1000n} ${ms.toFixed(1)} ${cpuMs.toFixed(1)} ${Date.now()}\n`);
    }
    last = now;
    lastCpu = cpu;
  }, 2).unref();
}
