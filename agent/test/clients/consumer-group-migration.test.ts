/**
 * Online upgrade of a live classic consumer group to the KIP-848 consumer protocol with real clients
 * against a real agent (migration.ts, classic-members.ts): Java 4.1 consumers with group.protocol=classic
 * (agent/test/clients/java/GroupConsumer.java) consume a 6-partition topic while kafkajs produces; they
 * are replaced one by one by consumers with group.protocol=consumer in the same group (the first one's
 * ConsumerGroupHeartbeat converts the group; the classic members carry on inside it), until only
 * consumer-protocol members are left. `kafka-consumer-groups --describe --members --verbose` lists the
 * classic and the consumer members of the mixed group. And back: when the last consumer-protocol member
 * of a mixed group leaves, the classic members get a classic group again and carry on.
 *
 * The group checks: every record produced is consumed (at least once); a partition is never held by two
 * members at once (each ASSIGNED comes after the previous holder's REVOKED, by the members' timestamps);
 * the offsets the members commit never move backwards, and end at the high watermarks.
 */
import assert from "node:assert/strict";
import { eventually } from "../../../e2e/support/eventually.js";
import { ensureKafkaTools } from "../../../e2e/support/kafka-tools.js";
import type { RunningCommand } from "../../../e2e/support/processes.js";
import { startTestAgent } from "../support/agents.js";
import type { TestAgent } from "../support/agents.js";
import {
  committedAtHighWatermarks,
  describeMembers,
  EventLog,
  kafkaClient,
  poll,
  settled,
  startBackgroundProducer,
  startMember,
} from "../support/group-consumers.js";

describe("online migration of a live classic group to the consumer protocol, with real clients", function () {
  this.timeout(900_000);
  let agent: TestAgent;
  const running: RunningCommand[] = [];

  before(async () => {
    await ensureKafkaTools();
    agent = await startTestAgent({ autoCreateTopics: "false" });
  });
  after(async () => {
    for (const c of running) c.kill();
    await agent?.stop();
  });

  it("classic Java consumers are replaced one by one by consumer-protocol ones while a producer writes: nothing lost, no partition shared, commits never go back", async () => {
    const bootstrap = agent.bootstrap;
    const topic = "migration-orders";
    const group = "migration-group";
    const kafka = kafkaClient(bootstrap);
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic, numPartitions: 6 }] });
    const producer = await startBackgroundProducer(kafka, topic);
    const log = new EventLog();
    const start = async (name: string, protocol: "classic" | "consumer") => {
      const m = await startMember(log, bootstrap, group, topic, name, [`group.protocol=${protocol}`]);
      running.push(m.command);
      return m;
    };
    try {
      const c1 = await start("c1", "classic");
      const c2 = await start("c2", "classic");
      await settled(log, [c1, c2], topic, 6, 3);
      const classic = await admin.describeGroups([group]);
      assert.equal(classic.groups[0]!.protocolType, "consumer");
      assert.equal(classic.groups[0]!.state, "Stable", "a live classic group");

      // The first consumer-protocol member upgrades the group; the classic members carry on inside it.
      const k1 = await start("k1", "consumer");
      await settled(log, [c1, c2, k1], topic, 6, 2);
      await c1.stop();
      await settled(log, [c2, k1], topic, 6);
      const k2 = await start("k2", "consumer");
      await settled(log, [c2, k1, k2], topic, 6, 2);

      const described = await describeMembers(bootstrap, group);
      const rows = described.rows;
      assert.equal(rows.length, 3, described.stdout);
      for (const name of ["c2", "k1", "k2"]) {
        const row = rows.find((r) => r.split(/\s+/).includes(name));
        assert.ok(row, `member ${name} listed:\n${described.stdout}`);
        assert.match(row, /\s2\s/, `${name} shows 2 partitions:\n${described.stdout}`);
        assert.match(row, new RegExp(`${topic}:\\d+,\\d+`), `${name} shows its partitions:\n${described.stdout}`);
      }
      assert.match(described.stdout, /CURRENT-EPOCH/, described.stdout);
      // UPGRADED: whether the member uses the consumer protocol (ConsumerGroupDescribe v1 MemberType).
      assert.match(described.stdout, /UPGRADED/, described.stdout);
      const upgraded = (name: string) =>
        rows
          .find((r) => r.split(/\s+/).includes(name))!
          .split(/\s+/)
          .at(-1);
      assert.deepEqual(["c2", "k1", "k2"].map(upgraded), ["false", "true", "true"], described.stdout);

      await c2.stop();
      await settled(log, [k1, k2], topic, 6, 3);
      const k3 = await start("k3", "consumer");
      await settled(log, [k1, k2, k3], topic, 6, 2);

      await producer.stop();
      await producer.produce(20);
      const want = [...producer.acked];
      await eventually(() => want.every((v) => log.values().has(v)), poll("every record to be consumed"));
      for (const m of [k1, k2, k3]) await m.stop();
      log.assertNoSharedPartition();
      log.assertCommitsMonotonic();
      await committedAtHighWatermarks(kafka, group, topic);
    } finally {
      await producer.close();
      await admin.disconnect();
    }
  });

  it("when the last consumer-protocol member leaves, the classic members carry on in a classic group again", async () => {
    const bootstrap = agent.bootstrap;
    const topic = "migration-back";
    const group = "migration-back-group";
    const kafka = kafkaClient(bootstrap);
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic, numPartitions: 4 }] });
    const producer = kafka.producer();
    await producer.connect();
    const log = new EventLog();
    const start = async (name: string, protocol: "classic" | "consumer") => {
      const m = await startMember(log, bootstrap, group, topic, name, [`group.protocol=${protocol}`]);
      running.push(m.command);
      return m;
    };
    try {
      const send = (from: number) =>
        producer.send({
          topic,
          messages: Array.from({ length: 50 }, (_, i) => ({ key: `k${from + i}`, value: `b-${from + i}` })),
        });
      const c1 = await start("c1", "classic");
      const c2 = await start("c2", "classic");
      await settled(log, [c1, c2], topic, 4, 2);
      await send(0);
      const k1 = await start("k1", "consumer");
      await settled(log, [c1, c2, k1], topic, 4);
      assert.equal((await admin.describeGroups([group])).groups[0]!.state, "Dead", "a consumer group now");
      await send(50);
      await k1.stop();
      await settled(log, [c1, c2], topic, 4, 2);
      const described = (await admin.describeGroups([group])).groups[0]!;
      assert.equal(described.state, "Stable", "a classic group again");
      assert.equal(described.protocolType, "consumer");
      assert.equal(described.members.length, 2);
      await send(100);
      const want = Array.from({ length: 150 }, (_, i) => `b-${i}`);
      await eventually(() => want.every((v) => log.values().has(v)), poll("every record to be consumed"));
      for (const m of [c1, c2]) await m.stop();
      log.assertNoSharedPartition();
      log.assertCommitsMonotonic();
    } finally {
      await producer.disconnect();
      await admin.disconnect();
    }
  });
});
