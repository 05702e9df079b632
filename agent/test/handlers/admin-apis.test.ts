/**
 * The admin APIs on the wire, in every version offered, against a running agent: DeleteRecords (per
 * partition errors, −1, and what Fetch and ListOffsets answer around the new log start), OffsetDelete's
 * request-level and per-partition errors, DescribeProducers (an idempotent producer's state, unknown
 * partitions) and DescribeLogDirs (one log directory, topic filters); ApiVersions lists all four.
 */
import assert from "node:assert/strict";
import { ApiKey, ErrorCode } from "../../src/protocol/index.js";
import { buildBatch } from "../records/batch-builder.js";
import { startTestAgent } from "../support/agents.js";
import type { TestAgent } from "../support/agents.js";
import { RawKafkaClient } from "../support/raw-kafka-client.js";

describe("admin APIs on the wire: DeleteRecords, OffsetDelete, DescribeProducers, DescribeLogDirs", function () {
  this.timeout(60_000);
  let agent: TestAgent;
  let client: RawKafkaClient;

  async function createTopic(name: string, partitions: number): Promise<void> {
    const out = await client.request(ApiKey.CreateTopics, 5, {
      topics: [{ name, numPartitions: partitions, replicationFactor: -1, assignments: [], configs: [] }],
      timeoutMs: 10_000,
      validateOnly: false,
    });
    assert.equal(out.topics[0]!.errorCode, ErrorCode.NONE);
  }

  /** Produces one batch of `values`; returns its base offset. */
  async function produce(
    topic: string,
    partition: number,
    values: readonly string[],
    producer?: { id: bigint; epoch: number; sequence: number; timestamp: number },
  ): Promise<bigint> {
    const records = buildBatch(
      values.map((value) => ({ value })),
      producer
        ? {
            producerId: producer.id,
            producerEpoch: producer.epoch,
            baseSequence: producer.sequence,
            timestamp: producer.timestamp,
          }
        : {},
    );
    const out = await client.request(ApiKey.Produce, 9, {
      transactionalId: null,
      acks: -1,
      timeoutMs: 10_000,
      topicData: [{ name: topic, partitionData: [{ index: partition, records }] }],
    });
    const p = out.responses[0]!.partitionResponses[0]!;
    assert.equal(p.errorCode, ErrorCode.NONE);
    return p.baseOffset;
  }

  async function deleteRecords(version: number, topic: string, partitions: Array<[number, bigint]>) {
    const out = await client.request(ApiKey.DeleteRecords, version, {
      topics: [{ name: topic, partitions: partitions.map(([partitionIndex, offset]) => ({ partitionIndex, offset })) }],
      timeoutMs: 10_000,
    });
    return out.topics[0]!.partitions.map((p) => [p.partitionIndex, p.errorCode, p.lowWatermark]);
  }

  async function fetch(topic: string, offset: bigint) {
    const out = await client.request(ApiKey.Fetch, 12, {
      replicaId: -1,
      maxWaitMs: 0,
      minBytes: 1,
      maxBytes: 1 << 20,
      isolationLevel: 0,
      sessionId: 0,
      sessionEpoch: -1,
      topics: [
        {
          topic,
          partitions: [
            {
              partition: 0,
              currentLeaderEpoch: -1,
              fetchOffset: offset,
              logStartOffset: -1n,
              partitionMaxBytes: 1 << 20,
            },
          ],
        },
      ],
      forgottenTopicsData: [],
      rackId: "",
    });
    return out.responses[0]!.partitions[0]!;
  }

  async function listOffset(topic: string, timestamp: bigint): Promise<bigint> {
    const out = await client.request(ApiKey.ListOffsets, 7, {
      replicaId: -1,
      isolationLevel: 0,
      topics: [{ name: topic, partitions: [{ partitionIndex: 0, currentLeaderEpoch: -1, timestamp }] }],
    });
    const p = out.topics[0]!.partitions[0]!;
    assert.equal(p.errorCode, ErrorCode.NONE);
    return p.offset;
  }

  before(async () => {
    agent = await startTestAgent({ autoCreateTopics: "false" });
    client = await RawKafkaClient.connect(agent.port);
  });
  after(async () => {
    client?.close();
    await agent?.stop();
  });

  it("lists the four APIs in ApiVersions with the versions Kafka 4.x clients send", async () => {
    const out = await client.request(ApiKey.ApiVersions, 3, { clientSoftwareName: "t", clientSoftwareVersion: "1" });
    const range = (key: number) => {
      const k = out.apiKeys.find((a) => a.apiKey === key);
      return k ? [k.minVersion, k.maxVersion] : null;
    };
    assert.deepEqual(range(ApiKey.DeleteRecords), [0, 2]);
    assert.deepEqual(range(ApiKey.DescribeLogDirs), [0, 4]);
    assert.deepEqual(range(ApiKey.OffsetDelete), [0, 0]);
    assert.deepEqual(range(ApiKey.DescribeProducers), [0, 0]);
  });

  it("DeleteRecords: per-partition errors, −1, an unchanged start below it; Fetch and ListOffsets honour the new start", async () => {
    await createTopic("dr", 2);
    await produce("dr", 0, ["a0", "a1", "a2", "a3"]);
    await produce("dr", 0, ["b4", "b5", "b6"]);

    assert.deepEqual(
      await deleteRecords(0, "dr", [
        [0, 2n],
        [1, 1n],
        [2, 0n],
        [0, -2n],
      ]),
      [
        [0, ErrorCode.NONE, 2n],
        [1, ErrorCode.OFFSET_OUT_OF_RANGE, -1n],
        [2, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, -1n],
        [0, ErrorCode.OFFSET_OUT_OF_RANGE, -1n],
      ],
    );
    assert.deepEqual(await deleteRecords(2, "dr", [[0, 1n]]), [[0, ErrorCode.NONE, 2n]], "never back");
    assert.deepEqual(await deleteRecords(1, "nope", [[0, 0n]]), [[0, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, -1n]]);
    assert.deepEqual(await deleteRecords(2, "dr", [[0, 8n]]), [[0, ErrorCode.OFFSET_OUT_OF_RANGE, -1n]]);

    const below = await fetch("dr", 1n);
    assert.equal(below.errorCode, ErrorCode.OFFSET_OUT_OF_RANGE);
    assert.equal(below.logStartOffset, 2n);
    const atStart = await fetch("dr", 2n);
    assert.equal(atStart.errorCode, ErrorCode.NONE);
    assert.equal(atStart.logStartOffset, 2n);
    assert.equal(atStart.records!.readBigInt64BE(0), 0n, "the batch holding the log start is served whole");
    assert.equal(await listOffset("dr", -2n), 2n, "earliest is the log start");
    assert.equal(await listOffset("dr", 0n), 2n, "a timestamp lookup never answers below the log start");

    assert.deepEqual(await deleteRecords(2, "dr", [[0, -1n]]), [[0, ErrorCode.NONE, 7n]], "−1: the high watermark");
    assert.equal(await listOffset("dr", -2n), 7n);
    assert.equal((await fetch("dr", 4n)).errorCode, ErrorCode.OFFSET_OUT_OF_RANGE);
    assert.equal(await produce("dr", 0, ["c7"]), 7n, "offsets go on from the high watermark");
  });

  it("OffsetDelete: INVALID_GROUP_ID, GROUP_ID_NOT_FOUND, and unknown partitions beside deleted ones", async () => {
    await createTopic("od", 1);
    const request = (groupId: string, topics: Array<[string, number[]]>) =>
      client.request(ApiKey.OffsetDelete, 0, {
        groupId,
        topics: topics.map(([name, ps]) => ({ name, partitions: ps.map((partitionIndex) => ({ partitionIndex })) })),
      });
    assert.deepEqual(await request("", [["od", [0]]]), {
      errorCode: ErrorCode.INVALID_GROUP_ID,
      throttleTimeMs: 0,
      topics: [],
    });
    assert.deepEqual(await request("nobody", [["od", [0]]]), {
      errorCode: ErrorCode.GROUP_ID_NOT_FOUND,
      throttleTimeMs: 0,
      topics: [],
    });

    const commit = await client.request(ApiKey.OffsetCommit, 8, {
      groupId: "g",
      generationIdOrMemberEpoch: -1,
      memberId: "",
      groupInstanceId: null,
      topics: [
        {
          name: "od",
          partitions: [{ partitionIndex: 0, committedOffset: 0n, committedLeaderEpoch: -1, committedMetadata: "" }],
        },
      ],
    });
    assert.equal(commit.topics[0]!.partitions[0]!.errorCode, ErrorCode.NONE);
    const out = await request("g", [
      ["od", [0, 5]],
      ["missing", [0]],
    ]);
    assert.equal(out.errorCode, ErrorCode.NONE);
    assert.deepEqual(
      out.topics.map((t) => [t.name, t.partitions.map((p) => [p.partitionIndex, p.errorCode])]),
      [
        [
          "od",
          [
            [0, ErrorCode.NONE],
            [5, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION],
          ],
        ],
        ["missing", [[0, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION]]],
      ],
    );
    const fetched = await client.request(ApiKey.OffsetFetch, 8, {
      groups: [{ groupId: "g", topics: [{ name: "od", partitionIndexes: [0] }] }],
      requireStable: false,
    });
    assert.equal(fetched.groups[0]!.topics[0]!.partitions[0]!.committedOffset, -1n, "the offset is gone");
  });

  it("DescribeProducers: an idempotent producer's epoch, last sequence and last timestamp; unknown partitions", async () => {
    await createTopic("dp", 2);
    const init = await client.request(ApiKey.InitProducerId, 4, {
      transactionalId: null,
      transactionTimeoutMs: 60_000,
      producerId: -1n,
      producerEpoch: -1,
    });
    assert.equal(init.errorCode, ErrorCode.NONE);
    const producer = { id: init.producerId, epoch: init.producerEpoch };
    await produce("dp", 0, ["x", "y", "z"], { ...producer, sequence: 0, timestamp: 1_700_000_000_000 });
    await produce("dp", 0, ["w"], { ...producer, sequence: 3, timestamp: 1_700_000_000_500 });
    await produce("dp", 1, ["plain"]);

    const out = await client.request(ApiKey.DescribeProducers, 0, {
      topics: [
        { name: "dp", partitionIndexes: [0, 1, 9] },
        { name: "unknown", partitionIndexes: [0] },
      ],
    });
    const [dp, unknown] = out.topics;
    assert.deepEqual(dp!.partitions[0], {
      partitionIndex: 0,
      errorCode: ErrorCode.NONE,
      errorMessage: null,
      activeProducers: [
        {
          producerId: producer.id,
          producerEpoch: producer.epoch,
          lastSequence: 3,
          lastTimestamp: 1_700_000_000_500n,
          coordinatorEpoch: -1,
          currentTxnStartOffset: -1n,
        },
      ],
    });
    assert.deepEqual(dp!.partitions[1]!.activeProducers, [], "a partition without idempotent producers");
    assert.deepEqual(
      [dp!.partitions[2]!.errorCode, unknown!.partitions[0]!.errorCode],
      [ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION],
    );
    assert.match(unknown!.partitions[0]!.errorMessage ?? "", /unknown-0 does not exist/);
  });

  it("DescribeLogDirs: one log directory naming the store, all or some partitions, in every version", async () => {
    await createTopic("ld", 3);
    await produce("ld", 1, ["hello"]);
    const state = agent.running.context.metadata.state;
    for (const version of [0, 1, 2, 3, 4]) {
      const all = await client.request(ApiKey.DescribeLogDirs, version, { topics: null });
      assert.equal(all.results.length, 1);
      const dir = all.results[0]!;
      assert.equal(dir.errorCode, ErrorCode.NONE);
      assert.match(dir.logDir, /^mem:\/\/test-/);
      assert.deepEqual(
        dir.topics.map((t) => t.name),
        [...state.topics.keys()].sort(),
      );
      if (version >= 4) assert.deepEqual([dir.totalBytes, dir.usableBytes], [-1n, -1n]);
    }
    const some = await client.request(ApiKey.DescribeLogDirs, 4, {
      topics: [
        { topic: "ld", partitions: [1, 2, 7] },
        { topic: "unknown", partitions: [0] },
      ],
    });
    assert.deepEqual(some.results[0]!.topics, [
      {
        name: "ld",
        partitions: [
          {
            partitionIndex: 1,
            partitionSize: BigInt(state.partition("ld", 1)!.bytes),
            offsetLag: 0n,
            isFutureKey: false,
          },
          { partitionIndex: 2, partitionSize: 0n, offsetLag: 0n, isFutureKey: false },
        ],
      },
    ]);
    assert.ok(state.partition("ld", 1)!.bytes > 0);
    const none = await client.request(ApiKey.DescribeLogDirs, 4, { topics: [] });
    assert.deepEqual(
      none.results.map((r) => r.topics),
      [[]],
      "still one log directory, with nothing asked for",
    );
  });
});
