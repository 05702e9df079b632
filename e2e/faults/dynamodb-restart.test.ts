/**
 * DynamoDB Local stopped and started again (same port, data on disk with -dbPath) while idempotent
 * producers write through three agents: calls fail while it is down (connection refused / reset),
 * the agents retry, the producers see at most retriable errors, and afterwards nothing acknowledged is
 * lost, duplicated or reordered.
 */
import assert from "node:assert/strict";
import { tempDir } from "../../agent/test/support/agents.js";
import { startFaultCluster } from "./cluster.js";
import type { FaultCluster } from "./cluster.js";
import { SCALE, assertClean, createTopic, readAndCheck, tableLine } from "./run.js";
import { startWorkload } from "./workload.js";

const PARTITIONS = 6;
const STEP = 60;

describe("faults: DynamoDB Local restarted under load", function () {
  this.timeout(600_000);
  const dir = tempDir("ddb-restart");
  let cluster: FaultCluster;

  before(async () => {
    cluster = await startFaultCluster({
      agents: 3,
      seed: SCALE.seed,
      name: "ddbrestart",
      dynamo: { dbPath: dir.path },
    });
    for (const i of [0, 1, 2]) await cluster.start(i);
  });

  after(async () => {
    await cluster?.stop();
    dir.remove();
  });

  it("keeps every acknowledged record through a store restart", async () => {
    await createTopic(cluster.bootstrap(), "ddbrestart", PARTITIONS);
    const workload = startWorkload({
      brokers: () => cluster.bootstrap(),
      topic: "ddbrestart",
      partitions: PARTITIONS,
      producers: 3,
      batch: 10,
      maxRecordsPerProducer: 1_000_000,
    });
    let ackedBefore: number;
    let ackedAfter: number;
    try {
      await workload.waitForAcked(STEP, 120_000);
      ackedBefore = workload.acked();
      await cluster.ddb.restart();
      await workload.waitForAcked(workload.acked() + 2 * STEP, 180_000);
      ackedAfter = workload.acked();
    } catch (err) {
      await workload.stop();
      throw new Error(`${err instanceof Error ? err.message : String(err)}\n${cluster.logs()}`, { cause: err });
    }
    const history = await workload.stop();
    const failed = cluster.counts().dynamodb.upstreamErrors;
    const verdict = await readAndCheck(cluster.bootstrap(), "ddbrestart", history, true);
    console.log(
      `      acked ${ackedBefore} before the restart, ${ackedAfter} once it was back; proxied calls that found DynamoDB down: ${failed}; ${verdict.summary}`,
    );
    console.log(
      tableLine("DynamoDB Local restart (-dbPath)", "3 agents, 3 idempotent producers, 6 partitions", verdict.result),
    );
    assertClean(verdict, () => cluster.logs());
    assert.deepEqual(history.errors.nonRetriable, [], "clients saw only retriable errors");
    assert.ok(failed > 0, "agents' calls reached DynamoDB while it was down");
  });
});
