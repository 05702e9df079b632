/** Prometheus metrics and the /metrics, /healthz, /readyz endpoints of the operator. */
import http from "node:http";
import type { AddressInfo } from "node:net";
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";

export class OperatorMetrics {
  readonly registry = new Registry();
  readonly reconciles = new Counter({
    name: "warp_operator_reconcile_total",
    help: "Reconcile passes by result.",
    labelNames: ["result"],
    registers: [this.registry],
  });
  readonly reconcileSeconds = new Histogram({
    name: "warp_operator_reconcile_duration_seconds",
    help: "Duration of reconcile passes.",
    registers: [this.registry],
  });
  readonly queueDepth = new Gauge({
    name: "warp_operator_workqueue_depth",
    help: "Keys waiting in the work queue.",
    registers: [this.registry],
  });
  readonly leader = new Gauge({
    name: "warp_operator_leader",
    help: "1 when this replica is the leader.",
    registers: [this.registry],
  });
  readonly informerRestarts = new Gauge({
    name: "warp_operator_informer_errors",
    help: "Informer errors that caused a relist.",
    labelNames: ["resource"],
    registers: [this.registry],
  });
  readonly awsErrors = new Counter({
    name: "warp_operator_aws_errors_total",
    help: "AWS calls that failed, by condition reason.",
    labelNames: ["reason"],
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: "warp_operator_" });
  }
}

export interface HealthChecks {
  /** The process is alive and its loops are running. */
  live(): boolean;
  /** Caches synced (leader) or standing by (follower). */
  ready(): boolean;
}

export interface MetricsServer {
  readonly port: number;
  close(): Promise<void>;
}

export async function startMetricsServer(
  metrics: OperatorMetrics,
  health: HealthChecks,
  port: number,
  host: string,
): Promise<MetricsServer> {
  const server = http.createServer((req, res) => {
    const url = (req.url ?? "/").split("?")[0];
    if (url === "/metrics") {
      metrics.registry
        .metrics()
        .then((text) => {
          res.writeHead(200, { "Content-Type": metrics.registry.contentType });
          res.end(text);
        })
        .catch((err: unknown) => {
          res.writeHead(500);
          res.end(String(err));
        });
      return;
    }
    if (url === "/healthz" || url === "/readyz") {
      const ok = url === "/healthz" ? health.live() : health.ready();
      res.writeHead(ok ? 200 : 503, { "Content-Type": "text/plain" });
      res.end(ok ? "ok\n" : "not ready\n");
      return;
    }
    res.writeHead(404);
    res.end();
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, resolve);
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
