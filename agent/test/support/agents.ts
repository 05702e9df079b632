/**
 * Agents for tests: in-process (fast, for protocol and client tests) or as a child process running the
 * real CLI (for SIGKILL and restart tests). Both bind port 0 and report the port chosen.
 */
import { spawn } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { startAgent } from "../../src/agent.js";
import type { RunningAgent } from "../../src/agent.js";
import { parseAgentConfig } from "../../src/config/parse.js";
import type { AgentConfig } from "../../src/config/parse.js";

export const REPO_ROOT = path.resolve(import.meta.dirname, "../../..");

export interface TestAgent {
  readonly port: number;
  readonly httpPort: number;
  readonly bootstrap: string;
  readonly running: RunningAgent;
  stop(): Promise<void>;
}

/**
 * Starts an agent in this process. Flags as on the command line, without the leading dash; `settings`
 * sets configuration that no flag sets (fetchSessionEvictionMs).
 */
export async function startTestAgent(
  flags: Record<string, string> = {},
  settings: Partial<Pick<AgentConfig, "fetchSessionEvictionMs">> = {},
): Promise<TestAgent> {
  const parsed = parseAgentConfig(
    {
      // A store of its own unless the flags name the split stores.
      ...(flags.ingestionBucketURL
        ? {}
        : { bucketURL: `mem://test-${process.pid}-${Math.random().toString(36).slice(2)}` }),
      kafkaPort: "0",
      httpPort: "0",
      kafkaHost: "127.0.0.1",
      advertisedHost: "127.0.0.1",
      batchTimeout: "25ms",
      ...flags,
    },
    {},
  );
  const running = await startAgent({ ...parsed, ...settings });
  return {
    port: running.kafkaPort,
    httpPort: running.httpPort,
    bootstrap: `127.0.0.1:${running.kafkaPort}`,
    running,
    stop: () => running.stop(),
  };
}

export function tempDir(prefix: string): { path: string; remove(): void } {
  const dir = mkdtempSync(path.join(os.tmpdir(), `warp-${prefix}-`));
  return { path: dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

export interface AgentProcess {
  readonly port: number;
  readonly httpPort: number;
  readonly bootstrap: string;
  readonly child: ChildProcess;
  /** Everything the process wrote to stderr so far. */
  output(): string;
  kill(signal: NodeJS.Signals): Promise<number | null>;
}

/** Runs `warp agent` as a child process (through tsx) and waits until it listens. */
export async function spawnAgentProcess(args: readonly string[], env: NodeJS.ProcessEnv = {}): Promise<AgentProcess> {
  const child = spawn(
    process.execPath,
    [
      "--import",
      "tsx",
      path.join(REPO_ROOT, "cli/warp.ts"),
      "agent",
      "-kafkaPort",
      "0",
      "-httpPort",
      "0",
      "-kafkaHost",
      "127.0.0.1",
      "-advertisedHost",
      "127.0.0.1",
      ...args,
    ],
    {
      cwd: REPO_ROOT,
      // Info level at least: the "agent started" line tells which ports were bound.
      env: { ...process.env, ...env, WARP_LOG_LEVEL: "info" },
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  let out = "";
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  const ports = await new Promise<{ kafka: number; http: number }>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`agent did not start within 60s:\n${out}`)), 60_000);
    const onData = (chunk: Buffer) => {
      out += chunk.toString();
      for (const line of out.split("\n")) {
        if (!line.includes('"agent started"')) continue;
        try {
          const parsed = JSON.parse(line) as { kafkaPort: number; httpPort: number };
          clearTimeout(timer);
          resolve({ kafka: parsed.kafkaPort, http: parsed.httpPort });
          return;
        } catch {
          // partial line; wait for more
        }
      }
    };
    child.stderr.on("data", onData);
    child.stdout.on("data", (c: Buffer) => (out += c.toString()));
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`agent exited with code ${code} before listening:\n${out}`));
    });
  });
  return {
    port: ports.kafka,
    httpPort: ports.http,
    bootstrap: `127.0.0.1:${ports.kafka}`,
    child,
    output: () => out,
    kill: async (signal) => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
}
