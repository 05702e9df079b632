/**
 * `npm run soak`: the fault tests (clock skew included) with raised trial counts and sizes, then the
 * protocol fuzz with a million cases. Each step runs mocha in a child process with its environment; the summary lists each
 * step's outcome and wall time. Exits non-zero if any step failed.
 *
 *   WARP_SIGKILL_TRIALS  SIGKILL trials (soak default 20; CI runs 3)
 *   WARP_FAULT_RECORDS   records per store-fault scenario (soak default 3000; CI 400)
 *   WARP_FAULT_SEED      seed of the fault proxies and the victim choice (default: random, printed)
 *   WARP_FUZZ_CASES      protocol fuzz cases (soak default 1000000)
 *   SOAK_STEPS           comma-separated subset of: faults,fuzz (default all)
 *
 * The clock-skew test runs agents under libfaketime (`apt-get install libfaketime`); it fails saying so
 * when the library is missing.
 */
import { spawn } from "node:child_process";
import path from "node:path";

const root = path.resolve(import.meta.dirname, "..");
const seed = process.env.WARP_FAULT_SEED ?? String(Math.floor(Math.random() * 2 ** 31));
const steps = new Set((process.env.SOAK_STEPS ?? "faults,fuzz").split(",").map((s) => s.trim()));

interface Step {
  readonly name: string;
  readonly args: readonly string[];
  readonly env: Record<string, string>;
}

const all: Step[] = [
  {
    name: "faults",
    args: ["e2e/faults/**/*.test.ts"],
    env: {
      WARP_SIGKILL_TRIALS: process.env.WARP_SIGKILL_TRIALS ?? "20",
      WARP_FAULT_RECORDS: process.env.WARP_FAULT_RECORDS ?? "3000",
      WARP_FAULT_SEED: seed,
    },
  },
  {
    name: "fuzz",
    args: ["agent/test/protocol/fuzz.test.ts", "--timeout", "0"],
    env: { WARP_FUZZ_CASES: process.env.WARP_FUZZ_CASES ?? "1000000" },
  },
];

function run(step: Step): Promise<number> {
  return new Promise((resolve) => {
    const mocha = path.join(root, "node_modules", "mocha", "bin", "mocha.js");
    const child = spawn(process.execPath, [mocha, ...step.args], {
      cwd: root,
      env: { ...process.env, ...step.env },
      stdio: "inherit",
    });
    child.on("exit", (code, signal) => resolve(code ?? (signal ? 128 : 1)));
    child.on("error", () => resolve(1));
  });
}

const results: string[] = [];
let failed = false;
console.log(`[soak] seed ${seed}`);
for (const step of all.filter((s) => steps.has(s.name))) {
  const env = Object.entries(step.env)
    .map(([k, v]) => `${k}=${v}`)
    .join(" ");
  console.log(`[soak] === ${step.name}: ${env} mocha ${step.args.join(" ")}`);
  const started = Date.now();
  const code = await run(step);
  const line = `${step.name}: ${code === 0 ? "passed" : `FAILED (exit ${code})`} in ${Math.round((Date.now() - started) / 1000)} s (${env})`;
  console.log(`[soak] ${line}`);
  results.push(line);
  if (code !== 0) failed = true;
}
console.log(`[soak] summary (seed ${seed}):\n  ${results.join("\n  ")}`);
process.exitCode = failed ? 1 : 0;
