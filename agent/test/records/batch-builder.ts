/**
 * Builds RecordBatch v2 bytes for tests (uncompressed records), as a producer would: base offset 0,
 * CRC-32C over attributes..end.
 */
import { crc32c } from "@node-rs/crc32";

function varint(n: number): Buffer {
  let v = (n << 1) ^ (n >> 31);
  const out: number[] = [];
  while ((v & ~0x7f) !== 0) {
    out.push((v & 0x7f) | 0x80);
    v >>>= 7;
  }
  out.push(v);
  return Buffer.from(out);
}

function record(offsetDelta: number, key: Buffer | null, value: Buffer | null): Buffer {
  const body = Buffer.concat([
    Buffer.from([0]), // attributes
    varint(0), // timestamp delta
    varint(offsetDelta),
    key === null ? varint(-1) : Buffer.concat([varint(key.length), key]),
    value === null ? varint(-1) : Buffer.concat([varint(value.length), value]),
    varint(0), // headers
  ]);
  return Buffer.concat([varint(body.length), body]);
}

export interface BatchOptions {
  readonly producerId?: bigint;
  readonly producerEpoch?: number;
  readonly baseSequence?: number;
  readonly timestamp?: number;
  readonly attributes?: number;
}

export function buildBatch(
  records: ReadonlyArray<{ key?: string | null; value: string | null }>,
  options: BatchOptions = {},
): Buffer {
  const ts = BigInt(options.timestamp ?? Date.now());
  const recs = Buffer.concat(
    records.map((r, i) =>
      record(
        i,
        r.key === undefined || r.key === null ? null : Buffer.from(r.key),
        r.value === null ? null : Buffer.from(r.value),
      ),
    ),
  );
  const header = Buffer.alloc(61);
  header.writeBigInt64BE(0n, 0);
  header.writeInt32BE(61 - 12 + recs.length, 8);
  header.writeInt32BE(-1, 12);
  header.writeInt8(2, 16);
  header.writeInt16BE(options.attributes ?? 0, 21);
  header.writeInt32BE(records.length - 1, 23);
  header.writeBigInt64BE(ts, 27);
  header.writeBigInt64BE(ts, 35);
  header.writeBigInt64BE(options.producerId ?? -1n, 43);
  header.writeInt16BE(options.producerEpoch ?? -1, 51);
  header.writeInt32BE(options.baseSequence ?? -1, 53);
  header.writeInt32BE(records.length, 57);
  const batch = Buffer.concat([header, recs]);
  batch.writeUInt32BE(crc32c(batch.subarray(21)), 17);
  return batch;
}
