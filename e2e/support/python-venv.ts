/**
 * Python virtual environments in the cache for test components from PyPI: one per component and
 * version (`<cache>/<name>/venv`), made with the machine's python3 and pip, built once under a cache
 * lock and marked complete only after it was checked.
 */
import { existsSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { cacheDir, withCacheLock } from "./cache.js";
import { runCommand, which } from "./processes.js";

export interface PythonVenvSpec {
  /** The cache entry and lock name, component and version (e.g. `moto-5.2.5`). */
  readonly name: string;
  /** What needs the venv, for error messages (e.g. "moto's S3 server"). */
  readonly purpose: string;
  /** Arguments to `pip install`: pinned requirements and options. */
  readonly pipInstall: readonly string[];
  /** Checks the installed venv (given its directory) before it is marked complete; throws if unusable. */
  readonly check?: (venv: string) => Promise<void> | void;
}

/** The venv directory of a cache entry (not created). */
export function pythonVenvDir(name: string): string {
  return cacheDir(name, "venv");
}

/** Creates the venv in the cache unless a complete one is there, and returns its directory. */
export async function ensurePythonVenv(spec: PythonVenvSpec): Promise<string> {
  const venv = pythonVenvDir(spec.name);
  const marker = path.join(venv, ".complete");
  if (existsSync(marker)) return venv;
  const python = which("python3");
  if (!python)
    throw new Error(`python3 not found: ${spec.purpose} needs it (\`apt-get install python3 python3-venv\`)`);
  await withCacheLock(spec.name, async () => {
    if (existsSync(marker)) return;
    rmSync(venv, { recursive: true, force: true });
    const made = await runCommand(python, ["-m", "venv", venv], { timeoutMs: 300_000 });
    if (made.code !== 0) {
      throw new Error(
        `python3 -m venv failed (${made.code}); install venv support with \`apt-get install python3-venv\`:\n${made.stdout}\n${made.stderr}`,
      );
    }
    const pip = path.join(venv, "bin", "pip");
    const installed = await runCommand(pip, ["install", "--disable-pip-version-check", "-q", ...spec.pipInstall], {
      timeoutMs: 900_000,
    });
    if (installed.code !== 0)
      throw new Error(
        `pip install ${spec.pipInstall.join(" ")} failed (${installed.code}):\n${installed.stdout}\n${installed.stderr}`,
      );
    await spec.check?.(venv);
    writeFileSync(marker, `${new Date().toISOString()}\n`);
  });
  return venv;
}
