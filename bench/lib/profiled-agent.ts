/**
 * `warp agent` as a child process with extra Node options (e.g. --cpu-prof, which NODE_OPTIONS does not
 * accept), bound to free ports on loopback; resolves once it logs "agent started".
 */
import { spawn, type ChildProcess } from "node:child_process";
import path from "node:path";
import { REPO_ROOT } from "../../agent/test/support/agents.js";

export interface NodeAgent {
  readonly bootstrap: string;
  readonly child: ChildProcess;
  /** Milliseconds from spawn to "agent started" (module loading and start-up). */
  readonly startupMs: number;
  stop(): Promise<void>;
}

export async function spawnAgentWithNodeOptions(
  nodeOptions: readonly string[],
  args: readonly string[],
): Promise<NodeAgent> {
  const spawnedAt = Date.now();
  const child = spawn(
    process.execPath,
    [
      ...nodeOptions,
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
    { cwd: REPO_ROOT, env: { ...process.env, WARP_LOG_LEVEL: "info" }, stdio: ["ignore", "ignore", "pipe"] },
  );
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  let out = "";
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`agent did not start within 60 s:\n${out}`)), 60_000);
    child.stderr.on("data", (chunk: Buffer) => {
      if (out.length < 100_000) out += chunk.toString();
      const m = /"agent started".*?"kafkaPort":(\d+)/.exec(out) ?? /"kafkaPort":(\d+).*?"agent started"/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
    });
    void exited.then(() => {
      clearTimeout(timer);
      reject(new Error(`agent exited before listening:\n${out}`));
    });
  });
  return {
    bootstrap: `127.0.0.1:${port}`,
    child,
    startupMs: Date.now() - spawnedAt,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
      await exited;
    },
  };
}
