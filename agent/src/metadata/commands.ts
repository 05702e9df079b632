/**
 * Commands of the metadata log. A log entry is a list of commands proposed together by one agent;
 * every agent folds the same entries in the same order into the same state (metadata/state.ts), so
 * commands carry everything the fold needs (ids, timestamps) and nothing position-dependent: offsets
 * are assigned by the fold, not by the proposer. Their bytes in the log: entry-codec.ts.
 */

import type { AclBinding, AclFilter } from "./acls.js";
import { aclBindingProblem, aclFilterProblem } from "./acls.js";
import type { ScramCredentialRecord, ScramMechanismName } from "./scram-credentials.js";
import { scramRecordProblem, scramUserProblem } from "./scram-credentials.js";
import type { ConsumerGroupRecord } from "../groups/consumer-group-record.js";
import { recordProblem } from "../groups/consumer-group-record.js";

/**
 * Where the bytes of a batch (or a run of batches) live. "i": the ingestion store; "c": the compaction
 * store. "p": an index page in the compaction store (run-page.ts), which lists where compacted runs lie;
 * its `pos` is 0 and its `len` the bytes of data of those runs (what retention.bytes and fetch sizes
 * count), not the page's own size (RunPageRefs.size).
 */
export interface Location {
  readonly store: "i" | "c" | "p";
  readonly key: string;
  readonly pos: number;
  readonly len: number;
}

/** What the state keeps of an index page instead of its runs (Segment.page; docs/metadata-log.md 14.3). */
export interface RunPageRefs {
  /** Bytes of the page object. */
  readonly size: number;
  /** Runs the page lists. */
  readonly runs: number;
  /**
   * The compacted objects its runs lie in, each once: the page segment references each of them once in
   * `objectRefs` (as any segment references its object), whatever the number of its runs there.
   */
  readonly objects: readonly string[];
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
  /**
   * The topic's id, when the batch named its topic by number (a level-8 binary entry: the decoder
   * resolves the number to the topic it was given to). The fold then appends it only to that topic,
   * never to a topic re-created under the same name. Absent when the topic was named (JSON entries,
   * binary entries before level 8, topics without a number yet).
   */
  readonly topicId?: string;
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

/**
 * A group and its committed offsets are deleted (DeleteGroups). With `coordinatorEpoch` (level 9), only
 * while that epoch is the group's latest: a coordinator another agent has since taken the group from
 * cannot delete the offsets the new one serves. Without it (written before level 9, or while a live
 * agent reads only older levels), the deletion is applied unchecked.
 */
export interface DeleteGroupCommand {
  readonly type: "deleteGroup";
  readonly group: string;
  readonly coordinatorEpoch?: number;
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
 * A partition's oldest compacted runs, `baseOffset` to `lastOffset`, are now listed in index page `key` of
 * the compaction store (run-page.ts): the fold swaps them for one page segment if they are still exactly
 * the partition's oldest runs after its pages (else the page is garbage). Level 14.
 */
export interface ArchiveRunsCommand extends RunPageRefs {
  readonly type: "archiveRuns";
  /** How many of the runs lie in each of `objects` (same order): the fold checks the runs against it. */
  readonly objectRuns: readonly number[];
  readonly topic: string;
  readonly topicId: string;
  readonly partition: number;
  readonly key: string;
  readonly baseOffset: number;
  readonly lastOffset: number;
  /** Bytes of data of the runs (the sum of their lengths). */
  readonly bytes: number;
  /** The runs' largest record timestamp and newest append time. */
  readonly maxTimestamp: number;
  readonly appendTime: number;
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

/**
 * AlterUserScramCredentials, for one user: the credentials of `deletions` are removed and those of
 * `upsertions` added or replaced, all or nothing (RESOURCE_NOT_FOUND, nothing changed, when a deleted
 * credential does not exist at this point of the log). A mechanism appears at most once in the command.
 */
export interface AlterScramCredentialsCommand {
  readonly type: "alterScramCredentials";
  readonly user: string;
  readonly upsertions: readonly ScramCredentialRecord[];
  readonly deletions: readonly ScramMechanismName[];
}

/**
 * A KIP-848 consumer group's durable state (groups/consumer-group-record.ts), written by its coordinator
 * whenever the group changes, before the change reaches any member; `state` null when the group has no
 * members left (the record goes). Refused (NOT_COORDINATOR) when a newer coordinator epoch exists.
 */
export interface ConsumerGroupStateCommand {
  readonly type: "consumerGroupState";
  readonly group: string;
  readonly coordinatorEpoch: number;
  readonly state: ConsumerGroupRecord | null;
}

/**
 * Gives each listed topic not numbered yet the state's next topic number, in list order (topic-numbers.ts).
 * A topic that is deleted, numbered already, or whose id is not `topicId` (re-created since) is left
 * alone, so proposing the same numbering twice changes nothing the second time.
 */
export interface NumberTopicsCommand {
  readonly type: "numberTopics";
  readonly topics: ReadonlyArray<{ readonly name: string; readonly topicId: string }>;
}

/**
 * InitProducerId with a transactional id (transactions.ts `init`): the id's producer id at a new epoch.
 * `producerId` and `producerEpoch` are what the producer holds (KIP-360), −1 and −1 for none.
 */
export interface InitTransactionCommand {
  readonly type: "initTransaction";
  readonly transactionalId: string;
  readonly timeoutMs: number;
  readonly producerId: number;
  readonly producerEpoch: number;
}

/** AddPartitionsToTxn and AddOffsetsToTxn: partitions and groups join the producer's ongoing transaction. */
export interface AddToTransactionCommand {
  readonly type: "addToTransaction";
  readonly transactionalId: string;
  readonly producerId: number;
  readonly producerEpoch: number;
  readonly partitions: ReadonlyArray<{ readonly topic: string; readonly partition: number }>;
  readonly groups: readonly string[];
}

/**
 * TxnOffsetCommit: offsets held for the group until the transaction ends. With `coordinatorEpoch` and
 * `generationId` (a member's commit), fenced as commitOffsets is (group-fence.ts).
 */
export interface TxnOffsetCommitCommand {
  readonly type: "txnOffsetCommit";
  readonly transactionalId: string;
  readonly producerId: number;
  readonly producerEpoch: number;
  readonly group: string;
  readonly offsets: readonly OffsetCommitEntry[];
  readonly coordinatorEpoch?: number;
  readonly generationId?: number;
}

/**
 * EndTxn, or the coordinator aborting a transaction (a timeout, a new producer of the id): in one entry,
 * each partition's marker takes its offset, aborted ranges are recorded, a commit's group offsets are
 * applied. `markers` is the file holding one control batch per partition of the transaction (null when it
 * holds none); `bumpEpoch` fences the producer by a new epoch (an abort it did not ask for).
 */
export interface EndTransactionCommand {
  readonly type: "endTransaction";
  readonly transactionalId: string;
  readonly producerId: number;
  readonly producerEpoch: number;
  readonly commit: boolean;
  readonly bumpEpoch: boolean;
  readonly markers: {
    readonly key: string;
    readonly size: number;
    readonly time: number;
    readonly batches: ReadonlyArray<{
      readonly topic: string;
      readonly partition: number;
      readonly pos: number;
      readonly len: number;
    }>;
  } | null;
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
  | ArchiveRunsCommand
  | TruncateCommand
  | DeleteOffsetsCommand
  | CreateAclsCommand
  | DeleteAclsCommand
  | AlterScramCredentialsCommand
  | ConsumerGroupStateCommand
  | NumberTopicsCommand
  | InitTransactionCommand
  | AddToTransactionCommand
  | TxnOffsetCommitCommand
  | EndTransactionCommand;

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
 * Entry formats are feature levels (docs/metadata-log.md, "Entry formats"), numbered for the whole log
 * whatever an entry's encoding (entry-codec.ts tells JSON from binary by the first bytes):
 *
 *   1  the original commands, in JSON (`truncate.topicId` is optional: an agent that ignores it applies
 *      the truncation by name, which is what it did before).
 *   2  adds `deleteOffsets`.
 *   3  the binary encoding (every command of levels 1 and 2).
 *   4  adds `createAcls` and `deleteAcls`.
 *   5  adds `alterScramCredentials`.
 *   6  adds `consumerGroupState`.
 *   7  adds no command: an agent of level 7 reads binary snapshots (snapshot format 5, snapshot-codec.ts),
 *      which agents write once every live agent reads level 7.
 *   8  adds `numberTopics`, and commitFile and compact name numbered topics by their topic number
 *      (topic-numbers.ts); an agent of level 8 reads snapshot format 6, which carries the numbers.
 *   9  `deleteGroup` may carry the coordinator epoch it is fenced by; agents write it so only while every
 *      live agent reads level 9.
 *  10  adds the transaction commands (`initTransaction`, `addToTransaction`, `txnOffsetCommit`,
 *      `endTransaction`); an agent of level 10 reads snapshot format 7, which carries transactions.
 *  11  adds no command: an agent of level 11 follows a snapshot kept as an object in the compaction
 *      bucket (store/snapshot-objects.ts), which agents write only while every live agent reads level 11.
 *  12  adds no command: an agent of level 12 follows a log entry whose body is stored under another
 *      partition key (store/dynamodb/entry-bodies.ts: the item at the entry's index holds a pointer, which
 *      an older agent reads as an entry of format 12 and refuses); agents store bodies apart only while
 *      every live agent reads level 12.
 *  13  adds no command: an agent of level 13 writes a snapshot at least hourly while entries come and
 *      renews entries no snapshot covers after a failed one (log.ts), so agents write entries that expire
 *      (DynamoDB: TTL after 30 days, store/dynamodb/metadata.ts; trims leave them to it) only while every
 *      live agent reads level 13. An older agent reads such entries as any other.
 *  14  adds `archiveRuns` (index pages of compacted runs, run-page.ts); an agent of level 14 reads
 *      snapshot format 9, which holds page segments.
 *
 * An agent reads every entry of a level up to ENTRY_FORMAT.latest, in either encoding, and stops at an
 * entry of a newer level with an error naming it: folding what it does not understand would leave its
 * state different from everybody else's (and its snapshots would spread the difference).
 */
export const ENTRY_FORMAT = {
  first: 1,
  binary: 3,
  binarySnapshot: 7,
  topicNumbers: 8,
  fencedGroupDeletion: 9,
  transactions: 10,
  snapshotObjects: 11,
  entryBodies: 12,
  expiringEntries: 13,
  runPages: 14,
  latest: 14,
} as const;

/**
 * The level each command type needs: the one table to extend when a command type is added (with its
 * binary layout in entry-codec.ts, or none: it then travels as JSON inside binary entries).
 */
export const COMMAND_FORMAT: Readonly<Record<Command["type"], number>> = {
  createTopic: 1,
  deleteTopic: 1,
  createPartitions: 1,
  alterConfigs: 1,
  commitFile: 1,
  commitOffsets: 1,
  coordinateGroup: 1,
  groupGeneration: 1,
  deleteGroup: 1,
  allocateProducerId: 1,
  compact: 1,
  truncate: 1,
  deleteOffsets: 2,
  createAcls: 4,
  deleteAcls: 4,
  alterScramCredentials: 5,
  consumerGroupState: 6,
  numberTopics: 8,
  initTransaction: 10,
  addToTransaction: 10,
  txnOffsetCommit: 10,
  endTransaction: 10,
  archiveRuns: 14,
};

/** Whether `type` is a command type this agent knows. */
export function isCommandType(type: unknown): type is Command["type"] {
  return typeof type === "string" && Object.hasOwn(COMMAND_FORMAT, type);
}

/** The level a command needs: its type's, or a newer one for a field added later (a fenced deleteGroup). */
export function commandFormat(c: Command): number {
  if (c.type === "deleteGroup" && c.coordinatorEpoch !== undefined) return ENTRY_FORMAT.fencedGroupDeletion;
  return COMMAND_FORMAT[c.type];
}

/**
 * The level an entry carrying these commands is written at in `encoding`: the newest any of them needs,
 * and at least ENTRY_FORMAT.binary in binary. JSON entries are thus written at the oldest level their
 * commands allow, so that agents that read only older levels keep following the log unless a newer
 * command is used.
 */
export function entryFormat(commands: readonly Command[], encoding: "json" | "binary"): number {
  let format: number = encoding === "binary" ? ENTRY_FORMAT.binary : ENTRY_FORMAT.first;
  // An unknown type (refused by the proposer, skipped by the fold) needs no level.
  for (const c of commands) if (isCommandType(c.type)) format = Math.max(format, commandFormat(c));
  return format;
}

const isIndex = (n: unknown): n is number => typeof n === "number" && Number.isSafeInteger(n) && n >= 0;
const TOPIC_ID = /^[0-9a-f]{32}$/;

/**
 * Why a command's fields are malformed, or null. Checks the commands whose fields arrived after the
 * first entry format (`truncate` with its topic id, `deleteOffsets`, `createAcls`, `deleteAcls`,
 * `alterScramCredentials`, `consumerGroupState`, `numberTopics`, `deleteGroup` with its epoch, the
 * transaction commands); an unknown command type is
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
    case "alterScramCredentials": {
      const user = scramUserProblem(raw.user);
      if (user) return `alterScramCredentials: ${user}`;
      if (!Array.isArray(raw.upsertions)) return "alterScramCredentials: upsertions must be an array";
      if (!Array.isArray(raw.deletions)) return "alterScramCredentials: deletions must be an array";
      const seen = new Set<unknown>();
      for (const [i, d] of (raw.deletions as unknown[]).entries()) {
        if (d !== "SCRAM-SHA-256" && d !== "SCRAM-SHA-512")
          return `alterScramCredentials: deletions[${i}] must be SCRAM-SHA-256 or SCRAM-SHA-512`;
        if (seen.has(d)) return `alterScramCredentials: ${d} is altered twice`;
        seen.add(d);
      }
      for (const [i, u] of (raw.upsertions as unknown[]).entries()) {
        const problem = scramRecordProblem(u);
        if (problem) return `alterScramCredentials: upsertions[${i}]: ${problem}`;
        const mechanism = (u as ScramCredentialRecord).mechanism;
        if (seen.has(mechanism)) return `alterScramCredentials: ${mechanism} is altered twice`;
        seen.add(mechanism);
      }
      if (seen.size === 0) return "alterScramCredentials: nothing to alter";
      return null;
    }
    case "consumerGroupState": {
      if (typeof raw.group !== "string" || raw.group === "")
        return "consumerGroupState: group must be a non-empty string";
      if (!isIndex(raw.coordinatorEpoch)) return "consumerGroupState: coordinatorEpoch must be a non-negative integer";
      if (raw.state === null) return null;
      const problem = recordProblem(raw.state);
      return problem ? `consumerGroupState: state: ${problem}` : null;
    }
    case "initTransaction":
    case "addToTransaction":
    case "txnOffsetCommit":
    case "endTransaction":
      return transactionCommandProblem(raw);
    case "archiveRuns":
      return archiveRunsProblem(raw);
    case "numberTopics": {
      if (!Array.isArray(raw.topics)) return "numberTopics: topics must be an array";
      for (const [i, t] of (raw.topics as unknown[]).entries()) {
        const topic = (typeof t === "object" && t !== null ? t : {}) as Record<string, unknown>;
        if (typeof topic.name !== "string") return `numberTopics: topics[${i}].name must be a string`;
        if (typeof topic.topicId !== "string" || !TOPIC_ID.test(topic.topicId))
          return `numberTopics: topics[${i}].topicId must be 32 lowercase hex characters`;
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
    case "deleteGroup":
      if (raw.coordinatorEpoch !== undefined && !isIndex(raw.coordinatorEpoch))
        return "deleteGroup: coordinatorEpoch must be a non-negative integer";
      return null;
    case "groupGeneration":
    case "allocateProducerId":
    case "compact":
      return null;
    default:
      return `unknown command type ${JSON.stringify(raw.type)}`;
  }
}

const isInt = (n: unknown): n is number => typeof n === "number" && Number.isSafeInteger(n);

/** commandProblem for archiveRuns (level 14, travels as JSON). */
function archiveRunsProblem(raw: Record<string, unknown>): string | null {
  if (typeof raw.topic !== "string") return "archiveRuns: topic must be a string";
  if (typeof raw.topicId !== "string" || !TOPIC_ID.test(raw.topicId))
    return "archiveRuns: topicId must be 32 lowercase hex characters";
  if (typeof raw.key !== "string" || raw.key === "") return "archiveRuns: key must be a non-empty string";
  for (const f of ["partition", "size", "baseOffset", "lastOffset", "bytes", "maxTimestamp", "appendTime"] as const)
    if (!isIndex(raw[f]) && !(f === "maxTimestamp" && isInt(raw[f])))
      return `archiveRuns: ${f} must be a non-negative integer`;
  if (!isIndex(raw.runs) || raw.runs < 1) return "archiveRuns: runs must be a positive integer";
  if ((raw.lastOffset as number) < (raw.baseOffset as number)) return "archiveRuns: lastOffset is before baseOffset";
  if (!Array.isArray(raw.objects) || raw.objects.length === 0) return "archiveRuns: objects must be a non-empty array";
  if (!Array.isArray(raw.objectRuns) || raw.objectRuns.length !== raw.objects.length)
    return "archiveRuns: objectRuns must be an array as long as objects";
  let total = 0;
  for (const [i, key] of (raw.objects as unknown[]).entries()) {
    const runs = (raw.objectRuns as unknown[])[i];
    if (typeof key !== "string" || key === "") return `archiveRuns: objects[${i}] must be a non-empty string`;
    if (!isIndex(runs) || runs < 1) return `archiveRuns: objectRuns[${i}] must be a positive integer`;
    total += runs;
  }
  if (total !== raw.runs) return `archiveRuns: objects count ${total} runs, not ${String(raw.runs)}`;
  return null;
}

/** Why a partition list of a transaction command is malformed, or null. */
function partitionListProblem(
  what: string,
  list: unknown,
  extra?: (p: Record<string, unknown>) => boolean,
): string | null {
  if (!Array.isArray(list)) return `${what} must be an array`;
  for (const [i, p] of (list as unknown[]).entries()) {
    const part = (typeof p === "object" && p !== null ? p : {}) as Record<string, unknown>;
    if (typeof part.topic !== "string") return `${what}[${i}].topic must be a string`;
    if (!isIndex(part.partition)) return `${what}[${i}].partition must be a non-negative integer`;
    if (extra && !extra(part)) return `${what}[${i}] is malformed`;
  }
  return null;
}

/** commandProblem for the transaction commands (level 10), which travel as JSON. */
function transactionCommandProblem(raw: Record<string, unknown>): string | null {
  const type = String(raw.type);
  if (typeof raw.transactionalId !== "string" || raw.transactionalId === "")
    return `${type}: transactionalId must be a non-empty string`;
  if (!isInt(raw.producerId) || raw.producerId < -1) return `${type}: producerId must be an integer of at least -1`;
  if (!isInt(raw.producerEpoch) || raw.producerEpoch < -1 || raw.producerEpoch > 0x7fff)
    return `${type}: producerEpoch must be an integer from -1 to 32767`;
  switch (type) {
    case "initTransaction":
      return isInt(raw.timeoutMs) ? null : "initTransaction: timeoutMs must be an integer";
    case "addToTransaction":
      if (!Array.isArray(raw.groups) || !(raw.groups as unknown[]).every((g) => typeof g === "string"))
        return "addToTransaction: groups must be an array of strings";
      return partitionListProblem("addToTransaction: partitions", raw.partitions);
    case "txnOffsetCommit": {
      if (typeof raw.group !== "string") return "txnOffsetCommit: group must be a string";
      if (raw.coordinatorEpoch !== undefined && !isIndex(raw.coordinatorEpoch))
        return "txnOffsetCommit: coordinatorEpoch must be a non-negative integer";
      if (raw.generationId !== undefined && !isInt(raw.generationId))
        return "txnOffsetCommit: generationId must be an integer";
      return partitionListProblem(
        "txnOffsetCommit: offsets",
        raw.offsets,
        (o) =>
          isInt(o.offset) &&
          isInt(o.leaderEpoch) &&
          isInt(o.time) &&
          (o.metadata === null || typeof o.metadata === "string"),
      );
    }
    case "endTransaction": {
      if (typeof raw.commit !== "boolean") return "endTransaction: commit must be a boolean";
      if (typeof raw.bumpEpoch !== "boolean") return "endTransaction: bumpEpoch must be a boolean";
      if (raw.markers === null) return null;
      const m = (typeof raw.markers === "object" ? raw.markers : {}) as Record<string, unknown>;
      if (typeof m.key !== "string" || m.key === "") return "endTransaction: markers.key must be a non-empty string";
      if (!isIndex(m.size) || !isInt(m.time)) return "endTransaction: markers.size and markers.time must be integers";
      return partitionListProblem(
        "endTransaction: markers.batches",
        m.batches,
        (b) => isIndex(b.pos) && isIndex(b.len) && b.len > 0,
      );
    }
  }
  return `unknown command type ${JSON.stringify(type)}`;
}
