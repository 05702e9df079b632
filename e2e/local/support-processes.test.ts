/**
 * The process, port and cache-lock helpers the test harnesses are built on, with real child
 * processes and a real (temporary) cache directory.
 */
import assert from "node:assert/strict";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { hostname, tmpdir } from "node:os";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { cacheDir, withCacheLock } from "../support/cache.js";
import { freePort } from "../support/ports.js";
import { runCommand, spawnServer, startCommand } from "../support/processes.js";

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe("support: cache, ports and processes", function () {
  this.timeout(60_000);
  let dir: string;
  let savedCache: string | undefined;

  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), "warp-support-test-"));
    savedCache = process.env.WARP_CACHE_DIR;
    process.env.WARP_CACHE_DIR = path.join(dir, "cache");
  });
  afterEach(() => {
    if (savedCache === undefined) delete process.env.WARP_CACHE_DIR;
    else process.env.WARP_CACHE_DIR = savedCache;
    rmSync(dir, { recursive: true, force: true });
  });

  it("cacheDir follows WARP_CACHE_DIR", () => {
    assert.equal(cacheDir("kafka-1", "libs"), path.join(dir, "cache", "kafka-1", "libs"));
  });

  it("withCacheLock runs holders of the same lock one at a time", async () => {
    const events: string[] = [];
    const holder = (name: string) =>
      withCacheLock("same", async () => {
        events.push(`${name} in`);
        await sleep(300);
        events.push(`${name} out`);
        return name;
      });
    const results = await Promise.all([holder("a"), holder("b")]);
    assert.deepEqual(results, ["a", "b"]);
    assert.equal(events.length, 4);
    for (let i = 0; i < 4; i += 2)
      assert.equal(events[i]!.split(" ")[0], events[i + 1]!.split(" ")[0], events.join(", "));
    assert.equal(existsSync(cacheDir("locks", "same.lock")), false, "the lock is released");
  });

  it("withCacheLock serialises separate processes", async () => {
    const script = path.join(dir, "holder.mts");
    const log = path.join(dir, "log");
    writeFileSync(
      script,
      [
        `import { appendFileSync } from "node:fs";`,
        `import { withCacheLock } from ${JSON.stringify(path.resolve("e2e/support/cache.ts"))};`,
        `await withCacheLock("shared", async () => {`,
        `  appendFileSync(${JSON.stringify(log)}, "in " + process.pid + "\\n");`,
        `  await new Promise((r) => setTimeout(r, 500));`,
        `  appendFileSync(${JSON.stringify(log)}, "out " + process.pid + "\\n");`,
        `});`,
      ].join("\n"),
    );
    const tsx = path.resolve("node_modules", ".bin", "tsx");
    const runs = await Promise.all([1, 2, 3].map(() => runCommand(tsx, [script], { timeoutMs: 50_000 })));
    for (const r of runs) assert.equal(r.code, 0, r.stderr);
    const lines = readFileSync(log, "utf8").trim().split("\n");
    assert.equal(lines.length, 6);
    for (let i = 0; i < 6; i += 2) {
      assert.ok(lines[i]!.startsWith("in ") && lines[i + 1]!.startsWith("out "), lines.join(", "));
      assert.equal(lines[i]!.slice(3), lines[i + 1]!.slice(4), lines.join(", "));
    }
  });

  it("withCacheLock breaks a lock left by a dead process", async () => {
    const lockDir = cacheDir("locks", "stale.lock");
    mkdirSync(lockDir, { recursive: true });
    // A pid above any pid_max: no such process.
    writeFileSync(path.join(lockDir, "owner"), `${hostname()} 2147483646\n`);
    assert.equal(await withCacheLock("stale", async () => "got it", { timeoutMs: 5_000 }), "got it");
  });

  it("freePort returns a port that can be listened on", async () => {
    const port = await freePort();
    assert.ok(port > 0 && port < 65536);
    const server = createServer();
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(port, "127.0.0.1", () => resolve());
    });
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it("spawnServer waits for readiness, logs to a file, and stop() kills the whole process group", async () => {
    const logFile = path.join(dir, "server.log");
    const pidFile = path.join(dir, "grandchild.pid");
    // A "server" that forks a grandchild ignoring SIGTERM, then reports ready through a file.
    const server = await spawnServer({
      name: "shell-server",
      cmd: "bash",
      args: ["-c", `(trap '' TERM; sleep 1000) & echo $! > ${pidFile}; echo started; touch ${dir}/ready; wait`],
      logFile,
      ready: async () => existsSync(path.join(dir, "ready")),
      stopGraceMs: 500,
    });
    assert.ok(server.running());
    const grandchild = Number(readFileSync(pidFile, "utf8"));
    assert.ok(alive(grandchild));
    await server.stop();
    assert.equal(server.running(), false);
    assert.match(readFileSync(logFile, "utf8"), /started/);
    for (let i = 0; i < 50 && alive(grandchild); i++) await sleep(100);
    assert.equal(alive(grandchild), false, "the grandchild in the group was killed");
    await server.stop(); // idempotent
  });

  it("spawnServer's default log file is removed by stop()", async () => {
    const server = await spawnServer({
      name: "default-log",
      cmd: "bash",
      args: ["-c", "echo hello; sleep 1000"],
      ready: async () => true,
    });
    for (let i = 0; i < 50 && !server.logTail().includes("hello"); i++) await sleep(100);
    assert.match(server.logTail(), /hello/);
    await server.stop();
    assert.equal(existsSync(server.logFile), false);
  });

  it("spawnServer runs a server at the niceness asked, and the threads it starts too", async () => {
    // /proc/PID/stat's 19th field is the niceness; a thread's is under /proc/PID/task/TID/stat.
    const nice = (file: string) => Number(readFileSync(file, "utf8").split(") ")[1]!.split(" ")[16]);
    const server = await spawnServer({
      name: "niced",
      cmd: "bash",
      args: ["-c", "sleep 1000 & wait"],
      niceness: 7,
      ready: async () => true,
    });
    try {
      // Until bash runs, after nice has set the niceness and run it in its place (same pid).
      const children = () => readFileSync(`/proc/${server.pid}/task/${server.pid}/children`, "utf8").trim();
      for (let i = 0; i < 50 && children() === ""; i++) await sleep(100);
      assert.equal(nice(`/proc/${server.pid}/stat`), 7, "the server itself");
      assert.equal(nice(`/proc/${children().split(" ")[0]}/stat`), 7, "a process it started");
    } finally {
      await server.stop();
    }
    const plain = await spawnServer({ name: "plain", cmd: "sleep", args: ["1000"], ready: async () => true });
    try {
      assert.equal(nice(`/proc/${plain.pid}/stat`), nice("/proc/self/stat"), "unset: as this process");
    } finally {
      await plain.stop();
    }
  });

  it("spawnServer fails with the log tail when the server exits before it is ready", async () => {
    await assert.rejects(
      spawnServer({
        name: "dies",
        cmd: "bash",
        args: ["-c", "echo the-reason-it-died; exit 3"],
        ready: async () => false,
      }),
      (err: Error) => /exited with code 3/.test(err.message) && /the-reason-it-died/.test(err.message),
    );
  });

  it("spawnServer says when the command cannot be started", async () => {
    await assert.rejects(
      spawnServer({ name: "missing", cmd: path.join(dir, "no-such-server"), ready: async () => true }),
      (err: Error) => /could not start/.test(err.message) && /ENOENT/.test(err.message),
    );
  });

  it("spawnServer stops a server that is not ready in time and says so", async () => {
    const pidFile = path.join(dir, "slow.pid");
    await assert.rejects(
      spawnServer({
        name: "slow",
        cmd: "bash",
        args: ["-c", `echo $$ > ${pidFile}; echo still-starting; sleep 1000`],
        ready: async () => false,
        timeoutMs: 1_000,
      }),
      (err: Error) => /not ready within 1000 ms/.test(err.message) && /still-starting/.test(err.message),
    );
    assert.equal(alive(Number(readFileSync(pidFile, "utf8"))), false);
  });

  it("runCommand passes stdin, collects output and exit code, and kills on timeout", async () => {
    const echoed = await runCommand("bash", ["-c", "cat; echo err >&2; exit 4"], { input: "hello\n" });
    assert.deepEqual([echoed.stdout, echoed.stderr.trim(), echoed.code, echoed.timedOut], ["hello\n", "err", 4, false]);
    const slow = await runCommand("sleep", ["1000"], { timeoutMs: 300 });
    assert.equal(slow.timedOut, true);
    assert.equal(slow.code, 124);
    const missing = await runCommand(path.join(dir, "no-such-command"), []);
    assert.equal(missing.code, 127);
  });

  it("startCommand answers a command line by line through stdin and stdout, and kill() ends it", async () => {
    const lines: string[] = [];
    let answered: (() => void) | undefined;
    const echo = startCommand("bash", ["-c", 'while read -r l; do echo "got $l"; done; printf tail'], {
      onStdoutLine: (line) => {
        lines.push(line);
        answered?.();
      },
    });
    for (const word of ["a", "b"]) {
      const next = new Promise<void>((resolve) => (answered = resolve));
      echo.write(`${word}\n`);
      await next;
    }
    assert.deepEqual(lines, ["got a", "got b"], "each line answered before the next is sent");
    echo.endInput();
    const done = await echo.result;
    assert.deepEqual([done.code, done.stdout], [0, "got a\ngot b\ntail"]);
    assert.deepEqual(lines, ["got a", "got b", "tail"], "the last line without a newline is passed on at exit");

    const stuck = startCommand("sleep", ["1000"]);
    stuck.kill();
    const killed = await stuck.result;
    assert.equal(killed.code, 137);
    assert.equal(alive(stuck.pid), false);
  });
});
