/**
 * The controller: informers for WarpAgents, the objects they own and (optionally) nodes, feeding a
 * key-based work queue drained by a few workers that call the Reconciler.
 */
import type { V1Deployment, V1Node } from "@kubernetes/client-node";
import type { Logger } from "../../../common/logger.js";
import { errorMessage } from "../../../common/logger.js";
import { API_VERSION, PLURAL } from "../api/types.js";
import type { WarpAgent } from "../api/types.js";
import type { AwsClients } from "../aws/clients.js";
import { LABEL_INSTANCE, MANAGED_SELECTOR, ZONE_LABEL } from "../desired/labels.js";
import type { EventRecorder } from "./events.js";
import type { KubeClient, KubeObject } from "../kube/client.js";
import type { OperatorMetrics } from "./metrics.js";
import { Informer } from "./informer.js";
import type { InformerEventType } from "./informer.js";
import { WorkQueue } from "./queue.js";
import type { AgentPolicy } from "../api/policy.js";
import { Reconciler, jsonEqual } from "./reconciler.js";
import type { ReconcilerHooks } from "./reconciler.js";

export interface ControllerOptions {
  client: KubeClient;
  aws: AwsClients;
  events: EventRecorder;
  metrics: OperatorMetrics;
  logger: Logger;
  /** Namespaces to watch; empty for all. */
  namespaces: string[];
  discoverZones: boolean;
  workers: number;
  requeue: { baseDelayMs: number; maxDelayMs: number; pendingMs: number };
  informer: { watchTimeoutSeconds: number; resyncMs: number; backoffBaseMs: number; backoffMaxMs: number };
  policy: AgentPolicy;
  hooks?: ReconcilerHooks;
}

const OWNED = [
  { apiVersion: "apps/v1", plural: "deployments" },
  { apiVersion: "v1", plural: "services" },
  { apiVersion: "policy/v1", plural: "poddisruptionbudgets" },
  { apiVersion: "v1", plural: "serviceaccounts" },
] as const;

/** Only what the user or the lifecycle changes: not status, not resourceVersion/managedFields. */
function agentIntent(a: WarpAgent): unknown {
  const {
    resourceVersion: _rv,
    managedFields: _mf,
    ...meta
  } = a.metadata as WarpAgent["metadata"] & { managedFields?: unknown };
  return { spec: a.spec, meta };
}

export class Controller {
  readonly queue: WorkQueue;
  private readonly agentInformers: Array<Informer<WarpAgent>> = [];
  private readonly ownedInformers: Array<Informer<KubeObject>> = [];
  private readonly deploymentInformers = new Map<string, Informer<V1Deployment & KubeObject>>();
  private nodeInformer: Informer<V1Node & KubeObject> | undefined;
  private readonly reconciler: Reconciler;
  private workers: Array<Promise<void>> = [];
  private stopped = false;

  constructor(private readonly o: ControllerOptions) {
    this.queue = new WorkQueue({ baseDelayMs: o.requeue.baseDelayMs, maxDelayMs: o.requeue.maxDelayMs });
    const scopes: Array<string | undefined> = o.namespaces.length ? o.namespaces : [undefined];
    const informerBase = {
      client: o.client,
      watchTimeoutSeconds: o.informer.watchTimeoutSeconds,
      resyncMs: o.informer.resyncMs,
      backoff: { baseMs: o.informer.backoffBaseMs, maxMs: o.informer.backoffMaxMs },
      logger: o.logger,
    };
    for (const ns of scopes) {
      this.agentInformers.push(
        new Informer<WarpAgent>({
          ...informerBase,
          ref: { apiVersion: API_VERSION, plural: PLURAL, ...(ns ? { namespace: ns } : {}) },
          onEvent: (type, obj, old) => this.onAgent(type, obj, old),
        }),
      );
      for (const r of OWNED) {
        const inf = new Informer<KubeObject>({
          ...informerBase,
          ref: { apiVersion: r.apiVersion, plural: r.plural, ...(ns ? { namespace: ns } : {}) },
          labelSelector: MANAGED_SELECTOR,
          onEvent: (_type, obj) => this.onOwned(obj),
        });
        this.ownedInformers.push(inf);
        if (r.plural === "deployments")
          this.deploymentInformers.set(ns ?? "", inf as Informer<V1Deployment & KubeObject>);
      }
    }
    if (o.discoverZones) {
      this.nodeInformer = new Informer<V1Node & KubeObject>({
        ...informerBase,
        ref: { apiVersion: "v1", plural: "nodes" },
        onEvent: (type, obj, old) => {
          const zone = (n?: KubeObject) => n?.metadata?.labels?.[ZONE_LABEL];
          if (type === "add" || type === "delete" || zone(obj) !== zone(old)) this.enqueueDiscovering();
        },
      });
    }
    this.reconciler = new Reconciler({
      client: o.client,
      aws: o.aws,
      events: o.events,
      metrics: o.metrics,
      logger: o.logger,
      timings: { pendingRequeueMs: o.requeue.pendingMs },
      policy: o.policy,
      caches: {
        agent: (ns, name) => {
          for (const inf of this.agentInformers) {
            const a = inf.get(ns, name);
            if (a) return a;
          }
          return undefined;
        },
        deployments: (ns) => {
          const inf = this.deploymentInformers.get(ns) ?? this.deploymentInformers.get("");
          return (inf?.list() ?? []).filter((d) => d.metadata?.namespace === ns);
        },
        nodeZones: () => {
          const zones = new Set<string>();
          for (const n of this.nodeInformer?.list() ?? []) {
            const z = n.metadata?.labels?.[ZONE_LABEL];
            if (z) zones.add(z);
          }
          return [...zones].sort();
        },
      },
      ...(o.hooks ? { hooks: o.hooks } : {}),
    });
  }

  private allInformers(): Array<Informer<KubeObject>> {
    return [...this.agentInformers, ...this.ownedInformers, ...(this.nodeInformer ? [this.nodeInformer] : [])] as Array<
      Informer<KubeObject>
    >;
  }

  private onAgent(type: InformerEventType, obj: WarpAgent, old?: WarpAgent): void {
    // Our own status writes change only status: they do not trigger a pass.
    if (type === "update" && old && jsonEqual(agentIntent(old), agentIntent(obj))) return;
    if (type === "delete") return;
    this.queue.add(`${obj.metadata.namespace}/${obj.metadata.name}`);
  }

  private onOwned(obj: KubeObject): void {
    const name = obj.metadata?.labels?.[LABEL_INSTANCE];
    if (name && obj.metadata?.namespace) this.queue.add(`${obj.metadata.namespace}/${name}`);
  }

  private enqueueDiscovering(): void {
    for (const inf of this.agentInformers)
      for (const a of inf.list())
        if (!a.spec.zones?.length) this.queue.add(`${a.metadata.namespace}/${a.metadata.name}`);
  }

  hasSynced(): boolean {
    return this.allInformers().every((i) => i.hasSynced());
  }

  /** Ends every informer's current watch (test seam for "a watch ending mid-run"). */
  dropWatches(): void {
    for (const i of this.allInformers()) i.dropWatch();
  }

  informerStats(): Array<{ resource: string; lists: number; watches: number; errors: number }> {
    return this.allInformers().map((i) => ({ resource: i.resource, ...i.stats }));
  }

  async start(): Promise<void> {
    const informers = this.allInformers();
    for (const i of informers) i.start();
    // Workers start only when every cache is filled, so no pass sees a partial world.
    await Promise.race([
      Promise.all(informers.map((i) => i.waitForSync())),
      new Promise<void>((r) => this.stopWaiters.push(r)),
    ]);
    if (this.stopped) return;
    for (let n = 0; n < this.o.workers; n++) this.workers.push(this.work());
  }

  private stopWaiters: Array<() => void> = [];

  private async work(): Promise<void> {
    for (;;) {
      const key = await this.queue.get();
      if (key === null) return;
      this.o.metrics.queueDepth.set(this.queue.length);
      const [ns, name] = key.split("/") as [string, string];
      const end = this.o.metrics.reconcileSeconds.startTimer();
      try {
        const res = await this.reconciler.reconcile(ns, name);
        if (res.retry) {
          this.queue.addRateLimited(key);
          this.o.metrics.reconciles.inc({ result: "retry" });
        } else {
          this.queue.forget(key);
          this.o.metrics.reconciles.inc({ result: "success" });
        }
        if (res.requeueAfterMs !== undefined) this.queue.addAfter(key, res.requeueAfterMs);
      } catch (err) {
        const delay = this.queue.addRateLimited(key);
        this.o.metrics.reconciles.inc({ result: "error" });
        this.o.logger.warn("reconcile failed; requeued", { key, error: errorMessage(err), retryInMs: delay });
      } finally {
        end();
        this.queue.done(key);
      }
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const w of this.stopWaiters) w();
    this.queue.shutdown();
    await Promise.all(this.allInformers().map((i) => i.stop()));
    await Promise.all(this.workers);
  }
}
