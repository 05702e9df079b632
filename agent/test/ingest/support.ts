/** Shared by the batcher tests: record batches as the produce handler hands them over, and a metadata log. */
import { componentLogger } from "../../../common/logger.js";
import type { IncomingBatch } from "../../src/ingest/batcher.js";
import { MetadataLog } from "../../src/metadata/log.js";
import { MemMetadataStore } from "../../src/store/mem.js";

/** A one-record batch of `size` bytes (each byte = the partition) for topic "t"; the batcher reads only the header. */
export function incomingBatch(partition: number, size: number): IncomingBatch {
  return {
    topic: "t",
    partition,
    bytes: Buffer.alloc(size, partition),
    header: {
      size,
      attributes: 0,
      compression: 0,
      transactional: false,
      control: false,
      lastOffsetDelta: 0,
      baseTimestamp: 0,
      maxTimestamp: 0,
      producerId: -1,
      producerEpoch: -1,
      baseSequence: -1,
      recordCount: 1,
    },
  };
}

/** A single-writer metadata log on a memory store, opened, with topic "t" of `partitions` partitions. */
export async function openLogWithTopic(
  partitions: number,
  store: MemMetadataStore = new MemMetadataStore(),
): Promise<MetadataLog> {
  const log = new MetadataLog(store, {
    tailIntervalMs: 0,
    snapshotEveryEntries: 0,
    keepEntriesAfterSnapshot: 10,
    writesSnapshots: () => true,
    logger: componentLogger("test"),
  });
  await log.open();
  await log.propose([{ type: "createTopic", name: "t", topicId: "a".repeat(32), partitions, configs: {} }]);
  return log;
}
