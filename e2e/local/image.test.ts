/**
 * The container image, checked without a Docker engine (none runs here): the Dockerfile's rules
 * (pinned bases, non-root numeric user, `warp` entrypoint, multi-stage with no dev dependencies at
 * run time), the build context that .dockerignore admits (evaluated with @balena/dockerignore,
 * Docker's own pattern rules), and the build stage replayed on the host: exactly the files its
 * COPY lines bring, compiled by its own RUN command, must give a `warp` that starts.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { createRequire } from "node:module";
import { REPO_ROOT } from "../../scripts/sync-chart.js";

// A CommonJS module whose typings declare an ES default export: load it the CommonJS way.
const dockerignore = createRequire(import.meta.url)(
  "@balena/dockerignore",
) as typeof import("@balena/dockerignore").default;

interface Instruction {
  readonly op: string;
  readonly args: string;
}

/** Dockerfile instructions: comments dropped, line continuations joined, ARG defaults kept. */
function parseDockerfile(text: string): Instruction[] {
  const out: Instruction[] = [];
  let current = "";
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    if (current === "" && (line === "" || line.startsWith("#"))) continue;
    if (line.startsWith("#")) continue;
    if (line.endsWith("\\")) {
      current += `${line.slice(0, -1)} `;
      continue;
    }
    current += line;
    const m = /^(\w+)\s+(.*)$/s.exec(current);
    assert.ok(m, `unparsable Dockerfile line: ${current}`);
    out.push({ op: m[1]!.toUpperCase(), args: m[2]!.trim() });
    current = "";
  }
  return out;
}

interface Stage {
  readonly from: string;
  readonly name?: string;
  readonly body: Instruction[];
}

function stages(ins: Instruction[]): Stage[] {
  const out: Array<{ from: string; name?: string; body: Instruction[] }> = [];
  for (const i of ins) {
    if (i.op === "FROM") {
      const [from, as, name] = i.args.split(/\s+/);
      out.push({ from: from!, ...(as?.toUpperCase() === "AS" && name ? { name } : {}), body: [] });
    } else out.at(-1)?.body.push(i);
  }
  return out;
}

/** Every file under root (relative, POSIX separators), not descending into .git or node_modules. */
function walk(root: string, rel = ""): string[] {
  const files: string[] = [];
  for (const e of fs.readdirSync(path.join(root, rel), { withFileTypes: true })) {
    const p = rel ? `${rel}/${e.name}` : e.name;
    if (e.isDirectory()) {
      if (e.name === ".git" || e.name === "node_modules") continue;
      files.push(...walk(root, p));
    } else files.push(p);
  }
  return files;
}

describe("container image (Dockerfile, .dockerignore)", function () {
  this.timeout(180_000);
  const dockerfile = fs.readFileSync(path.join(REPO_ROOT, "Dockerfile"), "utf8");
  const instructions = parseDockerfile(dockerfile);
  const argDefaults = new Map(
    instructions.filter((i) => i.op === "ARG").map((i) => i.args.split("=") as [string, string]),
  );
  const all = stages(instructions);
  const final = all.at(-1)!;
  const ig = dockerignore({ ignorecase: false }).add(fs.readFileSync(path.join(REPO_ROOT, ".dockerignore"), "utf8"));
  const context = walk(REPO_ROOT).filter((f) => !ig.ignores(f));

  it("builds from exactly pinned base images", () => {
    for (const s of all) {
      const image = s.from.replace(/^\$\{(\w+)\}$/, (_m, name: string) => argDefaults.get(name) ?? "");
      assert.match(
        image,
        /^[\w./-]+:\d+\.\d+\.\d+[\w.-]*(@sha256:[0-9a-f]{64})?$/,
        `stage ${s.name ?? "final"} uses ${s.from} (${image}): pin an exact version`,
      );
    }
  });

  it("runs as a numeric non-root user, with `warp` as its entrypoint", () => {
    const users = final.body.filter((i) => i.op === "USER");
    assert.ok(users.length > 0, "the final stage sets USER");
    const user = users.at(-1)!.args;
    assert.match(user, /^\d+(:\d+)?$/, "USER is numeric so that Kubernetes' runAsNonRoot can verify it");
    assert.notEqual(Number(user.split(":")[0]), 0);
    assert.equal(final.body.filter((i) => i.op === "ENTRYPOINT").at(-1)?.args, '["warp"]');
    assert.ok(
      final.body.some((i) => i.op === "RUN" && i.args.includes("/usr/local/bin/warp")),
      "warp is on PATH",
    );
  });

  it("keeps the compiler and dev dependencies out of the runtime stage", () => {
    const runs = final.body
      .filter((i) => i.op === "RUN")
      .map((i) => i.args)
      .join("\n");
    assert.doesNotMatch(runs, /npm (ci|install)/, "the final stage installs nothing");
    const deps = all.find((s) =>
      s.body.some((i) => i.op === "RUN" && i.args.includes("npm ci") && i.args.includes("--omit=dev")),
    );
    assert.ok(deps?.name, "a stage installs production dependencies only (npm ci --omit=dev)");
    const copies = final.body.filter((i) => i.op === "COPY").map((i) => i.args);
    assert.ok(
      copies.some((c) => c.startsWith(`--from=${deps.name} `) && c.includes("node_modules")),
      "node_modules come from the production-only stage",
    );
    for (const c of copies)
      assert.ok(c.startsWith("--from=") || /^package\.json\s/.test(c), `runtime stage copies ${c} from the context`);
  });

  it("admits a lean build context: sources only, no tests, secrets, data or build output", () => {
    assert.ok(
      context.includes("package-lock.json") &&
        context.includes("cli/warp.ts") &&
        context.includes("agent/src/agent.ts"),
    );
    const forbidden =
      /(^|\/)(test|tests|e2e|bench|docs|charts|dist|data|\.git|\.env[^/]*|node_modules)(\/|$)|\.pem$|\.key$|kubeconfig/;
    const leaks = context.filter((f) => forbidden.test(f));
    assert.deepEqual(leaks, [], "files that must stay out of the build context");
    assert.ok(
      ig.ignores("node_modules/x/index.js") &&
        ig.ignores(".git/HEAD") &&
        ig.ignores("data/metadata.log") &&
        ig.ignores("common/test/x.test.ts"),
    );
  });

  it("COPYs only sources that exist and that the context admits", () => {
    for (const s of all) {
      for (const c of s.body.filter((i) => i.op === "COPY" && !i.args.startsWith("--from="))) {
        const parts = c.args.split(/\s+/);
        for (const src of parts.slice(0, -1)) {
          const p = src.replace(/\/$/, "");
          assert.ok(fs.existsSync(path.join(REPO_ROOT, p)), `COPY ${src}: no such file`);
          assert.ok(
            context.some((f) => f === p || f.startsWith(`${p}/`)),
            `COPY ${src}: excluded by .dockerignore`,
          );
        }
      }
    }
  });

  it("its build stage, replayed on the admitted context, gives a warp that runs", () => {
    const build = all.find((s) => s.body.some((i) => i.op === "RUN" && i.args.includes("tsc")))!;
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "warp-image-"));
    try {
      for (const c of build.body.filter((i) => i.op === "COPY")) {
        const srcs = c.args
          .split(/\s+/)
          .slice(0, -1)
          .map((s) => s.replace(/\/$/, ""));
        for (const f of context.filter((f) => srcs.some((s) => f === s || f.startsWith(`${s}/`)))) {
          fs.mkdirSync(path.dirname(path.join(dir, f)), { recursive: true });
          fs.copyFileSync(path.join(REPO_ROOT, f), path.join(dir, f));
        }
      }
      // `npm ci` stands in as the repository's installed node_modules.
      fs.symlinkSync(path.join(REPO_ROOT, "node_modules"), path.join(dir, "node_modules"));
      const tsc = build.body.find((i) => i.op === "RUN" && i.args.includes("tsc"))!.args;
      execFileSync("sh", ["-c", tsc], { cwd: dir, stdio: "pipe" });
      const version = execFileSync(path.join(dir, "dist/cli/warp.js"), ["version"], { cwd: dir, encoding: "utf8" });
      assert.match(version, /^warp \d+\.\d+\.\d+/);
      const help = execFileSync(path.join(dir, "dist/cli/warp.js"), ["agent", "--help"], {
        cwd: dir,
        encoding: "utf8",
      });
      assert.match(help, /-bucketURL/);
      assert.ok(!fs.existsSync(path.join(dir, "dist/agent/test")), "tests are not compiled into the image");
      // Compaction's worker thread is started by the path of its module: the compiled copier must find the
      // compiled worker and run it. Only the worker's own code refuses a mem:// store this way.
      const probe = [
        'import { WorkerCopier } from "./dist/agent/src/background/compaction-copier.js";',
        'const mem = { kind: "mem", name: "x" };',
        "const copier = new WorkerCopier({ ingestion: mem, compaction: mem, limits: { readConcurrency: 1, readBytesInFlight: 1 } });",
        "const none = { keys: [], stores: new Uint8Array(0), spans: new Float64Array(0), segments: new Float64Array(0), held: [] };",
        "await copier.read(none).then(() => console.log('no error'), (err) => console.log(err.message));",
        "await copier.close();",
      ].join("\n");
      // From a file: a worker thread inherits the process's flags, and `-e` with `--input-type` fails in one.
      fs.writeFileSync(path.join(dir, "probe.mjs"), probe);
      const started = execFileSync(process.execPath, ["probe.mjs"], { cwd: dir, encoding: "utf8" });
      assert.match(started, /compaction worker failed: mem:\/\/x: only DynamoDB and S3 stores can be opened again/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
