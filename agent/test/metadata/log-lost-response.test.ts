/**
 * A log append whose response is lost: the write lands, the store client retries it, and the retry's
 * condition fails (DynamoDB: a PutItem answered by a timeout, retried by the SDK, then
 * ConditionalCheckFailed). The log must recognise its own entry instead of appending it again.
 */
import assert from "node:assert/strict";
import { componentLogger } from "../../../common/logger.js";
import { MetadataLog } from "../../src/metadata/log.js";
import { MemMetadataStore } from "../../src/store/mem.js";

/** Lands the next `lose` appends but reports them as taken by somebody else. */
class LostResponseStore extends MemMetadataStore {
  lose = 0;
  override async append(index: bigint, data: Buffer): Promise<boolean> {
    const ok = await super.append(index, data);
    if (ok && this.lose > 0) {
      this.lose--;
      return false;
    }
    return ok;
  }
}

describe("metadata log: lost append responses", () => {
  it("applies an entry once when its append landed but was reported as a conflict", async () => {
    const store = new LostResponseStore();
    const log = new MetadataLog(store, {
      tailIntervalMs: 0,
      snapshotEveryEntries: 0,
      keepEntriesAfterSnapshot: 10,
      writesSnapshots: () => true,
      logger: componentLogger("test"),
    });
    await log.open();
    await log.propose([{ type: "createTopic", name: "t", topicId: "a".repeat(32), partitions: 1, configs: {} }]);
    const batch = {
      topic: "t",
      partition: 0,
      pos: 0,
      len: 10,
      count: 3,
      maxTimestamp: 0,
      producerId: -1,
      producerEpoch: -1,
      baseSequence: -1,
    };
    store.lose = 1;
    const [first] = await log.propose([{ type: "commitFile", key: "f1", size: 10, time: 0, batches: [batch] }]);
    const [second] = await log.propose([{ type: "commitFile", key: "f2", size: 10, time: 0, batches: [batch] }]);
    assert.equal(first!.batches![0]!.baseOffset, 0);
    assert.equal(second!.batches![0]!.baseOffset, 3, "the first file's records are in the log once");
    const entries = await store.read(1n, 100);
    assert.equal(entries.length, 3, "createTopic, f1, f2: no entry repeated");
    await log.close();
  });
});
