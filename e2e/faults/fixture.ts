/**
 * What every fault test does around its faults: a cluster started before the describe block's tests
 * and stopped after them; a workload run whose failure stops the producers and carries the agents'
 * logs; the read-back check; and the printed outcome, with the faults-table lines for
 * docs/reliability.md printed once the block is done.
 *
 *   describe("faults: ...", function () {
 *     this.timeout(600_000);
 *     const suite = faultSuite({ agents: 3, seed: SCALE.seed, name: "example" });
 *     it("...", async () => {
 *       const history = await suite.runWorkload({ topic: "t", partitions: 6, ... }, async (workload) => {
 *         await workload.waitForAcked(60, 120_000);
 *         suite.cluster.partition(0, "blackhole");
 *         ...
 *       });
 *       const verdict = await suite.check("t", history);
 *       suite.report(verdict, { detail: "...", fault: "...", load: "..." });
 *       suite.assertClean(verdict);
 *     });
 *   });
 */
import assert from "node:assert/strict";
import { exitedUnasked, startFaultCluster } from "./cluster.js";
import type { ClusterOptions, FaultCluster } from "./cluster.js";
import { assertClean, createTopic, readAndCheck, tableLine } from "./run.js";
import type { Verdict } from "./run.js";
import { startWorkload } from "./workload.js";
import type { ProduceHistory, Workload, WorkloadOptions } from "./workload.js";

export interface FaultSuiteOptions extends ClusterOptions {
  /** Starts the agents once the stores and proxies are up (default: agent 0, 1, ... one after the other). */
  readonly startAgents?: (cluster: FaultCluster) => Promise<void>;
}

/** A workload's options; it always produces through the cluster's running agents. */
export type SuiteWorkloadOptions = Omit<WorkloadOptions, "brokers">;

/** How a test's outcome is printed: `detail; <verdict summary>`, and one row of the faults table. */
export interface ReportLine {
  readonly detail: string;
  /** The table's fault column. */
  readonly fault: string;
  /** The table's load column. */
  readonly load: string;
}

export interface FaultSuite {
  /** The block's cluster, running from its first test to its end. */
  readonly cluster: FaultCluster;
  createTopic(topic: string, partitions: number): Promise<void>;
  startWorkload(options: SuiteWorkloadOptions): Workload;
  /**
   * Creates the workload's topic, starts the workload, lets `scenario` drive the faults, then stops the
   * workload and returns what it produced. When the scenario fails the workload is stopped too and the
   * error names the agents' recent output.
   */
  runWorkload(options: SuiteWorkloadOptions, scenario: (workload: Workload) => Promise<void>): Promise<ProduceHistory>;
  /** Reads the topic back through the running agents and checks it against the history. */
  check(topic: string, history: ProduceHistory): Promise<Verdict>;
  /** Prints the outcome; the table row is printed with the others after the block. */
  report(verdict: Verdict, line: ReportLine): void;
  /** Nothing acknowledged lost, nothing reordered or duplicated (failures quote the agents' output). */
  assertClean(verdict: Verdict): void;
}

async function startEachInTurn(cluster: FaultCluster): Promise<void> {
  for (const slot of cluster.slots) await cluster.start(slot.index);
}

/** Registers the block's before/after hooks (call it inside describe) and returns the suite's steps. */
export function faultSuite(options: FaultSuiteOptions): FaultSuite {
  let running: FaultCluster | undefined;
  const tableLines: string[] = [];
  const cluster = (): FaultCluster => {
    if (!running) throw new Error("the fault cluster is not running (faultSuite starts it in before())");
    return running;
  };

  before(async () => {
    running = await startFaultCluster(options);
    await (options.startAgents ?? startEachInTurn)(running);
  });

  after(async () => {
    if (tableLines.length > 0) console.log(tableLines.join("\n"));
    await running?.stop();
  });

  const suite: FaultSuite = {
    get cluster() {
      return cluster();
    },
    createTopic: (topic, partitions) => createTopic(cluster().bootstrap(), topic, partitions),
    startWorkload: (workloadOptions) => startWorkload({ ...workloadOptions, brokers: () => cluster().bootstrap() }),
    runWorkload: async (workloadOptions, scenario) => {
      await suite.createTopic(workloadOptions.topic, workloadOptions.partitions);
      const workload = suite.startWorkload(workloadOptions);
      try {
        await scenario(workload);
      } catch (err) {
        await workload.stop();
        throw new Error(`${err instanceof Error ? err.message : String(err)}\n${cluster().logs()}`, { cause: err });
      }
      return workload.stop();
    },
    check: async (topic, history) => {
      try {
        return await readAndCheck(cluster().bootstrap(), topic, history, true);
      } catch (err) {
        throw new Error(
          `reading ${topic} back: ${err instanceof Error ? err.message : String(err)}\n${cluster().logs()}`,
          {
            cause: err,
          },
        );
      }
    },
    report: (verdict, line) => {
      console.log(`      ${line.detail}; ${verdict.summary}`);
      tableLines.push(tableLine(line.fault, line.load, verdict.result));
    },
    assertClean: (verdict) => {
      const died = cluster().slots.flatMap((s) => {
        const exited = exitedUnasked(s);
        return exited === null ? [] : [`agent ${s.index}: ${exited}`];
      });
      assert.deepEqual(died, [], `agents exited though no test step stopped them:\n${cluster().logs()}`);
      assertClean(verdict, () => cluster().logs());
    },
  };
  return suite;
}
