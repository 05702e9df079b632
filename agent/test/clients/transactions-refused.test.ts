/**
 * Transactional clients against an agent with transactions turned off (-transactions=false) fail fast with
 * TRANSACTIONAL_ID_AUTHORIZATION_FAILED instead of retrying FindCoordinator until they time out: the
 * Java producer (Kafka's producer-perf-test with a transactional id) reports the error itself,
 * kafkajs' transactional producer gives up at once (it reports any FindCoordinator error as
 * "Failed to find group coordinator"), and raw FindCoordinator (every version) and InitProducerId
 * answer the code.
 */
import assert from "node:assert/strict";
import { Kafka, logLevel } from "kafkajs";
import { ensureKafkaTools, runKafkaTool } from "../../../e2e/support/kafka-tools.js";
import { ApiKey, ErrorCode } from "../../src/protocol/index.js";
import { startTestAgent } from "../support/agents.js";
import type { TestAgent } from "../support/agents.js";
import { RawKafkaClient } from "../support/raw-kafka-client.js";

/** Far below what kafkajs spends retrying a retriable FindCoordinator error with these settings (about 30 s). */
const KAFKAJS_FAIL_FAST_MS = 10_000;
/** JVM start-up included; far below the Java producer's max.block.ms (60 s) spent on a retriable error. */
const JAVA_FAIL_FAST_MS = 40_000;

describe("transactional clients are refused at once", function () {
  this.timeout(120_000);
  let agent: TestAgent;
  before(async () => {
    await ensureKafkaTools();
    agent = await startTestAgent({ transactions: "false" });
  });
  after(async () => agent?.stop());

  it("the Java producer's initTransactions fails with TransactionalIdAuthorizationException", async () => {
    const started = Date.now();
    const r = await runKafkaTool(
      "producer-perf-test",
      [
        "--topic",
        "txn-perf",
        "--num-records",
        "10",
        "--record-size",
        "10",
        "--throughput",
        "-1",
        "--transactional-id",
        "perf-txn",
        "--producer-props",
        `bootstrap.servers=${agent.bootstrap}`,
      ],
      { timeoutMs: 120_000 },
    );
    const elapsed = Date.now() - started;
    assert.notEqual(r.code, 0, r.stdout);
    assert.match(r.stderr, /TransactionalIdAuthorizationException/);
    assert.ok(elapsed < JAVA_FAIL_FAST_MS, `failed after ${elapsed} ms`);
  });

  it("kafkajs' transactional producer gives up at once when beginning a transaction", async () => {
    const kafka = new Kafka({
      clientId: "txn-test",
      brokers: [agent.bootstrap],
      logLevel: logLevel.NOTHING,
      retry: { retries: 8, initialRetryTime: 100 },
    });
    const producer = kafka.producer({ transactionalId: "orders-txn", idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    const started = Date.now();
    try {
      await assert.rejects(producer.transaction(), /Failed to find group coordinator/);
    } finally {
      await producer.disconnect();
    }
    const elapsed = Date.now() - started;
    assert.ok(elapsed < KAFKAJS_FAIL_FAST_MS, `failed after ${elapsed} ms`);
  });

  it("answers FindCoordinator for a transactional id with TRANSACTIONAL_ID_AUTHORIZATION_FAILED in every version", async () => {
    const c = await RawKafkaClient.connect(agent.port);
    try {
      for (let v = 1; v <= 3; v++) {
        const r = await c.request(ApiKey.FindCoordinator, v, { key: "orders-txn", keyType: 1 });
        assert.equal(r.errorCode, ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED, `v${v}`);
        assert.equal(r.nodeId, -1);
      }
      for (const v of [4, 5]) {
        const r = await c.request(ApiKey.FindCoordinator, v, { keyType: 1, coordinatorKeys: ["a-txn", "b-txn"] });
        assert.deepEqual(
          r.coordinators.map((k) => [k.key, k.errorCode]),
          [
            ["a-txn", ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED],
            ["b-txn", ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED],
          ],
          `v${v}`,
        );
      }
      const group = await c.request(ApiKey.FindCoordinator, 3, { key: "some-group", keyType: 0 });
      assert.equal(group.errorCode, ErrorCode.NONE, "groups are still coordinated");
    } finally {
      c.close();
    }
  });

  it("answers InitProducerId with a transactional id with TRANSACTIONAL_ID_AUTHORIZATION_FAILED", async () => {
    const c = await RawKafkaClient.connect(agent.port);
    try {
      for (const v of [1, 4]) {
        const r = await c.request(ApiKey.InitProducerId, v, {
          transactionalId: "orders-txn",
          transactionTimeoutMs: 60_000,
        });
        assert.equal(r.errorCode, ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED, `v${v}`);
        assert.equal(r.producerId, -1n);
      }
    } finally {
      c.close();
    }
  });
});
