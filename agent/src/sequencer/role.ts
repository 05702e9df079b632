/**
 * An agent's part in the sequencer (docs/metadata-log.md section 14.6): it competes for the sequencer
 * lease, answers other agents' commits while it holds it (service.ts), and tells its own forwarder where
 * the sequencer is (forwarder.ts). The lease item carries the holder's address and a token made afresh
 * by each process, which requests must carry: only readers of the metadata table learn it.
 */
import { randomBytes, randomUUID } from "node:crypto";
import type { HttpPostRoute } from "../../../common/http-server.js";
import type { Logger } from "../../../common/logger.js";
import { Lease } from "../background/lease.js";
import type { MetadataStore } from "../store/types.js";
import { SequencerService, type SequencerServiceOptions } from "./service.js";
import {
  SEQUENCER_LEASE_KEY,
  SEQUENCER_LEASE_RENEW_MS,
  sequencerAddress,
  sequencerLeaseInfo,
  type SequencerAddress,
} from "./wire.js";

export interface SequencerRoleOptions {
  readonly store: MetadataStore;
  readonly log: SequencerServiceOptions["log"];
  readonly logger: Logger;
  /** Lease renewal period (ms; default SEQUENCER_LEASE_RENEW_MS). */
  readonly renewMs?: number;
  readonly onHeld?: (held: boolean) => void;
  readonly onRequest?: SequencerServiceOptions["onRequest"];
}

export class SequencerRole {
  private readonly owner = randomUUID();
  private readonly token = randomBytes(32).toString("base64url");
  private lease: Lease | null = null;
  private readonly service: SequencerService;

  constructor(private readonly options: SequencerRoleOptions) {
    this.service = new SequencerService({
      log: options.log,
      isHeld: () => this.isHeld(),
      token: this.token,
      logger: options.logger,
      ...(options.onRequest ? { onRequest: options.onRequest } : {}),
    });
  }

  /** The HTTP route other agents send commits to (wire.ts COMMIT_PATH); answers "not the sequencer" until start(). */
  get route(): HttpPostRoute {
    return this.service.route;
  }

  /** The HTTP route other agents watch the log through (wire.ts WATCH_PATH, watcher.ts). */
  get watchRoute(): HttpPostRoute {
    return this.service.watchRoute;
  }

  /** Whether an agent watching the log through this one has a fetch waiting (this agent's tail then stays active). */
  watchersWant(): boolean {
    return this.service.watchersWant();
  }

  /** Starts competing for the lease, as the agent reachable at `host:httpPort`. */
  start(nodeId: number, host: string, httpPort: number): void {
    if (this.lease) return;
    this.lease = new Lease({
      store: this.options.store,
      key: SEQUENCER_LEASE_KEY,
      owner: this.owner,
      info: sequencerLeaseInfo(nodeId, host, httpPort, this.token),
      renewMs: this.options.renewMs ?? SEQUENCER_LEASE_RENEW_MS,
      logger: this.options.logger,
      ...(this.options.onHeld ? { onChange: this.options.onHeld } : {}),
    });
    this.lease.start();
  }

  /** Whether this agent holds the sequencer lease now. */
  isHeld(): boolean {
    return this.lease?.isHeld() ?? false;
  }

  /** The sequencer to send this agent's commits to: null when there is none, or it is this agent. */
  address(): SequencerAddress | null {
    const holder = this.lease?.holder();
    if (!holder || holder.owner === this.owner) return null;
    return sequencerAddress(holder);
  }

  /** Stops competing; a holder releases the lease, and its requests are refused from now on. */
  async stop(): Promise<void> {
    await this.lease?.stop();
  }
}
