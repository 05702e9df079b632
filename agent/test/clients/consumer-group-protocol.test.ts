/**
 * The KIP-848 consumer group protocol (ConsumerGroupHeartbeat) with real clients against a real agent:
 * Java 4.1 consumers with group.protocol=consumer (agent/test/clients/java/GroupConsumer.java, which
 * prints its rebalance-listener events with a shared clock) joining and leaving over 12 partitions while
 * kafkajs produces; the range assignor with static members; a server-side regular expression picking up a
 * topic created later; `kafka-consumer-groups --describe --members --verbose`; and librdkafka (Python
 * confluent-kafka) with group.protocol=consumer.
 *
 * The group checks: every record produced is consumed; a partition is never held by two members at once
 * (each ASSIGNED comes after the previous holder's REVOKED, by the members' timestamps); the offsets the
 * members commit never move backwards.
 */
import assert from "node:assert/strict";
import { eventually } from "../../../e2e/support/eventually.js";
import { ensureKafkaTools, runKafkaTool } from "../../../e2e/support/kafka-tools.js";
import type { RunningCommand } from "../../../e2e/support/processes.js";
import { ensureConfluentKafka, startPythonScript } from "../../../e2e/support/python-client.js";
import { startTestAgent } from "../support/agents.js";
import type { TestAgent } from "../support/agents.js";
import { EventLog, joinAndLeave, kafkaClient, poll, settled, startMember } from "../support/group-consumers.js";

describe("KIP-848 consumer groups with real clients", function () {
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

  it("Java consumers join and leave over 12 partitions while a producer writes: nothing lost, no partition shared, commits never go back", async () => {
    await joinAndLeave({ bootstrap: agent.bootstrap, group: "kip848-java", topic: "kip848-orders", running });
  });

  it("range assignor with static members: a restarted member gets its own partitions back and nobody else moves", async () => {
    const topic = "kip848-static";
    const group = "kip848-static-group";
    const kafka = kafkaClient(agent.bootstrap);
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic, numPartitions: 6 }] });
    await admin.disconnect();
    const log = new EventLog();
    const props = (instance: string) => ["group.remote.assignor=range", `group.instance.id=${instance}`];
    const first = await startMember(log, agent.bootstrap, group, topic, "s1", props("instance-1"));
    const second = await startMember(log, agent.bootstrap, group, topic, "s2", props("instance-2"));
    running.push(first.command, second.command);
    await settled(log, [first, second], topic, 6);
    // Range, in instance-id order: instance-1 takes 0-2, instance-2 takes 3-5.
    assert.deepEqual([...log.holdings().get("s1")!].sort(), [`${topic}-0`, `${topic}-1`, `${topic}-2`]);
    assert.deepEqual([...log.holdings().get("s2")!].sort(), [`${topic}-3`, `${topic}-4`, `${topic}-5`]);
    const s2Revocations = () => log.events.filter((e) => e.member === "s2" && e.kind === "REVOKED").length;
    const before = s2Revocations();
    await first.stop();
    const again = await startMember(log, agent.bootstrap, group, topic, "s1-again", props("instance-1"));
    running.push(again.command);
    await settled(log, [again, second], topic, 6);
    assert.deepEqual([...log.holdings().get("s1-again")!].sort(), [`${topic}-0`, `${topic}-1`, `${topic}-2`]);
    assert.equal(s2Revocations(), before, "the other static member kept its partitions");
    const described = await runKafkaTool(
      "consumer-groups",
      ["--bootstrap-server", agent.bootstrap, "--describe", "--group", group, "--state"],
      { timeoutMs: 120_000 },
    );
    assert.equal(described.code, 0, described.stderr);
    assert.match(described.stdout, /\brange\b/, described.stdout);
    await again.stop();
    await second.stop();
    log.assertNoSharedPartition();
  });

  it("a server-side regular expression subscription picks up a topic created later", async () => {
    const group = "kip848-regex";
    const kafka = kafkaClient(agent.bootstrap);
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: "kip848-re-one", numPartitions: 2 }] });
    const log = new EventLog();
    const member = await startMember(log, agent.bootstrap, group, "regex:kip848-re-.*", "r1");
    running.push(member.command);
    await eventually(() => log.holdings().get("r1")?.size === 2, poll("r1 to hold the first topic's 2 partitions"));
    await admin.createTopics({
      topics: [
        { topic: "kip848-re-two", numPartitions: 3 },
        { topic: "other", numPartitions: 1 },
      ],
    });
    await admin.disconnect();
    await eventually(() => log.holdings().get("r1")?.size === 5, poll("r1 to hold both topics' 5 partitions"));
    assert.deepEqual([...log.holdings().get("r1")!].sort(), [
      "kip848-re-one-0",
      "kip848-re-one-1",
      "kip848-re-two-0",
      "kip848-re-two-1",
      "kip848-re-two-2",
    ]);
    await member.stop();
  });

  it("librdkafka (confluent-kafka) consumers with group.protocol=consumer share a topic and consume everything", async () => {
    await ensureConfluentKafka();
    const topic = "kip848-rdkafka";
    const group = "kip848-rdkafka-group";
    const kafka = kafkaClient(agent.bootstrap);
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic, numPartitions: 4 }] });
    await admin.disconnect();
    const members = ["py1", "py2"].map((clientId) => {
      const assigned = new Set<number>();
      const values = new Set<string>();
      const errors: string[] = [];
      const onStdoutLine = (line: string) => {
        if (line.trim() === "") return;
        const e = JSON.parse(line) as { event: string; partitions?: number[]; v?: string; error?: string };
        if (e.event === "assigned") for (const p of e.partitions!) assigned.add(p);
        if (e.event === "revoked") for (const p of e.partitions!) assigned.delete(p);
        if (e.event === "record") values.add(e.v!);
        if (e.event === "error") errors.push(e.error!);
      };
      return { clientId, assigned, values, errors, onStdoutLine };
    });
    const commands = await Promise.all(
      members.map((m) =>
        startPythonScript("group_consumer.py", [agent.bootstrap, group, topic, m.clientId, "consumer"], {
          onStdoutLine: m.onStdoutLine,
          timeoutMs: 600_000,
        }),
      ),
    );
    running.push(...commands);
    await eventually(
      () => members.every((m) => m.assigned.size > 0) && members[0]!.assigned.size + members[1]!.assigned.size === 4,
      poll("both librdkafka members to share the 4 partitions"),
    );
    const producer = kafka.producer();
    await producer.connect();
    await producer.send({
      topic,
      messages: Array.from({ length: 100 }, (_, i) => ({ key: `k${i}`, value: `r-${i}` })),
    });
    await producer.disconnect();
    await eventually(() => {
      const all = new Set([...members[0]!.values, ...members[1]!.values]);
      return Array.from({ length: 100 }, (_, i) => `r-${i}`).every((v) => all.has(v));
    }, poll("every record to reach the librdkafka members"));
    for (const m of members) assert.ok(m.values.size > 0, `${m.clientId} consumed some records`);
    for (const c of commands) c.endInput("stop\n");
    for (const [i, c] of commands.entries()) {
      const r = await c.result;
      assert.equal(r.code, 0, `${members[i]!.clientId}: ${r.stderr}`);
    }
    assert.deepEqual(
      members.flatMap((m) => m.errors),
      [],
    );
  });
});
