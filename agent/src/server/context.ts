/**
 * What handlers see of the agent. Each member is a narrow service; handlers never reach into stores.
 */
import type { Logger } from "../../../common/logger.js";
import type { PartitionReader } from "../fetch/reader.js";
import type { GroupCoordinator } from "../groups/coordinator.js";
import type { IngestionBatcher } from "../ingest/batcher.js";
import type { MetadataLog } from "../metadata/log.js";
import type { TopicService } from "../topics.js";
import type { PartitionWaiters } from "./waiters.js";

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
  /** The agent coordinating a consumer group (the same answer on every agent that sees the same members). */
  coordinatorFor(groupId: string): AgentInfo;
  /** The agent named leader of a partition in Metadata responses (any agent accepts produce). */
  leaderFor(topic: string, partition: number, zone: string | null): AgentInfo;
}

export interface AgentContext {
  readonly log: Logger;
  readonly cluster: ClusterView;
  readonly groups: GroupCoordinator;
  /** The metadata log; `metadata.state` is the current folded state (read it fresh each time). */
  readonly metadata: MetadataLog;
  readonly topics: TopicService;
  readonly batcher: IngestionBatcher;
  readonly reader: PartitionReader;
  /** Long-poll fetches wait here for new data. */
  readonly waiters: PartitionWaiters;
}
