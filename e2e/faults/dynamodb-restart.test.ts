/**
 * DynamoDB Local stopped and started again (same port, data on disk with -dbPath) while idempotent
 * producers write through three agents: calls fail while it is down (connection refused / reset),
 * the agents retry, the producers see at most retriable errors, and afterwards nothing acknowledged is
 * lost, duplicated or reordered.
 */
import assert from "node:assert/strict";
import { tempDir } from "../../agent/test/support/agents.js";
import { faultSuite } from "./fixture.js";
import { SCALE } from "./run.js";

const PARTITIONS = 6;
const STEP = 60;

describe("faults: DynamoDB Local restarted under load", function () {
  this.timeout(600_000);
  const dir = tempDir("ddb-restart");
  const suite = faultSuite({ agents: 3, seed: SCALE.seed, name: "ddbrestart", dynamo: { dbPath: dir.path } });

  after(() => dir.remove());

  it("keeps every acknowledged record through a store restart", async () => {
    const { cluster } = suite;
    let ackedBefore = 0;
    let ackedAfter = 0;
    const history = await suite.runWorkload(
      { topic: "ddbrestart", partitions: PARTITIONS, producers: 3, batch: 10, maxRecordsPerProducer: 1_000_000 },
      async (workload) => {
        await workload.waitForAcked(STEP, 120_000);
        ackedBefore = workload.acked();
        await cluster.ddb.restart();
        await workload.waitForAcked(workload.acked() + 2 * STEP, 180_000);
        ackedAfter = workload.acked();
      },
    );
    const failed = cluster.counts().dynamodb.upstreamErrors;
    const verdict = await suite.check("ddbrestart", history);
    suite.report(verdict, {
      detail: `acked ${ackedBefore} before the restart, ${ackedAfter} once it was back; proxied calls that found DynamoDB down: ${failed}`,
      fault: "DynamoDB Local restart (-dbPath)",
      load: "3 agents, 3 idempotent producers, 6 partitions",
    });
    suite.assertClean(verdict);
    assert.deepEqual(history.errors.nonRetriable, [], "clients saw only retriable errors");
    assert.ok(failed > 0, "agents' calls reached DynamoDB while it was down");
  });
});
