/**
 * The cluster view of an agent that runs alone (embedded stores): itself, leader of every partition
 * and coordinator of every group.
 */
import type { AgentInfo, ClusterView } from "./types.js";

export class SingleAgentCluster implements ClusterView {
  /** One list for every caller: Metadata keeps its partition entries per agent list. */
  private readonly members: readonly AgentInfo[];

  constructor(
    readonly clusterId: string,
    readonly self: AgentInfo,
  ) {
    this.members = [self];
  }

  liveAgents(): readonly AgentInfo[] {
    return this.members;
  }

  /** A single agent on an embedded store has no one to step aside for. */
  isolated(): boolean {
    return false;
  }

  agentsForZone(): readonly AgentInfo[] {
    return this.members;
  }

  coordinatorFor(): AgentInfo {
    return this.self;
  }

  leaderFor(): AgentInfo {
    return this.self;
  }
}
