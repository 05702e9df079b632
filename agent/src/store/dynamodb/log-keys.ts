/**
 * The metadata log's keys in the files table, shared by the log's items (metadata.ts) and its entry
 * bodies (entry-bodies.ts). Layout: docs/storage-format.md.
 */
import { indexKey } from "../index-key.js";
import type { HotPartitionKey } from "../usage.js";

/** The partition key of every log entry (the pointers of entries whose body is stored apart included). */
export const LOG_PK: HotPartitionKey = "log";

/** A log index as a sort key (index-key.ts), so that keys sort as indexes do. */
export function logSk(index: bigint): string {
  return indexKey(index);
}
