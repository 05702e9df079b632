/**
 * Transactions under faults: three agents over DynamoDB Local and the S3 server; the Java
 * client runs transactions one after another (agent/test/clients/java/Transactions.java, "workload": six
 * records over six partitions each, every fourth aborted) while the store throttles and fails a share of
 * DynamoDB calls, then while one agent is SIGKILLed and restarted. Read back with read_committed, the
 * transactional checker (e2e/support/checker.ts checkTransactions) finds every committed transaction whole,
 * no aborted record, each transaction whose end failed whole or absent, and nothing twice.
 */
import assert from "node:assert/strict";
import path from "node:path";
import { checkTransactions, describeTransactionResult } from "../support/checker.js";
import type { ConsumedRecord, SentTransaction } from "../support/checker.js";
import type { FaultRule } from "../support/fault-proxy.js";
import { ensureKafkaTools, startJavaProgram } from "../support/kafka-tools.js";
import { faultSuite } from "./fixture.js";
import { SCALE } from "./run.js";

const SOURCE = path.join(import.meta.dirname, "..", "..", "agent", "test", "clients", "java", "Transactions.java");
const PARTITIONS = 6;
const TRANSACTIONS = 60;

/** About 10% of DynamoDB calls throttled or failed with a 5xx. */
const THROTTLE_AND_5XX: readonly FaultRule[] = [
  { probability: 0.05, fault: { kind: "throttle" } },
  { probability: 0.03, fault: { kind: "status", status: 500 } },
  { probability: 0.02, fault: { kind: "status", status: 503 } },
];

describe("faults: transactions under store faults and an agent's SIGKILL", function () {
  this.timeout(600_000);
  const suite = faultSuite({ agents: 3, seed: SCALE.seed, name: "txnfaults" });

  before(async () => {
    await ensureKafkaTools();
  });

  it("every committed transaction is read whole, no aborted record is read, an unknown end is all or nothing", async () => {
    const { cluster } = suite;
    const topic = "txn-faults";
    await suite.createTopic(topic, PARTITIONS);
    const lines: string[] = [];
    const ended = () => lines.filter((l) => /^(COMMITTED|ABORTED|INDETERMINATE) /.test(l)).length;
    const workload = await startJavaProgram(
      SOURCE,
      ["workload", cluster.bootstrap().join(","), topic, String(PARTITIONS), "faulty", String(TRANSACTIONS), "4", "6"],
      { onStdoutLine: (l) => lines.push(l), timeoutMs: 480_000 },
    );
    workload.endInput("");
    const until = async (n: number) => {
      const deadline = Date.now() + 180_000;
      while (ended() < n && !lines.includes("DONE")) {
        if (Date.now() > deadline) assert.fail(`only ${ended()} transactions ended\n${lines.slice(-20).join("\n")}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    };
    await until(10);
    const before = cluster.counts();
    cluster.setRules("dynamodb", THROTTLE_AND_5XX);
    await until(25);
    cluster.setRules("dynamodb", []);
    const after = cluster.counts();
    const injected =
      after.dynamodb.throttle -
      before.dynamodb.throttle +
      (after.dynamodb.status500 - before.dynamodb.status500) +
      (after.dynamodb.status503 - before.dynamodb.status503);
    await cluster.kill(1);
    await until(35);
    await cluster.start(1);
    const done = await workload.result;
    assert.equal(done.code, 0, `${done.stderr.slice(-3000)}\n${cluster.logs(2000)}`);
    assert.ok(lines.includes("DONE"));

    const transactions = new Map<string, SentTransaction>();
    const outcome = new Map<string, string>();
    for (const line of lines) {
      const begin = /^BEGIN (\S+) (\S+)$/.exec(line);
      if (begin) transactions.set(begin[1]!, { id: begin[1]!, values: begin[2]!.split(",") });
      const end = /^(COMMITTED|ABORTED|INDETERMINATE) (\S+)/.exec(line);
      if (end) outcome.set(end[2]!, end[1]!);
    }
    const of = (kind: string) => [...transactions.values()].filter((t) => outcome.get(t.id) === kind);

    const read: string[] = [];
    const reader = await startJavaProgram(
      SOURCE,
      ["consume", cluster.bootstrap().join(","), topic, String(PARTITIONS), "read_committed", "3000"],
      { onStdoutLine: (l) => read.push(l), timeoutMs: 120_000 },
    );
    reader.endInput("");
    const r = await reader.result;
    assert.equal(r.code, 0, r.stderr.slice(-3000));
    const consumed: ConsumedRecord[] = read.flatMap((l) => {
      const m = /^RECORD (\d+) (\d+) (.*)$/.exec(l);
      return m ? [{ partition: Number(m[1]), offset: BigInt(m[2]!), key: "", value: m[3]! }] : [];
    });
    const verdict = checkTransactions({
      committed: of("COMMITTED"),
      aborted: of("ABORTED"),
      indeterminate: of("INDETERMINATE"),
      consumed,
    });
    const summary = `${describeTransactionResult(verdict)}; faults injected into ${injected} DynamoDB calls; agent 1 SIGKILLed and restarted`;
    console.log(`      ${summary}`);
    assert.ok(verdict.ok, `${summary}\n${cluster.logs(2000)}`);
    assert.ok(verdict.committed >= TRANSACTIONS / 2, summary);
    assert.ok(verdict.aborted > 0, summary);
    assert.ok(injected > 0, "the store's faults hit the run");
  });
});
