/**
 * Group commit under a crash: three agents on DynamoDB Local + the S3 server with -sealMode eager (a
 * file is sealed as soon as the previous write ends, not at the batch window), and many sequential
 * producers, each with one record in flight: the load that group commit serves, where every file holds
 * the few requests that arrived while the previous one was written. In each trial a (seeded) random
 * agent is killed with SIGKILL mid-load and restarted once the others have acknowledged more records.
 * Afterwards nothing acknowledged is lost, nothing is reordered within a partition and nothing is stored
 * twice; the agents' /metrics show files sealed eagerly.
 */
import assert from "node:assert/strict";
import { seededRandom } from "../support/fault-proxy.js";
import { faultSuite } from "./fixture.js";
import { SCALE, metricSum, sigkillTrials } from "./run.js";

const PARTITIONS = 6;
const PRODUCERS = 16;
const TRIALS = 2;
/** Records acknowledged between two events of a trial (progress, not time). */
const STEP = 150;

describe("faults: group commit (-sealMode eager) with sequential producers and SIGKILL", function () {
  this.timeout(300_000 + TRIALS * 120_000);
  const suite = faultSuite({ agents: 3, seed: SCALE.seed, name: "groupcommit", flags: ["-sealMode", "eager"] });

  it(`${PRODUCERS} producers with one record in flight each, ${TRIALS} SIGKILLs: nothing acknowledged is lost, duplicated or reordered`, async () => {
    const { cluster } = suite;
    const random = seededRandom(SCALE.seed + 15);
    let killed: number[] = [];
    const history = await suite.runWorkload(
      {
        topic: "group-commit",
        partitions: PARTITIONS,
        producers: PRODUCERS,
        batch: 1,
        maxRecordsPerProducer: 1_000_000,
      },
      async (workload) => {
        killed = await sigkillTrials(cluster, workload, { trials: TRIALS, step: STEP, random });
      },
    );
    // Files sealed since the last restart of each agent, by why (killed agents' counts are gone).
    const sealed = async (reason: string): Promise<number> => {
      let n = 0;
      for (const slot of cluster.slots)
        if (slot.process) n += await metricSum(slot.process.httpPort, "warp_ingestion_files_total", { sealed: reason });
      return n;
    };
    const eager = await sealed("eager");
    const timeout = await sealed("timeout");
    const verdict = await suite.check("group-commit", history);
    suite.report(verdict, {
      detail: `killed agents ${killed.join(",")}; files sealed eagerly ${eager}, at the window ${timeout}`,
      fault: `SIGKILL x${TRIALS} (agents ${killed.join(",")}), -sealMode eager`,
      load: `3 agents, ${PRODUCERS} idempotent producers with one record in flight each, ${PARTITIONS} partitions`,
    });
    suite.assertClean(verdict);
    assert.ok(verdict.result.acked >= STEP * (2 * TRIALS + 1), "produced under load through every trial");
    assert.ok(eager > 0, `files were sealed eagerly (eager ${eager}, timeout ${timeout})`);
  });
});
