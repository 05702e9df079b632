/**
 * InitProducerId when the metadata log cannot be appended to (store throttled or unreachable):
 * a retriable COORDINATOR_NOT_AVAILABLE answer, not a closed connection; and a producer id once the
 * store answers again. The log and its store are the real ones (the mem store, failing on demand).
 */
import assert from "node:assert/strict";
import { componentLogger } from "../../../common/logger.js";
import "../../src/handlers/index.js";
import { ApiKey, ErrorCode } from "../../src/protocol/index.js";
import type { AgentContext } from "../../src/server/context.js";
import { lookupHandler } from "../../src/server/handler.js";
import type { RequestContext } from "../../src/server/handler.js";
import { openFlakyLog } from "../support/flaky-log.js";

describe("InitProducerId handler", () => {
  it("answers COORDINATOR_NOT_AVAILABLE (retriable) while the log cannot be appended to, then allocates", async () => {
    const { store, log } = await openFlakyLog();
    const logger = componentLogger("test");
    // Only what this handler uses of the agent: its metadata log and logger.
    const ctx = { agent: { metadata: log, log: logger } as unknown as AgentContext } as RequestContext;
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
