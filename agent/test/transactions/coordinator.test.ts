/**
 * The transaction coordinator (transactions/coordinator.ts) on metadata logs in memory: markers written
 * into a file before the entry that ends a transaction, an end retried when the coordinator's view was
 * behind, an ongoing transaction aborted before a new producer's init, timeouts that abort with a new epoch,
 * and a transaction refused partitions its end could not hold in one entry.
 */
import assert from "node:assert/strict";
import { crc32c } from "@node-rs/crc32";
import { componentLogger } from "../../../common/logger.js";
import { MetadataLog } from "../../src/metadata/log.js";
import type { MetadataLogOptions } from "../../src/metadata/log.js";
import { ErrorCode } from "../../src/protocol/index.js";
import { readBatchHeader } from "../../src/records/record-batch.js";
import { MemMetadataStore } from "../../src/store/mem.js";
import { TransactionCoordinator } from "../../src/transactions/coordinator.js";

const options: MetadataLogOptions = {
  tailIntervalMs: 0,
  snapshotEveryEntries: 0,
  keepEntriesAfterSnapshot: 10,
  writesSnapshots: () => false,
  logger: componentLogger("test"),
};

/** A log store whose entries hold at most 8 KiB, so a transaction's end can outgrow one. */
class SmallEntries extends MemMetadataStore {
  override readonly maxEntryBytes = 8 * 1024;
}

interface Setup {
  readonly log: MetadataLog;
  readonly other: MetadataLog;
  readonly coordinator: TransactionCoordinator;
  readonly files: Map<string, Buffer>;
  clock: number;
}

async function setup(store = new MemMetadataStore()): Promise<Setup> {
  const log = new MetadataLog(store, options);
  const other = new MetadataLog(store, options);
  await log.open();
  await other.open();
  await log.propose([{ type: "createTopic", name: "t", topicId: "a".repeat(32), partitions: 400, configs: {} }]);
  await other.catchUp();
  const files = new Map<string, Buffer>();
  const s: Setup = {
    log,
    other,
    files,
    // The log stamps entries with the wall clock: timeouts are measured against it.
    clock: Date.now(),
    coordinator: new TransactionCoordinator({
      metadata: log,
      writeFile: async (data) => {
        const key = `markers-${files.size}`;
        files.set(key, data);
        return key;
      },
      coordinates: () => true,
      log: componentLogger("test"),
      now: () => s.clock,
    }),
  };
  return s;
}

const partitions = (n: number, from = 0) => Array.from({ length: n }, (_, i) => ({ topic: "t", partition: from + i }));

describe("transaction coordinator", () => {
  it("writes one marker per partition, control batches with the producer's id and epoch, then ends the transaction", async () => {
    const s = await setup();
    const init = await s.coordinator.initProducerId("tx", 60_000, -1, -1);
    assert.equal(init.errorCode, ErrorCode.NONE);
    const added = await s.coordinator.add("tx", init.producerId, init.producerEpoch, partitions(3), []);
    assert.deepEqual(added, { errorCode: ErrorCode.NONE, partitionErrors: [0, 0, 0] });
    assert.equal(await s.coordinator.endTxn("tx", init.producerId, init.producerEpoch, true), ErrorCode.NONE);
    assert.equal(s.files.size, 1);
    const file = [...s.files.values()][0]!;
    const seg = s.log.state.partition("t", 2)!.segments[0]!;
    const marker = file.subarray(seg.location.pos, seg.location.pos + seg.location.len);
    const header = readBatchHeader(marker);
    assert.deepEqual(
      [header.control, header.transactional, header.producerId, header.producerEpoch, header.recordCount],
      [true, true, init.producerId, init.producerEpoch, 1],
    );
    assert.equal(marker.readUInt32BE(17), crc32c(marker.subarray(21)), "its CRC-32C holds");
    // The record: length, attributes, timestamp and offset deltas, key length, then the key: version, type.
    assert.equal(marker.readInt16BE(61 + 7), 1, "a commit marker (control type 1)");
    assert.equal(s.log.state.transactions.get("tx")!.state, "CompleteCommit");
    await s.log.close();
    await s.other.close();
  });

  it("retries an end whose markers its lagging view got wrong, after reading the log on", async () => {
    const s = await setup();
    const init = await s.coordinator.initProducerId("tx", 60_000, -1, -1);
    await s.coordinator.add("tx", init.producerId, init.producerEpoch, partitions(1), []);
    // Another agent adds a partition: this coordinator's log has not read it.
    await s.other.catchUp();
    await s.other.propose([
      {
        type: "addToTransaction",
        transactionalId: "tx",
        producerId: init.producerId,
        producerEpoch: init.producerEpoch,
        partitions: partitions(1, 7),
        groups: [],
      },
    ]);
    assert.equal(s.log.state.transactions.get("tx")!.partitions.get("t")!.size, 1, "behind");
    assert.equal(await s.coordinator.endTxn("tx", init.producerId, init.producerEpoch, false), ErrorCode.NONE);
    assert.equal(s.files.size, 2, "the first markers were out of date, the second complete");
    assert.equal(s.log.state.partition("t", 7)!.nextOffset, 1, "the partition added elsewhere got its marker");
    await s.log.close();
    await s.other.close();
  });

  it("aborts the previous producer's ongoing transaction before a new producer's init, and timed-out ones with a new epoch", async () => {
    const s = await setup();
    const first = await s.coordinator.initProducerId("tx", 5_000, -1, -1);
    await s.coordinator.add("tx", first.producerId, first.producerEpoch, partitions(2), []);
    const second = await s.coordinator.initProducerId("tx", 5_000, -1, -1);
    assert.deepEqual([second.errorCode, second.producerEpoch], [ErrorCode.NONE, first.producerEpoch + 1]);
    assert.equal(s.log.state.partition("t", 1)!.nextOffset, 1, "the abort's marker");
    assert.equal(s.log.state.transactions.lastStableOffset("t", 1, 1), 1);

    await s.coordinator.add("tx", second.producerId, second.producerEpoch, partitions(1), []);
    await s.coordinator.abortTimedOut();
    assert.equal(s.log.state.transactions.get("tx")!.state, "Ongoing", "not timed out yet");
    s.clock += 60_000;
    await s.coordinator.abortTimedOut();
    const txn = s.log.state.transactions.get("tx")!;
    assert.deepEqual([txn.state, txn.producerEpoch], ["CompleteAbort", second.producerEpoch + 1]);
    assert.equal(
      await s.coordinator.endTxn("tx", second.producerId, second.producerEpoch, true),
      ErrorCode.PRODUCER_FENCED,
    );
    await s.log.close();
    await s.other.close();
  });

  it("refuses partitions beyond what one entry's markers can hold (POLICY_VIOLATION), and ends what it holds", async () => {
    const s = await setup(new SmallEntries());
    const init = await s.coordinator.initProducerId("tx", 60_000, -1, -1);
    const few = await s.coordinator.add("tx", init.producerId, init.producerEpoch, partitions(20), []);
    assert.equal(few.errorCode, ErrorCode.NONE);
    const many = await s.coordinator.add("tx", init.producerId, init.producerEpoch, partitions(300, 20), []);
    assert.equal(many.errorCode, ErrorCode.POLICY_VIOLATION);
    assert.equal(s.log.state.transactions.get("tx")!.partitions.get("t")!.size, 20, "nothing of the refused add");
    assert.equal(await s.coordinator.endTxn("tx", init.producerId, init.producerEpoch, true), ErrorCode.NONE);
    await s.log.close();
    await s.other.close();
  });
});
