/**
 * Binary snapshots, formats 5, 6, 7 and 9 (docs/metadata-log.md, "Snapshots"); format 6 is format 5 followed by
 * the topic numbers (topic-numbers.ts), written when the state holds any; format 7 is format 6 (its
 * numbers possibly none) followed by the transactions (transactions.ts rows, as JSON text), written when the
 * state holds any; format 9 is format 7 (its transactions possibly none) whose segments may be index pages
 * (store code 2, run-page.ts), written when the state holds any. (8 is a snapshot object's reference,
 * store/snapshot-objects.ts.) Written in slices: the encoder gives the
 * event loop back every few milliseconds (`sliceMs`), so a snapshot of a large state never holds it for
 * long; the view was captured before (snapshot-view.ts) and the fold goes on meanwhile, saving what it
 * changes first. There is no string of the whole state, so no size limit but memory.
 *
 * The layout uses the entry codec's primitives (zigzag varlongs for numbers, unsigned varints for counts
 * and slots, compact strings). Each object key is written once: a segment names it by slot, and the
 * slot one past the last known introduces a new key, whose string follows. Offsets within a partition
 * are deltas; timestamps are absolute (a delta of two record-batch timestamps may not be exact).
 *
 * ```
 * snapshot  = "WS" format applied (uvarlong) nextProducerId logTime topics=count topic* groups=count group*
 *             fences acls scram cgroups [numbers] [txns]  the four: JSON text (rare, small)
 * numbers   = count (name topicId)*                       formats 6 and 7: number n's topic at row n; count: the counter
 * txns      = JSON text of the transaction rows           format 7
 * topic     = name topicId configs=count (key value)* partitions=count partition*
 * partition = next start bytes segments=count segment* producers=count producer*
 * segment   = baseDelta span maxTimestamp appendTime store (0 ingestion, 1 compaction, 2 page) keySlot [key] pos len
 *             [size runs objects=count (keySlot [key])*]   a page's (format 9)
 *             baseDelta: base − (previous segment's last + 1), the first segment's base as it is; span: last − base
 * producer  = producerId epoch batches=count (firstSeq lastSeq baseOffset)* time lastTimestamp
 * group     = name offsets=count (topic partition offset leaderEpoch metadata time)* time
 * ```
 *
 * Decoding is strict: every count is checked against the bytes that remain before anything is allocated,
 * unknown store codes, key slots out of order and trailing bytes are errors, and every failure is a
 * MetadataFormatError naming the snapshot.
 */
import { DEFAULT_SLICE_MS, runSteps, TimeSlicer, type Steps } from "../../../common/time-slicer.js";
import type { OffsetCommitEntry } from "./commands.js";
import { MetadataFormatError, SNAPSHOT_MAGIC } from "./format.js";
import type { Segment } from "./state.js";
import { NO_TRANSACTION_ROWS, type TransactionRows } from "./transactions.js";
import {
  holdsTransactions,
  topicOf,
  type SnapshotGroup,
  type SnapshotPartition,
  type SnapshotProducer,
  type SnapshotTopic,
  type SnapshotView,
} from "./snapshot-view.js";
import { Reader } from "../protocol/codec/reader.js";
import { Writer } from "../protocol/codec/writer.js";

export const BINARY_SNAPSHOT_FORMAT = 5;
/** Format 5 and the topic numbers: written for a state that holds any (entry level 8). */
export const NUMBERED_SNAPSHOT_FORMAT = 6;
/** Format 6 and the transactions: written for a state that holds any (entry level 10). */
export const TRANSACTIONS_SNAPSHOT_FORMAT = 7;
/** Format 7 whose segments may be index pages: written for a state that holds any (entry level 14). */
export const PAGES_SNAPSHOT_FORMAT = 9;
/** The binary snapshot formats this agent reads. */
export const BINARY_SNAPSHOT_FORMATS: readonly number[] = [
  BINARY_SNAPSHOT_FORMAT,
  NUMBERED_SNAPSHOT_FORMAT,
  TRANSACTIONS_SNAPSHOT_FORMAT,
  PAGES_SNAPSHOT_FORMAT,
];

export interface EncodedSnapshot {
  readonly data: Buffer;
  /** The longest the encoder held the event loop at once (ms). */
  readonly longestHoldMs: number;
}

const STORE_CODE = { i: 0, c: 1, p: 2 } as const;
const STORE_OF_CODE = ["i", "c", "p"] as const;

/**
 * Encodes `view`, giving the event loop back every `sliceMs`. `output` is the size of the output buffer
 * (the last snapshot's size and a margin) or a buffer to encode into, the last snapshot's, which the caller
 * no longer needs: one allocation at most, where growing by doubling allocated about three times the
 * snapshot and copied it again at the end. In an agent holding a large state, allocating tens of MiB at
 * once makes V8 collect the whole heap there and then (hundreds of milliseconds at 100,000 partitions).
 * Past the buffer's end the bytes go to further buffers, joined at the end into a new one.
 */
export async function encodeBinarySnapshot(
  view: SnapshotView,
  sliceMs: number = DEFAULT_SLICE_MS,
  output: number | Buffer = 64 * 1024,
): Promise<EncodedSnapshot> {
  const slicer = new TimeSlicer(sliceMs);
  const w = new Writer(output, SPILL_BYTES);
  w.raw(Buffer.from(SNAPSHOT_MAGIC, "latin1"));
  // Format 5 cannot hold topic numbers: a state with any is written in format 6, which older agents refuse.
  // Likewise transactions: format 7, which holds the numbers section too.
  // Pages likewise: format 9, which holds both sections.
  const paged = view.pages > 0;
  const transactional = paged || holdsTransactions(view);
  const numbered = transactional || view.topicNumbers.length > 0;
  w.uvarint(
    paged
      ? PAGES_SNAPSHOT_FORMAT
      : transactional
        ? TRANSACTIONS_SNAPSHOT_FORMAT
        : numbered
          ? NUMBERED_SNAPSHOT_FORMAT
          : BINARY_SNAPSHOT_FORMAT,
  );
  w.uvarlong(view.applied);
  w.varlongNumber(view.nextProducerId);
  w.varlongNumber(view.logTime);
  const keySlots = new Map<string, number>();
  w.uvarint(view.topics.length);
  for (const t of view.topics) {
    w.compactString(t.name);
    w.compactString(t.topicId);
    const configs = Object.entries(t.configs);
    w.uvarint(configs.length);
    for (const [k, v] of configs) {
      w.compactString(k);
      w.compactString(v);
    }
    w.uvarint(t.partitionCount);
    for (let i = 0; i < t.partitionCount; i++) await writePartition(w, t, i, keySlots, slicer);
  }
  w.uvarint(view.groups.length);
  for (const g of view.groups) {
    writeGroup(w, g);
    if (slicer.due()) await slicer.pause();
  }
  w.compactString(JSON.stringify(view.fences));
  w.compactString(JSON.stringify(view.acls));
  w.compactString(JSON.stringify(view.scram));
  w.compactString(JSON.stringify(view.cgroups));
  if (numbered) {
    w.uvarint(view.topicNumbers.length);
    for (const [name, topicId] of view.topicNumbers) {
      w.compactString(name);
      w.compactString(topicId);
    }
  }
  if (transactional) w.compactString(JSON.stringify(view.transactions));
  const data = await joinSliced(w.finish(), slicer);
  slicer.end();
  return { data, longestHoldMs: slicer.longestMs };
}

/** Buffers taken once the size hint's is full: a few MiB more, not twice the hint. */
const SPILL_BYTES = 1 << 20;
/** Bytes copied at a time while the parts are joined (the slicer reads the clock every 32 steps). */
const JOIN_STEP_BYTES = 64 * 1024;

/**
 * The parts as one buffer, copied in steps between slices: when the state outgrew the size hint,
 * joining a first part of 15 MiB with the rest at once held the lease holder's event loop for 48 to
 * 76 ms in the `scale` benchmark (2026-12-07).
 */
export async function joinSliced(parts: readonly Buffer[], slicer: TimeSlicer): Promise<Buffer> {
  if (parts.length === 1) return parts[0]!;
  const out = Buffer.allocUnsafe(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const part of parts)
    for (let from = 0; from < part.length; from += JOIN_STEP_BYTES) {
      at += part.copy(out, at, from, Math.min(part.length, from + JOIN_STEP_BYTES));
      if (slicer.due()) await slicer.pause();
    }
  return out;
}

/** Partitions of at most this many segments are written in one go from the live state, not from a copy. */
const WRITE_AT_ONCE_SEGMENTS = 2048;
/** A longer partition's segments written between checks of the slicer. */
const SEGMENTS_PER_STEP = 16;

/**
 * Writes partition `i` of `t`. Most are read and written before the next pause, straight from the live
 * state's arrays (SnapshotTopic.partition's `readNow`): copying every partition's segment list was most
 * of what a snapshot allocated. A longer one is taken as a copy and written in slices.
 */
async function writePartition(
  w: Writer,
  t: SnapshotTopic,
  i: number,
  keySlots: Map<string, number>,
  slicer: TimeSlicer,
): Promise<void> {
  const now = t.partition(i, true);
  if (now.segments.length <= WRITE_AT_ONCE_SEGMENTS) {
    writeSegments(w, now, 0, now.segments.length, keySlots);
    writeProducers(w, now);
  } else {
    const p = t.partition(i);
    // Small steps: the slicer reads the clock only every few calls.
    for (let from = 0; from < p.segments.length; from += SEGMENTS_PER_STEP) {
      writeSegments(w, p, from, Math.min(p.segments.length, from + SEGMENTS_PER_STEP), keySlots);
      if (slicer.due()) await slicer.pause();
    }
    writeProducers(w, p);
  }
  if (slicer.due()) await slicer.pause();
}

/** Segments `from` to `to` of `p`, after the partition's header when `from` is 0. */
function writeSegments(w: Writer, p: SnapshotPartition, from: number, to: number, keySlots: Map<string, number>): void {
  const segments = p.segments;
  if (from === 0) {
    w.varlongNumber(p.next);
    w.varlongNumber(p.start);
    w.varlongNumber(p.bytes);
    w.uvarint(segments.length);
  }
  // Base offsets are written as the gap after the previous segment.
  let expected = from === 0 ? 0 : segments[from - 1]!.lastOffset + 1;
  for (let i = from; i < to; i++) {
    const s = segments[i]!;
    w.varlongNumber(s.baseOffset - expected);
    w.varlongNumber(s.lastOffset - s.baseOffset);
    w.varlongNumber(s.maxTimestamp);
    w.varlongNumber(s.appendTime);
    w.uvarint(STORE_CODE[s.location.store]);
    writeKey(w, s.location.key, keySlots);
    w.varlongNumber(s.location.pos);
    w.varlongNumber(s.location.len);
    if (s.page) {
      w.varlongNumber(s.page.size);
      w.varlongNumber(s.page.runs);
      const objects = s.page.objects;
      w.uvarint(objects.length);
      for (let j = 0; j < objects.length; j++) writeKey(w, objects[j]!, keySlots);
    }
    expected = s.lastOffset + 1;
  }
}

/** An object key by slot; the slot one past the last known introduces it, its string following. */
export function writeKey(w: Writer, key: string, keySlots: Map<string, number>): void {
  const slot = keySlots.get(key);
  if (slot === undefined) {
    keySlots.set(key, keySlots.size);
    w.uvarint(keySlots.size - 1);
    w.compactString(key);
  } else {
    w.uvarint(slot);
  }
}

function writeProducers(w: Writer, p: SnapshotPartition): void {
  w.uvarint(p.producers.length);
  for (let i = 0; i < p.producers.length; i++) {
    const st = p.producers[i]!;
    w.varlongNumber(st.producerId);
    w.varlongNumber(st.epoch);
    w.uvarint(st.batches.length);
    for (let j = 0; j < st.batches.length; j++) {
      const b = st.batches[j]!;
      w.varlongNumber(b.firstSeq);
      w.varlongNumber(b.lastSeq);
      w.varlongNumber(b.baseOffset);
    }
    w.varlongNumber(st.time);
    w.varlongNumber(st.lastTimestamp);
  }
}

function writeGroup(w: Writer, g: SnapshotGroup): void {
  w.compactString(g.group);
  w.uvarint(g.offsets.length);
  for (const o of g.offsets) {
    w.compactString(o.topic);
    w.varlongNumber(o.partition);
    w.varlongNumber(o.offset);
    w.varlongNumber(o.leaderEpoch);
    w.compactNullableString(o.metadata);
    w.varlongNumber(o.time);
  }
  w.varlongNumber(g.time);
}

// ---- decoding ----

/**
 * The view a binary snapshot holds. `headerBytes`: where its body starts (format.ts storedFormat);
 * `subject` names it in errors ("metadata snapshot at log index 4000").
 */
export function decodeBinarySnapshot(
  data: Buffer,
  headerBytes: number,
  subject: string,
  format: number = BINARY_SNAPSHOT_FORMAT,
): SnapshotView {
  return runSteps(binarySnapshotSteps(data, headerBytes, subject, format));
}

/**
 * Partitions decoded or restored between two steps (a millisecond or two): a step per partition cost
 * half again the time of decoding a 100,000-partition snapshot at once.
 */
export const PARTITIONS_PER_STEP = 256;

/**
 * decodeBinarySnapshot step by step (common/time-slicer.ts Steps): it yields after each topic and every
 * PARTITIONS_PER_STEP partitions of a large one.
 */
export function* binarySnapshotSteps(
  data: Buffer,
  headerBytes: number,
  subject: string,
  format: number = BINARY_SNAPSHOT_FORMAT,
): Steps<SnapshotView> {
  const r = new Reader(data, headerBytes);
  try {
    const view = yield* readSnapshot(r, format);
    if (r.remaining > 0) throw new Error(`${r.remaining} bytes after the end`);
    return view;
  } catch (err) {
    throw new MetadataFormatError(
      `${subject} (binary, format ${format}) is malformed at byte ${r.pos}: ${(err as Error).message}`,
      format,
    );
  }
}

/** A count of items of at least `minBytes` each, checked against what remains. */
function count(r: Reader, minBytes: number, what: string): number {
  const n = r.uvarint();
  if (n * minBytes > r.remaining) throw new Error(`${what} count ${n} exceeds the ${r.remaining} bytes left`);
  return n;
}

function* readSnapshot(r: Reader, format: number): Steps<SnapshotView> {
  const applied = r.uvarlong();
  const nextProducerId = r.varlongNumber();
  const logTime = r.varlongNumber();
  const keys: string[] = [];
  const topics: SnapshotTopic[] = [];
  const pages = { count: 0, allowed: format >= PAGES_SNAPSHOT_FORMAT };
  for (let i = count(r, 4, "topic"); i > 0; i--) topics.push(yield* readTopic(r, keys, pages));
  const groups: SnapshotGroup[] = [];
  for (let i = count(r, 3, "group"); i > 0; i--) groups.push(readGroup(r));
  return {
    applied,
    nextProducerId,
    logTime,
    topics,
    groups,
    fences: jsonArray(r, "fences") as SnapshotView["fences"],
    acls: jsonArray(r, "acls") as SnapshotView["acls"],
    scram: jsonArray(r, "scram") as SnapshotView["scram"],
    cgroups: jsonArray(r, "cgroups") as SnapshotView["cgroups"],
    topicNumbers: format >= NUMBERED_SNAPSHOT_FORMAT ? readTopicNumbers(r, format) : [],
    transactions: format >= TRANSACTIONS_SNAPSHOT_FORMAT ? readTransactions(r) : NO_TRANSACTION_ROWS,
    pages: pages.count,
  };
}

/** Page segments read so far, and whether the format holds any. */
interface PageTally {
  count: number;
  readonly allowed: boolean;
}

function readTopicNumbers(r: Reader, format: number): Array<readonly [string, string]> {
  const rows: Array<readonly [string, string]> = [];
  for (let i = count(r, 2, "topic number"); i > 0; i--) rows.push([r.compactString(), r.compactString()]);
  if (rows.length === 0 && format === NUMBERED_SNAPSHOT_FORMAT) throw new Error("format 6 without topic numbers");
  return rows;
}

/** The transaction rows of format 7: a JSON object of five arrays (checked row by row when restored). */
function readTransactions(r: Reader): TransactionRows {
  const text = r.compactString();
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new Error(`transactions are not JSON: ${(err as Error).message}`, { cause: err });
  }
  const rows = (typeof value === "object" && value !== null ? value : {}) as Record<string, unknown>;
  for (const k of Object.keys(NO_TRANSACTION_ROWS))
    if (!Array.isArray(rows[k])) throw new Error(`transactions: ${k} is not an array`);
  return rows as unknown as TransactionRows;
}

function jsonArray(r: Reader, what: string): unknown[] {
  const text = r.compactString();
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new Error(`${what} is not JSON: ${(err as Error).message}`, { cause: err });
  }
  if (!Array.isArray(value)) throw new Error(`${what} is not an array`);
  return value;
}

function* readTopic(r: Reader, keys: string[], pages: PageTally): Steps<SnapshotTopic> {
  const name = r.compactString();
  const topicId = r.compactString();
  const configs: Record<string, string> = {};
  for (let i = count(r, 2, "config"); i > 0; i--) {
    const key = r.compactString();
    configs[key] = r.compactString();
  }
  const partitions: SnapshotPartition[] = [];
  for (let i = count(r, 5, "partition"); i > 0; i--) {
    partitions.push(readPartition(r, keys, pages));
    if (partitions.length % PARTITIONS_PER_STEP === 0) yield;
  }
  yield;
  return topicOf({ name, topicId, configs }, partitions);
}

/** A key written by writeKey; `keys`: those named so far, by slot. */
export function readKey(r: Reader, keys: string[]): string {
  const slot = r.uvarint();
  if (slot === keys.length) keys.push(r.compactString());
  else if (slot > keys.length) throw new Error(`key slot ${slot} before slot ${keys.length} was named`);
  return keys[slot]!;
}

function readPartition(r: Reader, keys: string[], pages: PageTally): SnapshotPartition {
  const next = r.varlongNumber();
  const start = r.varlongNumber();
  const bytes = r.varlongNumber();
  const segments: Segment[] = [];
  let expected = 0;
  for (let i = count(r, 8, "segment"); i > 0; i--) {
    const baseOffset = expected + r.varlongNumber();
    const lastOffset = baseOffset + r.varlongNumber();
    const maxTimestamp = r.varlongNumber();
    const appendTime = r.varlongNumber();
    const code = r.uvarint();
    const store = STORE_OF_CODE[code];
    if (store === undefined || (store === "p" && !pages.allowed)) throw new Error(`unknown segment store code ${code}`);
    const key = readKey(r, keys);
    const pos = r.varlongNumber();
    const len = r.varlongNumber();
    const location = { store, key, pos, len };
    if (store !== "p") segments.push({ baseOffset, lastOffset, maxTimestamp, location, appendTime });
    else {
      const size = r.varlongNumber();
      const runs = r.varlongNumber();
      const objects: string[] = [];
      for (let j = count(r, 1, "page object"); j > 0; j--) objects.push(readKey(r, keys));
      segments.push({
        baseOffset,
        lastOffset,
        maxTimestamp,
        location,
        appendTime,
        page: { size, runs, objects },
      });
      pages.count++;
    }
    expected = lastOffset + 1;
  }
  const producers: SnapshotProducer[] = [];
  for (let i = count(r, 5, "producer"); i > 0; i--) {
    const producerId = r.varlongNumber();
    const epoch = r.varlongNumber();
    const batches: Array<{ firstSeq: number; lastSeq: number; baseOffset: number }> = [];
    for (let j = count(r, 3, "producer batch"); j > 0; j--)
      batches.push({ firstSeq: r.varlongNumber(), lastSeq: r.varlongNumber(), baseOffset: r.varlongNumber() });
    producers.push({ producerId, epoch, batches, time: r.varlongNumber(), lastTimestamp: r.varlongNumber() });
  }
  return { next, start, bytes, segments, producers };
}

function readGroup(r: Reader): SnapshotGroup {
  const group = r.compactString();
  const offsets: OffsetCommitEntry[] = [];
  for (let i = count(r, 6, "offset"); i > 0; i--) {
    offsets.push({
      topic: r.compactString(),
      partition: r.varlongNumber(),
      offset: r.varlongNumber(),
      leaderEpoch: r.varlongNumber(),
      metadata: r.compactNullableString(),
      time: r.varlongNumber(),
    });
  }
  return { group, offsets, time: r.varlongNumber() };
}
