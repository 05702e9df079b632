/**
 * A stand-in for the kubelet and the deployment controller, for a control plane that has neither
 * (e2e/support/kube/control-plane.ts): it runs, as local processes (pod-launcher.ts), the pods that
 * Deployments in a namespace describe, and reports their readiness back in each Deployment's status.
 * Readiness is the container's `readinessProbe.httpGet`, polled; `restartPolicy: Always`: a process
 * that exits is started again.
 * A changed pod template replaces every pod of the Deployment (a recreate, not a rolling update),
 * and a deleted Deployment stops its pods (what garbage collection of its ReplicaSets would do).
 * With kube-controller-manager running, pod-runner.ts runs the Pods its ReplicaSets create instead.
 */
import { createHash } from "node:crypto";
import type { V1Deployment } from "@kubernetes/client-node";
import { errorMessage } from "../../../common/logger.js";
import { PodLauncher } from "./pod-launcher.js";
import type { PodLauncherOptions, RunningPod } from "./pod-launcher.js";
import { SyncLoop } from "./sync-loop.js";

export type { RunningPod } from "./pod-launcher.js";

export interface DeploymentRunnerOptions extends PodLauncherOptions {
  /** Label selector of the Deployments to run; all in the namespace when omitted. */
  readonly labelSelector?: string;
  /** Period of the sync loop (default 500 ms). */
  readonly pollMs?: number;
  readonly onError?: (message: string) => void;
}

interface DeploymentPods {
  templateHash: string;
  pods: RunningPod[];
  lastStatus: string;
}

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
  private readonly loop: SyncLoop;
  /** Errors met while syncing (also passed to onError); a test can assert there were none. */
  readonly errors: string[] = [];

  private readonly launcher: PodLauncher;

  constructor(private readonly o: DeploymentRunnerOptions) {
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
    const all = [...this.running.values()].flatMap((d) => d.pods);
    this.running.clear();
    await Promise.all(all.map((p) => this.stopPod(p)));
  }

  private stopPod(pod: RunningPod): Promise<void> {
    return this.launcher.stop(pod);
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
      entry.pods.push(
        await this.launcher.start(d.spec!.template.spec!, name, `${name}-${hash.slice(0, 6)}-${randomSuffix()}`),
      );

    const container = d.spec!.template.spec!.containers[0]!;
    for (const pod of entry.pods) {
      if (!pod.process.running()) {
        // restartPolicy Always (no crash-loop backoff here beyond the poll period).
        pod.restarts++;
        pod.ready = false;
        pod.process = await this.launcher.spawn(pod.name, pod.args, pod.env);
      }
      pod.ready = await this.launcher.probe(container, pod);
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
}

export { rewriteMounts, rewritePorts } from "./pod-launcher.js";
