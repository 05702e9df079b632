/**
 * kafkajs 2.2.4 against a real agent: produce, a consumer group of three on six partitions, a member
 * leaving, and an agent restart with the group resuming from its committed offsets.
 */
import assert from "node:assert/strict";
import { Kafka, logLevel } from "kafkajs";
import type { Consumer, EachMessagePayload } from "kafkajs";
import { eventually } from "../../../e2e/support/eventually.js";
import { spawnAgentProcess, startTestAgent, tempDir } from "../support/agents.js";
import type { AgentProcess, TestAgent } from "../support/agents.js";

function client(bootstrap: string, clientId = "kafkajs-test") {
  return new Kafka({
    clientId,
    brokers: [bootstrap],
    logLevel: logLevel.NOTHING,
    retry: { retries: 8, initialRetryTime: 100 },
  });
}

/** Checks every 50 ms, for a minute. */
const POLL = { timeoutMs: 60_000, intervalMs: 50 } as const;

describe("kafkajs client", function () {
  this.timeout(180_000);
  let agent: TestAgent;

  before(async () => {
    agent = await startTestAgent({ autoCreateTopics: "false" });
  });
  after(async () => agent?.stop());

  it("creates a topic, produces and reads back with offsets in order", async () => {
    const kafka = client(agent.bootstrap);
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: "simple", numPartitions: 2 }] });
    const meta = await admin.fetchTopicMetadata({ topics: ["simple"] });
    assert.equal(meta.topics[0]!.partitions.length, 2);
    const producer = kafka.producer();
    await producer.connect();
    const sent = await producer.send({
      topic: "simple",
      messages: Array.from({ length: 10 }, (_, i) => ({ key: `k${i % 3}`, value: `v${i}`, partition: 0 })),
    });
    assert.equal(sent[0]!.errorCode, 0);
    assert.equal(sent[0]!.baseOffset, "0");
    const again = await producer.send({ topic: "simple", messages: [{ value: "x", partition: 0 }] });
    assert.equal(again[0]!.baseOffset, "10");
    const offsets = await admin.fetchTopicOffsets("simple");
    assert.deepEqual(
      offsets.sort((a, b) => a.partition - b.partition).map((o) => [o.partition, o.high, o.low]),
      [
        [0, "11", "0"],
        [1, "0", "0"],
      ],
    );
    await producer.disconnect();
    await admin.disconnect();
  });

  it("a group of three consumes six partitions exactly once, and rebalances when one leaves", async () => {
    const kafka = client(agent.bootstrap);
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: "grouped", numPartitions: 6 }] });
    await admin.disconnect();
    const producer = kafka.producer();
    await producer.connect();

    const seen = new Map<string, number>();
    const assignments = new Map<number, number>();
    let joins = 0;
    const consumers: Consumer[] = [];
    for (let m = 0; m < 3; m++) {
      const consumer = client(agent.bootstrap, `member-${m}`).consumer({
        groupId: "g1",
        sessionTimeout: 10_000,
        heartbeatInterval: 500,
        rebalanceTimeout: 20_000,
      });
      consumer.on(consumer.events.GROUP_JOIN, (e) => {
        joins++;
        assignments.set(
          m,
          Object.values(e.payload.memberAssignment).reduce((n, parts) => n + parts.length, 0),
        );
      });
      await consumer.connect();
      await consumer.subscribe({ topic: "grouped", fromBeginning: true });
      await consumer.run({
        eachMessage: async ({ message }: EachMessagePayload) => {
          const v = message.value!.toString();
          seen.set(v, (seen.get(v) ?? 0) + 1);
        },
      });
      consumers.push(consumer);
    }
    await eventually(() => assignments.size === 3 && [...assignments.values()].every((n) => n === 2), {
      ...POLL,
      what: "three members with two partitions each",
    });

    const first = Array.from({ length: 600 }, (_, i) => ({ key: `key-${i}`, value: `a-${i}` }));
    for (let i = 0; i < first.length; i += 100)
      await producer.send({ topic: "grouped", messages: first.slice(i, i + 100) });
    await eventually(() => first.every((m) => seen.has(m.value)), { ...POLL, what: "all first-round messages" });

    const joinsBefore = joins;
    await consumers[2]!.disconnect();
    await eventually(() => joins >= joinsBefore + 2 && assignments.get(0) === 3 && assignments.get(1) === 3, {
      ...POLL,
      what: "a rebalance over the two remaining members",
    });

    const second = Array.from({ length: 600 }, (_, i) => ({ key: `key-${i}`, value: `b-${i}` }));
    for (let i = 0; i < second.length; i += 100)
      await producer.send({ topic: "grouped", messages: second.slice(i, i + 100) });
    await eventually(() => second.every((m) => seen.has(m.value)), { ...POLL, what: "all second-round messages" });
    await new Promise((r) => setTimeout(r, 500));
    const duplicates = [...seen.entries()].filter(([, n]) => n !== 1);
    assert.deepEqual(duplicates, [], "every message consumed exactly once");
    assert.equal(seen.size, 1200);
    await consumers[0]!.disconnect();
    await consumers[1]!.disconnect();
    await producer.disconnect();
  });
});

describe("kafkajs group across an agent restart", function () {
  this.timeout(180_000);
  const dir = tempDir("kafkajs-restart");
  let agent: AgentProcess | undefined;
  after(async () => {
    await agent?.kill("SIGKILL");
    dir.remove();
  });

  it("resumes from committed offsets after the agent restarts", async () => {
    const args = ["-bucketURL", `file://${dir.path}`, "-batchTimeout", "25ms"];
    agent = await spawnAgentProcess(args);
    let kafka = client(agent.bootstrap);
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: "durable", numPartitions: 3 }] });
    await admin.disconnect();
    let producer = kafka.producer();
    await producer.connect();
    await producer.send({
      topic: "durable",
      messages: Array.from({ length: 90 }, (_, i) => ({ key: `k${i}`, value: `before-${i}` })),
    });
    await producer.disconnect();

    const received: string[] = [];
    let consumer = kafka.consumer({ groupId: "resume", sessionTimeout: 10_000, heartbeatInterval: 500 });
    await consumer.connect();
    await consumer.subscribe({ topic: "durable", fromBeginning: true });
    await consumer.run({
      autoCommitThreshold: 1,
      eachMessage: async ({ message }) => void received.push(message.value!.toString()),
    });
    await eventually(() => received.length >= 90, { ...POLL, what: "90 messages before the restart" });
    await consumer.disconnect();

    assert.equal(await agent.kill("SIGTERM"), 0, "graceful stop exits 0");
    agent = await spawnAgentProcess(args);
    kafka = client(agent.bootstrap);
    producer = kafka.producer();
    await producer.connect();
    await producer.send({
      topic: "durable",
      messages: Array.from({ length: 30 }, (_, i) => ({ key: `k${i}`, value: `after-${i}` })),
    });
    await producer.disconnect();

    const afterRestart: string[] = [];
    consumer = kafka.consumer({ groupId: "resume", sessionTimeout: 10_000, heartbeatInterval: 500 });
    await consumer.connect();
    await consumer.subscribe({ topic: "durable", fromBeginning: true });
    await consumer.run({ eachMessage: async ({ message }) => void afterRestart.push(message.value!.toString()) });
    await eventually(() => afterRestart.length >= 30, { ...POLL, what: "30 messages after the restart" });
    await new Promise((r) => setTimeout(r, 1000));
    await consumer.disconnect();
    assert.deepEqual(
      afterRestart.filter((v) => v.startsWith("before-")),
      [],
      "nothing consumed before the restart is read again",
    );
    assert.equal(new Set(afterRestart).size, 30);
  });
});
