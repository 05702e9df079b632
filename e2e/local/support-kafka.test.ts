/**
 * The Kafka harnesses against a real Apache Kafka 4.x broker (KRaft, single node, from Maven
 * Central): Kafka's own command-line tools and kcat.
 */
import assert from "node:assert/strict";
import { ensureKcat, runKcat } from "../support/kcat.js";
import { KAFKA_VERSION, ensureKafkaTools, runKafkaTool, startKafkaBroker } from "../support/kafka-tools.js";
import type { KafkaBroker } from "../support/kafka-tools.js";

describe("support: Apache Kafka broker, Kafka tools and kcat", function () {
  this.timeout(300_000);
  let broker: KafkaBroker;

  before(async function () {
    this.timeout(1_200_000); // the first run fetches the jars and may apt-get install kcat
    await ensureKcat();
    const tools = await ensureKafkaTools();
    assert.match(tools.classpath, new RegExp(`kafka-tools-${KAFKA_VERSION.replace(/\./g, "\\.")}\\.jar`));
    broker = await startKafkaBroker();
  });
  after(async () => broker?.stop());

  it("creates, lists and describes a topic with kafka-topics", async () => {
    const created = await runKafkaTool("topics", [
      "--bootstrap-server",
      broker.bootstrap,
      "--create",
      "--topic",
      "tools",
      "--partitions",
      "3",
    ]);
    assert.equal(created.code, 0, created.stderr);
    assert.match(created.stdout, /Created topic tools/);
    const listed = await runKafkaTool("topics", ["--bootstrap-server", broker.bootstrap, "--list"]);
    assert.match(listed.stdout, /^tools$/m);
    const described = await runKafkaTool("topics", [
      "--bootstrap-server",
      broker.bootstrap,
      "--describe",
      "--topic",
      "tools",
    ]);
    assert.match(described.stdout, /PartitionCount: 3/);
  });

  it("produces with the console producer and consumes in a group with the console consumer", async () => {
    const lines = Array.from({ length: 30 }, (_, i) => `k${i}:v${i}`).join("\n") + "\n";
    const produced = await runKafkaTool(
      "console-producer",
      [
        "--bootstrap-server",
        broker.bootstrap,
        "--topic",
        "tools",
        "--property",
        "parse.key=true",
        "--property",
        "key.separator=:",
      ],
      { input: lines },
    );
    assert.equal(produced.code, 0, produced.stderr);
    const consumed = await runKafkaTool("console-consumer", [
      "--bootstrap-server",
      broker.bootstrap,
      "--topic",
      "tools",
      "--from-beginning",
      "--group",
      "g1",
      "--max-messages",
      "30",
      "--timeout-ms",
      "60000",
      "--property",
      "print.key=true",
      "--property",
      "key.separator=:",
    ]);
    assert.equal(consumed.code, 0, consumed.stderr);
    const got = consumed.stdout
      .split("\n")
      .filter((l) => /^k\d+:v\d+$/.test(l))
      .sort();
    assert.deepEqual(got, lines.trim().split("\n").sort());
  });

  it("describes the group's committed offsets with kafka-consumer-groups", async () => {
    const described = await runKafkaTool("consumer-groups", [
      "--bootstrap-server",
      broker.bootstrap,
      "--describe",
      "--group",
      "g1",
    ]);
    assert.equal(described.code, 0, described.stderr);
    const rows = described.stdout.split("\n").filter((l) => l.startsWith("g1 "));
    assert.equal(rows.length, 3, described.stdout);
    assert.equal(
      rows.reduce((sum, r) => sum + Number(r.trim().split(/\s+/)[3]), 0),
      30,
    );
  });

  it("runs the producer and consumer perf tests", async () => {
    const produced = await runKafkaTool("producer-perf-test", [
      "--topic",
      "perf",
      "--num-records",
      "2000",
      "--record-size",
      "100",
      "--throughput",
      "-1",
      "--producer-props",
      `bootstrap.servers=${broker.bootstrap}`,
      "acks=all",
    ]);
    assert.equal(produced.code, 0, produced.stderr);
    assert.match(produced.stdout, /2000 records sent/);
    const consumed = await runKafkaTool("consumer-perf-test", [
      "--bootstrap-server",
      broker.bootstrap,
      "--topic",
      "perf",
      "--messages",
      "2000",
      "--timeout",
      "60000",
    ]);
    assert.equal(consumed.code, 0, consumed.stderr);
    // CSV-ish line: start.time, end.time, data.consumed.in.MB, MB.sec, data.consumed.in.nMsg, ...
    const row = consumed.stdout
      .trim()
      .split("\n")
      .pop()!
      .split(",")
      .map((c) => c.trim());
    assert.equal(Number(row[4]), 2000, consumed.stdout);
  });

  it("produces and consumes with kcat (librdkafka)", async () => {
    const version = await runKcat(["-V"]);
    assert.match(version.stdout + version.stderr, /librdkafka/);
    const lines = Array.from({ length: 20 }, (_, i) => `key${i}:val${i}`).join("\n") + "\n";
    const produced = await runKcat(["-b", broker.bootstrap, "-P", "-t", "kcat", "-K:", "-X", "acks=all"], {
      input: lines,
    });
    assert.equal(produced.code, 0, produced.stderr);
    const consumed = await runKcat([
      "-b",
      broker.bootstrap,
      "-C",
      "-t",
      "kcat",
      "-o",
      "beginning",
      "-e",
      "-q",
      "-f",
      "%k:%s\\n",
    ]);
    assert.equal(consumed.code, 0, consumed.stderr);
    assert.deepEqual(consumed.stdout.trim().split("\n").sort(), lines.trim().split("\n").sort());
    const meta = await runKcat(["-b", broker.bootstrap, "-L", "-t", "kcat"]);
    assert.match(meta.stdout, /topic "kcat" with 1 partitions/);
  });
});
