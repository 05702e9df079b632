/**
 * What held the event loop in each stall of a process: the stalls a process recorded with
 * bench/stall-probe.mjs, matched by time with that process's CPU profile (node --cpu-prof). Run the
 * `scale` scenario with both, then this on the lease holder's pair (its profile and log share the pid):
 *
 *   NODE_OPTIONS="--import ./bench/stall-probe.mjs --cpu-prof --cpu-prof-dir=DIR --cpu-prof-interval 1000" \
 *     WARP_STALL_DIR=DIR WARP_BENCH_SCALE_ONLY=cluster npx tsx bench/scale.ts
 *   npx tsx bench/profile-stalls.ts DIR/CPU.*.<pid>.0.001.cpuprofile DIR/stalls-<pid>.log [--min 100] [--top 10]
 *
 * With `--during DIR/agent-<pid>.log` (the scenario writes the agents' logs with WARP_BENCH_AGENT_LOGS=DIR),
 * only the stalls inside the spans in which that agent wrote a metadata snapshot.
 */
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { parseStalls, snapshotSpans, stallsDuring, stallsIn, type CpuProfile } from "./lib/profile.js";

const { values, positionals } = parseArgs({
  options: {
    min: { type: "string", default: "100" },
    top: { type: "string", default: "10" },
    during: { type: "string" },
  },
  allowPositionals: true,
});
const [profileFile, stallFile] = positionals;
if (!profileFile || !stallFile) {
  console.error("usage: npx tsx bench/profile-stalls.ts FILE.cpuprofile stalls-PID.log [--min MS] [--top N]");
  process.exit(2);
}
const profile = JSON.parse(readFileSync(profileFile, "utf8")) as CpuProfile;
const { process: proc, stalls } = parseStalls(readFileSync(stallFile, "utf8"));
const spans = values.during === undefined ? null : snapshotSpans(readFileSync(values.during, "utf8"));
const candidates = spans ? stallsDuring(stalls, spans) : stalls;
const long = candidates.filter((s) => s.ms >= Number(values.min));
console.log(`# ${proc}`);
if (spans) console.log(`while writing ${spans.length} snapshots (${values.during})`);
console.log(`${long.length} stalls of ${values.min} ms or more (${candidates.length} over the probe's threshold)`);
const sum = (f: (s: (typeof long)[number]) => number) => Math.round(long.reduce((n, s) => n + f(s), 0));
if (long.every((s) => s.cpuMs !== undefined))
  console.log(`together ${sum((s) => s.ms)} ms, in which the process ran ${sum((s) => s.cpuMs!)} ms of CPU`);
for (const s of stallsIn(profile, long)
  .sort((a, b) => b.ms - a.ms)
  .slice(0, Number(values.top))) {
  console.log(
    `\n${s.ms} ms at ${s.atSeconds} s${s.cpuMs === undefined ? "" : `, the process ran ${s.cpuMs} ms of CPU`}`,
  );
  console.log("  self:");
  for (const e of s.self) console.log(`  ${String(e.ms).padStart(6)} ms  ${e.name}${e.where ? `  ${e.where}` : ""}`);
  console.log("  on the stack:");
  for (const e of s.inclusive)
    console.log(`  ${String(e.ms).padStart(6)} ms  ${e.name}${e.where ? `  ${e.where}` : ""}`);
}
