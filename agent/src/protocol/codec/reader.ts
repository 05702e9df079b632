/**
 * Bounds-checked big-endian reader over one frame. Every failure throws ProtocolError; lengths are
 * validated against the bytes that remain before anything is allocated, so a forged huge length
 * cannot make the decoder allocate or loop. Byte and records values are returned as subarrays of the
 * frame (no copy). UUIDs are returned as 32 lowercase hex characters.
 */
import { ProtocolError } from "./errors.js";

const utf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

export class Reader {
  pos: number;
  readonly end: number;

  constructor(
    readonly buf: Buffer,
    start = 0,
    end = buf.length,
  ) {
    this.pos = start;
    this.end = end;
  }

  get remaining(): number {
    return this.end - this.pos;
  }

  private need(n: number, what: string): void {
    if (n > this.end - this.pos)
      throw new ProtocolError(`truncated ${what}: need ${n} bytes at offset ${this.pos}, have ${this.end - this.pos}`);
  }

  int8(): number {
    this.need(1, "int8");
    return this.buf.readInt8(this.pos++);
  }

  uint8(): number {
    this.need(1, "uint8");
    return this.buf[this.pos++]!;
  }

  bool(): boolean {
    this.need(1, "boolean");
    return this.buf[this.pos++] !== 0;
  }

  int16(): number {
    this.need(2, "int16");
    const v = this.buf.readInt16BE(this.pos);
    this.pos += 2;
    return v;
  }

  uint16(): number {
    this.need(2, "uint16");
    const v = this.buf.readUInt16BE(this.pos);
    this.pos += 2;
    return v;
  }

  int32(): number {
    this.need(4, "int32");
    const v = this.buf.readInt32BE(this.pos);
    this.pos += 4;
    return v;
  }

  uint32(): number {
    this.need(4, "uint32");
    const v = this.buf.readUInt32BE(this.pos);
    this.pos += 4;
    return v;
  }

  int64(): bigint {
    this.need(8, "int64");
    const v = this.buf.readBigInt64BE(this.pos);
    this.pos += 8;
    return v;
  }

  float64(): number {
    this.need(8, "float64");
    const v = this.buf.readDoubleBE(this.pos);
    this.pos += 8;
    return v;
  }

  /** Unsigned varint of at most 32 bits (5 bytes). */
  uvarint(): number {
    if (this.pos < this.end) {
      const first = this.buf[this.pos]!;
      if (first < 0x80) {
        this.pos++;
        return first;
      }
    }
    let result = 0;
    let shift = 0;
    for (let i = 0; i < 5; i++) {
      if (this.pos >= this.end) throw new ProtocolError(`truncated varint at offset ${this.pos}`);
      const b = this.buf[this.pos++]!;
      if (i === 4 && b > 0x0f) throw new ProtocolError("unsigned varint exceeds 32 bits");
      result += (b & 0x7f) * 2 ** shift;
      if ((b & 0x80) === 0) return result;
      shift += 7;
    }
    throw new ProtocolError("unsigned varint longer than 5 bytes");
  }

  /** Zigzag-encoded signed varint (int32). */
  varint(): number {
    const u = this.uvarint();
    return u % 2 === 0 ? u / 2 : -(u + 1) / 2;
  }

  /** Unsigned varlong of at most 64 bits (10 bytes). */
  uvarlong(): bigint {
    let result = 0n;
    let shift = 0n;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.end) throw new ProtocolError(`truncated varlong at offset ${this.pos}`);
      const b = this.buf[this.pos++]!;
      if (i === 9 && b > 0x01) throw new ProtocolError("unsigned varlong exceeds 64 bits");
      result |= BigInt(b & 0x7f) << shift;
      if ((b & 0x80) === 0) return result;
      shift += 7n;
    }
    throw new ProtocolError("unsigned varlong longer than 10 bytes");
  }

  /** Zigzag-encoded signed varlong (int64). */
  varlong(): bigint {
    const u = this.uvarlong();
    return (u >> 1n) ^ -(u & 1n);
  }

  /**
   * Zigzag varlong read as a number (Writer.varlongNumber): exact for every int64 that is a safe
   * integer; larger ones come back as Number() rounds them. Up to seven bytes (zigzag values under 2^49:
   * timestamps, offsets) stay in number arithmetic, without a BigInt.
   */
  varlongNumber(): number {
    let u = 0;
    for (let i = 0, scale = 1; i < 7 && this.pos + i < this.end; i++, scale *= 128) {
      const b = this.buf[this.pos + i]!;
      u += (b & 0x7f) * scale;
      if (b < 0x80) {
        this.pos += i + 1;
        return u % 2 === 0 ? u / 2 : -(u + 1) / 2;
      }
    }
    return Number(this.varlong());
  }

  uuid(): string {
    this.need(16, "uuid");
    const s = this.buf.toString("hex", this.pos, this.pos + 16);
    this.pos += 16;
    return s;
  }

  private text(len: number): string {
    this.need(len, "string");
    const buf = this.buf;
    const start = this.pos;
    const stop = start + len;
    this.pos = stop;
    for (let i = start; i < stop; i++) {
      if (buf[i]! >= 0x80) {
        try {
          return utf8.decode(buf.subarray(start, stop));
        } catch {
          throw new ProtocolError(`invalid UTF-8 in string at offset ${start}`);
        }
      }
    }
    return buf.toString("latin1", start, stop);
  }

  string(): string {
    const len = this.int16();
    if (len < 0) throw new ProtocolError(`negative string length ${len}`);
    return this.text(len);
  }

  nullableString(): string | null {
    const len = this.int16();
    if (len === -1) return null;
    if (len < 0) throw new ProtocolError(`invalid nullable string length ${len}`);
    return this.text(len);
  }

  compactString(): string {
    const n = this.uvarint();
    if (n === 0) throw new ProtocolError("null compact string where a string is required");
    return this.text(n - 1);
  }

  compactNullableString(): string | null {
    const n = this.uvarint();
    if (n === 0) return null;
    return this.text(n - 1);
  }

  /** `len` raw bytes as a subarray of the frame. */
  raw(len: number): Buffer {
    this.need(len, "bytes");
    const b = this.buf.subarray(this.pos, this.pos + len);
    this.pos += len;
    return b;
  }

  bytes(): Buffer {
    const len = this.int32();
    if (len < 0) throw new ProtocolError(`negative bytes length ${len}`);
    return this.raw(len);
  }

  nullableBytes(): Buffer | null {
    const len = this.int32();
    if (len === -1) return null;
    if (len < 0) throw new ProtocolError(`invalid nullable bytes length ${len}`);
    return this.raw(len);
  }

  compactBytes(): Buffer {
    const n = this.uvarint();
    if (n === 0) throw new ProtocolError("null compact bytes where bytes are required");
    return this.raw(n - 1);
  }

  compactNullableBytes(): Buffer | null {
    const n = this.uvarint();
    if (n === 0) return null;
    return this.raw(n - 1);
  }

  /** Records (raw RecordBatch bytes): nullable bytes, kept as a subarray. */
  records(): Buffer | null {
    return this.nullableBytes();
  }

  compactRecords(): Buffer | null {
    return this.compactNullableBytes();
  }

  /**
   * Array length (int32, -1 = null). `minElementBytes` (>= 1 assumed) bounds the count by the bytes
   * that remain, before any allocation.
   */
  arrayLength(minElementBytes: number): number | null {
    const n = this.int32();
    if (n === -1) return null;
    if (n < 0) throw new ProtocolError(`invalid array length ${n}`);
    this.checkCount(n, minElementBytes);
    return n;
  }

  /** Compact array length (unsigned varint N+1, 0 = null). */
  compactArrayLength(minElementBytes: number): number | null {
    const n = this.uvarint();
    if (n === 0) return null;
    this.checkCount(n - 1, minElementBytes);
    return n - 1;
  }

  private checkCount(n: number, minElementBytes: number): void {
    if (n * Math.max(1, minElementBytes) > this.end - this.pos) {
      throw new ProtocolError(`array length ${n} exceeds the ${this.end - this.pos} bytes that remain`);
    }
  }

  /**
   * Reads a tagged-field block. `onTag(tag, reader)` gets a reader bounded to the field's bytes and
   * returns false for unknown tags (skipped). A known field must consume exactly its declared size.
   */
  taggedFields(onTag: ((tag: number, r: Reader) => boolean) | null): void {
    const count = this.uvarint();
    if (count > this.end - this.pos) throw new ProtocolError(`tagged field count ${count} exceeds the remaining bytes`);
    let last = -1;
    for (let i = 0; i < count; i++) {
      const tag = this.uvarint();
      if (tag <= last) throw new ProtocolError(`tagged fields out of order (${tag} after ${last})`);
      last = tag;
      const size = this.uvarint();
      this.need(size, "tagged field");
      const stop = this.pos + size;
      if (onTag) {
        const sub = new Reader(this.buf, this.pos, stop);
        if (onTag(tag, sub) && sub.pos !== stop) {
          throw new ProtocolError(`tagged field ${tag} declared ${size} bytes but used ${sub.pos - (stop - size)}`);
        }
      }
      this.pos = stop;
    }
  }
}
