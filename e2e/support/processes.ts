/**
 * Child processes for tests: long-running servers (own process group, output to a log file, a
 * readiness probe, stop() = SIGTERM then SIGKILL to the whole group) and commands with a timeout,
 * run to completion or driven through their stdin and stdout. Child processes still running when
 * this process exits are killed by an exit hook.
 */
import { spawn } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { accessSync, closeSync, constants, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { StringDecoder } from "node:string_decoder";
import { setTimeout as sleep } from "node:timers/promises";

export interface SpawnServerOptions {
  /** Shown in messages and used to name the default log file. */
  readonly name?: string;
  readonly cmd: string;
  readonly args?: readonly string[];
  /** Added to (and overriding) process.env. */
  readonly env?: Record<string, string | undefined>;
  readonly cwd?: string;
  /**
   * Where stdout and stderr go. Default: a new file under the OS temp dir, removed by stop() unless
   * WARP_KEEP_TEST_LOGS=1 (kept when the server fails to start: the error names it).
   */
  readonly logFile?: string;
  /** Polled until it returns true; a throw counts as "not yet". */
  readonly ready: () => Promise<boolean>;
  /** How long to wait for ready() (default 60 s). */
  readonly timeoutMs?: number;
  /** Grace period between SIGTERM and SIGKILL in stop() (default 5 s). */
  readonly stopGraceMs?: number;
  /**
   * Run it at this niceness (`nice -n`, every thread it starts too; 0 or unset: as this process). A benchmark
   * lowers the services that stand in for remote ones so that they take the cores after the processes measured.
   */
  readonly niceness?: number;
}

export interface ServerProcess {
  readonly pid: number;
  readonly logFile: string;
  /** Resolves with the exit code (or 128 + signal number) once the process has exited. */
  readonly exited: Promise<number>;
  /** True while the process has not exited. */
  running(): boolean;
  /** The last `lines` lines of the log. */
  logTail(lines?: number): string;
  /** SIGTERM to the process group, SIGKILL after the grace period; resolves when the process is gone. Idempotent. */
  stop(): Promise<void>;
}

/** The first executable `name` on PATH, or null. */
export function which(name: string): string | null {
  for (const dir of (process.env.PATH ?? "").split(path.delimiter)) {
    if (!dir) continue;
    const candidate = path.join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return null;
}

const live = new Set<ChildProcess>();
let hooksInstalled = false;

function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    try {
      child.kill(signal);
    } catch {
      // already gone
    }
  }
}

function installExitHooks(): void {
  if (hooksInstalled) return;
  hooksInstalled = true;
  process.on("exit", () => {
    for (const child of live) killGroup(child, "SIGKILL");
  });
  for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
    const handler = (): void => {
      for (const child of live) killGroup(child, "SIGKILL");
      live.clear();
      process.off(signal, handler);
      // Nobody else handles it: die of the signal as the default action would have.
      if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
    };
    process.on(signal, handler);
  }
}

const SIGNAL_NUMBERS: Record<string, number> = { SIGHUP: 1, SIGINT: 2, SIGQUIT: 3, SIGKILL: 9, SIGTERM: 15 };

function exitCode(code: number | null, signal: NodeJS.Signals | null): number {
  if (code !== null) return code;
  return 128 + (signal ? (SIGNAL_NUMBERS[signal] ?? 0) : 0);
}

/** The last `lines` lines of a file ("" if unreadable). */
export function fileTail(file: string, lines = 40): string {
  try {
    const text = readFileSync(file, "utf8");
    return text
      .split("\n")
      .slice(-lines - 1)
      .join("\n");
  } catch {
    return "";
  }
}

/** A new log file path under the OS temp dir. */
export function newLogFile(name: string): string {
  const dir = path.join(tmpdir(), "warp-test-logs");
  mkdirSync(dir, { recursive: true });
  return path.join(mkdtempSync(path.join(dir, `${name.replace(/[^A-Za-z0-9._-]/g, "_")}-`)), "output.log");
}

/**
 * Starts a server in its own process group with output to a log file and waits until `ready()`
 * returns true. Fails (after killing it) if it exits first or is not ready in time; the error
 * carries the tail of its log.
 */
export async function spawnServer(options: SpawnServerOptions): Promise<ServerProcess> {
  installExitHooks();
  const name = options.name ?? path.basename(options.cmd);
  const logFile = options.logFile ?? newLogFile(name);
  // A log file this function made is removed by stop() (set WARP_KEEP_TEST_LOGS=1 to keep it).
  const ownLogDir = options.logFile ? null : path.dirname(logFile);
  mkdirSync(path.dirname(logFile), { recursive: true });
  const fd = openSync(logFile, "a");
  let child: ChildProcess;
  try {
    const niced = options.niceness ? ["nice", "-n", String(options.niceness)] : [];
    const [cmd, ...args] = [...niced, options.cmd, ...(options.args ?? [])];
    child = spawn(cmd!, args, {
      cwd: options.cwd,
      env: { ...process.env, ...options.env },
      stdio: ["ignore", fd, fd],
      detached: true,
    });
  } finally {
    closeSync(fd);
  }
  live.add(child);
  let exitedCode: number | null = null;
  let spawnError: Error | null = null;
  const exited = new Promise<number>((resolve) => {
    child.once("exit", (code, signal) => {
      exitedCode = exitCode(code, signal);
      live.delete(child);
      resolve(exitedCode);
    });
    child.once("error", (err) => {
      // The command could not be started (no exit event follows).
      spawnError = err;
      exitedCode = 127;
      live.delete(child);
      resolve(127);
    });
  });

  const grace = options.stopGraceMs ?? 5_000;
  const terminate = async (): Promise<void> => {
    if (exitedCode === null) {
      killGroup(child, "SIGTERM");
      const timer = setTimeout(() => killGroup(child, "SIGKILL"), grace);
      await exited;
      clearTimeout(timer);
    }
    // Anything the server left behind in its group.
    killGroup(child, "SIGKILL");
  };
  let stopping: Promise<void> | null = null;
  const handle: ServerProcess = {
    pid: child.pid ?? -1,
    logFile,
    exited,
    running: () => exitedCode === null,
    logTail: (lines = 40) => fileTail(logFile, lines),
    stop: () => {
      stopping ??= (async () => {
        await terminate();
        if (ownLogDir && process.env.WARP_KEEP_TEST_LOGS !== "1") rmSync(ownLogDir, { recursive: true, force: true });
      })();
      return stopping;
    },
  };

  // Started, or failed to start: only then is readiness worth asking about.
  await new Promise<void>((resolve) => {
    child.once("spawn", () => resolve());
    void exited.then(() => resolve());
  });
  const timeoutMs = options.timeoutMs ?? 60_000;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const startFailure = spawnError as Error | null;
    if (startFailure !== null) throw new Error(`${name}: could not start ${options.cmd}: ${startFailure.message}`);
    if (exitedCode !== null) {
      killGroup(child, "SIGKILL"); // anything it forked
      throw new Error(
        `${name} exited with code ${exitedCode} before it was ready; log ${logFile}:\n${handle.logTail()}`,
      );
    }
    let ok: boolean;
    try {
      ok = await options.ready();
    } catch {
      ok = false;
    }
    if (ok) return handle;
    if (Date.now() > deadline) {
      await terminate();
      throw new Error(`${name} was not ready within ${timeoutMs} ms; log ${logFile}:\n${handle.logTail()}`);
    }
    await Promise.race([sleep(200), exited]);
  }
}

export interface StartOptions {
  /** Killed (whole process group) after this long; default 60 s. */
  readonly timeoutMs?: number;
  readonly env?: Record<string, string | undefined>;
  readonly cwd?: string;
  /** Called with each line the command writes to stdout (without the newline), as it comes. */
  readonly onStdoutLine?: (line: string) => void;
}

export interface RunOptions extends Omit<StartOptions, "onStdoutLine"> {
  /** Written to stdin, which is then closed (stdin is closed at once without it). */
  readonly input?: Buffer | string;
}

export interface RunResult {
  readonly stdout: string;
  readonly stderr: string;
  /** Exit code, 128 + signal number if killed by a signal, 124 on timeout, 127 if it could not start. */
  readonly code: number;
  readonly timedOut: boolean;
}

export interface RunningCommand {
  readonly pid: number;
  /** Writes to the command's stdin (ignored once it has exited). */
  write(text: string): void;
  /** Closes stdin, after writing `input` if given. */
  endInput(input?: Buffer | string): void;
  /** SIGKILL to its process group. */
  kill(): void;
  /** Resolves once it has exited and its output is closed. Never rejects for a failing command. */
  readonly result: Promise<RunResult>;
}

/**
 * Starts a command with piped stdin, stdout and stderr in its own process group; its output is
 * collected into `result` (and stdout also passed line by line to onStdoutLine).
 */
export function startCommand(cmd: string, args: readonly string[], options: StartOptions = {}): RunningCommand {
  installExitHooks();
  const child = spawn(cmd, [...args], {
    cwd: options.cwd,
    env: { ...process.env, ...options.env },
    stdio: ["pipe", "pipe", "pipe"],
    detached: true,
  });
  live.add(child);
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  const decoder = new StringDecoder("utf8");
  let partialLine = "";
  const onLine = options.onStdoutLine;
  child.stdout?.on("data", (b: Buffer) => {
    out.push(b);
    if (!onLine) return;
    const lines = (partialLine + decoder.write(b)).split("\n");
    partialLine = lines.pop()!;
    for (const line of lines) onLine(line);
  });
  child.stderr?.on("data", (b: Buffer) => err.push(b));
  let timedOut = false;
  let spawnError: Error | null = null;
  const timer = setTimeout(() => {
    timedOut = true;
    killGroup(child, "SIGKILL");
  }, options.timeoutMs ?? 60_000);
  child.stdin?.on("error", () => {
    // the command exited without reading all its input
  });
  child.once("error", (e) => {
    spawnError = e;
  });
  const result = new Promise<RunResult>((resolve) => {
    child.once("close", (code, signal) => {
      clearTimeout(timer);
      live.delete(child);
      // Helpers it forked and left behind in its group.
      killGroup(child, "SIGKILL");
      const last = partialLine + decoder.end();
      if (onLine && last.length > 0) onLine(last);
      let stderr = Buffer.concat(err).toString("utf8");
      if (timedOut) stderr += `\n[${cmd} killed after ${options.timeoutMs ?? 60_000} ms]`;
      if (spawnError) stderr += `\n[could not start ${cmd}: ${spawnError.message}]`;
      resolve({
        stdout: Buffer.concat(out).toString("utf8"),
        stderr,
        code: timedOut ? 124 : spawnError ? 127 : exitCode(code, signal),
        timedOut,
      });
    });
  });
  return {
    pid: child.pid ?? -1,
    write: (text) => {
      if (child.stdin && !child.stdin.destroyed && child.stdin.writable) child.stdin.write(text);
    },
    endInput: (input) => {
      if (!child.stdin || child.stdin.destroyed || !child.stdin.writable) return;
      if (input !== undefined) child.stdin.end(input);
      else child.stdin.end();
    },
    kill: () => killGroup(child, "SIGKILL"),
    result,
  };
}

/** Runs a command to completion, collecting its output. Never throws for a failing command. */
export function runCommand(cmd: string, args: readonly string[], options: RunOptions = {}): Promise<RunResult> {
  const { input, ...startOptions } = options;
  const running = startCommand(cmd, args, startOptions);
  running.endInput(input);
  return running.result;
}
