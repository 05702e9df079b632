/**
 * Topic administration when the metadata log cannot be appended to (store throttled past its retries,
 * unreachable): every request that changes topics gets a retriable error code and a message, the
 * connection stays open (the handler returns instead of throwing), and the same request succeeds once
 * the store answers again. The log and its store are the real ones (the mem store, failing on demand);
 * the agent context holds only what these handlers use.
 */
import assert from "node:assert/strict";
import { componentLogger } from "../../../common/logger.js";
import { SingleAgentCluster } from "../../src/cluster/static-cluster.js";
import "../../src/handlers/index.js";
import type { MetadataLog } from "../../src/metadata/log.js";
import { ApiKey, ErrorCode } from "../../src/protocol/index.js";
import type { AgentContext } from "../../src/server/context.js";
import { lookupHandler } from "../../src/server/handler.js";
import type { RequestContext } from "../../src/server/handler.js";
import { TopicService } from "../../src/metadata/topics.js";
import { type FlakyMetadataStore, openFlakyLog } from "../support/flaky-log.js";
import { Authorizer } from "../../src/security/authorizer.js";

interface TopicResult {
  readonly name: string | null;
  readonly errorCode: number;
  readonly errorMessage: string | null;
}

describe("topic administration while the metadata log is unavailable", () => {
  let store: FlakyMetadataStore;
  let log: MetadataLog;
  let ctx: (apiVersion: number) => RequestContext;

  beforeEach(async () => {
    ({ store, log } = await openFlakyLog());
    const logger = componentLogger("test");
    const topics = new TopicService(log, { autoCreate: true, defaultPartitions: 3, logger });
    const cluster = new SingleAgentCluster("test-cluster", { nodeId: 0, host: "127.0.0.1", port: 9092, zone: null });
    const agent = {
      metadata: log,
      log: logger,
      topics,
      cluster,
      authorizer: Authorizer.off(),
    } as unknown as AgentContext;
    ctx = (apiVersion) =>
      ({ agent, header: { apiVersion }, connection: { clientZone: null } }) as unknown as RequestContext;
  });
  afterEach(async () => log.close());

  async function call<T>(key: number, apiVersion: number, request: unknown): Promise<T> {
    return (await lookupHandler(key)!.handle(request, ctx(apiVersion))) as T;
  }

  const createRequest = (name: string) => ({
    topics: [{ name, numPartitions: 2, replicationFactor: -1, assignments: [], configs: [] }],
    timeoutMs: 30_000,
    validateOnly: false,
  });

  it("CreateTopics answers REQUEST_TIMED_OUT with a message, then creates the topic", async () => {
    store.failing = true;
    const refused = await call<{ topics: TopicResult[] }>(ApiKey.CreateTopics, 7, createRequest("orders"));
    assert.equal(refused.topics[0]!.errorCode, ErrorCode.REQUEST_TIMED_OUT);
    assert.match(refused.topics[0]!.errorMessage ?? "", /metadata log could not be written/);
    assert.equal(log.state.topics.has("orders"), false);

    store.failing = false;
    const created = await call<{ topics: TopicResult[] }>(ApiKey.CreateTopics, 7, createRequest("orders"));
    assert.equal(created.topics[0]!.errorCode, ErrorCode.NONE);
    assert.equal(log.state.topics.get("orders")?.partitions.length, 2);
  });

  it("DeleteTopics, CreatePartitions and IncrementalAlterConfigs answer REQUEST_TIMED_OUT and change nothing", async () => {
    await call(ApiKey.CreateTopics, 7, createRequest("orders"));
    store.failing = true;

    const grown = await call<{ results: TopicResult[] }>(ApiKey.CreatePartitions, 3, {
      topics: [{ name: "orders", count: 4, assignments: null }],
      timeoutMs: 30_000,
      validateOnly: false,
    });
    assert.equal(grown.results[0]!.errorCode, ErrorCode.REQUEST_TIMED_OUT);
    assert.equal(log.state.topics.get("orders")?.partitions.length, 2);

    const altered = await call<{ responses: Array<{ errorCode: number; errorMessage: string | null }> }>(
      ApiKey.IncrementalAlterConfigs,
      1,
      {
        resources: [
          {
            resourceType: 2,
            resourceName: "orders",
            configs: [{ name: "retention.ms", configOperation: 0, value: "60000" }],
          },
        ],
        validateOnly: false,
      },
    );
    assert.equal(altered.responses[0]!.errorCode, ErrorCode.REQUEST_TIMED_OUT);
    assert.equal(log.state.topics.get("orders")?.configs["retention.ms"], undefined);

    const deleted = await call<{ responses: TopicResult[] }>(ApiKey.DeleteTopics, 5, {
      topicNames: ["orders"],
      topics: [],
      timeoutMs: 30_000,
    });
    assert.equal(deleted.responses[0]!.errorCode, ErrorCode.REQUEST_TIMED_OUT);
    assert.equal(log.state.topics.has("orders"), true);

    store.failing = false;
    const deletedLater = await call<{ responses: TopicResult[] }>(ApiKey.DeleteTopics, 5, {
      topicNames: ["orders"],
      topics: [],
      timeoutMs: 30_000,
    });
    assert.equal(deletedLater.responses[0]!.errorCode, ErrorCode.NONE);
    assert.equal(log.state.topics.has("orders"), false);
  });

  it("Metadata with auto-creation answers LEADER_NOT_AVAILABLE (retriable), then lists the created topic", async () => {
    const request = {
      topics: [{ name: "auto", topicId: "00000000000000000000000000000000" }],
      allowAutoTopicCreation: true,
      includeTopicAuthorizedOperations: false,
    };
    store.failing = true;
    const pending = await call<{ topics: Array<{ name: string; errorCode: number; partitions: unknown[] }> }>(
      ApiKey.Metadata,
      12,
      request,
    );
    assert.equal(pending.topics[0]!.errorCode, ErrorCode.LEADER_NOT_AVAILABLE);

    store.failing = false;
    const listed = await call<{ topics: Array<{ name: string; errorCode: number; partitions: unknown[] }> }>(
      ApiKey.Metadata,
      12,
      request,
    );
    assert.equal(listed.topics[0]!.errorCode, ErrorCode.NONE);
    assert.equal(listed.topics[0]!.partitions.length, 3);
  });

  it("Metadata without auto-creation still answers UNKNOWN_TOPIC_OR_PARTITION", async () => {
    store.failing = true;
    const request = {
      topics: [{ name: "absent", topicId: "00000000000000000000000000000000" }],
      allowAutoTopicCreation: false,
      includeTopicAuthorizedOperations: false,
    };
    const r = await call<{ topics: Array<{ errorCode: number }> }>(ApiKey.Metadata, 12, request);
    assert.equal(r.topics[0]!.errorCode, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
  });
});
