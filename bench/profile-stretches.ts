/**
 * The longest busy stretches of CPU profiles (`node --cpu-prof`), and what ran in them: where an agent held
 * its event loop longest. Used on the agents of the `scale` scenario, run with
 * NODE_OPTIONS="--cpu-prof --cpu-prof-dir=DIR" (docs/benchmarks.md, "Metadata log at scale").
 *
 *   npx tsx bench/profile-stretches.ts FILE.cpuprofile... [--top N]
 */
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { busyStretches, type CpuProfile } from "./lib/profile.js";

const { values, positionals } = parseArgs({
  options: { top: { type: "string", default: "5" } },
  allowPositionals: true,
});
if (positionals.length === 0) {
  console.error("usage: npx tsx bench/profile-stretches.ts FILE.cpuprofile... [--top N]");
  process.exit(2);
}
for (const file of positionals) {
  console.log(`# ${file}`);
  const profile = JSON.parse(readFileSync(file, "utf8")) as CpuProfile;
  for (const s of busyStretches(profile, Number(values.top))) {
    console.log(`${s.ms} ms busy from ${s.atSeconds} s:`);
    for (const e of s.self) console.log(`  ${String(e.ms).padStart(5)} ms  ${e.name}${e.where ? `  ${e.where}` : ""}`);
  }
}
