/**
 * Topic configs through kafkajs: create with configs, describe, alter, and refuse bad values (admin);
 * max.message.bytes and message.timestamp.type=LogAppendTime enforced for its producer and consumer.
 */
import assert from "node:assert/strict";
import { ConfigResourceTypes, Kafka, logLevel } from "kafkajs";
import { startTestAgent } from "../support/agents.js";
import type { TestAgent } from "../support/agents.js";

describe("topic configs (kafkajs admin)", function () {
  this.timeout(60_000);
  let agent: TestAgent;
  before(async () => {
    agent = await startTestAgent();
  });
  after(async () => agent?.stop());

  async function describe(admin: ReturnType<Kafka["admin"]>, topic: string): Promise<Map<string, string>> {
    const r = await admin.describeConfigs({
      includeSynonyms: false,
      resources: [{ type: ConfigResourceTypes.TOPIC, name: topic }],
    });
    return new Map(r.resources[0]!.configEntries.map((e) => [e.configName, e.configValue]));
  }

  it("creates with configs, describes, alters and refuses invalid values", async () => {
    const admin = new Kafka({ brokers: [agent.bootstrap], logLevel: logLevel.NOTHING }).admin();
    await admin.connect();
    await admin.createTopics({
      topics: [{ topic: "configured", numPartitions: 1, configEntries: [{ name: "retention.ms", value: "60000" }] }],
    });
    let configs = await describe(admin, "configured");
    assert.equal(configs.get("retention.ms"), "60000");
    assert.equal(configs.get("retention.bytes"), "-1", "defaults are listed too");

    await admin.alterConfigs({
      validateOnly: false,
      resources: [
        {
          type: ConfigResourceTypes.TOPIC,
          name: "configured",
          configEntries: [{ name: "retention.bytes", value: "1048576" }],
        },
      ],
    });
    configs = await describe(admin, "configured");
    assert.equal(configs.get("retention.bytes"), "1048576");
    assert.equal(configs.get("retention.ms"), "604800000", "AlterConfigs replaces the whole config");

    await assert.rejects(
      admin.alterConfigs({
        validateOnly: false,
        resources: [
          {
            type: ConfigResourceTypes.TOPIC,
            name: "configured",
            configEntries: [{ name: "retention.ms", value: "soon" }],
          },
        ],
      }),
      (err: unknown) => (err as { type?: string }).type === "INVALID_CONFIG",
    );
    await assert.rejects(
      admin.createTopics({
        topics: [{ topic: "bad-config", configEntries: [{ name: "cleanup.policy", value: "compact,shred" }] }],
      }),
      (err: unknown) => JSON.stringify(err).includes("INVALID_CONFIG"),
    );
    await admin.disconnect();
  });

  it("refuses a message batch larger than max.message.bytes with MESSAGE_TOO_LARGE", async () => {
    const kafka = new Kafka({ brokers: [agent.bootstrap], logLevel: logLevel.NOTHING, retry: { retries: 2 } });
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({
      topics: [{ topic: "small-batches", configEntries: [{ name: "max.message.bytes", value: "1000" }] }],
    });
    await admin.disconnect();
    const producer = kafka.producer();
    await producer.connect();
    try {
      await assert.rejects(
        producer.send({ topic: "small-batches", messages: [{ value: "x".repeat(5000) }] }),
        (err: unknown) => (err as { type?: string }).type === "MESSAGE_TOO_LARGE",
      );
      const [ok] = await producer.send({ topic: "small-batches", messages: [{ value: "x".repeat(500) }] });
      assert.equal(ok!.errorCode, 0);
      assert.equal(ok!.baseOffset, "0", "nothing of the refused batch was stored");
    } finally {
      await producer.disconnect();
    }
  });

  it("gives a LogAppendTime topic's records the append time, in the produce answer and to consumers", async () => {
    const kafka = new Kafka({ brokers: [agent.bootstrap], logLevel: logLevel.NOTHING });
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({
      topics: [{ topic: "append-time", configEntries: [{ name: "message.timestamp.type", value: "LogAppendTime" }] }],
    });
    await admin.disconnect();
    const producer = kafka.producer();
    await producer.connect();
    const before = Date.now();
    const [sent] = await producer.send({
      topic: "append-time",
      messages: [
        { value: "a", timestamp: "1000" },
        { value: "b", timestamp: "2000" },
      ],
    });
    await producer.disconnect();
    const appendTime = Number(sent!.logAppendTime);
    assert.ok(appendTime >= before && appendTime <= Date.now(), `logAppendTime ${sent!.logAppendTime}`);

    const consumer = kafka.consumer({ groupId: "append-time-reader" });
    await consumer.connect();
    await consumer.subscribe({ topic: "append-time", fromBeginning: true });
    const timestamps: string[] = [];
    await new Promise<void>((resolve, reject) => {
      consumer
        .run({
          eachMessage: async ({ message }) => {
            timestamps.push(message.timestamp);
            if (timestamps.length === 2) resolve();
          },
        })
        .catch(reject);
    });
    await consumer.disconnect();
    assert.deepEqual(timestamps, [String(appendTime), String(appendTime)]);
  });
});
