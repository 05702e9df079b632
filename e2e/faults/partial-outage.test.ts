/**
 * A partial store outage: one agent's data writes fail (every BatchWriteItem of its ingestion chunks
 * answered 500) while the store still takes its heartbeats, log appends and reads. Its producers (in
 * its zone, records large enough for chunked files) get only retriable errors; the agent sees its
 * ingestion stuck or failing (ingest/health.ts), stops heartbeating, and the cluster drops it, so its
 * zone's clients move to the other agents and acknowledgements resume while the outage goes on. When
 * the writes succeed again it rejoins. Everything acknowledged is readable once and in order.
 */
import assert from "node:assert/strict";
import { startFaultCluster } from "./cluster.js";
import type { FaultCluster } from "./cluster.js";
import { SCALE, assertClean, createTopic, listedPorts, metricValue, readAndCheck, tableLine } from "./run.js";
import { startWorkload } from "./workload.js";

const PARTITIONS = 6;

async function eventually(what: string, timeoutMs: number, check: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check().catch(() => false))) {
    if (Date.now() > deadline) throw new Error(`not within ${timeoutMs} ms: ${what}`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

describe("faults: one agent's data writes fail while its heartbeats get through", function () {
  this.timeout(600_000);
  let cluster: FaultCluster;

  before(async () => {
    cluster = await startFaultCluster({ agents: 3, seed: SCALE.seed, name: "partial" });
    for (const i of [0, 1, 2]) await cluster.start(i);
  });

  after(async () => {
    await cluster?.stop();
  });

  it("steps the agent out so its zone's producers are acknowledged by the others, and takes it back after", async () => {
    await createTopic(cluster.bootstrap(), "partial", PARTITIONS);
    const victim = cluster.slots[0]!;
    const victimPort = victim.process!.port;
    const witness = cluster.slots[1]!.process!.bootstrap;
    const workload = startWorkload({
      brokers: () => cluster.bootstrap(),
      topic: "partial",
      partitions: PARTITIONS,
      producers: 3,
      batch: 4,
      // 4 × 32 KiB per send: files above the 64 KiB inline limit, written as chunks (BatchWriteItem).
      padBytes: 32 * 1024,
      maxRecordsPerProducer: 1_000_000,
      zone: victim.zone,
      produceTimeoutMs: 5_000,
      requestTimeoutMs: 15_000,
      retries: 10,
    });
    let during: number;
    let stepOutMs: number;
    try {
      await workload.waitForAcked(40, 120_000);
      victim.dynamoProxy.setRules([
        { probability: 1, fault: { kind: "status", status: 500 }, operations: ["BatchWriteItem"] },
      ]);
      const outage = Date.now();
      // Meanwhile, what an operator sees on the dashboard: the victim reports its ingestion failing.
      let reportedFailing = false;
      await eventually("the other agents drop the failing agent", 90_000, async () => {
        if ((await metricValue(victim.process!.httpPort, "warp_ingestion_failing")) === 1) reportedFailing = true;
        return !(await listedPorts(witness)).includes(victimPort);
      });
      stepOutMs = Date.now() - outage;
      assert.ok(reportedFailing, "the victim reported warp_ingestion_failing 1 before it was dropped");
      // describeCluster may have been answered by either other agent; each refreshes its view every second.
      await eventually("both other agents report two agents", 10_000, async () =>
        (
          await Promise.all([1, 2].map((i) => metricValue(cluster.slots[i]!.process!.httpPort, "warp_cluster_agents")))
        ).every((n) => n === 2),
      );
      await eventually(
        "the victim reports that it stepped out",
        30_000,
        async () => (await metricValue(victim.process!.httpPort, "warp_agent_stepped_out")) === 1,
      );
      const atStepOut = workload.acked();
      // Acknowledgements resume through the other agents while the victim's writes still fail.
      await workload.waitForAcked(atStepOut + 40, 120_000);
      during = workload.acked() - atStepOut;
      victim.dynamoProxy.setRules([]);
      await eventually("the agent rejoins once its writes succeed", 120_000, async () =>
        (await listedPorts(witness)).includes(victimPort),
      );
      await eventually(
        "the victim reports that it is back",
        30_000,
        async () => (await metricValue(victim.process!.httpPort, "warp_agent_stepped_out")) === 0,
      );
      await workload.waitForAcked(workload.acked() + 40, 120_000);
    } catch (err) {
      await workload.stop();
      throw new Error(`${err instanceof Error ? err.message : String(err)}\n${cluster.logs()}`, { cause: err });
    }
    const history = await workload.stop();
    const failedWrites = victim.dynamoProxy.counts();
    const verdict = await readAndCheck(cluster.bootstrap(), "partial", history, true);
    console.log(
      `      stepped out ${stepOutMs} ms after the outage began; ${during} records acknowledged by the others during it; proxy ${JSON.stringify(failedWrites)}; ${verdict.summary}`,
    );
    console.log(
      tableLine(
        "one agent's BatchWriteItem calls fail (500), heartbeats get through",
        "3 agents; 3 idempotent producers (zone of the victim), 128 KiB sends",
        verdict.result,
      ),
    );
    assertClean(verdict, () => cluster.logs());
    assert.deepEqual(history.errors.nonRetriable, [], "clients saw only retriable errors");
  });
});
