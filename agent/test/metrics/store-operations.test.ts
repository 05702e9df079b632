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
      // The registry is the process's: other agents of this test run may call their stores meanwhile,
      // so the figures are compared as lower bounds.
      const before = { appends: await count("append"), puts: await count("put"), timed: await timed("append") };
      const putsTimedBefore = await timed("put");
      const fileBatches = () => metricValue(agent.httpPort, "warp_ingestion_file_batches_sum", {});
      const batchesBefore = await fileBatches();
      await admin.connect();
      await admin.createTopics({ topics: [{ topic: "measured", numPartitions: 2 }] });
      await producer.connect();
      await producer.send({
        topic: "measured",
        acks: -1,
        messages: [
          { value: "one", partition: 0 },
          { value: "two", partition: 1 },
        ],
      });
      const appends = await count("append");
      const puts = await count("put");
      assert.ok(
        appends >= before.appends + 2,
        `topic creation and the file's commit appended (${before.appends} → ${appends})`,
      );
      assert.ok(puts >= before.puts + 1, `the produce wrote an ingestion file (${before.puts} → ${puts})`);
      assert.ok((await timed("append")) >= before.timed + 2, "the appends were timed");
      assert.ok((await timed("put")) >= putsTimedBefore + 1, "the put was timed");
      // One request with a batch for each of 2 partitions: a file of 2 batches (or 2 files of 1).
      assert.ok((await fileBatches()) >= batchesBefore + 2, "warp_ingestion_file_batches counts the file's batches");
    } finally {
      await producer.disconnect().catch(() => undefined);
      await admin.disconnect().catch(() => undefined);
      await agent.stop();
    }
  });
});
