/**
 * The compaction store unreachable for longer than -ingestionTTL: every agent's S3 proxy refuses its
 * connections, with -ingestionTTL 20s, until a compaction pass has failed after every acknowledged
 * ingestion file passed the expiry it was written with (about a minute). Compaction fails pass after
 * pass (warp_compaction_failures_total); the backlog (warp_oldest_uncompacted_file_age_seconds,
 * reported by every agent) passes -maxUncompactedAge (half the TTL by default), so every agent reports
 * not ready and refuses produce with REQUEST_TIMED_OUT, which clients retry. Meanwhile the lease holder
 * extends the expiry of the ingestion files still referenced, so files older than the TTL stay
 * readable. The agent treats a file past its expiry (expMs) as gone whether or not the store has
 * removed it yet, so the test does not depend on when DynamoDB Local deletes expired items. After
 * healing, compaction catches up, the agents are ready again, production resumes, and after a restart
 * of every agent (their caches of ingestion files emptied) every acknowledged record is readable once
 * and in order.
 */
import assert from "node:assert/strict";
import { eventually } from "../support/eventually.js";
import type { FaultCluster } from "./cluster.js";
import { faultSuite } from "./fixture.js";
import { SCALE, listedPorts, metricValue } from "./run.js";

const PARTITIONS = 4;
const TTL_S = 20;
/** Longest outage: the test heals once compaction has failed after the acknowledged files' expiry. */
const MAX_OUTAGE_MS = 180_000;
const STEP = 40;

/** Waits until every running agent lists exactly the running agents (killed ones' heartbeats expired). */
async function untilOnlyRunningListed(cluster: FaultCluster, timeoutMs: number): Promise<void> {
  const running = cluster.slots.map((s) => s.process!.port).sort();
  await eventually(
    async () => {
      const listed = await Promise.all(cluster.slots.map((s) => listedPorts(s.process!.bootstrap)));
      return listed.every((p) => p.sort().join() === running.join());
    },
    { what: `every agent to list exactly the running agents ${running.join(", ")}`, timeoutMs, intervalMs: 500 },
  );
}

async function readyStatus(httpPort: number): Promise<number> {
  return (await fetch(`http://127.0.0.1:${httpPort}/readyz`)).status;
}

describe("faults: the compaction store unreachable for longer than -ingestionTTL", function () {
  this.timeout(600_000);
  const suite = faultSuite({
    agents: 2,
    seed: SCALE.seed,
    name: "compaction-outage",
    flags: ["-ingestionTTL", `${TTL_S}s`],
  });

  it("refuses new data and reports not ready past half the TTL, keeps referenced files from expiring, loses nothing", async () => {
    const { cluster } = suite;
    const agents = () => cluster.slots.map((s) => s.process!);
    const workloadOptions = {
      topic: "outage",
      partitions: PARTITIONS,
      producers: 2,
      batch: 5,
      maxRecordsPerProducer: 1_000_000,
      produceTimeoutMs: 5_000,
      requestTimeoutMs: 15_000,
      retries: 10,
    };
    let peakAgeS = 0;
    let refusingAfterMs = null as number | null;
    let acksWhileRefusing = -1;
    let readyAgainAfterMs = null as number | null;
    let failures = 0;
    let outageMs = 0;
    let recovered = null as Error | null; // set inside the scenario
    const history = await suite.runWorkload(workloadOptions, async (workload) => {
      await workload.waitForAcked(STEP, 120_000);
      for (const s of cluster.slots) s.s3Proxy.partition("refuse");
      const cut = Date.now();
      let ackedAtRefusal: number | null = null;
      // When every file acknowledged before the refusal has passed the expiry it was written with.
      let expiredAt: number | null = null;
      let failuresAtExpiry: number | null = null;
      let failedAfterExpiry: number | null = null;
      for (;;) {
        const now = Date.now();
        const ages = await Promise.all(
          agents().map((a) => metricValue(a.httpPort, "warp_oldest_uncompacted_file_age_seconds")),
        );
        peakAgeS = Math.max(peakAgeS, ...ages);
        const statuses = await Promise.all(agents().map((a) => readyStatus(a.httpPort)));
        if (refusingAfterMs === null && statuses.every((st) => st === 503)) {
          refusingAfterMs = now - cut;
          expiredAt = now + TTL_S * 1000 + 1000;
        }
        // Acks are counted from 2 s after every agent refused: sends whose files were committed just
        // before may still be answered.
        if (refusingAfterMs !== null && ackedAtRefusal === null && now - cut >= refusingAfterMs + 2_000)
          ackedAtRefusal = workload.acked();
        failures = 0;
        for (const a of agents()) failures += await metricValue(a.httpPort, "warp_compaction_failures_total");
        if (expiredAt !== null && now >= expiredAt) {
          failuresAtExpiry ??= failures;
          if (failedAfterExpiry === null && failures > failuresAtExpiry) failedAfterExpiry = now;
        }
        // A compaction pass reads its ingestion files before writing to S3, and one that read them before
        // they expired can still commit them after healing. The outage lasts until a pass failed after
        // every file's first expiry: the next pass (a compaction interval later) reads them afterwards.
        if (failedAfterExpiry !== null && now >= failedAfterExpiry + 3_000) break;
        if (now - cut > MAX_OUTAGE_MS) break;
        await new Promise((r) => setTimeout(r, 500));
      }
      outageMs = Date.now() - cut;
      acksWhileRefusing = ackedAtRefusal === null ? -1 : workload.acked() - ackedAtRefusal;
      for (const s of cluster.slots) s.s3Proxy.heal();
      const healed = Date.now();
      try {
        for (;;) {
          const statuses = await Promise.all(agents().map((a) => readyStatus(a.httpPort)));
          if (statuses.every((s) => s === 200)) break;
          if (Date.now() - healed > 120_000) throw new Error(`agents not ready 120 s after healing: ${statuses}`);
          await new Promise((r) => setTimeout(r, 500));
        }
        readyAgainAfterMs = Date.now() - healed;
        await workload.waitForAcked(workload.acked() + STEP, 120_000);
      } catch (err) {
        // Read back and check anyway: what was lost says more than the timeout.
        recovered = err instanceof Error ? err : new Error(String(err));
      }
    });
    // Restarted agents start with empty caches: the read-back reads what the stores hold, not the
    // ingestion files an agent kept in memory after writing or reading them.
    for (const i of [0, 1]) await cluster.kill(i);
    for (const i of [0, 1]) await cluster.start(i);
    await untilOnlyRunningListed(cluster, 60_000);
    const verdict = await suite.check("outage", history);
    const counts = cluster.counts().s3;
    suite.report(verdict, {
      detail: `outage of ${outageMs} ms: ${counts.refused} S3 calls refused, ${failures} compaction passes failed; backlog peak ${peakAgeS.toFixed(1)} s (TTL ${TTL_S} s); all agents not ready ${refusingAfterMs} ms into the outage, ${acksWhileRefusing} acks while refusing; ready again ${readyAgainAfterMs} ms after healing`,
      fault: `compaction store (S3) refusing every connection for ${Math.round(outageMs / 1000)} s, -ingestionTTL ${TTL_S}s`,
      load: "2 agents; 2 idempotent producers",
    });
    suite.assertClean(verdict);
    assert.equal(recovered, null, `recovery after healing: ${recovered?.message}\n${cluster.logs()}`);
    assert.ok(counts.refused > 0 && failures > 0, "compaction failed while S3 refused its connections");
    assert.ok(outageMs < MAX_OUTAGE_MS, "a compaction pass failed after the acknowledged files' first expiry");
    assert.ok(peakAgeS > TTL_S, `ingestion files older than the TTL were kept (backlog peak ${peakAgeS} s)`);
    assert.ok(
      refusingAfterMs !== null && refusingAfterMs < (TTL_S / 2 + 8) * 1000,
      `every agent reported not ready soon after half the TTL (${refusingAfterMs} ms)`,
    );
    assert.equal(acksWhileRefusing, 0, "nothing new is acknowledged while the agents refuse");
    assert.ok(
      (history.errors.retried.get("The request timed out") ?? 0) +
        (history.errors.failedSends.get("REQUEST_TIMED_OUT") ?? 0) >
        0,
      `producers were answered REQUEST_TIMED_OUT: ${verdict.summary}`,
    );
    assert.deepEqual(history.errors.nonRetriable, [], "clients saw only retriable errors");
    assert.match(
      cluster.logs(200_000),
      /extended the expiry of ingestion files still referenced/,
      "the lease holder extended expiries",
    );
  });
});
