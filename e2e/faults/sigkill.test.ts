/**
 * SIGKILL trials: three agents on DynamoDB Local + the S3 server, idempotent producers under load; in
 * each trial a (seeded) random agent is killed with SIGKILL mid-load and restarted once the others have
 * acknowledged more records. Afterwards nothing acknowledged is lost, nothing is reordered within a
 * partition and nothing is stored twice. CI runs WARP_SIGKILL_TRIALS=3 (default); `npm run soak` 20.
 */
import assert from "node:assert/strict";
import { seededRandom } from "../support/fault-proxy.js";
import { startFaultCluster } from "./cluster.js";
import type { FaultCluster } from "./cluster.js";
import { SCALE, assertClean, createTopic, readAndCheck, tableLine } from "./run.js";
import { startWorkload } from "./workload.js";

const PARTITIONS = 6;
/** Records acknowledged between two events of a trial (progress, not time). */
const STEP = 60;

describe("faults: SIGKILL of agents under load", function () {
  this.timeout(300_000 + SCALE.sigkillTrials * 120_000);
  let cluster: FaultCluster;

  before(async () => {
    cluster = await startFaultCluster({ agents: 3, seed: SCALE.seed, name: "sigkill" });
    for (const i of [0, 1, 2]) await cluster.start(i);
  });

  after(async () => {
    await cluster?.stop();
  });

  it(`${SCALE.sigkillTrials} trials: nothing acknowledged is lost, duplicated or reordered`, async () => {
    await createTopic(cluster.bootstrap(), "sigkill", PARTITIONS);
    const random = seededRandom(SCALE.seed);
    const workload = startWorkload({
      brokers: () => cluster.bootstrap(),
      topic: "sigkill",
      partitions: PARTITIONS,
      producers: 3,
      batch: 10,
      maxRecordsPerProducer: 1_000_000,
    });
    const killed: number[] = [];
    try {
      for (let trial = 0; trial < SCALE.sigkillTrials; trial++) {
        await workload.waitForAcked(workload.acked() + STEP, 180_000);
        const victim = Math.floor(random() * 3);
        killed.push(victim);
        await cluster.kill(victim);
        // The survivors keep taking produce (after retries) while the victim is down.
        await workload.waitForAcked(workload.acked() + STEP, 180_000);
        await cluster.start(victim);
      }
      await workload.waitForAcked(workload.acked() + STEP, 180_000);
    } catch (err) {
      await workload.stop();
      throw new Error(`${err instanceof Error ? err.message : String(err)}\n${cluster.logs()}`, { cause: err });
    }
    const history = await workload.stop();
    const verdict = await readAndCheck(cluster.bootstrap(), "sigkill", history, true);
    console.log(`      killed agents ${killed.join(",")}: ${verdict.summary}`);
    console.log(
      tableLine(
        `SIGKILL x${SCALE.sigkillTrials} (agents ${killed.join(",")})`,
        "3 agents, 3 idempotent producers, 6 partitions",
        verdict.result,
      ),
    );
    assertClean(verdict, () => cluster.logs());
    assert.ok(verdict.result.acked >= STEP * (2 * SCALE.sigkillTrials + 1), "produced under load through every trial");
  });
});
