/**
 * Sub-benchmark: what folding one log entry costs every agent at 100,000 partitions (1,000 topics × 100),
 * in one process, no store: `npx tsx bench/fold.ts`. The entries are the ones the `scale` scenario's
 * agents fold: files of 2,000 partition batches (without idempotence, as the scenario's kafkajs producers
 * send, and from idempotent producers, as Kafka's Java client does by default: four producers per
 * partition, 400,000 producer states), and a compaction pass's `compact` entries of 11,000 and 2,000
 * runs. Each is decoded from its bytes and applied, as an agent folds what it reads; per entry: the
 * median, p99 and longest (ms), and the heap of the idempotent state.
 * Raw output: bench/results/fold/.
 */
import { performance } from "node:perf_hooks";
import v8 from "node:v8";
import vm from "node:vm";
import type { BatchMeta, Command } from "../agent/src/metadata/commands.js";
import { decodeEntry, encodeEntry } from "../agent/src/metadata/entry-codec.js";
import { ClusterState } from "../agent/src/metadata/state.js";
import { createScaleTopic, SCALE_TIME0, scaleTopicId, scaleTopicName } from "./lib/scale-topics.js";

const TOPICS = 1000;
const PER_TOPIC = 100;
const PARTITIONS = TOPICS * PER_TOPIC;
const BATCHES_PER_FILE = 2000;
const PRODUCERS_PER_PARTITION = 4;
/** Files folded per shape (200: one batch for every partition); idempotent files: three times as many. */
const ROUNDS = 200;
const T0 = SCALE_TIME0;

const gc: () => void = (() => {
  v8.setFlagsFromString("--expose-gc");
  return vm.runInNewContext("gc") as () => void;
})();

const topicName = scaleTopicName;
const topicId = scaleTopicId;

interface Folder {
  readonly state: ClusterState;
  /** Encodes the commands as one entry, then decodes and applies it; the ms the last two took. */
  fold(commands: Command[], time: number): number;
}

function folder(): Folder {
  const state = new ClusterState();
  let index = 0n;
  return {
    state,
    fold(commands, time) {
      index++;
      const data = encodeEntry({ proposer: "0011223344556677", seq: Number(index), time, commands });
      const started = performance.now();
      state.apply(index, decodeEntry(data, index, state.numbering));
      return performance.now() - started;
    },
  };
}

function withTopics(): Folder {
  const f = folder();
  for (let t = 0; t < TOPICS; t++) f.fold([createScaleTopic(t, PER_TOPIC)], T0);
  return f;
}

interface Figures {
  readonly medianMs: number;
  readonly p99Ms: number;
  readonly maxMs: number;
}

function figures(ms: number[]): Figures {
  const sorted = [...ms].sort((a, b) => a - b);
  const at = (q: number) => Math.round(sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]! * 100) / 100;
  return { medianMs: at(0.5), p99Ms: at(0.99), maxMs: at(1) };
}

/** Folds ROUNDS files of BATCHES_PER_FILE batches, partitions in turn; idempotent: producers in turn too. */
function files(f: Folder, idempotent: boolean, rounds = ROUNDS): number[] {
  const ms: number[] = [];
  const sequences = new Map<number, number>();
  for (let file = 0; file < rounds; file++) {
    const batches: BatchMeta[] = [];
    for (let i = 0; i < BATCHES_PER_FILE; i++) {
      const n = file * BATCHES_PER_FILE + i;
      const k = n % PARTITIONS;
      const producerId = idempotent ? 1000 + (Math.floor(n / PARTITIONS) % PRODUCERS_PER_PARTITION) : -1;
      const slot = k * PRODUCERS_PER_PARTITION + (producerId - 1000);
      const baseSequence = idempotent ? (sequences.get(slot) ?? 0) : -1;
      if (idempotent) sequences.set(slot, baseSequence + 1);
      batches.push({
        topic: topicName(Math.floor(k / PER_TOPIC)),
        partition: k % PER_TOPIC,
        pos: i * 170,
        len: 170,
        count: 1,
        maxTimestamp: T0 + file * 50,
        producerId,
        producerEpoch: idempotent ? 0 : -1,
        baseSequence,
      });
    }
    const time = T0 + file * 50;
    ms.push(f.fold([{ type: "commitFile", key: `ingest/file-${file}-00112233`, size: 340_000, time, batches }], time));
  }
  return ms;
}

/** The partition the next compact entry's first run is for (each run replaces one partition's segments). */
let k = 0;

/** Folds `entries` compact entries of `runs` runs, each replacing one partition's segments, partitions in turn. */
function compacts(f: Folder, runs: number, entries: number): number[] {
  const ms: number[] = [];
  for (let e = 0; e < entries; e++) {
    const listed = [];
    for (let r = 0; r < runs; r++, k = (k + 1) % PARTITIONS) {
      const t = Math.floor(k / PER_TOPIC);
      const segments = f.state.topics.get(topicName(t))!.partitions[k % PER_TOPIC]!.segments;
      const first = segments.findIndex((s) => s.location.store === "i");
      if (first < 0) continue;
      listed.push({
        topic: topicName(t),
        topicId: topicId(t),
        partition: k % PER_TOPIC,
        baseOffset: segments[first]!.baseOffset,
        lastOffset: segments[segments.length - 1]!.lastOffset,
        maxTimestamp: T0,
        pos: r * 1000,
        len: 1000,
      });
    }
    const time = T0 + ROUNDS * 50 + e;
    const key = `compacted/${e}-${runs}-0011223344`;
    ms.push(f.fold([{ type: "compact", key, size: runs * 1000, runs: listed, replacedFiles: [] }], time));
  }
  return ms;
}

const rows: Array<{ entry: string } & Figures> = [];
const plain = withTopics();
rows.push({ entry: `commitFile, ${BATCHES_PER_FILE} batches, no idempotence`, ...figures(files(plain, false)) });
rows.push({ entry: "compact, 11,000 runs", ...figures(compacts(plain, 11_000, 4)) });
rows.push({ entry: "compact, 2,000 runs", ...figures(compacts(plain, 2_000, 20)) });

gc();
const heapBefore = process.memoryUsage().heapUsed;
const idempotent = withTopics();
// Every partition gets a batch from each of its producers before the measured files (warm state).
const warm = (PARTITIONS * PRODUCERS_PER_PARTITION) / BATCHES_PER_FILE;
for (let i = 0; i < warm; i += ROUNDS) files(idempotent, true);
gc();
const producerStates = [...idempotent.state.topics.values()].reduce(
  (n, t) => n + t.partitions.reduce((m, p) => m + p.producers.size, 0),
  0,
);
const heapMiB = Math.round((process.memoryUsage().heapUsed - heapBefore) / 1048576);
rows.push({
  entry: `commitFile, ${BATCHES_PER_FILE} batches, idempotent (${producerStates.toLocaleString("en-US")} producer states)`,
  ...figures(files(idempotent, true, 3 * ROUNDS)),
});

console.log(`# Folding one entry at ${PARTITIONS.toLocaleString("en-US")} partitions (${new Date().toISOString()})\n`);
console.log("| entry | median ms | p99 ms | longest ms |");
console.log("|---|---:|---:|---:|");
for (const r of rows) console.log(`| ${r.entry} | ${r.medianMs} | ${r.p99Ms} | ${r.maxMs} |`);
console.log(
  `\nHeap of the idempotent state (${producerStates.toLocaleString("en-US")} producer states, every partition's segments): ${heapMiB} MiB.`,
);
