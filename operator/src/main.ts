/**
 * The operator process: `runOperator(options)` loads the Kubernetes configuration, serves /metrics,
 * /healthz and /readyz, campaigns for the leader Lease (when enabled) and runs the controller while
 * it leads. The `warp operator` CLI subcommand calls it; tests call it in-process.
 */
import os from "node:os";
import { KubeConfig } from "@kubernetes/client-node";
import { healthRoutes, serveHttp } from "../../common/http-server.js";
import type { Readiness, RunningHttpServer } from "../../common/http-server.js";
import type { Logger } from "../../common/logger.js";
import { componentLogger, errorMessage } from "../../common/logger.js";
import { DEFAULT_POLICY } from "./api/policy.js";
import type { AgentPolicy } from "./api/policy.js";
import { AwsClients } from "./aws/clients.js";
import { Controller } from "./controller/controller.js";
import type { ReconcilerHooks } from "./controller/reconciler.js";
import { EventRecorder } from "./controller/events.js";
import { KubeClient } from "./kube/client.js";
import { LeaderElector } from "./leader-election.js";
import { OperatorMetrics } from "./controller/metrics.js";

export interface OperatorOptions {
  /** A KubeConfig, or a kubeconfig file path. Omitted: in-cluster config when inCluster, else the default loading rules. */
  kubeconfig?: KubeConfig | string;
  inCluster?: boolean;
  /** Namespaces to watch; omitted or empty: all namespaces. */
  namespaces?: string[];
  leaderElection?: {
    enabled: boolean;
    leaseName?: string;
    /** Default: the pod's namespace (POD_NAMESPACE) or "default". */
    leaseNamespace?: string;
    /** Default: POD_NAME or the host name, plus the process id. */
    identity?: string;
    leaseDurationMs?: number;
    renewDeadlineMs?: number;
    retryPeriodMs?: number;
  };
  /** Port for /metrics, /healthz, /readyz (0 picks a free one); false to serve nothing. Default 8081. */
  metricsPort?: number | false;
  metricsHost?: string;
  /** AWS endpoint overrides used when a WarpAgent sets none (tests, LocalStack). */
  aws?: { dynamodbEndpoint?: string; s3Endpoint?: string };
  /** Discover zones from node labels for WarpAgents without spec.zones (needs nodes list/watch). Default true. */
  discoverZones?: boolean;
  workers?: number;
  requeue?: { baseDelayMs?: number; maxDelayMs?: number; pendingMs?: number };
  informer?: { watchTimeoutSeconds?: number; resyncMs?: number; backoffBaseMs?: number; backoffMaxMs?: number };
  /** What WarpAgents may ask to run (images, service accounts, Secrets in env). Default: DEFAULT_POLICY. */
  policy?: AgentPolicy;
  logger?: Logger;
  hooks?: ReconcilerHooks;
}

export interface OperatorHandle {
  stop(): Promise<void>;
  isLeader(): boolean;
  /** The port /metrics is served on, when serving. */
  readonly metricsPort: number | undefined;
  /** The running controller (while leading), for tests. */
  controller(): Controller | undefined;
}

function loadKubeConfig(o: OperatorOptions): KubeConfig {
  if (o.kubeconfig instanceof KubeConfig) return o.kubeconfig;
  const kc = new KubeConfig();
  if (typeof o.kubeconfig === "string") kc.loadFromFile(o.kubeconfig);
  else if (o.inCluster) kc.loadFromCluster();
  else kc.loadFromDefault();
  return kc;
}

export async function runOperator(options: OperatorOptions = {}): Promise<OperatorHandle> {
  const logger = options.logger ?? componentLogger("operator");
  const client = await KubeClient.fromKubeConfig(loadKubeConfig(options));
  const metrics = new OperatorMetrics();
  const aws = new AwsClients({
    ...(options.aws?.dynamodbEndpoint ? { dynamodb: options.aws.dynamodbEndpoint } : {}),
    ...(options.aws?.s3Endpoint ? { s3: options.aws.s3Endpoint } : {}),
  });
  const events = new EventRecorder(client, logger, process.env.POD_NAME ?? os.hostname());
  const le = options.leaderElection ?? { enabled: false };
  let controller: Controller | undefined;
  let stopping = false;
  let transition: Promise<void> = Promise.resolve();

  const newController = () =>
    new Controller({
      client,
      aws,
      events,
      metrics,
      logger,
      namespaces: options.namespaces ?? [],
      discoverZones: options.discoverZones ?? true,
      policy: options.policy ?? DEFAULT_POLICY,
      workers: options.workers ?? 2,
      requeue: {
        baseDelayMs: options.requeue?.baseDelayMs ?? 500,
        maxDelayMs: options.requeue?.maxDelayMs ?? 5 * 60_000,
        pendingMs: options.requeue?.pendingMs ?? 5_000,
      },
      informer: {
        watchTimeoutSeconds: options.informer?.watchTimeoutSeconds ?? 300,
        resyncMs: options.informer?.resyncMs ?? 10 * 60_000,
        backoffBaseMs: options.informer?.backoffBaseMs ?? 500,
        backoffMaxMs: options.informer?.backoffMaxMs ?? 30_000,
      },
      ...(options.hooks ? { hooks: options.hooks } : {}),
    });

  const startLeading = () => {
    transition = transition.then(async () => {
      if (stopping || controller) return;
      metrics.leader.set(1);
      const c = newController();
      controller = c;
      logger.info("controller starting", { namespaces: options.namespaces?.length ? options.namespaces : "all" });
      // Not awaited: start() waits for the caches to sync, which may take long (or until RBAC is
      // fixed); stop() must not queue behind it.
      c.start().catch((err: unknown) => logger.error("controller failed to start", { error: errorMessage(err) }));
    });
  };
  const stopLeading = () => {
    transition = transition.then(async () => {
      metrics.leader.set(0);
      const c = controller;
      controller = undefined;
      await c?.stop();
    });
  };

  let elector: LeaderElector | undefined;
  if (le.enabled) {
    elector = new LeaderElector({
      client,
      namespace: le.leaseNamespace ?? process.env.POD_NAMESPACE ?? "default",
      name: le.leaseName ?? "warp-operator",
      identity: le.identity ?? `${process.env.POD_NAME ?? os.hostname()}_${process.pid}`,
      leaseDurationMs: le.leaseDurationMs ?? 15_000,
      renewDeadlineMs: le.renewDeadlineMs ?? 10_000,
      retryPeriodMs: le.retryPeriodMs ?? 2_000,
      onStartedLeading: startLeading,
      onStoppedLeading: stopLeading,
      logger,
    });
    elector.start();
  } else {
    startLeading();
  }

  // Alive until stopped; ready when the caches synced (leader) or while standing by (follower).
  const liveness = (): Readiness => (stopping ? { ready: false, reason: "stopping" } : { ready: true });
  const readiness = (): Readiness => {
    if (stopping) return { ready: false, reason: "stopping" };
    if (controller) return controller.hasSynced() ? { ready: true } : { ready: false, reason: "caches not synced" };
    return elector !== undefined ? { ready: true } : { ready: false, reason: "controller not started" };
  };
  let server: RunningHttpServer | undefined;
  if (options.metricsPort !== false) {
    try {
      server = await serveHttp({
        port: options.metricsPort ?? 8081,
        host: options.metricsHost ?? "0.0.0.0",
        routes: healthRoutes({ registry: metrics.registry, liveness, readiness }),
        logger,
      });
    } catch (err) {
      stopping = true;
      await elector?.stop();
      stopLeading();
      await transition;
      throw new Error(`cannot serve metrics on port ${options.metricsPort ?? 8081}: ${errorMessage(err)}`, {
        cause: err,
      });
    }
  }

  return {
    metricsPort: server?.port,
    isLeader: () => (elector ? elector.isLeader() : true),
    controller: () => controller,
    stop: async () => {
      if (stopping) return;
      stopping = true;
      stopLeading();
      await transition;
      await elector?.stop();
      await server?.close();
      aws.destroy();
      client.close();
    },
  };
}
