/**
 * The cluster view of an agent among many (shared stores): the live agents of the registry, zone-aware
 * partition leadership and group coordinators chosen by rendezvous (highest-random-weight) hashing.
 *
 * Rendezvous hashing gives each (key, agent) pair a pseudo-random weight and picks the agent with the
 * highest weight. Every agent that sees the same members picks the same one without talking to the
 * others; when an agent leaves, only the keys it held move (each to its second choice), and a new
 * agent takes about 1/n of the keys from the others.
 */
import type { AgentInfo, ClusterView } from "./types.js";

/** 32-bit FNV-1a over the UTF-16 code units of a string. */
function fnv1a(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** MurmurHash3's 32-bit finaliser: spreads every input bit over the output. */
function fmix32(x: number): number {
  let h = x >>> 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** Weight of `nodeId` for a key whose hash is `keyHash`. */
export function rendezvousWeight(keyHash: number, nodeId: number): number {
  return fmix32(keyHash ^ fmix32(Math.imul(nodeId, 0x9e3779b1) + 0x7f4a7c15));
}

/** The agent with the highest weight for `key` (ties, vanishingly rare, go to the lower node id). */
export function rendezvousPick<T extends AgentInfo>(key: string, agents: readonly T[]): T {
  if (agents.length === 0) throw new Error("rendezvous over an empty agent list");
  const h = fnv1a(key);
  let best = agents[0]!;
  let bestWeight = rendezvousWeight(h, best.nodeId);
  for (let i = 1; i < agents.length; i++) {
    const a = agents[i]!;
    const w = rendezvousWeight(h, a.nodeId);
    if (w > bestWeight || (w === bestWeight && a.nodeId < best.nodeId)) {
      best = a;
      bestWeight = w;
    }
  }
  return best;
}

export function partitionKey(topic: string, partition: number): string {
  return `p\u0000${topic}\u0000${partition}`;
}

export function groupKey(groupId: string): string {
  return `g\u0000${groupId}`;
}

/** Members a ClusterView is computed from (the registry, or a fixed list in tests). */
export interface MembershipSource {
  readonly self: AgentInfo;
  liveAgents(): readonly AgentInfo[];
  /** True while this agent cannot heartbeat (the others have dropped it); default false. */
  isolated?(): boolean;
  onChange(listener: (agents: readonly AgentInfo[]) => void): () => void;
}

export class DynamicCluster implements ClusterView {
  private readonly byZone = new Map<string, readonly AgentInfo[]>();
  private members: readonly AgentInfo[] = [];
  private isolatedNow = false;
  private readonly listeners = new Set<(agents: readonly AgentInfo[]) => void>();
  private readonly unsubscribe: () => void;

  constructor(
    readonly clusterId: string,
    /** An AgentRegistry, or any other membership source. */
    private readonly source: MembershipSource,
  ) {
    this.update(source.liveAgents());
    this.unsubscribe = source.onChange((agents) => {
      this.update(agents);
      for (const l of this.listeners) l(this.members);
    });
  }

  get self(): AgentInfo {
    return this.source.self;
  }

  /**
   * True while this agent cannot reach the store to heartbeat: it then leaves itself out of its view.
   * Read from the source at the last membership update, so it always agrees with liveAgents().
   */
  isolated(): boolean {
    return this.isolatedNow;
  }

  private update(agents: readonly AgentInfo[]): void {
    const self = this.source.self;
    this.isolatedNow = this.source.isolated?.() ?? false;
    // Another agent advertising port 0 has not bound its Kafka port yet (it heartbeats before its
    // listener starts, then rewrites its heartbeat with the port): clients cannot reach it yet.
    let list = agents.filter((a) => a.nodeId === self.nodeId || a.port !== 0);
    if (!list.some((a) => a.nodeId === self.nodeId)) list.push(self);
    // Isolated: present the other agents only (when there are any), so Metadata sends clients to
    // agents that can store their data rather than back here.
    if (this.isolatedNow && list.some((a) => a.nodeId !== self.nodeId))
      list = list.filter((a) => a.nodeId !== self.nodeId);
    list.sort((a, b) => a.nodeId - b.nodeId);
    this.members = list;
    this.byZone.clear();
    for (const a of list) {
      if (a.zone === null) continue;
      this.byZone.set(a.zone, [...(this.byZone.get(a.zone) ?? []), a]);
    }
  }

  /** Live agents sorted by node id; contains self unless this agent is isolated and others exist. */
  liveAgents(): readonly AgentInfo[] {
    return this.members;
  }

  /** The agents of `zone`, or every live agent when the zone has none (or no zone is given). */
  agentsForZone(zone: string | null): readonly AgentInfo[] {
    if (zone === null) return this.members;
    return this.byZone.get(zone) ?? this.members;
  }

  /** Leader of a partition as told to clients of `zone`: spread over that zone's agents. */
  leaderFor(topic: string, partition: number, zone: string | null): AgentInfo {
    return rendezvousPick(partitionKey(topic, partition), this.agentsForZone(zone));
  }

  /** The coordinator of a consumer group: chosen over all live agents, whatever the client's zone. */
  coordinatorFor(groupId: string): AgentInfo {
    return rendezvousPick(groupKey(groupId), this.members);
  }

  /** Called with the new member list when agents join or leave. Returns an unsubscribe function. */
  onMembershipChange(listener: (agents: readonly AgentInfo[]) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  close(): void {
    this.unsubscribe();
    this.listeners.clear();
  }
}
