/**
 * Sub-benchmark: what writing metadata snapshots one after another costs the collector, in one process,
 * through MetadataLog on a store that keeps no snapshot bytes (as the S3 and DynamoDB stores once a put has
 * resolved): `npx tsx bench/snapshot-buffers.ts`. The state is 100,000 partitions (1,000 topics × 100)
 * with 5 files' batches each; then 40 snapshots, one small file committed before each (the state
 * barely changes, as between snapshots of a cluster at a steady retention). Reports V8's full collections
 * meanwhile — those started because enough external memory (Buffers) was allocated, flagged
 * CollectAllExternalMemory, and all of them — and the event loop's longest delay.
 * Raw output: bench/results/snapshot-buffers/ (the agent's info lines too: WARP_LOG_LEVEL=warn hides them).
 */
import { constants, monitorEventLoopDelay, PerformanceObserver, type PerformanceEntry } from "node:perf_hooks";
import { crc32 } from "node:zlib";
import { componentLogger } from "../common/logger.js";
import type { BatchMeta, Command } from "../agent/src/metadata/commands.js";
import { MetadataLog } from "../agent/src/metadata/log.js";
import { MemMetadataStore } from "../agent/src/store/mem.js";
import type { Snapshot } from "../agent/src/store/types.js";
import { createScaleTopic, SCALE_TIME0, scaleTopicName } from "./lib/scale-topics.js";

const TOPICS = 1000;
const PER_TOPIC = 100;
const PARTITIONS = TOPICS * PER_TOPIC;
const FILES_PER_PARTITION = 5;
const BATCHES_PER_FILE = 2000;
const SNAPSHOTS = 40;
const T0 = SCALE_TIME0;
/** GCCallbackFlags: a collection started for external memory (V8's kGCCallbackFlagCollectAllExternalMemory). */
const COLLECT_ALL_EXTERNAL_MEMORY = 32;

const topicName = scaleTopicName;

/** Reads every snapshot's bytes once, as an upload would, and keeps only the last one's index. */
class UploadingStore extends MemMetadataStore {
  checksum = 0;
  private latest: Snapshot | null = null;

  override async putSnapshot(snapshot: Snapshot): Promise<void> {
    this.checksum = crc32(snapshot.data, this.checksum);
    this.latest = { index: snapshot.index, data: Buffer.alloc(0) };
  }

  override async latestSnapshot(): Promise<Snapshot | null> {
    return this.latest;
  }
}

function commitFile(file: number, from: number, count: number): Command {
  const batches: BatchMeta[] = [];
  for (let i = 0; i < count; i++) {
    const k = (from + i) % PARTITIONS;
    batches.push({
      topic: topicName(Math.floor(k / PER_TOPIC)),
      partition: k % PER_TOPIC,
      pos: i * 170,
      len: 170,
      count: 1,
      maxTimestamp: T0 + file * 50,
      producerId: -1,
      producerEpoch: -1,
      baseSequence: -1,
    });
  }
  return { type: "commitFile", key: `ingest/file-${file}-00112233`, size: count * 170, time: T0 + file * 50, batches };
}

const log = new MetadataLog(new UploadingStore(), {
  tailIntervalMs: 0,
  snapshotEveryEntries: 0,
  keepEntriesAfterSnapshot: 10,
  writesSnapshots: () => true,
  logger: componentLogger("bench"),
});
await log.open();
for (let t = 0; t < TOPICS; t += 100) {
  const creates: Command[] = [];
  for (let i = t; i < t + 100; i++) creates.push(createScaleTopic(i, PER_TOPIC));
  await log.propose(creates);
}
let file = 0;
for (let n = 0; n < (PARTITIONS * FILES_PER_PARTITION) / BATCHES_PER_FILE; n++)
  await log.propose([commitFile(file++, n * BATCHES_PER_FILE, BATCHES_PER_FILE)]);
// One snapshot first: the estimate before any snapshot sizes its buffer, not the last snapshot.
await log.snapshotNow();

const gcs: PerformanceEntry[] = [];
const observer = new PerformanceObserver((list) => gcs.push(...list.getEntries()));
observer.observe({ entryTypes: ["gc"] });
const loop = monitorEventLoopDelay({ resolution: 1 });
loop.enable();
const started = performance.now();
for (let i = 0; i < SNAPSHOTS; i++) {
  await log.propose([commitFile(file++, i * 10, 10)]);
  await log.snapshotNow();
}
const seconds = (performance.now() - started) / 1000;
loop.disable();
await new Promise((r) => setTimeout(r, 100));
observer.disconnect();
await log.close();

/** A gc entry's detail (Node's NodeGCPerformanceDetail). */
const gcOf = (e: PerformanceEntry) => (e as unknown as { detail: { kind: number; flags: number } }).detail;
const majors = gcs.filter((e) => gcOf(e).kind === constants.NODE_PERFORMANCE_GC_MAJOR);
const external = majors.filter((e) => (gcOf(e).flags & COLLECT_ALL_EXTERNAL_MEMORY) !== 0);
const ms = (es: PerformanceEntry[]) => es.reduce((n, e) => n + e.duration, 0).toFixed(1);
const longest = (es: PerformanceEntry[]) => Math.max(0, ...es.map((e) => e.duration)).toFixed(1);
console.log(
  `${SNAPSHOTS} snapshots of ${PARTITIONS.toLocaleString("en-US")} partitions in ${seconds.toFixed(1)} s: ` +
    `full collections for external memory ${external.length} (${ms(external)} ms, longest ${longest(external)} ms), ` +
    `all full collections ${majors.length} (${ms(majors)} ms, longest ${longest(majors)} ms); ` +
    `event loop max ${(loop.max / 1e6).toFixed(1)} ms; external memory after ${(process.memoryUsage().external / 2 ** 20).toFixed(1)} MiB`,
);
