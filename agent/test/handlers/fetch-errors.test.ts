/**
 * Fetch with a partition that answers an error (unknown topic or partition, offset out of range) is
 * answered at once, as Kafka does, instead of long-polling for maxWaitMs on the partitions that have
 * no data. Raw frames against an in-process agent.
 */
import assert from "node:assert/strict";
import { ApiKey, ErrorCode } from "../../src/protocol/index.js";
import { startTestAgent } from "../support/agents.js";
import type { TestAgent } from "../support/agents.js";
import { RawKafkaClient } from "../support/raw-kafka-client.js";

const MAX_WAIT_MS = 5000;
/** Well below maxWaitMs: an answer later than this waited for data instead of answering the error. */
const PROMPT_MS = 2000;

describe("Fetch with an errored partition", function () {
  this.timeout(30_000);
  let agent: TestAgent;
  let client: RawKafkaClient;

  before(async () => {
    agent = await startTestAgent({ autoCreateTopics: "false" });
    client = await RawKafkaClient.connect(agent.port);
    const created = await client.request(ApiKey.CreateTopics, 4, {
      topics: [{ name: "quiet", numPartitions: 2, replicationFactor: 1, assignments: [], configs: [] }],
      timeoutMs: 10_000,
      validateOnly: false,
    });
    assert.equal(created.topics[0]!.errorCode, ErrorCode.NONE);
  });
  after(async () => {
    client?.close();
    await agent?.stop();
  });

  async function fetch(
    topics: Array<{ topic: string; partition: number; fetchOffset: bigint }>,
    maxWaitMs: number,
  ): Promise<{ elapsedMs: number; codes: Map<string, number> }> {
    const started = Date.now();
    const response = await client.request(ApiKey.Fetch, 11, {
      replicaId: -1,
      maxWaitMs,
      minBytes: 1,
      maxBytes: 1 << 20,
      isolationLevel: 0,
      topics: topics.map((t) => ({
        topic: t.topic,
        partitions: [{ partition: t.partition, fetchOffset: t.fetchOffset, partitionMaxBytes: 1 << 20 }],
      })),
      forgottenTopicsData: [],
      rackId: "",
    });
    const codes = new Map<string, number>();
    for (const t of response.responses)
      for (const p of t.partitions) codes.set(`${t.topic}-${p.partitionIndex}`, p.errorCode);
    return { elapsedMs: Date.now() - started, codes };
  }

  it("answers at once when one partition's topic is unknown", async () => {
    const r = await fetch(
      [
        { topic: "quiet", partition: 0, fetchOffset: 0n },
        { topic: "missing", partition: 0, fetchOffset: 0n },
      ],
      MAX_WAIT_MS,
    );
    assert.ok(r.elapsedMs < PROMPT_MS, `answered after ${r.elapsedMs} ms (maxWaitMs ${MAX_WAIT_MS})`);
    assert.equal(r.codes.get("missing-0"), ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
    assert.equal(r.codes.get("quiet-0"), ErrorCode.NONE);
  });

  it("answers at once when one partition's offset is out of range", async () => {
    const r = await fetch(
      [
        { topic: "quiet", partition: 0, fetchOffset: 0n },
        { topic: "quiet", partition: 1, fetchOffset: 99n },
      ],
      MAX_WAIT_MS,
    );
    assert.ok(r.elapsedMs < PROMPT_MS, `answered after ${r.elapsedMs} ms (maxWaitMs ${MAX_WAIT_MS})`);
    assert.equal(r.codes.get("quiet-1"), ErrorCode.OFFSET_OUT_OF_RANGE);
    assert.equal(r.codes.get("quiet-0"), ErrorCode.NONE);
  });

  it("still long-polls when no partition has an error and none has data", async () => {
    const r = await fetch([{ topic: "quiet", partition: 0, fetchOffset: 0n }], 600);
    assert.ok(r.elapsedMs >= 500, `waited only ${r.elapsedMs} ms of maxWaitMs 600`);
    assert.equal(r.codes.get("quiet-0"), ErrorCode.NONE);
  });
});
