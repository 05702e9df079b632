/**
 * One agent partitioned from both stores (its proxies blackhole every call) while Kafka clients stay
 * connected to it. The producers point at that agent's zone (ws_az), so it leads every partition in its
 * own view. While partitioned it acknowledges nothing it could not store: its producers get retriable
 * errors (REQUEST_TIMED_OUT at the produce timeout, connection closes, client request timeouts). The
 * partition outlasts the other agents' session timeout, so they drop it from the cluster meanwhile.
 * After healing, production resumes and everything acknowledged is readable, once and in order.
 */
import assert from "node:assert/strict";
import { faultSuite } from "./fixture.js";
import { SCALE } from "./run.js";

const PARTITIONS = 6;
const STEP = 60;

describe("faults: an agent partitioned from the store", function () {
  this.timeout(600_000);
  const suite = faultSuite({ agents: 3, seed: SCALE.seed, name: "partition" });

  it("acknowledges nothing unstored while partitioned; after healing everything acknowledged is readable", async () => {
    const { cluster } = suite;
    const victim = cluster.slots[0]!;
    let during = 0;
    let errorsDuring = 0;
    const history = await suite.runWorkload(
      {
        topic: "partitioned",
        partitions: PARTITIONS,
        producers: 3,
        batch: 10,
        maxRecordsPerProducer: 1_000_000,
        zone: victim.zone,
        produceTimeoutMs: 5_000,
        requestTimeoutMs: 15_000,
        retries: 10,
      },
      async (workload) => {
        await workload.waitForAcked(STEP, 120_000);
        const atPartition = workload.acked();
        const errorsBefore = workload.errorCount();
        cluster.partition(victim.index, "blackhole");
        // Its producers see retriable errors (the agent answers REQUEST_TIMED_OUT at the produce timeout,
        // or the client's own request times out) ...
        await workload.waitForErrors(errorsBefore + 3, 120_000);
        // ... and the partition lasts past the other agents' session timeout (10 s), so they drop it
        // from the cluster while its clients are still connected.
        await new Promise((r) => setTimeout(r, 12_000));
        during = workload.acked() - atPartition;
        errorsDuring = workload.errorCount() - errorsBefore;
        cluster.heal(victim.index);
        await workload.waitForAcked(workload.acked() + STEP, 180_000);
      },
    );
    const blackholed = victim.dynamoProxy.counts().blackholed;
    const verdict = await suite.check("partitioned", history);
    suite.report(verdict, {
      detail: `${blackholed} calls blackholed; during the partition ${errorsDuring} client errors and ${during} records acknowledged`,
      fault: "agent partitioned from DynamoDB + S3 (blackhole), clients connected",
      load: "3 agents, 3 idempotent producers (zone of the victim), 6 partitions",
    });
    assert.ok(blackholed > 0, "the partitioned agent's store calls were blackholed");
    suite.assertClean(verdict);
    assert.deepEqual(history.errors.nonRetriable, [], "clients saw only retriable errors");
  });
});
