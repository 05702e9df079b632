/**
 * Big-endian writer that produces a list of chunks. Small values are copied into a growing scratch
 * buffer; large byte/records values are appended as their own chunks (no copy), so a Fetch response
 * made of many stored batches is written to the socket as-is. `patchInt32` fills in a length reserved
 * earlier (the frame size prefix). Invalid values (out of range numbers, malformed UUIDs) throw
 * ProtocolError: the encoder never silently writes something a peer would misread.
 */
import { ProtocolError } from "./errors.js";
import { writeInt64FromNumber } from "./int64.js";

/** Byte values at least this long are appended as separate chunks instead of copied. */
const ZERO_COPY_THRESHOLD = 4096;
const MIN_CHUNK = 8192;
const UUID_PATTERN = /^[0-9a-f]{32}$/;
// Bounds made once: a BigInt expression such as -0x8000000000000000n allocates each time it is evaluated.
const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;
const SAFE_MIN = BigInt(Number.MIN_SAFE_INTEGER);
const SAFE_MAX = BigInt(Number.MAX_SAFE_INTEGER);

export class Writer {
  private chunks: Buffer[] = [];
  private buf: Buffer;
  private pos = 0;
  /** Bytes already moved to `chunks`. */
  private flushed = 0;

  /**
   * `initial`: the size of the first buffer, or a buffer to write into first (the caller's to reuse: its
   * old bytes are overwritten). `growBy`: the size of each buffer taken once the first is full (at least
   * what one write needs); default twice the last one's, which suits small messages but, after a first
   * buffer of tens of MiB, allocates twice that for a few bytes more.
   */
  constructor(
    initial: number | Buffer = 512,
    private readonly growBy?: number,
  ) {
    this.buf = typeof initial === "number" ? Buffer.allocUnsafe(initial) : initial;
  }

  /** Total bytes written so far. */
  get length(): number {
    return this.flushed + this.pos;
  }

  private ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    if (this.pos > 0) {
      this.chunks.push(this.buf.subarray(0, this.pos));
      this.flushed += this.pos;
    }
    this.buf = Buffer.allocUnsafe(Math.max(MIN_CHUNK, n, this.growBy ?? this.buf.length * 2));
    this.pos = 0;
  }

  int8(v: number): void {
    checkInt(v, -128, 127, "int8");
    this.ensure(1);
    this.buf.writeInt8(v, this.pos);
    this.pos += 1;
  }

  bool(v: boolean): void {
    this.ensure(1);
    this.buf[this.pos++] = v ? 1 : 0;
  }

  int16(v: number): void {
    checkInt(v, -32768, 32767, "int16");
    this.ensure(2);
    this.buf.writeInt16BE(v, this.pos);
    this.pos += 2;
  }

  uint16(v: number): void {
    checkInt(v, 0, 65535, "uint16");
    this.ensure(2);
    this.buf.writeUInt16BE(v, this.pos);
    this.pos += 2;
  }

  int32(v: number): void {
    checkInt(v, -2147483648, 2147483647, "int32");
    this.ensure(4);
    this.buf.writeInt32BE(v, this.pos);
    this.pos += 4;
  }

  uint32(v: number): void {
    checkInt(v, 0, 4294967295, "uint32");
    this.ensure(4);
    this.buf.writeUInt32BE(v, this.pos);
    this.pos += 4;
  }

  int64(v: bigint): void {
    if (typeof v !== "bigint" || v < INT64_MIN || v > INT64_MAX)
      throw new ProtocolError(`int64 value ${String(v)} is not a bigint in range`);
    this.ensure(8);
    // Offsets and timestamps are safe integers: written from a number, no BigInt is made.
    if (v >= SAFE_MIN && v <= SAFE_MAX) writeInt64FromNumber(this.buf, Number(v), this.pos);
    else this.buf.writeBigInt64BE(v, this.pos);
    this.pos += 8;
  }

  float64(v: number): void {
    if (typeof v !== "number") throw new ProtocolError(`float64 value ${String(v)} is not a number`);
    this.ensure(8);
    this.buf.writeDoubleBE(v, this.pos);
    this.pos += 8;
  }

  uvarint(v: number): void {
    if (v >= 0 && v < 0x80 && (v | 0) === v) {
      this.ensure(1);
      this.buf[this.pos++] = v;
      return;
    }
    checkInt(v, 0, 4294967295, "unsigned varint");
    this.ensure(5);
    while (v >= 0x80) {
      this.buf[this.pos++] = (v & 0x7f) | 0x80;
      v = Math.floor(v / 128);
    }
    this.buf[this.pos++] = v;
  }

  varint(v: number): void {
    checkInt(v, -2147483648, 2147483647, "varint");
    this.uvarint(v >= 0 ? v * 2 : -v * 2 - 1);
  }

  uvarlong(v: bigint): void {
    if (v < 0n || v > 0xffffffffffffffffn) throw new ProtocolError(`unsigned varlong ${v} out of range`);
    this.ensure(10);
    while (v >= 0x80n) {
      this.buf[this.pos++] = Number(v & 0x7fn) | 0x80;
      v >>= 7n;
    }
    this.buf[this.pos++] = Number(v);
  }

  varlong(v: bigint): void {
    if (v < INT64_MIN || v > INT64_MAX) throw new ProtocolError(`varlong ${v} out of range`);
    this.uvarlong(v >= 0n ? v << 1n : (-v << 1n) - 1n);
  }

  /**
   * An int64 held as a number (what Reader.varlongNumber and the record-batch header reader give) as a
   * zigzag varlong: an integer in [-2^63, 2^63], where 2^63 is how Number() rounds int64's largest values.
   */
  varlongNumber(v: number): void {
    if (Number.isInteger(v) && v >= -2147483648 && v <= 2147483647) {
      this.varint(v);
      return;
    }
    if (!Number.isInteger(v) || v < -(2 ** 63) || v > 2 ** 63)
      throw new ProtocolError(`int64 value ${String(v)} is not an integer in range`);
    if (v >= -(2 ** 52) && v <= 2 ** 52) {
      // Timestamps and offsets: the zigzag value stays under 2^53, exact in number arithmetic, so no
      // BigInt is made (a snapshot writes millions of them; each BigInt was garbage to collect).
      let u = v >= 0 ? v * 2 : -v * 2 - 1;
      this.ensure(8);
      while (u >= 0x80) {
        this.buf[this.pos++] = (u % 0x80) | 0x80;
        u = Math.floor(u / 0x80);
      }
      this.buf[this.pos++] = u;
      return;
    }
    this.varlong(v === 2 ** 63 ? 0x7fffffffffffffffn : BigInt(v));
  }

  uuid(v: string): void {
    if (typeof v !== "string" || !UUID_PATTERN.test(v))
      throw new ProtocolError(`uuid ${JSON.stringify(v)} is not 32 lowercase hex characters`);
    this.ensure(16);
    this.buf.write(v, this.pos, 16, "hex");
    this.pos += 16;
  }

  private text(v: string, len: number): void {
    this.ensure(len);
    this.buf.write(v, this.pos, len, "utf8");
    this.pos += len;
  }

  string(v: string): void {
    if (typeof v !== "string") throw new ProtocolError("null or non-string value for a non-nullable string");
    const len = Buffer.byteLength(v, "utf8");
    if (len > 32767) throw new ProtocolError(`string of ${len} bytes is too long`);
    this.int16(len);
    this.text(v, len);
  }

  nullableString(v: string | null): void {
    if (v === null) this.int16(-1);
    else this.string(v);
  }

  compactString(v: string): void {
    if (typeof v !== "string") throw new ProtocolError("null or non-string value for a non-nullable string");
    const len = Buffer.byteLength(v, "utf8");
    this.uvarint(len + 1);
    this.text(v, len);
  }

  compactNullableString(v: string | null): void {
    if (v === null) this.uvarint(0);
    else this.compactString(v);
  }

  /** Appends raw bytes: copied when small, added as their own chunk when large. */
  raw(b: Buffer): void {
    if (b.length >= ZERO_COPY_THRESHOLD) {
      if (this.pos > 0) {
        this.chunks.push(this.buf.subarray(0, this.pos));
        this.flushed += this.pos;
        this.buf = this.buf.subarray(this.pos);
        this.pos = 0;
      }
      this.chunks.push(b);
      this.flushed += b.length;
      return;
    }
    this.ensure(b.length);
    b.copy(this.buf, this.pos);
    this.pos += b.length;
  }

  bytes(b: Buffer): void {
    if (!Buffer.isBuffer(b)) throw new ProtocolError("null or non-Buffer value for non-nullable bytes");
    this.int32(b.length);
    this.raw(b);
  }

  nullableBytes(b: Buffer | null): void {
    if (b === null) this.int32(-1);
    else this.bytes(b);
  }

  compactBytes(b: Buffer): void {
    if (!Buffer.isBuffer(b)) throw new ProtocolError("null or non-Buffer value for non-nullable bytes");
    this.uvarint(b.length + 1);
    this.raw(b);
  }

  compactNullableBytes(b: Buffer | null): void {
    if (b === null) this.uvarint(0);
    else this.compactBytes(b);
  }

  /** Records: nullable bytes whose content may be several chunks written back to back. */
  records(v: Buffer | readonly Buffer[] | null, compact: boolean): void {
    if (v === null) {
      if (compact) this.uvarint(0);
      else this.int32(-1);
      return;
    }
    if (Buffer.isBuffer(v)) {
      if (compact) this.compactBytes(v);
      else this.bytes(v);
      return;
    }
    let total = 0;
    for (const c of v) total += c.length;
    if (compact) this.uvarint(total + 1);
    else this.int32(total);
    for (const c of v) this.raw(c);
  }

  arrayLength(n: number | null): void {
    this.int32(n === null ? -1 : n);
  }

  compactArrayLength(n: number | null): void {
    this.uvarint(n === null ? 0 : n + 1);
  }

  /** Overwrites 4 bytes at absolute offset `at`, which must lie in the first chunk. */
  patchInt32(at: number, v: number): void {
    const first = this.chunks.length > 0 ? this.chunks[0]! : this.buf;
    if (at + 4 > first.length && this.chunks.length > 0)
      throw new ProtocolError("patch offset outside the first chunk");
    first.writeInt32BE(v, at);
  }

  /** The written bytes as chunks (the writer must not be used afterwards). */
  finish(): Buffer[] {
    if (this.pos > 0) this.chunks.push(this.buf.subarray(0, this.pos));
    this.flushed += this.pos;
    this.pos = 0;
    const out = this.chunks;
    this.chunks = [];
    return out;
  }

  /** The written bytes as one Buffer. */
  finishBuffer(): Buffer {
    const chunks = this.finish();
    return chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
  }
}

function checkInt(v: number, min: number, max: number, what: string): void {
  if (!Number.isInteger(v) || v < min || v > max) throw new ProtocolError(`${what} value ${String(v)} out of range`);
}
