/**
 * RecordBatch v2 (magic 2) header access. Batches stay opaque bytes: we read the 61-byte header,
 * check CRC-32C and counts, and rewrite only base offset and partition leader epoch when serving
 * (both lie outside the CRC). Records are never decompressed. A topic with log-append time has its
 * batches stamped once when stored (timestamp type, max timestamp, CRC), as Kafka's log does.
 */
import { crc32c } from "@node-rs/crc32";
import { readInt64AsNumber, writeInt64FromNumber } from "../protocol/codec/int64.js";

export const BATCH_HEADER_BYTES = 61;
/** Bytes before batchLength's coverage starts (baseOffset int64 + batchLength int32). */
export const LOG_OVERHEAD = 12;

const OFF_BATCH_LENGTH = 8;
const OFF_LEADER_EPOCH = 12;
const OFF_MAGIC = 16;
const OFF_CRC = 17;
const OFF_ATTRIBUTES = 21;
const OFF_LAST_OFFSET_DELTA = 23;
const OFF_BASE_TIMESTAMP = 27;
const OFF_MAX_TIMESTAMP = 35;
const OFF_PRODUCER_ID = 43;
const OFF_PRODUCER_EPOCH = 51;
const OFF_BASE_SEQUENCE = 53;
const OFF_RECORD_COUNT = 57;

export const COMPRESSION_NAMES = ["none", "gzip", "snappy", "lz4", "zstd"] as const;

/** Attributes bit 3: the batch's timestamps are log-append time (its maxTimestamp), not create time. */
export const ATTR_LOG_APPEND_TIME = 0x08;

export interface BatchHeader {
  /** Total bytes of the batch (batchLength + 12). */
  readonly size: number;
  readonly attributes: number;
  readonly compression: number;
  readonly transactional: boolean;
  readonly control: boolean;
  readonly lastOffsetDelta: number;
  readonly baseTimestamp: number;
  readonly maxTimestamp: number;
  readonly producerId: number;
  readonly producerEpoch: number;
  readonly baseSequence: number;
  readonly recordCount: number;
}

export class InvalidBatchError extends Error {
  constructor(
    message: string,
    /** Kafka error code to answer with: 2 CORRUPT_MESSAGE, 87 INVALID_RECORD, 76 UNSUPPORTED_COMPRESSION_TYPE, 43 UNSUPPORTED_FOR_MESSAGE_FORMAT. */
    readonly errorCode: number,
  ) {
    super(message);
    this.name = "InvalidBatchError";
  }
}

/** The size of the batch starting at `at`, its magic and length checked (InvalidBatchError otherwise). */
function checkedBatchSize(buf: Buffer, at: number, end = buf.length): number {
  if (end - at < BATCH_HEADER_BYTES) throw new InvalidBatchError(`record batch truncated: ${end - at} bytes`, 2);
  const magic = buf.readInt8(at + OFF_MAGIC);
  if (magic !== 2) throw new InvalidBatchError(`record batch magic ${magic} not supported (only magic 2)`, 43);
  const batchLength = buf.readInt32BE(at + OFF_BATCH_LENGTH);
  const size = batchLength + LOG_OVERHEAD;
  if (batchLength < BATCH_HEADER_BYTES - LOG_OVERHEAD || size > end - at) {
    throw new InvalidBatchError(`record batch length ${batchLength} does not fit the ${end - at} bytes given`, 2);
  }
  return size;
}

/** Reads the header of the batch starting at `at` without validating the CRC. */
export function readBatchHeader(buf: Buffer, at = 0): BatchHeader {
  const size = checkedBatchSize(buf, at);
  const attributes = buf.readInt16BE(at + OFF_ATTRIBUTES);
  return {
    size,
    attributes,
    compression: attributes & 0x07,
    transactional: (attributes & 0x10) !== 0,
    control: (attributes & 0x20) !== 0,
    lastOffsetDelta: buf.readInt32BE(at + OFF_LAST_OFFSET_DELTA),
    baseTimestamp: readInt64AsNumber(buf, at + OFF_BASE_TIMESTAMP),
    maxTimestamp: readInt64AsNumber(buf, at + OFF_MAX_TIMESTAMP),
    producerId: readInt64AsNumber(buf, at + OFF_PRODUCER_ID),
    producerEpoch: buf.readInt16BE(at + OFF_PRODUCER_EPOCH),
    baseSequence: buf.readInt32BE(at + OFF_BASE_SEQUENCE),
    recordCount: buf.readInt32BE(at + OFF_RECORD_COUNT),
  };
}

/**
 * Splits produce-request records into batches and validates each as Kafka does: magic 2, CRC-32C,
 * record count = lastOffsetDelta + 1, no control batches from clients, a known compression codec.
 * Returns views into `records` (no copies).
 */
export function splitAndValidateBatches(records: Buffer): Array<{ bytes: Buffer; header: BatchHeader }> {
  const out: Array<{ bytes: Buffer; header: BatchHeader }> = [];
  let at = 0;
  while (at < records.length) {
    const header = readBatchHeader(records, at);
    const bytes = records.subarray(at, at + header.size);
    const expected = bytes.readUInt32BE(OFF_CRC);
    const actual = crc32c(bytes.subarray(OFF_ATTRIBUTES));
    if (actual !== expected)
      throw new InvalidBatchError(`record batch CRC mismatch (stored ${expected}, computed ${actual})`, 2);
    if (header.recordCount <= 0 || header.recordCount !== header.lastOffsetDelta + 1) {
      throw new InvalidBatchError(
        `record count ${header.recordCount} does not match lastOffsetDelta ${header.lastOffsetDelta}`,
        87,
      );
    }
    if (header.control) throw new InvalidBatchError("control batches may not be produced by clients", 87);
    if (header.compression > 4) throw new InvalidBatchError(`unknown compression codec ${header.compression}`, 76);
    out.push({ bytes, header });
    at += header.size;
  }
  if (out.length === 0) throw new InvalidBatchError("produce request carries no record batch", 87);
  return out;
}

/** Writes the base offset and partition leader epoch of the batch at `at` in place. */
export function rewriteBatchOffset(buf: Buffer, at: number, baseOffset: number, leaderEpoch: number): void {
  writeInt64FromNumber(buf, baseOffset, at);
  buf.writeInt32BE(leaderEpoch, at + OFF_LEADER_EPOCH);
}

/**
 * Stamps the batch of `size` bytes at `at` with log-append time `time` (ms), in place, as Kafka's log
 * does for a topic with message.timestamp.type=LogAppendTime: timestamp type bit set, maxTimestamp =
 * `time` (consumers give every record of the batch this timestamp), CRC-32C recomputed. Records and
 * baseTimestamp are left as the producer wrote them.
 */
export function stampLogAppendTime(buf: Buffer, at: number, size: number, time: number): void {
  buf.writeInt16BE(buf.readInt16BE(at + OFF_ATTRIBUTES) | ATTR_LOG_APPEND_TIME, at + OFF_ATTRIBUTES);
  writeInt64FromNumber(buf, time, at + OFF_MAX_TIMESTAMP);
  buf.writeUInt32BE(crc32c(buf.subarray(at + OFF_ATTRIBUTES, at + size)), at + OFF_CRC);
}

/**
 * How many offsets the batches filling `buf` from `start` to `end` hold (the sum of their lastOffsetDelta
 * + 1), each header checked as readBatchHeader checks it (InvalidBatchError), or -1 when they do not end
 * exactly at `end`. Neither a view nor an object per batch: a compaction pass checks hundreds of
 * thousands of segments this way.
 */
export function offsetsInBatches(buf: Buffer, start: number, end: number): number {
  let at = start;
  let offsets = 0;
  while (at + BATCH_HEADER_BYTES <= end) {
    const size = checkedBatchSize(buf, at, end);
    offsets += buf.readInt32BE(at + OFF_LAST_OFFSET_DELTA) + 1;
    at += size;
  }
  return at === end ? offsets : -1;
}

/**
 * Gives the batches filling `buf` from `start` to `end` consecutive offsets from `baseOffset` on and
 * `leaderEpoch` (rewriteBatchOffset on each), their headers checked as readBatchHeader checks them.
 */
export function rewriteBatchOffsets(
  buf: Buffer,
  start: number,
  end: number,
  baseOffset: number,
  leaderEpoch: number,
): void {
  let at = start;
  let offset = baseOffset;
  while (at + BATCH_HEADER_BYTES <= end) {
    const size = checkedBatchSize(buf, at, end);
    rewriteBatchOffset(buf, at, offset, leaderEpoch);
    offset += buf.readInt32BE(at + OFF_LAST_OFFSET_DELTA) + 1;
    at += size;
  }
}

/** Walks the batches in a buffer of concatenated batches: yields start position and header. */
export function* iterateBatches(buf: Buffer): Generator<{ position: number; baseOffset: number; header: BatchHeader }> {
  let at = 0;
  while (at + BATCH_HEADER_BYTES <= buf.length) {
    const header = readBatchHeader(buf, at);
    yield { position: at, baseOffset: readInt64AsNumber(buf, at), header };
    at += header.size;
  }
}
