/**
 * Format versions of what the metadata log stores (docs/metadata-log.md, "Entry formats"). An entry or
 * snapshot of a format this agent does not read is refused with a MetadataFormatError naming the version
 * found and the versions read: the agent stops there rather than fold something it may misread.
 *
 * JSON data (entries of formats 1 and 2, snapshot format 1) starts with "{" and carries its format in
 * `v`. Binary data starts with two magic bytes and its format as an unsigned varint: "WL" for log entries
 * (format 3 on), "WS" for snapshots (no binary snapshot format exists yet; a future one starts so, and
 * this agent then names its version when refusing it).
 */
import { Reader } from "../protocol/codec/reader.js";

/**
 * A log entry or snapshot this agent cannot fold: malformed, or in a format it does not read. The one
 * error type of unreadable metadata (the log halts on it: log.ts).
 */
export class MetadataFormatError extends Error {
  override readonly name = "MetadataFormatError";
  constructor(
    message: string,
    /** The version found, when the data named one. */
    readonly formatVersion?: number,
  ) {
    super(message);
  }
}

export const ENTRY_MAGIC = "WL";
export const SNAPSHOT_MAGIC = "WS";
const JSON_START = 0x7b; // "{"

/** What the first bytes of stored data say about its format. */
export type StoredFormat =
  | { readonly kind: "json" }
  | { readonly kind: "binary"; readonly version: number; readonly headerBytes: number }
  | { readonly kind: "unknown" };

/** Reads the format of `data` from its first bytes; `magic` is the binary form's two-byte prefix. */
export function storedFormat(data: Buffer, magic: string): StoredFormat {
  if (data.length > 0 && data[0] === JSON_START) return { kind: "json" };
  if (data.length < 3 || data.toString("latin1", 0, 2) !== magic) return { kind: "unknown" };
  const r = new Reader(data, 2);
  try {
    const version = r.uvarint();
    return { kind: "binary", version, headerBytes: r.pos };
  } catch {
    return { kind: "unknown" };
  }
}

/** The first bytes of `data` in hex, for a message about data in no known format. */
export function leadingBytes(data: Buffer): string {
  return data.length === 0 ? "nothing (0 bytes)" : `0x${data.toString("hex", 0, Math.min(8, data.length))}`;
}

/** "1 and 2", "1, 2 and 3". */
export function versionList(versions: readonly number[]): string {
  return versions.length <= 1
    ? versions.join("")
    : `${versions.slice(0, -1).join(", ")} and ${versions[versions.length - 1]}`;
}

/** What to do about a version above the newest this agent reads (`newest`); nothing for another one. */
export function newerAgentHint(version: number, newest: number): string {
  return version > newest
    ? `. It was written by a newer agent: run that version here too (docs/metadata-log.md, "Entry formats")`
    : "";
}
