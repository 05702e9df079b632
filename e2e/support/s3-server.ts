/**
 * An S3 API server on loopback: moto's server (PyPI `moto[server]`, pinned) in a Python venv in the
 * cache, started as `moto_server -H 127.0.0.1 -p PORT`.
 */
import { existsSync } from "node:fs";
import path from "node:path";
import { freePort } from "./ports.js";
import { spawnServer } from "./processes.js";
import { ensurePythonVenv } from "./python-venv.js";

export const MOTO_VERSION = "5.2.5";

let cachedServerBin: string | null = null;

/** Creates the venv with moto[server] in the cache (once) and returns the path of moto_server. */
export async function ensureMoto(): Promise<string> {
  if (cachedServerBin) return cachedServerBin;
  const venv = await ensurePythonVenv({
    name: `moto-${MOTO_VERSION}`,
    purpose: "moto's S3 server",
    pipInstall: [`moto[server]==${MOTO_VERSION}`],
    check: (dir) => {
      const bin = path.join(dir, "bin", "moto_server");
      if (!existsSync(bin)) throw new Error(`pip installed moto but ${bin} is missing`);
    },
  });
  cachedServerBin = path.join(venv, "bin", "moto_server");
  return cachedServerBin;
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
