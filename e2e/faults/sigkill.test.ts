/**
 * SIGKILL trials: three agents on DynamoDB Local + the S3 server, idempotent producers under load; in
 * each trial a (seeded) random agent is killed with SIGKILL mid-load and restarted once the others have
 * acknowledged more records. Afterwards nothing acknowledged is lost, nothing is reordered within a
 * partition and nothing is stored twice. CI runs WARP_SIGKILL_TRIALS=3 (default); `npm run soak` 20.
 */
import assert from "node:assert/strict";
import { seededRandom } from "../support/fault-proxy.js";
import { faultSuite } from "./fixture.js";
import { SCALE, sigkillTrials } from "./run.js";

const PARTITIONS = 6;
/** Records acknowledged between two events of a trial (progress, not time). */
const STEP = 60;

describe("faults: SIGKILL of agents under load", function () {
  this.timeout(300_000 + SCALE.sigkillTrials * 120_000);
  const suite = faultSuite({ agents: 3, seed: SCALE.seed, name: "sigkill" });

  it(`${SCALE.sigkillTrials} trials: nothing acknowledged is lost, duplicated or reordered`, async () => {
    const { cluster } = suite;
    const random = seededRandom(SCALE.seed);
    let killed: number[] = [];
    const history = await suite.runWorkload(
      { topic: "sigkill", partitions: PARTITIONS, producers: 3, batch: 10, maxRecordsPerProducer: 1_000_000 },
      async (workload) => {
        killed = await sigkillTrials(cluster, workload, { trials: SCALE.sigkillTrials, step: STEP, random });
      },
    );
    const verdict = await suite.check("sigkill", history);
    suite.report(verdict, {
      detail: `killed agents ${killed.join(",")}`,
      fault: `SIGKILL x${SCALE.sigkillTrials} (agents ${killed.join(",")})`,
      load: "3 agents, 3 idempotent producers, 6 partitions",
    });
    suite.assertClean(verdict);
    assert.ok(verdict.result.acked >= STEP * (2 * SCALE.sigkillTrials + 1), "produced under load through every trial");
  });
});
