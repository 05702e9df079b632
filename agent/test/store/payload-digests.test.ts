/** payloadDigests (store/s3/payload-digests.ts): the digests S3 wants, computed in slices. */
import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { crc32 } from "node:zlib";
import { TimeSlicer } from "../../../common/time-slicer.js";
import { DIGEST_STEP_BYTES, payloadDigests } from "../../src/store/s3/payload-digests.js";
import { turnsDuring } from "../support/event-loop.js";

/** The digests as one synchronous step computes them (what the S3 client does with a Buffer body). */
function atOnce(data: Buffer) {
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(data));
  return { sha256Hex: createHash("sha256").update(data).digest("hex"), crc32Base64: crc.toString("base64") };
}

describe("payloadDigests", () => {
  it("gives the SHA-256 (hex) and CRC32 (base64, big-endian) of the whole body, at every step boundary", async () => {
    for (const size of [
      0,
      1,
      DIGEST_STEP_BYTES - 1,
      DIGEST_STEP_BYTES,
      DIGEST_STEP_BYTES + 1,
      3 * DIGEST_STEP_BYTES + 7,
    ]) {
      const data = randomBytes(size);
      assert.deepEqual(await payloadDigests(data), atOnce(data), `${size} bytes`);
    }
    // Known values: the empty body's SHA-256 (the one SigV4 names) and CRC32 0.
    assert.deepEqual(await payloadDigests(Buffer.alloc(0)), {
      sha256Hex: "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
      crc32Base64: "AAAAAA==",
    });
  });

  it("lets the event loop turn while it digests a large body", async () => {
    const data = randomBytes(32 * 1024 * 1024);
    // A slice of 0 ms pauses at every step: one turn per step at least.
    const { turns, result } = await turnsDuring(() => payloadDigests(data, new TimeSlicer(0, 1)));
    assert.ok(turns >= data.length / DIGEST_STEP_BYTES, `${turns} turns over ${data.length / DIGEST_STEP_BYTES} steps`);
    assert.deepEqual(result, atOnce(data));
  });
});
