/**
 * CreatePartitions and CreateTopics refuse partition counts beyond metadata/limits.ts with
 * INVALID_PARTITIONS before anything is proposed, so no such entry reaches the metadata log.
 */
import assert from "node:assert/strict";
import { componentLogger } from "../../../common/logger.js";
import "../../src/handlers/index.js";
import { MAX_PARTITIONS_PER_TOPIC } from "../../src/metadata/limits.js";
import type { MetadataLog } from "../../src/metadata/log.js";
import { ApiKey, ErrorCode } from "../../src/protocol/index.js";
import type { AgentContext } from "../../src/server/context.js";
import { lookupHandler } from "../../src/server/handler.js";
import type { RequestContext } from "../../src/server/handler.js";
import { TopicService } from "../../src/metadata/topics.js";
import { type FlakyMetadataStore, openFlakyLog } from "../support/flaky-log.js";
import { Authorizer } from "../../src/security/authorizer.js";

interface TopicResult {
  readonly name: string;
  readonly errorCode: number;
  readonly errorMessage: string | null;
}

describe("partition limits at the admin handlers", () => {
  let store: FlakyMetadataStore;
  let log: MetadataLog;
  let ctx: RequestContext;

  beforeEach(async () => {
    ({ store, log } = await openFlakyLog());
    const logger = componentLogger("test");
    const topics = new TopicService(log, { autoCreate: false, defaultPartitions: 1, logger });
    const agent = { metadata: log, log: logger, topics, authorizer: Authorizer.off() } as unknown as AgentContext;
    ctx = { agent, header: { apiVersion: 3 } } as unknown as RequestContext;
  });
  afterEach(async () => log.close());

  async function call<T>(key: number, request: unknown): Promise<T> {
    return (await lookupHandler(key)!.handle(request, ctx)) as T;
  }

  const grow = (count: number, validateOnly = false) =>
    call<{ results: TopicResult[] }>(ApiKey.CreatePartitions, {
      topics: [{ name: "orders", count, assignments: null }],
      timeoutMs: 30_000,
      validateOnly,
    });

  it("CreatePartitions answers INVALID_PARTITIONS above the per-topic limit and proposes nothing", async () => {
    const created = await call<{ topics: TopicResult[] }>(ApiKey.CreateTopics, {
      topics: [{ name: "orders", numPartitions: 2, replicationFactor: -1, assignments: [], configs: [] }],
      timeoutMs: 30_000,
      validateOnly: false,
    });
    assert.equal(created.topics[0]!.errorCode, ErrorCode.NONE);
    const entries = (await store.read(1n, 100)).length;

    for (const validateOnly of [true, false]) {
      for (const count of [MAX_PARTITIONS_PER_TOPIC + 1, 2 ** 31 - 1]) {
        const r = await grow(count, validateOnly);
        assert.equal(r.results[0]!.errorCode, ErrorCode.INVALID_PARTITIONS, `count ${count}`);
        assert.match(r.results[0]!.errorMessage ?? "", /between 1 and 100000/);
      }
    }
    assert.equal((await store.read(1n, 100)).length, entries, "nothing was proposed");
    assert.equal(log.state.topics.get("orders")!.partitions.length, 2);

    assert.equal((await grow(2)).results[0]!.errorCode, ErrorCode.INVALID_PARTITIONS, "no growth");
    assert.equal((await grow(4, true)).results[0]!.errorCode, ErrorCode.NONE);
    assert.equal(log.state.topics.get("orders")!.partitions.length, 2, "validateOnly changes nothing");
    assert.equal((await grow(4)).results[0]!.errorCode, ErrorCode.NONE);
    assert.equal(log.state.topics.get("orders")!.partitions.length, 4);
  });

  it("CreatePartitions answers UNKNOWN_TOPIC_OR_PARTITION for a missing topic", async () => {
    const r = await grow(3);
    assert.equal(r.results[0]!.errorCode, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
  });

  it("CreateTopics answers INVALID_PARTITIONS above the per-topic limit and proposes nothing", async () => {
    const r = await call<{ topics: TopicResult[] }>(ApiKey.CreateTopics, {
      topics: [
        {
          name: "huge",
          numPartitions: MAX_PARTITIONS_PER_TOPIC + 1,
          replicationFactor: -1,
          assignments: [],
          configs: [],
        },
      ],
      timeoutMs: 30_000,
      validateOnly: false,
    });
    assert.equal(r.topics[0]!.errorCode, ErrorCode.INVALID_PARTITIONS);
    assert.equal((await store.read(1n, 100)).length, 0);
  });
});
