/**
 * Runs a pod's first container as a local process, as a kubelet would run it in a container: the
 * part of the stand-in for the kubelet (pod-runner.ts) that starts, probes and stops one pod.
 *
 * What it honours of the pod template (the first container only):
 *   - `command` + `args`: the command's first word is looked up in `commands` (an image entrypoint
 *     such as `warp` → the repository's CLI run through tsx); anything else is an error.
 *   - `env` (value, fieldRef metadata.name / metadata.namespace / status.podIP / spec.nodeName /
 *     spec.serviceAccountName, secretKeyRef, configMapKeyRef) and `envFrom` (secretRef, configMapRef),
 *     read from the apiserver as the kubelet would.
 *   - ports: every declared `containerPort` gets a free loopback port; an argument equal to the
 *     port number, or ending in `=<port>`, is rewritten to it (all pods share one host here).
 *   - `readinessProbe.httpGet` (path, port by name or number): `probe()`.
 *   - volumes: `secret`, `configMap` (with `items`) and `emptyDir` become directories under a temp
 *     dir; an argument or variable that starts with a container mountPath (or is a file:// URL of
 *     a path under one) is rewritten to it.
 *   - the pod's service account: unless automounting is off, the pod gets `KUBECONFIG` pointing at a
 *     kubeconfig holding a token for that account (what the in-cluster token mount gives a real pod).
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";
import type { V1Container, V1EnvVar, V1PodSpec, V1Volume } from "@kubernetes/client-node";
import type { KubeClient } from "../../../operator/src/kube/client.js";
import { errorMessage } from "../../../common/logger.js";
import { freePort } from "../ports.js";
import { spawnServer } from "../processes.js";
import type { ServerProcess } from "../processes.js";

export interface PodLauncherOptions {
  /** Admin client: reads Secrets/ConfigMaps. */
  readonly admin: KubeClient;
  readonly namespace: string;
  /** Image entrypoints: the container command's first word → the host argv that replaces it. */
  readonly commands: Readonly<Record<string, readonly string[]>>;
  readonly cwd: string;
  /** Variables every pod gets first (e.g. the AWS credentials IRSA would give), overridden by the template's. */
  readonly baseEnv?: Readonly<Record<string, string>>;
  /** A kubeconfig file path for a service account (namespace, name): the pod's in-cluster identity. */
  readonly serviceAccountKubeconfig?: (namespace: string, serviceAccount: string) => Promise<string>;
}

export interface RunningPod {
  readonly name: string;
  /** The controller (a ReplicaSet) the pod belongs to; the pod's own name when it has none. */
  readonly owner: string;
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

/** What every pod's status.podIP is: all pods share the host's loopback address. */
export const POD_IP = "127.0.0.1";
/** The one node every pod runs on (spec.nodeName): the host. */
export const NODE_NAME = "local-node";

export class PodLauncher {
  constructor(private readonly o: PodLauncherOptions) {}

  /** Stops the pod's process and removes its volume directories. */
  async stop(pod: RunningPod): Promise<void> {
    await pod.process.stop();
    for (const dir of new Set([...pod.mounts.values()].map((d) => path.dirname(d))))
      fs.rmSync(dir, { recursive: true, force: true });
  }

  /** The pod's readiness probe (httpGet) answers 2xx/3xx; without one, its process runs. */
  async probe(container: V1Container, pod: RunningPod): Promise<boolean> {
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

  /** Starts the first container of `podSpec` as a local process named `podName`. */
  async start(podSpec: V1PodSpec, owner: string, podName: string): Promise<RunningPod> {
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
      owner,
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

  /** Starts (or restarts) a pod's process. */
  spawn(name: string, args: readonly string[], env: Readonly<Record<string, string>>): Promise<ServerProcess> {
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
        "spec.nodeName": NODE_NAME,
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

/**
 * A path under a container mountPath → the same path under the host directory standing in for it; a
 * file:// URL of such a path (the agent's -kafkaSASLOAuthJwksURL) → the file:// URL of that one.
 */
export function rewriteMounts(value: string, mounts: ReadonlyMap<string, string>): string {
  if (value.startsWith("file:///")) {
    const local = value.slice("file://".length);
    const rewritten = rewriteMounts(local, mounts);
    return rewritten === local ? value : pathToFileURL(rewritten).href;
  }
  let best: [string, string] | undefined;
  for (const [mountPath, dir] of mounts) {
    if ((value === mountPath || value.startsWith(`${mountPath}/`)) && (!best || mountPath.length > best[0].length))
      best = [mountPath, dir];
  }
  return best ? best[1] + value.slice(best[0].length) : value;
}
