/**
 * Clock skew between agents (needs libfaketime: .ci/run installs it; elsewhere `apt-get install
 * libfaketime`, or the test fails saying so). Three agents; one runs 8 s ahead, one 8 s behind (LD_PRELOAD
 * libfaketime). 8 s is beyond the compaction lease's 6 s TTL, so the skewed agents take the lease while
 * another holds it (two compactors at once), and within the 10 s registry session, so they still see
 * each other. The data path must not care: idempotent producers through every agent, compaction
 * running, and the checker finds nothing lost, duplicated or reordered.
 */
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { faultSuite } from "./fixture.js";
import { SCALE } from "./run.js";

const LIBFAKETIME = [
  "/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1",
  "/usr/lib/aarch64-linux-gnu/faketime/libfaketime.so.1",
  "/usr/lib/faketime/libfaketime.so.1",
].find((p) => existsSync(p));
const SKEW_S = 8;
const STEP = 150;

/** The time of an agent's "agent started" log line, by the agent's clock. */
function startedAt(output: string): number {
  const line = output.split("\n").find((l) => l.includes('"agent started"'));
  const ts = line ? (JSON.parse(line) as { timestamp?: string }).timestamp : undefined;
  return ts ? Date.parse(ts) : Number.NaN;
}

describe("faults: clock skew between agents (libfaketime)", function () {
  this.timeout(600_000);
  /** This process's clock just before starting each agent and once it was up. */
  const window: Array<{ before: number; after: number }> = [];

  before(() => {
    if (!LIBFAKETIME)
      throw new Error("libfaketime not found: install it (`apt-get install libfaketime`) to run the clock-skew test");
  });

  const suite = faultSuite({
    agents: 3,
    seed: SCALE.seed,
    name: "clockskew",
    startAgents: async (cluster) => {
      const envs: Array<Record<string, string>> = [
        {},
        { LD_PRELOAD: LIBFAKETIME!, FAKETIME: `+${SKEW_S}s` },
        { LD_PRELOAD: LIBFAKETIME!, FAKETIME: `-${SKEW_S}s` },
      ];
      for (const [i, env] of envs.entries()) {
        const before = Date.now();
        await cluster.start(i, env);
        window.push({ before, after: Date.now() });
      }
    },
  });

  it(`agents ${SKEW_S} s ahead and behind: nothing acknowledged is lost, duplicated or reordered`, async () => {
    const { cluster } = suite;
    // An agent's start-up line is logged between `before` and `after` by this clock, so by its own clock
    // at least SKEW after `before` (ahead) or at least SKEW before `after` (behind).
    const started = cluster.slots.map((s) => startedAt(s.process!.output()));
    assert.ok(
      started[1]! - window[1]!.before >= SKEW_S * 1000,
      `agent 1 runs ${SKEW_S} s ahead (logged ${started[1]! - window[1]!.before} ms after its start)`,
    );
    assert.ok(
      started[2]! - window[2]!.after <= -SKEW_S * 1000,
      `agent 2 runs ${SKEW_S} s behind (logged ${started[2]! - window[2]!.after} ms after it was up)`,
    );
    const skews = started.map((t, i) => t - window[i]!.before);

    const history = await suite.runWorkload(
      { topic: "skewed", partitions: 6, producers: 3, batch: 10, maxRecordsPerProducer: 1_000_000 },
      async (workload) => {
        // Long enough for several compaction passes (every 1 s, on data older than 2 s).
        for (let i = 0; i < 4; i++) await workload.waitForAcked(workload.acked() + STEP, 180_000);
      },
    );
    const verdict = await suite.check("skewed", history);
    const leases = cluster.slots.map((s) => (s.process!.output().match(/"lease acquired"/g) ?? []).length);
    suite.report(verdict, {
      detail: `logged skews ${skews.map((s) => Math.round(s / 1000)).join(", ")} s; lease acquisitions per agent ${leases.join(", ")}`,
      fault: `clock skew +${SKEW_S} s / -${SKEW_S} s (libfaketime)`,
      load: "3 agents, 3 idempotent producers, 6 partitions",
    });
    suite.assertClean(verdict);
  });
});
