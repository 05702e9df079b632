/**
 * Sub-benchmark: consume throughput as `npm run bench` measures it (`npx tsx bench/consume.ts`), without
 * the rest of each scenario: on a fresh target, 6 partitions, max-rate produce with the bench's producer
 * settings, then `kafka-consumer-perf-test` with a new group (most of the data is compacted by then on
 * DynamoDB targets: read back from S3 objects and DynamoDB chunks), then a second consumer group (what
 * the agents' caches hold). Kafka first, in the same run.
 *
 *   WARP_BENCH_CONSUME_RECORDS   records per target (default 50000)
 *   WARP_BENCH_CONSUME_TARGETS   subset of kafka,file,dynamodb1,dynamodb3 (default all)
 *   WARP_BENCH_CONSUME_PROFILE   a folder: the DynamoDB agents write CPU profiles there (node --cpu-prof);
 *                                the time from their start to the first consume is printed (leave it out)
 *   WARP_BENCH_CONSUME_AFTER_COMPACTION  1: agents' first consume starts once compaction has caught up (it
 *                                reads compacted objects only, with no compaction beside it)
 *   WARP_BENCH_S3                the S3 server: versitygw (default) or moto (bench/lib/targets.ts)
 *
 * For agent targets the store calls and fetches of the first consume are printed (bench/lib/store-calls.ts),
 * and for every target how busy the machine's CPUs and the target's processes were during it, every
 * half second (the consumer's JVM start and group join included).
 */
import { consumePerf, producePerf } from "./lib/perf-tools.js";
import { sampleCpuTimeline } from "./lib/proc-stats.js";
import { compactionCaughtUp } from "./lib/scenario.js";
import { breakdownBetween, describeCall } from "./lib/store-calls.js";
import {
  createTopic,
  startAwsLocal,
  startDynamoTarget,
  startFileTarget,
  startKafkaTarget,
  type AwsLocal,
  type Target,
} from "./lib/targets.js";

const records = Number(process.env.WARP_BENCH_CONSUME_RECORDS ?? "50000");
const afterCompaction = process.env.WARP_BENCH_CONSUME_AFTER_COMPACTION === "1";
const only = new Set((process.env.WARP_BENCH_CONSUME_TARGETS ?? "kafka,file,dynamodb1,dynamodb3").split(","));

async function measure(target: Target): Promise<void> {
  const started = Date.now();
  try {
    await createTopic(target.bootstrap, "tput", 6);
    const p = await producePerf(target.bootstrap, "tput", records, 1024, -1);
    if (afterCompaction && target.store !== "kafka") await compactionCaughtUp(target, (l) => console.log(l));
    const consumeAfterMs = Date.now() - started;
    const before = target.store === "kafka" ? null : await target.metrics();
    const cpu = sampleCpuTimeline(target.pids());
    const first = await consumePerf(target.bootstrap, "tput", p.records);
    const { machineBusy, processCpus } = cpu.stop();
    const calls = before === null ? [] : breakdownBetween(before, await target.metrics()).calls;
    const second = await consumePerf(target.bootstrap, "tput", p.records);
    console.log(
      `${target.label}: produce ${p.mbPerSec} MB/s; consume ${first.mbPerSec} MB/s, again ${second.mbPerSec} MB/s (first consume ${consumeAfterMs} ms after start)`,
    );
    for (const c of calls) console.log(`  first consume: ${describeCall(c)}`);
    const pct = (xs: number[]): string => xs.map((x) => Math.round(x * 100)).join(" ");
    console.log(`  first consume, every 0.5 s: machine CPU busy % ${pct(machineBusy)}`);
    console.log(`  first consume, every 0.5 s: ${target.label}'s processes, % of one CPU ${pct(processCpus)}`);
  } finally {
    await target.stop();
  }
}

async function main(): Promise<void> {
  if (only.has("kafka")) await measure(await startKafkaTarget());
  if (only.has("file")) await measure(await startFileTarget(50, ["-sealMode", "window"]));
  let aws: AwsLocal | undefined;
  try {
    for (const n of [1, 3]) {
      if (!only.has(`dynamodb${n}`)) continue;
      aws ??= await startAwsLocal();
      const dir = process.env.WARP_BENCH_CONSUME_PROFILE;
      const env = dir ? { ...aws.env, NODE_OPTIONS: `--cpu-prof --cpu-prof-dir=${dir}` } : aws.env;
      await measure(await startDynamoTarget({ ...aws, env }, 50, n));
    }
  } finally {
    await aws?.stop();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
