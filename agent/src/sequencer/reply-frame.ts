/**
 * The binary form of the sequencer's answers (wire.ts), for senders that ask for it (`accept`). A JSON
 * answer carries its log entries in base64: the sequencer encodes and each sender parses and decodes up
 * to a MiB of them per answer, every 50 ms window. Here the answer's small fields stay JSON and the
 * entries travel as they are stored:
 *
 *   "WSR" 0x01        magic and version (4 bytes)
 *   u32 BE            length of the head; then the head, the answer without its entries as UTF-8 JSON
 *   u32 BE            number of entries; then for each: u64 BE log index, u32 BE length, the entry's bytes
 *
 * Nothing may follow the last entry. What the head holds is checked by wire.ts, as for JSON answers.
 */
import type { LogRecord } from "../store/types.js";

/** The media type of a framed answer, asked for in a request's `accept` and named by its content type. */
export const FRAMED_REPLY_TYPE = "application/x-warp-sequencer-reply";

const MAGIC = Buffer.from([0x57, 0x53, 0x52, 0x01]);

/** `head` (JSON-serialisable, without entries) and `entries` as one framed answer. */
export function encodeReplyFrame(head: object, entries: readonly LogRecord[] = []): Buffer {
  const json = Buffer.from(JSON.stringify(head), "utf8");
  let size = MAGIC.length + 4 + json.length + 4;
  for (const e of entries) size += 12 + e.data.length;
  const out = Buffer.allocUnsafe(size);
  let at = MAGIC.copy(out, 0);
  at = out.writeUInt32BE(json.length, at);
  at += json.copy(out, at);
  at = out.writeUInt32BE(entries.length, at);
  for (const e of entries) {
    at = out.writeBigUInt64BE(e.index, at);
    at = out.writeUInt32BE(e.data.length, at);
    at += e.data.copy(out, at);
  }
  return out;
}

/**
 * A framed answer's head (parsed JSON) and entries (each copied out of `body`: folded entries are kept
 * among the log's recent ones, and a view would keep the whole answer alive); null when `body` is not a
 * whole frame (another magic, a length past the end, bytes after the last entry, a head that is not JSON).
 */
export function decodeReplyFrame(body: Buffer): { head: unknown; entries: LogRecord[] } | null {
  if (body.length < MAGIC.length + 8 || !body.subarray(0, MAGIC.length).equals(MAGIC)) return null;
  let at = MAGIC.length;
  const headLength = body.readUInt32BE(at);
  at += 4;
  if (at + headLength + 4 > body.length) return null;
  let head: unknown;
  try {
    head = JSON.parse(body.toString("utf8", at, at + headLength));
  } catch {
    return null;
  }
  at += headLength;
  const count = body.readUInt32BE(at);
  at += 4;
  const entries: LogRecord[] = [];
  for (let i = 0; i < count; i++) {
    if (at + 12 > body.length) return null;
    const index = body.readBigUInt64BE(at);
    const length = body.readUInt32BE(at + 8);
    at += 12;
    if (at + length > body.length) return null;
    entries.push({ index, data: Buffer.from(body.subarray(at, at + length)) });
    at += length;
  }
  return at === body.length ? { head, entries } : null;
}
