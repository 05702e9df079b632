/**
 * A log index as text that sorts as the index does: 20 digits, zero-padded (the largest u64 has 20). The
 * one spelling of an index in stored names: DynamoDB sort keys of log entries and their bodies, snapshot
 * files of the file store, snapshot objects in the compaction bucket.
 */
export function indexKey(index: bigint): string {
  return index.toString().padStart(20, "0");
}
