/**
 * A partial store outage: one agent's data writes fail (every BatchWriteItem of its ingestion chunks
 * answered 500) while the store still takes its heartbeats, log appends and reads. Its producers (in
 * its zone, records large enough for chunked files) get only retriable errors; the agent sees its
 * ingestion stuck or failing (ingest/health.ts), stops heartbeating, and the cluster drops it, so its
 * zone's clients move to the other agents and acknowledgements resume while the outage goes on. When
 * the writes succeed again it rejoins. Everything acknowledged is readable once and in order.
 */
import assert from "node:assert/strict";
import { eventually } from "../support/eventually.js";
import { faultSuite } from "./fixture.js";
import { SCALE, listedPorts, metricValue } from "./run.js";

const PARTITIONS = 6;

describe("faults: one agent's data writes fail while its heartbeats get through", function () {
  this.timeout(600_000);
  const suite = faultSuite({ agents: 3, seed: SCALE.seed, name: "partial" });

  it("steps the agent out so its zone's producers are acknowledged by the others, and takes it back after", async () => {
    const { cluster } = suite;
    const victim = cluster.slots[0]!;
    const victimPort = victim.process!.port;
    const witness = cluster.slots[1]!.process!.bootstrap;
    let during = 0;
    let stepOutMs = 0;
    const history = await suite.runWorkload(
      {
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
      },
      async (workload) => {
        await workload.waitForAcked(40, 120_000);
        victim.dynamoProxy.setRules([
          { probability: 1, fault: { kind: "status", status: 500 }, operations: ["BatchWriteItem"] },
        ]);
        const outage = Date.now();
        // Meanwhile, what an operator sees on the dashboard: the victim reports its ingestion failing.
        let reportedFailing = false;
        await eventually(
          async () => {
            if ((await metricValue(victim.process!.httpPort, "warp_ingestion_failing")) === 1) reportedFailing = true;
            return !(await listedPorts(witness)).includes(victimPort);
          },
          { what: "the other agents to drop the failing agent", timeoutMs: 90_000, intervalMs: 500 },
        );
        stepOutMs = Date.now() - outage;
        assert.ok(reportedFailing, "the victim reported warp_ingestion_failing 1 before it was dropped");
        // describeCluster may have been answered by either other agent; each refreshes its view every second.
        await eventually(
          async () =>
            (
              await Promise.all(
                [1, 2].map((i) => metricValue(cluster.slots[i]!.process!.httpPort, "warp_cluster_agents")),
              )
            ).every((n) => n === 2),
          { what: "both other agents to report two agents", timeoutMs: 10_000, intervalMs: 500 },
        );
        await eventually(async () => (await metricValue(victim.process!.httpPort, "warp_agent_stepped_out")) === 1, {
          what: "the victim to report that it stepped out",
          timeoutMs: 30_000,
          intervalMs: 500,
        });
        const atStepOut = workload.acked();
        // Acknowledgements resume through the other agents while the victim's writes still fail.
        await workload.waitForAcked(atStepOut + 40, 120_000);
        during = workload.acked() - atStepOut;
        victim.dynamoProxy.setRules([]);
        await eventually(async () => (await listedPorts(witness)).includes(victimPort), {
          what: "the agent to rejoin once its writes succeed",
          timeoutMs: 120_000,
          intervalMs: 500,
        });
        await eventually(async () => (await metricValue(victim.process!.httpPort, "warp_agent_stepped_out")) === 0, {
          what: "the victim to report that it is back",
          timeoutMs: 30_000,
          intervalMs: 500,
        });
        await workload.waitForAcked(workload.acked() + 40, 120_000);
      },
    );
    const failedWrites = victim.dynamoProxy.counts();
    const verdict = await suite.check("partial", history);
    suite.report(verdict, {
      detail: `stepped out ${stepOutMs} ms after the outage began; ${during} records acknowledged by the others during it; proxy ${JSON.stringify(failedWrites)}`,
      fault: "one agent's BatchWriteItem calls fail (500), heartbeats get through",
      load: "3 agents; 3 idempotent producers (zone of the victim), 128 KiB sends",
    });
    suite.assertClean(verdict);
    assert.deepEqual(history.errors.nonRetriable, [], "clients saw only retriable errors");
  });
});
