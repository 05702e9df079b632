/**
 * InitProducerId when the metadata log cannot be appended to (store throttled or unreachable):
 * a retriable COORDINATOR_NOT_AVAILABLE answer, not a closed connection; and a producer id once the
 * store answers again. The log and its store are the real ones (the mem store, failing on demand).
 * A producer id and epoch named in the request (v3+) never get that id's epoch bumped: as Kafka does
 * without a transactional id, a fresh id is allocated, so no client can fence another's producer.
 */
import assert from "node:assert/strict";
import { componentLogger } from "../../../common/logger.js";
import "../../src/handlers/index.js";
import { ApiKey, ErrorCode } from "../../src/protocol/index.js";
import type { AgentContext } from "../../src/server/context.js";
import { lookupHandler } from "../../src/server/handler.js";
import type { RequestContext } from "../../src/server/handler.js";
import { buildBatch } from "../records/batch-builder.js";
import { startTestAgent } from "../support/agents.js";
import type { TestAgent } from "../support/agents.js";
import { openFlakyLog } from "../support/flaky-log.js";
import { RawKafkaClient } from "../support/raw-kafka-client.js";
import { Authorizer } from "../../src/security/authorizer.js";

describe("InitProducerId handler", () => {
  it("answers COORDINATOR_NOT_AVAILABLE (retriable) while the log cannot be appended to, then allocates", async () => {
    const { store, log } = await openFlakyLog();
    const logger = componentLogger("test");
    // Only what this handler uses of the agent: its metadata log and logger.
    const ctx = {
      agent: { metadata: log, log: logger, authorizer: Authorizer.off() } as unknown as AgentContext,
    } as RequestContext;
    const handler = lookupHandler(ApiKey.InitProducerId)!;
    const request = { transactionalId: null, transactionTimeoutMs: 60_000, producerId: -1n, producerEpoch: -1 };

    store.failing = true;
    const refused = (await handler.handle(request, ctx)) as { errorCode: number; producerId: bigint };
    assert.equal(refused.errorCode, ErrorCode.COORDINATOR_NOT_AVAILABLE);
    assert.equal(refused.producerId, -1n);

    store.failing = false;
    const granted = (await handler.handle(request, ctx)) as {
      errorCode: number;
      producerId: bigint;
      producerEpoch: number;
    };
    assert.equal(granted.errorCode, ErrorCode.NONE);
    assert.ok(granted.producerId >= 0n);
    assert.equal(granted.producerEpoch, 0);
    await log.close();
  });
});

describe("InitProducerId naming a producer id and epoch (v3+)", function () {
  this.timeout(30_000);
  let agent: TestAgent;
  let client: RawKafkaClient;
  before(async () => {
    agent = await startTestAgent();
    client = await RawKafkaClient.connect(agent.port);
  });
  after(async () => {
    client?.close();
    await agent?.stop();
  });

  function initProducerId(producerId: bigint, producerEpoch: number) {
    return client.request(ApiKey.InitProducerId, 4, {
      transactionalId: null,
      transactionTimeoutMs: 60_000,
      producerId,
      producerEpoch,
    });
  }

  async function produce(producerId: bigint, producerEpoch: number, baseSequence: number): Promise<number> {
    const records = buildBatch([{ value: `seq-${baseSequence}` }], { producerId, producerEpoch, baseSequence });
    const r = await client.request(ApiKey.Produce, 7, {
      transactionalId: null,
      acks: -1,
      timeoutMs: 10_000,
      topicData: [{ name: "fenced", partitionData: [{ index: 0, records }] }],
    });
    return r.responses[0]!.partitionResponses[0]!.errorCode;
  }

  it("allocates a fresh id at epoch 0 instead of bumping the epoch of an id the client names", async () => {
    const first = await initProducerId(-1n, -1);
    assert.equal(first.errorCode, ErrorCode.NONE);
    assert.equal(first.producerEpoch, 0);
    assert.equal(await produce(first.producerId, 0, 0), ErrorCode.NONE);

    // Another client names the first producer's id and epoch.
    const other = await initProducerId(first.producerId, 0);
    assert.equal(other.errorCode, ErrorCode.NONE);
    assert.notEqual(other.producerId, first.producerId, "a fresh producer id");
    assert.equal(other.producerEpoch, 0);
    assert.equal(await produce(other.producerId, other.producerEpoch, 0), ErrorCode.NONE);

    // The first producer is not fenced: its next batch is accepted.
    assert.equal(await produce(first.producerId, 0, 1), ErrorCode.NONE);

    // An id never allocated is not adopted either.
    const unknown = await initProducerId(123_456n, 7);
    assert.equal(unknown.errorCode, ErrorCode.NONE);
    assert.ok(unknown.producerId !== 123_456n && unknown.producerId > other.producerId, "a fresh producer id");
    assert.equal(unknown.producerEpoch, 0);
  });
});
