/**
 * Watches (docs/metadata-log.md section 14.6): two agents sharing DynamoDB Local, the second reaching it
 * through a fault proxy that holds every one of its metadata log reads (Queries of the log's items) once
 * both have started. Records produced through the first agent (the sequencer) still reach the second's
 * view, fetched and listed through it: the entries come over its watch, not from its reads of the store.
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { startDynamoDbLocal } from "../../../e2e/support/dynamodb-local.js";
import { eventually } from "../../../e2e/support/eventually.js";
import type { DynamoDbLocal } from "../../../e2e/support/dynamodb-local.js";
import { startFaultProxy } from "../../../e2e/support/fault-proxy.js";
import type { FaultProxy } from "../../../e2e/support/fault-proxy.js";
import { LOG_PK } from "../../src/store/dynamodb/metadata.js";
import { ApiKey, ErrorCode } from "../../src/protocol/index.js";
import { buildBatch } from "../records/batch-builder.js";
import { startTestAgent } from "../support/agents.js";
import type { TestAgent } from "../support/agents.js";
import { useLocalAwsCredentials } from "../support/dynamodb-agents.js";
import { RawKafkaClient } from "../support/raw-kafka-client.js";

const TOPIC = "watched";
const LOG_READ = `":pk":{"S":"${LOG_PK}"}`;

describe("an agent following the log through the sequencer while its own log reads hang (DynamoDB Local, fault proxy)", function () {
  this.timeout(120_000);
  let ddb: DynamoDbLocal;
  let direct: FaultProxy;
  let slow: FaultProxy;
  let a: TestAgent;
  let b: TestAgent;
  let restoreEnv = (): void => {};

  before(async () => {
    restoreEnv = useLocalAwsCredentials();
    ddb = await startDynamoDbLocal();
    direct = await startFaultProxy({ service: "dynamodb", upstream: ddb.endpoint, seed: 1 });
    slow = await startFaultProxy({ service: "dynamodb", upstream: ddb.endpoint, seed: 2 });
    const tables = `watch-${randomBytes(3).toString("hex")}`;
    const flags = (proxy: FaultProxy, zone: string) => ({
      bucketURL: `dynamodb://us-east-1/${tables}-files<>${tables}-chunks?endpoint=${encodeURIComponent(proxy.endpoint)}`,
      availabilityZone: zone,
      batchTimeout: "25ms",
    });
    a = await startTestAgent(flags(direct, "zone-a"));
    // The first agent holds the sequencer lease before the second starts competing for it.
    await eventually(
      async () =>
        /^warp_sequencer_lease_held 1$/m.test(await (await fetch(`http://127.0.0.1:${a.httpPort}/metrics`)).text()),
      { what: "the first agent to hold the sequencer lease", timeoutMs: 20_000, intervalMs: 100 },
    );
    b = await startTestAgent(flags(slow, "zone-b"));
  });

  after(async () => {
    slow?.setRules([]);
    slow?.heal();
    await b?.stop();
    await a?.stop();
    await direct?.close();
    await slow?.close();
    await ddb?.stop();
    restoreEnv();
  });

  it("sees what the other agent commits although none of its own log reads is answered", async () => {
    await a.running.context.metadata.propose([
      { type: "createTopic", name: TOPIC, topicId: randomBytes(16).toString("hex"), partitions: 1, configs: {} },
    ]);
    const viewOfB = () => b.running.context.metadata.state.partition(TOPIC, 0)?.nextOffset ?? -1;
    await eventually(() => viewOfB() === 0, {
      what: "the second agent to know the topic",
      timeoutMs: 20_000,
      intervalMs: 50,
    });
    // From now on every read of the log by the second agent waits for the end of the test.
    slow.setRules([
      { probability: 1, fault: { kind: "latency", ms: 600_000 }, operations: ["Query"], bodyIncludes: LOG_READ },
    ]);
    const toA = await RawKafkaClient.connect(a.port);
    const toB = await RawKafkaClient.connect(b.port);
    try {
      let end = 0n;
      for (let round = 0; round < 3; round++) {
        const out = await toA.request(ApiKey.Produce, 9, {
          transactionalId: null,
          acks: -1,
          timeoutMs: 10_000,
          topicData: [
            { name: TOPIC, partitionData: [{ index: 0, records: buildBatch([{ value: `round-${round}` }]) }] },
          ],
        });
        const p = out.responses[0]!.partitionResponses[0]!;
        assert.equal(p.errorCode, ErrorCode.NONE);
        end = p.baseOffset + 1n;
        const expected = Number(end);
        await eventually(() => viewOfB() === expected, {
          what: `the second agent's view to reach offset ${expected}`,
          timeoutMs: 20_000,
          intervalMs: 50,
        });
      }
      // Fetched through the second agent, from its own view.
      const fetched = await toB.request(ApiKey.Fetch, 12, {
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
              {
                partition: 0,
                currentLeaderEpoch: -1,
                fetchOffset: end - 1n,
                logStartOffset: -1n,
                partitionMaxBytes: 1 << 20,
              },
            ],
          },
        ],
        forgottenTopicsData: [],
        rackId: "",
      });
      const part = fetched.responses[0]!.partitions[0]!;
      assert.equal(part.errorCode, ErrorCode.NONE);
      assert.equal(part.highWatermark, end);
      assert.ok((part.records ?? Buffer.alloc(0)).includes("round-2"));
    } finally {
      toA.close();
      toB.close();
    }
  });
});
