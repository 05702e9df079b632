/**
 * An S3 API server on loopback; its data goes with stop(). Two kinds:
 *
 * - `moto` (the tests' server): moto's server (PyPI `moto[server]`, pinned) in a Python venv in the
 *   cache, started as `moto_server -H 127.0.0.1 -p PORT`, data in memory.
 * - `versitygw` (the benchmark's): the Versity S3 Gateway (Go module proxy, pinned), built with
 *   `go install` into the cache, serving a new temporary folder through its POSIX backend (an object
 *   is a file, a bucket a folder). moto reads a whole object to serve a ranged GET (moto 5.2.5,
 *   `_handle_range_header`), so a consume benchmark on it measures moto's copy of 4–64 MiB objects;
 *   the gateway seeks and reads the range, as a store should. Its POSIX namespace refuses keys that
 *   are both an object and a "folder" of others (`a` and `a/b`), which the agent never writes.
 */
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import fs from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { cacheDir, withCacheLock } from "./cache.js";
import { LOCAL_AWS } from "./dynamodb-local.js";
import { goCommand } from "./go-command.js";
import { freePort } from "./ports.js";
import { runCommand, spawnServer } from "./processes.js";
import { ensurePythonVenv } from "./python-venv.js";

export const MOTO_VERSION = "5.2.5";
export const VERSITYGW_VERSION = "v1.8.0";

export const S3_SERVER_KINDS = ["moto", "versitygw"] as const;
export type S3ServerKind = (typeof S3_SERVER_KINDS)[number];

export function isS3ServerKind(v: string): v is S3ServerKind {
  return (S3_SERVER_KINDS as readonly string[]).includes(v);
}

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

let cachedGateway: string | null = null;

/** Builds the Versity S3 Gateway into the cache (once: `go install`, about a minute) and returns its path. */
export async function ensureVersitygw(): Promise<string> {
  if (cachedGateway) return cachedGateway;
  const dir = cacheDir(`versitygw-${VERSITYGW_VERSION.replace(/^v/, "")}`);
  const bin = path.join(dir, "versitygw");
  if (!existsSync(bin)) {
    await withCacheLock(`versitygw-${VERSITYGW_VERSION}`, async () => {
      if (existsSync(bin)) return;
      const gobin = path.join(dir, `build.${process.pid}`);
      await fs.rm(gobin, { recursive: true, force: true });
      await fs.mkdir(gobin, { recursive: true });
      try {
        const pkg = `github.com/versity/versitygw/cmd/versitygw@${VERSITYGW_VERSION}`;
        // `go install pkg@version` runs outside any module, so no GOFLAGS from a caller's module settings.
        const res = await runCommand(goCommand(), ["install", "-trimpath", "-ldflags=-s -w", pkg], {
          cwd: gobin,
          env: { GOBIN: gobin, GOFLAGS: "", CGO_ENABLED: "0" },
          timeoutMs: 15 * 60_000,
        });
        if (res.code !== 0) throw new Error(`go install ${pkg} failed (exit ${res.code}):\n${res.stderr.slice(-4000)}`);
        await fs.rename(path.join(gobin, "versitygw"), bin);
      } finally {
        await fs.rm(gobin, { recursive: true, force: true });
      }
    });
  }
  cachedGateway = bin;
  return bin;
}

/** True once `endpoint` answers HTTP below 500 (an unsigned request to the gateway gets 403: it is up). */
async function answers(endpoint: string, probePath: string): Promise<boolean> {
  try {
    const res = await fetch(`${endpoint}${probePath}`, { signal: AbortSignal.timeout(2_000) });
    await res.arrayBuffer();
    return res.status < 500;
  } catch {
    return false;
  }
}

export interface S3ServerOptions {
  /** How long to wait for it to answer (default 60 s; building it first is not counted). */
  readonly timeoutMs?: number;
  /** Default `moto`. */
  readonly kind?: S3ServerKind;
  /** SpawnServerOptions.niceness. */
  readonly niceness?: number;
}

/** Starts an S3 server on a free loopback port; it takes the local credentials (LOCAL_AWS). */
export async function startS3Server(options: S3ServerOptions = {}): Promise<S3Server> {
  const timeoutMs = options.timeoutMs ?? 60_000;
  const port = await freePort();
  const endpoint = `http://127.0.0.1:${port}`;
  if ((options.kind ?? "moto") === "moto") {
    const server = await spawnServer({
      name: "moto-s3",
      cmd: await ensureMoto(),
      args: ["-H", "127.0.0.1", "-p", String(port)],
      env: { PYTHONUNBUFFERED: "1", AWS_DEFAULT_REGION: "us-east-1" },
      timeoutMs,
      niceness: options.niceness,
      ready: () => answers(endpoint, "/moto-api/"),
    });
    return { endpoint, port, logFile: server.logFile, stop: () => server.stop() };
  }
  const bin = await ensureVersitygw();
  const root = mkdtempSync(path.join(tmpdir(), "warp-versitygw-"));
  try {
    const server = await spawnServer({
      name: "versitygw",
      cmd: bin,
      args: ["--port", `127.0.0.1:${port}`, "posix", root],
      env: {
        ROOT_ACCESS_KEY: LOCAL_AWS.credentials.accessKeyId,
        ROOT_SECRET_KEY: LOCAL_AWS.credentials.secretAccessKey,
      },
      timeoutMs,
      niceness: options.niceness,
      ready: () => answers(endpoint, "/"),
    });
    return {
      endpoint,
      port,
      logFile: server.logFile,
      stop: async () => {
        await server.stop();
        rmSync(root, { recursive: true, force: true });
      },
    };
  } catch (err) {
    rmSync(root, { recursive: true, force: true });
    throw err;
  }
}
