/**
 * A produce request touching more partitions than one metadata log entry holds (40,000 partitions make a
 * commitFile of about 470 KB, above DynamoDB's 350 KB entries): its file is committed by several commands,
 * each within the entry limit, and every batch gets its offset. Before, the commit was refused whole, the
 * producer got an error on every retry, and the agent reported its ingestion failing.
 */
import assert from "node:assert/strict";
import { componentLogger } from "../../../common/logger.js";
import { IngestionBatcher } from "../../src/ingest/batcher.js";
import { IngestionHealth } from "../../src/ingest/health.js";
import { decodeEntry } from "../../src/metadata/entry-codec.js";
import { MemMetadataStore, MemObjectStore } from "../../src/store/mem.js";
import { incomingBatch, openLogWithTopic } from "./support.js";

/** Entries of at most 4 KiB: a few hundred partition batches each. */
class SmallEntryStore extends MemMetadataStore {
  override readonly maxEntryBytes = 4096;
}

describe("ingestion batcher: a request larger than a log entry", () => {
  it("commits one file through several commitFile commands, each within the entry limit", async () => {
    const store = new SmallEntryStore();
    const partitions = 2000;
    const log = await openLogWithTopic(partitions, store);
    const health = new IngestionHealth();
    const batcher = new IngestionBatcher({
      store: new MemObjectStore(),
      log,
      batchTimeoutMs: 5,
      maxFileBytes: 64 * 1024 * 1024,
      keyPrefix: "test/",
      health,
      logger: componentLogger("test"),
    });
    try {
      const batches = Array.from({ length: partitions }, (_, p) => incomingBatch(p, 50));
      const first = await batcher.add(batches);
      const second = await batcher.add(batches);
      assert.equal(first.length, partitions);
      assert.ok(first.every((r) => r.errorCode === 0 && r.baseOffset === 0));
      assert.ok(second.every((r) => r.errorCode === 0 && r.baseOffset === 1));
      for (let p = 0; p < partitions; p++) assert.equal(log.state.partition("t", p)!.nextOffset, 2);
      // Every entry within the limit; one file named by several commands.
      const entries = await store.read(2n, 1000);
      assert.ok(entries.length >= 4, `${entries.length} entries for two files`);
      assert.ok(entries.every((e) => e.data.length <= store.maxEntryBytes));
      // Topic t is numbered (entry level 8): its commits name it by number, decoded against the state.
      const commands = entries.flatMap((e) => decodeEntry(e.data, e.index, log.state.numbering).commands);
      const keys = new Set(commands.map((c) => (c.type === "commitFile" ? c.key : "")));
      assert.equal(keys.size, 2, "two files");
      assert.ok(commands.length > keys.size, `${commands.length} commands for ${keys.size} files`);
      assert.equal(health.problem(), null, "ingestion is healthy");
    } finally {
      await batcher.close();
      await log.close();
    }
  });
});
