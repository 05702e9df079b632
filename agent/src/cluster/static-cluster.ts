/**
 * The cluster view of an agent that runs alone (embedded stores): itself, leader of every partition
 * and coordinator of every group.
 */
import type { AgentInfo, ClusterView } from "./types.js";

export class SingleAgentCluster implements ClusterView {
  constructor(
    readonly clusterId: string,
    readonly self: AgentInfo,
  ) {}

  liveAgents(): readonly AgentInfo[] {
    return [this.self];
  }

  /** A single agent on an embedded store has no one to step aside for. */
  isolated(): boolean {
    return false;
  }

  agentsForZone(): readonly AgentInfo[] {
    return [this.self];
  }

  coordinatorFor(): AgentInfo {
    return this.self;
  }

  leaderFor(): AgentInfo {
    return this.self;
  }
}
