/** Topic configs through kafkajs' admin: create with configs, describe, alter, and refuse bad values. */
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
        topics: [{ topic: "bad-config", configEntries: [{ name: "cleanup.policy", value: "compact" }] }],
      }),
      (err: unknown) => JSON.stringify(err).includes("INVALID_CONFIG"),
    );
    await admin.disconnect();
  });
});
