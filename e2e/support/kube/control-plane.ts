/**
 * A real Kubernetes control plane for tests: etcd + kube-apiserver on free loopback ports, as
 * controller-runtime's envtest runs them. No kubelet or scheduler: objects are stored and validated
 * (CRDs, RBAC, admission, server-side apply) but no pod ever runs.
 *
 * With `controllerManager: true`, kube-controller-manager runs too, with only the controllers that
 * need no kubelet (CONTROLLERS): Deployments roll out through ReplicaSets that create Pods,
 * owner references are garbage-collected, PodDisruptionBudgets get a status, deleted namespaces are
 * emptied, and Services get EndpointSlices. Pods stay Pending with no status unless something stands
 * in for the kubelet (pod-runner.ts). Without it, nothing garbage-collects or empties namespaces.
 *
 * Certificates are made with `openssl`: a CA, a serving certificate for 127.0.0.1/localhost, and a
 * client certificate per user (CN = user, O = each group). The admin is `warp-admin` in
 * `system:masters`. Service-account tokens are signed with a generated RSA key.
 *
 *   const cp = await startControlPlane();
 *   const kc = cp.adminConfig();
 *   await applyYaml(kc, crdYaml);
 *   const alice = await cp.userConfig("alice", ["team-a"]);
 *   await cp.stop();
 */
import { spawn, execFile } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { createWriteStream } from "node:fs";
import fs from "node:fs/promises";
import https from "node:https";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { CoreV1Api, KubeConfig, KubernetesObjectApi, PatchStrategy } from "@kubernetes/client-node";
import type { KubernetesObject } from "@kubernetes/client-node";
import { parseAllDocuments, stringify } from "yaml";
import { eventually } from "../eventually.js";
import { ensureKubeBinaries } from "./build.js";

const execFileP = promisify(execFile);

export interface ControlPlane {
  /** https://127.0.0.1:PORT */
  url: string;
  /** Admin kubeconfig file (user warp-admin in system:masters). */
  kubeconfigPath: string;
  /** A fresh @kubernetes/client-node KubeConfig for the admin. */
  adminConfig(): KubeConfig;
  /** A KubeConfig authenticating by client certificate as `user` in `groups` (RBAC decides what it may do). */
  userConfig(user: string, groups?: string[]): Promise<KubeConfig>;
  /** A kubeconfig file for that user (for helm/kubectl or a child process). */
  userKubeconfigPath(user: string, groups?: string[]): Promise<string>;
  /**
   * A kubeconfig file holding a bound token of a ServiceAccount (TokenRequest API, one hour): what
   * the in-cluster token mount gives a pod running as that account. The account must exist.
   */
  serviceAccountKubeconfigPath(namespace: string, serviceAccount: string): Promise<string>;
  /** Kills kube-apiserver and etcd and removes the temp dir (if this call made it). Safe to call twice. */
  stop(): Promise<void>;
}

export interface StartControlPlaneOptions {
  /** Where certs, etcd data, kubeconfigs and logs go. Default: a new temp dir, removed by stop(). */
  dataDir?: string;
  /** How long to wait for the apiserver to become ready. Default 120 s. */
  readyTimeoutMs?: number;
  /** Also run kube-controller-manager with CONTROLLERS. Default false. */
  controllerManager?: boolean;
}

/** The controllers kube-controller-manager runs (`controllerManager: true`): those that need no kubelet. */
export const CONTROLLERS = [
  "deployment",
  "replicaset",
  "garbagecollector",
  "disruption",
  "namespace",
  "endpointslice",
] as const;

/** The controller manager's user: its client certificate is in system:masters (it runs with its own credentials). */
export const CONTROLLER_MANAGER_USER = "system:kube-controller-manager";

export const ADMIN_USER = "warp-admin";

export async function startControlPlane(opts: StartControlPlaneOptions = {}): Promise<ControlPlane> {
  const bins = await ensureKubeBinaries();
  const ownDir = opts.dataDir === undefined;
  const dir = opts.dataDir ?? (await fs.mkdtemp(path.join(os.tmpdir(), "warp-kube-")));
  await fs.mkdir(dir, { recursive: true });
  const certDir = path.join(dir, "certs");
  await fs.mkdir(certDir, { recursive: true });
  const procs: ManagedProcess[] = [];
  let stopped = false;

  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    // apiserver first, then etcd (reverse start order).
    for (const p of [...procs].reverse()) await p.stop();
    if (ownDir) await fs.rm(dir, { recursive: true, force: true });
  };

  try {
    const pki = await makePki(certDir);
    const [etcdClientPort, etcdPeerPort, apiPort] = await freePorts(3);
    const etcdUrl = `http://127.0.0.1:${etcdClientPort}`;
    const etcdPeerUrl = `http://127.0.0.1:${etcdPeerPort}`;
    procs.push(
      startProcess(
        "etcd",
        bins.etcd,
        [
          "--name=default",
          `--data-dir=${path.join(dir, "etcd")}`,
          `--listen-client-urls=${etcdUrl}`,
          `--advertise-client-urls=${etcdUrl}`,
          `--listen-peer-urls=${etcdPeerUrl}`,
          `--initial-advertise-peer-urls=${etcdPeerUrl}`,
          `--initial-cluster=default=${etcdPeerUrl}`,
          "--unsafe-no-fsync=true",
          "--log-level=warn",
        ],
        path.join(dir, "etcd.log"),
      ),
    );

    const url = `https://127.0.0.1:${apiPort}`;
    procs.push(
      startProcess(
        "kube-apiserver",
        bins.kubeApiserver,
        [
          `--etcd-servers=${etcdUrl}`,
          `--cert-dir=${certDir}`,
          `--tls-cert-file=${pki.servingCert}`,
          `--tls-private-key-file=${pki.servingKey}`,
          `--client-ca-file=${pki.caCert}`,
          `--secure-port=${apiPort}`,
          "--bind-address=127.0.0.1",
          "--advertise-address=127.0.0.1",
          "--service-cluster-ip-range=10.0.0.0/24",
          "--allow-privileged=true",
          "--disable-admission-plugins=ServiceAccount",
          "--authorization-mode=RBAC",
          `--service-account-issuer=${url}`,
          `--service-account-key-file=${pki.saPub}`,
          `--service-account-signing-key-file=${pki.saKey}`,
          // No controller-manager runs, so nothing would ever update the kubernetes Endpoints; don't try.
          "--endpoint-reconciler-type=none",
          "--v=1",
        ],
        path.join(dir, "kube-apiserver.log"),
      ),
    );

    const admin = await makeClientCert(certDir, pki, ADMIN_USER, ["system:masters"]);
    const kubeconfigPath = path.join(dir, "admin.kubeconfig");
    const adminText = kubeconfigYaml(url, pki.caCertPem, ADMIN_USER, admin.certPem, admin.keyPem);
    await fs.writeFile(kubeconfigPath, adminText, { mode: 0o600 });
    const adminConfig = (): KubeConfig => {
      const kc = new KubeConfig();
      kc.loadFromString(adminText);
      return kc;
    };

    await waitForReady(url, pki.caCertPem, admin, procs, opts.readyTimeoutMs ?? 120_000);
    const core = adminConfig().makeApiClient(CoreV1Api);
    await eventually(
      async () => {
        await core.readNamespace({ name: "default" });
        return true;
      },
      { timeoutMs: 60_000, what: "namespace default to exist" },
    );
    if (opts.controllerManager) {
      const kcm = await makeClientCert(certDir, pki, CONTROLLER_MANAGER_USER, ["system:masters"]);
      const kcmKubeconfig = path.join(dir, "controller-manager.kubeconfig");
      await fs.writeFile(
        kcmKubeconfig,
        kubeconfigYaml(url, pki.caCertPem, CONTROLLER_MANAGER_USER, kcm.certPem, kcm.keyPem),
        { mode: 0o600 },
      );
      const [kcmPort] = await freePorts(1);
      const kcmCertDir = path.join(dir, "controller-manager-certs");
      await fs.mkdir(kcmCertDir, { recursive: true });
      procs.push(
        startProcess(
          "kube-controller-manager",
          bins.kubeControllerManager,
          [
            `--kubeconfig=${kcmKubeconfig}`,
            `--authentication-kubeconfig=${kcmKubeconfig}`,
            `--authorization-kubeconfig=${kcmKubeconfig}`,
            `--controllers=${CONTROLLERS.join(",")}`,
            "--use-service-account-credentials=false",
            "--leader-elect=false",
            "--bind-address=127.0.0.1",
            `--secure-port=${kcmPort}`,
            `--cert-dir=${kcmCertDir}`,
            "--v=1",
          ],
          path.join(dir, "kube-controller-manager.log"),
        ),
      );
      await waitForHealthy(`https://127.0.0.1:${kcmPort}/healthz`, procs, 60_000);
    }

    const userFiles = new Map<string, Promise<{ file: string; text: string }>>();
    const userKubeconfig = (user: string, groups: string[] = []): Promise<{ file: string; text: string }> => {
      const key = JSON.stringify([user, [...groups].sort()]);
      let p = userFiles.get(key);
      if (!p) {
        p = (async () => {
          const c = await makeClientCert(certDir, pki, user, groups);
          const text = kubeconfigYaml(url, pki.caCertPem, user, c.certPem, c.keyPem);
          const file = path.join(dir, `user-${userFiles.size}-${safeName(user)}.kubeconfig`);
          await fs.writeFile(file, text, { mode: 0o600 });
          return { file, text };
        })();
        userFiles.set(key, p);
      }
      return p;
    };

    return {
      url,
      kubeconfigPath,
      adminConfig,
      async userConfig(user, groups) {
        const { text } = await userKubeconfig(user, groups);
        const kc = new KubeConfig();
        kc.loadFromString(text);
        return kc;
      },
      async userKubeconfigPath(user, groups) {
        return (await userKubeconfig(user, groups)).file;
      },
      async serviceAccountKubeconfigPath(namespace, serviceAccount) {
        const core = adminConfig().makeApiClient(CoreV1Api);
        const tr = await core.createNamespacedServiceAccountToken({
          namespace,
          name: serviceAccount,
          body: {
            apiVersion: "authentication.k8s.io/v1",
            kind: "TokenRequest",
            spec: { audiences: [], expirationSeconds: 3600 },
          },
        });
        const token = tr.status?.token;
        if (!token) throw new Error(`TokenRequest for ${namespace}/${serviceAccount} returned no token`);
        const user = `system:serviceaccount:${namespace}:${serviceAccount}`;
        const text = stringify({
          apiVersion: "v1",
          kind: "Config",
          clusters: [{ name: "warp-test", cluster: { server: url, "certificate-authority-data": b64(pki.caCertPem) } }],
          users: [{ name: user, user: { token } }],
          contexts: [{ name: "warp-test", context: { cluster: "warp-test", user, namespace } }],
          "current-context": "warp-test",
        });
        const file = path.join(dir, `sa-${safeName(namespace)}-${safeName(serviceAccount)}.kubeconfig`);
        await fs.writeFile(file, text, { mode: 0o600 });
        return file;
      },
      stop,
    };
  } catch (err) {
    const logs = await Promise.all(procs.map((p) => p.tail()));
    await stop();
    const detail = logs.filter((l) => l.length > 0).join("\n");
    if (err instanceof Error && detail) err.message += `\n${detail}`;
    throw err;
  }
}

export interface ApplyOptions {
  /** Server-side dry run (dryRun=All): validated and admitted, nothing stored. */
  dryRun?: boolean;
  /** Default "warp-e2e". */
  fieldManager?: string;
  /** Namespace given to documents that name none (only for namespaced kinds, as `kubectl apply -n`). */
  namespace?: string;
}

/**
 * Server-side apply (force) of every document in a multi-document YAML text, in order, through
 * client-node's KubernetesObjectApi. Returns the objects the server answered with.
 */
export async function applyYaml(
  kc: KubeConfig,
  yamlText: string,
  opts: ApplyOptions = {},
): Promise<KubernetesObject[]> {
  const client = KubernetesObjectApi.makeApiClient(kc);
  const out: KubernetesObject[] = [];
  for (const spec of parseYamlObjects(yamlText)) {
    if (opts.namespace !== undefined) spec.metadata = { namespace: opts.namespace, ...spec.metadata };
    const applied = await client.patch(
      spec,
      undefined,
      opts.dryRun ? "All" : undefined,
      opts.fieldManager ?? "warp-e2e",
      true,
      PatchStrategy.ServerSideApply,
    );
    out.push(applied);
  }
  return out;
}

/** Parses multi-document YAML into Kubernetes objects, skipping empty documents; throws on YAML errors. */
export function parseYamlObjects(yamlText: string): KubernetesObject[] {
  const objs: KubernetesObject[] = [];
  for (const doc of parseAllDocuments(yamlText)) {
    if (doc.errors.length > 0) throw new Error(`invalid YAML: ${doc.errors[0]!.message}`);
    const value: unknown = doc.toJS();
    if (value === null || value === undefined) continue;
    if (typeof value !== "object" || Array.isArray(value))
      throw new Error("a YAML document is not a Kubernetes object");
    const obj = value as KubernetesObject;
    if (!obj.apiVersion || !obj.kind) throw new Error("a YAML document has no apiVersion or kind");
    objs.push(obj);
  }
  return objs;
}

// ---------------------------------------------------------------------------------------------

interface Pki {
  caCert: string;
  caKey: string;
  caCertPem: string;
  servingCert: string;
  servingKey: string;
  saKey: string;
  saPub: string;
}

interface ClientCert {
  certPem: string;
  keyPem: string;
}

async function openssl(args: string[], cwd: string): Promise<void> {
  try {
    await execFileP("openssl", args, { cwd });
  } catch (err) {
    const e = err as NodeJS.ErrnoException & { stderr?: string };
    if (e.code === "ENOENT")
      throw new Error("openssl is needed to make the test control plane's certificates: apt-get install openssl", {
        cause: err,
      });
    throw new Error(`openssl ${args.join(" ")} failed: ${e.stderr ?? e.message}`, { cause: err });
  }
}

const EC_KEY = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];

async function makePki(dir: string): Promise<Pki> {
  const p = (f: string): string => path.join(dir, f);
  await openssl(
    [
      "req",
      "-x509",
      ...EC_KEY,
      "-keyout",
      p("ca.key"),
      "-out",
      p("ca.crt"),
      "-days",
      "3650",
      "-subj",
      "/CN=warp-test-ca",
    ],
    dir,
  );
  await fs.writeFile(
    p("serving.ext"),
    [
      "basicConstraints=CA:FALSE",
      "keyUsage=critical,digitalSignature,keyEncipherment",
      "extendedKeyUsage=serverAuth",
      "subjectAltName=IP:127.0.0.1,IP:10.0.0.1,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc",
      "",
    ].join("\n"),
  );
  await openssl(
    ["req", "-new", ...EC_KEY, "-keyout", p("serving.key"), "-out", p("serving.csr"), "-subj", "/CN=kube-apiserver"],
    dir,
  );
  await openssl(
    [
      "x509",
      "-req",
      "-in",
      p("serving.csr"),
      "-CA",
      p("ca.crt"),
      "-CAkey",
      p("ca.key"),
      "-CAcreateserial",
      "-days",
      "3650",
      "-extfile",
      p("serving.ext"),
      "-out",
      p("serving.crt"),
    ],
    dir,
  );
  await openssl(["genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", p("sa.key")], dir);
  await openssl(["pkey", "-in", p("sa.key"), "-pubout", "-out", p("sa.pub")], dir);
  return {
    caCert: p("ca.crt"),
    caKey: p("ca.key"),
    caCertPem: await fs.readFile(p("ca.crt"), "utf8"),
    servingCert: p("serving.crt"),
    servingKey: p("serving.key"),
    saKey: p("sa.key"),
    saPub: p("sa.pub"),
  };
}

let clientSerial = 0;

/** A client certificate: CN = user, one O per group. */
async function makeClientCert(dir: string, pki: Pki, user: string, groups: string[]): Promise<ClientCert> {
  const base = path.join(dir, `client-${++clientSerial}-${safeName(user)}`);
  const subj = `/${groups.map((g) => `O=${escapeSubj(g)}/`).join("")}CN=${escapeSubj(user)}`;
  await fs.writeFile(
    `${base}.ext`,
    "basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=clientAuth\n",
  );
  await openssl(["req", "-new", ...EC_KEY, "-keyout", `${base}.key`, "-out", `${base}.csr`, "-subj", subj], dir);
  await openssl(
    [
      "x509",
      "-req",
      "-in",
      `${base}.csr`,
      "-CA",
      pki.caCert,
      "-CAkey",
      pki.caKey,
      "-CAcreateserial",
      "-days",
      "3650",
      "-extfile",
      `${base}.ext`,
      "-out",
      `${base}.crt`,
    ],
    dir,
  );
  return { certPem: await fs.readFile(`${base}.crt`, "utf8"), keyPem: await fs.readFile(`${base}.key`, "utf8") };
}

function escapeSubj(s: string): string {
  return s.replace(/[\\/,=+]/g, (c) => `\\${c}`);
}

function safeName(s: string): string {
  return s.replace(/[^A-Za-z0-9_.-]/g, "_").slice(0, 40);
}

function b64(s: string): string {
  return Buffer.from(s).toString("base64");
}

function kubeconfigYaml(server: string, caPem: string, user: string, certPem: string, keyPem: string): string {
  return stringify({
    apiVersion: "v1",
    kind: "Config",
    clusters: [{ name: "warp-test", cluster: { server, "certificate-authority-data": b64(caPem) } }],
    users: [{ name: user, user: { "client-certificate-data": b64(certPem), "client-key-data": b64(keyPem) } }],
    contexts: [{ name: "warp-test", context: { cluster: "warp-test", user, namespace: "default" } }],
    "current-context": "warp-test",
  });
}

async function freePorts(n: number): Promise<number[]> {
  const servers: net.Server[] = [];
  try {
    const ports: number[] = [];
    for (let i = 0; i < n; i++) {
      const srv = net.createServer();
      servers.push(srv);
      await new Promise<void>((resolve, reject) => {
        srv.once("error", reject);
        srv.listen(0, "127.0.0.1", () => resolve());
      });
      ports.push((srv.address() as net.AddressInfo).port);
    }
    return ports;
  } finally {
    await Promise.all(servers.map((s) => new Promise<void>((r) => s.close(() => r()))));
  }
}

/** GET url/readyz with the admin's client certificate until it answers 200 "ok"; fails at once if a process dies. */
async function waitForReady(
  url: string,
  caPem: string,
  admin: ClientCert,
  procs: ManagedProcess[],
  timeoutMs: number,
): Promise<void> {
  const agent = new https.Agent({ ca: caPem, cert: admin.certPem, key: admin.keyPem, keepAlive: false });
  const deadline = Date.now() + timeoutMs;
  let last: string;
  try {
    for (;;) {
      for (const p of procs)
        if (p.exited()) throw new Error(`${p.name} exited (${p.exitDescription()}) before the apiserver became ready`);
      try {
        const { status, body } = await httpsGet(`${url}/readyz`, agent);
        if (status === 200 && body.trim() === "ok") return;
        last = `/readyz answered ${status}: ${body.slice(0, 500)}`;
      } catch (err) {
        last = err instanceof Error ? err.message : String(err);
      }
      if (Date.now() >= deadline)
        throw new Error(
          `timed out after ${timeoutMs} ms waiting for kube-apiserver at ${url} to be ready; last: ${last}`,
        );
      await sleep(250);
    }
  } finally {
    agent.destroy();
  }
}

/** GET a component's /healthz (its own self-signed serving certificate) until 200; fails at once if a process dies. */
async function waitForHealthy(url: string, procs: ManagedProcess[], timeoutMs: number): Promise<void> {
  const agent = new https.Agent({ rejectUnauthorized: false, keepAlive: false });
  const deadline = Date.now() + timeoutMs;
  let last: string;
  try {
    for (;;) {
      for (const p of procs) if (p.exited()) throw new Error(`${p.name} exited (${p.exitDescription()})`);
      try {
        const { status, body } = await httpsGet(url, agent);
        if (status === 200) return;
        last = `answered ${status}: ${body.slice(0, 300)}`;
      } catch (err) {
        last = err instanceof Error ? err.message : String(err);
      }
      if (Date.now() >= deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${url}; last: ${last}`);
      await sleep(250);
    }
  } finally {
    agent.destroy();
  }
}

function httpsGet(url: string, agent: https.Agent): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = https.get(url, { agent, timeout: 5000 }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (c: string) => (body += c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
      res.on("error", reject);
    });
    req.on("timeout", () => req.destroy(new Error("request timed out")));
    req.on("error", reject);
  });
}

// ---------------------------------------------------------------------------------------------

interface ManagedProcess {
  name: string;
  exited(): boolean;
  exitDescription(): string;
  /** The last lines of its log, prefixed with its name (empty when the log is empty). */
  tail(): Promise<string>;
  stop(): Promise<void>;
}

/** Children still running when this Node process exits are killed (a crashed test must not leak servers). */
const liveChildren = new Set<ChildProcess>();
let exitHookInstalled = false;
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on("exit", () => {
    for (const c of liveChildren) {
      try {
        c.kill("SIGKILL");
      } catch {
        // already gone
      }
    }
  });
}

function startProcess(name: string, bin: string, args: string[], logFile: string): ManagedProcess {
  installExitHook();
  const log = createWriteStream(logFile, { flags: "a" });
  const child = spawn(bin, args, { stdio: ["ignore", "pipe", "pipe"] });
  liveChildren.add(child);
  child.stdout.pipe(log, { end: false });
  child.stderr.pipe(log, { end: false });
  let exitInfo: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  let spawnError: Error | undefined;
  const exitedP = new Promise<void>((resolve) => {
    child.on("error", (err) => {
      spawnError = err;
      exitInfo ??= { code: null, signal: null };
      liveChildren.delete(child);
      resolve();
    });
    child.on("exit", (code, signal) => {
      exitInfo = { code, signal };
      liveChildren.delete(child);
      resolve();
    });
  });
  return {
    name,
    exited: () => exitInfo !== undefined,
    exitDescription: () =>
      spawnError
        ? spawnError.message
        : exitInfo?.signal
          ? `signal ${exitInfo.signal}`
          : `exit code ${exitInfo?.code ?? "?"}`,
    async tail() {
      const text = await fs.readFile(logFile, "utf8").catch(() => "");
      const lines = text.trimEnd().split("\n").slice(-30).join("\n");
      return lines ? `--- ${name} (${logFile}) ---\n${lines}` : "";
    },
    async stop() {
      if (exitInfo === undefined) {
        child.kill("SIGTERM");
        const killTimer = setTimeout(() => child.kill("SIGKILL"), 10_000);
        await exitedP;
        clearTimeout(killTimer);
      }
      await new Promise<void>((r) => log.end(r));
    },
  };
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
