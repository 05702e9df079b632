/** The controller id a Metadata or DescribeCluster response names. */
import type { AgentInfo } from "./types.js";

/**
 * This agent when it is among the brokers listed to the client; otherwise (it has stepped out of the
 * cluster, or it is outside the client's zone) the first listed one, so the controller is always a
 * broker the client was told about.
 */
export function controllerId(listed: readonly AgentInfo[], selfId: number): number {
  return listed.some((b) => b.nodeId === selfId) ? selfId : (listed[0]?.nodeId ?? selfId);
}
