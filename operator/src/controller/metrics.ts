/** The operator's Prometheus metrics, served on /metrics by main.ts. */
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
