/**
 * The bytes of a metadata log entry (docs/metadata-log.md, "Entry formats"). An entry's format number is
 * a feature level (commands.ts ENTRY_FORMAT, COMMAND_FORMAT); its encoding is told by its first bytes.
 *
 * Binary (level 3 on) is what agents write once every live agent reads it: "WL", the level, a header,
 * then each command as a tag and its fields. Numbers are zigzag varlongs, counts unsigned varints,
 * strings a varint length and UTF-8 (the Kafka protocol layer's Reader and Writer). A command names each
 * of its topics once, in a table at its start, and refers to them by slot; a commitFile's batches come in
 * runs of one partition, with positions and timestamps relative to what the run and the command already
 * say. A command type without a layout of its own (rare admin commands: deleteOffsets, the ACL commands) travels as its
 * JSON under one generic tag, so a new command type works in binary entries before it has a layout.
 *
 * From level 8, a commitFile's or compact's topic table names each numbered topic by its topic number
 * (topic-numbers.ts) and the others by name. Such a command is encoded against the proposer's state and
 * decoded against the state the entry folds into: numbers are never reused nor forgotten, so both give
 * the same topic (name and id).
 *
 * JSON (`{v, proposer, seq, time?, commands}`, levels 1, 2 and 4) is what agents wrote before, and still
 * write while a live agent does not read binary (encodingFor). Each command of a JSON entry is read by
 * encoding it in binary and decoding that: one decoder validates both, and a command folds the same from
 * either. A command that commands.ts commandProblem finds malformed is passed on as it is: the fold skips
 * it, the same way on every agent.
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
  NumberTopicsCommand,
  OffsetCommitEntry,
} from "./commands.js";
import { COMMAND_FORMAT, ENTRY_FORMAT, commandProblem, entryFormat, isCommandType } from "./commands.js";
import { ENTRY_MAGIC, MetadataFormatError, leadingBytes, newerAgentHint, storedFormat } from "./format.js";
import type { TopicNumbering } from "./topic-numbers.js";
import { Reader } from "../protocol/codec/reader.js";
import { Writer } from "../protocol/codec/writer.js";

/** How an entry's bytes are laid out (its format number, a level, is independent of it). */
export type EntryEncoding = "json" | "binary";

/** The newest entry format this agent reads, which it advertises in its heartbeat (cluster/registry.ts). */
export const LATEST_ENTRY_FORMAT: number = ENTRY_FORMAT.latest;

/**
 * The newest entry format every agent reading the log reads: the oldest any of them advertises (an agent
 * that advertises none, from before binary entries, is counted as reading format 1).
 */
export function entryFormatFor(readers: Iterable<number | undefined>): number {
  let format: number = LATEST_ENTRY_FORMAT;
  for (const r of readers) format = Math.min(format, r ?? ENTRY_FORMAT.first);
  return format;
}

/** The encoding to write while every agent reading the log reads formats up to `readersFormat`. */
export function encodingFor(readersFormat: number): EntryEncoding {
  return readersFormat >= ENTRY_FORMAT.binary ? "binary" : "json";
}

// ---- JSON: writing ----

/** A JSON entry, at the oldest level its commands allow (1; 2 with deleteOffsets; 4 with ACL commands). */
export function encodeJsonEntry(entry: LogEntry): Buffer {
  return Buffer.from(JSON.stringify({ v: entryFormat(entry.commands, "json"), ...entry }), "utf8");
}

/** Bytes a command takes in a JSON entry (its JSON and a comma). */
export function jsonCommandSize(command: Command): number {
  return Buffer.byteLength(JSON.stringify(command), "utf8") + 1;
}

// ---- binary: writing ----

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
  numberTopics: 14,
} as const satisfies Partial<Record<Command["type"], number>>;

/** A deleteGroup with its coordinator epoch (level 9): a tag of its own, so either form reads at any level. */
const FENCED_DELETE_GROUP = 15;

/** Command types with a layout of their own; every other one is written under JSON_COMMAND. */
type LaidOut = keyof typeof TAG;
/** A command as its JSON (a compact string): for the command types without a layout of their own. */
const JSON_COMMAND = 13;
/** A level-8 topic table slot that names its topic (any other value is a topic number + 1). */
const NAMED_SLOT = 0;

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

/** Command types whose topic table names numbered topics by number in entries of level 8 on. */
const NUMBERED_LAYOUT: ReadonlySet<Command["type"]> = new Set(["commitFile", "compact"]);

/** Whether the command's binary layout differs at level 8 (its topic table may hold numbers). */
export function hasNumberedLayout(command: Command): boolean {
  return NUMBERED_LAYOUT.has(command.type);
}

/**
 * The level of a binary entry carrying these commands: the newest any of them needs (commands.ts
 * entryFormat), and 8 when `numbered` (they were encoded with a TopicNumbering) and one of them has a
 * topic table in the level-8 form.
 */
export function binaryEntryFormat(commands: readonly Command[], numbered: boolean): number {
  const format = entryFormat(commands, "binary");
  return numbered && commands.some(hasNumberedLayout) ? Math.max(format, ENTRY_FORMAT.topicNumbers) : format;
}

/**
 * The topics a command refers to, each once: written as a table (name, and an id where the command
 * carries one) before the command's items, which then name a slot. In the level-8 form (with a
 * TopicNumbering) each topic is `0 name [id]`, or `number + 1` when the topic has a number.
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

  write(w: Writer, withIds: boolean, numbering: TopicNumbering | null): void {
    w.uvarint(this.topics.length);
    for (const t of this.topics) {
      if (numbering) {
        // A run planned without a topic id keeps its name: a number would add an id check it never had.
        const number = withIds && t.id === undefined ? undefined : numbering.numberOf(t.name, t.id);
        if (number !== undefined) {
          w.uvarint(number + 1);
          continue;
        }
        w.uvarint(NAMED_SLOT);
      }
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

function writeCommitFile(w: Writer, c: CommitFileCommand, numbering: TopicNumbering | null): void {
  str(w, c.key, "commitFile key");
  int(w, c.size, "commitFile size");
  int(w, c.time, "commitFile time");
  const batches = list(c.batches, "commitFile batches");
  const table = new TopicTable();
  for (const b of batches) table.slot(b.topic);
  table.write(w, false, numbering);
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
  table.write(w, false, null);
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

function writeCompact(w: Writer, c: CompactCommand, numbering: TopicNumbering | null): void {
  str(w, c.key, "compact key");
  int(w, c.size, "compact size");
  const runs = list(c.runs, "compact runs");
  const table = new TopicTable();
  for (const r of runs) table.slot(r.topic, r.topicId);
  table.write(w, true, numbering);
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

function writeNumberTopics(w: Writer, c: NumberTopicsCommand): void {
  const topics = list(c.topics, "numberTopics topics");
  w.uvarint(topics.length);
  for (const t of topics) {
    str(w, t.name, "numberTopics name");
    if (typeof t.topicId !== "string" || !UUID_HEX.test(t.topicId))
      throw new CommandEncodingError(`numberTopics topicId is not 32 lowercase hex characters: ${String(t.topicId)}`);
    topicId(w, t.topicId);
  }
}

function writeCommand(w: Writer, c: Command, numbering: TopicNumbering | null): void {
  if (typeof c !== "object" || c === null) throw new CommandEncodingError("a command is not an object");
  if (!isCommandType(c.type)) throw new CommandEncodingError(`unknown command type ${JSON.stringify(c.type)}`);
  if (!hasLayout(c)) {
    w.uvarint(JSON_COMMAND);
    str(w, JSON.stringify(c), `${c.type} as JSON`);
    return;
  }
  if (c.type === "deleteGroup" && c.coordinatorEpoch !== undefined) {
    w.uvarint(FENCED_DELETE_GROUP);
    str(w, c.group, "deleteGroup group");
    int(w, c.coordinatorEpoch, "deleteGroup coordinatorEpoch");
    return;
  }
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
      return writeCommitFile(w, c, numbering);
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
      return writeCompact(w, c, numbering);
    case "numberTopics":
      return writeNumberTopics(w, c);
    case "truncate":
      str(w, c.topic, "truncate topic");
      int(w, c.partition, "truncate partition");
      int(w, c.offset, "truncate offset");
      if (c.topicId !== undefined && (typeof c.topicId !== "string" || !UUID_HEX.test(c.topicId)))
        throw new CommandEncodingError(`truncate topicId is not 32 lowercase hex characters: ${String(c.topicId)}`);
      topicId(w, c.topicId);
      return;
  }
}

function hasLayout(c: Command): c is Extract<Command, { type: LaidOut }> {
  return Object.hasOwn(TAG, c.type);
}

/**
 * One command in binary, as it goes into an entry. Throws CommandEncodingError for a value the format
 * cannot hold exactly (the proposer refuses that command alone). With `numbering` (the proposer's state),
 * in the level-8 form: a commitFile or compact so encoded goes only into an entry of level 8 or more
 * (binaryEntryFormat), which every agent decodes in that form.
 */
export function encodeCommand(command: Command, numbering: TopicNumbering | null = null): Buffer {
  const w = new Writer(64);
  try {
    writeCommand(w, command, numbering);
  } catch (err) {
    if (err instanceof CommandEncodingError) throw err;
    throw new CommandEncodingError(`metadata command cannot be encoded: ${(err as Error).message}`);
  }
  return w.finishBuffer();
}

/** Header fields of an entry. */
export type EntryHeader = Omit<LogEntry, "commands">;

/**
 * A binary entry from its header and its commands already encoded (encodeCommand), at `format`: the
 * newest level its commands need, and at least ENTRY_FORMAT.binary (commands.ts entryFormat).
 */
export function encodeEntryFrom(header: EntryHeader, format: number, commands: readonly Buffer[]): Buffer {
  const w = new Writer(64);
  w.raw(Buffer.from(ENTRY_MAGIC, "latin1"));
  w.uvarint(format);
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

/**
 * An entry in `encoding` (binary unless an agent reading the log reads only JSON), at its level; binary
 * with `numbering`: in the level-8 form, naming numbered topics by number. JSON entries always name topics.
 */
export function encodeEntry(
  entry: LogEntry,
  encoding: EntryEncoding = "binary",
  numbering: TopicNumbering | null = null,
): Buffer {
  if (encoding === "json") return encodeJsonEntry(entry);
  const commands = list(entry.commands, "commands");
  // An entry of level 8 (a numberTopics in it) holds every topic table in the level-8 form.
  const forNumbers = numbering ?? (entryFormat(commands, "binary") >= ENTRY_FORMAT.topicNumbers ? NO_NUMBERS : null);
  return encodeEntryFrom(
    entry,
    binaryEntryFormat(commands, forNumbers !== null),
    commands.map((c) => encodeCommand(c, forNumbers)),
  );
}

/** A numbering without numbers: topic tables in the level-8 form, every topic named. */
export const NO_NUMBERS: TopicNumbering = { numberOf: () => undefined, topicOf: () => undefined };

// ---- binary: reading ----

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
  /** name, id form, 16 bytes */
  numberedTopic: 18,
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

/** How the commands of one entry are read: its level, and the state's topic numbers (level 8 on). */
interface ReadContext {
  readonly format: number;
  /** Topic tables are in the level-8 form (slots hold numbers or names). */
  readonly numbered: boolean;
  readonly numbering: TopicNumbering | null;
}

/** A topic of a command's table; `numbered`: named by its number (the id is then the numbered topic's). */
interface TableTopic {
  readonly name: string;
  readonly id: string | undefined;
  readonly numbered: boolean;
}

function readTopics(r: Reader, withIds: boolean, ctx: ReadContext): TableTopic[] {
  const n = count(r, withIds && !ctx.numbered ? MIN_BYTES.topicWithId : MIN_BYTES.topic, "topics");
  const topics: TableTopic[] = [];
  for (let i = 0; i < n; i++) {
    if (ctx.numbered) {
      const slot = r.uvarint();
      if (slot !== NAMED_SLOT) {
        // Numbers are never forgotten (those of deleted topics included): one the state does not know
        // was never given at this point of the log.
        const topic = ctx.numbering?.topicOf(slot - 1);
        if (!topic) throw new Malformed(`topic number ${slot - 1} was not given at this point of the log`);
        topics.push({ name: topic.name, id: topic.topicId, numbered: true });
        continue;
      }
    }
    topics.push({ name: r.compactString(), id: withIds ? readTopicId(r) : undefined, numbered: false });
  }
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

function readCommitFile(r: Reader, ctx: ReadContext): CommitFileCommand {
  const key = r.compactString();
  const size = r.varlongNumber();
  const time = r.varlongNumber();
  const topics = readTopics(r, false, ctx);
  const producerCount = count(r, MIN_BYTES.producer, "producers");
  const producers: Array<[number, number]> = [];
  for (let i = 0; i < producerCount; i++) producers.push([r.varlongNumber(), r.varlongNumber()]);
  const runs = count(r, MIN_BYTES.batchRun, "runs");
  const batches: BatchMeta[] = [];
  let nextPos = 0;
  for (let i = 0; i < runs; i++) {
    const table = slot(r, topics);
    const topic = table.name;
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
        ...(table.numbered ? { topicId: table.id } : {}),
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
  const topics = readTopics(r, false, { format: ENTRY_FORMAT.first, numbered: false, numbering: null });
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

/** One run of a `compact` command. */
type CompactRun = CompactCommand["runs"][number];

function readCompact(r: Reader, ctx: ReadContext): CompactCommand {
  const key = r.compactString();
  const size = r.varlongNumber();
  const topics = readTopics(r, true, ctx);
  const n = count(r, MIN_BYTES.compactRun, "runs");
  const runs: CompactRun[] = [];
  for (let i = 0; i < n; i++) {
    const topic = slot(r, topics);
    // One object literal per run, topicId set after it when known: no spread of a temporary object
    // (an entry holds thousands of runs).
    const run: { -readonly [K in keyof CompactRun]: CompactRun[K] } = {
      topic: topic.name,
      partition: r.varlongNumber(),
      baseOffset: r.varlongNumber(),
      lastOffset: r.varlongNumber(),
      maxTimestamp: r.varlongNumber(),
      pos: r.varlongNumber(),
      len: r.varlongNumber(),
    };
    if (topic.id !== undefined) run.topicId = topic.id;
    runs.push(run);
  }
  const files = count(r, MIN_BYTES.file, "replaced files");
  const replacedFiles: string[] = [];
  for (let i = 0; i < files; i++) replacedFiles.push(r.compactString());
  return { type: "compact", key, size, runs, replacedFiles };
}

function readNumberTopics(r: Reader): NumberTopicsCommand {
  const n = count(r, MIN_BYTES.numberedTopic, "topics");
  const topics: Array<{ name: string; topicId: string }> = [];
  for (let i = 0; i < n; i++) {
    const name = r.compactString();
    const form = r.uvarint();
    if (form !== ID_UUID) throw new Malformed(`numberTopics topic id form ${form}`);
    topics.push({ name, topicId: r.uuid() });
  }
  return { type: "numberTopics", topics };
}

/**
 * A command under JSON_COMMAND: an object of a known type without a layout of its own, of a level the
 * entry's covers. Its fields are checked by the fold (commands.ts commandProblem), as in a JSON entry.
 */
function readJsonCommand(r: Reader, format: number): Command {
  const text = r.compactString();
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new Malformed(`a command's JSON does not parse: ${(err as Error).message}`);
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed))
    throw new Malformed("a command's JSON is not an object");
  const type = (parsed as { type?: unknown }).type;
  if (!isCommandType(type)) throw new Malformed(`unknown command type ${JSON.stringify(type) ?? "(none)"}`);
  if (Object.hasOwn(TAG, type)) throw new Malformed(`${type} as JSON, though it has a layout of its own`);
  if (COMMAND_FORMAT[type] > format)
    throw new Malformed(`${type} (format ${COMMAND_FORMAT[type]}) in an entry of format ${format}`);
  return parsed as Command;
}

function readCommand(r: Reader, ctx: ReadContext): Command {
  const tag = r.uvarint();
  switch (tag) {
    case JSON_COMMAND:
      return readJsonCommand(r, ctx.format);
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
      return readCommitFile(r, ctx);
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
    case FENCED_DELETE_GROUP:
      if (ctx.format < ENTRY_FORMAT.fencedGroupDeletion)
        throw new Malformed(
          `deleteGroup with a coordinator epoch (format ${ENTRY_FORMAT.fencedGroupDeletion}) in an entry of format ${ctx.format}`,
        );
      return { type: "deleteGroup", group: r.compactString(), coordinatorEpoch: r.varlongNumber() };
    case TAG.allocateProducerId:
      return { type: "allocateProducerId" };
    case TAG.compact:
      return readCompact(r, ctx);
    case TAG.numberTopics:
      if (ctx.format < COMMAND_FORMAT.numberTopics)
        throw new Malformed(`numberTopics (format ${COMMAND_FORMAT.numberTopics}) in an entry of format ${ctx.format}`);
      return readNumberTopics(r);
    case TAG.truncate: {
      const topic = r.compactString();
      const partition = r.varlongNumber();
      const offset = r.varlongNumber();
      const id = readTopicId(r);
      return { type: "truncate", topic, partition, offset, ...(id !== undefined ? { topicId: id } : {}) };
    }
    default:
      throw new Malformed(`unknown command tag ${tag}`);
  }
}

function readEntry(r: Reader, ctx: ReadContext): LogEntry {
  const f = flags(r, HAS_TIME | PROPOSER_IS_HEX, "entry");
  const proposer = f & PROPOSER_IS_HEX ? r.compactBytes().toString("hex") : r.compactString();
  const seq = r.varlongNumber();
  const time = f & HAS_TIME ? r.varlongNumber() : undefined;
  const n = count(r, MIN_BYTES.command, "commands");
  const commands: Command[] = [];
  for (let i = 0; i < n; i++) commands.push(readCommand(r, ctx));
  if (r.remaining !== 0) throw new Malformed(`${r.remaining} bytes after the last command`);
  return { proposer, seq, ...(time !== undefined ? { time } : {}), commands };
}

function subject(index: bigint | undefined): string {
  return index === undefined ? "metadata log entry" : `metadata log entry ${index}`;
}

const READS = `this agent reads entry formats ${ENTRY_FORMAT.first}-${ENTRY_FORMAT.latest} (JSON, or binary from ${ENTRY_FORMAT.binary})`;

function newerFormat(index: bigint | undefined, format: number): MetadataFormatError {
  return new MetadataFormatError(
    `${subject(index)} has format ${format}, newer than this agent reads (${ENTRY_FORMAT.first}-${ENTRY_FORMAT.latest})` +
      newerAgentHint(format, ENTRY_FORMAT.latest),
    format,
  );
}

function malformed(index: bigint | undefined, what: string, err: unknown, format?: number): MetadataFormatError {
  const why = err instanceof Error ? err.message : String(err);
  return new MetadataFormatError(`${subject(index)} (${what}) is malformed: ${why}`, format);
}

function decodeBinary(
  data: Buffer,
  start: number,
  index: bigint | undefined,
  format: number,
  numbering: TopicNumbering | null,
): LogEntry {
  if (format > ENTRY_FORMAT.latest) throw newerFormat(index, format);
  const what = `format ${format}, binary`;
  if (format < ENTRY_FORMAT.binary)
    throw malformed(index, what, `binary entries start at format ${ENTRY_FORMAT.binary}`, format);
  try {
    const numbered = format >= ENTRY_FORMAT.topicNumbers;
    return readEntry(new Reader(data, start), { format, numbered, numbering });
  } catch (err) {
    throw malformed(index, what, err, format);
  }
}

/** A command of a JSON entry, made canonical by the binary codec (or passed on for the fold to skip). */
function jsonCommand(c: Command): Command {
  // Malformed as commandProblem sees it: the fold skips it, on every agent alike.
  if (commandProblem(c) !== null) return c;
  const r = new Reader(encodeCommand(c));
  // JSON entries name their topics: the command is read back from the form without numbers.
  const command = readCommand(r, { format: ENTRY_FORMAT.latest, numbered: false, numbering: null });
  if (r.remaining !== 0) throw new Malformed(`${r.remaining} bytes after a command`);
  return command;
}

function decodeJson(data: Buffer, index: bigint | undefined): LogEntry {
  let parsed: unknown;
  try {
    parsed = JSON.parse(data.toString("utf8"));
  } catch (err) {
    throw malformed(index, "JSON", `not JSON: ${(err as Error).message}`);
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed))
    throw malformed(index, "JSON", "not a JSON object");
  const raw = parsed as Record<string, unknown>;
  const v = raw.v;
  if (typeof v !== "number" || !Number.isInteger(v) || v < ENTRY_FORMAT.first)
    throw malformed(index, "JSON", `no valid format ("v": ${JSON.stringify(v) ?? "absent"})`);
  if (v > ENTRY_FORMAT.latest) throw newerFormat(index, v);
  const what = `format ${v}, JSON`;
  if (typeof raw.proposer !== "string" || typeof raw.seq !== "number" || !Number.isSafeInteger(raw.seq))
    throw malformed(index, what, "no proposer and seq", v);
  if (raw.time !== undefined && (typeof raw.time !== "number" || !Number.isSafeInteger(raw.time)))
    throw malformed(index, what, `time ${JSON.stringify(raw.time)} is not an integer`, v);
  if (!Array.isArray(raw.commands)) throw malformed(index, what, "no commands array", v);
  const commands: Command[] = [];
  for (const [i, c] of (raw.commands as unknown[]).entries()) {
    if (typeof c !== "object" || c === null || typeof (c as { type?: unknown }).type !== "string")
      throw malformed(index, what, `command ${i} has no type`, v);
    try {
      commands.push(jsonCommand(c as Command));
    } catch (err) {
      throw malformed(index, what, `command ${i}: ${err instanceof Error ? err.message : String(err)}`, v);
    }
  }
  return {
    proposer: raw.proposer,
    seq: raw.seq,
    ...(typeof raw.time === "number" ? { time: raw.time } : {}),
    commands,
  };
}

/**
 * Decodes an entry of any format this agent reads, in either encoding. Throws MetadataFormatError,
 * naming `index` (the entry's log index) and, for a newer format, the format found and the formats read.
 * `numbering` is the state the entry folds into (or any later one: numbers are never reused): an entry
 * of level 8 that names a topic by number needs it.
 */
export function decodeEntry(data: Buffer, index?: bigint, numbering: TopicNumbering | null = null): LogEntry {
  const format = storedFormat(data, ENTRY_MAGIC);
  switch (format.kind) {
    case "json":
      return decodeJson(data, index);
    case "binary":
      return decodeBinary(data, format.headerBytes, index, format.version, numbering);
    case "unknown":
      throw new MetadataFormatError(
        `${subject(index)} is in no format this agent knows: it starts with ${leadingBytes(data)}; ${READS}`,
      );
  }
}
