/**
 * Transaction markers: the control batch a transaction's end writes into each of its partitions, as
 * Kafka's EndTransactionMarker is laid out. A RecordBatch v2 of one record, attributes transactional
 * (0x10) and control (0x20), the producer's id and epoch, base sequence −1; the record's key is the
 * control record type (version 0, type 0 abort or 1 commit), its value the marker (version 0, the
 * coordinator epoch). Base offset 0: the offset is given when the batch is served (rewriteBatchOffset).
 */
import { crc32c } from "@node-rs/crc32";
import { BATCH_HEADER_BYTES } from "./record-batch.js";

const ATTR_TRANSACTIONAL = 0x10;
const ATTR_CONTROL = 0x20;
/** Offset of the attributes field, where the CRC-32C's coverage starts. */
const CRC_FROM = 21;

/** The signed zigzag varint of a small non-negative or −1 value. */
function zigzag(n: number): number {
  return (n << 1) ^ (n >> 31);
}

export interface MarkerOptions {
  readonly producerId: number;
  readonly producerEpoch: number;
  readonly commit: boolean;
  readonly coordinatorEpoch: number;
  /** The marker's timestamp (ms). */
  readonly timestamp: number;
}

/** One transaction marker batch. */
export function controlBatch(o: MarkerOptions): Buffer {
  // key: version int16 0, type int16; value: version int16 0, coordinatorEpoch int32.
  const key = Buffer.alloc(4);
  key.writeInt16BE(o.commit ? 1 : 0, 2);
  const value = Buffer.alloc(6);
  value.writeInt32BE(o.coordinatorEpoch, 2);
  // record: attributes int8, timestampDelta varint 0, offsetDelta varint 0, key, value, headers varint 0.
  const body = Buffer.from([0, 0, 0, zigzag(key.length), ...key, zigzag(value.length), ...value, 0]);
  const record = Buffer.concat([Buffer.from([zigzag(body.length)]), body]);
  const batch = Buffer.alloc(BATCH_HEADER_BYTES + record.length);
  batch.writeBigInt64BE(0n, 0);
  batch.writeInt32BE(batch.length - 12, 8);
  batch.writeInt32BE(0, 12);
  batch.writeInt8(2, 16);
  batch.writeInt16BE(ATTR_TRANSACTIONAL | ATTR_CONTROL, 21);
  batch.writeInt32BE(0, 23);
  batch.writeBigInt64BE(BigInt(o.timestamp), 27);
  batch.writeBigInt64BE(BigInt(o.timestamp), 35);
  batch.writeBigInt64BE(BigInt(o.producerId), 43);
  batch.writeInt16BE(o.producerEpoch, 51);
  batch.writeInt32BE(-1, 53);
  batch.writeInt32BE(1, 57);
  record.copy(batch, BATCH_HEADER_BYTES);
  batch.writeUInt32BE(crc32c(batch.subarray(CRC_FROM)), 17);
  return batch;
}
