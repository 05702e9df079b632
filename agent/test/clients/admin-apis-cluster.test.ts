/**
 * The admin APIs on two agents sharing DynamoDB Local: records deleted and offsets deleted through one
 * agent are gone on the other (the metadata log carries both); DescribeProducers on one agent lists a
 * producer that wrote through the other; and `kafka-log-dirs --describe` over both agents lists every
 * partition exactly once. Apache Kafka 4.1.1's tools drive the deletions, as an operator would.
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { writeFileSync } from "node:fs";
import path from "node:path";
import { eventually } from "../../../e2e/support/eventually.js";
import { ensureKafkaTools, type KafkaTool, runKafkaTool } from "../../../e2e/support/kafka-tools.js";
import { ApiKey, ErrorCode } from "../../src/protocol/index.js";
import { buildBatch } from "../records/batch-builder.js";
import { tempDir } from "../support/agents.js";
import type { TestAgent } from "../support/agents.js";
import { startDynamoDbAgents, type DynamoDbAgents } from "../support/dynamodb-agents.js";
import { RawKafkaClient } from "../support/raw-kafka-client.js";

const POLL = { timeoutMs: 30_000, intervalMs: 50 } as const;

describe("admin APIs on two agents sharing DynamoDB Local", function () {
  this.timeout(600_000);
  let cluster: DynamoDbAgents;
  let a: TestAgent;
  let b: TestAgent;
  let toA: RawKafkaClient;
  let toB: RawKafkaClient;
  let dir: ReturnType<typeof tempDir>;

  async function tool(name: KafkaTool, args: readonly string[], input?: string): Promise<string> {
    const r = await runKafkaTool(name, ["--bootstrap-server", a.bootstrap, ...args], {
      timeoutMs: 120_000,
      ...(input !== undefined ? { input } : {}),
    });
    const out = `${r.stdout}\n${r.stderr}`;
    assert.equal(r.code, 0, `${name} ${args.join(" ")}:\n${out}`);
    return out;
  }

  async function createTopic(name: string, partitions: number): Promise<void> {
    await a.running.context.metadata.propose([
      { type: "createTopic", name, topicId: randomBytes(16).toString("hex"), partitions, configs: {} },
    ]);
    await eventually(() => b.running.context.metadata.state.topics.has(name), { ...POLL, what: `B to know ${name}` });
  }

  async function produce(client: RawKafkaClient, topic: string, partition: number, records: Buffer): Promise<void> {
    const out = await client.request(ApiKey.Produce, 9, {
      transactionalId: null,
      acks: -1,
      timeoutMs: 10_000,
      topicData: [{ name: topic, partitionData: [{ index: partition, records }] }],
    });
    assert.equal(out.responses[0]!.partitionResponses[0]!.errorCode, ErrorCode.NONE);
  }

  before(async () => {
    await ensureKafkaTools();
    dir = tempDir("admin-cluster");
    cluster = await startDynamoDbAgents("admin", 2);
    [a, b] = cluster.agents as [TestAgent, TestAgent];
    toA = await RawKafkaClient.connect(a.port);
    toB = await RawKafkaClient.connect(b.port);
  });

  after(async () => {
    toA?.close();
    toB?.close();
    await cluster?.stop();
    dir?.remove();
  });

  it("kafka-delete-records through one agent moves the log start on both", async () => {
    await createTopic("shared-records", 2);
    for (const partition of [0, 1])
      await produce(toA, "shared-records", partition, buildBatch([0, 1, 2, 3, 4].map((i) => ({ value: `v${i}` }))));
    const file = path.join(dir.path, "offsets.json");
    writeFileSync(
      file,
      JSON.stringify({
        partitions: [
          { topic: "shared-records", partition: 0, offset: 3 },
          { topic: "shared-records", partition: 1, offset: -1 },
        ],
        version: 1,
      }),
    );
    const out = await tool("delete-records", ["--offset-json-file", file]);
    assert.match(out, /partition: shared-records-0\tlow_watermark: 3/, out);
    assert.match(out, /partition: shared-records-1\tlow_watermark: 5/, out);

    for (const agent of [a, b])
      await eventually(
        () => agent.running.context.metadata.state.partition("shared-records", 0)!.logStartOffset === 3,
        {
          ...POLL,
          what: `agent ${agent.port} to fold the new log start`,
        },
      );
    const earliest = await toB.request(ApiKey.ListOffsets, 7, {
      replicaId: -1,
      isolationLevel: 0,
      topics: [
        {
          name: "shared-records",
          partitions: [0, 1].map((partitionIndex) => ({ partitionIndex, currentLeaderEpoch: -1, timestamp: -2n })),
        },
      ],
    });
    assert.deepEqual(
      earliest.topics[0]!.partitions.map((p) => [p.errorCode, p.offset]),
      [
        [ErrorCode.NONE, 3n],
        [ErrorCode.NONE, 5n],
      ],
    );
  });

  it("kafka-consumer-groups --delete-offsets deletes through the coordinator, and the offsets are gone on both agents", async () => {
    await createTopic("shared-offsets", 2);
    await tool("consumer-groups", [
      "--reset-offsets",
      "--group",
      "shared-group",
      "--topic",
      "shared-offsets",
      "--to-earliest",
      "--execute",
    ]);
    const committed = (agent: TestAgent) =>
      [...(agent.running.context.metadata.state.groupOffsets.get("shared-group")?.get("shared-offsets")?.keys() ?? [])]
        .sort()
        .join(",");
    for (const agent of [a, b])
      await eventually(() => committed(agent) === "0,1", { ...POLL, what: `agent ${agent.port} to fold the commit` });

    const out = await tool("consumer-groups", [
      "--delete-offsets",
      "--group",
      "shared-group",
      "--topic",
      "shared-offsets",
    ]);
    assert.match(out, /Request succeeded for deleting offsets/, out);
    for (const agent of [a, b])
      await eventually(() => !agent.running.context.metadata.state.groupOffsets.has("shared-group"), {
        ...POLL,
        what: `agent ${agent.port} to fold the deletion`,
      });
    const described = await runKafkaTool("consumer-groups", [
      "--bootstrap-server",
      b.bootstrap,
      "--describe",
      "--group",
      "shared-group",
    ]);
    assert.match(`${described.stdout}${described.stderr}`, /does not exist/, "the group is gone with its offsets");
  });

  it("DescribeProducers on one agent lists a producer that wrote through the other", async () => {
    await createTopic("shared-producers", 1);
    const init = await toA.request(ApiKey.InitProducerId, 4, {
      transactionalId: null,
      transactionTimeoutMs: 60_000,
      producerId: -1n,
      producerEpoch: -1,
    });
    assert.equal(init.errorCode, ErrorCode.NONE);
    await produce(
      toA,
      "shared-producers",
      0,
      buildBatch([{ value: "one" }, { value: "two" }], {
        producerId: init.producerId,
        producerEpoch: init.producerEpoch,
        baseSequence: 0,
        timestamp: 1_700_000_000_000,
      }),
    );
    // Asked at once: the agent reads the log's tail before answering.
    const out = await toB.request(ApiKey.DescribeProducers, 0, {
      topics: [{ name: "shared-producers", partitionIndexes: [0] }],
    });
    assert.deepEqual(
      out.topics[0]!.partitions[0]!.activeProducers.map((p) => [p.producerId, p.lastSequence, p.lastTimestamp]),
      [[init.producerId, 1, 1_700_000_000_000n]],
    );
  });

  it("kafka-log-dirs --describe over both agents lists every partition exactly once", async () => {
    const out = await tool("log-dirs", ["--describe"]);
    const json = out.split("\n").find((l) => l.startsWith("{"));
    assert.ok(json, out);
    const parsed = JSON.parse(json) as {
      brokers: Array<{ broker: number; logDirs: Array<{ logDir: string; partitions: Array<{ partition: string }> }> }>;
    };
    assert.equal(parsed.brokers.length, 2);
    const listed = parsed.brokers.flatMap((br) => br.logDirs.flatMap((d) => d.partitions.map((p) => p.partition)));
    const state = a.running.context.metadata.state;
    const all = [...state.topics.values()].flatMap((t) => t.partitions.map((_, i) => `${t.name}-${i}`));
    assert.deepEqual(listed.slice().sort(), all.slice().sort(), "each partition once, on the agent leading it");
    for (const br of parsed.brokers) {
      assert.equal(br.logDirs.length, 1);
      assert.match(br.logDirs[0]!.logDir, /^dynamodb:\/\/us-east-1\/admin-[0-9a-f]+-files<>admin-[0-9a-f]+-chunks$/);
    }
  });
});
