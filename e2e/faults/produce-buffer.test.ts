/**
 * The produce buffer limit under a store outage: an agent with -maxProduceBufferSize 1MiB is cut off
 * from DynamoDB and S3 (blackhole) while producers keep sending large records. The memory held for
 * produced data (warp_produce_buffer_bytes, sampled from /metrics) fills up to the limit and never goes
 * past it; requests beyond it wait and are answered REQUEST_TIMED_OUT at their timeout; nothing is
 * acknowledged while the agent cannot store. After healing, the buffer drains, production resumes and
 * everything acknowledged is readable once and in order.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { faultSuite } from "./fixture.js";
import { SCALE, metricValue } from "./run.js";

const LIMIT = 1024 * 1024;
const PARTITIONS = 3;

/** Resident memory of a process, in MiB (VmRSS). */
function rssMiB(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return m ? Math.round(Number(m[1]) / 1024) : -1;
}

describe("faults: the produce buffer limit during a store outage", function () {
  this.timeout(600_000);
  const suite = faultSuite({ agents: 1, seed: SCALE.seed, name: "buffer", flags: ["-maxProduceBufferSize", "1MiB"] });

  it("holds at most the limit, acknowledges nothing while it cannot store, and loses nothing", async () => {
    const { cluster } = suite;
    const agent = cluster.slots[0]!.process!;
    let peak = 0;
    let peakRss = 0;
    let acksDuring = 0;
    let errorsDuring = 0;
    const history = await suite.runWorkload(
      {
        topic: "buffered",
        partitions: PARTITIONS,
        producers: 6,
        batch: 4,
        padBytes: 32 * 1024,
        maxRecordsPerProducer: 1_000_000,
        produceTimeoutMs: 3_000,
        requestTimeoutMs: 10_000,
        retries: 2,
      },
      async (workload) => {
        await workload.waitForAcked(40, 120_000);
        const errorsBefore = workload.errorCount();
        cluster.partition(0, "blackhole");
        // Sample the buffer while producers push far more than the limit into an agent that cannot store.
        // Acks are counted from 2 s in: sends whose store calls completed just before the cut may still
        // be acknowledged (their data is stored; the checker below proves it).
        const cut = Date.now();
        const until = cut + 15_000;
        let atOutage: number | null = null;
        while (Date.now() < until) {
          if (atOutage === null && Date.now() - cut >= 2_000) atOutage = workload.acked();
          peak = Math.max(peak, await metricValue(agent.httpPort, "warp_produce_buffer_bytes"));
          peakRss = Math.max(peakRss, rssMiB(agent.child.pid!));
          await new Promise((r) => setTimeout(r, 100));
        }
        acksDuring = workload.acked() - (atOutage ?? 0);
        errorsDuring = workload.errorCount() - errorsBefore;
        cluster.heal(0);
        // Held files are written once the store answers again; then the buffer drains and acks resume.
        await workload.waitForAcked(workload.acked() + 40, 180_000);
      },
    );
    const verdict = await suite.check("buffered", history);
    suite.report(verdict, {
      detail: `during the outage: buffer peak ${peak} bytes (limit ${LIMIT}), agent RSS peak ${peakRss} MiB, ${errorsDuring} client errors, ${acksDuring} acks`,
      fault: "agent cut off from the stores with -maxProduceBufferSize 1MiB, 128 KiB sends",
      load: "1 agent; 6 idempotent producers",
    });
    assert.ok(peak <= LIMIT, `the buffer held ${peak} bytes, more than the limit ${LIMIT}`);
    assert.ok(peak >= LIMIT / 2, `the outage should have filled the buffer towards the limit (peak ${peak})`);
    assert.equal(
      acksDuring,
      0,
      "nothing is acknowledged while the agent cannot store (after the sends in flight at the cut)",
    );
    assert.ok(errorsDuring > 0, "producers saw errors during the outage");
    assert.ok(
      (history.errors.retried.get("REQUEST_TIMED_OUT") ?? 0) +
        (history.errors.failedSends.get("REQUEST_TIMED_OUT") ?? 0) >
        0,
      `producers were answered REQUEST_TIMED_OUT: ${verdict.summary}`,
    );
    suite.assertClean(verdict);
    assert.deepEqual(history.errors.nonRetriable, [], "clients saw only retriable errors");
  });
});
