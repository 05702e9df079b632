/**
 * warp_store_operations_total and warp_store_operation_duration_seconds on a running agent: creating a
 * topic appends to the metadata log, a produce writes an ingestion file, and both show in /metrics by
 * store, operation and outcome, with one duration sample per call.
 */
import assert from "node:assert/strict";
import { Kafka, logLevel } from "kafkajs";
import { metricValue } from "../security/oauth-support.js";
import { startTestAgent } from "../support/agents.js";

describe("warp_store_operations_total", function () {
  this.timeout(30_000);

  it("an agent's /metrics counts and times its store calls", async () => {
    const agent = await startTestAgent({ autoCreateTopics: "false" });
    const kafka = new Kafka({ brokers: [agent.bootstrap], logLevel: logLevel.NOTHING });
    const admin = kafka.admin();
    const producer = kafka.producer();
    try {
      const count = (op: string) =>
        metricValue(agent.httpPort, "warp_store_operations_total", { store: "mem", op, outcome: "ok" });
      const timed = (op: string) =>
        metricValue(agent.httpPort, "warp_store_operation_duration_seconds_count", { store: "mem", op });
      const appendsBefore = await count("append");
      const putsBefore = await count("put");
      await admin.connect();
      await admin.createTopics({ topics: [{ topic: "measured", numPartitions: 1 }] });
      await producer.connect();
      await producer.send({ topic: "measured", acks: -1, messages: [{ value: "one" }] });
      const appends = await count("append");
      const puts = await count("put");
      assert.ok(
        appends >= appendsBefore + 2,
        `topic creation and the file's commit appended (${appendsBefore} → ${appends})`,
      );
      assert.ok(puts >= putsBefore + 1, `the produce wrote an ingestion file (${putsBefore} → ${puts})`);
      assert.equal(await timed("append"), appends, "one duration sample per append");
      assert.equal(await timed("put"), puts, "one duration sample per put");
    } finally {
      await producer.disconnect().catch(() => undefined);
      await admin.disconnect().catch(() => undefined);
      await agent.stop();
    }
  });
});
