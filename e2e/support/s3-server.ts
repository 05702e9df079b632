/**
 * An S3 API server on loopback: moto's server (PyPI `moto[server]`, pinned) in a Python venv in the
 * cache, started as `moto_server -H 127.0.0.1 -p PORT`.
 */
import { existsSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { cacheDir, withCacheLock } from "./cache.js";
import { freePort } from "./ports.js";
import { runCommand, spawnServer, which } from "./processes.js";

export const MOTO_VERSION = "5.2.5";

function venvDir(): string {
  return cacheDir(`moto-${MOTO_VERSION}`, "venv");
}

let cachedServerBin: string | null = null;

/** Creates the venv with moto[server] in the cache (once) and returns the path of moto_server. */
export async function ensureMoto(): Promise<string> {
  if (cachedServerBin) return cachedServerBin;
  const venv = venvDir();
  const bin = path.join(venv, "bin", "moto_server");
  const marker = path.join(venv, ".complete");
  if (!existsSync(marker)) {
    const python = which("python3");
    if (!python)
      throw new Error("python3 not found: moto's S3 server needs it (`apt-get install python3 python3-venv`)");
    await withCacheLock(`moto-${MOTO_VERSION}`, async () => {
      if (existsSync(marker)) return;
      rmSync(venv, { recursive: true, force: true });
      const made = await runCommand(python, ["-m", "venv", venv], { timeoutMs: 300_000 });
      if (made.code !== 0) {
        throw new Error(
          `python3 -m venv failed (${made.code}); install venv support with \`apt-get install python3-venv\`:\n${made.stdout}\n${made.stderr}`,
        );
      }
      const pip = path.join(venv, "bin", "pip");
      const installed = await runCommand(
        pip,
        ["install", "--disable-pip-version-check", "-q", `moto[server]==${MOTO_VERSION}`],
        { timeoutMs: 900_000 },
      );
      if (installed.code !== 0)
        throw new Error(
          `pip install moto[server]==${MOTO_VERSION} failed (${installed.code}):\n${installed.stdout}\n${installed.stderr}`,
        );
      if (!existsSync(bin)) throw new Error(`pip installed moto but ${bin} is missing`);
      writeFileSync(marker, `${new Date().toISOString()}\n`);
    });
  }
  cachedServerBin = bin;
  return bin;
}

export interface S3Server {
  /** http://127.0.0.1:PORT (use path-style addressing). */
  readonly endpoint: string;
  readonly port: number;
  readonly logFile: string;
  stop(): Promise<void>;
}

async function answers(endpoint: string): Promise<boolean> {
  try {
    const res = await fetch(`${endpoint}/moto-api/`, { signal: AbortSignal.timeout(2_000) });
    await res.arrayBuffer();
    return res.status < 500;
  } catch {
    return false;
  }
}

/** Starts moto's server on a free loopback port; data lives in memory and goes with stop(). */
export async function startS3Server(options: { timeoutMs?: number } = {}): Promise<S3Server> {
  const bin = await ensureMoto();
  const port = await freePort();
  const endpoint = `http://127.0.0.1:${port}`;
  const server = await spawnServer({
    name: "moto-s3",
    cmd: bin,
    args: ["-H", "127.0.0.1", "-p", String(port)],
    env: { PYTHONUNBUFFERED: "1", AWS_DEFAULT_REGION: "us-east-1" },
    timeoutMs: options.timeoutMs ?? 60_000,
    ready: () => answers(endpoint),
  });
  return { endpoint, port, logFile: server.logFile, stop: () => server.stop() };
}
