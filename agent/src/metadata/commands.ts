/**
 * Commands of the metadata log. A log entry is a list of commands proposed together by one agent;
 * every agent folds the same entries in the same order into the same state (metadata/state.ts), so
 * commands carry everything the fold needs (ids, timestamps) and nothing position-dependent: offsets
 * are assigned by the fold, not by the proposer. Encoded as JSON (docs/metadata-log.md).
 */

import type { AclBinding, AclFilter } from "./acls.js";
import { aclBindingProblem, aclFilterProblem } from "./acls.js";

/** Where the bytes of a batch (or a run of batches) live. */
export interface Location {
  /** "i": the ingestion store; "c": the compaction store. */
  readonly store: "i" | "c";
  readonly key: string;
  readonly pos: number;
  readonly len: number;
}

/** One RecordBatch inside an ingestion file, as the fold needs it. */
export interface BatchMeta {
  readonly topic: string;
  readonly partition: number;
  readonly pos: number;
  readonly len: number;
  /** Records in the batch (lastOffsetDelta + 1). */
  readonly count: number;
  readonly maxTimestamp: number;
  readonly producerId: number;
  readonly producerEpoch: number;
  readonly baseSequence: number;
}

export interface CreateTopicCommand {
  readonly type: "createTopic";
  readonly name: string;
  /** 32 lowercase hex characters. */
  readonly topicId: string;
  readonly partitions: number;
  readonly configs: Readonly<Record<string, string>>;
}

export interface DeleteTopicCommand {
  readonly type: "deleteTopic";
  readonly name: string;
}

export interface CreatePartitionsCommand {
  readonly type: "createPartitions";
  readonly name: string;
  /** New total number of partitions. */
  readonly count: number;
}

export interface AlterConfigsCommand {
  readonly type: "alterConfigs";
  readonly name: string;
  /** Value null removes the key (back to the default). */
  readonly set: Readonly<Record<string, string | null>>;
  /** true: replace the whole config (AlterConfigs); false: change only the keys given. */
  readonly replace: boolean;
}

export interface CommitFileCommand {
  readonly type: "commitFile";
  /** Key of the ingestion file in the ingestion store. */
  readonly key: string;
  readonly size: number;
  /** Proposer's wall clock (ms) when the file was sealed: the log-append time. */
  readonly time: number;
  readonly batches: readonly BatchMeta[];
}

export interface OffsetCommitEntry {
  readonly topic: string;
  readonly partition: number;
  readonly offset: number;
  readonly leaderEpoch: number;
  readonly metadata: string | null;
  readonly time: number;
}

export interface CommitOffsetsCommand {
  readonly type: "commitOffsets";
  readonly group: string;
  readonly offsets: readonly OffsetCommitEntry[];
  /**
   * The coordinator epoch of the group at the coordinator that accepted the commit, and the committing
   * member's generation (−1 for a commit from outside any generation). The fold refuses the commit
   * when a newer epoch exists, or when the generation is older than the group's last one (group-fence.ts).
   * Absent in entries written before coordinators were fenced: those are applied unchecked.
   */
  readonly coordinatorEpoch?: number;
  readonly generationId?: number;
}

/** An agent starts coordinating a group: the fold gives it the group's next coordinator epoch. */
export interface CoordinateGroupCommand {
  readonly type: "coordinateGroup";
  readonly group: string;
  /** The coordinator instance taking the group (for logs and operators; the fold goes by epochs). */
  readonly coordinator: string;
}

/** A generation of a group gets its assignment: recorded before any member receives it. */
export interface GroupGenerationCommand {
  readonly type: "groupGeneration";
  readonly group: string;
  readonly coordinatorEpoch: number;
  readonly generationId: number;
}

export interface DeleteGroupCommand {
  readonly type: "deleteGroup";
  readonly group: string;
}

export interface AllocateProducerIdCommand {
  readonly type: "allocateProducerId";
}

/** Compaction: the batches of `runs` now live in object `key` of the compaction store. */
export interface CompactCommand {
  readonly type: "compact";
  readonly key: string;
  readonly size: number;
  readonly runs: ReadonlyArray<{
    readonly topic: string;
    /** The topic's id when the run was planned: a run never lands on a re-created topic of the same name. */
    readonly topicId?: string;
    readonly partition: number;
    readonly baseOffset: number;
    readonly lastOffset: number;
    readonly maxTimestamp: number;
    readonly pos: number;
    readonly len: number;
  }>;
  /** Ingestion files fully replaced by this object. */
  readonly replacedFiles: readonly string[];
}

/**
 * Moves a partition's log start: records below `offset` are no longer readable, and segments wholly
 * below it are dropped. Written by retention (at segment boundaries) and by DeleteRecords (at any
 * offset up to the high watermark). The log start never moves back.
 */
export interface TruncateCommand {
  readonly type: "truncate";
  readonly topic: string;
  readonly partition: number;
  readonly offset: number;
  /**
   * The topic's id when the truncation was decided: it never lands on a re-created topic of the same
   * name. Absent in entries written before truncations carried it (applied by name).
   */
  readonly topicId?: string;
}

/** OffsetDelete: the committed offsets of some partitions of a group are removed. */
export interface DeleteOffsetsCommand {
  readonly type: "deleteOffsets";
  readonly group: string;
  /** The coordinator epoch the group is held at: refused (NOT_COORDINATOR) when a newer one exists. */
  readonly coordinatorEpoch: number;
  readonly partitions: ReadonlyArray<{ readonly topic: string; readonly partition: number }>;
}

/** CreateAcls: the bindings are added (one that exists already is kept once). */
export interface CreateAclsCommand {
  readonly type: "createAcls";
  readonly acls: readonly AclBinding[];
}

/** DeleteAcls: every binding matching one of the filters (at this point of the log) is removed. */
export interface DeleteAclsCommand {
  readonly type: "deleteAcls";
  readonly filters: readonly AclFilter[];
}

export type Command =
  | CreateTopicCommand
  | DeleteTopicCommand
  | CreatePartitionsCommand
  | AlterConfigsCommand
  | CommitFileCommand
  | CommitOffsetsCommand
  | CoordinateGroupCommand
  | GroupGenerationCommand
  | DeleteGroupCommand
  | AllocateProducerIdCommand
  | CompactCommand
  | TruncateCommand
  | DeleteOffsetsCommand
  | CreateAclsCommand
  | DeleteAclsCommand;

export interface LogEntry {
  /** Agent that proposed the entry, and a per-agent counter: lets a proposer recognise its own entry. */
  readonly proposer: string;
  readonly seq: number;
  /**
   * Proposer's wall clock (ms) when it first tried to append the entry. The fold's log time is the
   * largest of these so far (metadata/expiry.ts); absent in entries written before entries carried it.
   */
  readonly time?: number;
  readonly commands: readonly Command[];
}

/**
 * Entry formats (`v`). An agent reads the formats up to its own and stops, with an error naming the
 * format, at an entry of a newer one: folding it without understanding it would leave that agent's
 * state different from everybody else's (and its snapshots would spread the difference).
 *
 *   1  every command up to `truncate` (`truncate.topicId` is optional: older agents ignore it and apply
 *      the truncation by name, which is what they did before).
 *   2  adds `deleteOffsets`. Only entries carrying one are written as format 2, so agents that read
 *      format 1 only keep following the log during a rolling upgrade unless offsets are deleted.
 *   3  adds `createAcls` and `deleteAcls`. Agents that read up to format 2 stop at the first entry that
 *      changes ACLs: they would authorize with a different set, and their snapshots would drop it.
 */
export const ENTRY_FORMAT = { first: 1, latest: 3 } as const;

/** Commands that need an entry format newer than the first, with the format that introduced them. */
const COMMAND_FORMAT: Partial<Record<Command["type"], number>> = { deleteOffsets: 2, createAcls: 3, deleteAcls: 3 };

/** The format an entry carrying these commands is written in: the newest any of them needs. */
export function entryFormat(commands: readonly Command[]): number {
  let format: number = ENTRY_FORMAT.first;
  for (const c of commands) format = Math.max(format, COMMAND_FORMAT[c.type] ?? ENTRY_FORMAT.first);
  return format;
}

export function encodeEntry(entry: LogEntry): Buffer {
  return Buffer.from(JSON.stringify({ v: entryFormat(entry.commands), ...entry }), "utf8");
}

/** A log entry that cannot be read at all: not JSON, not an entry, or in a format newer than this agent's. */
export class EntryFormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "EntryFormatError";
  }
}

/**
 * Reads an entry. Throws EntryFormatError for bytes that are no entry this agent can read. The commands'
 * own fields are checked by the fold (commandProblem), which skips a malformed command identically on
 * every agent instead of stopping at it.
 */
export function decodeEntry(data: Buffer): LogEntry {
  let parsed: unknown;
  try {
    parsed = JSON.parse(data.toString("utf8"));
  } catch (err) {
    throw new EntryFormatError(`metadata log entry is not JSON: ${err instanceof Error ? err.message : String(err)}`);
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed))
    throw new EntryFormatError("metadata log entry is not a JSON object");
  const raw = parsed as Record<string, unknown>;
  const v = raw.v;
  if (typeof v !== "number" || !Number.isInteger(v) || v < ENTRY_FORMAT.first)
    throw new EntryFormatError(`metadata log entry has no valid format version (v: ${JSON.stringify(v)})`);
  if (v > ENTRY_FORMAT.latest)
    throw new EntryFormatError(
      `metadata log entry format ${v} is newer than this agent reads (${ENTRY_FORMAT.first}-${ENTRY_FORMAT.latest}): upgrade the agent`,
    );
  if (typeof raw.proposer !== "string" || typeof raw.seq !== "number")
    throw new EntryFormatError("metadata log entry has no proposer and seq");
  if (raw.time !== undefined && typeof raw.time !== "number")
    throw new EntryFormatError(`metadata log entry time ${JSON.stringify(raw.time)} is not a number`);
  if (!Array.isArray(raw.commands)) throw new EntryFormatError("metadata log entry has no commands array");
  raw.commands.forEach((c: unknown, i) => {
    if (typeof c !== "object" || c === null || typeof (c as { type?: unknown }).type !== "string")
      throw new EntryFormatError(`metadata log entry command ${i} has no type`);
  });
  return {
    proposer: raw.proposer,
    seq: raw.seq,
    ...(typeof raw.time === "number" ? { time: raw.time } : {}),
    // Each command's fields are checked where they are used (commandProblem, the fold).
    commands: raw.commands as Command[],
  };
}

const isIndex = (n: unknown): n is number => typeof n === "number" && Number.isSafeInteger(n) && n >= 0;
const TOPIC_ID = /^[0-9a-f]{32}$/;

/**
 * Why a command's fields are malformed, or null. Checks the commands whose fields arrived after the
 * first entry format (`truncate` with its topic id, `deleteOffsets`, `createAcls`, `deleteAcls`); an unknown command type is
 * malformed too. The proposer refuses such a command before appending it (MetadataLog.propose), and the
 * fold skips one that is in the log anyway (state.ts), the same way on every agent.
 */
export function commandProblem(c: Command): string | null {
  const raw = c as unknown as Record<string, unknown>;
  switch (c.type) {
    case "truncate":
      if (typeof raw.topic !== "string") return "truncate: topic must be a string";
      if (!isIndex(raw.partition)) return "truncate: partition must be a non-negative integer";
      if (!isIndex(raw.offset)) return "truncate: offset must be a non-negative integer";
      if (raw.topicId !== undefined && (typeof raw.topicId !== "string" || !TOPIC_ID.test(raw.topicId)))
        return "truncate: topicId must be 32 lowercase hex characters";
      return null;
    case "deleteOffsets": {
      if (typeof raw.group !== "string") return "deleteOffsets: group must be a string";
      if (!isIndex(raw.coordinatorEpoch)) return "deleteOffsets: coordinatorEpoch must be a non-negative integer";
      if (!Array.isArray(raw.partitions)) return "deleteOffsets: partitions must be an array";
      for (const [i, p] of (raw.partitions as unknown[]).entries()) {
        const part = (typeof p === "object" && p !== null ? p : {}) as Record<string, unknown>;
        if (typeof part.topic !== "string") return `deleteOffsets: partitions[${i}].topic must be a string`;
        if (!isIndex(part.partition)) return `deleteOffsets: partitions[${i}].partition must be a non-negative integer`;
      }
      return null;
    }
    case "createAcls": {
      if (!Array.isArray(raw.acls)) return "createAcls: acls must be an array";
      for (const [i, b] of (raw.acls as unknown[]).entries()) {
        const problem = aclBindingProblem(b);
        if (problem) return `createAcls: acls[${i}]: ${problem}`;
      }
      return null;
    }
    case "deleteAcls": {
      if (!Array.isArray(raw.filters)) return "deleteAcls: filters must be an array";
      for (const [i, f] of (raw.filters as unknown[]).entries()) {
        const problem = aclFilterProblem(f);
        if (problem) return `deleteAcls: filters[${i}]: ${problem}`;
      }
      return null;
    }
    case "createTopic":
    case "deleteTopic":
    case "createPartitions":
    case "alterConfigs":
    case "commitFile":
    case "commitOffsets":
    case "coordinateGroup":
    case "groupGeneration":
    case "deleteGroup":
    case "allocateProducerId":
    case "compact":
      return null;
    default:
      return `unknown command type ${JSON.stringify(raw.type)}`;
  }
}

/** Rough encoded size of a command, used to keep entries under the store's item limit. */
export function commandSize(command: Command): number {
  return JSON.stringify(command).length + 1;
}
