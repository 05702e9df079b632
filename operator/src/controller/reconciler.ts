/**
 * Reconcile one WarpAgent: read the caches, compute desired objects with pure functions, apply them
 * (server-side apply, one field manager), reconcile the AWS side, then write status only if it
 * changed. Level-triggered and idempotent: every pass starts from observed state. Each step runs
 * even when another failed; their results become the TablesReady / BucketReady / AgentsReady
 * conditions, and Ready summarises them.
 */
import type { V1Deployment } from "@kubernetes/client-node";
import type { Logger } from "../../../common/logger.js";
import { errorMessage } from "../../../common/logger.js";
import {
  ConditionType,
  Reason,
  getCondition,
  setCondition,
  transitionEventType,
  transitions,
} from "../api/conditions.js";
import type { ConditionInput } from "../api/conditions.js";
import { InvalidSpecError, effectiveZones, resolveSpec } from "../api/resolve.js";
import type { ResolvedSpec } from "../api/resolve.js";
import { policyViolations } from "../api/policy.js";
import type { AgentPolicy } from "../api/policy.js";
import { API_VERSION, FIELD_MANAGER, FINALIZER, PLURAL } from "../api/types.js";
import type { Condition, WarpAgent, WarpAgentStatus, ZoneStatus } from "../api/types.js";
import type { AwsClients } from "../aws/clients.js";
import { reconcileBucket } from "../aws/bucket.js";
import { deleteTables, reconcileTables } from "../aws/tables.js";
import type { OperatorEvent } from "../aws/tables.js";
import { desiredDeployment } from "../desired/deployment.js";
import { LABEL_INSTANCE, agentSelector, selectorString } from "../desired/labels.js";
import {
  bootstrapAddress,
  desiredBootstrapService,
  desiredHeadlessService,
  desiredPodDisruptionBudget,
  desiredServiceAccount,
} from "../desired/services.js";
import type { EventRecorder } from "./events.js";
import type { KubeClient, ObjectHeader, ResourceRef } from "../kube/client.js";
import { isInvalid, isNotFound } from "../kube/client.js";
import type { OperatorMetrics } from "./metrics.js";

/** What the reconciler reads from the informers' caches. */
export interface Caches {
  agent(namespace: string, name: string): WarpAgent | undefined;
  /** Deployments the operator manages in a namespace. */
  deployments(namespace: string): V1Deployment[];
  /** Zones found on nodes' topology.kubernetes.io/zone labels (empty when not discovering). */
  nodeZones(): string[];
}

export interface ReconcilerTimings {
  /** Requeue delay while a table is CREATING / UPDATING / DELETING. */
  pendingRequeueMs: number;
}

/** Test seams: called around writes so a test can stop the operator mid-reconcile. */
export interface ReconcilerHooks {
  afterApply?(obj: ObjectHeader): Promise<void>;
}

export interface ReconcileResult {
  /** Look again after this long (a table is changing state). */
  requeueAfterMs?: number;
  /** A step failed: requeue with the key's rate-limited backoff. */
  retry?: boolean;
}

export interface ReconcilerDeps {
  client: KubeClient;
  caches: Caches;
  aws: AwsClients;
  events: EventRecorder;
  metrics: OperatorMetrics;
  logger: Logger;
  timings: ReconcilerTimings;
  /** What a WarpAgent may ask to run; a WarpAgent outside it is not applied. */
  policy: AgentPolicy;
  hooks?: ReconcilerHooks;
}

const PLURALS: Record<string, string> = {
  Deployment: "deployments",
  Service: "services",
  PodDisruptionBudget: "poddisruptionbudgets",
  ServiceAccount: "serviceaccounts",
};

function refOf(obj: ObjectHeader): ResourceRef {
  const plural = PLURALS[obj.kind ?? ""];
  if (!plural) throw new Error(`no plural for kind ${obj.kind}`);
  return {
    apiVersion: obj.apiVersion ?? "v1",
    plural,
    namespace: obj.metadata?.namespace ?? "",
    name: obj.metadata?.name ?? "",
  };
}

function agentRef(agent: WarpAgent, subresource?: string): ResourceRef {
  return {
    apiVersion: API_VERSION,
    plural: PLURAL,
    namespace: agent.metadata.namespace,
    name: agent.metadata.name,
    ...(subresource ? { subresource } : {}),
  };
}

/** Deep equality for JSON values, insensitive to key order. */
export function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== "object" || typeof b !== "object" || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((v, i) => jsonEqual(v, b[i]));
  const ka = Object.keys(a).filter((k) => (a as Record<string, unknown>)[k] !== undefined);
  const kb = Object.keys(b).filter((k) => (b as Record<string, unknown>)[k] !== undefined);
  return (
    ka.length === kb.length &&
    ka.every((k) => jsonEqual((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]))
  );
}

/**
 * Whether resourceVersion `a` is older than `b`. kube-apiserver's resourceVersions are etcd revisions
 * (integers); a resourceVersion of any other form is never called older (the cache is trusted).
 */
function olderThan(a: string | undefined, b: string): boolean {
  if (a === undefined || !/^[0-9]+$/.test(a) || !/^[0-9]+$/.test(b)) return false;
  return BigInt(a) < BigInt(b);
}

function deploymentReady(dep: V1Deployment, replicas: number): boolean {
  const st: NonNullable<V1Deployment["status"]> = dep.status ?? {};
  const gen = dep.metadata?.generation ?? 0;
  return (
    (st.observedGeneration ?? 0) >= gen &&
    (st.updatedReplicas ?? 0) >= replicas &&
    (st.readyReplicas ?? 0) >= replicas &&
    (st.availableReplicas ?? 0) >= replicas
  );
}

export class Reconciler {
  /**
   * The status this process last wrote per WarpAgent uid, with the resourceVersion the write
   * produced. A cache holding an older resourceVersion has not seen the write yet: its status is stale.
   */
  private readonly written = new Map<string, { resourceVersion: string; status: WarpAgentStatus }>();
  /** The generation of each Deployment (namespace/name) as last applied, for a cache that lags. */
  private readonly appliedGenerations = new Map<string, number>();

  constructor(private readonly d: ReconcilerDeps) {}

  /** The cached WarpAgent, with the status this process wrote when the cache has not caught up. */
  private current(namespace: string, name: string): WarpAgent | undefined {
    const cached = this.d.caches.agent(namespace, name);
    const uid = cached?.metadata.uid;
    if (!cached || !uid) return cached;
    const w = this.written.get(uid);
    if (!w) return cached;
    if (!olderThan(cached.metadata.resourceVersion, w.resourceVersion)) {
      this.written.delete(uid);
      return cached;
    }
    return { ...cached, status: w.status };
  }

  async reconcile(namespace: string, name: string): Promise<ReconcileResult> {
    const agent = this.current(namespace, name);
    if (!agent) return {};
    if (agent.metadata.deletionTimestamp) return this.finalize(agent);

    let spec: ResolvedSpec;
    try {
      spec = resolveSpec(agent);
    } catch (err) {
      if (!(err instanceof InvalidSpecError)) throw err;
      await this.writeStatus(
        agent,
        [{ type: ConditionType.Ready, status: "False", reason: Reason.InvalidSpec, message: err.message }],
        {},
        [],
      );
      return {};
    }
    const violations = policyViolations(spec, this.d.policy);
    if (violations.length > 0) {
      await this.writeStatus(
        agent,
        [
          {
            type: ConditionType.Ready,
            status: "False",
            reason: Reason.PolicyViolation,
            message: violations.map((v) => `${v.field}: ${v.message}`).join("; "),
          },
        ],
        {},
        [],
      );
      return {};
    }
    if (spec.paused) {
      await this.writeStatus(
        agent,
        [
          {
            type: ConditionType.Ready,
            status: "Unknown",
            reason: Reason.Paused,
            message: "reconciliation is paused (spec.paused); nothing is changed until it is false",
          },
        ],
        {},
        [],
      );
      return {};
    }
    if (!(agent.metadata.finalizers ?? []).includes(FINALIZER)) {
      await this.d.client.patch(
        agentRef(agent),
        "merge",
        {
          metadata: {
            finalizers: [...(agent.metadata.finalizers ?? []), FINALIZER],
            resourceVersion: agent.metadata.resourceVersion,
          },
        },
        FIELD_MANAGER,
      );
    }

    const events: OperatorEvent[] = [];
    const [tables, bucket, workloads] = await Promise.all([
      reconcileTables(this.d.aws.dynamodb(spec.region, spec.endpoints.dynamodb), spec, this.d.timings),
      reconcileBucket(this.d.aws.s3Client(spec.region, spec.endpoints.s3), spec),
      this.reconcileWorkloads(agent, spec),
    ]);
    events.push(...tables.events, ...bucket.events, ...workloads.events);

    const conds: ConditionInput[] = [tables.condition, bucket.condition, workloads.condition];
    const notReady = conds.filter((c) => c.status !== "True");
    conds.unshift(
      notReady.length === 0
        ? {
            type: ConditionType.Ready,
            status: "True",
            reason: Reason.AllReady,
            message: `agents ready in ${workloads.zones.length} zone(s); bootstrap ${bootstrapAddress(spec)}`,
          }
        : {
            type: ConditionType.Ready,
            status: "False",
            reason: Reason.ComponentsNotReady,
            message: `not ready: ${notReady.map((c) => `${c.type} (${c.reason})`).join(", ")}`,
          },
    );
    for (const c of conds)
      if (c.reason === Reason.AccessDenied || c.reason === Reason.AwsError)
        this.d.metrics.awsErrors.inc({ reason: c.reason });

    const extra: WarpAgentStatus = {
      zones: workloads.zones,
      zoneSummary: workloads.summary,
      replicasPerZone: workloads.zones.length ? Math.min(...workloads.zones.map((z) => z.readyReplicas)) : 0,
      selector: selectorString(agentSelector(spec.name)),
      bootstrap: bootstrapAddress(spec),
    };
    const arns: NonNullable<WarpAgentStatus["tables"]> = {};
    if (tables.filesArn) arns.filesArn = tables.filesArn;
    if (tables.chunksArn) arns.chunksArn = tables.chunksArn;
    if (arns.filesArn || arns.chunksArn) extra.tables = arns;
    await this.writeStatus(agent, conds, extra, events);

    const failed = conds.some(
      (c) =>
        c.reason === Reason.AccessDenied ||
        c.reason === Reason.AwsError ||
        c.reason === Reason.ApplyFailed ||
        c.reason === Reason.BucketNotFound,
    );
    const result: ReconcileResult = {};
    if (tables.requeueAfterMs !== undefined) result.requeueAfterMs = tables.requeueAfterMs;
    if (failed) result.retry = true;
    return result;
  }

  private async apply<T extends ObjectHeader>(obj: T): Promise<T> {
    const out = await this.d.client.patch<T>(refOf(obj), "apply", obj, FIELD_MANAGER);
    await this.d.hooks?.afterApply?.(obj);
    return out;
  }

  private async reconcileWorkloads(
    agent: WarpAgent,
    spec: ResolvedSpec,
  ): Promise<{ condition: ConditionInput; zones: ZoneStatus[]; summary: string; events: OperatorEvent[] }> {
    const events: OperatorEvent[] = [];
    const zones = effectiveZones(spec, this.d.caches.nodeZones());
    try {
      const sa = desiredServiceAccount(agent, spec);
      if (sa) await this.apply(sa);
      await this.apply(desiredBootstrapService(agent, spec));
      await this.apply(desiredHeadlessService(agent, spec));
      await this.apply(desiredPodDisruptionBudget(agent, spec));
      const statuses: ZoneStatus[] = [];
      const waiting: string[] = [];
      const wanted = new Set<string>();
      for (const z of zones) {
        const desired = desiredDeployment(agent, spec, z.name, z.replicas);
        wanted.add(desired.metadata!.name!);
        const before = this.d.caches
          .deployments(spec.namespace)
          .find((d) => d.metadata?.name === desired.metadata!.name);
        const applied = await this.apply(desired);
        const depKey = `${spec.namespace}/${desired.metadata!.name}`;
        const beforeGeneration = before?.metadata?.generation ?? this.appliedGenerations.get(depKey);
        if (applied.metadata?.generation !== undefined)
          this.appliedGenerations.set(depKey, applied.metadata.generation);
        if (beforeGeneration === undefined)
          events.push({
            type: "Normal",
            reason: "DeploymentCreated",
            message: `created Deployment ${desired.metadata!.name} for zone ${z.name}`,
          });
        else if (beforeGeneration !== applied.metadata?.generation) {
          events.push({
            type: "Normal",
            reason: "DeploymentUpdated",
            message: `updated Deployment ${desired.metadata!.name} for zone ${z.name}`,
          });
        }
        const ready = applied.status?.readyReplicas ?? 0;
        statuses.push({ name: z.name, replicas: z.replicas, readyReplicas: ready });
        if (!deploymentReady(applied, z.replicas)) waiting.push(`${z.name} (${ready}/${z.replicas} ready)`);
      }
      for (const dep of this.d.caches.deployments(spec.namespace)) {
        const ownedByUs =
          dep.metadata?.labels?.[LABEL_INSTANCE] === spec.name &&
          (dep.metadata?.ownerReferences ?? []).some((o) => o.uid === agent.metadata.uid);
        if (ownedByUs && dep.metadata?.name && !wanted.has(dep.metadata.name)) {
          try {
            await this.d.client.delete({
              apiVersion: "apps/v1",
              plural: "deployments",
              namespace: spec.namespace,
              name: dep.metadata.name,
            });
            this.appliedGenerations.delete(`${spec.namespace}/${dep.metadata.name}`);
            events.push({
              type: "Normal",
              reason: "DeploymentDeleted",
              message: `deleted Deployment ${dep.metadata.name}: its zone is no longer wanted`,
            });
          } catch (err) {
            if (!isNotFound(err)) throw err;
          }
        }
      }
      const readyZones = zones.length - waiting.length;
      const summary = `${readyZones}/${zones.length}`;
      if (zones.length === 0) {
        return {
          condition: {
            type: ConditionType.AgentsReady,
            status: "False",
            reason: Reason.NoZones,
            message: "no zones: set spec.zones or label nodes with topology.kubernetes.io/zone",
          },
          zones: statuses,
          summary,
          events,
        };
      }
      if (waiting.length > 0) {
        return {
          condition: {
            type: ConditionType.AgentsReady,
            status: "False",
            reason: Reason.DeploymentsProgressing,
            message: `waiting for zones ${waiting.join(", ")}`,
          },
          zones: statuses,
          summary,
          events,
        };
      }
      return {
        condition: {
          type: ConditionType.AgentsReady,
          status: "True",
          reason: Reason.DeploymentsReady,
          message: `all ${zones.length} zone Deployment(s) ready`,
        },
        zones: statuses,
        summary,
        events,
      };
    } catch (err) {
      this.d.logger.warn("applying agent objects failed", {
        agent: `${spec.namespace}/${spec.name}`,
        error: errorMessage(err),
      });
      const old = agent.status;
      return {
        condition: {
          type: ConditionType.AgentsReady,
          status: "False",
          // An object the apiserver finds invalid comes from the spec: the spec must change.
          reason: isInvalid(err) ? Reason.InvalidSpec : Reason.ApplyFailed,
          message: errorMessage(err),
        },
        zones: old?.zones ?? [],
        summary: old?.zoneSummary ?? `0/${zones.length}`,
        events,
      };
    }
  }

  private async finalize(agent: WarpAgent): Promise<ReconcileResult> {
    const finalizers = agent.metadata.finalizers ?? [];
    if (!finalizers.includes(FINALIZER)) return {};
    let spec: ResolvedSpec | undefined;
    try {
      spec = resolveSpec(agent);
    } catch {
      spec = undefined; // an invalid spec names no tables we could have created
    }
    if (spec && spec.deletionPolicy === "Delete") {
      const res = await deleteTables(this.d.aws.dynamodb(spec.region, spec.endpoints.dynamodb), spec);
      if (!res.done) {
        const cond: ConditionInput = res.failure
          ? {
              type: ConditionType.Ready,
              status: "False",
              reason: res.failure.reason,
              message: `deleting: ${res.failure.message}`,
            }
          : { type: ConditionType.Ready, status: "False", reason: Reason.Deleting, message: res.message };
        await this.writeStatus(agent, [cond], {}, res.events);
        return res.failure ? { retry: true } : { requeueAfterMs: this.d.timings.pendingRequeueMs };
      }
      for (const e of res.events) await this.d.events.record(agent, e.type, e.reason, e.message);
    } else if (spec) {
      await this.d.events.record(
        agent,
        "Normal",
        "TablesRetained",
        `tables ${spec.filesTable} and ${spec.chunksTable} kept (deletionPolicy Retain)`,
      );
    }
    try {
      await this.d.client.patch(
        agentRef(agent),
        "merge",
        {
          metadata: {
            finalizers: finalizers.filter((f) => f !== FINALIZER),
            resourceVersion: agent.metadata.resourceVersion,
          },
        },
        FIELD_MANAGER,
      );
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
    if (agent.metadata.uid) this.written.delete(agent.metadata.uid);
    this.d.logger.info("finalized", { agent: `${agent.metadata.namespace}/${agent.metadata.name}` });
    return {};
  }

  /**
   * Sets the given conditions (others are kept), the extra status fields, observedGeneration; writes
   * only when something changed, and records an Event for every condition that changed.
   */
  private async writeStatus(
    agent: WarpAgent,
    inputs: ConditionInput[],
    extra: WarpAgentStatus,
    events: OperatorEvent[],
  ): Promise<void> {
    const now = new Date();
    const gen = agent.metadata.generation;
    let conditions: Condition[] = agent.status?.conditions ?? [];
    for (const input of inputs) conditions = setCondition(conditions, input, gen, now);
    const old = agent.status ?? {};
    const next: WarpAgentStatus = { ...old, ...extra, conditions };
    if (gen !== undefined) next.observedGeneration = gen;
    for (const e of events) await this.d.events.record(agent, e.type, e.reason, e.message);
    if (jsonEqual(old, next)) return;
    for (const c of transitions(old.conditions, conditions)) {
      await this.d.events.record(agent, transitionEventType(c), c.reason, `${c.type} is ${c.status}: ${c.message}`);
    }
    const patch: Record<string, unknown> = { ...next };
    for (const k of Object.keys(old)) if (!(k in next)) patch[k] = null;
    let written: WarpAgent;
    try {
      written = await this.d.client.patch<WarpAgent>(
        agentRef(agent, "status"),
        "merge",
        { status: patch },
        FIELD_MANAGER,
      );
    } catch (err) {
      if (isNotFound(err)) return;
      throw err;
    }
    if (agent.metadata.uid && written.metadata.resourceVersion)
      this.written.set(agent.metadata.uid, { resourceVersion: written.metadata.resourceVersion, status: next });
    const ready = getCondition(conditions, ConditionType.Ready);
    this.d.logger.info("status updated", {
      agent: `${agent.metadata.namespace}/${agent.metadata.name}`,
      ready: ready?.status,
      reason: ready?.reason,
      generation: gen,
    });
  }
}
