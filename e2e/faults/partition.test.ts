/**
 * One agent partitioned from both stores (its proxies blackhole every call) while Kafka clients stay
 * connected to it. The producers point at that agent's zone (ws_az), so it leads every partition in its
 * own view. While partitioned it acknowledges nothing it could not store: its producers get retriable
 * errors (REQUEST_TIMED_OUT at the produce timeout, connection closes, client request timeouts). The
 * partition outlasts the other agents' session timeout, so they drop it from the cluster meanwhile.
 * After healing, production resumes and everything acknowledged is readable, once and in order.
 */
import assert from "node:assert/strict";
import { startFaultCluster } from "./cluster.js";
import type { FaultCluster } from "./cluster.js";
import { SCALE, assertClean, createTopic, readAndCheck, tableLine } from "./run.js";
import { startWorkload } from "./workload.js";

const PARTITIONS = 6;
const STEP = 60;

describe("faults: an agent partitioned from the store", function () {
  this.timeout(600_000);
  let cluster: FaultCluster;

  before(async () => {
    cluster = await startFaultCluster({ agents: 3, seed: SCALE.seed, name: "partition" });
    for (const i of [0, 1, 2]) await cluster.start(i);
  });

  after(async () => {
    await cluster?.stop();
  });

  it("acknowledges nothing unstored while partitioned; after healing everything acknowledged is readable", async () => {
    await createTopic(cluster.bootstrap(), "partitioned", PARTITIONS);
    const victim = cluster.slots[0]!;
    const workload = startWorkload({
      brokers: () => cluster.bootstrap(),
      topic: "partitioned",
      partitions: PARTITIONS,
      producers: 3,
      batch: 10,
      maxRecordsPerProducer: 1_000_000,
      zone: victim.zone,
      produceTimeoutMs: 5_000,
      requestTimeoutMs: 15_000,
      retries: 10,
    });
    let during: number;
    let errorsDuring: number;
    try {
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
    } catch (err) {
      await workload.stop();
      throw new Error(`${err instanceof Error ? err.message : String(err)}\n${cluster.logs()}`, { cause: err });
    }
    const history = await workload.stop();
    const blackholed = victim.dynamoProxy.counts().blackholed;
    const verdict = await readAndCheck(cluster.bootstrap(), "partitioned", history, true);
    console.log(
      `      ${blackholed} calls blackholed; during the partition ${errorsDuring} client errors and ${during} records acknowledged; ${verdict.summary}`,
    );
    console.log(
      tableLine(
        "agent partitioned from DynamoDB + S3 (blackhole), clients connected",
        "3 agents, 3 idempotent producers (zone of the victim), 6 partitions",
        verdict.result,
      ),
    );
    assert.ok(blackholed > 0, "the partitioned agent's store calls were blackholed");
    assertClean(verdict, () => cluster.logs());
    assert.deepEqual(history.errors.nonRetriable, [], "clients saw only retriable errors");
  });
});
