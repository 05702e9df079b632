/**
 * Metadata-log contention on DynamoDB Local: 1 and 3 agents (MetadataLog instances, each with its own
 * DynamoDB client) proposing commitFile commands at once. Prints proposals/s, entries/s (group commit
 * folds many proposals into one entry), conflicts per entry and propose latency.
 *
 *   npx tsx bench/log-contention.ts        (WARP_BENCH_PROPOSALS per agent, default 2000)
 */
import { componentLogger } from "../common/logger.js";
import { MetadataLog } from "../agent/src/metadata/log.js";
import { openDynamoStores } from "../agent/src/store/dynamodb/index.js";
import type { Stores } from "../agent/src/store/types.js";
import { LOCAL_AWS, startDynamoDbLocal } from "../e2e/support/dynamodb-local.js";

const PROPOSALS = Number(process.env.WARP_BENCH_PROPOSALS ?? 2000);
const CONCURRENCY = 32;

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

async function run(endpoint: string, agents: number, table: string): Promise<void> {
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
  const latencies: number[] = [];
  const started = Date.now();
  await Promise.all(
    logs.map(async (log, a) => {
      let next = 0;
      await Promise.all(
        Array.from({ length: CONCURRENCY }, async () => {
          while (next < PROPOSALS) {
            const i = next++;
            const t0 = process.hrtime.bigint();
            await log.propose([
              {
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
              },
            ]);
            latencies.push(Number(process.hrtime.bigint() - t0) / 1e6);
          }
        }),
      );
    }),
  );
  const seconds = (Date.now() - started) / 1000;
  latencies.sort((x, y) => x - y);
  const total = PROPOSALS * agents;
  console.log(
    `${agents} agent(s): ${Math.round(total / seconds)} proposals/s, ${Math.round(appends / seconds)} entries/s, ` +
      `${(total / Math.max(1, appends)).toFixed(1)} proposals/entry, ${conflicts} conflicts (${(conflicts / Math.max(1, appends)).toFixed(2)} per entry), ` +
      `propose p50 ${percentile(latencies, 50).toFixed(1)} ms, p99 ${percentile(latencies, 99).toFixed(1)} ms`,
  );
  for (const l of logs) await l.close();
  for (const s of stores) await s.close();
}

async function main(): Promise<void> {
  process.env.AWS_ACCESS_KEY_ID ??= LOCAL_AWS.credentials.accessKeyId;
  process.env.AWS_SECRET_ACCESS_KEY ??= LOCAL_AWS.credentials.secretAccessKey;
  const ddb = await startDynamoDbLocal();
  try {
    await run(ddb.endpoint, 1, "one");
    await run(ddb.endpoint, 3, "three");
  } finally {
    await ddb.stop();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
