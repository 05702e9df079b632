/**
 * The `warp` command as a user runs it: spawned as a process (tsx cli/warp.ts), checking exit codes and
 * what it prints. Start-up errors exit 2 with "warp agent: <message naming the flag and bad part>"; a
 * started agent serves HTTP and exits 0 after SIGTERM.
 */
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type AddressInfo, type Server } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { CreateBucketCommand, DeleteBucketCommand, S3Client } from "@aws-sdk/client-s3";
import { Kafka, logLevel } from "kafkajs";
import { freePort } from "../../../e2e/support/ports.js";
import { AGENT_FLAG_LIST } from "../../src/config/flags.js";
import { ENTRY_FORMAT } from "../../src/metadata/commands.js";
import { openFileStores } from "../../src/store/file/index.js";
import { startS3, type TestServer } from "../store/servers.js";
import { spawnAgentProcess } from "../support/agents.js";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..");
const TSX = path.join(ROOT, "node_modules", ".bin", "tsx");
const CLI = path.join(ROOT, "cli", "warp.ts");

interface Result {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Environment without any WARP_* variable of the caller, plus the given ones. */
function cleanEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith("WARP_")) env[k] = v;
  return { ...env, ...extra };
}

function start(args: string[], env: NodeJS.ProcessEnv = {}): ChildProcess {
  return spawn(TSX, [CLI, ...args], { cwd: ROOT, env: cleanEnv(env), stdio: ["ignore", "pipe", "pipe"] });
}

function collect(child: ChildProcess): Promise<Result> {
  let stdout = "";
  let stderr = "";
  child.stdout!.on("data", (d: Buffer) => (stdout += d.toString()));
  child.stderr!.on("data", (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve, reject) => {
    child.on("error", reject);
    child.on("close", (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

function run(args: string[], env: NodeJS.ProcessEnv = {}): Promise<Result> {
  return collect(start(args, env));
}

/** Like run, but a process still running after `ms` is stopped with SIGTERM (tsx passes it on to the agent). */
async function runAtMost(ms: number, args: string[], env: NodeJS.ProcessEnv = {}): Promise<Result> {
  const child = start(args, env);
  const timer = setTimeout(() => child.kill("SIGTERM"), ms);
  try {
    return await collect(child);
  } finally {
    clearTimeout(timer);
  }
}

/** The first line of the child's stderr containing `text`, parsed as JSON. */
function logLine(child: ChildProcess, text: string): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    let buffered = "";
    const onData = (d: Buffer): void => {
      buffered += d.toString();
      for (const line of buffered.split("\n")) {
        if (!line.includes(text)) continue;
        child.stderr!.off("data", onData);
        resolve(JSON.parse(line) as Record<string, unknown>);
        return;
      }
    };
    child.stderr!.on("data", onData);
    child.on("close", (code) => reject(new Error(`exited with ${code} before logging ${text}:\n${buffered}`)));
  });
}

describe("warp CLI", () => {
  it("warp agent -bucketURL bogus://x exits 2 naming the flag and the bad part of the URL", async () => {
    const r = await run(["agent", "-bucketURL", "bogus://x"]);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /^warp agent: /m);
    assert.match(r.stderr, /-bucketURL/);
    assert.match(r.stderr, /bogus:\/\/x/);
    assert.match(r.stderr, /scheme: unknown scheme "bogus"/);
  });

  it("warp agent -batchTimeout 10ms exits 2 naming batchTimeout and the minimum", async () => {
    const r = await run(["agent", "-bucketURL", "mem://cli", "-batchTimeout", "10ms"]);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /^warp agent: invalid value "10ms" for flag -batchTimeout: must be at least 25ms$/m);
  });

  it("names the environment variable when the bad value came from it", async () => {
    const r = await run(["agent", "--bucketURL=mem://cli"], { WARP_BATCH_TIMEOUT: "5ms" });
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /WARP_BATCH_TIMEOUT/);
    assert.match(r.stderr, /"5ms"/);
  });

  it("an unknown flag stops start-up, naming it", async () => {
    const r = await run(["agent", "-bucketURL=mem://cli", "-bucketUrl", "mem://x"]);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /^warp agent: unknown flag -bucketUrl/m);
  });

  it("no store configured names both forms", async () => {
    const r = await run(["agent"]);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /-bucketURL/);
    assert.match(r.stderr, /-ingestionBucketURL/);
  });

  it("warp agent --help lists every flag with its environment twin", async () => {
    const r = await run(["agent", "-help"]);
    assert.equal(r.code, 0, r.stderr);
    const help = r.stdout.replace(/\s+/g, " ");
    for (const flag of AGENT_FLAG_LIST) {
      assert.ok(help.includes(`--${flag.name} <${flag.valueName}>`), `help lists --${flag.name}`);
      assert.ok(help.includes(`env: ${flag.env}`), `help lists ${flag.env}`);
    }
  });

  it("warp agent exits 2 naming DynamoDB's endpoint and the flag when DynamoDB cannot be reached", async () => {
    const port = await freePort(); // nothing listens there
    const endpoint = `http://127.0.0.1:${port}`;
    const credentials = { AWS_ACCESS_KEY_ID: "warplocal", AWS_SECRET_ACCESS_KEY: "warplocal" };
    const [fromUrl, fromEnv] = await Promise.all([
      run(
        ["agent", "-bucketURL", `dynamodb://us-east-1/files<>chunks?endpoint=${endpoint}`, "-kafkaPort", "0"],
        credentials,
      ),
      run(
        [
          "agent",
          "-ingestionBucketURL",
          "dynamodb://us-east-1/files<>chunks",
          "-compactionBucketURL",
          "mem://compacted",
          "-kafkaPort",
          "0",
        ],
        { ...credentials, AWS_ENDPOINT_URL_DYNAMODB: endpoint },
      ),
    ]);
    assert.equal(fromUrl.code, 2, fromUrl.stderr);
    assert.match(
      fromUrl.stderr,
      new RegExp(
        `^warp agent: cannot reach DynamoDB at http://127\\.0\\.0\\.1:${port} \\(-bucketURL dynamodb://us-east-1/files<>chunks`,
        "m",
      ),
    );
    assert.equal(fromEnv.code, 2, fromEnv.stderr);
    assert.match(
      fromEnv.stderr,
      new RegExp(
        `^warp agent: cannot reach DynamoDB at http://127\\.0\\.0\\.1:${port} \\(from AWS_ENDPOINT_URL_DYNAMODB; -ingestionBucketURL dynamodb://us-east-1/files<>chunks\\)`,
        "m",
      ),
    );
  });

  it("warp version prints the package version", async () => {
    const pkg = JSON.parse(readFileSync(path.join(ROOT, "package.json"), "utf8")) as { version: string };
    const r = await run(["version"]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, `warp ${pkg.version} (node ${process.version})\n`);
  });

  it("an unknown command exits 2", async () => {
    const r = await run(["frobnicate"]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /unknown command 'frobnicate'/);
  });

  it("warp operator rejects unknown flags and bad values before connecting anywhere", async () => {
    let r = await run(["operator", "-nope"]);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /^warp operator: unknown flag -nope/m);
    r = await run(["operator", "-metricsPort", "http"]);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /^warp operator: invalid value "http" for flag -metricsPort/m);
  });

  it("warp operator with an unreadable kubeconfig exits 2 saying so", async () => {
    const r = await run([
      "operator",
      "-kubeconfig",
      "/nonexistent/kubeconfig",
      "-leaderElect=false",
      "-metricsPort",
      "0",
    ]);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /^warp operator: .*\/nonexistent\/kubeconfig/m);
  });

  describe("a listener that cannot bind", () => {
    let busy: Server;
    let busyPort: number;
    before(async () => {
      busy = createServer();
      await new Promise<void>((resolve) => busy.listen(0, "127.0.0.1", resolve));
      busyPort = (busy.address() as AddressInfo).port;
    });
    after(async () => {
      await new Promise<void>((resolve) => busy.close(() => resolve()));
    });

    for (const [listener, flag, other] of [
      ["kafka", "-kafkaPort", "-httpPort"],
      ["http", "-httpPort", "-kafkaPort"],
    ] as const) {
      it(`a ${listener} port in use exits 2 naming the ${listener} listener and its address`, async () => {
        const r = await run([
          "agent",
          "-bucketURL=mem://cli",
          "-kafkaHost",
          "127.0.0.1",
          flag,
          String(busyPort),
          other,
          "0",
        ]);
        assert.equal(r.code, 2, r.stderr);
        assert.match(
          r.stderr,
          new RegExp(
            `^warp agent: cannot start the ${listener} listener on 127\\.0\\.0\\.1:${busyPort}: address already in use \\(EADDRINUSE\\)$`,
            "m",
          ),
        );
      });
    }
  });

  describe("a running agent", () => {
    let dir: string;
    before(() => {
      dir = mkdtempSync(path.join(tmpdir(), "warp-cli-"));
    });
    after(() => {
      rmSync(dir, { recursive: true, force: true });
    });

    it("starts with Go-style flags, serves /healthz and /metrics, and exits 0 on SIGTERM", async () => {
      const child = start([
        "agent",
        `-bucketURL=file://${dir}`,
        "-kafkaHost",
        "127.0.0.1",
        "-kafkaPort",
        "0",
        "--httpPort",
        "0",
        "-logLevel=info",
      ]);
      const done = collect(child);
      try {
        // The agent logs one JSON line "agent started" with the ports it bound.
        const started = (await logLine(child, '"agent started"')) as { httpPort: number; kafkaPort: number };
        assert.ok(started.kafkaPort > 0 && started.httpPort > 0);
        const health = await fetch(`http://127.0.0.1:${started.httpPort}/healthz`);
        assert.equal(health.status, 200);
        assert.equal((await fetch(`http://127.0.0.1:${started.httpPort}/readyz`)).status, 200);
        const text = await (await fetch(`http://127.0.0.1:${started.httpPort}/metrics`)).text();
        assert.match(text, /^# TYPE warp_open_connections gauge$/m);
        child.kill("SIGTERM");
        const r = await done;
        assert.equal(r.code, 0, r.stderr);
        assert.match(r.stderr, /SIGTERM received/);
      } finally {
        if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
      }
    });

    it("exits 2 on a store whose log holds an entry of a newer format, naming the entry, its format and the formats it reads", async () => {
      const data = path.join(dir, "newer-format");
      const stores = await openFileStores(data);
      const newer = ENTRY_FORMAT.latest + 1;
      await stores.metadata.append(1n, Buffer.from([0x57, 0x4c, newer, 0, 0]));
      await stores.close();
      const r = await run(["agent", `-bucketURL=file://${data}`, "-kafkaPort", "0", "-httpPort", "0"]);
      assert.equal(r.code, 2, r.stderr);
      assert.match(
        r.stderr,
        new RegExp(
          `^warp agent: metadata log entry 1 has format ${newer}, newer than this agent reads \\(1-${ENTRY_FORMAT.latest}\\)\\. It was written by a newer agent`,
          "m",
        ),
      );
    });

    it("logs process warnings and console output as JSON lines, like everything else it prints", async () => {
      // Loaded before the CLI: on SIGUSR2 (sent once the agent runs) it raises a multi-line process
      // warning, as the AWS SDK does for old Node versions, and writes to console.warn and console.log.
      const noisy = path.join(dir, "noisy.mjs");
      writeFileSync(
        noisy,
        [
          'process.on("SIGUSR2", () => {',
          '  process.emitWarning("first line of a notice\\nsecond line", { type: "NoticeWarning", code: "WARP_TEST" });',
          '  console.warn("a library\'s %s", "warning", { on: "two" }, "\\nlines");',
          '  console.log("a library\'s chatter");',
          "});",
          "",
        ].join("\n"),
      );
      const child = spawn(
        process.execPath,
        ["--import", "tsx", "--import", pathToFileURL(noisy).href, CLI, "agent", `-bucketURL=file://${dir}/data`],
        { cwd: ROOT, env: cleanEnv(), stdio: ["ignore", "pipe", "pipe"] },
      );
      const done = collect(child);
      try {
        await logLine(child, '"agent started"');
        const printed = new Promise<void>((resolve) => {
          let output = "";
          const onData = (d: Buffer): void => {
            output += d.toString();
            if (output.includes("chatter")) resolve();
          };
          child.stdout.on("data", onData);
          child.stderr.on("data", onData);
        });
        child.kill("SIGUSR2");
        await printed;
        child.kill("SIGTERM");
        const r = await done;
        assert.equal(r.code, 0, r.stderr);
        const lines = (r.stdout + r.stderr).split("\n").filter((line) => line !== "");
        const logged = lines.map((line) => {
          try {
            return JSON.parse(line) as Record<string, unknown>;
          } catch {
            assert.fail(`a line that is not JSON: ${line}\n${r.stderr}`);
          }
        });
        assert.deepEqual(
          logged.find((l) => l.warning === "NoticeWarning"),
          {
            ...logged.find((l) => l.warning === "NoticeWarning"),
            level: "warn",
            message: "first line of a notice\nsecond line",
            code: "WARP_TEST",
            component: "process",
          },
        );
        assert.ok(logged.some((l) => l.level === "warn" && l.message === "a library's warning { on: 'two' } \nlines"));
        assert.ok(logged.some((l) => l.level === "info" && l.message === "a library's chatter"));
      } finally {
        if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
      }
    });
  });

  describe("with an s3:// compaction bucket (moto's S3 server)", function () {
    this.timeout(180_000);
    const credentials = { accessKeyId: "warplocal", secretAccessKey: "warplocal" };
    const awsEnv = {
      AWS_ACCESS_KEY_ID: credentials.accessKeyId,
      AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
      AWS_REGION: "us-east-1",
    };
    let s3: TestServer;
    let client: S3Client;
    let dir: string;
    before(async () => {
      s3 = await startS3();
      client = new S3Client({ region: "us-east-1", endpoint: s3.endpoint, forcePathStyle: true, credentials });
      dir = mkdtempSync(path.join(tmpdir(), "warp-cli-s3-"));
    });
    after(async () => {
      client?.destroy();
      await s3?.stop();
      rmSync(dir, { recursive: true, force: true });
    });
    const bucketUrl = (bucket: string): string =>
      `s3://${bucket}?region=us-east-1&endpoint=${encodeURIComponent(s3.endpoint)}&s3ForcePathStyle=true`;

    it("a compaction bucket that does not exist stops start-up with exit 2, naming the bucket and the flag", async () => {
      const r = await runAtMost(
        30_000,
        [
          "agent",
          "-ingestionBucketURL",
          `file://${path.join(dir, "missing")}`,
          "-compactionBucketURL",
          bucketUrl("no-such-bucket"),
          "-kafkaPort",
          "0",
          "-httpPort",
          "0",
        ],
        awsEnv,
      );
      assert.equal(r.code, 2, r.stderr);
      assert.match(
        r.stderr,
        /^warp agent: -compactionBucketURL s3:\/\/no-such-bucket\?.*: bucket no-such-bucket does not exist$/m,
      );
      assert.doesNotMatch(r.stderr, /agent started/);
    });

    it("names the bucket in compaction errors and counts them in warp_compaction_failures_total", async () => {
      const bucket = "vanishing-bucket";
      await client.send(new CreateBucketCommand({ Bucket: bucket }));
      const agent = await spawnAgentProcess(
        [
          "-ingestionBucketURL",
          `file://${path.join(dir, "vanishing")}`,
          "-compactionBucketURL",
          bucketUrl(bucket),
          "-compactionInterval",
          "200ms",
          "-compactionMinBytes",
          "0",
        ],
        awsEnv,
      );
      try {
        // The bucket goes away after start-up; the next compaction pass fails on it.
        await client.send(new DeleteBucketCommand({ Bucket: bucket }));
        const producer = new Kafka({ brokers: [agent.bootstrap], logLevel: logLevel.NOTHING }).producer();
        await producer.connect();
        await producer.send({ topic: "t", messages: [{ value: "v" }] });
        await producer.disconnect();
        const deadline = Date.now() + 60_000;
        let failures: Array<Record<string, unknown>> = [];
        while (failures.length === 0 && Date.now() < deadline) {
          await new Promise((r) => setTimeout(r, 200));
          failures = agent
            .output()
            .split("\n")
            .filter((l) => l.includes('"compaction pass failed"'))
            .map((l) => JSON.parse(l) as Record<string, unknown>);
        }
        assert.ok(failures.length > 0, `a compaction pass failed:\n${agent.output()}`);
        for (const f of failures) {
          assert.equal(f.compactionBucket, bucketUrl(bucket));
          assert.match(String(f.error), /bucket does not exist/);
        }
        const text = await (await fetch(`http://127.0.0.1:${agent.httpPort}/metrics`)).text();
        const counted = /^warp_compaction_failures_total (\d+)$/m.exec(text);
        assert.ok(counted && Number(counted[1]) >= failures.length, `failures counted:\n${text}`);
      } finally {
        await agent.kill("SIGKILL");
      }
    });
  });
});
