/**
 * Fetch when the store does not give a partition's bytes (throttled past its retries, unreachable):
 * that partition answers KAFKA_STORAGE_ERROR (retriable), the other partitions of the same request are
 * served, and the connection stays open (the handler returns instead of throwing). The metadata log,
 * the reader, the cache and the ingestion store are the real ones; the mem object store fails reads of
 * the file on demand.
 */
import assert from "node:assert/strict";
import { componentLogger } from "../../../common/logger.js";
import { ObjectCache } from "../../src/fetch/object-cache.js";
import { PartitionReader } from "../../src/fetch/reader.js";
import { FetchSessionCache } from "../../src/fetch/sessions.js";
import "../../src/handlers/index.js";
import { ApiKey, ErrorCode } from "../../src/protocol/index.js";
import type { AgentContext } from "../../src/server/context.js";
import { lookupHandler } from "../../src/server/handler.js";
import type { RequestContext } from "../../src/server/handler.js";
import { PartitionWaiters } from "../../src/server/waiters.js";
import { MemObjectStore } from "../../src/store/mem.js";
import type { ByteRange } from "../../src/store/types.js";
import { buildBatch } from "../records/batch-builder.js";
import { openFlakyLog } from "../support/flaky-log.js";
import { Authorizer } from "../../src/security/authorizer.js";

class FlakyObjectStore extends MemObjectStore {
  failingKeys = new Set<string>();
  override async get(key: string, range?: ByteRange): Promise<Buffer> {
    if (this.failingKeys.has(key))
      throw Object.assign(new Error("Service Unavailable"), { name: "ServiceUnavailable" });
    return super.get(key, range);
  }
}

interface FetchPartition {
  readonly partitionIndex: number;
  readonly errorCode: number;
  readonly highWatermark: bigint;
  readonly records: Buffer[] | null;
}

describe("Fetch handler when the store fails a read", () => {
  it("answers KAFKA_STORAGE_ERROR for that partition, serves the others, and serves it once the store answers", async () => {
    const { log } = await openFlakyLog();
    const ingestion = new FlakyObjectStore();
    await log.propose([{ type: "createTopic", name: "t", topicId: "0".repeat(32), partitions: 2, configs: {} }]);
    // One ingestion file per partition, committed through the log as the batcher does.
    for (const partition of [0, 1]) {
      const batch = buildBatch([{ value: `p${partition}-a` }, { value: `p${partition}-b` }]);
      const key = `file-${partition}`;
      await ingestion.put(key, batch);
      await log.propose([
        {
          type: "commitFile",
          key,
          size: batch.length,
          time: Date.now(),
          batches: [
            {
              topic: "t",
              partition,
              pos: 0,
              len: batch.length,
              count: 2,
              maxTimestamp: Date.now(),
              producerId: -1,
              producerEpoch: -1,
              baseSequence: -1,
            },
          ],
        },
      ]);
    }
    const logger = componentLogger("test");
    const reader = new PartitionReader(ingestion, new MemObjectStore(), new ObjectCache(1 << 20));
    const agent = {
      metadata: log,
      reader,
      waiters: new PartitionWaiters(),
      fetchSessions: new FetchSessionCache({ slots: 10 }),
      log: logger,
      authorizer: Authorizer.off(),
    } as unknown as AgentContext;
    const ctx = {
      agent,
      header: { apiVersion: 12 },
      connection: { clientZone: null },
      closed: new AbortController().signal,
    } as unknown as RequestContext;
    const request = {
      replicaId: -1,
      maxWaitMs: 0,
      minBytes: 1,
      maxBytes: 1 << 20,
      isolationLevel: 0,
      sessionId: 0,
      sessionEpoch: -1,
      topics: [
        {
          topic: "t",
          partitions: [0, 1].map((partition) => ({
            partition,
            currentLeaderEpoch: -1,
            fetchOffset: 0n,
            logStartOffset: -1n,
            partitionMaxBytes: 1 << 20,
          })),
        },
      ],
      forgottenTopicsData: [],
      rackId: "",
    };
    const fetch = async () =>
      (
        (await lookupHandler(ApiKey.Fetch)!.handle(request, ctx)) as {
          responses: Array<{ partitions: FetchPartition[] }>;
        }
      ).responses[0]!.partitions;

    ingestion.failingKeys.add("file-0");
    const [failed, served] = await fetch();
    assert.equal(failed!.errorCode, ErrorCode.KAFKA_STORAGE_ERROR);
    assert.equal(failed!.highWatermark, 2n);
    assert.equal(served!.errorCode, ErrorCode.NONE);
    assert.ok(Buffer.concat(served!.records ?? []).includes("p1-b"));

    ingestion.failingKeys.clear();
    const [recovered] = await fetch();
    assert.equal(recovered!.errorCode, ErrorCode.NONE);
    assert.ok(Buffer.concat(recovered!.records ?? []).includes("p0-a"));
    await log.close();
  });
});
