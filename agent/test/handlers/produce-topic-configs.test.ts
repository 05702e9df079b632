/**
 * Produce enforces the topic configs it accepts: a batch larger than max.message.bytes fails its
 * partition with MESSAGE_TOO_LARGE (the other partitions of the request are stored), and
 * message.timestamp.type=LogAppendTime stamps each stored batch (timestamp type bit, maxTimestamp =
 * append time, CRC recomputed) and answers that time as logAppendTimeMs; what a request stored is
 * counted per topic. Raw frames against an in-process agent; the stored bytes are read back with Fetch.
 */
import assert from "node:assert/strict";
import { crc32c } from "@node-rs/crc32";
import * as metrics from "../../src/metrics/metrics.js";
import { ApiKey, ErrorCode } from "../../src/protocol/index.js";
import { ATTR_LOG_APPEND_TIME } from "../../src/records/record-batch.js";
import { buildBatch } from "../records/batch-builder.js";
import { startTestAgent } from "../support/agents.js";
import type { TestAgent } from "../support/agents.js";
import { RawKafkaClient } from "../support/raw-kafka-client.js";

const CREATE_TIME = 1_000_000;
const RESOURCE_TOPIC = 2;
const OP_SET = 0;

describe("Produce and topic configs", function () {
  this.timeout(30_000);
  let agent: TestAgent;
  let client: RawKafkaClient;

  before(async () => {
    agent = await startTestAgent({ autoCreateTopics: "false" });
    client = await RawKafkaClient.connect(agent.port);
  });
  after(async () => {
    client?.close();
    await agent?.stop();
  });

  async function createTopic(name: string, partitions: number, configs: Record<string, string>): Promise<void> {
    const r = await client.request(ApiKey.CreateTopics, 4, {
      topics: [
        {
          name,
          numPartitions: partitions,
          replicationFactor: 1,
          assignments: [],
          configs: Object.entries(configs).map(([k, value]) => ({ name: k, value })),
        },
      ],
      timeoutMs: 10_000,
      validateOnly: false,
    });
    assert.equal(r.topics[0]!.errorCode, ErrorCode.NONE, r.topics[0]!.errorMessage ?? "");
  }

  async function produce(
    topic: string,
    batches: Array<{ partition: number; records: Buffer }>,
  ): Promise<Array<{ index: number; errorCode: number; logAppendTimeMs: bigint; baseOffset: bigint }>> {
    const r = await client.request(ApiKey.Produce, 7, {
      transactionalId: null,
      acks: -1,
      timeoutMs: 10_000,
      topicData: [{ name: topic, partitionData: batches.map((b) => ({ index: b.partition, records: b.records })) }],
    });
    return r.responses[0]!.partitionResponses;
  }

  /** The first stored batch of a partition, as Fetch serves it. */
  async function storedBatch(topic: string, partition: number): Promise<Buffer> {
    const r = await client.request(ApiKey.Fetch, 11, {
      replicaId: -1,
      maxWaitMs: 0,
      minBytes: 0,
      maxBytes: 1 << 20,
      isolationLevel: 0,
      topics: [{ topic, partitions: [{ partition, fetchOffset: 0n, partitionMaxBytes: 1 << 20 }] }],
      forgottenTopicsData: [],
      rackId: "",
    });
    const p = r.responses[0]!.partitions[0]!;
    assert.equal(p.errorCode, ErrorCode.NONE);
    assert.ok(p.records && p.records.length >= 61, "a stored batch");
    return p.records.subarray(0, p.records.readInt32BE(8) + 12);
  }

  function batchOf(bytes: number): Buffer {
    return buildBatch([{ key: "k", value: "x".repeat(bytes) }], { timestamp: CREATE_TIME });
  }

  it("refuses a batch larger than max.message.bytes with MESSAGE_TOO_LARGE, for that partition only", async () => {
    await createTopic("limited", 2, { "max.message.bytes": "1000" });
    const big = batchOf(5000);
    const small = batchOf(500);
    assert.ok(big.length > 5000 && small.length < 1000);
    const [p0, p1] = await produce("limited", [
      { partition: 0, records: big },
      { partition: 1, records: small },
    ]);
    assert.equal(p0!.errorCode, ErrorCode.MESSAGE_TOO_LARGE);
    assert.equal(p1!.errorCode, ErrorCode.NONE);
    assert.equal(p1!.baseOffset, 0n);
    const [again] = await produce("limited", [{ partition: 0, records: small }]);
    assert.equal(again!.errorCode, ErrorCode.NONE, "a batch within the limit is stored");
    assert.equal(again!.baseOffset, 0n, "nothing of the refused batch was stored");
  });

  it("counts a request's bytes and acknowledged records per topic, not those of a refused partition", async () => {
    // The registry is process-wide: this test's topic names are its own.
    const counted = async (metric: typeof metrics.produceBytes, topic: string) =>
      (await metric.get()).values.find((v) => v.labels.topic === topic)?.value ?? 0;
    await createTopic("counted-a", 3, { "max.message.bytes": "1000" });
    await createTopic("counted-b", 1, {});
    const one = batchOf(10);
    const three = buildBatch([{ value: "a" }, { value: "b" }, { value: "c" }], { timestamp: CREATE_TIME });
    const big = batchOf(5000);
    const r = await client.request(ApiKey.Produce, 7, {
      transactionalId: null,
      acks: -1,
      timeoutMs: 10_000,
      topicData: [
        {
          name: "counted-a",
          partitionData: [
            { index: 0, records: one },
            { index: 1, records: three },
            { index: 2, records: big },
          ],
        },
        { name: "counted-b", partitionData: [{ index: 0, records: three }] },
      ],
    });
    const codes = r.responses.flatMap((t) => t.partitionResponses.map((p) => p.errorCode));
    assert.deepEqual(codes, [ErrorCode.NONE, ErrorCode.NONE, ErrorCode.MESSAGE_TOO_LARGE, ErrorCode.NONE]);
    assert.equal(await counted(metrics.produceBytes, "counted-a"), one.length + three.length);
    assert.equal(await counted(metrics.produceRecords, "counted-a"), 4);
    assert.equal(await counted(metrics.produceBytes, "counted-b"), three.length);
    assert.equal(await counted(metrics.produceRecords, "counted-b"), 3);
  });

  it("stamps batches of a LogAppendTime topic with the append time and answers it as logAppendTimeMs", async () => {
    await createTopic("appended", 1, { "message.timestamp.type": "LogAppendTime" });
    const before = Date.now();
    const [p] = await produce("appended", [{ partition: 0, records: batchOf(100) }]);
    const after = Date.now();
    assert.equal(p!.errorCode, ErrorCode.NONE);
    const appendTime = Number(p!.logAppendTimeMs);
    assert.ok(appendTime >= before && appendTime <= after, `logAppendTimeMs ${appendTime} in [${before}, ${after}]`);

    const stored = await storedBatch("appended", 0);
    assert.equal(stored.readInt16BE(21) & ATTR_LOG_APPEND_TIME, ATTR_LOG_APPEND_TIME, "timestamp type LogAppendTime");
    assert.equal(Number(stored.readBigInt64BE(35)), appendTime, "maxTimestamp is the append time");
    assert.equal(Number(stored.readBigInt64BE(27)), CREATE_TIME, "baseTimestamp as the producer wrote it");
    assert.equal(stored.readUInt32BE(17), crc32c(stored.subarray(21)), "CRC-32C recomputed");
  });

  it("keeps CreateTime batches as sent and answers logAppendTimeMs -1", async () => {
    await createTopic("created", 1, {});
    const sent = batchOf(100);
    const [p] = await produce("created", [{ partition: 0, records: sent }]);
    assert.equal(p!.errorCode, ErrorCode.NONE);
    assert.equal(p!.logAppendTimeMs, -1n);
    const stored = await storedBatch("created", 0);
    assert.deepEqual(stored.subarray(12), sent.subarray(12), "stored verbatim (base offset aside)");
  });

  it("applies LogAppendTime set later with IncrementalAlterConfigs to batches produced after", async () => {
    await createTopic("switched", 1, {});
    const altered = await client.request(ApiKey.IncrementalAlterConfigs, 0, {
      resources: [
        {
          resourceType: RESOURCE_TOPIC,
          resourceName: "switched",
          configs: [{ name: "message.timestamp.type", configOperation: OP_SET, value: "LogAppendTime" }],
        },
      ],
      validateOnly: false,
    });
    assert.equal(altered.responses[0]!.errorCode, ErrorCode.NONE);
    const [p] = await produce("switched", [{ partition: 0, records: batchOf(100) }]);
    assert.ok(p!.logAppendTimeMs > 0n);
    const stored = await storedBatch("switched", 0);
    assert.equal(Number(stored.readBigInt64BE(35)), Number(p!.logAppendTimeMs));
    assert.equal(stored.readUInt32BE(17), crc32c(stored.subarray(21)));
  });
});
