/**
 * The partition entries of a Metadata response, kept per topic for as long as the agents they name are
 * the same. A client producing to 1,000 topics of 100 partitions asks for all 100,000 in one Metadata
 * request, and asks again every few minutes and after each leadership error; working out and building
 * every entry for each request held the event loop for hundreds of milliseconds. The entries depend
 * only on the topic's name and partition count and on the agent list its leaders are picked from
 * (`ClusterView.agentsForZone`, a new array whenever membership changes), so they are built once per
 * list and shared by the responses, which only read them.
 */
import type { AgentInfo, ClusterView } from "../cluster/types.js";
import { ErrorCode } from "../protocol/index.js";

export interface MetadataPartition {
  readonly errorCode: number;
  readonly partitionIndex: number;
  readonly leaderId: number;
  readonly leaderEpoch: number;
  readonly replicaNodes: readonly number[];
  readonly isrNodes: readonly number[];
  readonly offlineReplicas: readonly number[];
}

/** Agent list → topic name → its entries. An agent list no view returns any more is collected. */
const cache = new WeakMap<readonly AgentInfo[], Map<string, readonly MetadataPartition[]>>();
const NO_REPLICAS: readonly number[] = [];

/**
 * The entries of `topic`'s `count` partitions as told to clients of `zone`: each led by the agent
 * `cluster.leaderFor` picks, leader epoch −1 (clients skip epoch validation), the leader its only replica.
 * `topicsLive` (the cluster's topic count) bounds what is kept for topics deleted since.
 */
export function metadataPartitions(
  cluster: ClusterView,
  topic: string,
  count: number,
  zone: string | null,
  topicsLive: number,
): readonly MetadataPartition[] {
  const agents = cluster.agentsForZone(zone);
  let byTopic = cache.get(agents);
  if (!byTopic) cache.set(agents, (byTopic = new Map()));
  const known = byTopic.get(topic);
  if (known && known.length === count) return known;
  const entries = Array.from({ length: count }, (_, index): MetadataPartition => {
    const leader = cluster.leaderFor(topic, index, zone).nodeId;
    const replicas = [leader];
    return {
      errorCode: ErrorCode.NONE,
      partitionIndex: index,
      leaderId: leader,
      leaderEpoch: -1,
      replicaNodes: replicas,
      isrNodes: replicas,
      offlineReplicas: NO_REPLICAS,
    };
  });
  if (byTopic.size >= 2 * topicsLive + 16) byTopic.clear();
  byTopic.set(topic, entries);
  return entries;
}
