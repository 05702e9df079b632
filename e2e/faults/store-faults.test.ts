/**
 * Three agents whose store calls go through fault proxies: first 20% of DynamoDB and S3 calls throttled
 * (ProvisionedThroughputExceededException, ThrottlingException, S3 SlowDown) or failing with 500/503,
 * then added latency and timeouts (some after the write landed: an unknown outcome). Idempotent
 * producers, and plain producers that never resend, write keyed records across six partitions; after
 * the faults everything is read back and checked: nothing acknowledged lost, nothing reordered within a
 * partition, nothing stored twice, and the clients saw only retriable errors.
 */
import assert from "node:assert/strict";
import type { FaultRule } from "../support/fault-proxy.js";
import { faultSuite } from "./fixture.js";
import { SCALE } from "./run.js";
import { mergeHistories } from "./workload.js";

const PARTITIONS = 6;

/** About 20% of calls: 1 - 0.9 * 0.95 * 0.97 * 0.97 ≈ 0.196. */
const THROTTLE_AND_5XX: readonly FaultRule[] = [
  { probability: 0.1, fault: { kind: "throttle" } },
  { probability: 0.05, fault: { kind: "throttle", exception: "ThrottlingException" } },
  { probability: 0.03, fault: { kind: "status", status: 500 } },
  { probability: 0.03, fault: { kind: "status", status: 503 } },
];

const LATENCY_AND_TIMEOUTS: readonly FaultRule[] = [
  // Dropped after the write reached the store: the agent cannot know whether it landed.
  { probability: 0.03, fault: { kind: "timeout", holdMs: 1_000, forward: true } },
  // Never answered: the agent's socket timeout ends the wait, and the SDK retries.
  { probability: 0.005, fault: { kind: "timeout", holdMs: 60_000 } },
  { probability: 0.15, fault: { kind: "latency", ms: 150 } },
];

describe("faults: store throttling, 5xx, latency and timeouts", function () {
  this.timeout(300_000 + SCALE.records * 300);
  const suite = faultSuite({
    agents: 3,
    seed: SCALE.seed,
    name: "storefaults",
    startAgents: async (cluster) => {
      await Promise.all([0, 1, 2].map((i) => cluster.start(i)));
    },
  });

  for (const scenario of [
    { name: "throttling + 5xx on 20% of store calls", topic: "throttled", rules: THROTTLE_AND_5XX },
    { name: "latency + timeouts (some after the write landed)", topic: "slow", rules: LATENCY_AND_TIMEOUTS },
  ]) {
    it(`${scenario.name}: nothing acknowledged is lost, duplicated or reordered`, async () => {
      const { cluster } = suite;
      await suite.createTopic(scenario.topic, PARTITIONS);
      const before = cluster.counts();
      cluster.setRules("both", scenario.rules);
      const perProducer = Math.ceil(SCALE.records / 4);
      // Idempotent producers may resend (kafkajs retries); the plain ones never do (retries 0), so a
      // duplicate of theirs could only come from the agent.
      const idempotent = suite.startWorkload({
        topic: scenario.topic,
        partitions: PARTITIONS,
        producers: 2,
        batch: 10,
        maxRecordsPerProducer: perProducer,
      });
      const plain = suite.startWorkload({
        topic: scenario.topic,
        partitions: PARTITIONS,
        producers: 2,
        batch: 10,
        maxRecordsPerProducer: perProducer,
        idempotent: false,
        retries: 0,
        valuePrefix: "plain-",
      });
      const [h1, h2] = await Promise.all([idempotent.done(), plain.done()]);
      cluster.setRules("both", []);
      const after = cluster.counts();
      const injected = (s: "dynamodb" | "s3") => {
        const a = after[s];
        const b = before[s];
        return (
          a.throttle -
          b.throttle +
          a.status500 -
          b.status500 +
          a.status503 -
          b.status503 +
          a.timeout -
          b.timeout +
          a.latency -
          b.latency
        );
      };
      assert.ok(injected("dynamodb") > 0, "faults were injected into DynamoDB calls");

      const history = mergeHistories([h1, h2]);
      const verdict = await suite.check(scenario.topic, history);
      const calls = (s: "dynamodb" | "s3") => after[s].requests - before[s].requests;
      suite.report(verdict, {
        detail: `${scenario.name}: faults injected into ${injected("dynamodb")} of ${calls("dynamodb")} DynamoDB calls, ${injected("s3")} of ${calls("s3")} S3 calls`,
        fault: scenario.name,
        load: `3 agents, 4 producers x ${perProducer} records, 6 partitions`,
      });
      suite.assertClean(verdict);
      assert.deepEqual(history.errors.nonRetriable, [], "clients saw only retriable errors");
      assert.ok(verdict.result.acked > 0, "records were acknowledged under faults");
    });
  }
});
