/**
 * Cluster membership as the rest of the agent sees it: the agents and which of them leads, coordinates
 * or serves a zone. Implemented by DynamicCluster (registry-backed) and SingleAgentCluster.
 */
export interface AgentInfo {
  /** Kafka broker id (node id) of the agent. */
  readonly nodeId: number;
  readonly host: string;
  readonly port: number;
  readonly zone: string | null;
}

export interface ClusterView {
  readonly clusterId: string;
  /** This agent. */
  readonly self: AgentInfo;
  /** Live agents, sorted by node id; contains self unless this agent is isolated. */
  liveAgents(): readonly AgentInfo[];
  /**
   * True while this agent cannot reach the store to heartbeat (the others have dropped it): it then
   * refuses produce with NOT_LEADER_OR_FOLLOWER and leaves itself out of Metadata.
   */
  isolated(): boolean;
  /** Agents a client in `zone` should be given (its zone's agents, or all when the zone has none). */
  agentsForZone(zone: string | null): readonly AgentInfo[];
  /**
   * The agent coordinating a consumer group or a transactional id (the same answer on every agent that
   * sees the same members).
   */
  coordinatorFor(key: string): AgentInfo;
  /** The agent named leader of a partition in Metadata responses (any agent accepts produce). */
  leaderFor(topic: string, partition: number, zone: string | null): AgentInfo;
}

/** Whether `cluster`'s own agent coordinates `key` (a group id or a transactional id) in its current view. */
export function coordinatesHere(cluster: ClusterView, key: string): boolean {
  return cluster.coordinatorFor(key).nodeId === cluster.self.nodeId;
}
