/**
 * Builds the Kubernetes test binaries (kube-apiserver, kube-controller-manager, etcd, helm, kubectl) from the Go
 * module proxy into `~/.cache/warp/kube-<version>/bin/` (or `$WARP_CACHE_DIR/kube-<version>/bin/`).
 *
 * - Idempotent: a binary whose `<bin>.recipe` matches is never rebuilt. Each binary is written to a temp name and
 *   renamed into place, so a failed or killed build leaves no half-written binary.
 * - A directory lock (`.lock/` holding the owner's pid) stops two processes building at once; a lock
 *   whose owner is dead is taken over.
 * - Everything the go command prints goes to `<cache>/build.log`; progress lines go to stderr.
 *
 * kube-apiserver and kube-controller-manager: a throwaway go.mod requiring k8s.io/kubernetes with a
 * `replace` line for every staging module (read from k8s.io/kubernetes' own go.mod, where they point at ./staging/...),
 * pinned to the matching v0.X.Y. etcd: a throwaway go.mod requiring go.etcd.io/etcd/server/v3,
 * whose module root is the etcd main package. helm: `go install helm.sh/helm/v3/cmd/helm@vX`.
 *
 * Run by hand: `npx tsx e2e/support/kube/build.ts` (WARP_BUILD_KUBECTL=0 skips kubectl).
 */
import { spawn } from "node:child_process";
import { createWriteStream, existsSync } from "node:fs";
import type { WriteStream } from "node:fs";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { goCommand } from "../go-command.js";

export const KUBERNETES_VERSION = "v1.35.4";
/** etcd 3.6.x is what Kubernetes 1.35 is tested with (its go.mod requires etcd client v3.6.5). */
export const ETCD_VERSION = "v3.6.16";
export const HELM_VERSION = "v3.22.0";

export interface KubeBinaries {
  kubeApiserver: string;
  /** Built after the apiserver from the same module (about a minute more once the apiserver's packages are built). */
  kubeControllerManager: string;
  etcd: string;
  helm: string;
  /** Built unless WARP_BUILD_KUBECTL=0 (it shares the apiserver's packages: ~30 s more after it). */
  kubectl?: string;
}

export function warpCacheRoot(): string {
  return process.env.WARP_CACHE_DIR ?? path.join(os.homedir(), ".cache", "warp");
}

/** `~/.cache/warp/kube-1.35.4` */
export function kubeCacheDir(): string {
  return path.join(warpCacheRoot(), `kube-${KUBERNETES_VERSION.replace(/^v/, "")}`);
}

/**
 * What each binary is built from. Written beside the binary (`<bin>.recipe`) once it is in place; a
 * binary whose recipe differs (a version bump, new link flags) is rebuilt.
 */
const RECIPES = {
  kubeApiserver: `kube-apiserver k8s.io/kubernetes@${KUBERNETES_VERSION} r2`,
  kubeControllerManager: `kube-controller-manager k8s.io/kubernetes@${KUBERNETES_VERSION} r1`,
  kubectl: `kubectl k8s.io/kubernetes@${KUBERNETES_VERSION} r2`,
  etcd: `etcd go.etcd.io/etcd/server/v3@${ETCD_VERSION} r1`,
  helm: `helm helm.sh/helm/v3@${HELM_VERSION} r2`,
} as const;

async function isBuilt(bin: string, recipe: string): Promise<boolean> {
  if (!existsSync(bin)) return false;
  return (await fs.readFile(`${bin}.recipe`, "utf8").catch(() => "")) === recipe;
}

function binPaths(dir: string): Required<KubeBinaries> {
  const bin = path.join(dir, "bin");
  return {
    kubeApiserver: path.join(bin, "kube-apiserver"),
    kubeControllerManager: path.join(bin, "kube-controller-manager"),
    etcd: path.join(bin, "etcd"),
    helm: path.join(bin, "helm"),
    kubectl: path.join(bin, "kubectl"),
  };
}

function progress(msg: string): void {
  process.stderr.write(`[kube-build ${new Date().toISOString()}] ${msg}\n`);
}

/** Ensures the binaries exist, building what is missing. Returns absolute paths. */
export async function ensureKubeBinaries(): Promise<KubeBinaries> {
  const dir = kubeCacheDir();
  const bins = binPaths(dir);
  const wantKubectl = process.env.WARP_BUILD_KUBECTL !== "0";
  const done = async (): Promise<boolean> =>
    (await isBuilt(bins.kubeApiserver, RECIPES.kubeApiserver)) &&
    (await isBuilt(bins.kubeControllerManager, RECIPES.kubeControllerManager)) &&
    (await isBuilt(bins.etcd, RECIPES.etcd)) &&
    (await isBuilt(bins.helm, RECIPES.helm)) &&
    (!wantKubectl || (await isBuilt(bins.kubectl, RECIPES.kubectl)));
  if (!(await done())) {
    await fs.mkdir(path.join(dir, "bin"), { recursive: true });
    const release = await acquireLock(path.join(dir, ".lock"));
    try {
      if (!(await done())) await buildAll(dir, bins, wantKubectl);
    } finally {
      await release();
    }
  }
  const out: KubeBinaries = {
    kubeApiserver: bins.kubeApiserver,
    kubeControllerManager: bins.kubeControllerManager,
    etcd: bins.etcd,
    helm: bins.helm,
  };
  if (await isBuilt(bins.kubectl, RECIPES.kubectl)) out.kubectl = bins.kubectl;
  return out;
}

async function buildAll(dir: string, bins: Required<KubeBinaries>, wantKubectl: boolean): Promise<void> {
  await checkGo();
  const logPath = path.join(dir, "build.log");
  const log = createWriteStream(logPath, { flags: "a" });
  progress(`building into ${dir} (log: ${logPath}); this takes many minutes on a cold cache`);
  try {
    const steps: Array<[string, string, string, () => Promise<void>]> = [
      ["etcd", bins.etcd, RECIPES.etcd, () => buildEtcd(dir, bins.etcd, log)],
      ["helm", bins.helm, RECIPES.helm, () => buildHelm(dir, bins.helm, log)],
      [
        "kube-apiserver",
        bins.kubeApiserver,
        RECIPES.kubeApiserver,
        () => buildKubernetesCmd(dir, "kube-apiserver", bins.kubeApiserver, log),
      ],
      [
        "kube-controller-manager",
        bins.kubeControllerManager,
        RECIPES.kubeControllerManager,
        () => buildKubernetesCmd(dir, "kube-controller-manager", bins.kubeControllerManager, log),
      ],
    ];
    if (wantKubectl)
      steps.push([
        "kubectl",
        bins.kubectl,
        RECIPES.kubectl,
        () => buildKubernetesCmd(dir, "kubectl", bins.kubectl, log),
      ]);
    for (const [name, target, recipe, build] of steps) {
      if (await isBuilt(target, recipe)) continue;
      const t0 = Date.now();
      progress(`building ${name} ...`);
      log.write(`\n==== ${new Date().toISOString()} building ${name}\n`);
      await fs.rm(`${target}.recipe`, { force: true });
      await build();
      await fs.writeFile(`${target}.recipe`, recipe);
      const secs = Math.round((Date.now() - t0) / 1000);
      progress(`built ${name} in ${secs}s`);
      log.write(`==== built ${name} in ${secs}s\n`);
    }
  } catch (err) {
    progress(`build failed; see ${logPath}`);
    throw err;
  } finally {
    await new Promise<void>((resolve) => log.end(resolve));
  }
}

async function checkGo(): Promise<void> {
  try {
    await run(goCommand(), ["version"], { cwd: os.tmpdir(), env: goEnv() });
  } catch {
    throw new Error(
      "The Go toolchain (go >= 1.25) is needed to build kube-apiserver/etcd/helm for the Kubernetes tests: install Go and put `go` on PATH",
    );
  }
}

function goEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return { ...process.env, CGO_ENABLED: "0", GOFLAGS: "-mod=mod", ...extra };
}

/** Builds `k8s.io/kubernetes/cmd/<cmd>` in a throwaway module with every staging module replaced. */
async function buildKubernetesCmd(dir: string, cmd: string, target: string, log: WriteStream): Promise<void> {
  const work = path.join(dir, "build", "kubernetes");
  await fs.mkdir(work, { recursive: true });
  const stagingVersion = KUBERNETES_VERSION.replace(/^v1\./, "v0.");
  const staging = await kubernetesStagingModules(work, log);
  const goMod = [
    "module warp.local/kubebuild",
    "",
    "go 1.25.0",
    "",
    `require k8s.io/kubernetes ${KUBERNETES_VERSION}`,
    "",
    "replace (",
    ...staging.map((m) => `\t${m} => ${m} ${stagingVersion}`),
    ")",
    "",
  ].join("\n");
  await writeIfChanged(path.join(work, "go.mod"), goMod);
  // As hack/lib/version.sh does; unstamped, /version says v0.0.0-master and helm's kubeVersion checks fail.
  const [, major, minor] = /^v(\d+)\.(\d+)\./.exec(KUBERNETES_VERSION)!;
  const stamp = ["k8s.io/component-base/version", "k8s.io/client-go/pkg/version"].flatMap((pkg) => [
    `-X ${pkg}.gitVersion=${KUBERNETES_VERSION}`,
    `-X ${pkg}.gitMajor=${major}`,
    `-X ${pkg}.gitMinor=${minor}`,
    `-X ${pkg}.gitTreeState=clean`,
  ]);
  await goBuild(work, `k8s.io/kubernetes/cmd/${cmd}`, target, log, stamp);
}

/** The staging modules, read from k8s.io/kubernetes' go.mod (lines `k8s.io/x => ./staging/src/k8s.io/x`). */
async function kubernetesStagingModules(work: string, log: WriteStream): Promise<string[]> {
  const out = await run(goCommand(), ["mod", "download", "-json", `k8s.io/kubernetes@${KUBERNETES_VERSION}`], {
    cwd: work,
    env: goEnv({ GOFLAGS: "" }),
    log,
  });
  const info = JSON.parse(out) as { GoMod?: string; Error?: string };
  if (!info.GoMod)
    throw new Error(`go mod download k8s.io/kubernetes@${KUBERNETES_VERSION}: ${info.Error ?? "no go.mod"}`);
  const text = await fs.readFile(info.GoMod, "utf8");
  const mods = [...text.matchAll(/^\s*(k8s\.io\/[\w.-]+)\s+=>\s+\.\/staging\//gm)].map((m) => m[1]!);
  if (mods.length < 10)
    throw new Error(`found only ${mods.length} staging modules in k8s.io/kubernetes@${KUBERNETES_VERSION} go.mod`);
  return mods;
}

async function buildEtcd(dir: string, target: string, log: WriteStream): Promise<void> {
  const work = path.join(dir, "build", "etcd");
  await fs.mkdir(work, { recursive: true });
  const goMod = [
    "module warp.local/etcdbuild",
    "",
    "go 1.25.0",
    "",
    `require go.etcd.io/etcd/server/v3 ${ETCD_VERSION}`,
    "",
  ].join("\n");
  await writeIfChanged(path.join(work, "go.mod"), goMod);
  await goBuild(work, "go.etcd.io/etcd/server/v3", target, log);
}

async function buildHelm(dir: string, target: string, log: WriteStream): Promise<void> {
  const gobin = path.join(dir, "build", `helm-bin.${process.pid}`);
  await fs.rm(gobin, { recursive: true, force: true });
  await fs.mkdir(gobin, { recursive: true });
  try {
    // As helm's Makefile does: stamp the version, and the Kubernetes version that `helm template`
    // and `helm lint` assume by default (client-go v0.X => 1.X; unstamped it would be 1.20).
    const k8sMinor = await helmClientGoMinor(gobin, log);
    const ldflags = [
      "-s -w",
      `-X helm.sh/helm/v3/internal/version.version=${HELM_VERSION}`,
      "-X helm.sh/helm/v3/pkg/chartutil.k8sVersionMajor=1",
      `-X helm.sh/helm/v3/pkg/chartutil.k8sVersionMinor=${k8sMinor}`,
      "-X helm.sh/helm/v3/pkg/lint/rules.k8sVersionMajor=1",
      `-X helm.sh/helm/v3/pkg/lint/rules.k8sVersionMinor=${k8sMinor}`,
    ].join(" ");
    // `go install pkg@version` runs outside any module and refuses -mod=mod, so GOFLAGS is cleared.
    await run(
      goCommand(),
      ["install", "-trimpath", `-ldflags=${ldflags}`, `helm.sh/helm/v3/cmd/helm@${HELM_VERSION}`],
      {
        cwd: gobin,
        env: goEnv({ GOFLAGS: "", GOBIN: gobin }),
        log,
      },
    );
    await fs.chmod(path.join(gobin, "helm"), 0o755);
    await fs.rename(path.join(gobin, "helm"), target);
  } finally {
    await fs.rm(gobin, { recursive: true, force: true });
  }
}

/** The minor version of k8s.io/client-go that helm's go.mod requires (v0.37.0 => "37"). */
async function helmClientGoMinor(cwd: string, log: WriteStream): Promise<string> {
  const out = await run(goCommand(), ["mod", "download", "-json", `helm.sh/helm/v3@${HELM_VERSION}`], {
    cwd,
    env: goEnv({ GOFLAGS: "" }),
    log,
  });
  const info = JSON.parse(out) as { GoMod?: string; Error?: string };
  if (!info.GoMod) throw new Error(`go mod download helm.sh/helm/v3@${HELM_VERSION}: ${info.Error ?? "no go.mod"}`);
  const m = /^\s*k8s\.io\/client-go\s+v0\.(\d+)\./m.exec(await fs.readFile(info.GoMod, "utf8"));
  if (!m) throw new Error(`helm ${HELM_VERSION}'s go.mod names no k8s.io/client-go version`);
  return m[1]!;
}

async function goBuild(
  work: string,
  pkg: string,
  target: string,
  log: WriteStream,
  ldflags: string[] = [],
): Promise<void> {
  const tmp = `${target}.tmp-${process.pid}`;
  try {
    await run(goCommand(), ["build", "-trimpath", `-ldflags=${["-s -w", ...ldflags].join(" ")}`, "-o", tmp, pkg], {
      cwd: work,
      env: goEnv(),
      log,
    });
    await fs.rename(tmp, target);
  } finally {
    await fs.rm(tmp, { force: true });
  }
}

async function writeIfChanged(file: string, text: string): Promise<void> {
  const old = await fs.readFile(file, "utf8").catch(() => undefined);
  if (old !== text) await fs.writeFile(file, text);
}

/** Runs a command; its stdout is returned, its stdout+stderr copied to the log. Rejects on non-zero exit. */
function run(
  cmd: string,
  args: string[],
  opts: { cwd: string; env: NodeJS.ProcessEnv; log?: WriteStream },
): Promise<string> {
  return new Promise((resolve, reject) => {
    opts.log?.write(`$ (cd ${opts.cwd} && ${cmd} ${args.join(" ")})\n`);
    const child = spawn(cmd, args, { cwd: opts.cwd, env: opts.env, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderrTail = "";
    child.stdout.on("data", (b: Buffer) => {
      stdout += b.toString();
      opts.log?.write(b);
    });
    child.stderr.on("data", (b: Buffer) => {
      stderrTail = (stderrTail + b.toString()).slice(-4000);
      opts.log?.write(b);
    });
    child.on("error", reject);
    child.on("close", (code, signal) => {
      if (code === 0) resolve(stdout);
      else reject(new Error(`${cmd} ${args.join(" ")} failed (${signal ?? `exit ${code}`}):\n${stderrTail}`));
    });
  });
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** A directory lock: mkdir is atomic. The owner's pid is kept inside so a dead owner's lock is taken over. */
async function acquireLock(lockDir: string): Promise<() => Promise<void>> {
  const pidFile = path.join(lockDir, "pid");
  let waitingSaid = false;
  for (;;) {
    try {
      await fs.mkdir(lockDir);
      await fs.writeFile(pidFile, String(process.pid));
      return async () => {
        await fs.rm(lockDir, { recursive: true, force: true });
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
    }
    const owner = Number.parseInt((await fs.readFile(pidFile, "utf8").catch(() => "")).trim(), 10);
    if (Number.isFinite(owner) && owner > 0 && !pidAlive(owner)) {
      progress(`taking over a stale build lock of dead process ${owner}`);
      await fs.rm(lockDir, { recursive: true, force: true });
      continue;
    }
    if (!Number.isFinite(owner)) {
      // The owner is between mkdir and writing its pid, or died there: give it a moment, then check age.
      const st = await fs.stat(lockDir).catch(() => undefined);
      if (st && Date.now() - st.mtimeMs > 60_000) {
        await fs.rm(lockDir, { recursive: true, force: true });
        continue;
      }
    }
    if (!waitingSaid) {
      progress(`another process (${Number.isFinite(owner) ? owner : "?"}) is building; waiting for ${lockDir}`);
      waitingSaid = true;
    }
    await new Promise((r) => setTimeout(r, 2000));
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const t0 = Date.now();
  ensureKubeBinaries().then(
    (b) => {
      progress(`ready after ${Math.round((Date.now() - t0) / 1000)}s`);
      process.stdout.write(`${JSON.stringify(b, null, 2)}\n`);
    },
    (err: unknown) => {
      process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
      process.exitCode = 1;
    },
  );
}
