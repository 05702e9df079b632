/**
 * What an idle cluster costs (issue 13, "idle clusters cost little"): 3 agents on DynamoDB Local and the
 * S3 server with one topic and nothing produced, measured from their /metrics over a quiet window, then
 * over a window where a consumer waits at the tail on every agent (kafkajs, one per zone, so each agent
 * leads the partitions its consumer fetches and holds a long-polling fetch). Each configuration runs in
 * the same process, one after the other: the metadata log's tail polled at a fixed 50 ms (as before
 * -metadataIdlePollInterval) and backing off to the default 1 s.
 *
 * The units are DynamoDB's ConsumedCapacity as DynamoDB Local reports it (warp_dynamodb_capacity_units_total),
 * priced with `warp cost`'s default prices, on-demand.
 */
import { setTimeout as sleep } from "node:timers/promises";
import { Kafka, logLevel, type Consumer } from "kafkajs";
import { parsePrometheusText, sumSamples, type Sample } from "../../cli/cost-model/measured.js";
import { DEFAULT_PRICES } from "../../cli/cost-model/prices.js";
import type { AgentProcess } from "../../agent/test/support/agents.js";
import { createTopic, dynamoTargetName, startAwsLocal, startDynamoAgents, ZONES, type AwsLocal } from "./targets.js";

export interface IdleCostOptions {
  readonly agents: number;
  /** Seconds of each measured window. */
  readonly seconds: number;
}

export interface IdleWindow {
  readonly seconds: number;
  readonly writeUnitsPerSecond: number;
  readonly readUnitsPerSecond: number;
  /** Read units a second on the metadata log's partition key (tail polls and catch-ups). */
  readonly logReadUnitsPerSecond: number;
  /** Metadata log reads (tail polls and catch-ups) a second, all agents. */
  readonly logReadsPerSecond: number;
  readonly s3RequestsPerSecond: number;
  /** On-demand DynamoDB and S3 requests, a 30-day month at these rates. */
  readonly usdPerMonth: number;
}

export interface IdleCostRun {
  readonly label: string;
  readonly flags: readonly string[];
  /** Nothing produced, no client connected. */
  readonly quiet: IdleWindow;
  /** Nothing produced, a consumer waiting at the tail on every agent. */
  readonly consumersWaiting: IdleWindow;
}

export interface IdleCostResult {
  readonly options: IdleCostOptions;
  readonly runs: readonly IdleCostRun[];
}

const MONTH_SECONDS = 30 * 24 * 3600;

const CONFIGURATIONS: ReadonlyArray<{ label: string; flags: readonly string[] }> = [
  { label: "tail polled every 50 ms (before)", flags: ["-metadataIdlePollInterval", "50ms"] },
  { label: "tail backing off to 1 s (now, the default)", flags: [] },
];

export async function scrape(agents: readonly AgentProcess[]): Promise<Sample[]> {
  const texts = await Promise.all(
    agents.map(async (a) => (await fetch(`http://127.0.0.1:${a.httpPort}/metrics`)).text()),
  );
  return texts.flatMap((t) => parsePrometheusText(t));
}

export interface Counts {
  readonly write: number;
  readonly read: number;
  readonly logReadUnits: number;
  readonly logReads: number;
  readonly s3PutList: number;
  readonly s3Get: number;
}

export function counts(samples: readonly Sample[]): Counts {
  const units = "warp_dynamodb_capacity_units_total";
  const s3 = (types: readonly string[]) =>
    sumSamples(samples, "warp_s3_requests_total", (l) => types.includes((l.type ?? "").toLowerCase()));
  return {
    write: sumSamples(samples, units, (l) => l.kind === "write"),
    read: sumSamples(samples, units, (l) => l.kind === "read"),
    logReadUnits: sumSamples(
      samples,
      "warp_dynamodb_partition_key_capacity_units_total",
      (l) => l.key === "log" && l.kind === "read",
    ),
    // The metadata store's read is the log's (the object stores read with get).
    logReads: sumSamples(samples, "warp_store_operations_total", (l) => l.op === "read"),
    s3PutList: s3(["put", "list"]),
    s3Get: s3(["get"]),
  };
}

/** On-demand DynamoDB units and S3 requests between two scrapes `seconds` apart, as rates and a monthly bill. */
export function windowBetween(before: Counts, after: Counts, s: number): IdleWindow {
  const rate = (k: keyof Counts) => (after[k] - before[k]) / s;
  const p = DEFAULT_PRICES;
  const usd =
    MONTH_SECONDS *
    ((rate("write") * p.ddbWruPerMillion) / 1e6 +
      (rate("read") * p.ddbRruPerMillion) / 1e6 +
      (rate("s3PutList") * p.s3PutPer1000) / 1000 +
      (rate("s3Get") * p.s3GetPer1000) / 1000);
  const r2 = (n: number) => Math.round(n * 100) / 100;
  return {
    seconds: r2(s),
    writeUnitsPerSecond: r2(rate("write")),
    readUnitsPerSecond: r2(rate("read")),
    logReadUnitsPerSecond: r2(rate("logReadUnits")),
    logReadsPerSecond: r2(rate("logReads")),
    s3RequestsPerSecond: r2(rate("s3PutList") + rate("s3Get")),
    usdPerMonth: r2(usd),
  };
}

async function measureWindow(agents: readonly AgentProcess[], seconds: number): Promise<IdleWindow> {
  const before = counts(await scrape(agents));
  const started = performance.now();
  await sleep(seconds * 1000);
  const after = counts(await scrape(agents));
  return windowBetween(before, after, (performance.now() - started) / 1000);
}

/** A consumer in `zone` (client id ws_az=zone): the partitions it fetches are led by that zone's agent. */
async function waitingConsumer(bootstrap: string, zone: string, topic: string): Promise<Consumer> {
  const kafka = new Kafka({ brokers: [bootstrap], clientId: `ws_az=${zone}`, logLevel: logLevel.NOTHING });
  const consumer = kafka.consumer({ groupId: `idle-${zone}`, maxWaitTimeInMs: 500 });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: false });
  await consumer.run({ eachMessage: async () => {} });
  return consumer;
}

export async function measureIdleCost(
  aws: AwsLocal,
  options: IdleCostOptions,
  log: (line: string) => void,
): Promise<IdleCostResult> {
  const runs: IdleCostRun[] = [];
  for (const c of CONFIGURATIONS) {
    log(`idle: ${options.agents} agents, ${c.label}`);
    const agents = await startDynamoAgents(aws, dynamoTargetName(options.agents, 250), 250, options.agents, c.flags);
    try {
      const topic = "idle";
      await createTopic(agents[0]!.bootstrap, topic, options.agents * 2);
      await sleep(5000); // membership settled, leases taken, the tail backed off
      const quiet = await measureWindow(agents, options.seconds);
      log(`idle: quiet: ${JSON.stringify(quiet)}`);
      const consumers = await Promise.all(
        agents.map((a, i) => waitingConsumer(a.bootstrap, ZONES[i % ZONES.length]!, topic)),
      );
      try {
        await sleep(5000); // groups joined, fetches waiting
        const consumersWaiting = await measureWindow(agents, options.seconds);
        log(`idle: consumers waiting: ${JSON.stringify(consumersWaiting)}`);
        runs.push({ label: c.label, flags: c.flags, quiet, consumersWaiting });
      } finally {
        await Promise.all(consumers.map((k) => k.disconnect()));
      }
    } finally {
      await Promise.all(agents.map((a) => a.kill("SIGTERM")));
    }
  }
  return { options, runs };
}

export function idleCostReport(r: IdleCostResult): string {
  const lines = [
    `### Idle cluster (${r.options.agents} agents, nothing produced, ${r.options.seconds} s windows)`,
    "",
    "| configuration | clients | WRU/s | RRU/s | of which the log's tail | log reads/s | S3 requests/s | on-demand $/month |",
    "|---|---|---|---|---|---|---|---|",
  ];
  for (const run of r.runs)
    for (const [clients, w] of [
      ["none", run.quiet],
      ["a consumer waiting on every agent", run.consumersWaiting],
    ] as const)
      lines.push(
        `| ${run.label} | ${clients} | ${w.writeUnitsPerSecond} | ${w.readUnitsPerSecond} | ${w.logReadUnitsPerSecond} | ${w.logReadsPerSecond} | ${w.s3RequestsPerSecond} | $${w.usdPerMonth.toFixed(2)} |`,
      );
  return lines.join("\n");
}

/** A positive whole number from the environment variable `name`, or `dflt` when it is unset. */
export function positiveIntFromEnv(name: string, dflt: number): number {
  const raw = process.env[name];
  const n = raw === undefined ? dflt : Number(raw);
  if (!Number.isInteger(n) || n <= 0) throw new Error(`${name}=${raw}: expected a positive whole number`);
  return n;
}

/** WARP_BENCH_IDLE_AGENTS (3) and WARP_BENCH_IDLE_SECONDS (60). */
export function idleCostOptionsFromEnv(): IdleCostOptions {
  return {
    agents: positiveIntFromEnv("WARP_BENCH_IDLE_AGENTS", 3),
    seconds: positiveIntFromEnv("WARP_BENCH_IDLE_SECONDS", 60),
  };
}

/** Starts DynamoDB Local and the S3 server, measures, stops them. */
export async function runIdleCost(log: (line: string) => void): Promise<IdleCostResult> {
  const aws = await startAwsLocal();
  try {
    return await measureIdleCost(aws, idleCostOptionsFromEnv(), log);
  } finally {
    await aws.stop();
  }
}
