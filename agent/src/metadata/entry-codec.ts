/**
 * The bytes of a metadata log entry (docs/metadata-log.md, "Entry formats").
 *
 * Format 2 (binary) is what agents write: "WL", the format version, a header, then each command as a
 * tag and its fields. Numbers are zigzag varlongs, counts unsigned varints, strings a varint length and
 * UTF-8 (the Kafka protocol layer's Reader and Writer). A command names each of its topics once, in a
 * table at its start, and refers to them by slot; a commitFile's batches come in runs of one partition,
 * with positions and timestamps relative to what the run and the command already say.
 *
 * Format 1 (JSON, `{v: 1, proposer, seq, time?, commands}`) is what agents wrote before, and still write
 * while a live agent reads only format 1 (entryFormatFor). A format 1 entry is read by converting it to
 * format 2 and decoding that: one decoder validates both, and a command folds the same from either.
 *
 * Decoding is strict and bounded: every count is checked against the bytes that remain before anything
 * is allocated, unknown tags and flags, trailing bytes and truncation are errors, and an entry is decoded
 * whole before the fold sees any of it. Every failure is a MetadataFormatError naming the entry's index.
 */
import type {
  BatchMeta,
  Command,
  CommitFileCommand,
  CommitOffsetsCommand,
  CompactCommand,
  LogEntry,
  OffsetCommitEntry,
} from "./commands.js";
import { ENTRY_MAGIC, MetadataFormatError, leadingBytes, newerAgentHint, storedFormat, versionList } from "./format.js";
import { Reader } from "../protocol/codec/reader.js";
import { Writer } from "../protocol/codec/writer.js";

export type EntryFormat = 1 | 2;
export const JSON_ENTRY_FORMAT = 1;
export const BINARY_ENTRY_FORMAT = 2;
/** The newest entry format this agent reads (and writes once every live agent reads it). */
export const LATEST_ENTRY_FORMAT: EntryFormat = BINARY_ENTRY_FORMAT;
/** Every entry format this agent reads. */
export const READABLE_ENTRY_FORMATS: readonly EntryFormat[] = [JSON_ENTRY_FORMAT, BINARY_ENTRY_FORMAT];

/**
 * The format to write so that every agent reading the log can read it: the newest format all of them
 * read (each agent advertises its newest; one that advertises none, an agent from before format 2,
 * reads format 1).
 */
export function entryFormatFor(readers: Iterable<number | undefined>): EntryFormat {
  let format: number = LATEST_ENTRY_FORMAT;
  for (const r of readers) format = Math.min(format, r ?? JSON_ENTRY_FORMAT);
  return format >= BINARY_ENTRY_FORMAT ? BINARY_ENTRY_FORMAT : JSON_ENTRY_FORMAT;
}

// ---- format 1 ----

export function encodeJsonEntry(entry: LogEntry): Buffer {
  return Buffer.from(JSON.stringify({ v: JSON_ENTRY_FORMAT, ...entry }), "utf8");
}

/** Bytes a command takes in a format 1 entry (its JSON and a comma). */
export function jsonCommandSize(command: Command): number {
  return Buffer.byteLength(JSON.stringify(command), "utf8") + 1;
}

// ---- format 2: writing ----

const TAG = {
  createTopic: 1,
  deleteTopic: 2,
  createPartitions: 3,
  alterConfigs: 4,
  commitFile: 5,
  commitOffsets: 6,
  coordinateGroup: 7,
  groupGeneration: 8,
  deleteGroup: 9,
  allocateProducerId: 10,
  compact: 11,
  truncate: 12,
} as const satisfies Record<Command["type"], number>;

/** Entry header flags. */
const HAS_TIME = 1;
const PROPOSER_IS_HEX = 2;
/** commitFile batch flags. */
const BATCH_HAS_PRODUCER = 1;
const BATCH_HAS_POS = 2;
const BATCH_ABSOLUTE_TIMESTAMP = 4;

/** commitOffsets flags. */
const HAS_COORDINATOR_EPOCH = 1;
const HAS_GENERATION_ID = 2;
/** Offset flags. */
const OFFSET_ABSOLUTE_TIME = 1;
/** Topic id forms. */
const ID_ABSENT = 0;
const ID_UUID = 1;
const ID_STRING = 2;

const UUID_HEX = /^[0-9a-f]{32}$/;
const HEX = /^(?:[0-9a-f]{2})*$/;
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;
const NO_PRODUCER = -1;

/** A value the format cannot hold exactly: the command is refused before it reaches an entry. */
export class CommandEncodingError extends TypeError {
  override readonly name = "CommandEncodingError";
}

function str(w: Writer, v: unknown, what: string): void {
  // A lone surrogate would come back as U+FFFD: refused rather than changed.
  if (typeof v !== "string" || LONE_SURROGATE.test(v)) throw new CommandEncodingError(`${what} is not a string`);
  w.compactString(v);
}

function nullableStr(w: Writer, v: unknown, what: string): void {
  if (v === null) w.compactNullableString(null);
  else str(w, v, what);
}

function int(w: Writer, v: unknown, what: string): void {
  if (typeof v !== "number" || !Number.isInteger(v))
    throw new CommandEncodingError(`${what} is not an integer: ${String(v)}`);
  w.varlongNumber(v);
}

/** A value that is never negative nor above 32 bits (a partition, a batch's length and record count). */
function u32(w: Writer, v: unknown, what: string): void {
  if (typeof v !== "number" || !Number.isInteger(v) || v < 0 || v > 0xffffffff)
    throw new CommandEncodingError(`${what} is not an unsigned 32-bit integer: ${String(v)}`);
  w.uvarint(v);
}

function list<T>(v: readonly T[], what: string): readonly T[] {
  if (!Array.isArray(v)) throw new CommandEncodingError(`${what} is not a list`);
  return v;
}

function topicId(w: Writer, v: unknown): void {
  if (v === undefined) w.uvarint(ID_ABSENT);
  else if (typeof v === "string" && UUID_HEX.test(v)) {
    w.uvarint(ID_UUID);
    w.uuid(v);
  } else {
    w.uvarint(ID_STRING);
    str(w, v, "topic id");
  }
}

function stringRecord(w: Writer, v: unknown, what: string, nullable: boolean): void {
  if (typeof v !== "object" || v === null || Array.isArray(v))
    throw new CommandEncodingError(`${what} is not an object`);
  const entries = Object.entries(v);
  w.uvarint(entries.length);
  for (const [k, value] of entries) {
    str(w, k, `${what} key`);
    if (nullable) nullableStr(w, value, `${what}.${k}`);
    else str(w, value, `${what}.${k}`);
  }
}

/**
 * The topics a command refers to, each once: written as a table (name, and an id where the command
 * carries one) before the command's items, which then name a slot.
 */
class TopicTable {
  private readonly slots = new Map<string, number>();
  private readonly topics: Array<{ name: string; id: string | undefined }> = [];

  slot(name: string, id?: string): number {
    if (typeof name !== "string") throw new CommandEncodingError(`topic ${String(name)} is not a string`);
    const key = id === undefined ? `-${name}` : `+${id}\u0000${name}`;
    let slot = this.slots.get(key);
    if (slot === undefined) {
      slot = this.topics.length;
      this.slots.set(key, slot);
      this.topics.push({ name, id });
    }
    return slot;
  }

  write(w: Writer, withIds: boolean): void {
    w.uvarint(this.topics.length);
    for (const t of this.topics) {
      str(w, t.name, "topic");
      if (withIds) topicId(w, t.id);
    }
  }
}

/** Ends of the runs of consecutive items that `same` groups, as [start, end) pairs. */
function runsOf<T>(items: readonly T[], same: (a: T, b: T) => boolean): Array<[number, number]> {
  const runs: Array<[number, number]> = [];
  let start = 0;
  for (let i = 1; i <= items.length; i++) {
    if (i === items.length || !same(items[start]!, items[i]!)) {
      if (i > start) runs.push([start, i]);
      start = i;
    }
  }
  return runs;
}

/** `value` as a delta from `base` when that gives it back exactly, else null. */
function delta(value: number, base: number): number | null {
  const d = value - base;
  return Number.isSafeInteger(d) && base + d === value ? d : null;
}

function writeCommitFile(w: Writer, c: CommitFileCommand): void {
  str(w, c.key, "commitFile key");
  int(w, c.size, "commitFile size");
  int(w, c.time, "commitFile time");
  const batches = list(c.batches, "commitFile batches");
  const table = new TopicTable();
  for (const b of batches) table.slot(b.topic);
  table.write(w, false);
  // A producer's batches to several partitions share a file: each producer id and epoch is written once.
  const producers = new Map<string, number>();
  const hasProducer = (b: BatchMeta) =>
    b.producerId !== NO_PRODUCER || b.producerEpoch !== NO_PRODUCER || b.baseSequence !== NO_PRODUCER;
  const producerKey = (b: BatchMeta) => `${b.producerId}/${b.producerEpoch}`;
  const producerList: BatchMeta[] = [];
  for (const b of batches) {
    if (!hasProducer(b) || producers.has(producerKey(b))) continue;
    producers.set(producerKey(b), producerList.length);
    producerList.push(b);
  }
  w.uvarint(producerList.length);
  for (const b of producerList) {
    int(w, b.producerId, "commitFile producerId");
    int(w, b.producerEpoch, "commitFile producerEpoch");
  }
  const runs = runsOf(batches, (a, b) => a.topic === b.topic && a.partition === b.partition);
  w.uvarint(runs.length);
  // Batches usually lie back to back in the file: a batch at the end of the previous one omits `pos`.
  let nextPos = 0;
  for (const [start, end] of runs) {
    const first = batches[start]!;
    w.uvarint(table.slot(first.topic));
    u32(w, first.partition, "commitFile partition");
    w.uvarint(end - start);
    for (let i = start; i < end; i++) {
      const b = batches[i]!;
      const producer = hasProducer(b);
      const pos = b.pos !== nextPos;
      const relative = typeof b.maxTimestamp === "number" ? delta(b.maxTimestamp, c.time) : null;
      w.uvarint(
        (producer ? BATCH_HAS_PRODUCER : 0) |
          (pos ? BATCH_HAS_POS : 0) |
          (relative === null ? BATCH_ABSOLUTE_TIMESTAMP : 0),
      );
      if (pos) int(w, b.pos, "commitFile pos");
      u32(w, b.len, "commitFile len");
      u32(w, b.count, "commitFile count");
      int(w, relative ?? b.maxTimestamp, "commitFile maxTimestamp");
      if (producer) {
        w.uvarint(producers.get(producerKey(b))!);
        int(w, b.baseSequence, "commitFile baseSequence");
      }
      nextPos = b.pos + b.len;
    }
  }
}

function writeCommitOffsets(w: Writer, c: CommitOffsetsCommand): void {
  str(w, c.group, "commitOffsets group");
  const hasEpoch = c.coordinatorEpoch !== undefined;
  const hasGeneration = c.generationId !== undefined;
  w.uvarint((hasEpoch ? HAS_COORDINATOR_EPOCH : 0) | (hasGeneration ? HAS_GENERATION_ID : 0));
  if (hasEpoch) int(w, c.coordinatorEpoch, "commitOffsets coordinatorEpoch");
  if (hasGeneration) int(w, c.generationId, "commitOffsets generationId");
  const offsets = list(c.offsets, "commitOffsets offsets");
  const table = new TopicTable();
  for (const o of offsets) table.slot(o.topic);
  table.write(w, false);
  const runs = runsOf(offsets, (a, b) => a.topic === b.topic);
  w.uvarint(runs.length);
  // A commit's offsets usually share one time: each after the first is written relative to the one before.
  let previousTime = 0;
  for (const [start, end] of runs) {
    w.uvarint(table.slot(offsets[start]!.topic));
    w.uvarint(end - start);
    for (let i = start; i < end; i++) {
      const o = offsets[i]!;
      const relative = typeof o.time === "number" ? delta(o.time, previousTime) : null;
      w.uvarint(relative === null ? OFFSET_ABSOLUTE_TIME : 0);
      int(w, o.partition, "commitOffsets partition");
      int(w, o.offset, "commitOffsets offset");
      int(w, o.leaderEpoch, "commitOffsets leaderEpoch");
      nullableStr(w, o.metadata, "commitOffsets metadata");
      int(w, relative ?? o.time, "commitOffsets time");
      previousTime = o.time;
    }
  }
}

function writeCompact(w: Writer, c: CompactCommand): void {
  str(w, c.key, "compact key");
  int(w, c.size, "compact size");
  const runs = list(c.runs, "compact runs");
  const table = new TopicTable();
  for (const r of runs) table.slot(r.topic, r.topicId);
  table.write(w, true);
  w.uvarint(runs.length);
  for (const r of runs) {
    w.uvarint(table.slot(r.topic, r.topicId));
    int(w, r.partition, "compact partition");
    int(w, r.baseOffset, "compact baseOffset");
    int(w, r.lastOffset, "compact lastOffset");
    int(w, r.maxTimestamp, "compact maxTimestamp");
    int(w, r.pos, "compact pos");
    int(w, r.len, "compact len");
  }
  const files = list(c.replacedFiles, "compact replacedFiles");
  w.uvarint(files.length);
  for (const f of files) str(w, f, "compact replacedFiles");
}

function writeCommand(w: Writer, c: Command): void {
  if (typeof c !== "object" || c === null) throw new CommandEncodingError("a command is not an object");
  if (!Object.hasOwn(TAG, c.type)) throw new CommandEncodingError(`unknown command type ${JSON.stringify(c.type)}`);
  w.uvarint(TAG[c.type]);
  switch (c.type) {
    case "createTopic":
      str(w, c.name, "createTopic name");
      if (c.topicId === undefined) throw new CommandEncodingError("createTopic topicId is missing");
      topicId(w, c.topicId);
      int(w, c.partitions, "createTopic partitions");
      stringRecord(w, c.configs, "createTopic configs", false);
      return;
    case "deleteTopic":
      str(w, c.name, "deleteTopic name");
      return;
    case "createPartitions":
      str(w, c.name, "createPartitions name");
      int(w, c.count, "createPartitions count");
      return;
    case "alterConfigs":
      str(w, c.name, "alterConfigs name");
      stringRecord(w, c.set, "alterConfigs set", true);
      if (typeof c.replace !== "boolean") throw new CommandEncodingError("alterConfigs replace is not a boolean");
      w.uvarint(c.replace ? 1 : 0);
      return;
    case "commitFile":
      return writeCommitFile(w, c);
    case "commitOffsets":
      return writeCommitOffsets(w, c);
    case "coordinateGroup":
      str(w, c.group, "coordinateGroup group");
      str(w, c.coordinator, "coordinateGroup coordinator");
      return;
    case "groupGeneration":
      str(w, c.group, "groupGeneration group");
      int(w, c.coordinatorEpoch, "groupGeneration coordinatorEpoch");
      int(w, c.generationId, "groupGeneration generationId");
      return;
    case "deleteGroup":
      str(w, c.group, "deleteGroup group");
      return;
    case "allocateProducerId":
      return;
    case "compact":
      return writeCompact(w, c);
    case "truncate":
      str(w, c.topic, "truncate topic");
      int(w, c.partition, "truncate partition");
      int(w, c.offset, "truncate offset");
      return;
  }
}

/**
 * One command in format 2, as it goes into an entry. Throws CommandEncodingError for a value the format
 * cannot hold exactly (the proposer refuses that command alone).
 */
export function encodeCommand(command: Command): Buffer {
  const w = new Writer(64);
  try {
    writeCommand(w, command);
  } catch (err) {
    if (err instanceof CommandEncodingError) throw err;
    throw new CommandEncodingError(`metadata command cannot be encoded: ${(err as Error).message}`);
  }
  return w.finishBuffer();
}

/** Header fields of an entry. */
export type EntryHeader = Omit<LogEntry, "commands">;

/** A format 2 entry from its header and its commands already encoded (encodeCommand). */
export function encodeEntryFrom(header: EntryHeader, commands: readonly Buffer[]): Buffer {
  const w = new Writer(64);
  w.raw(Buffer.from(ENTRY_MAGIC, "latin1"));
  w.uvarint(BINARY_ENTRY_FORMAT);
  // MetadataLog's proposer ids are random hex: written as their bytes.
  const hex = typeof header.proposer === "string" && HEX.test(header.proposer);
  w.uvarint((header.time !== undefined ? HAS_TIME : 0) | (hex ? PROPOSER_IS_HEX : 0));
  if (hex) w.compactBytes(Buffer.from(header.proposer, "hex"));
  else str(w, header.proposer, "proposer");
  int(w, header.seq, "seq");
  if (header.time !== undefined) int(w, header.time, "time");
  w.uvarint(commands.length);
  for (const c of commands) w.raw(c);
  return w.finishBuffer();
}

/** An entry in `format` (2 unless every agent reading the log must read it as format 1). */
export function encodeEntry(entry: LogEntry, format: EntryFormat = LATEST_ENTRY_FORMAT): Buffer {
  if (format === JSON_ENTRY_FORMAT) return encodeJsonEntry(entry);
  return encodeEntryFrom(entry, list(entry.commands, "commands").map(encodeCommand));
}

// ---- format 2: reading ----

/** A structural problem inside an entry (wrapped into a MetadataFormatError with the entry's index). */
class Malformed extends Error {}

/**
 * Bytes the smallest encoding of one item takes (a slot, number, flags or empty string is one byte): a
 * count above the bytes that remain divided by this is malformed, and refused before allocating.
 */
const MIN_BYTES = {
  command: 1,
  topic: 1,
  topicWithId: 2,
  /** id, epoch */
  producer: 2,
  batch: 4,
  /** slot, partition, batch count, a batch */
  batchRun: 3 + 4,
  offset: 6,
  /** slot, offset count, an offset */
  offsetRun: 2 + 6,
  compactRun: 7,
  configKey: 2,
  file: 1,
} as const;

function count(r: Reader, minBytes: number, what: string): number {
  const n = r.uvarint();
  if (n * minBytes > r.remaining) throw new Malformed(`${n} ${what} cannot fit in the ${r.remaining} bytes left`);
  return n;
}

function flags(r: Reader, known: number, what: string): number {
  const f = r.uvarint();
  if ((f & ~known) !== 0) throw new Malformed(`unknown ${what} flags ${f}`);
  return f;
}

function readTopicId(r: Reader): string | undefined {
  const form = r.uvarint();
  if (form === ID_ABSENT) return undefined;
  if (form === ID_UUID) return r.uuid();
  if (form === ID_STRING) return r.compactString();
  throw new Malformed(`unknown topic id form ${form}`);
}

function readTopics(r: Reader, withIds: boolean): Array<{ name: string; id: string | undefined }> {
  const n = count(r, withIds ? MIN_BYTES.topicWithId : MIN_BYTES.topic, "topics");
  const topics: Array<{ name: string; id: string | undefined }> = [];
  for (let i = 0; i < n; i++) topics.push({ name: r.compactString(), id: withIds ? readTopicId(r) : undefined });
  return topics;
}

function slot<T>(r: Reader, table: readonly T[], what = "topic"): T {
  const s = r.uvarint();
  const t = table[s];
  if (t === undefined) throw new Malformed(`${what} slot ${s} of a table of ${table.length}`);
  return t;
}

function readStringRecord(r: Reader, nullable: false): Record<string, string>;
function readStringRecord(r: Reader, nullable: true): Record<string, string | null>;
function readStringRecord(r: Reader, nullable: boolean): Record<string, string | null> {
  const n = count(r, MIN_BYTES.configKey, "keys");
  const pairs: Array<[string, string | null]> = [];
  const seen = new Set<string>();
  for (let i = 0; i < n; i++) {
    const k = r.compactString();
    if (seen.has(k)) throw new Malformed(`key ${JSON.stringify(k)} twice`);
    seen.add(k);
    pairs.push([k, nullable ? r.compactNullableString() : r.compactString()]);
  }
  // fromEntries defines own properties: a key such as "__proto__" stays a key.
  return Object.fromEntries(pairs);
}

function readCommitFile(r: Reader): CommitFileCommand {
  const key = r.compactString();
  const size = r.varlongNumber();
  const time = r.varlongNumber();
  const topics = readTopics(r, false);
  const producerCount = count(r, MIN_BYTES.producer, "producers");
  const producers: Array<[number, number]> = [];
  for (let i = 0; i < producerCount; i++) producers.push([r.varlongNumber(), r.varlongNumber()]);
  const runs = count(r, MIN_BYTES.batchRun, "runs");
  const batches: BatchMeta[] = [];
  let nextPos = 0;
  for (let i = 0; i < runs; i++) {
    const topic = slot(r, topics).name;
    const partition = r.uvarint();
    const n = count(r, MIN_BYTES.batch, "batches");
    if (n === 0) throw new Malformed("a run without batches");
    for (let j = 0; j < n; j++) {
      const f = flags(r, BATCH_HAS_PRODUCER | BATCH_HAS_POS | BATCH_ABSOLUTE_TIMESTAMP, "batch");
      const pos = f & BATCH_HAS_POS ? r.varlongNumber() : nextPos;
      const len = r.uvarint();
      const records = r.uvarint();
      const timestamp = r.varlongNumber();
      const producer = f & BATCH_HAS_PRODUCER ? slot(r, producers, "producer") : null;
      batches.push({
        topic,
        partition,
        pos,
        len,
        count: records,
        maxTimestamp: f & BATCH_ABSOLUTE_TIMESTAMP ? timestamp : time + timestamp,
        producerId: producer ? producer[0] : NO_PRODUCER,
        producerEpoch: producer ? producer[1] : NO_PRODUCER,
        baseSequence: producer ? r.varlongNumber() : NO_PRODUCER,
      });
      nextPos = pos + len;
    }
  }
  return { type: "commitFile", key, size, time, batches };
}

function readCommitOffsets(r: Reader): CommitOffsetsCommand {
  const group = r.compactString();
  const f = flags(r, HAS_COORDINATOR_EPOCH | HAS_GENERATION_ID, "commitOffsets");
  const coordinatorEpoch = f & HAS_COORDINATOR_EPOCH ? r.varlongNumber() : undefined;
  const generationId = f & HAS_GENERATION_ID ? r.varlongNumber() : undefined;
  const topics = readTopics(r, false);
  const runs = count(r, MIN_BYTES.offsetRun, "runs");
  const offsets: OffsetCommitEntry[] = [];
  let previousTime = 0;
  for (let i = 0; i < runs; i++) {
    const topic = slot(r, topics).name;
    const n = count(r, MIN_BYTES.offset, "offsets");
    if (n === 0) throw new Malformed("a run without offsets");
    for (let j = 0; j < n; j++) {
      const absolute = flags(r, OFFSET_ABSOLUTE_TIME, "offset") !== 0;
      const partition = r.varlongNumber();
      const offset = r.varlongNumber();
      const leaderEpoch = r.varlongNumber();
      const metadata = r.compactNullableString();
      const t = r.varlongNumber();
      const time = absolute ? t : previousTime + t;
      offsets.push({ topic, partition, offset, leaderEpoch, metadata, time });
      previousTime = time;
    }
  }
  return {
    type: "commitOffsets",
    group,
    offsets,
    ...(coordinatorEpoch !== undefined ? { coordinatorEpoch } : {}),
    ...(generationId !== undefined ? { generationId } : {}),
  };
}

function readCompact(r: Reader): CompactCommand {
  const key = r.compactString();
  const size = r.varlongNumber();
  const topics = readTopics(r, true);
  const n = count(r, MIN_BYTES.compactRun, "runs");
  const runs: Array<CompactCommand["runs"][number]> = [];
  for (let i = 0; i < n; i++) {
    const topic = slot(r, topics);
    runs.push({
      topic: topic.name,
      ...(topic.id !== undefined ? { topicId: topic.id } : {}),
      partition: r.varlongNumber(),
      baseOffset: r.varlongNumber(),
      lastOffset: r.varlongNumber(),
      maxTimestamp: r.varlongNumber(),
      pos: r.varlongNumber(),
      len: r.varlongNumber(),
    });
  }
  const files = count(r, MIN_BYTES.file, "replaced files");
  const replacedFiles: string[] = [];
  for (let i = 0; i < files; i++) replacedFiles.push(r.compactString());
  return { type: "compact", key, size, runs, replacedFiles };
}

function readCommand(r: Reader): Command {
  const tag = r.uvarint();
  switch (tag) {
    case TAG.createTopic: {
      const name = r.compactString();
      const id = readTopicId(r);
      if (id === undefined) throw new Malformed("createTopic without a topic id");
      return {
        type: "createTopic",
        name,
        topicId: id,
        partitions: r.varlongNumber(),
        configs: readStringRecord(r, false),
      };
    }
    case TAG.deleteTopic:
      return { type: "deleteTopic", name: r.compactString() };
    case TAG.createPartitions:
      return { type: "createPartitions", name: r.compactString(), count: r.varlongNumber() };
    case TAG.alterConfigs: {
      const name = r.compactString();
      const set = readStringRecord(r, true);
      const replace = r.uvarint();
      if (replace > 1) throw new Malformed(`alterConfigs replace ${replace}`);
      return { type: "alterConfigs", name, set, replace: replace === 1 };
    }
    case TAG.commitFile:
      return readCommitFile(r);
    case TAG.commitOffsets:
      return readCommitOffsets(r);
    case TAG.coordinateGroup:
      return { type: "coordinateGroup", group: r.compactString(), coordinator: r.compactString() };
    case TAG.groupGeneration:
      return {
        type: "groupGeneration",
        group: r.compactString(),
        coordinatorEpoch: r.varlongNumber(),
        generationId: r.varlongNumber(),
      };
    case TAG.deleteGroup:
      return { type: "deleteGroup", group: r.compactString() };
    case TAG.allocateProducerId:
      return { type: "allocateProducerId" };
    case TAG.compact:
      return readCompact(r);
    case TAG.truncate:
      return { type: "truncate", topic: r.compactString(), partition: r.varlongNumber(), offset: r.varlongNumber() };
    default:
      throw new Malformed(`unknown command tag ${tag}`);
  }
}

function readEntry(r: Reader): LogEntry {
  const f = flags(r, HAS_TIME | PROPOSER_IS_HEX, "entry");
  const proposer = f & PROPOSER_IS_HEX ? r.compactBytes().toString("hex") : r.compactString();
  const seq = r.varlongNumber();
  const time = f & HAS_TIME ? r.varlongNumber() : undefined;
  const n = count(r, MIN_BYTES.command, "commands");
  const commands: Command[] = [];
  for (let i = 0; i < n; i++) commands.push(readCommand(r));
  if (r.remaining !== 0) throw new Malformed(`${r.remaining} bytes after the last command`);
  return { proposer, seq, ...(time !== undefined ? { time } : {}), commands };
}

function subject(index: bigint | undefined): string {
  return index === undefined ? "metadata log entry" : `metadata log entry ${index}`;
}

const READS = `this agent reads entry format versions ${versionList(READABLE_ENTRY_FORMATS)}`;

function unknownVersion(index: bigint | undefined, version: number, json: boolean): MetadataFormatError {
  return new MetadataFormatError(
    `${subject(index)} has format version ${version}${json ? " in JSON" : ""}; ${READS} (1 in JSON, 2 binary)` +
      newerAgentHint(version, LATEST_ENTRY_FORMAT),
    version,
  );
}

function malformed(index: bigint | undefined, version: number, err: unknown): MetadataFormatError {
  const why = err instanceof Error ? err.message : String(err);
  return new MetadataFormatError(`${subject(index)} (format ${version}) is malformed: ${why}`, version);
}

/** The magic and the format version (one varint byte) before a format 2 entry's header. */
const BINARY_PREFIX_BYTES = ENTRY_MAGIC.length + 1;

function decodeBinary(data: Buffer, start: number, index: bigint | undefined, format: EntryFormat): LogEntry {
  try {
    return readEntry(new Reader(data, start));
  } catch (err) {
    throw malformed(index, format, err);
  }
}

function decodeJson(data: Buffer, index: bigint | undefined): LogEntry {
  let parsed: unknown;
  try {
    parsed = JSON.parse(data.toString("utf8"));
  } catch (err) {
    throw malformed(index, JSON_ENTRY_FORMAT, err);
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed))
    throw malformed(index, JSON_ENTRY_FORMAT, "not a JSON object");
  const raw = parsed as { v?: unknown; proposer: string; seq: number; time?: unknown; commands: Command[] };
  if (raw.v !== JSON_ENTRY_FORMAT) {
    if (typeof raw.v === "number") throw unknownVersion(index, raw.v, true);
    throw malformed(index, JSON_ENTRY_FORMAT, `no format version ("v": ${JSON.stringify(raw.v) ?? "absent"})`);
  }
  // Validated and made canonical by the format 2 codec: what folds is what a format 2 entry would give.
  let binary: Buffer;
  try {
    binary = encodeEntry({
      proposer: raw.proposer,
      seq: raw.seq,
      ...(typeof raw.time === "number" ? { time: raw.time } : {}),
      commands: raw.commands,
    });
  } catch (err) {
    throw malformed(index, JSON_ENTRY_FORMAT, err);
  }
  return decodeBinary(binary, BINARY_PREFIX_BYTES, index, JSON_ENTRY_FORMAT);
}

/**
 * Decodes an entry of any format this agent reads. Throws MetadataFormatError, naming `index` (the
 * entry's log index) and, for an unknown format, the version found and the versions read.
 */
export function decodeEntry(data: Buffer, index?: bigint): LogEntry {
  const format = storedFormat(data, ENTRY_MAGIC);
  switch (format.kind) {
    case "json":
      return decodeJson(data, index);
    case "binary":
      if (format.version !== BINARY_ENTRY_FORMAT) throw unknownVersion(index, format.version, false);
      return decodeBinary(data, format.headerBytes, index, BINARY_ENTRY_FORMAT);
    case "unknown":
      throw new MetadataFormatError(
        `${subject(index)} is in no format this agent knows: it starts with ${leadingBytes(data)}; ${READS}`,
      );
  }
}
