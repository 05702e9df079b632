/**
 * A topic change whose log entry gets no outcome before the proposal's deadline (the store does not
 * answer) is answered with the retriable REQUEST_TIMED_OUT and a message saying it may have been
 * applied, as a Kafka controller answers a request it could not complete in time.
 */
import assert from "node:assert/strict";
import { componentLogger } from "../../../common/logger.js";
import "../../src/handlers/index.js";
import { ApiKey, ErrorCode } from "../../src/protocol/index.js";
import type { AgentContext } from "../../src/server/context.js";
import { lookupHandler } from "../../src/server/handler.js";
import type { RequestContext } from "../../src/server/handler.js";
import { TopicService } from "../../src/metadata/topics.js";
import { openFlakyLog } from "../support/flaky-log.js";
import { Authorizer } from "../../src/security/authorizer.js";

describe("topic administration when a change's outcome is unknown", () => {
  it("CreateTopics answers REQUEST_TIMED_OUT once the proposal's deadline passes", async () => {
    const { store, log } = await openFlakyLog({ proposalTimeoutMs: 100 });
    const logger = componentLogger("test");
    const topics = new TopicService(log, { autoCreate: false, defaultPartitions: 1, logger });
    const ctx = {
      agent: { metadata: log, log: logger, topics, authorizer: Authorizer.off() } as unknown as AgentContext,
      header: { apiVersion: 7 },
    } as unknown as RequestContext;
    store.hanging = true;
    const r = (await lookupHandler(ApiKey.CreateTopics)!.handle(
      {
        topics: [{ name: "orders", numPartitions: 1, replicationFactor: -1, assignments: [], configs: [] }],
        timeoutMs: 30_000,
        validateOnly: false,
      },
      ctx,
    )) as { topics: Array<{ errorCode: number; errorMessage: string | null }> };
    assert.equal(r.topics[0]!.errorCode, ErrorCode.REQUEST_TIMED_OUT);
    assert.match(r.topics[0]!.errorMessage ?? "", /may or may not have been applied/);
    await log.close();
  });
});
