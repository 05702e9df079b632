/**
 * confluent-kafka, Confluent's Python client (its wheel bundles librdkafka 2.16), against real agents
 * through the scripts in e2e/support/python/: AdminClient calls, an idempotent producer read back,
 * and a consumer group of two Python processes; then the group across two agents sharing DynamoDB
 * Local.
 */
import assert from "node:assert/strict";
import { LOCAL_AWS, startDynamoDbLocal } from "../../../e2e/support/dynamodb-local.js";
import type { DynamoDbLocal } from "../../../e2e/support/dynamodb-local.js";
import { eventually } from "../../../e2e/support/eventually.js";
import type { RunningCommand } from "../../../e2e/support/processes.js";
import {
  ensureConfluentKafka,
  jsonLines,
  runPythonScript,
  startPythonScript,
} from "../../../e2e/support/python-client.js";
import { spawnAgentProcess, startTestAgent } from "../support/agents.js";
import type { AgentProcess, TestAgent } from "../support/agents.js";

/** Checks every 100 ms, for two minutes. */
const POLL = { timeoutMs: 120_000, intervalMs: 100 } as const;

type Outcome<T = null> = { readonly ok: T } | { readonly error: string };

interface TopicList {
  readonly controllerId: number;
  readonly brokers: readonly { readonly id: number; readonly host: string; readonly port: number }[];
  readonly topics: Record<string, { readonly partitions: readonly number[]; readonly error: string | null }>;
}

interface ConfigView {
  readonly value: string | null;
  readonly source: string;
  readonly isDefault: boolean;
  readonly isReadOnly: boolean;
}

interface GroupListing {
  readonly groups: readonly { readonly groupId: string; readonly state: string; readonly isSimple: boolean }[];
  readonly errors: readonly string[];
}

interface GroupDescription {
  readonly state: string;
  readonly isSimple: boolean;
  readonly assignor: string;
  readonly coordinator: number;
  readonly members: readonly { readonly clientId: string; readonly assignment: readonly [string, number][] }[];
}

interface GroupOffsets {
  readonly committed: Record<string, number>;
  readonly high: Record<string, number>;
}

interface ProduceReport {
  /** Per partition, [value, offset] in the order the delivery reports came. */
  readonly delivered: Record<string, readonly [number, number][]>;
  readonly errors: readonly { readonly value: number; readonly error: string }[];
  readonly undelivered: number;
}

interface RecordRead {
  readonly p: number;
  readonly o: number;
  readonly k: string | null;
  readonly v: string;
}

type GroupEvent =
  | { readonly event: "assigned" | "revoked"; readonly partitions: readonly number[] }
  | { readonly event: "record"; readonly p: number; readonly o: number; readonly v: string }
  | { readonly event: "committed"; readonly offsets: Record<string, number> }
  | { readonly event: "error"; readonly error: string }
  | { readonly event: "closed" };

/** Runs a script to completion and returns its JSON lines; fails with its stderr if it fails. */
async function python<T>(script: string, args: readonly string[]): Promise<T[]> {
  const r = await runPythonScript(script, args);
  assert.equal(r.code, 0, `${script} ${args.join(" ")} failed (${r.code}):\n${r.stderr}`);
  return jsonLines<T>(r.stdout);
}

/** One AdminClient call (admin.py) and its result. */
async function admin<T>(bootstrap: string, command: string, ...args: string[]): Promise<T> {
  const [result] = await python<T>("admin.py", [bootstrap, command, ...args]);
  assert.ok(result !== undefined, `admin.py ${command} printed nothing`);
  return result;
}

function ok<T>(outcome: Outcome<T>, what: string): T {
  assert.ok("ok" in outcome, `${what}: ${"error" in outcome ? outcome.error : ""}`);
  return outcome.ok;
}

async function createTopic(bootstrap: string, topic: string, partitions: number): Promise<void> {
  const { created } = await admin<{ created: Record<string, Outcome> }>(
    bootstrap,
    "create-topics",
    `${topic}:${partitions}`,
  );
  assert.deepEqual(created, { [topic]: { ok: null } });
}

/** The topics or groups the AdminClient tests made (named py-admin-*), leaving out the other tests'. */
function adminTopics(listed: TopicList): TopicList["topics"] {
  return Object.fromEntries(Object.entries(listed.topics).filter(([name]) => name.startsWith("py-admin-")));
}
function adminGroups(listed: GroupListing): GroupListing["groups"] {
  return listed.groups.filter((g) => g.groupId.startsWith("py-admin-"));
}

const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i);

/**
 * Produces `count` records with the idempotent producer (record i to partition i % partitions) and
 * checks every one was delivered without error, per partition at offsets 0, 1, ... in produce order.
 */
async function produceIdempotently(bootstrap: string, topic: string, count: number, partitions: number): Promise<void> {
  const [report] = await python<ProduceReport>("produce.py", [bootstrap, topic, String(count), String(partitions)]);
  assert.ok(report);
  assert.deepEqual(report.errors, [], "no delivery errors");
  assert.equal(report.undelivered, 0, "nothing left undelivered");
  for (const p of range(partitions)) {
    const reports: readonly [number, number][] = report.delivered[String(p)] ?? [];
    const expected = range(count).filter((i) => i % partitions === p);
    assert.deepEqual(
      [...reports].sort((a, b) => a[0] - b[0]),
      expected.map((value, offset) => [value, offset]),
      `partition ${p}: each record delivered once, at offsets 0.. in produce order`,
    );
  }
}

/** A consumer-group member: a group_consumer.py process and what it reported so far. */
interface Member {
  readonly clientId: string;
  /** The partitions assigned now (empty between a revoke and the next assignment). */
  readonly assigned: Set<number>;
  readonly records: { p: number; o: number; v: string }[];
  readonly errors: string[];
  readonly events: GroupEvent[];
  readonly command: RunningCommand;
  exited: boolean;
  /** Asks it to stop (it commits, leaves the group and exits) and checks it did so cleanly. */
  stop(): Promise<void>;
}

async function startMember(bootstrap: string, group: string, topic: string, clientId: string): Promise<Member> {
  const assigned = new Set<number>();
  const records: Member["records"] = [];
  const errors: string[] = [];
  const events: GroupEvent[] = [];
  const onLine = (line: string): void => {
    if (line.trim().length === 0) return;
    const event = JSON.parse(line) as GroupEvent;
    events.push(event);
    switch (event.event) {
      case "assigned":
        for (const p of event.partitions) assigned.add(p);
        break;
      case "revoked":
        for (const p of event.partitions) assigned.delete(p);
        break;
      case "record":
        records.push({ p: event.p, o: event.o, v: event.v });
        break;
      case "error":
        errors.push(event.error);
        break;
      case "committed":
      case "closed":
        break;
    }
  };
  const command = await startPythonScript("group_consumer.py", [bootstrap, group, topic, clientId], {
    onStdoutLine: onLine,
    timeoutMs: 600_000,
  });
  const member: Member = {
    clientId,
    assigned,
    records,
    errors,
    events,
    command,
    exited: false,
    stop: async () => {
      command.endInput("stop\n");
      const r = await command.result;
      assert.equal(r.code, 0, `${clientId} failed (${r.code}):\n${r.stderr}`);
      assert.equal(events.at(-1)?.event, "closed", `${clientId} left the group`);
    },
  };
  void command.result.then(() => (member.exited = true));
  return member;
}

/** Throws (for `eventually` to report) if a member's process has exited early. */
function running(members: readonly Member[]): void {
  for (const m of members) {
    if (m.exited) throw new Error(`${m.clientId} exited early; its last events: ${JSON.stringify(m.events.slice(-5))}`);
  }
}

/**
 * Two group_consumer.py processes in one group on a new topic of `partitions` partitions: once they
 * share the partitions, `count` records are produced; every record must be consumed exactly once
 * across both, each member from its own partitions only, and the committed offsets must end at the
 * high watermarks.
 */
async function groupOfTwo(options: {
  readonly bootstraps: readonly [string, string];
  readonly topic: string;
  readonly group: string;
  readonly partitions: number;
  readonly count: number;
}): Promise<void> {
  const { bootstraps, topic, group, partitions, count } = options;
  await createTopic(bootstraps[0], topic, partitions);
  const members = [
    await startMember(bootstraps[0], group, topic, `${group}-member-1`),
    await startMember(bootstraps[1], group, topic, `${group}-member-2`),
  ];
  try {
    await eventually(
      () => {
        running(members);
        const [a, b] = members.map((m) => [...m.assigned]);
        return (
          a!.length > 0 && b!.length > 0 && a!.every((p) => !b!.includes(p)) && a!.length + b!.length === partitions
        );
      },
      { ...POLL, what: "two members sharing every partition" },
    );
    await produceIdempotently(bootstraps[1], topic, count, partitions);
    await eventually(
      () => {
        running(members);
        return new Set(members.flatMap((m) => m.records.map((r) => r.v))).size === count;
      },
      { ...POLL, what: `all ${count} records consumed` },
    );
    for (const m of members) await m.stop();
  } finally {
    for (const m of members) m.command.kill();
  }

  for (const m of members) assert.deepEqual(m.errors, [], `${m.clientId}: no consumer errors`);
  const all = members.flatMap((m) => m.records);
  assert.equal(all.length, count, "every record consumed exactly once across both members");
  assert.deepEqual(
    all.map((r) => Number(r.v)).sort((a, b) => a - b),
    range(count),
    "the consumed values are exactly those produced",
  );
  const partitionsOf = members.map((m) => new Set(m.records.map((r) => r.p)));
  for (const [i, m] of members.entries())
    assert.ok(
      partitionsOf[i]!.size > 0,
      `${m.clientId} consumed some partitions (it read ${m.records.length} records)`,
    );
  assert.deepEqual(
    [...partitionsOf[0]!].filter((p) => partitionsOf[1]!.has(p)),
    [],
    "no partition read by both members",
  );
  assert.equal(partitionsOf[0]!.size + partitionsOf[1]!.size, partitions, "every partition read");
  for (const m of members) {
    for (const p of new Set(m.records.map((r) => r.p))) {
      const offsets = m.records.filter((r) => r.p === p).map((r) => r.o);
      assert.deepEqual(offsets, range(offsets.length), `${m.clientId}, partition ${p}: offsets 0.. in order`);
    }
  }

  const offsets = await admin<GroupOffsets>(bootstraps[0], "group-offsets", group, topic);
  assert.deepEqual(offsets.committed, offsets.high, "committed offsets equal the high watermarks");
  assert.equal(
    Object.values(offsets.high).reduce((sum, high) => sum + high, 0),
    count,
    "the high watermarks add up to the records produced",
  );
}

describe("confluent-kafka (Python, librdkafka) client", function () {
  this.timeout(600_000);
  let agent: TestAgent;

  before(async () => {
    await ensureConfluentKafka();
    agent = await startTestAgent({ autoCreateTopics: "false" });
  });
  after(async () => agent?.stop());

  describe("AdminClient", () => {
    it("list_topics names the agent as the one broker and the controller (Metadata v12)", async () => {
      const listed = await admin<TopicList>(agent.bootstrap, "list-topics");
      assert.deepEqual(
        listed.brokers.map((b) => [b.host, b.port]),
        [["127.0.0.1", agent.port]],
      );
      assert.equal(listed.controllerId, listed.brokers[0]!.id);
      assert.deepEqual(adminTopics(listed), {});
    });

    it("create_topics creates topics with partitions and configs, and refuses an existing name", async () => {
      const { created } = await admin<{ created: Record<string, Outcome> }>(
        agent.bootstrap,
        "create-topics",
        "py-admin-a:3",
        "py-admin-b:2:retention.ms=3600000,cleanup.policy=delete",
      );
      assert.deepEqual(created, { "py-admin-a": { ok: null }, "py-admin-b": { ok: null } });
      const again = await admin<{ created: Record<string, Outcome> }>(agent.bootstrap, "create-topics", "py-admin-a:3");
      assert.deepEqual(again.created, { "py-admin-a": { error: "TOPIC_ALREADY_EXISTS" } });
      const listed = await admin<TopicList>(agent.bootstrap, "list-topics");
      assert.deepEqual(adminTopics(listed), {
        "py-admin-a": { partitions: [0, 1, 2], error: null },
        "py-admin-b": { partitions: [0, 1], error: null },
      });
    });

    it("describe_configs shows set and default configs; incremental_alter_configs sets and deletes", async () => {
      const describe = async () =>
        ok(
          await admin<Outcome<Record<string, ConfigView>>>(agent.bootstrap, "describe-configs", "py-admin-b"),
          "describe_configs",
        );
      const before = await describe();
      assert.deepEqual(before["retention.ms"], {
        value: "3600000",
        source: "DYNAMIC_TOPIC_CONFIG",
        isDefault: false,
        isReadOnly: false,
        isSensitive: false,
      });
      assert.equal(before["max.message.bytes"]?.isDefault, true);
      assert.equal(before["max.message.bytes"]?.source, "DEFAULT_CONFIG");

      const altered = await admin<Outcome>(
        agent.bootstrap,
        "alter-configs",
        "py-admin-b",
        "max.message.bytes=2000",
        "retention.ms=",
      );
      ok(altered, "incremental_alter_configs");
      const after = await describe();
      assert.deepEqual(
        [after["max.message.bytes"]?.value, after["max.message.bytes"]?.source],
        ["2000", "DYNAMIC_TOPIC_CONFIG"],
      );
      assert.deepEqual(
        [after["retention.ms"]?.isDefault, after["retention.ms"]?.source],
        [true, "DEFAULT_CONFIG"],
        "a deleted config falls back to its default",
      );
      assert.notEqual(after["retention.ms"]?.value, "3600000");
      assert.equal(after["cleanup.policy"]?.value, "delete");

      const missing = await admin<Outcome>(agent.bootstrap, "alter-configs", "py-no-such-topic", "retention.ms=5");
      assert.deepEqual(missing, { error: "UNKNOWN_TOPIC_OR_PART" });
    });

    it("list_consumer_groups and describe_consumer_groups show a live member, its assignment, then the empty group", async () => {
      const member = await startMember(agent.bootstrap, "py-admin-group", "py-admin-a", "py-admin-member");
      try {
        await eventually(
          () => {
            running([member]);
            return member.assigned.size === 3;
          },
          { ...POLL, what: "the member assigned all three partitions" },
        );
        const listed = await admin<GroupListing>(agent.bootstrap, "list-groups");
        assert.deepEqual(listed.errors, []);
        assert.deepEqual(adminGroups(listed), [{ groupId: "py-admin-group", state: "STABLE", isSimple: false }]);
        const topics = await admin<TopicList>(agent.bootstrap, "list-topics");
        const described = await admin<{ groups: Record<string, Outcome<GroupDescription>> }>(
          agent.bootstrap,
          "describe-groups",
          "py-admin-group",
        );
        const live = ok(described.groups["py-admin-group"]!, "describe_consumer_groups");
        assert.deepEqual(
          { ...live, members: live.members.map((m) => ({ clientId: m.clientId, assignment: m.assignment })) },
          {
            state: "STABLE",
            isSimple: false,
            assignor: "range",
            coordinator: topics.brokers[0]!.id,
            members: [
              {
                clientId: "py-admin-member",
                assignment: [
                  ["py-admin-a", 0],
                  ["py-admin-a", 1],
                  ["py-admin-a", 2],
                ],
              },
            ],
          },
        );
        await member.stop();
      } finally {
        member.command.kill();
      }
      const described = await admin<{ groups: Record<string, Outcome<GroupDescription>> }>(
        agent.bootstrap,
        "describe-groups",
        "py-admin-group",
      );
      const empty = ok(described.groups["py-admin-group"]!, "describe_consumer_groups");
      assert.deepEqual([empty.state, empty.members], ["EMPTY", []]);
      const listed = await admin<GroupListing>(agent.bootstrap, "list-groups");
      assert.deepEqual(adminGroups(listed), [{ groupId: "py-admin-group", state: "EMPTY", isSimple: false }]);
    });

    it("delete_topics deletes topics and answers UNKNOWN_TOPIC_OR_PART for a missing one", async () => {
      const { deleted } = await admin<{ deleted: Record<string, Outcome> }>(
        agent.bootstrap,
        "delete-topics",
        "py-admin-a",
        "py-admin-b",
        "py-no-such-topic",
      );
      assert.deepEqual(deleted, {
        "py-admin-a": { ok: null },
        "py-admin-b": { ok: null },
        "py-no-such-topic": { error: "UNKNOWN_TOPIC_OR_PART" },
      });
      const listed = await admin<TopicList>(agent.bootstrap, "list-topics");
      assert.deepEqual(adminTopics(listed), {});
    });
  });

  describe("Producer and Consumer", () => {
    it("an idempotent producer delivers 20,000 records to 4 partitions, read back once each in order", async () => {
      await createTopic(agent.bootstrap, "py-idempotent", 4);
      await produceIdempotently(agent.bootstrap, "py-idempotent", 20_000, 4);
      const records = await python<RecordRead>("read_topic.py", [agent.bootstrap, "py-idempotent"]);
      assert.equal(records.length, 20_000, "every record read once");
      for (const p of range(4)) {
        const inPartition = records.filter((r) => r.p === p);
        const expected = range(20_000).filter((i) => i % 4 === p);
        assert.deepEqual(
          inPartition.map((r) => [r.o, r.k, r.v]),
          expected.map((i, offset) => [offset, `key-${i}`, String(i)]),
          `partition ${p}: the records produced to it, in produce order`,
        );
      }
    });

    it("a group of two Python processes consumes 6 partitions exactly once and commits the high watermarks", async () => {
      await groupOfTwo({
        bootstraps: [agent.bootstrap, agent.bootstrap],
        topic: "py-grouped",
        group: "py-group",
        partitions: 6,
        count: 6_000,
      });
    });
  });
});

describe("confluent-kafka on two agents sharing DynamoDB Local", function () {
  this.timeout(600_000);
  let ddb: DynamoDbLocal;
  const agents: AgentProcess[] = [];

  before(async () => {
    await ensureConfluentKafka();
    ddb = await startDynamoDbLocal();
    const env = {
      AWS_REGION: LOCAL_AWS.region,
      AWS_ACCESS_KEY_ID: LOCAL_AWS.credentials.accessKeyId,
      AWS_SECRET_ACCESS_KEY: LOCAL_AWS.credentials.secretAccessKey,
      AWS_ENDPOINT_URL_DYNAMODB: ddb.endpoint,
    };
    for (let i = 0; i < 2; i++)
      agents.push(
        await spawnAgentProcess(
          ["-bucketURL", "dynamodb://us-east-1/py-files<>py-chunks", "-batchTimeout", "50ms"],
          env,
        ),
      );
  });
  after(async () => {
    for (const a of agents) await a.kill("SIGKILL");
    await ddb?.stop();
  });

  it("list_topics sees both agents; a group with a member on each consumes exactly once", async () => {
    const ports = agents.map((a) => a.port).sort((a, b) => a - b);
    // An agent's first heartbeat is written before its listener has bound port 0, so the other
    // agent can list it with port 0 until it reads the next heartbeat.
    await eventually(
      async () => {
        const listed = await admin<TopicList>(agents[0]!.bootstrap, "list-topics");
        assert.deepEqual(
          listed.brokers.map((b) => b.port).sort((a, b) => a - b),
          ports,
        );
        return true;
      },
      { ...POLL, what: "both agents in list_topics with their ports" },
    );
    await groupOfTwo({
      bootstraps: [agents[0]!.bootstrap, agents[1]!.bootstrap],
      topic: "py-shared",
      group: "py-shared-group",
      partitions: 4,
      count: 2_000,
    });
  });
});
