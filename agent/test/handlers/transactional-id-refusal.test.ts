/** Refusing transactional ids: Kafka's non-retriable code, logged at info at most once a minute per id. */
import assert from "node:assert/strict";
import type { Logger } from "../../../common/logger.js";
import { refuseTransactionalId } from "../../src/handlers/transactional-id-refusal.js";
import { ErrorCode, isRetriable } from "../../src/protocol/index.js";

describe("transactional id refusal", () => {
  it("answers TRANSACTIONAL_ID_AUTHORIZATION_FAILED, which clients do not retry", () => {
    const log = { info: () => undefined } as unknown as Logger;
    const code = refuseTransactionalId(log, "FindCoordinator", "code-txn", null);
    assert.equal(code, ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED);
    assert.equal(isRetriable(code), false);
  });

  it("logs each transactional id at info at most once a minute", () => {
    const logged: string[] = [];
    const log = {
      info: (_message: string, fields: { transactionalId: string }) => logged.push(fields.transactionalId),
    } as unknown as Logger;
    const t0 = 1_000_000;
    refuseTransactionalId(log, "FindCoordinator", "rate-a", "c", t0);
    refuseTransactionalId(log, "InitProducerId", "rate-a", "c", t0 + 1_000);
    refuseTransactionalId(log, "FindCoordinator", "rate-b", "c", t0 + 2_000);
    refuseTransactionalId(log, "FindCoordinator", "rate-a", "c", t0 + 59_999);
    assert.deepEqual(logged, ["rate-a", "rate-b"]);
    refuseTransactionalId(log, "FindCoordinator", "rate-a", "c", t0 + 60_000);
    assert.deepEqual(logged, ["rate-a", "rate-b", "rate-a"]);
  });
});
