/** Small helpers shared by the consumer-group wire handlers (agent/src/handlers/08,09,11–16,42). */
import type { AgentContext } from "../server/context.js";

/** Whether this agent coordinates `groupId` (otherwise the handlers answer NOT_COORDINATOR). */
export function coordinatesGroup(agent: AgentContext, groupId: string): boolean {
  return agent.cluster.coordinatorFor(groupId).nodeId === agent.cluster.self.nodeId;
}

/** A Buffer view of bytes (no copy when they already are a Buffer). */
export function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** Kafka prints client hosts as InetAddress.toString() does: "/127.0.0.1". */
export function clientHost(remoteAddress: string): string {
  return remoteAddress.startsWith("/") ? remoteAddress : `/${remoteAddress}`;
}

/** Kafka's offset.metadata.max.bytes default. */
export const MAX_OFFSET_METADATA_BYTES = 4096;
