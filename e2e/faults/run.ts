/**
 * Shared steps of the fault tests: create a topic, run a workload to completion, read back and check,
 * and a line for the faults table in docs/reliability.md.
 */
import assert from "node:assert/strict";
import { setTimeout as sleep } from "node:timers/promises";
import { Kafka, logLevel } from "kafkajs";
import { parsePrometheusText, sumSamples } from "../../cli/cost-model/measured.js";
import { checkHistory, describeResult } from "../support/checker.js";
import type { CheckResult } from "../support/checker.js";
import type { FaultCluster } from "./cluster.js";
import type { ProduceHistory, Workload } from "./workload.js";
import { readAll, summarizeErrors, type ReadResult } from "./workload.js";

/** Trial counts and sizes; `npm run soak` raises them through the environment. */
export const SCALE = {
  records: Number(process.env.WARP_FAULT_RECORDS ?? 400),
  sigkillTrials: Number(process.env.WARP_SIGKILL_TRIALS ?? 3),
  seed: Number(process.env.WARP_FAULT_SEED ?? 7),
};

/** Read-backs tried before a connection error fails the check. */
const READ_ATTEMPTS = 3;

export async function createTopic(brokers: string[], topic: string, partitions: number): Promise<void> {
  const kafka = new Kafka({
    clientId: "faults-admin",
    brokers,
    logLevel: logLevel.NOTHING,
    retry: { retries: 20, maxRetryTime: 3_000 },
  });
  const admin = kafka.admin();
  await admin.connect();
  try {
    await admin.createTopics({ topics: [{ topic, numPartitions: partitions }], waitForLeaders: true });
  } finally {
    await admin.disconnect();
  }
}

export interface Verdict {
  readonly result: CheckResult;
  readonly summary: string;
}

/** Reads the topic back and checks the history; records a table line when WARP_FAULT_REPORT is set. */
export async function readAndCheck(
  brokers: string[],
  topic: string,
  history: ProduceHistory,
  idempotent: boolean,
): Promise<Verdict> {
  const atLeast = new Map<number, bigint>();
  for (const a of history.acked)
    if (a.offset + 1n > (atLeast.get(a.partition) ?? 0n)) atLeast.set(a.partition, a.offset + 1n);
  // A read-back whose client lost a connection is started again with a fresh client (fresh metadata):
  // what is checked is what the stores hold, and every restart is named in the summary. An agent that
  // died fails the check all the same (its address keeps refusing).
  const restarts: string[] = [];
  let read: ReadResult;
  for (let attempt = 1; ; attempt++) {
    try {
      read = await readAll(brokers, topic, 180_000, atLeast);
      break;
    } catch (err) {
      if (attempt >= READ_ATTEMPTS || !(err instanceof Error && err.name === "KafkaJSConnectionError")) throw err;
      restarts.push(err.message);
      await sleep(2_000);
    }
  }
  const { records, laggingPolls } = read;
  const result = checkHistory({
    acked: history.acked,
    indeterminate: history.indeterminate,
    consumed: records,
    idempotent,
  });
  const lag = laggingPolls > 0 ? `; high watermarks lagged the acknowledgements for ${laggingPolls} polls` : "";
  const restarted = restarts.length > 0 ? `; read-back restarted after: ${restarts.join(", ")}` : "";
  const summary = `${describeResult(result)}; client ${summarizeErrors(history.errors)}${lag}${restarted}`;
  return { result, summary };
}

export function assertClean(verdict: Verdict, logs: () => string): void {
  const r = verdict.result;
  const context = (): string => `${verdict.summary}\n${logs()}`;
  assert.equal(r.lost.length, 0, `acknowledged records lost: ${context()}`);
  assert.equal(r.reordered.length, 0, `records reordered: ${context()}`);
  assert.equal(r.duplicates.length, 0, `records duplicated: ${context()}`);
  assert.equal(r.ok, true, `anomalies: ${context()}`);
}

/** One line of the faults table (markdown), printed for docs/reliability.md. */
export function tableLine(fault: string, load: string, r: CheckResult): string {
  return `| ${fault} | ${load} | ${r.acked} | ${r.lost.length} | ${r.duplicates.length} | ${r.reordered.length} |`;
}

/** One unlabelled metric's value from an agent's /metrics (gauges such as warp_produce_buffer_bytes). */
export async function metricValue(httpPort: number, name: string): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${httpPort}/metrics`)).text();
  const line = text.split("\n").find((l) => l.startsWith(`${name} `));
  if (!line) throw new Error(`${name} missing from /metrics`);
  return Number(line.split(" ")[1]);
}

/** The sum of a metric's samples (every label set, or those with `labels`) in an agent's /metrics. */
export async function metricSum(
  httpPort: number,
  name: string,
  labels: Readonly<Record<string, string>> = {},
): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${httpPort}/metrics`)).text();
  return sumSamples(parsePrometheusText(text), name, (l) => Object.entries(labels).every(([k, v]) => l[k] === v));
}

/**
 * SIGKILL trials under a running workload: in each, once `step` more records are acknowledged, a random
 * agent (of the first three) is killed; once the survivors have acknowledged `step` more, it is started
 * again; a last `step` after the last trial. Returns the agents killed, in order.
 */
export async function sigkillTrials(
  cluster: FaultCluster,
  workload: Workload,
  options: { readonly trials: number; readonly step: number; readonly random: () => number },
): Promise<number[]> {
  const { trials, step, random } = options;
  const killed: number[] = [];
  for (let trial = 0; trial < trials; trial++) {
    await workload.waitForAcked(workload.acked() + step, 180_000);
    const victim = Math.floor(random() * 3);
    killed.push(victim);
    await cluster.kill(victim);
    // The survivors keep taking produce (after retries) while the victim is down.
    await workload.waitForAcked(workload.acked() + step, 180_000);
    await cluster.start(victim);
  }
  await workload.waitForAcked(workload.acked() + step, 180_000);
  return killed;
}

/** Ports of the agents another agent lists (describeCluster through it). */
export async function listedPorts(bootstrap: string): Promise<number[]> {
  const admin = new Kafka({
    clientId: "faults-members",
    brokers: [bootstrap],
    logLevel: logLevel.NOTHING,
    retry: { retries: 0 },
  }).admin();
  try {
    await admin.connect();
    return (await admin.describeCluster()).brokers.map((b) => b.port);
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}
