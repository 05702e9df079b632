/**
 * FrameReader, the connection's framing without I/O: frames come out whole and in order however the
 * stream is cut into chunks (one byte at a time, many frames per chunk, prefixes split across chunks),
 * a frame inside one chunk is a view of it (no copy), and the bytes of later frames are untouched.
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { seededRandom } from "../../../e2e/support/fault-proxy.js";
import { FrameReader } from "../../src/server/frame-reader.js";

function framed(payloads: readonly Buffer[]): Buffer {
  return Buffer.concat(
    payloads.flatMap((p) => {
      const size = Buffer.alloc(4);
      size.writeInt32BE(p.length);
      return [size, p];
    }),
  );
}

function drain(reader: FrameReader): Buffer[] {
  const out: Buffer[] = [];
  for (let f = reader.take(); f !== null; f = reader.take()) out.push(Buffer.from(f));
  return out;
}

describe("FrameReader", () => {
  const payloads = [
    Buffer.alloc(0),
    randomBytes(1),
    randomBytes(3),
    randomBytes(4),
    randomBytes(1000),
    randomBytes(70_000),
    randomBytes(17),
  ];
  const stream = framed(payloads);

  it("returns every frame in order when the stream arrives one byte at a time", () => {
    const reader = new FrameReader();
    const got: Buffer[] = [];
    for (const byte of stream) {
      reader.push(Buffer.from([byte]));
      got.push(...drain(reader));
    }
    assert.deepEqual(got, payloads);
    assert.equal(reader.bufferedBytes, 0);
  });

  it("returns every frame in order for random chunkings (seeded)", () => {
    for (let seed = 1; seed <= 200; seed++) {
      const random = seededRandom(seed);
      const reader = new FrameReader();
      const got: Buffer[] = [];
      for (let at = 0; at < stream.length;) {
        const n = Math.min(stream.length - at, 1 + Math.floor(random() * (random() < 0.5 ? 8 : 40_000)));
        reader.push(stream.subarray(at, at + n));
        at += n;
        got.push(...drain(reader));
      }
      assert.deepEqual(got, payloads, `seed ${seed}`);
      assert.equal(reader.bufferedBytes, 0, `seed ${seed}`);
    }
  });

  it("hands out a frame inside one chunk as a view of that chunk, and leaves the next frame's bytes as they are", () => {
    const reader = new FrameReader();
    const chunk = framed([Buffer.from("first"), Buffer.from("second")]);
    reader.push(chunk.subarray(0, chunk.length - 2));
    const first = reader.take()!;
    assert.equal(first.toString(), "first");
    assert.equal(first.buffer, chunk.buffer, "no copy");
    assert.equal(reader.take(), null, "the second frame is not complete");
    assert.equal(reader.peekSize(), 6);
    reader.push(chunk.subarray(chunk.length - 2));
    assert.equal(reader.take()!.toString(), "second");
  });

  it("reports the declared size before the frame arrives, negative and huge sizes included", () => {
    const reader = new FrameReader();
    assert.equal(reader.peekSize(), null);
    reader.push(Buffer.from([0xff, 0xff]));
    assert.equal(reader.peekSize(), null);
    reader.push(Buffer.from([0xff, 0xf0]));
    assert.equal(reader.peekSize(), -16);
    assert.equal(reader.take(), null, "a negative size is never taken");
    const huge = new FrameReader();
    huge.push(Buffer.from([0x7f, 0xff, 0xff, 0xff, 1, 2, 3]));
    assert.equal(huge.peekSize(), 0x7fffffff);
    assert.equal(huge.take(), null);
  });
});
