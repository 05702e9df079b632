/**
 * The cache for slow-to-fetch test components (kcat is system-wide; Kafka's jars, moto's venv and the
 * Kubernetes binaries live here), keyed by component and version, outside the repository:
 * `$WARP_CACHE_DIR` or `~/.cache/warp`. Everything in it is built idempotently from nothing.
 */
import { mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { hostname, homedir } from "node:os";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";

/** The cache root, or a path inside it (not created). */
export function cacheDir(...parts: string[]): string {
  return path.join(process.env.WARP_CACHE_DIR ?? path.join(homedir(), ".cache", "warp"), ...parts);
}

export interface LockOptions {
  /** Give up after this long waiting for another holder (default 30 minutes: installs are slow). */
  readonly timeoutMs?: number;
  /** A lock whose holder is gone (dead pid on this host) or older than this is broken (default 1 hour). */
  readonly staleMs?: number;
}

function holderIsAlive(lockDir: string): boolean {
  try {
    const [host, pidText] = readFileSync(path.join(lockDir, "owner"), "utf8").trim().split(" ");
    if (host !== hostname()) return true;
    const pid = Number(pidText);
    if (!Number.isInteger(pid) || pid <= 0) return false;
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // ESRCH: no such process. EPERM: it exists but belongs to someone else. No owner file yet: the
    // holder is between mkdir and writing it, so count it as alive (the age check still applies).
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "EPERM" || code === "ENOENT") return true;
    return false;
  }
}

/**
 * Runs `fn` holding a cross-process lock named `name` (a directory `<cache>/locks/<name>.lock`,
 * created atomically with mkdir). Locks left behind by dead processes are broken.
 */
export async function withCacheLock<T>(name: string, fn: () => Promise<T>, options: LockOptions = {}): Promise<T> {
  const timeoutMs = options.timeoutMs ?? 30 * 60_000;
  const staleMs = options.staleMs ?? 60 * 60_000;
  const locks = cacheDir("locks");
  mkdirSync(locks, { recursive: true });
  const lockDir = path.join(locks, `${name.replace(/[^A-Za-z0-9._-]/g, "_")}.lock`);
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      mkdirSync(lockDir);
      writeFileSync(path.join(lockDir, "owner"), `${hostname()} ${process.pid}\n`);
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
      let age: number;
      try {
        age = Date.now() - statSync(lockDir).mtimeMs;
      } catch {
        continue; // released meanwhile
      }
      if (!holderIsAlive(lockDir) || age > staleMs) {
        rmSync(lockDir, { recursive: true, force: true });
        continue;
      }
      if (Date.now() > deadline)
        throw new Error(`timed out after ${timeoutMs} ms waiting for the cache lock ${lockDir}`, { cause: err });
      await sleep(250);
    }
  }
  try {
    return await fn();
  } finally {
    rmSync(lockDir, { recursive: true, force: true });
  }
}
