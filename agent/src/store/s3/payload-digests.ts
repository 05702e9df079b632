/**
 * The two digests of a PutObject body, computed a slice at a time. Given a Buffer body, the S3 client
 * hashes it whole for the SigV4 signature (SHA-256, `x-amz-content-sha256`) and again for the checksum S3
 * verifies (CRC32, `x-amz-checksum-crc32`), both in one synchronous step: a 17 MiB metadata snapshot held
 * the lease holder's event loop ~40 ms, a 64 MiB compacted object three times that. Computed here in steps
 * with the event loop let through between slices, and handed to the client, which then uses them as they
 * are (the signer takes an `x-amz-content-sha256` header already set; the checksum middleware skips a
 * request that carries an `x-amz-checksum-*` header). The signature covers the payload exactly as before.
 */
import { createHash } from "node:crypto";
import { crc32 } from "node:zlib";
import { TimeSlicer } from "../../../../common/time-slicer.js";

/** Bytes hashed between two looks at the clock (about a millisecond of both digests). */
export const DIGEST_STEP_BYTES = 256 * 1024;

export interface PayloadDigests {
  /** SHA-256 of the body, lowercase hex: the value of `x-amz-content-sha256`. */
  readonly sha256Hex: string;
  /** CRC32 of the body, its four bytes big-endian in base64: PutObject's ChecksumCRC32. */
  readonly crc32Base64: string;
}

/** Both digests of `data`; the event loop runs between slices of about `slicer`'s length. */
export async function payloadDigests(data: Uint8Array, slicer = new TimeSlicer(undefined, 1)): Promise<PayloadDigests> {
  const sha256 = createHash("sha256");
  let crc = 0;
  slicer.begin();
  for (let at = 0; at < data.length; at += DIGEST_STEP_BYTES) {
    const step = data.subarray(at, Math.min(data.length, at + DIGEST_STEP_BYTES));
    sha256.update(step);
    crc = crc32(step, crc);
    if (slicer.due()) await slicer.pause();
  }
  slicer.end();
  const crcBytes = Buffer.alloc(4);
  crcBytes.writeUInt32BE(crc >>> 0);
  return { sha256Hex: sha256.digest("hex"), crc32Base64: crcBytes.toString("base64") };
}
