/**
 * Test fixture: several MetadataLogs (agents) on one shared metadata store, with separate ingestion and
 * compaction object stores (as DynamoDB + S3), and producers that write real RecordBatch bytes into
 * ingestion files and commit them with `commitFile`.
 */
import assert from "node:assert/strict";
import { componentLogger } from "../../../common/logger.js";
import type { BatchMeta } from "../../src/metadata/commands.js";
import { MetadataLog } from "../../src/metadata/log.js";
import type { PartitionState } from "../../src/metadata/state.js";
import { ObjectCache } from "../../src/fetch/object-cache.js";
import { PartitionReader } from "../../src/fetch/reader.js";
import { iterateBatches, readBatchHeader } from "../../src/records/record-batch.js";
import { MemMetadataStore, MemObjectStore } from "../../src/store/mem.js";
import type { MetadataStore, ObjectStore } from "../../src/store/types.js";
import { buildBatch } from "../records/batch-builder.js";

export const logger = componentLogger("test");

export interface Fixture {
  readonly ingestion: ObjectStore;
  readonly compaction: ObjectStore;
  readonly metadata: MetadataStore;
  readonly logs: MetadataLog[];
  /** offset → the batch as produced (base offset 0), per "topic/partition". */
  readonly produced: Map<string, Map<number, Buffer>>;
}

/** `agents` logs over the given stores (default: fresh mem stores, ingestion apart from compaction). */
export async function openFixture(
  agents = 3,
  stores: { ingestion: ObjectStore; compaction: ObjectStore; metadata: MetadataStore } = {
    ingestion: new MemObjectStore(),
    compaction: new MemObjectStore(),
    metadata: new MemMetadataStore(),
  },
): Promise<Fixture> {
  const { metadata } = stores;
  const logs: MetadataLog[] = [];
  for (let i = 0; i < agents; i++) {
    const log = new MetadataLog(metadata, {
      tailIntervalMs: 0,
      snapshotEveryEntries: 0,
      keepEntriesAfterSnapshot: 10,
      writesSnapshots: () => false,
      logger,
    });
    await log.open();
    logs.push(log);
  }
  return { ingestion: stores.ingestion, compaction: stores.compaction, metadata, logs, produced: new Map() };
}

export async function closeFixture(f: Fixture): Promise<void> {
  for (const l of f.logs) await l.close();
}

export async function createTopic(
  f: Fixture,
  name: string,
  partitions: number,
  configs: Record<string, string> = {},
): Promise<void> {
  const [r] = await f.logs[0]!.propose([
    {
      type: "createTopic",
      name,
      topicId: Buffer.from(name.padEnd(16, "x")).toString("hex").slice(0, 32),
      partitions,
      configs,
    },
  ]);
  assert.equal(r!.errorCode, 0);
}

let fileCounter = 0;

/**
 * Writes one ingestion file holding one batch per entry (records "<topic>/<p>/<n>") through agent
 * `agent`, and commits it. Returns the file key.
 */
export async function produceFile(
  f: Fixture,
  agent: number,
  batches: ReadonlyArray<{
    topic: string;
    partition: number;
    records: number;
    timestamp?: number;
    valueBytes?: number;
  }>,
  time: number,
): Promise<string> {
  const key = `ingest/agent${agent}-${time.toString(36)}-${(fileCounter++).toString(36)}`;
  const parts: Buffer[] = [];
  const metas: BatchMeta[] = [];
  let pos = 0;
  for (const b of batches) {
    const tag = `${b.topic}/${b.partition}/${fileCounter}-${pos}`;
    const bytes = buildBatch(
      Array.from({ length: b.records }, (_, i) => ({
        key: `k${i}`,
        value: `${tag}/${i}`.padEnd(b.valueBytes ?? 0, "."),
      })),
      { timestamp: b.timestamp ?? time },
    );
    const h = readBatchHeader(bytes);
    parts.push(bytes);
    metas.push({
      topic: b.topic,
      partition: b.partition,
      pos,
      len: bytes.length,
      count: h.recordCount,
      maxTimestamp: h.maxTimestamp,
      producerId: -1,
      producerEpoch: -1,
      baseSequence: -1,
    });
    pos += bytes.length;
  }
  const data = Buffer.concat(parts);
  await f.ingestion.put(key, data);
  const [r] = await f.logs[agent]!.propose([{ type: "commitFile", key, size: data.length, time, batches: metas }]);
  r!.batches!.forEach((br, i) => {
    assert.equal(br.errorCode, 0);
    const id = `${batches[i]!.topic}/${batches[i]!.partition}`;
    let m = f.produced.get(id);
    if (!m) f.produced.set(id, (m = new Map()));
    m.set(br.baseOffset, parts[i]!);
  });
  return key;
}

/** Bytes of a batch that fetch must return unchanged (everything but base offset and leader epoch). */
function payload(batch: Buffer): Buffer {
  return Buffer.concat([batch.subarray(8, 12), batch.subarray(16)]);
}

/**
 * Catches `log` up, then reads every produced offset of every partition back through a fresh PartitionReader
 * and checks each batch: same bytes as produced, base offset = its offset, leader epoch -1.
 * Offsets below the log start are skipped. Returns the number of batches checked.
 */
export async function verifyReadBack(f: Fixture, log: MetadataLog): Promise<number> {
  await log.catchUp();
  const reader = new PartitionReader(f.ingestion, f.compaction, new ObjectCache(64 * 1024 * 1024));
  let checked = 0;
  for (const [id, byOffset] of f.produced) {
    const [topic, partition] = id.split("/") as [string, string];
    const p: PartitionState | undefined = log.state.partition(topic, Number(partition));
    assert.ok(p, `partition ${id} exists`);
    for (const [offset, original] of byOffset) {
      if (offset < p.logStartOffset) continue;
      const result = await reader.read(p, offset, 1);
      const data = Buffer.concat(result.chunks);
      const first = iterateBatches(data).next();
      assert.ok(!first.done, `a batch is returned for ${id}@${offset}`);
      assert.equal(first.value.baseOffset, offset, `base offset of ${id}@${offset}`);
      assert.equal(data.readInt32BE(first.value.position + 12), -1, `leader epoch of ${id}@${offset}`);
      assert.deepEqual(
        payload(data.subarray(first.value.position, first.value.position + first.value.header.size)),
        payload(original),
        `bytes of ${id}@${offset}`,
      );
      checked++;
    }
  }
  return checked;
}

/** Keys of the objects a partition's segments live in, with their store. */
export function segmentStores(log: MetadataLog, topic: string, partition: number): Array<"i" | "c" | "p"> {
  return log.state.partition(topic, partition)!.segments.map((s) => s.location.store);
}

export async function listKeys(store: ObjectStore, prefix: string): Promise<string[]> {
  const out: string[] = [];
  for await (const o of store.list(prefix)) out.push(o.key);
  return out;
}
