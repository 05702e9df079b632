/**
 * ListOffsets by timestamp answers at batch granularity also in compacted data, where the metadata
 * index has one entry for a whole run of batches: the run is read to find the batch. Batches of three
 * records with timestamps 1000, 2000, ... are compacted into one run; lookups name the batch, not the
 * run's first offset. A compacted object the store fails to give answers KAFKA_STORAGE_ERROR.
 */
import assert from "node:assert/strict";
import { Compactor } from "../../src/background/compactor.js";
import { ObjectCache } from "../../src/fetch/object-cache.js";
import { PartitionReader } from "../../src/fetch/reader.js";
import { ApiKey, ErrorCode } from "../../src/protocol/index.js";
import type { AgentContext } from "../../src/server/context.js";
import { MemObjectStore } from "../../src/store/mem.js";
import { closeFixture, createTopic, logger, openFixture, produceFile, segmentStores } from "../background/support.js";
import type { Fixture } from "../background/support.js";
import { callHandler } from "../support/handler-call.js";
import { Authorizer } from "../../src/security/authorizer.js";

const T0 = 1_700_000_000_000;
const BATCHES = 6;
const RECORDS = 3;

class FailingObjectStore extends MemObjectStore {
  override async get(): Promise<Buffer> {
    throw Object.assign(new Error("Service Unavailable"), { name: "ServiceUnavailable" });
  }
}

describe("ListOffsets by timestamp in compacted data", () => {
  let f: Fixture;

  before(async () => {
    f = await openFixture(1);
    await createTopic(f, "t", 1);
    // Timestamps 1000, 2000, ..., 6000, one batch each, in two ingestion files.
    for (const half of [0, 1])
      await produceFile(
        f,
        0,
        Array.from({ length: BATCHES / 2 }, (_, i) => ({
          topic: "t",
          partition: 0,
          records: RECORDS,
          timestamp: (half * (BATCHES / 2) + i + 1) * 1000,
        })),
        T0,
      );
    const compactor = new Compactor({ ingestion: f.ingestion, compaction: f.compaction, log: f.logs[0]!, logger });
    await compactor.runOnce(T0 + 60_000);
    assert.deepEqual(segmentStores(f.logs[0]!, "t", 0), ["c"], "the partition is one compacted run");
  });

  after(async () => {
    await closeFixture(f);
  });

  function agentReading(compaction: Fixture["compaction"]): AgentContext {
    return {
      metadata: f.logs[0]!,
      reader: new PartitionReader(f.ingestion, compaction, new ObjectCache(1 << 20)),
      log: logger,
      authorizer: Authorizer.off(),
    } as unknown as AgentContext;
  }

  async function listOffset(agent: AgentContext, timestamp: bigint) {
    const out = await callHandler(agent, ApiKey.ListOffsets, 7, {
      replicaId: -1,
      isolationLevel: 0,
      topics: [{ name: "t", partitions: [{ partitionIndex: 0, currentLeaderEpoch: -1, timestamp }] }],
    });
    return out.topics[0]!.partitions[0]!;
  }

  it("answers the base offset and max timestamp of the first batch at or after the timestamp", async () => {
    const agent = agentReading(f.compaction);
    const cases: Array<[bigint, bigint, bigint]> = [
      // [target, offset, timestamp]
      [0n, 0n, 1000n],
      [1000n, 0n, 1000n],
      [1001n, 3n, 2000n],
      [3500n, 9n, 4000n],
      [6000n, 15n, 6000n],
    ];
    for (const [target, offset, timestamp] of cases) {
      const p = await listOffset(agent, target);
      assert.equal(p.errorCode, ErrorCode.NONE);
      assert.equal(p.offset, offset, `offset for timestamp ${target}`);
      assert.equal(p.timestamp, timestamp, `timestamp for ${target}`);
    }
    const after = await listOffset(agent, 6001n);
    assert.equal(after.offset, -1n, "no batch at or after the last timestamp");
  });

  it("answers the batch with the largest timestamp for −3", async () => {
    const p = await listOffset(agentReading(f.compaction), -3n);
    assert.equal(p.offset, 15n);
    assert.equal(p.timestamp, 6000n);
  });

  it("answers KAFKA_STORAGE_ERROR (retriable) when the compacted object cannot be read", async () => {
    const failing = new FailingObjectStore();
    const p = await listOffset(agentReading(failing), 3500n);
    assert.equal(p.errorCode, ErrorCode.KAFKA_STORAGE_ERROR);
    const latest = await listOffset(agentReading(failing), -1n);
    assert.equal(latest.errorCode, ErrorCode.NONE, "latest needs no stored bytes");
    assert.equal(latest.offset, BigInt(BATCHES * RECORDS));
  });
});
