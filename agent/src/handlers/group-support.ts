/** Small helpers shared by the consumer-group wire handlers (agent/src/handlers/08,09,11–16,42). */
import { coordinatesHere } from "../cluster/types.js";
import { partitionKey } from "../metadata/transactions.js";
import type { AgentContext } from "../server/context.js";
import type { OffsetToCommit } from "../groups/coordinator.js";
import { ErrorCode } from "../protocol/index.js";

/** Whether this agent coordinates `groupId` (otherwise the handlers answer NOT_COORDINATOR). */
export function coordinatesGroup(agent: AgentContext, groupId: string): boolean {
  return coordinatesHere(agent.cluster, groupId);
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

/** A partition's offset as OffsetCommit and TxnOffsetCommit carry it. */
interface PartitionToCommit {
  readonly partitionIndex: number;
  readonly committedOffset: bigint;
  readonly committedLeaderEpoch: number;
  readonly committedMetadata: string | null;
}

/**
 * OffsetCommit's and TxnOffsetCommit's checks per partition: TOPIC_AUTHORIZATION_FAILED for topics not in
 * `readable`, NOT_COORDINATOR when this agent does not coordinate the group, UNKNOWN_TOPIC_OR_PARTITION for
 * partitions that do not exist, OFFSET_METADATA_TOO_LARGE beyond MAX_OFFSET_METADATA_BYTES. Returns the
 * offsets that passed (their leader epoch −1 unless `withLeaderEpoch`) and the errors of the others, by
 * partitionKey.
 */
export function offsetsToCommit(
  agent: AgentContext,
  topics: ReadonlyArray<{ readonly name: string; readonly partitions: readonly PartitionToCommit[] }>,
  readable: ReadonlySet<string>,
  isCoordinator: boolean,
  withLeaderEpoch: boolean,
): { valid: OffsetToCommit[]; errors: Map<string, number> } {
  const valid: OffsetToCommit[] = [];
  const errors = new Map<string, number>();
  for (const t of topics) {
    const count = agent.topics.partitionCount(t.name);
    for (const p of t.partitions) {
      let error: number = ErrorCode.NONE;
      if (!readable.has(t.name)) error = ErrorCode.TOPIC_AUTHORIZATION_FAILED;
      else if (!isCoordinator) error = ErrorCode.NOT_COORDINATOR;
      else if (count === null || p.partitionIndex < 0 || p.partitionIndex >= count)
        error = ErrorCode.UNKNOWN_TOPIC_OR_PARTITION;
      else if (
        p.committedMetadata !== null &&
        Buffer.byteLength(p.committedMetadata, "utf8") > MAX_OFFSET_METADATA_BYTES
      )
        error = ErrorCode.OFFSET_METADATA_TOO_LARGE;
      if (error !== ErrorCode.NONE) {
        errors.set(partitionKey(t.name, p.partitionIndex), error);
        continue;
      }
      valid.push({
        topic: t.name,
        partition: p.partitionIndex,
        offset: p.committedOffset,
        leaderEpoch: withLeaderEpoch ? p.committedLeaderEpoch : -1,
        metadata: p.committedMetadata,
      });
    }
  }
  return { valid, errors };
}
