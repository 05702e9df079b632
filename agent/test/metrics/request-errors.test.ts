/**
 * warp_request_errors_total counts every non-zero error code a response carries, by API key and code:
 * top-level codes and those of topics and partitions alike, each occurrence once; record bytes are not
 * looked into. Checked on the walker and on a running agent's /metrics.
 */
import assert from "node:assert/strict";
import { countErrorCodes } from "../../src/metrics/response-errors.js";
import { ApiKey, ErrorCode } from "../../src/protocol/index.js";
import { metricValue } from "../security/oauth-support.js";
import { startTestAgent } from "../support/agents.js";
import { RawKafkaClient } from "../support/raw-kafka-client.js";

describe("warp_request_errors_total", function () {
  this.timeout(30_000);

  it("counts the error codes anywhere in a response, skipping zeros and record bytes", () => {
    const counts = countErrorCodes({
      errorCode: 0,
      topics: [
        { name: "a", errorCode: 3, partitions: [{ errorCode: 6 }, { errorCode: 6 }, { errorCode: 0 }] },
        { name: "b", errorCode: 29, records: Buffer.from([0, 3]) },
      ],
      nested: { deeper: [{ errorCode: 6 }] },
    });
    assert.deepEqual(
      [...counts].sort((x, y) => x[0] - y[0]),
      [
        [3, 1],
        [6, 3],
        [29, 1],
      ],
    );
    assert.equal(countErrorCodes(null).size, 0);
  });

  it("an agent's /metrics shows the codes its responses carried", async () => {
    const agent = await startTestAgent({ autoCreateTopics: "false" });
    const c = await RawKafkaClient.connect(agent.port);
    try {
      const api = String(ApiKey.CreateTopics);
      const code = String(ErrorCode.TOPIC_ALREADY_EXISTS);
      const before = await metricValue(agent.httpPort, "warp_request_errors_total", { api, code });
      const create = () =>
        c.request(ApiKey.CreateTopics, 7, {
          topics: [{ name: "dup", numPartitions: 1, replicationFactor: -1, assignments: [], configs: [] }],
          timeoutMs: 5000,
          validateOnly: false,
        });
      assert.equal((await create()).topics[0]!.errorCode, ErrorCode.NONE);
      assert.equal((await create()).topics[0]!.errorCode, ErrorCode.TOPIC_ALREADY_EXISTS);
      assert.equal((await create()).topics[0]!.errorCode, ErrorCode.TOPIC_ALREADY_EXISTS);
      assert.equal(await metricValue(agent.httpPort, "warp_request_errors_total", { api, code }), before + 2);
    } finally {
      c.close();
      await agent.stop();
    }
  });
});
