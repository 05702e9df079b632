/**
 * An agent whose view trails the metadata log (data produced and offsets committed through another
 * agent since its last tail pass) reads the log tail before answering what its view would get wrong:
 * Fetch above its high watermark is served or told to retry (OFFSET_NOT_AVAILABLE), never
 * OFFSET_OUT_OF_RANGE for offsets that exist; ListOffsets latest and by timestamp see the new data;
 * OffsetFetch sees the latest commit, also beyond the high watermark this agent knew, or is told to
 * retry (COORDINATOR_LOAD_IN_PROGRESS) while the log cannot be read. Two real
 * metadata logs share one mem store; the lagging one does not tail on its own during the test.
 */
import assert from "node:assert/strict";
import { componentLogger } from "../../../common/logger.js";
import { ObjectCache } from "../../src/fetch/object-cache.js";
import { PartitionReader } from "../../src/fetch/reader.js";
import { FetchSessionCache } from "../../src/fetch/sessions.js";
import { GroupCoordinator } from "../../src/groups/coordinator.js";
import { LogGroupOffsetStore } from "../../src/metadata/group-offsets.js";
import { MetadataLog } from "../../src/metadata/log.js";
import { ApiKey, ErrorCode } from "../../src/protocol/index.js";
import type { AgentInfo, ClusterView } from "../../src/cluster/types.js";
import type { AgentContext } from "../../src/server/context.js";
import { PartitionWaiters } from "../../src/server/waiters.js";
import { MemMetadataStore, MemObjectStore } from "../../src/store/mem.js";
import type { MetadataStore } from "../../src/store/types.js";
import { buildBatch } from "../records/batch-builder.js";
import { callHandler } from "../support/handler-call.js";
import { commitAsCoordinator } from "../support/group-commits.js";
import { Authorizer } from "../../src/security/authorizer.js";

const logger = componentLogger("test");
const TOPIC = "t";

/** The shared store as the lagging agent reaches it: its reads can be held until released. */
function withHeldReads(store: MetadataStore): { store: MetadataStore; hold(): void; release(): void } {
  let gate: { promise: Promise<void>; open: () => void } | null = null;
  const held = new Proxy(store, {
    get(target, prop) {
      const value: unknown = Reflect.get(target, prop, target);
      if (prop === "read") {
        return async (from: bigint, limit: number) => {
          if (gate) await gate.promise;
          return target.read(from, limit);
        };
      }
      return typeof value === "function" ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
  });
  return {
    store: held,
    hold: () => {
      let open!: () => void;
      const promise = new Promise<void>((r) => (open = r));
      gate = { promise, open };
    },
    release: () => {
      gate?.open();
      gate = null;
    },
  };
}

async function openLog(store: MetadataStore): Promise<MetadataLog> {
  const log = new MetadataLog(store, {
    // Shared with another writer, but no pass runs during the test unless a request asks for one.
    tailIntervalMs: 3_600_000,
    snapshotEveryEntries: 0,
    keepEntriesAfterSnapshot: 10,
    writesSnapshots: () => false,
    logger,
  });
  await log.open();
  return log;
}

const SELF: AgentInfo = { nodeId: 2, host: "127.0.0.1", port: 9092, zone: null };

function alone(): ClusterView {
  return {
    clusterId: "lagging",
    self: SELF,
    liveAgents: () => [SELF],
    isolated: () => false,
    agentsForZone: () => [SELF],
    coordinatorFor: () => SELF,
    leaderFor: () => SELF,
  };
}

function fetchRequest(fetchOffset: bigint) {
  return {
    replicaId: -1,
    maxWaitMs: 0,
    minBytes: 1,
    maxBytes: 1 << 20,
    isolationLevel: 0,
    sessionId: 0,
    sessionEpoch: -1,
    topics: [
      {
        topic: TOPIC,
        partitions: [
          { partition: 0, currentLeaderEpoch: -1, fetchOffset, logStartOffset: -1n, partitionMaxBytes: 1 << 20 },
        ],
      },
    ],
    forgottenTopicsData: [],
    rackId: "",
  };
}

describe("an agent whose view trails the metadata log", function () {
  this.timeout(40_000);
  let shared: MemMetadataStore;
  let ingestion: MemObjectStore;
  let writer: MetadataLog;
  let lagging: MetadataLog;
  let reads: ReturnType<typeof withHeldReads>;
  let groups: GroupCoordinator;
  let agent: AgentContext;
  let files = 0;

  /** Produces through the other agent: an ingestion file, committed through its log. */
  async function produceElsewhere(values: readonly string[], timestamp: number): Promise<void> {
    const batch = buildBatch(
      values.map((value) => ({ value })),
      { timestamp },
    );
    const key = `file-${++files}`;
    await ingestion.put(key, batch);
    await writer.propose([
      {
        type: "commitFile",
        key,
        size: batch.length,
        time: Date.now(),
        batches: [
          {
            topic: TOPIC,
            partition: 0,
            pos: 0,
            len: batch.length,
            count: values.length,
            maxTimestamp: timestamp,
            producerId: -1,
            producerEpoch: -1,
            baseSequence: -1,
          },
        ],
      },
    ]);
  }

  const localEnd = () => lagging.state.partition(TOPIC, 0)!.nextOffset;

  const fetchAt = async (offset: bigint) => {
    const out = await callHandler(agent, ApiKey.Fetch, 12, fetchRequest(offset));
    return out.responses[0]!.partitions[0]!;
  };

  const listOffset = async (timestamp: bigint) => {
    const out = await callHandler(agent, ApiKey.ListOffsets, 7, {
      replicaId: -1,
      isolationLevel: 0,
      topics: [{ name: TOPIC, partitions: [{ partitionIndex: 0, currentLeaderEpoch: -1, timestamp }] }],
    });
    return out.topics[0]!.partitions[0]!;
  };

  beforeEach(async () => {
    shared = new MemMetadataStore();
    ingestion = new MemObjectStore();
    writer = await openLog(shared);
    await writer.propose([{ type: "createTopic", name: TOPIC, topicId: "0".repeat(32), partitions: 1, configs: {} }]);
    reads = withHeldReads(shared);
    lagging = await openLog(reads.store);
    groups = new GroupCoordinator({ offsets: new LogGroupOffsetStore(lagging), log: logger });
    agent = {
      log: logger,
      cluster: alone(),
      groups,
      metadata: lagging,
      reader: new PartitionReader(ingestion, new MemObjectStore(), new ObjectCache(1 << 20)),
      waiters: new PartitionWaiters(),
      fetchSessions: new FetchSessionCache({ slots: 10 }),
      authorizer: Authorizer.off(),
    } as unknown as AgentContext;
  });

  afterEach(async () => {
    reads.release();
    groups.close();
    await writer.close();
    await lagging.close();
  });

  it("serves Fetch at offsets produced through another agent instead of answering OFFSET_OUT_OF_RANGE", async () => {
    await produceElsewhere(["first-record", "second-record"], 1_000);
    assert.equal(localEnd(), 0, "this agent has not read the commit");

    const inside = await fetchAt(1n);
    assert.equal(inside.errorCode, ErrorCode.NONE);
    assert.equal(inside.highWatermark, 2n);
    assert.ok((inside.records ?? Buffer.alloc(0)).includes("second-record"));

    await produceElsewhere(["c"], 2_000);
    const atEnd = await fetchAt(3n);
    assert.equal(atEnd.errorCode, ErrorCode.NONE, "the end of the log is a valid position");
    assert.equal(atEnd.highWatermark, 3n);

    // Beyond the end of the caught-up log: really out of range.
    const beyond = await fetchAt(10n);
    assert.equal(beyond.errorCode, ErrorCode.OFFSET_OUT_OF_RANGE);
    assert.equal(beyond.highWatermark, 3n);
  });

  it("answers OFFSET_NOT_AVAILABLE (retriable) when the log cannot be read in time, and serves once it can", async () => {
    await produceElsewhere(["first-record", "second-record"], 1_000);
    reads.hold();
    const started = Date.now();
    const stalled = await fetchAt(1n);
    assert.equal(stalled.errorCode, ErrorCode.OFFSET_NOT_AVAILABLE);
    assert.ok(Date.now() - started < 5_000, "the wait for the log is bounded");
    reads.release();
    const served = await fetchAt(1n);
    assert.equal(served.errorCode, ErrorCode.NONE);
    assert.ok((served.records ?? Buffer.alloc(0)).includes("second-record"));
  });

  it("answers ListOffsets latest, max-timestamp and by timestamp with the data produced through another agent", async () => {
    await produceElsewhere(["first-record", "second-record"], 1_000);
    assert.equal(localEnd(), 0);
    const latest = await listOffset(-1n);
    assert.equal(latest.errorCode, ErrorCode.NONE);
    assert.equal(latest.offset, 2n);

    await produceElsewhere(["c"], 5_000);
    const byTime = await listOffset(4_000n);
    assert.equal(byTime.offset, 2n);
    assert.equal(byTime.timestamp, 5_000n);

    await produceElsewhere(["d"], 9_000);
    const newest = await listOffset(-3n);
    assert.equal(newest.offset, 3n);
    assert.equal(newest.timestamp, 9_000n);

    const earliest = await listOffset(-2n);
    assert.equal(earliest.offset, 0n);
  });

  it("answers OffsetFetch with the offsets committed through another agent, beyond the high watermark it knew", async () => {
    await produceElsewhere(["first-record", "second-record"], 1_000);
    await commitAsCoordinator(writer, "g", [
      { topic: TOPIC, partition: 0, offset: 2n, leaderEpoch: -1, metadata: "", commitTimestamp: 1n },
    ]);
    assert.equal(localEnd(), 0, "this agent has not read the produce nor the commit");
    const out = await callHandler(agent, ApiKey.OffsetFetch, 8, {
      groups: [{ groupId: "g", topics: [{ name: TOPIC, partitionIndexes: [0] }] }],
      requireStable: false,
    });
    const group = out.groups[0]!;
    assert.equal(group.errorCode, ErrorCode.NONE);
    assert.equal(group.topics[0]!.partitions[0]!.committedOffset, 2n);
    // And the consumer resuming there is served, not reset.
    const resumed = await fetchAt(2n);
    assert.equal(resumed.errorCode, ErrorCode.NONE);
  });

  it("answers OffsetFetch with COORDINATOR_LOAD_IN_PROGRESS (retriable) when the log cannot be read in time", async () => {
    await commitAsCoordinator(writer, "g", [
      { topic: TOPIC, partition: 0, offset: 7n, leaderEpoch: -1, metadata: "", commitTimestamp: 1n },
    ]);
    reads.hold();
    const request = {
      groups: [{ groupId: "g", topics: [{ name: TOPIC, partitionIndexes: [0] }] }],
      requireStable: false,
    };
    const loading = (await callHandler(agent, ApiKey.OffsetFetch, 8, request)).groups[0]!;
    assert.equal(loading.errorCode, ErrorCode.COORDINATOR_LOAD_IN_PROGRESS);
    reads.release();
    const loaded = (await callHandler(agent, ApiKey.OffsetFetch, 8, request)).groups[0]!;
    assert.equal(loaded.errorCode, ErrorCode.NONE);
    assert.equal(loaded.topics[0]!.partitions[0]!.committedOffset, 7n);
  });
});
