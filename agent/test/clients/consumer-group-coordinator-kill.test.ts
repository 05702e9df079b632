/**
 * A KIP-848 group outlives its coordinator: three agents (separate processes) on DynamoDB Local, four
 * Java 4.1 consumers with group.protocol=consumer over 12 partitions while kafkajs produces; the agent
 * coordinating the group is killed with SIGKILL. Another agent takes the group over from its record in
 * the metadata log, so the members carry on with their member ids, epochs and partitions: none loses
 * its partitions (the Java client's onPartitionsLost, which it calls when the coordinator no longer
 * knows it and it must rejoin from scratch), every acknowledged record is consumed, no partition is held
 * by two members at once, and committed offsets never move back.
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { LOCAL_AWS, startDynamoDbLocal, type DynamoDbLocal } from "../../../e2e/support/dynamodb-local.js";
import { eventually } from "../../../e2e/support/eventually.js";
import { ensureKafkaTools } from "../../../e2e/support/kafka-tools.js";
import type { RunningCommand } from "../../../e2e/support/processes.js";
import { spawnAgentProcess, type AgentProcess } from "../support/agents.js";
import {
  describeMembers,
  EventLog,
  type JavaMember,
  kafkaClient,
  poll,
  settled,
  startBackgroundProducer,
  startMember,
} from "../support/group-consumers.js";

describe("KIP-848 consumer group: the coordinator's agent killed mid-run", function () {
  this.timeout(900_000);
  let ddb: DynamoDbLocal;
  const agents: AgentProcess[] = [];
  const running: RunningCommand[] = [];

  before(async () => {
    await ensureKafkaTools();
    ddb = await startDynamoDbLocal();
    const tables = `kill848-${randomBytes(3).toString("hex")}`;
    const env = {
      AWS_ACCESS_KEY_ID: LOCAL_AWS.credentials.accessKeyId,
      AWS_SECRET_ACCESS_KEY: LOCAL_AWS.credentials.secretAccessKey,
    };
    const args = [
      "-bucketURL",
      `dynamodb://us-east-1/${tables}-files<>${tables}-chunks?endpoint=${encodeURIComponent(ddb.endpoint)}`,
      "-batchTimeout",
      "25ms",
      "-autoCreateTopics",
      "false",
    ];
    for (let i = 0; i < 3; i++) agents.push(await spawnAgentProcess(args, env));
  });

  after(async () => {
    for (const c of running) c.kill();
    for (const a of agents) await a.kill("SIGKILL");
    await ddb?.stop();
  });

  it("the members carry on with their partitions on the next coordinator: nothing lost, nobody rejoins", async () => {
    const group = "kip848-kill";
    const topic = "kip848-kill-orders";
    const bootstrap = agents.map((a) => a.bootstrap).join(",");
    const kafka = kafkaClient(bootstrap);
    const admin = kafka.admin();
    await admin.connect();
    await eventually(async () => (await admin.describeCluster()).brokers.length === 3, poll("three live agents"));
    await admin.createTopics({ topics: [{ topic, numPartitions: 12 }] });
    await admin.disconnect();

    // A send caught by the kill may or may not be stored: only acknowledged records count.
    const producer = await startBackgroundProducer(kafka, topic, { tolerateFailures: true });

    const log = new EventLog();
    const members: JavaMember[] = [];
    try {
      for (const name of ["a", "b", "c", "d"]) {
        const m = await startMember(log, bootstrap, group, topic, name);
        running.push(m.command);
        members.push(m);
      }
      await settled(log, members, topic, 12, 3);
      const ownedBefore = log.holdings();

      // The agent that coordinates the group says so in its log.
      const coordinator = agents.find((a) =>
        a
          .output()
          .split("\n")
          .some((l) => l.includes('"coordinating consumer group"') && l.includes(`"groupId":"${group}"`)),
      );
      assert.ok(coordinator, "one agent coordinates the group");
      const survivors = agents.filter((a) => a !== coordinator);
      const eventsBeforeKill = log.events.length;
      await coordinator.kill("SIGKILL");

      // A survivor takes the group over from its record.
      await eventually(
        () =>
          survivors.some((a) =>
            a
              .output()
              .split("\n")
              .some((l) => l.includes('"coordinating consumer group"') && l.includes(`"groupId":"${group}"`)),
          ),
        poll("a surviving agent to coordinate the group"),
      );
      // Records produced after the kill reach the members through the survivors.
      const target = producer.acked.size + 200;
      await eventually(() => producer.acked.size >= target, poll("more records acknowledged after the kill"));
      await producer.stop();
      await eventually(
        () => [...producer.acked].every((v) => log.values().has(v)),
        poll("every acknowledged record consumed"),
      );

      const after = log.events.slice(eventsBeforeKill);
      assert.deepEqual(
        after.filter((e) => e.kind === "LOST").map((e) => `${e.member} ${e.rest.join(" ")}`),
        [],
        "no member lost its partitions (none had to rejoin)",
      );
      assert.deepEqual(log.holdings(), ownedBefore, "every member still holds the partitions it held before the kill");

      const survivorBootstrap = survivors.map((a) => a.bootstrap).join(",");
      const described = await describeMembers(survivorBootstrap, group);
      const rows = described.rows;
      assert.equal(rows.length, 4, described.stdout);
      for (const name of ["a", "b", "c", "d"])
        assert.ok(
          rows.some((r) => r.split(/\s+/).includes(name)),
          `member ${name} listed:\n${described.stdout}`,
        );

      for (const m of members) await m.stop();
      log.assertNoSharedPartition();
      log.assertCommitsMonotonic();
    } finally {
      await producer.close();
    }
  });
});
