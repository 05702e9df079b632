/**
 * What 0.1 MB/s costs, measured (issue 13's target: at most the reference design's $79.10 a month): 3 agents
 * on DynamoDB Local and the S3 server at `-batchTimeout 250ms` (`warp cost`'s default), one kafkajs producer
 * per zone sending incompressible 1 KiB records, 25 KB/s in all: 0.1 MB/s produced at `warp cost`'s 1:4
 * compression. Measured from the agents' /metrics over a window, once with every agent appending its own
 * commits (`-sequencer=false`, the design before the sequencer) and once with the sequencer (the default),
 * one after the other in the same process. Units as DynamoDB Local reports them, priced on-demand at
 * `warp cost`'s default prices; the conflicts are the log appends whose condition failed (billed writes).
 */
import { randomBytes } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import { Kafka, logLevel, type Producer } from "kafkajs";
import { sumSamples, type Sample } from "../../cli/cost-model/measured.js";
import { DEFAULT_PRICES } from "../../cli/cost-model/prices.js";
import { costTable, DEFAULT_WARP_DESIGN, DEFAULT_WORKLOAD } from "../../cli/cost-model/model.js";
import { counts, positiveIntFromEnv, scrape, windowBetween, type IdleWindow } from "./idle-cost.js";
import { percentiles, round1, type Percentiles } from "./stats.js";
import { createTopic, dynamoTargetName, startAwsLocal, startDynamoAgents, ZONES } from "./targets.js";

export interface LowRateOptions {
  readonly agents: number;
  readonly seconds: number;
  /** Stored bytes a second, all producers (25,000: 0.1 MB/s at 1:4). */
  readonly storedBytesPerSecond: number;
}

export interface LowRateRun {
  readonly label: string;
  readonly flags: readonly string[];
  readonly window: IdleWindow;
  readonly producedKBps: number;
  readonly filesPerSecond: number;
  readonly logEntriesPerSecond: number;
  readonly conflictsPerSecond: number;
  readonly sequencedShare: number;
  /** Each record's produce latency (send to acknowledgement, kafkajs with acks=all) in the measured window. */
  readonly produce: Percentiles;
}

export interface LowRateResult {
  readonly options: LowRateOptions;
  readonly runs: readonly LowRateRun[];
}

const CONFIGURATIONS: ReadonlyArray<{ label: string; flags: readonly string[] }> = [
  {
    label: "every agent appends its own commits (-sequencer=false -windowAlign=false)",
    flags: ["-sequencer=false", "-windowAlign=false"],
  },
  {
    label: "through the sequencer, windows not aligned (-windowAlign=false -sequencerLinger=0)",
    flags: ["-windowAlign=false", "-sequencerLinger=0"],
  },
  { label: "through the sequencer, aligned windows gathered (the default)", flags: [] },
];
const RECORD_BYTES = 1024;

interface LogCounts {
  readonly files: number;
  readonly entries: number;
  readonly conflicts: number;
  readonly sequenced: number;
  readonly commits: number;
}

function logCounts(samples: readonly Sample[]): LogCounts {
  return {
    files: sumSamples(samples, "warp_ingestion_files_total"),
    entries: sumSamples(samples, "warp_metadata_log_appends_total", (l) => l.result === "ok"),
    conflicts: sumSamples(samples, "warp_metadata_log_appends_total", (l) => l.result === "conflict"),
    sequenced: sumSamples(samples, "warp_metadata_file_commits_total", (l) => l.route === "sequencer"),
    commits: sumSamples(samples, "warp_metadata_file_commits_total"),
  };
}

/**
 * Sends a record every `intervalMs` without waiting for the previous one; resolves the sent bytes when
 * stopped. Adds the latency of each record sent while `measuring()` to `latencies` (ms).
 */
function produceLoop(
  producer: Producer,
  topic: string,
  intervalMs: number,
  stopped: () => boolean,
  measuring: () => boolean,
  latencies: number[],
): Promise<number> {
  return (async () => {
    const inFlight: Promise<unknown>[] = [];
    let bytes = 0;
    for (let next = performance.now(); !stopped(); next += intervalMs) {
      const sentAt = performance.now();
      const measured = measuring();
      const sent = producer.send({ topic, messages: [{ value: randomBytes(RECORD_BYTES) }] });
      inFlight.push(measured ? sent.then(() => latencies.push(performance.now() - sentAt)) : sent);
      bytes += RECORD_BYTES;
      await sleep(Math.max(0, next + intervalMs - performance.now()));
    }
    await Promise.all(inFlight);
    return bytes;
  })();
}

export async function runLowRateCost(options: LowRateOptions, log: (line: string) => void): Promise<LowRateResult> {
  const aws = await startAwsLocal();
  const runs: LowRateRun[] = [];
  try {
    for (const [i, c] of CONFIGURATIONS.entries()) {
      log(`low rate: ${options.agents} agents, ${c.label}`);
      const agents = await startDynamoAgents(
        aws,
        `${dynamoTargetName(options.agents, 250)}-low${i}`,
        250,
        options.agents,
        c.flags,
      );
      const producers: Producer[] = [];
      try {
        const topic = "low-rate";
        await createTopic(agents[0]!.bootstrap, topic, options.agents * 2);
        for (const [z, a] of agents.entries()) {
          const kafka = new Kafka({
            brokers: [a.bootstrap],
            clientId: `ws_az=${ZONES[z % ZONES.length]!}`,
            logLevel: logLevel.NOTHING,
          });
          const producer = kafka.producer({ allowAutoTopicCreation: false });
          await producer.connect();
          producers.push(producer);
        }
        // Each producer's share of the rate, one record at a time.
        const intervalMs = (RECORD_BYTES * producers.length * 1000) / options.storedBytesPerSecond;
        let stop = false;
        let measuring = false;
        const latencies: number[] = [];
        const loops = producers.map((p) =>
          produceLoop(
            p,
            topic,
            intervalMs,
            () => stop,
            () => measuring,
            latencies,
          ),
        );
        await sleep(10_000); // leases taken, the log's tail active, files flowing
        const samplesBefore = await scrape(agents);
        const started = performance.now();
        measuring = true;
        await sleep(options.seconds * 1000);
        measuring = false;
        const samplesAfter = await scrape(agents);
        const seconds = (performance.now() - started) / 1000;
        stop = true;
        const sent = (await Promise.all(loops)).reduce((a, b) => a + b, 0);
        const before = logCounts(samplesBefore);
        const after = logCounts(samplesAfter);
        const rate = (k: keyof LogCounts) => Math.round(((after[k] - before[k]) / seconds) * 100) / 100;
        const run: LowRateRun = {
          label: c.label,
          flags: c.flags,
          window: windowBetween(counts(samplesBefore), counts(samplesAfter), seconds),
          producedKBps: Math.round(sent / (options.seconds + 10) / 100) / 10,
          filesPerSecond: rate("files"),
          logEntriesPerSecond: rate("entries"),
          conflictsPerSecond: rate("conflicts"),
          sequencedShare:
            after.commits > before.commits
              ? Math.round(((after.sequenced - before.sequenced) / (after.commits - before.commits)) * 100) / 100
              : 0,
          produce: percentiles(latencies),
        };
        log(`low rate: ${JSON.stringify(run)}`);
        runs.push(run);
      } finally {
        await Promise.all(producers.map((p) => p.disconnect().catch(() => undefined)));
        await Promise.all(agents.map((a) => a.kill("SIGTERM")));
      }
    }
  } finally {
    await aws.stop();
  }
  return { options, runs };
}

/** What a measured window cannot hold, as `warp cost` prices it (cli/cost-model/model.ts). */
const UNSEEN_IN_WINDOW = /^DynamoDB metadata snapshots and log trims|^DynamoDB storage/;

/**
 * The month in steady state: the window's units and requests, and what a 60 s window cannot hold, as
 * `warp cost` prices it at 0.1 MB/s for the run's -windowAlign: the snapshots (one every 2,000 entries)
 * and the trims after them (a read of each entry; entries then expire through TTL), and the storage of
 * the ingestion items and of the log's entries until TTL removes them.
 */
export function steadyState(run: LowRateRun): number {
  const row = costTable({
    throughputs: [1e5],
    workload: DEFAULT_WORKLOAD,
    design: { ...DEFAULT_WARP_DESIGN, windowAlign: !run.flags.includes("-windowAlign=false") },
    prices: DEFAULT_PRICES,
  }).find((r) => r.store === "warp-dynamodb-on-demand" && r.design === "warp")!;
  const unseen = row.lines.filter((l) => UNSEEN_IN_WINDOW.test(l.service)).reduce((t, l) => t + l.monthlyUsd, 0);
  return run.window.usdPerMonth + unseen;
}

export function lowRateReport(r: LowRateResult): string {
  const lines = [
    `### 0.1 MB/s measured (${r.options.agents} agents, ${r.options.storedBytesPerSecond / 1000} KB/s stored, -batchTimeout 250ms, ${r.options.seconds} s window)`,
    "",
    "| configuration | stored KB/s | files/s | log entries/s | conflicts/s | commits through the sequencer | produce p50 / p99 ms | WRU/s | RRU/s | S3 requests/s | on-demand $/month | steady state |",
    "|---|---|---|---|---|---|---|---|---|---|---|---|",
  ];
  for (const run of r.runs) {
    const w = run.window;
    lines.push(
      `| ${run.label} | ${run.producedKBps} | ${run.filesPerSecond} | ${run.logEntriesPerSecond} | ${run.conflictsPerSecond} | ${Math.round(run.sequencedShare * 100)} % | ${round1(run.produce.p50Ms)} / ${round1(run.produce.p99Ms)} | ${w.writeUnitsPerSecond} | ${w.readUnitsPerSecond} | ${w.s3RequestsPerSecond} | $${w.usdPerMonth.toFixed(2)} | $${steadyState(run).toFixed(2)} |`,
    );
  }
  return lines.join("\n");
}

/** WARP_BENCH_LOWRATE_AGENTS (3), WARP_BENCH_LOWRATE_SECONDS (60). */
export function lowRateOptionsFromEnv(): LowRateOptions {
  return {
    agents: positiveIntFromEnv("WARP_BENCH_LOWRATE_AGENTS", 3),
    seconds: positiveIntFromEnv("WARP_BENCH_LOWRATE_SECONDS", 60),
    storedBytesPerSecond: 25_000,
  };
}
