/**
 * A stand-in for the scheduler and the kubelet beside a real kube-controller-manager (control-plane.ts
 * with `controllerManager: true`): the deployment controller makes ReplicaSets, the ReplicaSet
 * controller makes Pods, and this binds each Pod to the one node (NODE_NAME), runs one local process
 * per Pod (pod-launcher.ts) and writes the Pod's status as a kubelet would: phase Running, podIP, the
 * Ready condition from the readiness probe. So the deployment controller sees a rolling update step
 * by step, and owner-reference garbage collection is Kubernetes' own.
 *
 * - Binding matters for deletion: the apiserver deletes an unbound Pod at once, a bound one gracefully
 *   (deletionTimestamp set, the Pod counted in its ReplicaSet's terminatingReplicas) until its kubelet
 *   has stopped the container.
 * - A Pod whose image is unpullable (default: the tag `does-not-exist`) is never started: it stays
 *   Pending with its container waiting in `ErrImagePull`, as on a node that cannot pull it.
 * - A terminating Pod's process is stopped (pods() lists it until it is gone), then the Pod is removed
 *   with grace period 0, as the kubelet does once the container is gone; Pods terminating together
 *   are stopped concurrently.
 * - `restartPolicy: Always`: a process that exits is started again.
 */
import type { V1Container, V1Pod } from "@kubernetes/client-node";
import { errorMessage } from "../../../common/logger.js";
import { isConflict, isNotFound } from "../../../operator/src/kube/client.js";
import { NODE_NAME, POD_IP, PodLauncher } from "./pod-launcher.js";
import type { PodLauncherOptions, RunningPod } from "./pod-launcher.js";
import { SyncLoop } from "./sync-loop.js";

export interface PodRunnerOptions extends PodLauncherOptions {
  /** Label selector of the Pods to run; all in the namespace when omitted. */
  readonly labelSelector?: string;
  /** Images no node could pull (default: tag `does-not-exist`). */
  readonly unpullable?: (image: string) => boolean;
  /** Period of the sync loop (default 500 ms). */
  readonly pollMs?: number;
  readonly onError?: (message: string) => void;
}

const FIELD_MANAGER = "warp-e2e-pod-runner";

/** A Pod's status as written to the apiserver (JSON; timestamps as RFC 3339 strings). */
type PodStatus = Record<string, unknown>;

export function defaultUnpullable(image: string): boolean {
  return /:does-not-exist$/.test(image);
}

export class PodRunner {
  private readonly launcher: PodLauncher;
  /** Running pods by Pod uid. */
  private readonly running = new Map<string, RunningPod>();
  /** Last status written, by Pod uid. */
  private readonly written = new Map<string, string>();
  private readonly loop: SyncLoop;
  /** Errors met while syncing (also passed to onError); a test can assert there were none. */
  readonly errors: string[] = [];

  constructor(private readonly o: PodRunnerOptions) {
    this.launcher = new PodLauncher(o);
    this.loop = new SyncLoop(
      () => this.sync(),
      (err) => this.report(`sync: ${errorMessage(err)}`),
      o.pollMs ?? 500,
    );
  }

  start(): void {
    this.loop.start();
  }

  async stop(): Promise<void> {
    await this.loop.stop();
    const all = [...this.running.values()];
    this.running.clear();
    await Promise.all(all.map((p) => this.launcher.stop(p)));
  }

  /** The pods running now, optionally only those whose owner (ReplicaSet) name starts with `ownerPrefix`. */
  pods(ownerPrefix = ""): RunningPod[] {
    return [...this.running.values()].filter((p) => p.owner.startsWith(ownerPrefix));
  }

  private report(message: string): void {
    this.errors.push(message);
    this.o.onError?.(message);
  }

  private async sync(): Promise<void> {
    const list = await this.o.admin.list<V1Pod>(
      { apiVersion: "v1", plural: "pods", namespace: this.o.namespace },
      this.o.labelSelector ? { labelSelector: this.o.labelSelector } : undefined,
    );
    const live = new Set<string>();
    const terminating: V1Pod[] = [];
    for (const pod of list.items) {
      const uid = pod.metadata?.uid;
      if (!uid) continue;
      if (pod.metadata?.deletionTimestamp) {
        terminating.push(pod);
        continue;
      }
      live.add(uid);
      await this.reporting(pod, () => this.syncPod(pod, uid));
    }
    await Promise.all([
      ...terminating.map((pod) => this.reporting(pod, () => this.terminate(pod))),
      ...[...this.running]
        .filter(([uid]) => !live.has(uid) && !terminating.some((pod) => pod.metadata?.uid === uid))
        .map(async ([uid, p]) => {
          await this.launcher.stop(p);
          this.running.delete(uid);
          this.written.delete(uid);
        }),
    ]);
  }

  private async reporting(pod: V1Pod, step: () => Promise<void>): Promise<void> {
    try {
      await step();
    } catch (err) {
      this.report(`pod ${pod.metadata?.name}: ${errorMessage(err)}`);
    }
  }

  private async terminate(pod: V1Pod): Promise<void> {
    const uid = pod.metadata!.uid!;
    const p = this.running.get(uid);
    if (p) {
      // Listed by pods() until its process is gone, as a container is until the kubelet has stopped it.
      await this.launcher.stop(p);
      this.running.delete(uid);
    }
    this.written.delete(uid);
    try {
      await this.o.admin.delete(
        { apiVersion: "v1", plural: "pods", namespace: this.o.namespace, name: pod.metadata!.name! },
        { gracePeriodSeconds: 0 },
      );
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  }

  private async syncPod(pod: V1Pod, uid: string): Promise<void> {
    if (!pod.spec?.nodeName && !(await this.bind(pod))) return;
    const container = pod.spec!.containers[0]!;
    const image = container.image ?? "";
    if ((this.o.unpullable ?? defaultUnpullable)(image)) {
      await this.writeStatus(pod, uid, pendingStatus(container, image));
      return;
    }
    let p = this.running.get(uid);
    if (!p) {
      const owner = pod.metadata?.ownerReferences?.find((o) => o.controller)?.name ?? pod.metadata!.name!;
      p = await this.launcher.start(pod.spec!, owner, pod.metadata!.name!);
      this.running.set(uid, p);
    } else if (!p.process.running()) {
      p.restarts++;
      p.ready = false;
      p.process = await this.launcher.spawn(p.name, p.args, p.env);
    }
    p.ready = await this.launcher.probe(container, p);
    await this.writeStatus(pod, uid, runningStatus(pod, container, p));
  }

  /** What the scheduler does: binds the Pod to the node (a Pod bound meanwhile is left as it is); false when it is gone. */
  private async bind(pod: V1Pod): Promise<boolean> {
    const name = pod.metadata!.name!;
    try {
      await this.o.admin.create(
        { apiVersion: "v1", plural: "pods", namespace: this.o.namespace, name, subresource: "binding" },
        {
          apiVersion: "v1",
          kind: "Binding",
          metadata: { name, namespace: this.o.namespace },
          target: { apiVersion: "v1", kind: "Node", name: NODE_NAME },
        },
      );
      return true;
    } catch (err) {
      if (isNotFound(err)) return false;
      if (isConflict(err)) return true;
      throw err;
    }
  }

  private async writeStatus(pod: V1Pod, uid: string, status: PodStatus): Promise<void> {
    const key = JSON.stringify(status);
    if (this.written.get(uid) === key) return;
    try {
      await this.o.admin.patch(
        {
          apiVersion: "v1",
          plural: "pods",
          namespace: this.o.namespace,
          name: pod.metadata!.name!,
          subresource: "status",
        },
        "merge",
        { status },
        FIELD_MANAGER,
      );
    } catch (err) {
      if (isNotFound(err)) return;
      throw err;
    }
    this.written.set(uid, key);
  }
}

function now(): string {
  return new Date().toISOString().replace(/\.\d{3}Z$/, "Z");
}

function pendingStatus(container: V1Container, image: string): PodStatus {
  return {
    phase: "Pending",
    conditions: [{ type: "PodScheduled", status: "True" }],
    containerStatuses: [
      {
        name: container.name,
        image,
        imageID: "",
        ready: false,
        restartCount: 0,
        state: { waiting: { reason: "ErrImagePull", message: `${image}: not found` } },
      },
    ],
  };
}

/** Running, with Ready following the probe; transition times move only when Ready flips. */
function runningStatus(pod: V1Pod, container: V1Container, p: RunningPod): PodStatus {
  const ready = p.ready ? "True" : "False";
  const old = pod.status?.conditions?.find((c) => c.type === "Ready");
  // Read from JSON: the timestamps are strings, whatever client-node's types say.
  const readySince = old && old.status === ready && old.lastTransitionTime ? String(old.lastTransitionTime) : now();
  const startTime = pod.status?.startTime ? String(pod.status.startTime) : now();
  const cond = (type: string, status: string, since: string) => ({ type, status, lastTransitionTime: since });
  return {
    phase: "Running",
    podIP: POD_IP,
    podIPs: [{ ip: POD_IP }],
    hostIP: POD_IP,
    startTime,
    conditions: [
      cond("PodScheduled", "True", startTime),
      cond("Initialized", "True", startTime),
      cond("ContainersReady", ready, readySince),
      cond("Ready", ready, readySince),
    ],
    containerStatuses: [
      {
        name: container.name,
        image: container.image ?? "",
        imageID: "",
        ready: p.ready,
        started: true,
        restartCount: p.restarts,
        state: { running: { startedAt: startTime } },
      },
    ],
  };
}
