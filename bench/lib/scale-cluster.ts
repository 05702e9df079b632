/**
 * The metadata log at scale with real agents (`warp agent` processes) on DynamoDB Local and the S3 server:
 *
 * 1. Log units per MB produced: kafkajs sends one record to each partition of a set per request, back to
 *    back, so each agent's ingestion file spreads over its share of the set; the agents' /metrics give the
 *    units spent on the log's partition key (warp_dynamodb_partition_key_capacity_units_total{key="log"}),
 *    the bytes produced and the batches per file, and the units on the stripes of large entries' bodies
 *    (key="logbody"). Extrapolated to 1 GB/s: the log key's and the busiest stripe's write and read units
 *    a second at that rate, against DynamoDB's 1,000 and 3,000 per key.
 * 2. Many partitions: `topics` × `partitionsPerTopic` partitions created through CreateTopics, then one
 *    record to every partition per request for `produceSeconds`, with snapshots every `snapshotEntries`
 *    entries. Every second each agent's /metrics is read: its heap, its event-loop delay p99 and max over
 *    that second (prom-client resets the monitor at each read), and whether it wrote a snapshot then.
 * 3. Cold start: every agent stopped (the snapshot writer writes a final snapshot), then one started again
 *    on the same tables: the time to listen, from its snapshot, and its heap.
 * With WARP_BENCH_AGENT_LOGS=DIR, each agent's output up to the cold start is written to DIR/agent-<pid>.log.
 */
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { getPriority, setPriority } from "node:os";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { setTimeout as sleep } from "node:timers/promises";
import { Kafka, logLevel, type Producer, type TopicMessages } from "kafkajs";
import { parsePrometheusText, sumSamples, type Sample } from "../../cli/cost-model/measured.js";
import { spawnAgentProcess, type AgentProcess } from "../../agent/test/support/agents.js";
import { ENTRY_BODY_KEY, ENTRY_BODY_STRIPES } from "../../agent/src/store/dynamodb/entry-bodies.js";
import type { HotPartitionKey } from "../../agent/src/store/usage.js";
import { loggedLines, snapshotWrites } from "./agent-log.js";
import { startLoopFloor, type LoopFloor } from "./loop-floor.js";
import { mib, percentile, round1 } from "./stats.js";
import { dynamoAgentArgs, dynamoTargetName, startDynamoAgents, ZONES, type AwsLocal } from "./targets.js";

export interface ClusterScaleShape {
  readonly agents: number;
  readonly topics: number;
  readonly partitionsPerTopic: number;
  readonly produceSeconds: number;
  /** -metadataSnapshotEntries of the agents. */
  readonly snapshotEntries: number;
  /** Seconds of each log-units run. */
  readonly unitsSeconds: number;
  /**
   * Produce calls a second in the many-partitions run (0: back to back, as fast as the agents answer).
   * Paced, the agents have CPU to spare on this machine, so the event-loop delay shows what holds the
   * loop rather than processes waiting for one of the 2 CPUs.
   */
  readonly callsPerSecond: number;
  /**
   * The niceness of what stands in for other machines — DynamoDB Local, the S3 server, and this process
   * while it produces (the clients) — so that the agents measured get a core first (0: all alike).
   */
  readonly servicesNiceness: number;
}

export interface LogUnitsRow {
  /** Partitions each request spreads over (one record each). */
  readonly partitions: number;
  readonly recordBytes: number;
  readonly producedMB: number;
  readonly seconds: number;
  /** Mean batches per ingestion file (warp_ingestion_file_batches). */
  readonly batchesPerFile: number;
  readonly files: number;
  readonly logWriteUnitsPerMB: number;
  readonly logReadUnitsPerMB: number;
  /** The log key's units a second at 1 GB/s produced in files of this shape (per MB × 1,000). */
  readonly writeUnitsPerSecondAt1GBps: number;
  readonly readUnitsPerSecondAt1GBps: number;
  /** Log entries appended during the run (the highest applied index's growth). */
  readonly entries: number;
  /** The log key's write units per entry: an entry's bytes, or 1 for a pointer (its trim writes nothing: entries expire). */
  readonly logWriteUnitsPerEntry: number;
  /**
   * The log key's write units a second at LOG_ENTRIES_AT_SCALE entries a second (12 agents appending an
   * entry per 50 ms window each, the sequencer's gathering aside): entries over 1 KiB cost the key one unit
   * whatever their size, so at 1 GB/s its units follow the entries a second, not the bytes.
   */
  readonly logWriteUnitsPerSecondAtScale: number;
  /** Units per MB on the stripes of large entries' bodies (key "logbody", all stripes together). */
  readonly bodyWriteUnitsPerMB: number;
  readonly bodyReadUnitsPerMB: number;
  /** The busiest stripe's units a second at 1 GB/s: one stripe's share of them all (entries go round the stripes). */
  readonly stripeWriteUnitsPerSecondAt1GBps: number;
  readonly stripeReadUnitsPerSecondAt1GBps: number;
}

export interface AgentScaleFigures {
  readonly heapBeforeMiB: number;
  readonly heapAfterMiB: number;
  /** Largest heap seen during the run. */
  readonly heapPeakMiB: number;
  readonly rssPeakMiB: number;
  readonly snapshots: number;
  /** Event-loop delay p99 over one-second windows: the worst window, the worst with a snapshot in it. */
  readonly loopP99WorstMs: number;
  readonly loopP99WorstWithSnapshotMs: number | null;
  /** One-second windows sampled, and those whose p99 is over LOOP_TARGET_MS. */
  readonly loopSeconds: number;
  readonly loopSecondsOverTarget: number;
  readonly loopMaxMs: number;
  /**
   * Each snapshot written while producing, from the agent's log ("metadata snapshot written"): the time it
   * took and the event-loop delay's p99 and max meanwhile (issue 13's "during snapshots", measured over
   * the snapshot itself rather than the seconds it fell in).
   */
  readonly duringSnapshots: readonly SnapshotLoop[];
  /** The longest a snapshot held the event loop (upper bound of its histogram bucket, ms). */
  readonly snapshotHoldMs: string;
  readonly snapshotBytes: number;
  /** CPU the agent used over the run (process_cpu_seconds_total), in % of one CPU. */
  readonly cpuPercent: number;
  /**
   * V8's collections over the run (prom-client's nodejs_gc_duration_seconds): seconds spent in major
   * (mark-compact) and minor (scavenge) ones, and the longest major one (upper bound of its bucket, ms).
   */
  readonly gcMajorSeconds: number;
  readonly gcMinorSeconds: number;
  readonly gcMajorLongestMs: string;
  /**
   * The second of the worst event-loop p99: what the agent itself did in it (CPU and time in V8's
   * collections, ms of that second) and how busy the machine's cores were (% of all of them, /proc/stat).
   * An agent near a full core there held its own loop; one far under it on a busy machine waited for a core.
   */
  readonly worstSecond: {
    readonly cpuMs: number;
    readonly gcMs: number;
    readonly machineBusyPercent: number;
  };
}

export interface SnapshotLoop {
  readonly seconds: number;
  readonly loopP99Ms: number;
  readonly loopMaxMs: number;
  /**
   * The p99 over every sample the agent took while writing any snapshot since it started (topic creation's
   * too), as of this one, and their number: the figure "p99 during snapshots" (each one's own p99, over a
   * second of 10 ms samples, is about its longest delay).
   */
  readonly allSnapshotsP99Ms: number;
  readonly allSnapshotsSamples: number;
}

/** The p99 of every sample taken while `snapshots`' agent wrote a snapshot, as of the last one. */
export function allSnapshotsText(snapshots: readonly SnapshotLoop[]): string {
  const last = snapshots.at(-1);
  return last ? `${last.allSnapshotsP99Ms} ms of ${last.allSnapshotsSamples}` : "–";
}

/** Snapshots' loop figures for a log line: each one's p99, then the longest delay and the longest write. */
export function duringText(snapshots: readonly SnapshotLoop[]): string {
  if (snapshots.length === 0) return "none";
  const max = Math.max(...snapshots.map((x) => x.loopMaxMs));
  const longest = Math.max(...snapshots.map((x) => x.seconds));
  return `p99 ${snapshots.map((x) => x.loopP99Ms).join(", ")} ms, max ${max} ms, writes of up to ${longest} s; p99 of all samples while writing snapshots ${allSnapshotsText(snapshots)}`;
}

/** The snapshots `agent` logged writing between `fromMs` and `toMs` (ms since the epoch). */
function snapshotsLogged(agent: AgentProcess, fromMs: number, toMs: number): SnapshotLoop[] {
  return snapshotWrites(agent.output())
    .filter((w) => w.toMs >= fromMs && w.toMs <= toMs)
    .map(({ line: l }) => ({
      seconds: l.seconds ?? 0,
      loopP99Ms: l.loopDelayP99Ms ?? 0,
      loopMaxMs: l.loopDelayMaxMs ?? 0,
      allSnapshotsP99Ms: l.loopDelayP99AllSnapshotsMs ?? 0,
      allSnapshotsSamples: l.loopDelaySamplesAllSnapshots ?? 0,
    }));
}

export interface ClusterScaleResult {
  readonly shape: ClusterScaleShape;
  readonly partitions: number;
  readonly logUnits: readonly LogUnitsRow[];
  readonly createSeconds: number;
  readonly produced: {
    /** sendBatch calls (kafkajs sends each as one request per agent). */
    readonly requests: number;
    readonly records: number;
    readonly MB: number;
    /** Partitions in one request to one agent, and calls in flight. */
    readonly partitionsPerRequest: number;
    readonly callsInFlight: number;
    /** Calls started a second (0: back to back). */
    readonly callsPerSecond: number;
  };
  /**
   * Age of the oldest ingestion file not yet compacted when producing stopped (s): whether compaction kept
   * up with data spread over every partition (warp_oldest_uncompacted_file_age_seconds).
   */
  readonly oldestUncompactedSeconds: number;
  /** Event-loop delay p99 of one-second windows, over every agent and window. */
  readonly loopP99AllWindowsMs: number;
  /** An idle Node process's one-second windows over the same time (loop-floor.ts): the machine's floor. */
  readonly idleProcessLoop: LoopFloor;
  readonly agents: readonly AgentScaleFigures[];
  readonly coldStart: {
    /** From spawning the process to the agent listening (replay included). */
    readonly seconds: number;
    /** From "loaded metadata snapshot" to "metadata log replayed", in its log. */
    readonly replaySeconds: number | null;
    readonly snapshotBytes: number | null;
    readonly heapMiB: number;
  };
}

const MiB = 1024 * 1024;
/** Issue 13's target for the event-loop delay p99 in seconds holding a snapshot (ms). */
export const LOOP_TARGET_MS = 50;

async function scrape(agent: AgentProcess): Promise<Sample[]> {
  const res = await fetch(`http://127.0.0.1:${agent.httpPort}/metrics`);
  return parsePrometheusText(await res.text());
}

const scrapeAll = (agents: readonly AgentProcess[]) => Promise.all(agents.map(scrape));
/** Entries a second at 1 GB/s, 10,000 partitions, 12 agents, 50 ms windows, with no sequencer gathering them. */
export const LOG_ENTRIES_AT_SCALE = 12 * (1000 / 50);
const highest = (texts: readonly Sample[][], name: string) => Math.max(...texts.map((t) => sumSamples(t, name)));
const total = (texts: readonly Sample[][], name: string, where?: (l: Readonly<Record<string, string>>) => boolean) =>
  texts.reduce((t, s) => t + sumSamples(s, name, where), 0);

function topicName(i: number): string {
  return `scale-${String(i).padStart(4, "0")}`;
}

/** One record to each of `partitions` (topic, partition) pairs: the messages of one request. */
function spread(partitions: ReadonlyArray<readonly [string, number]>, value: Buffer): TopicMessages[] {
  const byTopic = new Map<string, TopicMessages>();
  for (const [topic, partition] of partitions) {
    let t = byTopic.get(topic);
    if (!t) byTopic.set(topic, (t = { topic, messages: [] }));
    t.messages.push({ partition, value });
  }
  return [...byTopic.values()];
}

/**
 * `sendBatch` calls for `seconds`, each taking the next of `batches` (round robin): `callsPerSecond` of
 * them started at a steady pace, at most `inFlight` at a time (a call starts late when all are busy), or,
 * with `callsPerSecond` 0, back to back `inFlight` at a time. Returns the calls and records sent. kafkajs
 * splits a call into one request per agent.
 */
async function sendFor(
  producer: Producer,
  batches: readonly TopicMessages[][],
  seconds: number,
  inFlight = 1,
  callsPerSecond = 0,
): Promise<{ requests: number; records: number }> {
  const started = performance.now();
  const until = started + seconds * 1000;
  let requests = 0;
  let records = 0;
  let next = 0;
  const worker = async () => {
    while (performance.now() < until) {
      const call = next++;
      if (callsPerSecond > 0) {
        const at = started + (call * 1000) / callsPerSecond;
        if (at >= until) return;
        if (at > performance.now()) await sleep(at - performance.now());
      }
      const batch = batches[call % batches.length]!;
      await producer.sendBatch({ topicMessages: batch, acks: -1 });
      requests++;
      records += batch.reduce((n, t) => n + t.messages.length, 0);
    }
  };
  await Promise.all(Array.from({ length: inFlight }, worker));
  return { requests, records };
}

/**
 * Partitions per produce request to one agent in the many-partitions run: about 350 KB of one-record
 * batches of 100 B. Real clients bound a request (the Java producer's max.request.size is 1 MiB); kafkajs
 * does not, and one call for 100,000 partitions sent each agent a single 6 MB request of 33,000
 * partitions, which an agent decodes, stores and answers in one go.
 */
const PARTITIONS_PER_REQUEST = 2000;
/** Calls in flight at most in the many-partitions run: the agents' batchers merge them into files. */
const CALLS_IN_FLIGHT = 4;

async function createTopics(bootstrap: string[], topics: number, partitions: number): Promise<void> {
  const admin = new Kafka({ brokers: bootstrap, logLevel: logLevel.NOTHING, retry: { retries: 10 } }).admin();
  await admin.connect();
  try {
    for (let from = 0; from < topics; from += 50) {
      const names = Array.from({ length: Math.min(50, topics - from) }, (_, i) => topicName(from + i));
      await admin.createTopics({
        topics: names.map((topic) => ({ topic, numPartitions: partitions })),
        waitForLeaders: false,
        timeout: 60_000,
      });
    }
  } finally {
    await admin.disconnect();
  }
}

async function measureLogUnits(
  agents: readonly AgentProcess[],
  producer: Producer,
  pairs: ReadonlyArray<readonly [string, number]>,
  recordBytes: number,
  seconds: number,
): Promise<LogUnitsRow> {
  const batch = spread(pairs, Buffer.alloc(recordBytes, 0x61));
  // One request first: metadata, connections and the first files out of the figures.
  await producer.sendBatch({ topicMessages: batch, acks: -1 });
  const before = await scrapeAll(agents);
  const started = performance.now();
  await sendFor(producer, [batch], seconds);
  const elapsed = (performance.now() - started) / 1000;
  const after = await scrapeAll(agents);
  const diff = (name: string, where?: (l: Readonly<Record<string, string>>) => boolean) =>
    total(after, name, where) - total(before, name, where);
  const onKey = (key: HotPartitionKey, kind: string) => (l: Readonly<Record<string, string>>) =>
    l.key === key && l.kind === kind;
  const MB = diff("warp_produce_bytes_total") / 1e6;
  const files = diff("warp_ingestion_file_batches_count");
  const perMB = (key: HotPartitionKey, kind: string) =>
    diff("warp_dynamodb_partition_key_capacity_units_total", onKey(key, kind)) / MB;
  const write = perMB("log", "write");
  const read = perMB("log", "read");
  const bodyWrite = perMB(ENTRY_BODY_KEY, "write");
  const entries =
    highest(after, "warp_metadata_log_applied_index") - highest(before, "warp_metadata_log_applied_index");
  const perEntry = (write * MB) / Math.max(1, entries);
  const bodyRead = perMB(ENTRY_BODY_KEY, "read");
  return {
    partitions: pairs.length,
    recordBytes,
    producedMB: round1(MB),
    seconds: round1(elapsed),
    batchesPerFile: round1(diff("warp_ingestion_file_batches_sum") / files),
    files,
    logWriteUnitsPerMB: round1(write),
    logReadUnitsPerMB: round1(read),
    writeUnitsPerSecondAt1GBps: Math.round(write * 1000),
    readUnitsPerSecondAt1GBps: Math.round(read * 1000),
    entries,
    logWriteUnitsPerEntry: round1(perEntry),
    logWriteUnitsPerSecondAtScale: Math.round(perEntry * LOG_ENTRIES_AT_SCALE),
    bodyWriteUnitsPerMB: round1(bodyWrite),
    bodyReadUnitsPerMB: round1(bodyRead),
    stripeWriteUnitsPerSecondAt1GBps: Math.round((bodyWrite * 1000) / ENTRY_BODY_STRIPES),
    stripeReadUnitsPerSecondAt1GBps: Math.round((bodyRead * 1000) / ENTRY_BODY_STRIPES),
  };
}

/** Each agent's exit status and its last warnings and errors, for a failed run's message. */
function agentTrouble(agents: readonly AgentProcess[]): string {
  return agents
    .map((a, i) => {
      const exit = a.child.exitCode ?? a.child.signalCode;
      const lines = a
        .output()
        .split("\n")
        .filter((l) => /"level":"(warn|error)"/.test(l) || (l.trim() !== "" && !l.startsWith("{")))
        .slice(-8);
      return `agent ${i + 1}${exit !== null ? ` exited (${exit})` : " running"}:\n  ${lines.join("\n  ")}`;
    })
    .join("\n");
}

/**
 * Upper bound (ms) of the highest non-empty bucket of a histogram's increase between two scrapes (of its
 * series whose labels include `labels`).
 */
function slowestBucketMs(
  before: Sample[],
  after: Sample[],
  name: string,
  labels: Readonly<Record<string, string>> = {},
): string {
  const buckets = new Map<number, number>();
  const matches = (s: Sample) => Object.entries(labels).every(([k, v]) => s.labels[k] === v);
  for (const [samples, sign] of [
    [after, 1],
    [before, -1],
  ] as const)
    for (const s of samples)
      if (s.name === `${name}_bucket` && matches(s)) {
        const le = s.labels.le === "+Inf" ? Infinity : Number(s.labels.le);
        buckets.set(le, (buckets.get(le) ?? 0) + sign * s.value);
      }
  const bounds = [...buckets.keys()].sort((a, b) => a - b);
  const all = buckets.get(Infinity) ?? 0;
  if (all <= 0) return "none";
  for (const le of bounds)
    if ((buckets.get(le) ?? 0) >= all) return le === Infinity ? "> last bucket" : `≤ ${le * 1000}`;
  return "?";
}

/** The machine's CPU time so far, busy and all, in clock ticks (/proc/stat's first line). */
function machineTicks(): { busy: number; all: number } {
  const fields = readFileSync("/proc/stat", "utf8").split("\n", 1)[0]!.trim().split(/\s+/).slice(1).map(Number);
  const all = fields.reduce((sum, x) => sum + x, 0);
  // idle and iowait are the 4th and 5th fields.
  return { busy: all - (fields[3] ?? 0) - (fields[4] ?? 0), all };
}

function busyPercent(from: { busy: number; all: number }, to: { busy: number; all: number }): number {
  return to.all > from.all ? Math.round(((to.busy - from.busy) / (to.all - from.all)) * 100) : 0;
}

/** Seconds V8 spent in collections of `kind` between two scrapes. */
function gcSeconds(before: Sample[], after: Sample[], kind: string): number {
  const sum = (samples: Sample[]) => sumSamples(samples, "nodejs_gc_duration_seconds_sum", (l) => l.kind === kind);
  return sum(after) - sum(before);
}

/**
 * Runs `work` with this process (its main thread: the producing clients) at `niceness`, then at its own
 * again. Going back down takes root (or CAP_SYS_NICE); without, what this process starts later (the cold
 * start's agent) inherits the niceness, as the log then says.
 */
async function atNiceness<T>(niceness: number, log: (line: string) => void, work: () => Promise<T>): Promise<T> {
  if (niceness === 0) return work();
  const own = getPriority();
  setPriority(niceness);
  try {
    return await work();
  } finally {
    try {
      setPriority(own);
    } catch (err) {
      log(`  could not set this process's niceness back to ${own} (${String(err)}): later agents run at ${niceness}`);
    }
  }
}

export async function measureClusterAtScale(aws: AwsLocal, shape: ClusterScaleShape, log: (line: string) => void) {
  const name = dynamoTargetName(shape.agents, 50);
  const flags = ["-metadataSnapshotEntries", String(shape.snapshotEntries)];
  let agents = await startDynamoAgents(aws, name, 50, shape.agents, flags);
  const bootstrap = agents.map((a) => a.bootstrap);
  const kafka = new Kafka({ brokers: bootstrap, logLevel: logLevel.NOTHING, retry: { retries: 10 } });
  let producer: Producer | null = null;
  try {
    // Wait until every agent lists the others (leadership is spread over the live agents).
    await sleep(3000);
    const baseline = await scrapeAll(agents);

    log(`  creating ${shape.topics} topics × ${shape.partitionsPerTopic} partitions`);
    const createStarted = performance.now();
    await createTopics(bootstrap, shape.topics, shape.partitionsPerTopic);
    const createSeconds = round1((performance.now() - createStarted) / 1000);
    log(`  created in ${createSeconds} s`);

    producer = kafka.producer({ allowAutoTopicCreation: false, idempotent: false });
    await producer.connect();
    const pairsOf = (count: number) =>
      Array.from(
        { length: count },
        (_, i) => [topicName(Math.floor(i / shape.partitionsPerTopic)), i % shape.partitionsPerTopic] as const,
      );
    const logUnits: LogUnitsRow[] = [];
    for (const [perFile, recordBytes] of [
      [6, 16 * 1024],
      [1000, 1024],
    ] as const) {
      const row = await measureLogUnits(
        agents,
        producer,
        pairsOf(Math.min(perFile * shape.agents, shape.topics * shape.partitionsPerTopic)),
        recordBytes,
        shape.unitsSeconds,
      );
      log(
        `  log units, ${row.partitions} partitions × ${recordBytes} B per request: ${row.batchesPerFile} batches per file, ${row.logWriteUnitsPerMB} WCU/MB, ${row.logReadUnitsPerMB} RCU/MB (at 1 GB/s: ${row.writeUnitsPerSecondAt1GBps} WCU/s, ${row.readUnitsPerSecondAt1GBps} RCU/s on the log's key by MB; ${row.entries} entries, ${row.logWriteUnitsPerEntry} WCU each on the log's key, ${row.logWriteUnitsPerSecondAtScale} WCU/s at ${LOG_ENTRIES_AT_SCALE} entries/s); entry bodies ${row.bodyWriteUnitsPerMB} WCU/MB, ${row.bodyReadUnitsPerMB} RCU/MB (at 1 GB/s: ${row.stripeWriteUnitsPerSecondAt1GBps} WCU/s, ${row.stripeReadUnitsPerSecondAt1GBps} RCU/s on each of ${ENTRY_BODY_STRIPES} stripes)`,
      );
      logUnits.push(row);
    }

    const all = pairsOf(shape.topics * shape.partitionsPerTopic);
    log(
      `  one record to each of ${all.length} partitions, ${PARTITIONS_PER_REQUEST} partitions per request to an agent, ${shape.callsPerSecond > 0 ? `${shape.callsPerSecond} calls a second, at most ` : ""}${CALLS_IN_FLIGHT} calls in flight, ${shape.produceSeconds} s`,
    );
    const perCall = PARTITIONS_PER_REQUEST * shape.agents;
    const calls = Array.from({ length: Math.ceil(all.length / perCall) }, (_, i) =>
      spread(all.slice(i * perCall, (i + 1) * perCall), Buffer.alloc(100, 0x62)),
    );
    const before = await scrapeAll(agents);
    const windows: Array<
      Array<{
        p99: number;
        max: number;
        snapshot: boolean;
        heap: number;
        rss: number;
        cpuMs: number;
        gcMs: number;
        machineBusyPercent: number;
      }>
    > = agents.map(() => []);
    const lastCpu = before.map((s) => sumSamples(s, "process_cpu_seconds_total"));
    const lastGc = before.map((s) => sumSamples(s, "nodejs_gc_duration_seconds_sum"));
    let lastMachine = machineTicks();
    const lastSnapshots = agents.map((_, i) => sumSamples(before[i]!, "warp_metadata_snapshot_encode_seconds_count"));
    let sampling = true;
    const floor = startLoopFloor();
    const sampler = (async () => {
      while (sampling) {
        await sleep(1000);
        let texts: Sample[][];
        try {
          texts = await scrapeAll(agents);
        } catch (err) {
          throw new Error(`reading the agents' /metrics failed: ${String(err)}\n${agentTrouble(agents)}`, {
            cause: err,
          });
        }
        const machine = machineTicks();
        const machineBusyPercent = busyPercent(lastMachine, machine);
        lastMachine = machine;
        texts.forEach((s, i) => {
          const snapshots = sumSamples(s, "warp_metadata_snapshot_encode_seconds_count");
          const cpu = sumSamples(s, "process_cpu_seconds_total");
          const gcTotal = sumSamples(s, "nodejs_gc_duration_seconds_sum");
          windows[i]!.push({
            p99: sumSamples(s, "nodejs_eventloop_lag_p99_seconds") * 1000,
            max: sumSamples(s, "nodejs_eventloop_lag_max_seconds") * 1000,
            snapshot: snapshots > lastSnapshots[i]!,
            heap: sumSamples(s, "nodejs_heap_size_used_bytes"),
            rss: sumSamples(s, "process_resident_memory_bytes"),
            cpuMs: (cpu - lastCpu[i]!) * 1000,
            gcMs: (gcTotal - lastGc[i]!) * 1000,
            machineBusyPercent,
          });
          lastSnapshots[i] = snapshots;
          lastCpu[i] = cpu;
          lastGc[i] = gcTotal;
        });
      }
    })();
    let sent: { requests: number; records: number };
    const produceStarted = performance.now();
    const produceStartedAt = Date.now();
    try {
      // A const, so that the closure keeps the type narrowed from `producer` (a let, null once disconnected).
      const connected = producer;
      sent = await atNiceness(shape.servicesNiceness, log, () =>
        sendFor(connected, calls, shape.produceSeconds, CALLS_IN_FLIGHT, shape.callsPerSecond),
      );
    } catch (err) {
      throw new Error(`producing failed: ${String(err)}\n${agentTrouble(agents)}`, { cause: err });
    } finally {
      sampling = false;
      await sampler;
    }
    const idleProcessLoop = await floor.stop(LOOP_TARGET_MS);
    const after = await scrapeAll(agents);
    const produceSeconds = (performance.now() - produceStarted) / 1000;
    const producedMB = round1(
      (total(after, "warp_produce_bytes_total") - total(before, "warp_produce_bytes_total")) / 1e6,
    );
    log(`  ${sent.requests} requests, ${sent.records} records, ${producedMB} MB`);
    const figures: AgentScaleFigures[] = agents.map((_, i) => {
      const w = windows[i]!;
      const withSnapshot = w.filter((x) => x.snapshot);
      const worst = w.reduce<(typeof w)[number] | undefined>(
        (a, x) => (a === undefined || x.p99 > a.p99 ? x : a),
        undefined,
      );
      const snapshotCount =
        sumSamples(after[i]!, "warp_metadata_snapshot_encode_seconds_count") -
        sumSamples(before[i]!, "warp_metadata_snapshot_encode_seconds_count");
      return {
        heapBeforeMiB: round1(sumSamples(baseline[i]!, "nodejs_heap_size_used_bytes") / MiB),
        heapAfterMiB: round1(sumSamples(after[i]!, "nodejs_heap_size_used_bytes") / MiB),
        heapPeakMiB: round1(Math.max(0, ...w.map((x) => x.heap)) / MiB),
        rssPeakMiB: round1(Math.max(0, ...w.map((x) => x.rss)) / MiB),
        snapshots: snapshotCount,
        loopP99WorstMs: round1(Math.max(0, ...w.map((x) => x.p99))),
        loopP99WorstWithSnapshotMs:
          withSnapshot.length > 0 ? round1(Math.max(...withSnapshot.map((x) => x.p99))) : null,
        loopSeconds: w.length,
        loopSecondsOverTarget: w.filter((x) => x.p99 > LOOP_TARGET_MS).length,
        loopMaxMs: round1(Math.max(0, ...w.map((x) => x.max))),
        duringSnapshots: snapshotsLogged(agents[i]!, produceStartedAt, Date.now()),
        snapshotHoldMs: slowestBucketMs(before[i]!, after[i]!, "warp_metadata_snapshot_encode_seconds"),
        snapshotBytes: sumSamples(after[i]!, "warp_metadata_snapshot_bytes"),
        cpuPercent: Math.round(
          ((sumSamples(after[i]!, "process_cpu_seconds_total") - sumSamples(before[i]!, "process_cpu_seconds_total")) /
            produceSeconds) *
            100,
        ),
        gcMajorSeconds: round1(gcSeconds(before[i]!, after[i]!, "major")),
        gcMinorSeconds: round1(gcSeconds(before[i]!, after[i]!, "minor")),
        gcMajorLongestMs: slowestBucketMs(before[i]!, after[i]!, "nodejs_gc_duration_seconds", { kind: "major" }),
        worstSecond: {
          cpuMs: Math.round(worst?.cpuMs ?? 0),
          gcMs: Math.round(worst?.gcMs ?? 0),
          machineBusyPercent: worst?.machineBusyPercent ?? 0,
        },
      };
    });
    for (const [i, f] of figures.entries())
      log(
        `  agent ${i + 1}: heap ${f.heapBeforeMiB} → ${f.heapAfterMiB} MiB (peak ${f.heapPeakMiB}, RSS peak ${f.rssPeakMiB}), ${f.snapshots} snapshots (${mib(f.snapshotBytes)} MiB, hold ${f.snapshotHoldMs} ms), event-loop p99 worst second ${f.loopP99WorstMs} ms (with a snapshot: ${f.loopP99WorstWithSnapshotMs ?? "none"}; while writing each snapshot: ${duringText(f.duringSnapshots)}), ${f.loopSecondsOverTarget} of ${f.loopSeconds} seconds over ${LOOP_TARGET_MS} ms, max ${f.loopMaxMs} ms, CPU ${f.cpuPercent} %, GC major ${f.gcMajorSeconds} s (longest ${f.gcMajorLongestMs} ms), minor ${f.gcMinorSeconds} s; in the worst second CPU ${f.worstSecond.cpuMs} ms, GC ${f.worstSecond.gcMs} ms, machine ${f.worstSecond.machineBusyPercent} % busy`,
      );
    // For matching stalls (bench/stall-probe.mjs) with what the agents logged: WARP_BENCH_AGENT_LOGS=DIR.
    const logDir = process.env.WARP_BENCH_AGENT_LOGS;
    if (logDir) {
      mkdirSync(logDir, { recursive: true });
      for (const a of agents) writeFileSync(path.join(logDir, `agent-${a.child.pid}.log`), a.output());
    }
    const allP99 = windows.flat().map((x) => x.p99);
    log(
      `  an idle Node process beside them: event-loop p99 worst second ${idleProcessLoop.p99WorstMs} ms, median second ${idleProcessLoop.p99MedianMs} ms, ${idleProcessLoop.secondsOver} of ${idleProcessLoop.seconds} seconds over ${LOOP_TARGET_MS} ms, max ${idleProcessLoop.maxMs} ms`,
    );

    await producer.disconnect();
    producer = null;
    log("  cold start: every agent stopped, one started again on the same tables");
    await Promise.all(agents.map((a) => a.kill("SIGTERM")));
    agents = [];
    const spawned = performance.now();
    const again = await spawnAgentProcess(await dynamoAgentArgs(aws, name, 50, ZONES[0], flags), aws.env);
    agents = [again];
    const seconds = round1((performance.now() - spawned) / 1000);
    const lines = loggedLines(again.output());
    const loaded = lines.find((l) => l.message === "loaded metadata snapshot");
    const replayed = lines.find((l) => l.message === "metadata log replayed");
    const replaySeconds =
      loaded?.timestamp && replayed?.timestamp
        ? round1((Date.parse(replayed.timestamp) - Date.parse(loaded.timestamp)) / 1000)
        : null;
    const heapMiB = round1(sumSamples(await scrape(again), "nodejs_heap_size_used_bytes") / MiB);
    log(
      `  cold start ${seconds} s (snapshot ${loaded?.bytes !== undefined ? `${mib(loaded.bytes)} MiB` : "none"}, load and replay ${replaySeconds ?? "?"} s), heap ${heapMiB} MiB`,
    );
    return {
      shape,
      partitions: shape.topics * shape.partitionsPerTopic,
      logUnits,
      createSeconds,
      produced: {
        requests: sent.requests,
        records: sent.records,
        MB: producedMB,
        partitionsPerRequest: PARTITIONS_PER_REQUEST,
        callsInFlight: CALLS_IN_FLIGHT,
        callsPerSecond: shape.callsPerSecond,
      },
      oldestUncompactedSeconds: round1(
        Math.max(...after.map((s) => sumSamples(s, "warp_oldest_uncompacted_file_age_seconds"))),
      ),
      loopP99AllWindowsMs: round1(percentile(allP99, 99)),
      idleProcessLoop,
      agents: figures,
      coldStart: { seconds, replaySeconds, snapshotBytes: loaded?.bytes ?? null, heapMiB },
    } satisfies ClusterScaleResult;
  } finally {
    await producer?.disconnect().catch(() => undefined);
    await Promise.all(agents.map((a) => a.kill("SIGTERM")));
  }
}
