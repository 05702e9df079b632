/**
 * int64 fields read and written as numbers, without a BigInt: hot paths (record-batch headers, protocol
 * responses, snapshots) handle millions of offsets and timestamps, and every BigInt is garbage to collect.
 */

/**
 * The int64 at `at` as a number: the high half times 2^32 is exact and adding the low half rounds once,
 * so the result is Number(buf.readBigInt64BE(at)) (exact for every safe integer).
 */
export function readInt64AsNumber(buf: Buffer, at: number): number {
  return buf.readInt32BE(at) * 2 ** 32 + buf.readUInt32BE(at + 4);
}

/** Writes an integer as an int64 at `at`, without a BigInt when it is a safe integer. */
export function writeInt64FromNumber(buf: Buffer, v: number, at: number): void {
  if (!Number.isSafeInteger(v)) {
    buf.writeBigInt64BE(BigInt(v), at);
    return;
  }
  const high = Math.floor(v / 2 ** 32);
  buf.writeInt32BE(high, at);
  buf.writeUInt32BE(v - high * 2 ** 32, at + 4);
}
