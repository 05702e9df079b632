/**
 * What incremental fetch sessions (KIP-227) save, with a 1,000-partition topic whose consumers follow
 * its tail: with a session (as the Java consumer fetches: a full fetch, then incremental fetches naming
 * only the partitions whose position moved) against without (as librdkafka and kafkajs fetch: every
 * request names every partition and every response answers every one). Two parts:
 *
 * 1. Fetch cost, in process: rounds of "produce one ~1.1 KiB batch to each of N random partitions, then
 *    fetch with each consumer" (N = 10, 100, 1000) against an agent in this process. Only the Fetch is
 *    timed: its request decoded, the handler run, its response encoded, all on this thread (process CPU
 *    time around it).
 *    Prints request and response bytes per fetch, and per fetched GiB, and agent CPU per fetched GiB.
 * 2. End to end: an agent process (mem:// store) with producers writing WARP_BENCH_RATE_KIB/s to random
 *    partitions and WARP_BENCH_CONSUMERS consumers long-polling at the tail, for WARP_BENCH_SECONDS after
 *    5 s of warm-up, once per mode plus once with producers only. Prints wire bytes per fetched GiB and
 *    the agent process's CPU (from /proc) per fetched GiB, with the producers' share taken out; that
 *    share dominates, so the CPU figures of this part are noisy on a busy machine.
 *
 *   npx tsx bench/fetch-sessions.ts
 *
 *   WARP_BENCH_PARTS            which parts to run (default 1,2)
 *   WARP_BENCH_PARTITIONS       partitions of the topic (default 1000)
 *   WARP_BENCH_ROUNDS           rounds per case of part 1 (default 300)
 *   WARP_BENCH_SECONDS          seconds measured per run of part 2 (default 30)
 *   WARP_BENCH_RATE_KIB         produced KiB/s in part 2 (default 4096)
 *   WARP_BENCH_CONSUMERS        consumers in part 2 (default 4)
 */
import "../agent/src/handlers/index.js";
import {
  ApiKey,
  decodeRequest,
  decodeResponse,
  encodeRequest,
  encodeResponse,
  ErrorCode,
  errorCodeName,
} from "../agent/src/protocol/index.js";
import type { ResponseOf } from "../agent/src/protocol/index.js";
import { lookupHandler } from "../agent/src/server/handler.js";
import { buildBatch } from "../agent/test/records/batch-builder.js";
import { spawnAgentProcess, startTestAgent } from "../agent/test/support/agents.js";
import { RawKafkaClient } from "../agent/test/support/raw-kafka-client.js";
import { sampleProcess } from "./lib/proc-stats.js";
import { TailConsumer } from "./lib/tail-consumer.js";

const env = (name: string, dflt: string): string => process.env[name] ?? dflt;
const PARTS = new Set(env("WARP_BENCH_PARTS", "1,2").split(","));
const PARTITIONS = Number(env("WARP_BENCH_PARTITIONS", "1000"));
const ROUNDS = Number(env("WARP_BENCH_ROUNDS", "300"));
const SECONDS = Number(env("WARP_BENCH_SECONDS", "30"));
const RATE_BYTES = Number(env("WARP_BENCH_RATE_KIB", "4096")) * 1024;
const CONSUMERS = Number(env("WARP_BENCH_CONSUMERS", "4"));
const WARMUP_SECONDS = 5;
const PRODUCERS = 4;
const TOPIC = "sessions-bench";
/** 10 records of 100 bytes: about 1.1 KiB per batch. */
const BATCH = buildBatch(Array.from({ length: 10 }, (_, i) => ({ key: `k${i}`, value: "v".repeat(100) })));
const GiB = 1024 ** 3;
const MiB = 1024 ** 2;

const MODES = [
  { name: "sessionless (librdkafka, kafkajs)", session: false },
  { name: "with a session (Java)", session: true },
] as const;

function fmt(n: number, digits = 1): string {
  return n.toLocaleString("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

async function createTopic(port: number): Promise<void> {
  const admin = await RawKafkaClient.connect(port);
  try {
    const created = await admin.request(ApiKey.CreateTopics, 4, {
      topics: [{ name: TOPIC, numPartitions: PARTITIONS, replicationFactor: 1, assignments: [], configs: [] }],
      timeoutMs: 30_000,
      validateOnly: false,
    });
    if (created.topics[0]!.errorCode !== ErrorCode.NONE) throw new Error("creating the topic failed");
  } finally {
    admin.close();
  }
}

/** One produce request: BATCH to each of `count` random partitions. Returns the bytes produced. */
async function produceRandom(client: RawKafkaClient, count: number, acks: number): Promise<number> {
  const picked = new Set<number>();
  while (picked.size < count) picked.add(Math.floor(Math.random() * PARTITIONS));
  const r = await client.request(ApiKey.Produce, 7, {
    transactionalId: null,
    acks,
    timeoutMs: 30_000,
    topicData: [{ name: TOPIC, partitionData: [...picked].map((index) => ({ index, records: BATCH })) }],
  });
  for (const p of r.responses[0]!.partitionResponses)
    if (p.errorCode !== ErrorCode.NONE) throw new Error(`produce failed: ${errorCodeName(p.errorCode)}`);
  return count * BATCH.length;
}

/** Part 1: the agent's cost of one Fetch, measured around decode, handler and encode. */
async function fetchCost(): Promise<void> {
  const agent = await startTestAgent({ autoCreateTopics: "false", logLevel: "warn" });
  const fetch = lookupHandler(ApiKey.Fetch)!;
  const ctx = {
    agent: agent.running.context,
    connection: {
      id: 1,
      remoteAddress: "bench",
      host: "127.0.0.1",
      clientZone: null,
      principal: null,
      tlsPrincipal: null,
    },
    closed: new AbortController().signal,
  };
  const rows = [
    "| partitions with new data per fetch | consumer | request bytes / fetch | response bytes / fetch | record bytes / fetch | agent CPU µs / fetch | request MiB / fetched GiB | response overhead MiB / fetched GiB | agent CPU s / fetched GiB |",
    "|---|---|---|---|---|---|---|---|---|",
  ];
  try {
    await createTopic(agent.port);
    const producer = await RawKafkaClient.connect(agent.port);
    for (const withData of [10, 100, 1000].filter((n) => n <= PARTITIONS)) {
      // Both consumers fetch after every produce round, in alternating order, so that both see the same
      // data and the same machine. They start at the end of every partition: only the rounds' data is read.
      const state = agent.running.context.metadata.state;
      const ends = Array.from({ length: PARTITIONS }, (_, p) => BigInt(state.partition(TOPIC, p)!.nextOffset));
      const cases = MODES.map((mode) => ({
        mode,
        consumer: new TailConsumer(TOPIC, ends, mode.session, 0),
        requestBytes: 0,
        responseBytes: 0,
        recordBytes: 0,
        cpuMicros: 0,
      }));
      // The first rounds (the session's full fetch among them) warm the JIT: not counted.
      const warmup = 20;
      for (let round = 0; round < warmup + ROUNDS; round++) {
        await produceRandom(producer, withData, 1);
        for (const c of round % 2 === 0 ? cases : [...cases].reverse()) {
          const frame = encodeRequest(
            { apiKey: ApiKey.Fetch, apiVersion: 12, correlationId: round, clientId: "bench" },
            c.consumer.request(),
          );
          const before = process.cpuUsage();
          const decoded = decodeRequest(frame.subarray(4));
          const body = await fetch.handle(decoded.body, { ...ctx, header: decoded.header });
          const response = encodeResponse(ApiKey.Fetch, 12, round, body as ResponseOf<typeof ApiKey.Fetch>);
          const used = process.cpuUsage(before);
          const bytes = Buffer.concat(response);
          const got = c.consumer.handle(decodeResponse(ApiKey.Fetch, 12, bytes.subarray(4)).body);
          if (round < warmup) continue;
          c.cpuMicros += used.user + used.system;
          c.requestBytes += frame.length;
          c.responseBytes += bytes.length;
          c.recordBytes += got;
        }
      }
      for (const c of cases) {
        const gib = c.recordBytes / GiB;
        rows.push(
          `| ${withData} | ${c.mode.name} | ${fmt(c.requestBytes / ROUNDS, 0)} | ${fmt(c.responseBytes / ROUNDS, 0)} | ${fmt(c.recordBytes / ROUNDS, 0)} | ${fmt(c.cpuMicros / ROUNDS, 0)} | ${fmt(c.requestBytes / MiB / gib)} | ${fmt((c.responseBytes - c.recordBytes) / MiB / gib)} | ${fmt(c.cpuMicros / 1e6 / gib)} |`,
        );
      }
    }
    producer.close();
  } finally {
    await agent.stop();
  }
  console.log(`\nPart 1: the agent's cost of a Fetch (${PARTITIONS} partitions, ${ROUNDS} fetches per row)\n`);
  console.log(rows.join("\n"));
}

interface Totals {
  fetches: number;
  fullFetches: number;
  requestBytes: number;
  responseBytes: number;
  recordBytes: number;
  producedBytes: number;
}

const zero = (): Totals => ({
  fetches: 0,
  fullFetches: 0,
  requestBytes: 0,
  responseBytes: 0,
  recordBytes: 0,
  producedBytes: 0,
});

/** Produces its share of RATE_BYTES while running() holds. */
async function producerLoop(port: number, totals: { current: Totals }, running: () => boolean): Promise<void> {
  const client = await RawKafkaClient.connect(port);
  const perRequest = Math.max(1, Math.round(PARTITIONS / 10));
  const intervalMs = ((perRequest * BATCH.length) / (RATE_BYTES / PRODUCERS)) * 1000;
  let next = Date.now();
  try {
    while (running()) {
      // Not `+= await`: that reads the old sum before waiting, and the producers would overwrite each other.
      const produced = await produceRandom(client, perRequest, 1);
      totals.current.producedBytes += produced;
      next += intervalMs;
      const wait = next - Date.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      else next = Date.now(); // behind: no burst to catch up
    }
  } finally {
    client.close();
  }
}

/** Long-polls at the tail (maxWaitMs 500, Java's default) while running() holds. */
async function consumerLoop(
  port: number,
  session: boolean,
  totals: { current: Totals },
  running: () => boolean,
): Promise<void> {
  const client = await RawKafkaClient.connect(port);
  const consumer = new TailConsumer(TOPIC, new Array<bigint>(PARTITIONS).fill(0n), session, 500);
  try {
    for (let correlationId = 1; running(); correlationId++) {
      const frame = encodeRequest(
        { apiKey: ApiKey.Fetch, apiVersion: 12, correlationId, clientId: "bench" },
        consumer.request(),
      );
      client.socket.write(frame);
      const reply = await client.readFrame(30_000);
      const got = consumer.handle(decodeResponse(ApiKey.Fetch, 12, reply).body);
      const t = totals.current;
      t.fetches++;
      if (consumer.lastWasFull) t.fullFetches++;
      t.requestBytes += frame.length;
      t.responseBytes += reply.length + 4;
      t.recordBytes += got;
    }
  } finally {
    client.close();
  }
}

interface RunResult {
  readonly totals: Totals;
  readonly cpuSeconds: number;
}

async function endToEndRun(consumers: number, session: boolean): Promise<RunResult> {
  const agent = await spawnAgentProcess(["-bucketURL", "mem://fetch-sessions-bench", "-batchTimeout", "50ms"]);
  try {
    await createTopic(agent.port);
    const totals = { current: zero() };
    let active = true;
    const running = () => active;
    const workers = [
      ...Array.from({ length: PRODUCERS }, () => producerLoop(agent.port, totals, running)),
      ...Array.from({ length: consumers }, () => consumerLoop(agent.port, session, totals, running)),
    ];
    await new Promise((r) => setTimeout(r, WARMUP_SECONDS * 1000));
    totals.current = zero();
    const cpuBefore = sampleProcess(agent.child.pid!).cpuSeconds;
    await new Promise((r) => setTimeout(r, SECONDS * 1000));
    const cpuSeconds = sampleProcess(agent.child.pid!).cpuSeconds - cpuBefore;
    const measured = totals.current;
    active = false;
    await Promise.all(workers);
    return { totals: measured, cpuSeconds };
  } finally {
    await agent.kill("SIGTERM");
  }
}

/** Part 2: an agent process under producers and long-polling consumers. */
async function endToEnd(): Promise<void> {
  const produceOnly = await endToEndRun(0, false);
  console.log(
    `producers alone: ${fmt(produceOnly.totals.producedBytes / MiB)} MiB produced, agent CPU ${fmt(produceOnly.cpuSeconds, 2)} s`,
  );
  const producerCpuPerByte = produceOnly.cpuSeconds / produceOnly.totals.producedBytes;
  const rows = [
    "| consumer | MiB produced | MiB fetched | fetches | full fetches | request bytes / fetch | response bytes / fetch | request MiB / fetched GiB | response overhead MiB / fetched GiB | agent CPU s / fetched GiB | without the producers' share |",
    "|---|---|---|---|---|---|---|---|---|---|---|",
  ];
  for (const mode of MODES) {
    const { totals: t, cpuSeconds } = await endToEndRun(CONSUMERS, mode.session);
    const gib = t.recordBytes / GiB;
    const fetchCpu = cpuSeconds - producerCpuPerByte * t.producedBytes;
    rows.push(
      `| ${mode.name} | ${fmt(t.producedBytes / MiB, 0)} | ${fmt(t.recordBytes / MiB, 0)} | ${t.fetches} | ${t.fullFetches} | ${fmt(t.requestBytes / t.fetches, 0)} | ${fmt(t.responseBytes / t.fetches, 0)} | ${fmt(t.requestBytes / MiB / gib)} | ${fmt((t.responseBytes - t.recordBytes) / MiB / gib)} | ${fmt(cpuSeconds / gib)} | ${fmt(fetchCpu / gib)} |`,
    );
  }
  console.log(
    `\nPart 2: end to end, ${fmt(RATE_BYTES / MiB)} MiB/s produced by ${PRODUCERS} producers, ${CONSUMERS} consumers at the tail, ${SECONDS} s per run (producers alone: agent CPU ${fmt(produceOnly.cpuSeconds, 2)} s for ${fmt(produceOnly.totals.producedBytes / MiB)} MiB)\n`,
  );
  console.log(rows.join("\n"));
}

async function main(): Promise<void> {
  if (PARTS.has("1")) await fetchCost();
  if (PARTS.has("2")) await endToEnd();
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
