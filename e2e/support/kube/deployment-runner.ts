/**
 * A stand-in for the kubelet and the deployment controller, for a control plane that has neither
 * (e2e/support/kube/control-plane.ts): it runs, as local processes, the pods that Deployments in a
 * namespace describe, and reports their readiness back in each Deployment's status.
 *
 * What it honours of the pod template (the first container only):
 *   - `command` + `args`: the command's first word is looked up in `commands` (an image entrypoint
 *     such as `warp` → the repository's CLI run through tsx); anything else is an error.
 *   - `env` (value, fieldRef metadata.name / metadata.namespace / status.podIP / spec.nodeName /
 *     spec.serviceAccountName, secretKeyRef, configMapKeyRef) and `envFrom` (secretRef, configMapRef),
 *     read from the apiserver as the kubelet would.
 *   - ports: every declared `containerPort` gets a free loopback port; an argument equal to the
 *     port number, or ending in `=<port>`, is rewritten to it (all pods share one host here).
 *   - `readinessProbe.httpGet` (path, port by name or number): polled; ready replicas are reported.
 *   - volumes: `secret`, `configMap` (with `items`) and `emptyDir` become directories under a temp
 *     dir; an argument or variable that starts with a container mountPath is rewritten to it.
 *   - the pod's service account: unless automounting is off, the pod gets `KUBECONFIG` pointing at a
 *     kubeconfig holding a token for that account (what the in-cluster token mount gives a real pod).
 *   - `restartPolicy: Always`: a process that exits is started again.
 * A changed pod template replaces every pod of the Deployment (a recreate, not a rolling update),
 * and a deleted Deployment stops its pods (what garbage collection of its ReplicaSets would do).
 */
import { createHash } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import type { V1Container, V1Deployment, V1EnvVar, V1PodSpec, V1Volume } from "@kubernetes/client-node";
import type { KubeClient } from "../../../operator/src/kube/client.js";
import { errorMessage } from "../../../common/logger.js";
import { freePort } from "../ports.js";
import { spawnServer } from "../processes.js";
import type { ServerProcess } from "../processes.js";

export interface DeploymentRunnerOptions {
  /** Admin client: lists Deployments, reads Secrets/ConfigMaps, writes Deployment status. */
  readonly admin: KubeClient;
  readonly namespace: string;
  /** Label selector of the Deployments to run; all in the namespace when omitted. */
  readonly labelSelector?: string;
  /** Image entrypoints: the container command's first word → the host argv that replaces it. */
  readonly commands: Readonly<Record<string, readonly string[]>>;
  readonly cwd: string;
  /** Variables every pod gets first (e.g. the AWS credentials IRSA would give), overridden by the template's. */
  readonly baseEnv?: Readonly<Record<string, string>>;
  /** A kubeconfig file path for a service account (namespace, name): the pod's in-cluster identity. */
  readonly serviceAccountKubeconfig?: (namespace: string, serviceAccount: string) => Promise<string>;
  /** Period of the sync loop (default 500 ms). */
  readonly pollMs?: number;
  readonly onError?: (message: string) => void;
}

export interface RunningPod {
  readonly name: string;
  readonly deployment: string;
  /** containerPort → the loopback port this pod really listens on. */
  readonly ports: ReadonlyMap<number, number>;
  /** Port by its container port name ("kafka", "http"). */
  readonly namedPorts: ReadonlyMap<string, number>;
  readonly args: readonly string[];
  readonly env: Readonly<Record<string, string>>;
  /** Host directory standing in for each container mountPath. */
  readonly mounts: ReadonlyMap<string, string>;
  process: ServerProcess;
  ready: boolean;
  restarts: number;
}

interface DeploymentPods {
  templateHash: string;
  pods: RunningPod[];
  lastStatus: string;
}

const POD_IP = "127.0.0.1";

function templateHash(d: V1Deployment): string {
  return createHash("sha256")
    .update(JSON.stringify(d.spec?.template ?? {}))
    .digest("hex")
    .slice(0, 10);
}

function randomSuffix(): string {
  return Math.random().toString(36).slice(2, 7);
}

export class DeploymentRunner {
  private readonly running = new Map<string, DeploymentPods>();
  private timer: NodeJS.Timeout | undefined;
  private syncing: Promise<void> = Promise.resolve();
  private stopped = false;
  /** Errors met while syncing (also passed to onError); a test can assert there were none. */
  readonly errors: string[] = [];

  constructor(private readonly o: DeploymentRunnerOptions) {}

  start(): void {
    const tick = (): void => {
      if (this.stopped) return;
      this.syncing = this.sync()
        .catch((err: unknown) => this.report(`sync: ${errorMessage(err)}`))
        .finally(() => {
          if (!this.stopped) this.timer = setTimeout(tick, this.o.pollMs ?? 500);
        });
    };
    tick();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.syncing;
    const all = [...this.running.values()].flatMap((d) => d.pods);
    this.running.clear();
    await Promise.all(all.map((p) => this.stopPod(p)));
  }

  private async stopPod(pod: RunningPod): Promise<void> {
    await pod.process.stop();
    for (const dir of new Set([...pod.mounts.values()].map((d) => path.dirname(d))))
      fs.rmSync(dir, { recursive: true, force: true });
  }

  /** The pods currently run for a Deployment (empty when none). */
  pods(deployment: string): RunningPod[] {
    return [...(this.running.get(deployment)?.pods ?? [])];
  }

  allPods(): RunningPod[] {
    return [...this.running.values()].flatMap((d) => d.pods);
  }

  private report(message: string): void {
    this.errors.push(message);
    this.o.onError?.(message);
  }

  private async sync(): Promise<void> {
    const list = await this.o.admin.list<V1Deployment>(
      { apiVersion: "apps/v1", plural: "deployments", namespace: this.o.namespace },
      this.o.labelSelector ? { labelSelector: this.o.labelSelector } : undefined,
    );
    const seen = new Set<string>();
    for (const d of list.items) {
      const name = d.metadata?.name;
      if (!name || d.metadata?.deletionTimestamp) continue;
      seen.add(name);
      try {
        await this.syncDeployment(d);
      } catch (err) {
        this.report(`deployment ${name}: ${errorMessage(err)}`);
      }
    }
    for (const [name, entry] of this.running) {
      if (seen.has(name)) continue;
      this.running.delete(name);
      await Promise.all(entry.pods.map((p) => this.stopPod(p)));
    }
  }

  private async syncDeployment(d: V1Deployment): Promise<void> {
    const name = d.metadata!.name!;
    const hash = templateHash(d);
    let entry = this.running.get(name);
    if (entry && entry.templateHash !== hash) {
      await Promise.all(entry.pods.map((p) => this.stopPod(p)));
      entry = undefined;
    }
    if (!entry) {
      entry = { templateHash: hash, pods: [], lastStatus: "" };
      this.running.set(name, entry);
    }
    const want = d.spec?.replicas ?? 1;
    while (entry.pods.length > want) await this.stopPod(entry.pods.pop()!);
    while (entry.pods.length < want)
      entry.pods.push(await this.startPod(d, `${name}-${hash.slice(0, 6)}-${randomSuffix()}`));

    const container = d.spec!.template.spec!.containers[0]!;
    for (const pod of entry.pods) {
      if (!pod.process.running()) {
        // restartPolicy Always (no crash-loop backoff here beyond the poll period).
        pod.restarts++;
        pod.ready = false;
        pod.process = await this.spawn(pod.name, pod.args, pod.env);
      }
      pod.ready = await this.probe(container, pod);
    }
    const ready = entry.pods.filter((p) => p.ready).length;
    const status = {
      observedGeneration: d.metadata!.generation,
      replicas: entry.pods.length,
      updatedReplicas: entry.pods.length,
      readyReplicas: ready,
      availableReplicas: ready,
      unavailableReplicas: entry.pods.length - ready,
    };
    const key = JSON.stringify(status);
    if (key === entry.lastStatus) return;
    await this.o.admin.patch(
      { apiVersion: "apps/v1", plural: "deployments", namespace: this.o.namespace, name, subresource: "status" },
      "merge",
      { status },
      "warp-e2e-deployment-runner",
    );
    entry.lastStatus = key;
  }

  private async probe(container: V1Container, pod: RunningPod): Promise<boolean> {
    const get = container.readinessProbe?.httpGet;
    if (!get) return pod.process.running();
    const port =
      typeof get.port === "number"
        ? pod.ports.get(get.port)
        : /^\d+$/.test(String(get.port))
          ? pod.ports.get(Number(get.port))
          : pod.namedPorts.get(String(get.port));
    if (port === undefined) throw new Error(`readinessProbe port ${String(get.port)} is not a declared container port`);
    try {
      const res = await fetch(`http://${POD_IP}:${port}${get.path ?? "/"}`, { signal: AbortSignal.timeout(2_000) });
      await res.body?.cancel();
      return res.status >= 200 && res.status < 400;
    } catch {
      return false;
    }
  }

  private async startPod(d: V1Deployment, podName: string): Promise<RunningPod> {
    const podSpec = d.spec!.template.spec!;
    const container = podSpec.containers[0]!;
    const ports = new Map<number, number>();
    const namedPorts = new Map<string, number>();
    for (const p of container.ports ?? []) {
      const host = await freePort();
      ports.set(p.containerPort, host);
      if (p.name) namedPorts.set(p.name, host);
    }
    const [entrypoint, ...commandRest] = container.command ?? [];
    if (entrypoint === undefined)
      throw new Error(`container ${container.name} has no command (the runner does not know image entrypoints)`);
    const hostCommand = this.o.commands[entrypoint];
    if (!hostCommand)
      throw new Error(`container ${container.name}: no host command for entrypoint ${JSON.stringify(entrypoint)}`);
    const mounts = await this.materialiseVolumes(podSpec, container, podName);
    const args = [
      ...hostCommand,
      ...commandRest,
      ...(container.args ?? []).map((a) => rewriteMounts(rewritePorts(a, ports), mounts)),
    ];
    // Only what the template says is a container path; the runner's own values (KUBECONFIG) are host paths.
    const { injected, fromTemplate } = await this.resolveEnv(podSpec, container, podName);
    const env = {
      ...injected,
      ...Object.fromEntries(Object.entries(fromTemplate).map(([k, v]) => [k, rewriteMounts(v, mounts)])),
    };
    return {
      name: podName,
      deployment: d.metadata!.name!,
      ports,
      namedPorts,
      args,
      env,
      mounts,
      process: await this.spawn(podName, args, env),
      ready: false,
      restarts: 0,
    };
  }

  /** Directories standing in for the container's volume mounts, filled from Secrets/ConfigMaps. */
  private async materialiseVolumes(
    podSpec: V1PodSpec,
    container: V1Container,
    podName: string,
  ): Promise<Map<string, string>> {
    const mounts = new Map<string, string>();
    if (!container.volumeMounts?.length) return mounts;
    const root = fs.mkdtempSync(path.join(os.tmpdir(), `warp-pod-${podName.slice(0, 40)}-`));
    for (const m of container.volumeMounts) {
      const volume = podSpec.volumes?.find((v) => v.name === m.name);
      if (!volume) throw new Error(`volumeMount ${m.name}: no such volume`);
      const dir = path.join(root, m.name);
      fs.mkdirSync(dir, { recursive: true });
      for (const [file, content] of Object.entries(await this.volumeFiles(volume))) {
        fs.mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
        fs.writeFileSync(path.join(dir, file), content, { mode: 0o600 });
      }
      mounts.set(m.mountPath, dir);
    }
    return mounts;
  }

  private async volumeFiles(v: V1Volume): Promise<Record<string, string>> {
    if (v.emptyDir) return {};
    const source = v.secret
      ? {
          data: await this.readData("secrets", v.secret.secretName!, v.secret.optional === true, true),
          items: v.secret.items,
        }
      : v.configMap
        ? {
            data: await this.readData("configmaps", v.configMap.name!, v.configMap.optional === true, false),
            items: v.configMap.items,
          }
        : undefined;
    if (!source)
      throw new Error(`volume ${v.name}: only secret, configMap and emptyDir volumes are supported by the runner`);
    if (!source.items) return source.data;
    const out: Record<string, string> = {};
    for (const item of source.items) {
      const value = source.data[item.key];
      if (value === undefined) throw new Error(`volume ${v.name}: key ${item.key} not found`);
      out[item.path] = value;
    }
    return out;
  }

  private spawn(name: string, args: readonly string[], env: Readonly<Record<string, string>>): Promise<ServerProcess> {
    const [cmd, ...rest] = args;
    // Readiness is the probe's business, polled by sync(); the process only has to start.
    return spawnServer({
      name,
      cmd: cmd!,
      args: rest,
      env,
      cwd: this.o.cwd,
      ready: async () => true,
      stopGraceMs: 10_000,
    });
  }

  private async resolveEnv(
    podSpec: V1PodSpec,
    container: V1Container,
    podName: string,
  ): Promise<{ injected: Record<string, string>; fromTemplate: Record<string, string> }> {
    const ns = this.o.namespace;
    const sa = podSpec.serviceAccountName ?? "default";
    const injected: Record<string, string> = { ...this.o.baseEnv };
    if (podSpec.automountServiceAccountToken !== false && this.o.serviceAccountKubeconfig)
      injected.KUBECONFIG = await this.o.serviceAccountKubeconfig(ns, sa);
    const env: Record<string, string> = {};
    for (const from of container.envFrom ?? []) {
      const prefix = from.prefix ?? "";
      if (from.secretRef) {
        const data = await this.readData("secrets", from.secretRef.name!, from.secretRef.optional === true, true);
        for (const [k, v] of Object.entries(data)) env[prefix + k] = v;
      } else if (from.configMapRef) {
        const data = await this.readData(
          "configmaps",
          from.configMapRef.name!,
          from.configMapRef.optional === true,
          false,
        );
        for (const [k, v] of Object.entries(data)) env[prefix + k] = v;
      }
    }
    for (const e of container.env ?? []) {
      const v = await this.envValue(e, podName, sa);
      if (v !== undefined) env[e.name] = v;
    }
    return { injected, fromTemplate: env };
  }

  private async envValue(e: V1EnvVar, podName: string, serviceAccount: string): Promise<string | undefined> {
    if (e.value !== undefined) return e.value;
    const from = e.valueFrom;
    if (!from) return "";
    if (from.fieldRef) {
      const fields: Record<string, string> = {
        "metadata.name": podName,
        "metadata.namespace": this.o.namespace,
        "status.podIP": POD_IP,
        "status.hostIP": POD_IP,
        "spec.nodeName": "local-node",
        "spec.serviceAccountName": serviceAccount,
      };
      const v = fields[from.fieldRef.fieldPath];
      if (v === undefined)
        throw new Error(`env ${e.name}: fieldRef ${from.fieldRef.fieldPath} is not supported by the runner`);
      return v;
    }
    if (from.secretKeyRef) {
      const data = await this.readData("secrets", from.secretKeyRef.name!, from.secretKeyRef.optional === true, true);
      return data[from.secretKeyRef.key];
    }
    if (from.configMapKeyRef) {
      const data = await this.readData(
        "configmaps",
        from.configMapKeyRef.name!,
        from.configMapKeyRef.optional === true,
        false,
      );
      return data[from.configMapKeyRef.key];
    }
    throw new Error(`env ${e.name}: valueFrom ${Object.keys(from).join(",")} is not supported by the runner`);
  }

  private async readData(
    plural: "secrets" | "configmaps",
    name: string,
    optional: boolean,
    base64: boolean,
  ): Promise<Record<string, string>> {
    try {
      const obj = await this.o.admin.get<{ data?: Record<string, string> }>({
        apiVersion: "v1",
        plural,
        namespace: this.o.namespace,
        name,
      });
      const data = obj.data ?? {};
      return base64
        ? Object.fromEntries(Object.entries(data).map(([k, v]) => [k, Buffer.from(v, "base64").toString("utf8")]))
        : data;
    } catch (err) {
      if (optional) return {};
      throw new Error(`${plural}/${name}: ${errorMessage(err)}`, { cause: err });
    }
  }
}

/** `9092` → the mapped port; `-metricsPort=8081` → `-metricsPort=<mapped>`; anything else unchanged. */
export function rewritePorts(arg: string, ports: ReadonlyMap<number, number>): string {
  const whole = /^\d+$/.test(arg) ? ports.get(Number(arg)) : undefined;
  if (whole !== undefined) return String(whole);
  const m = /^(.*=)(\d+)$/.exec(arg);
  const mapped = m ? ports.get(Number(m[2])) : undefined;
  return m && mapped !== undefined ? `${m[1]}${mapped}` : arg;
}

/** A path under a container mountPath → the same path under the host directory standing in for it. */
export function rewriteMounts(value: string, mounts: ReadonlyMap<string, string>): string {
  let best: [string, string] | undefined;
  for (const [mountPath, dir] of mounts) {
    if ((value === mountPath || value.startsWith(`${mountPath}/`)) && (!best || mountPath.length > best[0].length))
      best = [mountPath, dir];
  }
  return best ? best[1] + value.slice(best[0].length) : value;
}
