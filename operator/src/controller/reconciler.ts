/**
 * Reconcile one WarpAgent: read the caches, compute desired objects with pure functions, apply them
 * (server-side apply, one field manager), reconcile the AWS side, then write status only if it
 * changed. Level-triggered and idempotent: every pass starts from observed state. Each step runs
 * even when another failed; their results become the TablesReady / BucketReady / AgentsReady
 * conditions, and Ready summarises them.
 */
import type { V1Deployment, V1Service } from "@kubernetes/client-node";
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
import { API_VERSION, FIELD_MANAGER, FINALIZER, OWNED_TABLE_ANNOTATIONS, PLURAL } from "../api/types.js";
import type { Condition, WarpAgent, WarpAgentStatus, ZoneStatus } from "../api/types.js";
import type { AwsClients } from "../aws/clients.js";
import { reconcileBucket } from "../aws/bucket.js";
import { deleteTables, reconcileTables } from "../aws/tables.js";
import type { OperatorEvent, TableRole } from "../aws/tables.js";
import { desiredDeployment } from "../desired/deployment.js";
import { LABEL_INSTANCE, LABEL_ZONE, agentSelector, selectorString } from "../desired/labels.js";
import {
  bootstrapAddress,
  bootstrapServiceName,
  desiredBootstrapService,
  desiredHeadlessService,
  desiredPodDisruptionBudget,
  desiredServiceAccount,
} from "../desired/services.js";
import type { EventRecorder } from "./events.js";
import type { KubeClient, ObjectHeader, ResourceRef } from "../kube/client.js";
import { isInvalid, isNotFound } from "../kube/client.js";
import type { OperatorMetrics } from "./metrics.js";
import { OwnershipConflict, checkOwnedOrAbsent } from "./ownership.js";
import { rolloutState } from "./rollout.js";

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

  /** The WarpAgent's spec with defaults, and the AWS endpoints its agents and the operator use. */
  private resolve(agent: WarpAgent): ResolvedSpec {
    const spec = resolveSpec(agent);
    return { ...spec, endpoints: this.d.aws.effective(spec.endpoints) };
  }

  async reconcile(namespace: string, name: string): Promise<ReconcileResult> {
    const agent = this.current(namespace, name);
    if (!agent) return {};
    if (agent.metadata.deletionTimestamp) return this.finalize(agent);

    let spec: ResolvedSpec;
    try {
      spec = this.resolve(agent);
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
      reconcileTables(this.d.aws.dynamodb(spec.region, spec.endpoints.dynamodb), spec, this.d.timings, (role, table) =>
        this.recordOwnedTable(agent, role, table),
      ),
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
        c.reason === Reason.Conflict ||
        c.reason === Reason.BucketNotFound,
    );
    const result: ReconcileResult = {};
    if (tables.requeueAfterMs !== undefined) result.requeueAfterMs = tables.requeueAfterMs;
    if (failed) result.retry = true;
    return result;
  }

  /**
   * Records a table this WarpAgent creates or adopts in its annotations (one key per role, so a merge
   * patch from a stale cache cannot drop the other): the ownership record where the DynamoDB
   * endpoint has no tagging.
   */
  private async recordOwnedTable(agent: WarpAgent, role: TableRole, table: string): Promise<void> {
    const key = OWNED_TABLE_ANNOTATIONS[role];
    if (agent.metadata.annotations?.[key] === table) return;
    await this.d.client.patch(agentRef(agent), "merge", { metadata: { annotations: { [key]: table } } }, FIELD_MANAGER);
  }

  /** The Deployments of this WarpAgent in the cache: its instance label and an owner reference to it. */
  private ownedDeployments(agent: WarpAgent): V1Deployment[] {
    return this.d.caches
      .deployments(agent.metadata.namespace)
      .filter(
        (dep) =>
          dep.metadata?.labels?.[LABEL_INSTANCE] === agent.metadata.name &&
          (dep.metadata?.ownerReferences ?? []).some((o) => o.uid === agent.metadata.uid),
      );
  }

  /**
   * Scales the WarpAgent's Deployments to zero and returns the ones whose pods are not all gone yet
   * (as "name (n pods)"): a Deployment is stopped once its controller has observed the scale-down
   * (observedGeneration) and counts no pods (status.replicas, terminatingReplicas).
   */
  private async stopAgents(agent: WarpAgent): Promise<string[]> {
    const running: string[] = [];
    for (const cached of this.ownedDeployments(agent)) {
      const name = cached.metadata?.name ?? "";
      let dep = cached;
      if (cached.spec?.replicas !== 0) {
        try {
          dep = await this.d.client.patch<V1Deployment>(
            { apiVersion: "apps/v1", plural: "deployments", namespace: agent.metadata.namespace, name },
            "merge",
            { spec: { replicas: 0 } },
            FIELD_MANAGER,
          );
        } catch (err) {
          if (isNotFound(err)) continue;
          throw err;
        }
      }
      const st: NonNullable<V1Deployment["status"]> & { terminatingReplicas?: number } = dep.status ?? {};
      const observed = (st.observedGeneration ?? 0) >= (dep.metadata?.generation ?? 0);
      const pods = (st.replicas ?? 0) + (st.terminatingReplicas ?? 0);
      if (!observed || pods > 0) running.push(`${name} (${observed ? pods : "scale-down not yet observed"})`);
    }
    return running;
  }

  /** Server-side applies (force) an object this WarpAgent owns; throws OwnershipConflict for anyone else's. */
  private async apply<T extends ObjectHeader>(agent: WarpAgent, obj: T): Promise<T> {
    await checkOwnedOrAbsent(this.d.client, obj.kind ?? "", refOf(obj), agent.metadata.uid ?? "");
    const out = await this.d.client.patch<T>(refOf(obj), "apply", obj, FIELD_MANAGER);
    await this.d.hooks?.afterApply?.(obj);
    return out;
  }

  private async reconcileWorkloads(
    agent: WarpAgent,
    spec: ResolvedSpec,
  ): Promise<{ condition: ConditionInput; zones: ZoneStatus[]; summary: string; events: OperatorEvent[] }> {
    const events: OperatorEvent[] = [];
    // Discovered zones are kept once they have a Deployment: when a zone's last node goes (scaled to
    // zero, replaced), deleting its Deployment would leave no pending pod to make a cluster autoscaler
    // bring a node back to that zone. A zone is dropped only when spec.zones leaves it out.
    const keptZones = spec.zones
      ? []
      : this.ownedDeployments(agent).flatMap((d) => {
          const zone = d.metadata?.labels?.[LABEL_ZONE];
          return zone ? [zone] : [];
        });
    const zones = effectiveZones(spec, [...this.d.caches.nodeZones(), ...keptZones]);
    const conflicts: string[] = [];
    /** Applies; an object owned by someone else is skipped and named in `conflicts`. */
    const applyOwned = async <T extends ObjectHeader>(obj: T): Promise<T | undefined> => {
      try {
        return await this.apply(agent, obj);
      } catch (err) {
        if (!(err instanceof OwnershipConflict)) throw err;
        conflicts.push(`${err.kind} ${err.objectName}`);
        return undefined;
      }
    };
    try {
      const sa = desiredServiceAccount(agent, spec);
      if (sa) await applyOwned(sa);
      await applyOwned(desiredBootstrapService(agent, spec));
      const headless = desiredHeadlessService(agent, spec);
      await applyOwned(headless);
      await applyOwned(desiredPodDisruptionBudget(agent, spec));
      await this.deleteRetiredServices(agent, spec, headless.metadata!.name!);
      const statuses: ZoneStatus[] = [];
      const waiting: string[] = [];
      const stuck: string[] = [];
      const wanted = new Set<string>();
      for (const z of zones) {
        const desired = desiredDeployment(agent, spec, z.name, z.replicas);
        wanted.add(desired.metadata!.name!);
        const before = this.d.caches
          .deployments(spec.namespace)
          .find((d) => d.metadata?.name === desired.metadata!.name);
        const applied = await applyOwned(desired);
        if (!applied) {
          statuses.push({ name: z.name, replicas: z.replicas, readyReplicas: 0 });
          waiting.push(`${z.name} (conflict)`);
          continue;
        }
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
        const rollout = rolloutState(applied);
        if (rollout.phase === "Stuck") stuck.push(`${z.name}: ${rollout.message}`);
        else if (rollout.phase === "Progressing")
          waiting.push(`${z.name} (${ready}/${z.replicas} ready: ${rollout.message})`);
      }
      const zoneNames = new Set(zones.map((z) => z.name));
      for (const dep of this.ownedDeployments(agent)) {
        // A Deployment of a zone still wanted but under another name (an older operator's naming)
        // serves that zone until every zone's new Deployment has rolled out.
        const replaced = zoneNames.has(dep.metadata?.labels?.[LABEL_ZONE] ?? "");
        if (replaced && (waiting.length > 0 || stuck.length > 0 || conflicts.length > 0)) continue;
        if (dep.metadata?.name && !wanted.has(dep.metadata.name)) {
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
              message: replaced
                ? `deleted Deployment ${dep.metadata.name}: replaced by the zone's Deployment of the current naming`
                : `deleted Deployment ${dep.metadata.name}: its zone is no longer wanted`,
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
      if (conflicts.length > 0) {
        return {
          condition: {
            type: ConditionType.AgentsReady,
            status: "False",
            reason: Reason.Conflict,
            message: `not owned by this WarpAgent, left untouched: ${conflicts.join(", ")}; delete or rename them, or rename the WarpAgent`,
          },
          zones: statuses,
          summary,
          events,
        };
      }
      if (stuck.length > 0) {
        return {
          condition: {
            type: ConditionType.AgentsReady,
            status: "False",
            reason: Reason.RolloutStuck,
            message: `rollout stuck in zones ${stuck.join("; ")}`,
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

  /** Deletes Services this WarpAgent owns under a name it no longer uses (an older operator's headless Service). */
  private async deleteRetiredServices(agent: WarpAgent, spec: ResolvedSpec, headlessName: string): Promise<void> {
    const list = await this.d.client.list<V1Service>(
      { apiVersion: "v1", plural: "services", namespace: spec.namespace },
      { labelSelector: `${LABEL_INSTANCE}=${spec.name}` },
    );
    const current = new Set([bootstrapServiceName(spec.name), headlessName]);
    for (const svc of list.items) {
      const name = svc.metadata?.name;
      const ownedByUs = (svc.metadata?.ownerReferences ?? []).some((o) => o.uid === agent.metadata.uid);
      if (!name || !ownedByUs || current.has(name)) continue;
      try {
        await this.d.client.delete({ apiVersion: "v1", plural: "services", namespace: spec.namespace, name });
      } catch (err) {
        if (!isNotFound(err)) throw err;
      }
    }
  }

  private async finalize(agent: WarpAgent): Promise<ReconcileResult> {
    const finalizers = agent.metadata.finalizers ?? [];
    if (!finalizers.includes(FINALIZER)) return {};
    let spec: ResolvedSpec | undefined;
    try {
      spec = this.resolve(agent);
    } catch {
      spec = undefined; // an invalid spec names no tables we could have created
    }
    if (spec && spec.deletionPolicy === "Delete") {
      // Agents first: a running agent writes to the tables, and none may outlive them.
      const running = await this.stopAgents(agent);
      if (running.length > 0) {
        await this.writeStatus(
          agent,
          [
            {
              type: ConditionType.Ready,
              status: "False",
              reason: Reason.StoppingAgents,
              message: `stopping the agents before deleting the tables; waiting for ${running.join(", ")}`,
            },
          ],
          {},
          [],
        );
        return { requeueAfterMs: this.d.timings.pendingRequeueMs };
      }
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
