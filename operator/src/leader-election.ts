/**
 * Leader election through a coordination.k8s.io/v1 Lease, following client-go's leaderelection:
 * a candidate takes the lease when it is free or when its holder has not renewed it for
 * leaseDuration as observed on this process's own clock (no cross-machine clock comparison); the
 * leader renews every retryPeriod and steps down when it cannot renew within renewDeadline.
 */
import type { Logger } from "../../common/logger.js";
import { errorMessage } from "../../common/logger.js";
import type { KubeClient } from "./kube/client.js";
import { isConflict, isNotFound } from "./kube/client.js";

export interface LeaderElectionOptions {
  client: KubeClient;
  namespace: string;
  name: string;
  identity: string;
  leaseDurationMs: number;
  renewDeadlineMs: number;
  retryPeriodMs: number;
  onStartedLeading: () => void;
  onStoppedLeading: () => void;
  logger: Logger;
}

interface Lease {
  apiVersion: "coordination.k8s.io/v1";
  kind: "Lease";
  metadata: { name: string; namespace: string; resourceVersion?: string };
  spec: {
    holderIdentity?: string | null;
    leaseDurationSeconds?: number;
    acquireTime?: string | null;
    renewTime?: string | null;
    leaseTransitions?: number;
  };
}

function microTime(d: Date): string {
  return d.toISOString().replace(/Z$/, "000Z");
}

export class LeaderElector {
  private leading = false;
  private stopped = false;
  private timer: NodeJS.Timeout | undefined;
  private observed: { record: string; at: number } | undefined;
  private lastRenew = 0;
  private running: Promise<void> = Promise.resolve();

  constructor(private readonly o: LeaderElectionOptions) {}

  isLeader(): boolean {
    return this.leading;
  }

  start(): void {
    this.schedule(0);
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.running = this.tick().finally(() => this.schedule(this.o.retryPeriodMs));
    }, ms);
  }

  private ref() {
    return { apiVersion: "coordination.k8s.io/v1", plural: "leases", namespace: this.o.namespace, name: this.o.name };
  }

  private async tick(): Promise<void> {
    try {
      const ok = await this.tryAcquireOrRenew();
      if (ok) {
        this.lastRenew = Date.now();
        if (!this.leading) {
          this.leading = true;
          this.o.logger.info("became leader", {
            lease: `${this.o.namespace}/${this.o.name}`,
            identity: this.o.identity,
          });
          this.o.onStartedLeading();
        }
        return;
      }
    } catch (err) {
      this.o.logger.warn("lease update failed", { error: errorMessage(err) });
    }
    if (this.leading && Date.now() - this.lastRenew > this.o.renewDeadlineMs) {
      this.leading = false;
      this.o.logger.warn("lost leadership", { identity: this.o.identity });
      this.o.onStoppedLeading();
    }
  }

  private async tryAcquireOrRenew(): Promise<boolean> {
    const { client, identity } = this.o;
    const now = new Date();
    const spec = (transitions: number, acquireTime: string): Lease["spec"] => ({
      holderIdentity: identity,
      leaseDurationSeconds: Math.ceil(this.o.leaseDurationMs / 1000),
      acquireTime,
      renewTime: microTime(now),
      leaseTransitions: transitions,
    });
    let lease: Lease;
    try {
      lease = await client.get<Lease>(this.ref());
    } catch (err) {
      if (!isNotFound(err)) throw err;
      try {
        await client.create<Lease>(
          { apiVersion: "coordination.k8s.io/v1", plural: "leases", namespace: this.o.namespace },
          {
            apiVersion: "coordination.k8s.io/v1",
            kind: "Lease",
            metadata: { name: this.o.name, namespace: this.o.namespace },
            spec: spec(0, microTime(now)),
          },
        );
        return true;
      } catch (e) {
        if (isConflict(e) || (e as { code?: number }).code === 409) return false;
        throw e;
      }
    }
    const holder = lease.spec.holderIdentity ?? "";
    const record = JSON.stringify([holder, lease.spec.renewTime, lease.spec.leaseTransitions]);
    if (!this.observed || this.observed.record !== record) this.observed = { record, at: Date.now() };
    const durationMs = (lease.spec.leaseDurationSeconds ?? 15) * 1000;
    const expired = this.observed.at + durationMs < Date.now();
    if (holder !== "" && holder !== identity && !expired) return false;
    const transitions = (lease.spec.leaseTransitions ?? 0) + (holder === identity ? 0 : 1);
    const acquireTime = holder === identity && lease.spec.acquireTime ? lease.spec.acquireTime : microTime(now);
    try {
      await client.replace<Lease>(this.ref(), { ...lease, spec: spec(transitions, acquireTime) });
      return true;
    } catch (err) {
      if (isConflict(err)) return false;
      throw err;
    }
  }

  /** Stops campaigning; a leader releases the lease so another replica takes over at once. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.running;
    if (!this.leading) return;
    this.leading = false;
    try {
      const lease = await this.o.client.get<Lease>(this.ref());
      if (lease.spec.holderIdentity === this.o.identity) {
        await this.o.client.replace(this.ref(), {
          ...lease,
          spec: { ...lease.spec, holderIdentity: null, leaseDurationSeconds: 1, renewTime: microTime(new Date()) },
        });
      }
    } catch (err) {
      this.o.logger.warn("could not release lease", { error: errorMessage(err) });
    }
  }
}
