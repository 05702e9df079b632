/**
 * Metadata v10+ with topics named by id alone (name null), as the KIP-848 Java consumer and librdkafka
 * ask for the topics of an assignment: a known id is answered by name with its partitions, an unknown
 * one UNKNOWN_TOPIC_ID (name null from v12).
 */
import assert from "node:assert/strict";
import { componentLogger } from "../../../common/logger.js";
import { SingleAgentCluster } from "../../src/cluster/static-cluster.js";
import "../../src/handlers/index.js";
import type { MetadataLog } from "../../src/metadata/log.js";
import { TopicService } from "../../src/metadata/topics.js";
import { ApiKey, ErrorCode } from "../../src/protocol/index.js";
import { Authorizer } from "../../src/security/authorizer.js";
import type { AgentContext } from "../../src/server/context.js";
import type { RequestContext } from "../../src/server/handler.js";
import { lookupHandler } from "../../src/server/handler.js";
import { openFlakyLog } from "../support/flaky-log.js";

interface MetadataTopic {
  readonly errorCode: number;
  readonly name: string | null;
  readonly topicId: string;
  readonly partitions: readonly unknown[];
}

describe("Metadata by topic id", () => {
  let log: MetadataLog;
  let topics: TopicService;
  let ctx: (apiVersion: number) => RequestContext;

  beforeEach(async () => {
    ({ log } = await openFlakyLog());
    const logger = componentLogger("test");
    topics = new TopicService(log, { autoCreate: false, defaultPartitions: 3, logger });
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

  it("answers a known id by name and an unknown one UNKNOWN_TOPIC_ID", async () => {
    assert.equal((await topics.create("orders", 2, {})).errorCode, ErrorCode.NONE);
    const id = log.state.topics.get("orders")!.topicId;
    const unknown = "f".repeat(32);
    const response = (await lookupHandler(ApiKey.Metadata)!.handle(
      {
        topics: [
          { topicId: id, name: null },
          { topicId: unknown, name: null },
        ],
        allowAutoTopicCreation: false,
        includeTopicAuthorizedOperations: false,
      },
      ctx(12),
    )) as { topics: MetadataTopic[] };
    const [known, missing] = response.topics;
    assert.equal(known!.errorCode, ErrorCode.NONE);
    assert.equal(known!.name, "orders");
    assert.equal(known!.topicId, id);
    assert.equal(known!.partitions.length, 2);
    assert.equal(missing!.errorCode, ErrorCode.UNKNOWN_TOPIC_ID);
    assert.equal(missing!.name, null);
    assert.equal(missing!.topicId, unknown);
  });
});
