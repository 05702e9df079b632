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
import path from "node:path";
import { Kafka, logLevel } from "kafkajs";
import { eventually } from "../../../e2e/support/eventually.js";
import { ensureKafkaTools, runKafkaTool, startJavaProgram } from "../../../e2e/support/kafka-tools.js";
import type { RunningCommand } from "../../../e2e/support/processes.js";
import { ensureConfluentKafka, startPythonScript } from "../../../e2e/support/python-client.js";
import { startTestAgent } from "../support/agents.js";
import type { TestAgent } from "../support/agents.js";

const CONSUMER_SOURCE = path.join(import.meta.dirname, "java", "GroupConsumer.java");

/** A hang guard, not a threshold: checks every 100 ms for up to three minutes. */
const POLL = { timeoutMs: 180_000, intervalMs: 100 } as const;
const poll = (what: string) => ({ ...POLL, what });

interface Event {
  readonly us: bigint;
  readonly kind: string;
  readonly member: string;
  readonly rest: readonly string[];
}

/** Everything the consumers of one test printed, in arrival order. */
class EventLog {
  readonly events: Event[] = [];

  add(line: string): void {
    const [us, kind, member, ...rest] = line.trim().split(" ");
    if (!us || !kind || !member || !/^\d+$/.test(us)) return;
    this.events.push({ us: BigInt(us), kind, member, rest });
  }

  /** Events in the order they happened (the members' shared clock). */
  ordered(): Event[] {
    return [...this.events].sort((a, b) => (a.us < b.us ? -1 : a.us > b.us ? 1 : 0));
  }

  /** member → partitions it holds now (from its listener's events). */
  holdings(): Map<string, Set<string>> {
    const held = new Map<string, Set<string>>();
    for (const e of this.ordered()) {
      const set = held.get(e.member) ?? new Set<string>();
      held.set(e.member, set);
      const parts = e.rest[0]?.split(",").filter((p) => p !== "") ?? [];
      if (e.kind === "ASSIGNED") for (const p of parts) set.add(p);
      if (e.kind === "REVOKED" || e.kind === "LOST") for (const p of parts) set.delete(p);
      if (e.kind === "CLOSED") set.clear();
    }
    return held;
  }

  values(): Set<string> {
    return new Set(this.events.filter((e) => e.kind === "RECORD").map((e) => e.rest[2]!));
  }

  /** Throws when a partition was assigned to a member while another still held it. */
  assertNoSharedPartition(): void {
    const owner = new Map<string, string>();
    let assignments = 0;
    for (const e of this.ordered()) {
      const parts = e.rest[0]?.split(",").filter((p) => p !== "") ?? [];
      if (e.kind === "ASSIGNED")
        for (const p of parts) {
          const held = owner.get(p);
          assert.ok(held === undefined || held === e.member, `${p} assigned to ${e.member} while ${held} held it`);
          owner.set(p, e.member);
          assignments++;
        }
      if (e.kind === "REVOKED" || e.kind === "LOST")
        for (const p of parts) if (owner.get(p) === e.member) owner.delete(p);
      if (e.kind === "CLOSED") for (const [p, m] of [...owner]) if (m === e.member) owner.delete(p);
    }
    assert.ok(assignments > 0, "some partitions were assigned");
  }

  /** Throws when a partition's committed offset went down. */
  assertCommitsMonotonic(): void {
    const last = new Map<string, bigint>();
    let commits = 0;
    for (const e of this.ordered()) {
      if (e.kind !== "COMMITTED") continue;
      const [p, offset] = [e.rest[0]!, BigInt(e.rest[1]!)];
      const before = last.get(p);
      assert.ok(before === undefined || offset >= before, `${p}: ${e.member} committed ${offset} after ${before}`);
      last.set(p, offset);
      commits++;
    }
    assert.ok(commits > 0, "offsets were committed");
  }
}

interface JavaMember {
  readonly name: string;
  readonly command: RunningCommand;
  stop(): Promise<void>;
}

async function startMember(
  log: EventLog,
  bootstrap: string,
  group: string,
  subscription: string,
  name: string,
  props: readonly string[] = [],
): Promise<JavaMember> {
  const command = await startJavaProgram(
    CONSUMER_SOURCE,
    [bootstrap, group, subscription, name, "group.protocol=consumer", ...props],
    { onStdoutLine: (line) => log.add(line), timeoutMs: 900_000 },
  );
  return {
    name,
    command,
    stop: async () => {
      command.endInput("stop\n");
      const r = await command.result;
      assert.equal(r.code, 0, `${name} failed (${r.code}):\n${r.stderr.slice(-3000)}`);
      assert.ok(
        log.events.some((e) => e.kind === "CLOSED" && e.member === name),
        `${name} closed`,
      );
    },
  };
}

function kafkaClient(bootstrap: string): Kafka {
  return new Kafka({ clientId: "kip848-test", brokers: [bootstrap], logLevel: logLevel.NOTHING });
}

/** Waits until `members` (and only they) hold every partition of `topic` between them, each at least one. */
async function settled(log: EventLog, members: readonly JavaMember[], topic: string, partitions: number) {
  await eventually(() => {
    for (const m of members)
      if (log.events.some((e) => e.member === m.name && e.kind === "CLOSED")) throw new Error(`${m.name} exited`);
    const held = log.holdings();
    const all = new Set<string>();
    for (const m of members) {
      const mine = held.get(m.name) ?? new Set();
      if (mine.size === 0) return false;
      for (const p of mine) if (p.startsWith(`${topic}-`)) all.add(p);
    }
    for (const [name, set] of held) if (!members.some((m) => m.name === name) && set.size > 0) return false;
    return all.size === partitions;
  }, poll("the members to share every partition"));
}

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
    const topic = "kip848-orders";
    const group = "kip848-java";
    const kafka = kafkaClient(agent.bootstrap);
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic, numPartitions: 12 }] });
    await admin.disconnect();
    const producer = kafka.producer();
    await producer.connect();
    let produced = 0;
    const produce = async (n: number) => {
      const messages = Array.from({ length: n }, () => ({ key: `k${produced}`, value: `v-${produced++}` }));
      await producer.send({ topic, messages });
    };
    // The producer keeps writing in the background while members come and go.
    let producing = true;
    const background = (async () => {
      while (producing) {
        await produce(20);
        await new Promise((r) => setTimeout(r, 200));
      }
    })();
    const log = new EventLog();
    const start = async (name: string) => {
      const m = await startMember(log, agent.bootstrap, group, topic, name);
      running.push(m.command);
      return m;
    };
    try {
      const a = await start("a");
      const b = await start("b");
      await settled(log, [a, b], topic, 12);
      const c = await start("c");
      const d = await start("d");
      await settled(log, [a, b, c, d], topic, 12);
      const held = log.holdings();
      for (const m of [a, b, c, d]) assert.equal(held.get(m.name)!.size, 3, `uniform: ${m.name} holds 3 of 12`);

      const described = await runKafkaTool(
        "consumer-groups",
        ["--bootstrap-server", agent.bootstrap, "--describe", "--group", group, "--members", "--verbose"],
        { timeoutMs: 120_000 },
      );
      assert.equal(described.code, 0, described.stderr);
      const rows = described.stdout.split("\n").filter((l) => l.startsWith(group));
      assert.equal(rows.length, 4, described.stdout);
      for (const name of ["a", "b", "c", "d"]) {
        const row = rows.find((r) => r.split(/\s+/).includes(name));
        assert.ok(row, `member ${name} listed:\n${described.stdout}`);
        // GROUP CONSUMER-ID HOST CLIENT-ID #PARTITIONS CURRENT-EPOCH CURRENT-ASSIGNMENT TARGET-EPOCH TARGET-ASSIGNMENT
        assert.match(row, /\s3\s/, `${name} shows 3 partitions:\n${described.stdout}`);
        assert.match(row, new RegExp(`${topic}:\\d+,\\d+,\\d+`), `${name} shows its partitions:\n${described.stdout}`);
      }
      assert.match(described.stdout, /CURRENT-EPOCH/, described.stdout);

      await a.stop();
      await settled(log, [b, c, d], topic, 12);
      const e = await start("e");
      await settled(log, [b, c, d, e], topic, 12);
      await b.stop();
      await settled(log, [c, d, e], topic, 12);
      producing = false;
      await background;
      await produce(20);
      const want = new Set(Array.from({ length: produced }, (_, i) => `v-${i}`));
      await eventually(() => [...want].every((v) => log.values().has(v)), poll("every record to be consumed"));
      for (const m of [c, d, e]) await m.stop();
      log.assertNoSharedPartition();
      log.assertCommitsMonotonic();
      assert.deepEqual(
        log.events.filter((ev) => ev.kind === "COMMITFAILED").map((ev) => ev.rest.join(" ")),
        [],
        "no commit failed",
      );
      // Committed offsets end at the high watermarks.
      const admin2 = kafka.admin();
      await admin2.connect();
      const offsets = await admin2.fetchOffsets({ groupId: group, topics: [topic] });
      const high = await admin2.fetchTopicOffsets(topic);
      await admin2.disconnect();
      for (const p of high)
        assert.equal(
          offsets[0]!.partitions.find((x) => x.partition === p.partition)!.offset,
          p.high,
          `partition ${p.partition} committed up to its high watermark`,
        );
    } finally {
      producing = false;
      await background.catch(() => undefined);
      await producer.disconnect();
    }
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
