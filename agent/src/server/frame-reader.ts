/**
 * Splits a connection's byte stream into Kafka frames (a 4-byte big-endian size, then that many
 * bytes), without I/O. A frame that arrived inside one socket chunk is returned as a view of it (no
 * copy); one spread over several chunks is copied once into a buffer of its exact size. Bytes of the
 * frames after it stay where they are until their turn.
 */
export class FrameReader {
  private chunks: Buffer[] = [];
  private bytes = 0;

  /** Bytes received and not yet returned as frames (size prefixes included). */
  get bufferedBytes(): number {
    return this.bytes;
  }

  push(chunk: Buffer): void {
    if (chunk.length === 0) return;
    this.chunks.push(chunk);
    this.bytes += chunk.length;
  }

  /** The size the next frame declares (possibly negative or huge: the caller checks it); null until its prefix arrived. */
  peekSize(): number | null {
    if (this.bytes < 4) return null;
    const first = this.chunks[0]!;
    if (first.length >= 4) return first.readInt32BE(0);
    const prefix = Buffer.allocUnsafe(4);
    let at = 0;
    for (const c of this.chunks) {
      at += c.copy(prefix, at, 0, Math.min(c.length, 4 - at));
      if (at === 4) break;
    }
    return prefix.readInt32BE(0);
  }

  /** The next frame without its size prefix, consumed; null until all of it has arrived. Call peekSize first to check the size. */
  take(): Buffer | null {
    const size = this.peekSize();
    if (size === null || size < 0 || this.bytes < 4 + size) return null;
    const first = this.chunks[0]!;
    if (first.length >= 4 + size) {
      const frame = first.subarray(4, 4 + size);
      this.consume(4 + size, null);
      return frame;
    }
    this.consume(4, null);
    const frame = Buffer.allocUnsafe(size);
    this.consume(size, frame);
    return frame;
  }

  /** Drops n bytes from the front, copying them into `into` when given. */
  private consume(n: number, into: Buffer | null): void {
    let at = 0;
    while (n > 0) {
      const chunk = this.chunks[0]!;
      const take = Math.min(n, chunk.length);
      if (into) chunk.copy(into, at, 0, take);
      at += take;
      n -= take;
      this.bytes -= take;
      if (take === chunk.length) this.chunks.shift();
      else this.chunks[0] = chunk.subarray(take);
    }
  }
}
