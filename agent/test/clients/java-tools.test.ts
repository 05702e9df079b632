/**
 * Apache Kafka's own Java tools (from Maven Central) against a real agent: kafka-topics create and
 * describe, console producer and consumer, kafka-consumer-groups listing offsets, a LogAppendTime
 * topic whose records the console consumer (which checks CRCs) reads with the append time, and describing
 * a group after one of its topics was deleted.
 */
import assert from "node:assert/strict";
import { ensureKafkaTools, type KafkaTool, runKafkaTool } from "../../../e2e/support/kafka-tools.js";
import { startTestAgent } from "../support/agents.js";
import type { TestAgent } from "../support/agents.js";

describe("Apache Kafka Java tools", function () {
  this.timeout(600_000);
  let agent: TestAgent;

  before(async () => {
    await ensureKafkaTools();
    agent = await startTestAgent({ autoCreateTopics: "false" });
  });
  after(async () => agent?.stop());

  it("creates and describes a topic with kafka-topics", async () => {
    const created = await runKafkaTool(
      "topics",
      ["--bootstrap-server", agent.bootstrap, "--create", "--topic", "java-topic", "--partitions", "3"],
      { timeoutMs: 120_000 },
    );
    assert.equal(created.code, 0, created.stderr);
    assert.match(created.stdout, /Created topic java-topic/);
    const described = await runKafkaTool(
      "topics",
      ["--bootstrap-server", agent.bootstrap, "--describe", "--topic", "java-topic"],
      { timeoutMs: 120_000 },
    );
    assert.equal(described.code, 0, described.stderr);
    assert.match(described.stdout, /PartitionCount: 3/);
    const listed = await runKafkaTool("topics", ["--bootstrap-server", agent.bootstrap, "--list"], {
      timeoutMs: 120_000,
    });
    assert.match(listed.stdout, /^java-topic$/m);
  });

  it("produces with the console producer and consumes with the console consumer in a group", async () => {
    const lines = Array.from({ length: 50 }, (_, i) => `k${i}:message-${i}`).join("\n") + "\n";
    const produced = await runKafkaTool(
      "console-producer",
      [
        "--bootstrap-server",
        agent.bootstrap,
        "--topic",
        "java-topic",
        "--property",
        "parse.key=true",
        "--property",
        "key.separator=:",
      ],
      { input: lines, timeoutMs: 120_000 },
    );
    assert.equal(produced.code, 0, produced.stderr);
    const consumed = await runKafkaTool(
      "console-consumer",
      [
        "--bootstrap-server",
        agent.bootstrap,
        "--topic",
        "java-topic",
        "--from-beginning",
        "--group",
        "java-group",
        "--max-messages",
        "50",
        "--timeout-ms",
        "60000",
      ],
      { timeoutMs: 120_000 },
    );
    assert.equal(consumed.code, 0, consumed.stderr);
    const values = consumed.stdout.split("\n").filter((l) => l.startsWith("message-"));
    assert.equal(new Set(values).size, 50);
  });

  it("reads a LogAppendTime topic's records with their append time", async () => {
    const created = await runKafkaTool(
      "topics",
      [
        "--bootstrap-server",
        agent.bootstrap,
        "--create",
        "--topic",
        "java-append-time",
        "--partitions",
        "1",
        "--config",
        "message.timestamp.type=LogAppendTime",
      ],
      { timeoutMs: 120_000 },
    );
    assert.equal(created.code, 0, created.stderr);
    const before = Date.now();
    const produced = await runKafkaTool(
      "console-producer",
      ["--bootstrap-server", agent.bootstrap, "--topic", "java-append-time"],
      { input: "first\nsecond\nthird\n", timeoutMs: 120_000 },
    );
    assert.equal(produced.code, 0, produced.stderr);
    const after = Date.now();
    const consumed = await runKafkaTool(
      "console-consumer",
      [
        "--bootstrap-server",
        agent.bootstrap,
        "--topic",
        "java-append-time",
        "--from-beginning",
        "--max-messages",
        "3",
        "--timeout-ms",
        "60000",
        "--property",
        "print.timestamp=true",
      ],
      { timeoutMs: 120_000 },
    );
    assert.equal(consumed.code, 0, consumed.stderr);
    const rows = consumed.stdout.split("\n").filter((l) => /\t(first|second|third)$/.test(l));
    assert.equal(rows.length, 3, consumed.stdout);
    for (const row of rows) {
      const m = /^LogAppendTime:(\d+)\t/.exec(row);
      assert.ok(m, `timestamp type LogAppendTime: ${row}`);
      const ts = Number(m[1]);
      assert.ok(ts >= before && ts <= after, `append time ${ts} within the produce run [${before}, ${after}]`);
    }
  });

  it("lists the group's committed offsets with kafka-consumer-groups", async () => {
    const listed = await runKafkaTool("consumer-groups", ["--bootstrap-server", agent.bootstrap, "--list"], {
      timeoutMs: 120_000,
    });
    assert.equal(listed.code, 0, listed.stderr);
    assert.match(listed.stdout, /^java-group$/m);
    const described = await runKafkaTool(
      "consumer-groups",
      ["--bootstrap-server", agent.bootstrap, "--describe", "--group", "java-group"],
      { timeoutMs: 120_000 },
    );
    assert.equal(described.code, 0, described.stderr);
    const rows = described.stdout.split("\n").filter((l) => l.includes("java-topic"));
    assert.equal(rows.length, 3, described.stdout);
    const committed = rows.reduce((sum, row) => sum + Number(row.trim().split(/\s+/)[3]), 0);
    assert.equal(committed, 50, `committed offsets add up to the messages consumed:\n${described.stdout}`);
  });

  it("describes a group with kafka-consumer-groups after one of its topics was deleted", async () => {
    const tool = async (name: KafkaTool, args: string[]) => {
      const r = await runKafkaTool(name, ["--bootstrap-server", agent.bootstrap, ...args], { timeoutMs: 120_000 });
      assert.equal(r.code, 0, `${name} ${args.join(" ")}:\n${r.stdout}\n${r.stderr}`);
      return r.stdout;
    };
    await tool("topics", ["--create", "--topic", "kept-topic", "--partitions", "1"]);
    await tool("topics", ["--create", "--topic", "doomed-topic", "--partitions", "2"]);
    // Commits offsets for the (empty, inactive) group on both topics.
    const group = ["--group", "two-topic-group"];
    await tool("consumer-groups", [
      "--reset-offsets",
      ...group,
      "--topic",
      "kept-topic",
      "--topic",
      "doomed-topic",
      "--to-earliest",
      "--execute",
    ]);
    const before = await tool("consumer-groups", ["--describe", ...group]);
    assert.match(before, /doomed-topic/, before);

    await tool("topics", ["--delete", "--topic", "doomed-topic"]);
    const after = await tool("consumer-groups", ["--describe", ...group]);
    assert.match(after, /kept-topic/, after);
    assert.doesNotMatch(after, /doomed-topic/, after);
  });
});
