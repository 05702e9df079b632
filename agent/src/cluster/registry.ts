/**
 * Agent registry on MetadataStore items, shared by every agent of a cluster:
 *
 *   node/<id>   claim of a Kafka node id (int32 > 0): put only if absent, with an expiry, renewed by
 *               the holder with a version condition. Ids of dead agents free themselves on expiry.
 *   agent/<id>  heartbeat {instance, nodeId, host, port, zone, startedAt, logFormat}, rewritten every heartbeatMs
 *               with expiresAt = now + sessionMs. An agent that stops heartbeating drops out of
 *               every view once its item expires.
 *
 * liveAgents() is refreshed from listItems("agent/") every refreshMs (1 s; a heartbeat every second
 * refresh), and always contains this agent.
 * Heartbeats are conditional on the version this agent wrote last, so two processes never share an
 * id silently: an agent that finds its id taken (it was paused longer than its claim) claims another.
 *
 * A restarted agent (killed, so it did not deregister) finds its previous process's heartbeat still
 * live at the same advertised host:port. One address is one agent to clients, so it takes that node id
 * over (claim and heartbeat, conditional on the versions it read) instead of claiming a new one:
 * Metadata never lists two brokers at one address and partition leadership does not move. Other
 * heartbeats at its address (an -nodeId asking for another id) are deleted at once.
 */
import { randomUUID } from "node:crypto";
import type { Logger } from "../../../common/logger.js";
import { errorMessage } from "../../../common/logger.js";
import type { AgentInfo } from "./types.js";
import { LATEST_ENTRY_FORMAT } from "../metadata/entry-codec.js";
import { isLive, type MetadataStore } from "../store/types.js";

export const NODE_PREFIX = "node/";
export const AGENT_PREFIX = "agent/";
const MAX_NODE_ID = 0x7fffffff;
/** The default heartbeat period (ms); the cost model (cli/cost-model/model.ts) prices it. */
export const DEFAULT_HEARTBEAT_MS = 2000;
/** How often the members are read by default (ms). */
export const DEFAULT_REFRESH_MS = 1000;
/** The default session (ms): an agent not heard from for this long is gone. */
export const DEFAULT_SESSION_MS = 10_000;
/** A node-id claim lives this many sessions by default, renewed every quarter of it. */
export const CLAIM_SESSIONS = 6;

export interface RegisteredAgent extends AgentInfo {
  /** Random id of the process, so a restarted agent reusing a node id is told apart. */
  readonly instance: string;
  /** Wall-clock ms when the agent started. */
  readonly startedAt: number;
  /**
   * The newest metadata log entry format the agent reads (the log writes the newest all live agents
   * read: metadata/entry-codec.ts entryFormatFor; binary from format 3). Absent from agents before binary
   * entries (counted as reading format 1).
   */
  readonly logFormat?: number;
}

export interface RegistryOptions {
  readonly store: MetadataStore;
  readonly host: string;
  readonly port: number;
  readonly zone: string | null;
  readonly logger: Logger;
  /** Try this node id first (flag -nodeId); another is chosen if it is taken. */
  readonly preferredNodeId?: number;
  /**
   * Heartbeat period; default 2000 ms, five per session (Kafka's KRaft brokers: 2 s and 9 s). Each
   * heartbeat is a write unit, at any traffic.
   */
  readonly heartbeatMs?: number;
  /**
   * How often the members are read (default 1000 ms, and never more rarely than heartbeatMs): a read
   * unit, a fifth of a heartbeat's price, so an agent that starts or stops is seen within a second.
   */
  readonly refreshMs?: number;
  /** An agent not heard from for this long is gone; default 10000 ms. */
  readonly sessionMs?: number;
  /** Lifetime of the node-id claim, renewed every quarter of it; default 6 × sessionMs. */
  readonly claimMs?: number;
  /**
   * Why this agent cannot store data now (ingest/health.ts), or null. While there is a reason,
   * heartbeats are not written: the others drop this agent after a session, and it steps out too.
   */
  readonly dataPathProblem?: () => string | null;
}

type Listener = (agents: readonly RegisteredAgent[]) => void;

function encodeAgent(a: RegisteredAgent): Buffer {
  return Buffer.from(JSON.stringify(a), "utf8");
}

function decodeAgent(data: Buffer): RegisteredAgent | null {
  try {
    const v = JSON.parse(data.toString("utf8")) as Partial<RegisteredAgent>;
    if (
      typeof v.nodeId !== "number" ||
      typeof v.host !== "string" ||
      typeof v.port !== "number" ||
      typeof v.instance !== "string"
    )
      return null;
    return {
      nodeId: v.nodeId,
      host: v.host,
      port: v.port,
      zone: typeof v.zone === "string" ? v.zone : null,
      instance: v.instance,
      startedAt: typeof v.startedAt === "number" ? v.startedAt : 0,
      ...(typeof v.logFormat === "number" ? { logFormat: v.logFormat } : {}),
    };
  } catch {
    return null;
  }
}

/** Identity of the membership as clients see it (who, where). */
function membershipKey(agents: readonly AgentInfo[]): string {
  return agents.map((a) => `${a.nodeId}@${a.host}:${a.port}/${a.zone ?? ""}`).join(",");
}

export class AgentRegistry {
  private readonly heartbeatMs: number;
  private readonly refreshMs: number;
  /** When the last heartbeat write started (ms). */
  private lastBeatAt = 0;
  private readonly sessionMs: number;
  private readonly claimMs: number;
  private readonly instance = randomUUID();
  private readonly startedAt = Date.now();
  private selfValue: RegisteredAgent;
  private claimVersion = 0;
  private claimRenewedAt = 0;
  private heartbeatVersion: number | null = null;
  private agents: readonly RegisteredAgent[] = [];
  private lastMembership = "";
  /** When a heartbeat was last written; older than sessionMs, the others have dropped this agent. */
  private lastBeatOkAt = Date.now();
  private wasIsolated = false;
  /** Whether the last beat saw a data-path problem (logged when one starts and ends). */
  private dataPathFailing = false;
  private readonly listeners = new Set<Listener>();
  private timer: NodeJS.Timeout | null = null;
  private beating: Promise<void> | null = null;
  private stopped = false;
  /** Test seam: when true, heartbeats are skipped (a hung or partitioned agent). */
  paused = false;

  private constructor(private readonly options: RegistryOptions) {
    this.heartbeatMs = options.heartbeatMs ?? DEFAULT_HEARTBEAT_MS;
    this.refreshMs = Math.min(options.refreshMs ?? DEFAULT_REFRESH_MS, this.heartbeatMs);
    this.sessionMs = options.sessionMs ?? DEFAULT_SESSION_MS;
    this.claimMs = options.claimMs ?? this.sessionMs * CLAIM_SESSIONS;
    if (this.heartbeatMs <= 0 || this.sessionMs <= this.heartbeatMs) {
      throw new RangeError(
        `registry sessionMs (${this.sessionMs}) must be larger than heartbeatMs (${this.heartbeatMs})`,
      );
    }
    if (this.claimMs < this.sessionMs)
      throw new RangeError(`registry claimMs (${this.claimMs}) must be at least sessionMs (${this.sessionMs})`);
    this.selfValue = {
      nodeId: 0,
      host: options.host,
      port: options.port,
      zone: options.zone,
      instance: this.instance,
      startedAt: this.startedAt,
      logFormat: LATEST_ENTRY_FORMAT,
    };
  }

  /** Claims a node id, writes the first heartbeat, reads the members and starts heartbeating. */
  static async start(options: RegistryOptions): Promise<AgentRegistry> {
    const registry = new AgentRegistry(options);
    if (!(await registry.takeOverPrevious(options.preferredNodeId)))
      await registry.claimNodeId(options.preferredNodeId);
    registry.lastBeatAt = Date.now();
    await registry.writeHeartbeat();
    await registry.refresh();
    registry.timer = setInterval(() => registry.tick(), registry.refreshMs);
    registry.timer.unref();
    return registry;
  }

  /** This agent (its node id can change only if its claim was lost while it was paused). */
  get self(): RegisteredAgent {
    return this.selfValue;
  }

  get nodeId(): number {
    return this.selfValue.nodeId;
  }

  /** Live agents sorted by node id; always contains this agent. */
  liveAgents(): readonly RegisteredAgent[] {
    return this.agents;
  }

  /** Called with the new member list whenever membership (ids, addresses, zones) changes. */
  onChange(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * Updates the advertised port (when the Kafka server bound port 0): this agent's own view changes
   * at once and the heartbeat carrying it is written before this resolves, so no member (and no
   * Metadata response) keeps advertising the old port until the next beat.
   */
  async setPort(port: number): Promise<void> {
    this.selfValue = { ...this.selfValue, port };
    this.agents = this.agents.map((a) => (a.nodeId === this.selfValue.nodeId ? this.selfValue : a));
    this.publish();
    await this.writeHeartbeat();
  }

  /**
   * True while this agent's last heartbeat write is older than the session: the other agents have
   * dropped it from their views (it cannot reach the store). It should then stop presenting itself
   * as a member (see DynamicCluster) so that its clients move to agents that can store their data.
   */
  isolated(): boolean {
    return !this.stopped && Date.now() - this.lastBeatOkAt > this.sessionMs;
  }

  private tick(): void {
    // Checked on every tick, also while a heartbeat hangs on an unreachable store.
    this.checkIsolation();
    if (this.beating || this.stopped || this.paused) return;
    this.beating = this.beat()
      .catch((err: unknown) => {
        this.options.logger.warn("agent heartbeat failed", { nodeId: this.nodeId, error: errorMessage(err) });
      })
      .finally(() => {
        this.beating = null;
        this.checkIsolation();
      });
  }

  private checkIsolation(): void {
    const isolated = this.isolated();
    if (isolated === this.wasIsolated) return;
    this.wasIsolated = isolated;
    if (isolated)
      this.options.logger.warn(
        "no heartbeat written for a whole session: this agent steps out of the cluster it advertises",
        { nodeId: this.nodeId, sessionMs: this.sessionMs },
      );
    else
      this.options.logger.info("heartbeat written again: this agent is back in the cluster", { nodeId: this.nodeId });
    this.lastMembership = ""; // same members, different view: tell the listeners
    this.publish();
  }

  private async beat(): Promise<void> {
    if (Date.now() - this.claimRenewedAt >= this.claimMs / 4) await this.renewClaim();
    const problem = this.options.dataPathProblem?.() ?? null;
    if ((problem !== null) !== this.dataPathFailing) {
      this.dataPathFailing = problem !== null;
      if (problem !== null)
        this.options.logger.warn(
          "ingestion is failing: heartbeats stop so that clients move to agents that can store their data",
          { nodeId: this.nodeId, problem },
        );
      else this.options.logger.info("ingestion recovered: heartbeats resume", { nodeId: this.nodeId });
    }
    // Ticks come every refreshMs; a heartbeat every heartbeatMs (half a tick early rather than a tick late).
    if (problem === null && Date.now() - this.lastBeatAt >= this.heartbeatMs - this.refreshMs / 2) {
      this.lastBeatAt = Date.now();
      await this.writeHeartbeat();
    }
    await this.refresh();
  }

  /** Reads the live members now (also done every refreshMs). */
  async refresh(): Promise<void> {
    const items = await this.options.store.listItems(AGENT_PREFIX);
    const now = Date.now();
    const byId = new Map<number, RegisteredAgent>();
    for (const item of items) {
      if (!isLive(item, now)) continue;
      const agent = decodeAgent(item.value);
      if (!agent || item.key !== `${AGENT_PREFIX}${agent.nodeId}`) continue;
      byId.set(agent.nodeId, agent);
    }
    if (!this.stopped) byId.set(this.selfValue.nodeId, this.selfValue);
    this.agents = [...byId.values()].sort((a, b) => a.nodeId - b.nodeId);
    this.publish();
  }

  private publish(): void {
    const key = membershipKey(this.agents);
    if (key === this.lastMembership) return;
    this.lastMembership = key;
    for (const l of this.listeners) {
      try {
        l(this.agents);
      } catch (err) {
        this.options.logger.warn("membership listener failed", { error: errorMessage(err) });
      }
    }
  }

  /**
   * Heartbeats of other processes at this agent's advertised address that have not expired: earlier
   * runs of this agent. None while the port is not known yet (0).
   */
  private async previousAtThisAddress(): Promise<Array<{ agent: RegisteredAgent; version: number }>> {
    if (this.selfValue.port === 0) return [];
    const now = Date.now();
    const found: Array<{ agent: RegisteredAgent; version: number }> = [];
    for (const item of await this.options.store.listItems(AGENT_PREFIX)) {
      if (!isLive(item, now)) continue;
      const agent = decodeAgent(item.value);
      if (!agent || item.key !== `${AGENT_PREFIX}${agent.nodeId}` || agent.instance === this.instance) continue;
      if (agent.host === this.selfValue.host && agent.port === this.selfValue.port)
        found.push({ agent, version: item.version });
    }
    return found;
  }

  /**
   * At start-up: takes over the node id of the previous process at this address (the preferred id's,
   * when one is preferred), and deletes the other heartbeats at this address. Returns whether an id
   * was taken over.
   */
  private async takeOverPrevious(preferred?: number): Promise<boolean> {
    const store = this.options.store;
    const previous = await this.previousAtThisAddress();
    const reuse = previous.find((p) => preferred === undefined || p.agent.nodeId === preferred);
    if (reuse) {
      const id = reuse.agent.nodeId;
      const key = `${NODE_PREFIX}${id}`;
      const claim = await store.getItem(key);
      // The claim is the previous process's (or has expired): take it over at the version read.
      if (claim === null || claim.value.toString("utf8") === reuse.agent.instance) {
        const started = Date.now();
        const version = await store.putItem(
          key,
          Buffer.from(this.instance),
          claim ? { kind: "version", version: claim.version } : { kind: "absent" },
          new Date(started + this.claimMs),
        );
        if (version !== null) {
          this.claimVersion = version;
          this.claimRenewedAt = started;
          // The first heartbeat replaces the previous process's, at the version read.
          this.heartbeatVersion = reuse.version;
          this.selfValue = { ...this.selfValue, nodeId: id };
          this.options.logger.info("took over the node id of the previous agent at this address", {
            nodeId: id,
            address: `${this.selfValue.host}:${this.selfValue.port}`,
            previousStartedAt: new Date(reuse.agent.startedAt).toISOString(),
          });
          for (const p of previous) if (p !== reuse) await this.dropPrevious(p);
          return true;
        }
      }
    }
    for (const p of previous) await this.dropPrevious(p);
    return false;
  }

  /** Deletes a previous process's heartbeat at this address (its node claim expires by itself). */
  private async dropPrevious(previous: { agent: RegisteredAgent; version: number }): Promise<void> {
    const { nodeId } = previous.agent;
    if (await this.options.store.deleteItem(`${AGENT_PREFIX}${nodeId}`, previous.version))
      this.options.logger.info("removed the heartbeat of a previous agent at this address", {
        nodeId,
        address: `${this.selfValue.host}:${this.selfValue.port}`,
      });
  }

  private async claimNodeId(preferred?: number): Promise<void> {
    const store = this.options.store;
    for (let attempt = 0; attempt < 1000; attempt++) {
      let id: number;
      if (
        attempt === 0 &&
        preferred !== undefined &&
        preferred > 0 &&
        preferred <= MAX_NODE_ID &&
        (await store.getItem(`${AGENT_PREFIX}${preferred}`)) === null
      ) {
        id = preferred;
      } else {
        // The smallest id nobody holds (no claim, no live heartbeat); a conflict (another agent starting
        // now) moves on to the next.
        const held = [...(await store.listItems(NODE_PREFIX)), ...(await store.listItems(AGENT_PREFIX))];
        const taken = new Set(held.map((i) => Number(i.key.slice(i.key.indexOf("/") + 1))));
        id = 1;
        while (taken.has(id)) id++;
        if (attempt > 0) id += Math.floor(Math.random() * Math.min(attempt, 16));
        while (taken.has(id)) id++;
      }
      const started = Date.now();
      const version = await store.putItem(
        `${NODE_PREFIX}${id}`,
        Buffer.from(this.instance),
        { kind: "absent" },
        new Date(started + this.claimMs),
      );
      if (version !== null) {
        this.claimVersion = version;
        this.claimRenewedAt = started;
        this.heartbeatVersion = null;
        this.selfValue = { ...this.selfValue, nodeId: id };
        this.options.logger.info("claimed node id", { nodeId: id });
        return;
      }
    }
    throw new Error("could not claim a Kafka node id after 1000 attempts");
  }

  private async renewClaim(): Promise<void> {
    const started = Date.now();
    const key = `${NODE_PREFIX}${this.nodeId}`;
    const version = await this.options.store.putItem(
      key,
      Buffer.from(this.instance),
      { kind: "version", version: this.claimVersion },
      new Date(started + this.claimMs),
    );
    if (version !== null) {
      this.claimVersion = version;
      this.claimRenewedAt = started;
      return;
    }
    // The claim expired (this process was paused); take it again if still free, else another id.
    const again = await this.options.store.putItem(
      key,
      Buffer.from(this.instance),
      { kind: "absent" },
      new Date(started + this.claimMs),
    );
    if (again !== null) {
      this.claimVersion = again;
      this.claimRenewedAt = started;
      return;
    }
    await this.lostNodeId();
  }

  private async lostNodeId(): Promise<void> {
    const old = this.nodeId;
    this.options.logger.error("node id taken over by another agent; claiming a new one", { nodeId: old });
    await this.claimNodeId();
  }

  private async writeHeartbeat(): Promise<void> {
    const store = this.options.store;
    const key = `${AGENT_PREFIX}${this.nodeId}`;
    const value = encodeAgent(this.selfValue);
    const expiresAt = new Date(Date.now() + this.sessionMs);
    const condition =
      this.heartbeatVersion === null
        ? ({ kind: "absent" } as const)
        : ({ kind: "version", version: this.heartbeatVersion } as const);
    let version = await store.putItem(key, value, condition, expiresAt);
    if (version === null) {
      const current = await store.getItem(key);
      const holder = current ? decodeAgent(current.value) : null;
      if (!current || holder?.instance === this.instance) {
        // Our own item expired (pause), or a retried write landed: rewrite it.
        version = await store.putItem(
          key,
          value,
          current ? { kind: "version", version: current.version } : { kind: "absent" },
          expiresAt,
        );
      }
      if (version === null) {
        await this.lostNodeId();
        return this.writeHeartbeat();
      }
    }
    this.heartbeatVersion = version;
    this.lastBeatOkAt = Date.now();
  }

  /** Stops heartbeating and removes this agent's items, so others see it leave at once. */
  async stop(options: { deregister?: boolean } = {}): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.beating;
    if (options.deregister === false) return;
    try {
      if (this.heartbeatVersion !== null)
        await this.options.store.deleteItem(`${AGENT_PREFIX}${this.nodeId}`, this.heartbeatVersion);
      await this.options.store.deleteItem(`${NODE_PREFIX}${this.nodeId}`, this.claimVersion);
    } catch (err) {
      this.options.logger.warn("agent deregistration failed; its items will expire", {
        nodeId: this.nodeId,
        error: errorMessage(err),
      });
    }
  }
}
