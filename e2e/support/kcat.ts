/**
 * kcat (Debian package `kcat`, librdkafka 2.0.2): found on PATH, or installed with apt-get when
 * running as root; otherwise a clear error saying what to install.
 */
import { withCacheLock } from "./cache.js";
import { runCommand, which } from "./processes.js";
import type { RunResult } from "./processes.js";

export type { RunResult } from "./processes.js";

let aptUpdated = false;

/**
 * Installs Debian packages with apt-get (running `apt-get update` first, once per process), as
 * root only. Throws with apt-get's output if it fails.
 */
export async function aptInstall(packages: readonly string[]): Promise<void> {
  if (typeof process.getuid !== "function" || process.getuid() !== 0) {
    throw new Error(`not root: install ${packages.join(" ")} with \`apt-get install ${packages.join(" ")}\``);
  }
  await withCacheLock("apt-get", async () => {
    const env = { DEBIAN_FRONTEND: "noninteractive" };
    if (!aptUpdated) {
      const update = await runCommand("apt-get", ["update", "-qq"], { env, timeoutMs: 600_000 });
      if (update.code !== 0)
        throw new Error(`apt-get update failed (${update.code}):\n${update.stdout}\n${update.stderr}`);
      aptUpdated = true;
    }
    const install = await runCommand("apt-get", ["install", "-y", "-qq", "--no-install-recommends", ...packages], {
      env,
      timeoutMs: 900_000,
    });
    if (install.code !== 0)
      throw new Error(
        `apt-get install ${packages.join(" ")} failed (${install.code}):\n${install.stdout}\n${install.stderr}`,
      );
  });
}

let kcatPath: string | null = null;

/** The path of kcat, installing the Debian package if missing and running as root. */
export async function ensureKcat(): Promise<string> {
  if (kcatPath) return kcatPath;
  let found = which("kcat");
  if (!found) {
    const isRoot = typeof process.getuid === "function" && process.getuid() === 0;
    if (!isRoot || !which("apt-get")) throw new Error("kcat not found: install it with `apt-get install kcat`");
    await aptInstall(["kcat"]);
    found = which("kcat");
    if (!found) throw new Error("kcat not found after `apt-get install kcat`: install it with `apt-get install kcat`");
  }
  kcatPath = found;
  return found;
}

export interface KcatOptions {
  /** Written to kcat's stdin (producer mode), which is then closed. */
  readonly input?: Buffer | string;
  /** Killed after this long (default 60 s). */
  readonly timeoutMs?: number;
}

/** Runs kcat with `args` to completion. */
export async function runKcat(args: readonly string[], options: KcatOptions = {}): Promise<RunResult> {
  const kcat = await ensureKcat();
  return runCommand(kcat, args, { input: options.input, timeoutMs: options.timeoutMs ?? 60_000 });
}
