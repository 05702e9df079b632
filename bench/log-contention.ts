/**
 * Metadata-log contention on DynamoDB Local: agents (MetadataLog instances in this process, each with its
 * own DynamoDB client) proposing commitFile commands at once, in two modes:
 *
 * - max rate: 32 proposals in flight per agent, WARP_BENCH_PROPOSALS each (default 2000): how many
 *   entries per second one compare-and-set chain takes, and what group commit folds into them;
 * - paced: one proposal per agent every WARP_BENCH_LOG_PACE_MS (default 50, an ingestion file per batch
 *   window) for WARP_BENCH_LOG_SECONDS (default 10): conflicts per commit at the rate agents commit files.
 *
 * and each in two ways (WARP_BENCH_LOG_VIA, default both):
 *
 * - direct: every agent appends its own entries (the log without a sequencer);
 * - sequencer: agent 0 is the sequencer (its route on a real HTTP server, docs/metadata-log.md section
 *   14.6) and the others send it their commits over HTTP (sequencer/forwarder.ts), as agents do.
 *
 * Prints proposals/s, entries/s, proposals per entry, conflicts per entry and propose latency.
 *
 *   npx tsx bench/log-contention.ts        (WARP_BENCH_LOG_AGENTS: agent counts, default 1,3,6,12)
 */
import { setTimeout as sleep } from "node:timers/promises";
import { serveHttp, type RunningHttpServer } from "../common/http-server.js";
import { componentLogger } from "../common/logger.js";
import type { Command } from "../agent/src/metadata/commands.js";
import { MetadataLog } from "../agent/src/metadata/log.js";
import type { CommandResult } from "../agent/src/metadata/state.js";
import { CommitForwarder } from "../agent/src/sequencer/forwarder.js";
import { SequencerService } from "../agent/src/sequencer/service.js";
import { COMMIT_PATH } from "../agent/src/sequencer/wire.js";
import { openDynamoStores } from "../agent/src/store/dynamodb/index.js";
import type { Stores } from "../agent/src/store/types.js";
import { LOCAL_AWS, startDynamoDbLocal } from "../e2e/support/dynamodb-local.js";

const PROPOSALS = Number(process.env.WARP_BENCH_PROPOSALS ?? 2000);
const CONCURRENCY = 32;
const AGENT_COUNTS = (process.env.WARP_BENCH_LOG_AGENTS ?? "1,3,6,12").split(",").map(Number);
const PACE_MS = Number(process.env.WARP_BENCH_LOG_PACE_MS ?? 50);
const PACED_SECONDS = Number(process.env.WARP_BENCH_LOG_SECONDS ?? 10);
const VIA = (process.env.WARP_BENCH_LOG_VIA ?? "direct,sequencer").split(",") as Via[];

type Mode = "max rate" | "paced";
type Via = "direct" | "sequencer";

/** What an agent commits through: its log, or a forwarder to the sequencer. */
interface Committer {
  propose(commands: readonly Command[]): Promise<CommandResult[]>;
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

function commitFile(a: number, i: number): Command {
  return {
    type: "commitFile",
    key: `a${a}-${i}`,
    size: 1000,
    time: Date.now(),
    batches: [
      {
        topic: "t",
        partition: i % 6,
        pos: 0,
        len: 1000,
        count: 10,
        maxTimestamp: 0,
        producerId: -1,
        producerEpoch: -1,
        baseSequence: -1,
      },
    ],
  };
}

async function run(endpoint: string, agents: number, table: string, mode: Mode, via: Via): Promise<void> {
  const stores: Stores[] = [];
  const logs: MetadataLog[] = [];
  let conflicts = 0;
  let appends = 0;
  for (let i = 0; i < agents; i++) {
    const s = await openDynamoStores(
      { kind: "dynamodb", region: "us-east-1", filesTable: `${table}-files`, chunksTable: `${table}-chunks`, endpoint },
      { createTables: true },
    );
    stores.push(s);
    const log = new MetadataLog(s.metadata, {
      tailIntervalMs: 50,
      snapshotEveryEntries: 0,
      keepEntriesAfterSnapshot: 0,
      writesSnapshots: () => false,
      logger: componentLogger("bench"),
      onAppend: (result) => (result === "ok" ? appends++ : conflicts++),
    });
    await log.open();
    logs.push(log);
  }
  await logs[0]!.propose([{ type: "createTopic", name: "t", topicId: "0".repeat(32), partitions: 6, configs: {} }]);
  for (const l of logs) await l.catchUp();
  let server: RunningHttpServer | null = null;
  let committers: Committer[] = logs;
  if (via === "sequencer" && agents > 1) {
    const logger = componentLogger("bench");
    const service = new SequencerService({ log: logs[0]!, isHeld: () => true, token: "bench", logger });
    const http = await serveHttp({
      port: 0,
      host: "127.0.0.1",
      routes: new Map(),
      postRoutes: new Map([[COMMIT_PATH, service.route]]),
      logger,
    });
    server = http;
    const address = { owner: "agent-0", host: "127.0.0.1", port: http.port, token: "bench" };
    committers = logs.map((log, a) =>
      a === 0 ? log : new CommitForwarder(log, { sequencer: () => address, logger }, `agent-${a}`),
    );
  }
  appends = 0;
  conflicts = 0;
  const latencies: number[] = [];
  const propose = async (log: Committer, a: number, i: number): Promise<void> => {
    const t0 = process.hrtime.bigint();
    await log.propose([commitFile(a, i)]);
    latencies.push(Number(process.hrtime.bigint() - t0) / 1e6);
  };
  const started = Date.now();
  let total = 0;
  if (mode === "max rate") {
    total = PROPOSALS * agents;
    await Promise.all(
      committers.map(async (log, a) => {
        let next = 0;
        await Promise.all(
          Array.from({ length: CONCURRENCY }, async () => {
            while (next < PROPOSALS) await propose(log, a, next++);
          }),
        );
      }),
    );
  } else {
    // Each agent commits a file every PACE_MS, whether or not its previous commit has landed (as the
    // batcher seals on its timer), the agents' timers out of phase.
    const until = started + PACED_SECONDS * 1000;
    await Promise.all(
      committers.map(async (log, a) => {
        await sleep((PACE_MS * a) / agents);
        const inFlight: Promise<void>[] = [];
        for (let i = 0; Date.now() < until; i++) {
          inFlight.push(propose(log, a, i));
          total++;
          await sleep(PACE_MS);
        }
        await Promise.all(inFlight);
      }),
    );
  }
  const seconds = (Date.now() - started) / 1000;
  latencies.sort((x, y) => x - y);
  console.log(
    `${mode}, ${agents} agent(s), ${via}: ${Math.round(total / seconds)} proposals/s, ${Math.round(appends / seconds)} entries/s, ` +
      `${(total / Math.max(1, appends)).toFixed(1)} proposals/entry, ${conflicts} conflicts (${(conflicts / Math.max(1, appends)).toFixed(2)} per entry), ` +
      `propose p50 ${percentile(latencies, 50).toFixed(1)} ms, p99 ${percentile(latencies, 99).toFixed(1)} ms`,
  );
  await server?.close();
  for (const l of logs) await l.close();
  for (const s of stores) await s.close();
}

async function main(): Promise<void> {
  process.env.AWS_ACCESS_KEY_ID ??= LOCAL_AWS.credentials.accessKeyId;
  process.env.AWS_SECRET_ACCESS_KEY ??= LOCAL_AWS.credentials.secretAccessKey;
  const ddb = await startDynamoDbLocal();
  try {
    for (const mode of ["max rate", "paced"] as const)
      for (const n of AGENT_COUNTS)
        for (const via of n > 1 ? VIA : VIA.slice(0, 1))
          await run(ddb.endpoint, n, `${mode === "paced" ? "p" : "m"}${n}${via[0]}`, mode, via);
  } finally {
    await ddb.stop();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
