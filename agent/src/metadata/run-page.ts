/**
 * Index pages (docs/metadata-log.md 14.3, "Bounded state"): a partition's oldest compacted runs, listed
 * in an object of the compaction store so that the state holds one page segment for them instead of a
 * segment each (background/run-archiver.ts writes them, the fold swaps them in on `archiveRuns`, fetch
 * and ListOffsets load them through the fetch cache). A page is written once and never changed.
 *
 * The layout uses the snapshot's segment encoding (snapshot-binary.ts): zigzag varlongs for numbers,
 * unsigned varints for counts and key slots, each object key written once.
 *
 * ```
 * page = "WP" format (uvarint, 1) topicId partition runs=count run*
 * run  = baseDelta span maxTimestamp appendTime keySlot [key] pos len
 *        baseDelta: base − (previous run's last + 1), the first run's base as it is; span: last − base
 * ```
 *
 * Decoding is strict (counts checked against the bytes left, key slots in order, no trailing bytes,
 * runs in offset order); a failure is a MetadataFormatError naming the page.
 */
import { MetadataFormatError, storedFormat } from "./format.js";
import { readKey, writeKey } from "./snapshot-binary.js";
import type { Segment } from "./state.js";
import { Reader } from "../protocol/codec/reader.js";
import { Writer } from "../protocol/codec/writer.js";

export const PAGE_MAGIC = "WP";
export const PAGE_FORMAT = 1;

/** What a page holds: whose runs, and the runs as compacted segments (location.store "c"), in offset order. */
export interface RunPage {
  readonly topicId: string;
  readonly partition: number;
  readonly runs: readonly Segment[];
}

export function encodeRunPage(page: RunPage): Buffer {
  const w = new Writer(64 + page.runs.length * 32);
  w.raw(Buffer.from(PAGE_MAGIC, "latin1"));
  w.uvarint(PAGE_FORMAT);
  w.compactString(page.topicId);
  w.varlongNumber(page.partition);
  w.uvarint(page.runs.length);
  const slots = new Map<string, number>();
  let expected = 0;
  for (const s of page.runs) {
    if (s.location.store !== "c")
      throw new Error(`a page lists compacted runs only, not a ${s.location.store} segment`);
    if (s.baseOffset < expected) throw new Error("a page's runs must be in offset order");
    w.varlongNumber(s.baseOffset - expected);
    w.varlongNumber(s.lastOffset - s.baseOffset);
    w.varlongNumber(s.maxTimestamp);
    w.varlongNumber(s.appendTime);
    writeKey(w, s.location.key, slots);
    w.varlongNumber(s.location.pos);
    w.varlongNumber(s.location.len);
    expected = s.lastOffset + 1;
  }
  return w.finishBuffer();
}

/** The page `data` holds; `subject` names it in errors ("index page compacted/…"). */
export function decodeRunPage(data: Buffer, subject: string): RunPage {
  const format = storedFormat(data, PAGE_MAGIC);
  if (format.kind !== "binary")
    throw new MetadataFormatError(`${subject} is not an index page: it does not start with "${PAGE_MAGIC}"`);
  if (format.version !== PAGE_FORMAT)
    throw new MetadataFormatError(
      `${subject} has page format ${format.version}; this agent reads page format ${PAGE_FORMAT}`,
      format.version,
    );
  const r = new Reader(data, format.headerBytes);
  try {
    const topicId = r.compactString();
    const partition = r.varlongNumber();
    const n = r.uvarint();
    if (n * 8 > r.remaining) throw new Error(`run count ${n} exceeds the ${r.remaining} bytes left`);
    const keys: string[] = [];
    const runs: Segment[] = [];
    let expected = 0;
    for (let i = 0; i < n; i++) {
      const delta = r.varlongNumber();
      if (delta < 0) throw new Error(`run ${i} starts before the previous one ends`);
      const baseOffset = expected + delta;
      const span = r.varlongNumber();
      if (span < 0) throw new Error(`run ${i} ends before it starts`);
      const lastOffset = baseOffset + span;
      const maxTimestamp = r.varlongNumber();
      const appendTime = r.varlongNumber();
      const key = readKey(r, keys);
      const pos = r.varlongNumber();
      const len = r.varlongNumber();
      runs.push({ baseOffset, lastOffset, maxTimestamp, appendTime, location: { store: "c", key, pos, len } });
      expected = lastOffset + 1;
    }
    if (r.remaining > 0) throw new Error(`${r.remaining} bytes after the end`);
    return { topicId, partition, runs };
  } catch (err) {
    throw new MetadataFormatError(
      `${subject} (page format ${PAGE_FORMAT}) is malformed at byte ${r.pos}: ${(err as Error).message}`,
      PAGE_FORMAT,
    );
  }
}
