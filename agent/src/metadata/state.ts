/**
 * The agent's state as a deterministic fold over the metadata log: topics, partitions, offsets, the
 * index of which store object holds which offsets, idempotent-producer sequence state, committed
 * consumer-group offsets and the coordinator fences that guard them (group-fence.ts). Every agent
 * applies the same entries in the same order and reaches the same state; nothing here reads clocks,
 * randomness or I/O. Time is the log's own (expiry.ts): producer state and committed offsets unused
 * for their period are dropped as the log time passes it.
 *
 * Offsets are kept as JavaScript numbers (exact up to 2^53) and converted to int64 at the wire.
 *
 * Topic numbers (topic-numbers.ts) are given only by folding `numberTopics`, from a counter that snapshots
 * carry, and are kept after a topic is deleted: level-8 entries name topics by them (entry-codec.ts
 * decodes against `numbering`).
 */
import type { AclBinding } from "./acls.js";
import { AclStore, aclKey } from "./acls.js";
import { ScramCredentialStore } from "./scram-credentials.js";
import { recordProblem, type ConsumerGroupRecord } from "../groups/consumer-group-record.js";
import type {
  Command,
  CommitFileCommand,
  CreateAclsCommand,
  AlterScramCredentialsCommand,
  ArchiveRunsCommand,
  CompactCommand,
  DeleteOffsetsCommand,
  EndTransactionCommand,
  Location,
  RunPageRefs,
  LogEntry,
  NumberTopicsCommand,
  OffsetCommitEntry,
  TruncateCommand,
  TxnOffsetCommitCommand,
} from "./commands.js";
import { commandProblem } from "./commands.js";
import { ErrorCode } from "../protocol/error-codes.js";
import { ExpiryList, ExpiryQueue, OFFSETS_RETENTION_MS, PRODUCER_ID_EXPIRATION_MS, type Expiring } from "./expiry.js";
import { aclCountProblem, partitionCountProblem, scramCredentialCountProblem } from "./limits.js";
import { GroupFences } from "./group-fence.js";
import { validateTopicConfig } from "./topic-config.js";
import { decodeSnapshotSteps } from "./snapshot-codec.js";
import { PARTITIONS_PER_STEP } from "./snapshot-binary.js";
import { DEFAULT_SLICE_MS, runSteps, runStepsSliced, TimeSlicer, type Steps } from "../../../common/time-slicer.js";
import { encodeJsonSnapshot } from "./snapshot-json.js";
import { partitionsOf, type SnapshotPartition, type SnapshotProducer, type SnapshotView } from "./snapshot-view.js";
import { TopicNumbers, type NumberedTopic, type TopicNumbering } from "./topic-numbers.js";
import { partitionKey, TransactionTable } from "./transactions.js";

/** Kafka error codes the fold produces (the protocol layer's table). */
export const FoldError = ErrorCode;

/** Contiguous offsets stored at one location (one batch in an ingestion file, or a run in a compacted object). */
export interface Segment {
  readonly baseOffset: number;
  readonly lastOffset: number;
  readonly maxTimestamp: number;
  readonly location: Location;
  /** Log-append time (ms) of the entry that committed the data (of a page: its newest run's). */
  readonly appendTime: number;
  /** Of an index page (location.store "p"): the page's size and the objects its runs lie in. */
  readonly page?: RunPageRefs;
}

export interface ProducerBatch {
  readonly firstSeq: number;
  readonly lastSeq: number;
  readonly baseOffset: number;
}

/** Also an item of the fold's expiry list (expiry.ts): its last-use time and its place there. */
interface ProducerState extends Expiring<ProducerState> {
  readonly producerId: number;
  /** The partition whose state this is (for expiry). */
  readonly partition: PartitionState;
  epoch: number;
  /** Up to the last five batches, oldest first. */
  batches: ProducerBatch[];
  /** Max timestamp of the producer's last batch on the partition (−1: unknown, state from an older snapshot). */
  lastTimestamp: number;
}

/** A producer's idempotence state on a partition, as DescribeProducers reports it. */
export interface ProducerSummary {
  readonly producerId: number;
  readonly epoch: number;
  /** Sequence number of the last record of the producer's last batch. */
  readonly lastSequence: number;
  readonly lastTimestamp: number;
}

export class PartitionState {
  nextOffset = 0;
  logStartOffset = 0;
  /** Bytes of data currently referenced (for retention.bytes). */
  bytes = 0;
  /**
   * In offset order: index pages first, then runs and ingestion segments. Replaced by a new array when
   * runs are archived (an array keeps the capacity it once had): read it from the partition each time,
   * never keep it across an await.
   */
  segments: Segment[] = [];
  readonly producers = new Map<number, ProducerState>();
  /**
   * The snapshot capture (ClusterState.captureSnapshot's number) whose encoder has read this partition
   * for good: the fold need not save it before changing it (0: none).
   */
  readByCapture = 0;

  /** The producers with idempotence state on this partition, by producer id. */
  producerSummaries(): ProducerSummary[] {
    return [...this.producers.values()]
      .map((st) => ({
        producerId: st.producerId,
        epoch: st.epoch,
        lastSequence: st.batches[st.batches.length - 1]?.lastSeq ?? -1,
        lastTimestamp: st.lastTimestamp,
      }))
      .sort((a, b) => a.producerId - b.producerId);
  }

  /** Index of the first segment whose lastOffset >= offset, or segments.length. */
  findSegment(offset: number): number {
    return findSegment(this.segments, offset);
  }
}

/** A partition view's producers when it has none (a snapshot reads 100,000 partitions, most without any). */
const NO_PRODUCERS: readonly SnapshotProducer[] = Object.freeze([]);

/** Whether any of `segments[from, to)` is an index page (a compaction run never covers one). */
function coversPage(segments: readonly Segment[], from: number, to: number): boolean {
  for (let i = from; i < to; i++) if (segments[i]!.location.store === "p") return true;
  return false;
}

/**
 * Index of the first of `segments` (in offset order: a partition's, or the runs of an index page) whose
 * lastOffset >= offset, or segments.length.
 */
export function findSegment(segments: readonly Segment[], offset: number): number {
  let lo = 0;
  let hi = segments.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (segments[mid]!.lastOffset < offset) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

export interface TopicState {
  readonly name: string;
  readonly topicId: string;
  configs: Record<string, string>;
  readonly partitions: PartitionState[];
}

export interface BatchResult {
  readonly errorCode: number;
  /** Base offset assigned (or, for a duplicate, the original one); -1 on error. */
  readonly baseOffset: number;
  readonly logAppendTime: number;
  readonly logStartOffset: number;
}

export interface CommandResult {
  readonly errorCode: number;
  readonly message?: string;
  /** commitFile: one result per batch, in command order. */
  readonly batches?: readonly BatchResult[];
  /** allocateProducerId, initTransaction. */
  readonly producerId?: number;
  /** initTransaction. */
  readonly producerEpoch?: number;
  /** addToTransaction: one code per partition, in command order (absent when the command was refused whole). */
  readonly partitionErrors?: readonly number[];
  /** coordinateGroup: the epoch given to the coordinator and the group's last generation. */
  readonly coordinatorEpoch?: number;
  readonly generationId?: number;
  /** coordinateGroup: the KIP-848 group's durable state the new coordinator starts from (none: absent). */
  readonly consumerGroup?: ConsumerGroupRecord;
  /** truncate: the partition's log start after the command. */
  readonly logStartOffset?: number;
  /** deleteAcls: per filter, the bindings it matched (and that are gone now). */
  readonly deletedAcls?: readonly (readonly AclBinding[])[];
}

export interface StateListener {
  /** A partition's high watermark moved (data appended). */
  partitionAppended?(topic: string, partition: number, nextOffset: number): void;
  /** Topics or partitions were created or deleted. */
  topicsChanged?(): void;
  /** An agent started coordinating a group at a new coordinator epoch. */
  groupCoordinatorChanged?(group: string): void;
}

/**
 * Told when the fold refuses a command its proposer should have refused (limits.ts): the entry stays in
 * the log and is skipped the same way on every agent and every replay, so it is worth a log line.
 */
export type RefusalListener = (index: bigint, command: Command["type"], message: string) => void;

interface SequenceVerdict {
  readonly errorCode: number;
  readonly duplicateOf?: number;
}

/** A batch the idempotence checks admit: one object for all of them (one was made per batch folded). */
const SEQUENCE_OK: SequenceVerdict = { errorCode: ErrorCode.NONE };

const MAX_SEQUENCE = 0x7fffffff;
const PRODUCER_HISTORY = 5;

function nextSequence(seq: number, count: number): number {
  const next = seq + count;
  return next > MAX_SEQUENCE ? next - MAX_SEQUENCE - 1 : next;
}

export class ClusterState {
  /** Index of the last applied log entry (0 = none). */
  appliedIndex = 0n;
  readonly topics = new Map<string, TopicState>();
  readonly groupOffsets = new Map<string, Map<string, Map<number, OffsetCommitEntry>>>();
  readonly groupFences = new GroupFences();
  /** ACL bindings (acls.ts): what the authorizer decides with. */
  readonly acls = new AclStore();
  /** SCRAM credentials created with AlterUserScramCredentials (scram-credentials.ts). */
  readonly scramCredentials = new ScramCredentialStore();
  /** KIP-848 consumer groups' durable state, by group id (groups/consumer-group-record.ts). */
  readonly consumerGroups = new Map<string, ConsumerGroupRecord>();
  /** Transactional ids, their transactions, last stable offsets and aborted ranges (transactions.ts). */
  readonly transactions = new TransactionTable();
  nextProducerId = 1000;
  /** Log time (ms) at the last applied entry: the largest entry timestamp so far (expiry.ts); 0 while unknown. */
  logTime = 0;
  /** Per-partition producer states by the log time of their last batch. */
  private producerExpiry = new ExpiryList<ProducerState>();
  /** Groups with offsets by the log time of their last commit. */
  private groupExpiry = new ExpiryQueue<string>();
  /**
   * Ingestion files, compacted objects and index pages referenced by some segment → number of segments
   * (a page segment references its page object and, once each, the objects its runs lie in).
   */
  readonly objectRefs = new Map<string, number>();
  /** Index page segments held (a snapshot of a state holding any is written in format 9). */
  pageSegments = 0;
  /** Partitions of all topics together. */
  partitionTotal = 0;
  /** Every topic number given so far, deleted topics' included; never reused. */
  private topicNumbers = new TopicNumbers();
  /** Live topics without a number (created before level 8, or not numbered yet), by name. */
  private readonly unnumbered = new Map<string, TopicState>();
  /** The state's topic numbers as the entry codec uses them: to encode what it proposes, to decode entries. */
  readonly numbering: TopicNumbering = {
    numberOf: (name, topicId) => {
      if (topicId === undefined) {
        const live = this.topics.get(name);
        return live ? this.topicNumbers.numberOfId(live.topicId) : undefined;
      }
      const number = this.topicNumbers.numberOfId(topicId);
      return number !== undefined && this.topicNumbers.topicOf(number)?.name === name ? number : undefined;
    },
    topicOf: (number) => this.topicNumbers.topicOf(number),
  };
  /**
   * While a captured snapshot view is being encoded: partitions as they were at the capture, saved here
   * before the fold first changes them after it (copy on write; captureSnapshot).
   */
  private captured: Map<PartitionState, SnapshotPartition> | null = null;
  /** The number of the capture being encoded, or of the last one (PartitionState.readByCapture). */
  private captureNumber = 0;
  listener: StateListener | null = null;
  onRefused: RefusalListener | null = null;

  partition(topic: string, partition: number): PartitionState | undefined {
    return this.topics.get(topic)?.partitions[partition];
  }

  private readonly partitionExists = (topic: string, partition: number): boolean =>
    this.partition(topic, partition) !== undefined;

  /** The number a live topic was given (numberTopics), if any. */
  topicNumber(name: string): number | undefined {
    return this.numbering.numberOf(name);
  }

  /** The next topic number to give: how many topics were ever numbered. */
  get nextTopicNumber(): number {
    return this.topicNumbers.next;
  }

  /** Live topics without a number yet, oldest first (a proposer numbers them: topic-numbers.ts). */
  unnumberedTopics(): IterableIterator<NumberedTopic> {
    return this.unnumbered.values();
  }

  /**
   * Applies entry `index`; returns one result per command. `batchResults` false: nobody reads the per-batch results of its commitFiles
   * (the entry is not this agent's proposal), so none is made: most agents fold mostly others' entries,
   * and a result per batch was a good part of what the fold allocated.
   */
  apply(index: bigint, entry: LogEntry, batchResults = true): CommandResult[] {
    if (index !== this.appliedIndex + 1n)
      throw new Error(`metadata log entry ${index} applied after ${this.appliedIndex}`);
    if (entry.time !== undefined) this.advanceLogTime(entry.time);
    const results = entry.commands.map((c) => this.applyCommand(index, c, batchResults));
    this.appliedIndex = index;
    return results;
  }

  /**
   * Moves the log time forward to `time` (an earlier time, from an agent whose clock is behind, leaves it
   * where it is) and drops the state whose period has passed.
   */
  private advanceLogTime(time: number): void {
    if (!Number.isFinite(time) || time <= this.logTime) return;
    // A producer's last-use time is part of its partition's snapshot: save the partition before it changes.
    const beforeProducerChange = (state: ProducerState) => this.beforeChange(state.partition);
    if (this.logTime === 0) {
      this.producerExpiry.stampUnknown(time, beforeProducerChange);
      this.groupExpiry.stampUnknown(time);
    }
    this.logTime = time;
    for (const state of this.producerExpiry.expire(time - PRODUCER_ID_EXPIRATION_MS, beforeProducerChange))
      state.partition.producers.delete(state.producerId);
    for (const group of this.groupExpiry.expire(time - OFFSETS_RETENTION_MS)) this.groupOffsets.delete(group);
    this.transactions.expire(time);
  }

  /** A command beyond the limits its proposer checks: nothing is applied, the refusal is reported. */
  private refuse(index: bigint, c: Command, errorCode: number, message: string): CommandResult {
    this.onRefused?.(index, c.type, message);
    return { errorCode, message };
  }

  private applyCommand(index: bigint, c: Command, batchResults: boolean): CommandResult {
    // A malformed command in the log (commands.ts) is skipped, the same way on every agent.
    const problem = commandProblem(c);
    if (problem !== null) return this.refuse(index, c, FoldError.INVALID_REQUEST, problem);
    switch (c.type) {
      case "createTopic": {
        if (this.topics.has(c.name))
          return { errorCode: FoldError.TOPIC_ALREADY_EXISTS, message: `topic ${c.name} already exists` };
        const countProblem = partitionCountProblem(c.partitions, 0, this.partitionTotal);
        if (countProblem) return this.refuse(index, c, FoldError.INVALID_PARTITIONS, countProblem);
        for (const [k, v] of Object.entries(c.configs)) {
          const problem = validateTopicConfig(k, v);
          if (problem) return { errorCode: FoldError.INVALID_CONFIG, message: problem };
        }
        const topic: TopicState = {
          name: c.name,
          topicId: c.topicId,
          configs: { ...c.configs },
          partitions: Array.from({ length: c.partitions }, () => new PartitionState()),
        };
        this.topics.set(c.name, topic);
        // A number comes only from numberTopics (in the same entry, when it was written at level 8).
        if (this.topicNumbers.numberOfId(c.topicId) === undefined) this.unnumbered.set(c.name, topic);
        this.partitionTotal += c.partitions;
        this.listener?.topicsChanged?.();
        return { errorCode: FoldError.NONE };
      }
      case "deleteTopic": {
        const topic = this.topics.get(c.name);
        if (!topic)
          return { errorCode: FoldError.UNKNOWN_TOPIC_OR_PARTITION, message: `topic ${c.name} does not exist` };
        for (const p of topic.partitions) {
          this.beforeChange(p);
          for (const s of p.segments) this.unrefSegment(s);
          for (const state of p.producers.values()) this.producerExpiry.delete(state);
        }
        this.topics.delete(c.name);
        // Its number, if any, stays given: entries encoded before the deletion still name it.
        this.unnumbered.delete(c.name);
        this.partitionTotal -= topic.partitions.length;
        this.dropTopicOffsets(c.name);
        this.transactions.topicDeleted(c.name);
        this.listener?.topicsChanged?.();
        return { errorCode: FoldError.NONE };
      }
      case "createPartitions": {
        const topic = this.topics.get(c.name);
        if (!topic)
          return { errorCode: FoldError.UNKNOWN_TOPIC_OR_PARTITION, message: `topic ${c.name} does not exist` };
        const current = topic.partitions.length;
        const countProblem = partitionCountProblem(c.count, current, this.partitionTotal);
        if (countProblem) return this.refuse(index, c, FoldError.INVALID_PARTITIONS, countProblem);
        if (c.count <= current) {
          return {
            errorCode: FoldError.INVALID_PARTITIONS,
            message: `topic ${c.name} has ${current} partitions; the new count must be larger`,
          };
        }
        while (topic.partitions.length < c.count) topic.partitions.push(new PartitionState());
        this.partitionTotal += c.count - current;
        this.listener?.topicsChanged?.();
        return { errorCode: FoldError.NONE };
      }
      case "alterConfigs": {
        const topic = this.topics.get(c.name);
        if (!topic)
          return { errorCode: FoldError.UNKNOWN_TOPIC_OR_PARTITION, message: `topic ${c.name} does not exist` };
        for (const [k, v] of Object.entries(c.set)) {
          if (v === null) continue;
          const problem = validateTopicConfig(k, v);
          if (problem) return { errorCode: FoldError.INVALID_CONFIG, message: problem };
        }
        const next: Record<string, string> = c.replace ? {} : { ...topic.configs };
        for (const [k, v] of Object.entries(c.set)) {
          if (v === null) delete next[k];
          else next[k] = v;
        }
        topic.configs = next;
        return { errorCode: FoldError.NONE };
      }
      case "commitFile":
        return this.commitFile(c, batchResults);
      case "commitOffsets": {
        if (c.coordinatorEpoch !== undefined) {
          const refused = this.groupFences.admit(c.group, c.coordinatorEpoch, c.generationId ?? -1);
          if (refused !== FoldError.NONE) return { errorCode: refused };
        }
        // A partition deleted since the commit was validated: its offsets went with it.
        this.storeOffsets(c.group, c.offsets);
        return { errorCode: FoldError.NONE };
      }
      case "coordinateGroup": {
        const fence = this.groupFences.claim(c.group, c.coordinator);
        this.listener?.groupCoordinatorChanged?.(c.group);
        const consumerGroup = this.consumerGroups.get(c.group);
        return {
          errorCode: FoldError.NONE,
          coordinatorEpoch: fence.epoch,
          generationId: fence.generation,
          ...(consumerGroup ? { consumerGroup } : {}),
        };
      }
      case "consumerGroupState": {
        const refused = this.groupFences.admit(c.group, c.coordinatorEpoch, -1);
        if (refused !== FoldError.NONE) return { errorCode: refused };
        if (c.state === null) this.consumerGroups.delete(c.group);
        else this.consumerGroups.set(c.group, c.state);
        return { errorCode: FoldError.NONE };
      }
      case "groupGeneration":
        return { errorCode: this.groupFences.admit(c.group, c.coordinatorEpoch, c.generationId) };
      case "deleteGroup": {
        // A fenced deletion from a coordinator that is no longer the group's latest changes nothing.
        if (c.coordinatorEpoch !== undefined) {
          const refused = this.groupFences.admit(c.group, c.coordinatorEpoch, -1);
          if (refused !== FoldError.NONE) return { errorCode: refused };
        }
        this.groupExpiry.delete(c.group);
        this.consumerGroups.delete(c.group);
        return this.groupOffsets.delete(c.group)
          ? { errorCode: FoldError.NONE }
          : { errorCode: FoldError.GROUP_ID_NOT_FOUND };
      }
      case "allocateProducerId":
        return { errorCode: FoldError.NONE, producerId: this.nextProducerId++ };
      case "compact":
        return this.compact(c);
      case "archiveRuns":
        return this.archiveRuns(c);
      case "truncate":
        return this.applyTruncate(c);
      case "deleteOffsets":
        return this.deleteOffsets(c);
      case "createAcls":
        return this.createAcls(index, c);
      case "deleteAcls":
        return { errorCode: FoldError.NONE, deletedAcls: this.acls.deleteMatching(c.filters) };
      case "alterScramCredentials":
        return this.alterScramCredentials(index, c);
      case "numberTopics":
        return this.numberTopics(c);
      case "initTransaction":
        return this.transactions.init(
          c.transactionalId,
          c.timeoutMs,
          { producerId: c.producerId, producerEpoch: c.producerEpoch },
          this.logTime,
          () => this.nextProducerId++,
        );
      case "addToTransaction":
        return this.transactions.add(
          c.transactionalId,
          c.producerId,
          c.producerEpoch,
          c.partitions,
          c.groups,
          this.logTime,
          this.partitionExists,
        );
      case "txnOffsetCommit":
        return this.txnOffsetCommit(c);
      case "endTransaction":
        return this.endTransaction(c);
    }
  }

  /**
   * Gives each listed live topic without a number the next one, in list order. A topic deleted, numbered
   * already, or re-created since (another id) is skipped: the same numbering proposed twice, or by two
   * agents, numbers each topic once.
   */
  private numberTopics(c: NumberTopicsCommand): CommandResult {
    for (const { name, topicId } of c.topics) {
      const topic = this.topics.get(name);
      if (!topic || topic.topicId !== topicId || this.topicNumbers.numberOfId(topicId) !== undefined) continue;
      this.topicNumbers.assign(topic);
      this.unnumbered.delete(name);
    }
    return { errorCode: FoldError.NONE };
  }

  /** Adds the bindings not present yet, unless they would take the cluster beyond its limit (limits.ts). */
  private createAcls(index: bigint, c: CreateAclsCommand): CommandResult {
    const fresh = new Set<string>();
    let adding = 0;
    for (const b of c.acls) {
      const key = aclKey(b);
      if (!this.acls.has(b) && !fresh.has(key)) {
        fresh.add(key);
        adding++;
      }
    }
    const countProblem = aclCountProblem(adding, this.acls.size);
    if (countProblem) return this.refuse(index, c, FoldError.INVALID_REQUEST, countProblem);
    for (const b of c.acls) this.acls.add(b);
    return { errorCode: FoldError.NONE };
  }

  /**
   * One user's credential changes, all or nothing: refused (RESOURCE_NOT_FOUND) when a credential to
   * delete does not exist, or when the additions would take the cluster beyond its limit (limits.ts).
   * Messages never name the user (they are logged).
   */
  private alterScramCredentials(index: bigint, c: AlterScramCredentialsCommand): CommandResult {
    const store = this.scramCredentials;
    for (const mechanism of c.deletions) {
      if (!store.credential(c.user, mechanism))
        return {
          errorCode: FoldError.RESOURCE_NOT_FOUND,
          message: "Attempt to delete a user credential that does not exist",
        };
    }
    const adding = c.upsertions.filter((u) => !store.credential(c.user, u.mechanism)).length;
    const countProblem = scramCredentialCountProblem(adding - c.deletions.length, store.size);
    if (countProblem) return this.refuse(index, c, FoldError.INVALID_REQUEST, countProblem);
    for (const mechanism of c.deletions) store.delete(c.user, mechanism);
    for (const record of c.upsertions) store.upsert(c.user, record);
    return { errorCode: FoldError.NONE };
  }

  /** Moves a partition's log start forward (never past its high watermark, never back). */
  private applyTruncate(c: TruncateCommand): CommandResult {
    const topic = this.topics.get(c.topic);
    const p = topic?.partitions[c.partition];
    // A topic re-created since the truncation was decided is another topic: it is left alone.
    if (!topic || !p || (c.topicId !== undefined && c.topicId !== topic.topicId))
      return {
        errorCode: FoldError.UNKNOWN_TOPIC_OR_PARTITION,
        message: `partition ${c.topic}-${c.partition} does not exist`,
      };
    this.truncate(p, Math.min(c.offset, p.nextOffset));
    this.transactions.truncated(c.topic, c.partition, p.logStartOffset);
    return { errorCode: FoldError.NONE, logStartOffset: p.logStartOffset };
  }

  /** OffsetDelete: removes committed offsets if the coordinator epoch is current; a group left with none is gone. */
  private deleteOffsets(c: DeleteOffsetsCommand): CommandResult {
    const refused = this.groupFences.admit(c.group, c.coordinatorEpoch, -1);
    if (refused !== FoldError.NONE) return { errorCode: refused };
    const group = this.groupOffsets.get(c.group);
    if (!group) return { errorCode: FoldError.NONE };
    for (const { topic, partition } of c.partitions) {
      const byPartition = group.get(topic);
      if (byPartition?.delete(partition) && byPartition.size === 0) group.delete(topic);
    }
    if (group.size === 0) {
      this.groupOffsets.delete(c.group);
      this.groupExpiry.delete(c.group);
    }
    return { errorCode: FoldError.NONE };
  }

  /** A deleted topic's committed offsets go with it (as in Kafka); a group left without offsets is gone. */
  private dropTopicOffsets(topic: string): void {
    for (const [group, byTopic] of this.groupOffsets) {
      if (byTopic.delete(topic) && byTopic.size === 0) {
        this.groupOffsets.delete(group);
        this.groupExpiry.delete(group);
      }
    }
  }

  /** Offsets committed to the group as of now, created if needed; partitions that do not exist are skipped. */
  private storeOffsets(group: string, offsets: readonly OffsetCommitEntry[]): void {
    let byTopic = this.groupOffsets.get(group);
    for (const o of offsets) {
      if (!this.partition(o.topic, o.partition)) continue;
      if (!byTopic) this.groupOffsets.set(group, (byTopic = new Map()));
      let topic = byTopic.get(o.topic);
      if (!topic) byTopic.set(o.topic, (topic = new Map()));
      topic.set(o.partition, o);
    }
    if (byTopic) this.groupExpiry.touch(group, this.logTime);
  }

  /** TxnOffsetCommit: fenced like a commit when it names its coordinator epoch; held until the transaction ends. */
  private txnOffsetCommit(c: TxnOffsetCommitCommand): CommandResult {
    if (c.coordinatorEpoch !== undefined) {
      const refused = this.groupFences.admit(c.group, c.coordinatorEpoch, c.generationId ?? -1);
      if (refused !== FoldError.NONE) return { errorCode: refused };
    }
    const offsets = c.offsets.filter((o) => this.partitionExists(o.topic, o.partition));
    return {
      errorCode: this.transactions.commitOffsets(
        c.transactionalId,
        c.producerId,
        c.producerEpoch,
        c.group,
        offsets,
        this.logTime,
      ),
    };
  }

  /**
   * Ends a transaction in this one entry: each partition's marker (a control batch in `markers.key`) takes
   * the partition's next offset, the transaction's last stable offsets move past it, an abort's ranges are
   * recorded and a commit's group offsets applied (transactions.ts).
   */
  private endTransaction(c: EndTransactionCommand): CommandResult {
    const batches = c.markers?.batches ?? [];
    const check = this.transactions.checkEnd(
      c.transactionalId,
      c.producerId,
      c.producerEpoch,
      c.commit,
      batches,
      this.partitionExists,
    );
    if (check.errorCode !== FoldError.NONE || check.done) return { errorCode: check.errorCode };
    const markerOffsets = new Map<string, number>();
    const appended: Array<[string, number, PartitionState]> = [];
    if (c.markers) {
      for (const b of batches) {
        const p = this.partition(b.topic, b.partition)!;
        // A marker is a control batch of one record.
        const offset = this.appendSegment(p, c.markers.key, b.pos, b.len, 1, c.markers.time, c.markers.time);
        markerOffsets.set(partitionKey(b.topic, b.partition), offset);
        appended.push([b.topic, b.partition, p]);
      }
    }
    const applied = this.transactions.end(
      c.transactionalId,
      c.commit,
      markerOffsets,
      c.bumpEpoch,
      this.logTime,
      () => this.nextProducerId++,
    );
    for (const [group, offsets] of applied) this.storeOffsets(group, offsets);
    if (this.listener?.partitionAppended)
      for (const [t, i, p] of appended) this.listener.partitionAppended(t, i, p.nextOffset);
    return { errorCode: FoldError.NONE };
  }

  private ref(key: string): void {
    this.objectRefs.set(key, (this.objectRefs.get(key) ?? 0) + 1);
  }

  private unref(key: string, count = 1): void {
    const n = (this.objectRefs.get(key) ?? 0) - count;
    if (n <= 0) this.objectRefs.delete(key);
    else this.objectRefs.set(key, n);
  }

  /** References what segment `s` keeps: its object, and for a page the objects of the runs it lists. */
  private refSegment(s: Segment): void {
    this.ref(s.location.key);
    if (!s.page) return;
    this.pageSegments++;
    for (const key of s.page.objects) this.ref(key);
  }

  private unrefSegment(s: Segment): void {
    this.unref(s.location.key);
    if (!s.page) return;
    this.pageSegments--;
    for (const key of s.page.objects) this.unref(key);
  }

  /**
   * Appends `count` records stored at `pos`/`len` of ingestion file `key` to `p` at its next offset;
   * returns that offset.
   */
  private appendSegment(
    p: PartitionState,
    key: string,
    pos: number,
    len: number,
    count: number,
    maxTimestamp: number,
    appendTime: number,
  ): number {
    this.beforeChange(p);
    const baseOffset = p.nextOffset;
    p.segments.push({
      baseOffset,
      lastOffset: baseOffset + count - 1,
      maxTimestamp,
      location: { store: "i", key, pos, len },
      appendTime,
    });
    this.ref(key);
    p.nextOffset += count;
    p.bytes += len;
    return baseOffset;
  }

  private commitFile(c: CommitFileCommand, batchResults: boolean): CommandResult {
    const results: BatchResult[] = [];
    const result = (r: BatchResult): void => {
      if (batchResults) results.push(r);
    };
    const appended = new Set<PartitionState>();
    const appendedNames: Array<[string, number, PartitionState]> = [];
    for (const b of c.batches) {
      const topic = this.topics.get(b.topic);
      // A batch that named its topic by number is for that topic only, not for one re-created under its name.
      const p = b.topicId === undefined || topic?.topicId === b.topicId ? topic?.partitions[b.partition] : undefined;
      if (!p) {
        result({
          errorCode: FoldError.UNKNOWN_TOPIC_OR_PARTITION,
          baseOffset: -1,
          logAppendTime: -1,
          logStartOffset: -1,
        });
        continue;
      }
      const txnRefused = this.transactions.admitBatch(b.topic, b.partition, b.producerId, b.producerEpoch);
      if (txnRefused !== FoldError.NONE) {
        result({ errorCode: txnRefused, baseOffset: -1, logAppendTime: -1, logStartOffset: p.logStartOffset });
        continue;
      }
      const verdict = this.checkSequence(p, b.producerId, b.producerEpoch, b.baseSequence, b.count);
      if (verdict.errorCode !== FoldError.NONE || verdict.duplicateOf !== undefined) {
        result({
          errorCode: verdict.errorCode,
          baseOffset: verdict.duplicateOf ?? -1,
          logAppendTime: -1,
          logStartOffset: p.logStartOffset,
        });
        continue;
      }
      const baseOffset = this.appendSegment(p, c.key, b.pos, b.len, b.count, b.maxTimestamp, c.time);
      if (b.producerId >= 0) {
        this.recordSequence(p, b.producerId, b.producerEpoch, b.baseSequence, b.count, baseOffset, b.maxTimestamp);
        this.transactions.batchAppended(b.topic, b.partition, b.producerId, baseOffset);
      }
      if (batchResults)
        results.push({
          errorCode: FoldError.NONE,
          baseOffset,
          logAppendTime: c.time,
          logStartOffset: p.logStartOffset,
        });
      if (!appended.has(p)) {
        appended.add(p);
        appendedNames.push([b.topic, b.partition, p]);
      }
    }
    if (this.listener?.partitionAppended)
      for (const [t, i, p] of appendedNames) this.listener.partitionAppended(t, i, p.nextOffset);
    return { errorCode: FoldError.NONE, batches: results };
  }

  /** Idempotent-producer checks, as Kafka's ProducerStateManager makes them (docs/compatibility.md). */
  private checkSequence(p: PartitionState, pid: number, epoch: number, seq: number, count: number): SequenceVerdict {
    if (pid < 0) return SEQUENCE_OK;
    const state = p.producers.get(pid);
    if (!state) return SEQUENCE_OK;
    if (epoch < state.epoch) return { errorCode: FoldError.INVALID_PRODUCER_EPOCH };
    if (epoch > state.epoch) return seq === 0 ? SEQUENCE_OK : { errorCode: FoldError.OUT_OF_ORDER_SEQUENCE_NUMBER };
    const lastSeq = nextSequence(seq, count - 1);
    const dup = state.batches.find((b) => b.firstSeq === seq && b.lastSeq === lastSeq);
    if (dup) return { errorCode: FoldError.NONE, duplicateOf: dup.baseOffset };
    const last = state.batches[state.batches.length - 1];
    if (last && seq !== nextSequence(last.lastSeq, 1)) return { errorCode: FoldError.OUT_OF_ORDER_SEQUENCE_NUMBER };
    return SEQUENCE_OK;
  }

  private recordSequence(
    p: PartitionState,
    pid: number,
    epoch: number,
    seq: number,
    count: number,
    baseOffset: number,
    maxTimestamp: number,
  ): void {
    let state = p.producers.get(pid);
    if (!state) {
      state = {
        producerId: pid,
        partition: p,
        epoch,
        batches: [],
        lastTimestamp: -1,
        expiryTime: 0,
        expiryPrev: null,
        expiryNext: null,
      };
      p.producers.set(pid, state);
    } else if (state.epoch !== epoch) {
      state.epoch = epoch;
      state.batches = [];
    }
    state.batches.push({ firstSeq: seq, lastSeq: nextSequence(seq, count - 1), baseOffset });
    state.lastTimestamp = maxTimestamp;
    if (state.batches.length > PRODUCER_HISTORY) state.batches.shift();
    this.producerExpiry.touch(state, this.logTime);
  }

  private compact(c: CompactCommand): CommandResult {
    for (const run of c.runs) {
      const topic = this.topics.get(run.topic);
      if (!topic || (run.topicId !== undefined && run.topicId !== topic.topicId)) continue;
      const p = topic.partitions[run.partition];
      if (!p) continue;
      // Replace the segments covering [baseOffset, lastOffset] by one run, if they are still there
      // (retention or a topic deletion may have removed them meanwhile).
      // Index loops, no copies: a pass's entries carry thousands of runs, folded by every agent.
      const segments = p.segments;
      const first = p.findSegment(run.baseOffset);
      let last = first;
      while (last < segments.length && segments[last]!.lastOffset <= run.lastOffset) last++;
      if (
        last === first ||
        segments[first]!.baseOffset !== run.baseOffset ||
        segments[last - 1]!.lastOffset !== run.lastOffset ||
        coversPage(segments, first, last)
      )
        continue;
      this.beforeChange(p);
      for (let i = first; i < last; i++) {
        const s = segments[i]!;
        this.unref(s.location.key);
        p.bytes -= s.location.len;
      }
      const replacement: Segment = {
        baseOffset: run.baseOffset,
        lastOffset: run.lastOffset,
        maxTimestamp: run.maxTimestamp,
        location: { store: "c", key: c.key, pos: run.pos, len: run.len },
        appendTime: segments[last - 1]!.appendTime,
      };
      if (last - first === 1) segments[first] = replacement;
      else segments.splice(first, last - first, replacement);
      this.ref(c.key);
      p.bytes += run.len;
    }
    return { errorCode: FoldError.NONE };
  }

  /**
   * Swaps a partition's oldest compacted runs after its pages for the index page listing them, if they
   * are exactly the runs the command names (their offsets, count, bytes and objects): compaction may
   * have merged them, or retention dropped some, since the lease holder wrote the page, which is then
   * garbage. The page segment references each of the runs' objects once, and its page object.
   */
  private archiveRuns(c: ArchiveRunsCommand): CommandResult {
    const topic = this.topics.get(c.topic);
    const p = topic?.topicId === c.topicId ? topic.partitions[c.partition] : undefined;
    if (!p) return { errorCode: FoldError.UNKNOWN_TOPIC_OR_PARTITION };
    let first = 0;
    while (first < p.segments.length && p.segments[first]!.location.store === "p") first++;
    const end = first + c.runs;
    if (end > p.segments.length) return { errorCode: FoldError.NONE };
    // The objects as the runs name them (their key strings, not the command's copies: shared, not held twice).
    const objects = new Map<string, number>();
    let bytes = 0;
    for (let i = first; i < end; i++) {
      const s = p.segments[i]!;
      if (s.location.store !== "c") return { errorCode: FoldError.NONE };
      objects.set(s.location.key, (objects.get(s.location.key) ?? 0) + 1);
      bytes += s.location.len;
    }
    if (
      p.segments[first]!.baseOffset !== c.baseOffset ||
      p.segments[end - 1]!.lastOffset !== c.lastOffset ||
      bytes !== c.bytes ||
      objects.size !== c.objects.length ||
      !c.objects.every((key, i) => objects.get(key) === c.objectRuns[i])
    )
      return { errorCode: FoldError.NONE };
    this.beforeChange(p);
    const page: Segment = {
      baseOffset: c.baseOffset,
      lastOffset: c.lastOffset,
      maxTimestamp: c.maxTimestamp,
      location: { store: "p", key: c.key, pos: 0, len: c.bytes },
      appendTime: c.appendTime,
      page: { size: c.size, runs: c.runs, objects: [...objects.keys()] },
    };
    // A new array: splicing 64 entries out would leave the old one their capacity (~8 bytes a run archived).
    const runs = p.segments.slice(first, end);
    p.segments = [...p.segments.slice(0, first), page, ...p.segments.slice(end)];
    for (const s of runs) this.unrefSegment(s);
    this.refSegment(page);
    return { errorCode: FoldError.NONE };
  }

  private truncate(p: PartitionState, offset: number): void {
    if (offset <= p.logStartOffset) return;
    this.beforeChange(p);
    p.logStartOffset = offset;
    let drop = 0;
    while (drop < p.segments.length && p.segments[drop]!.lastOffset < offset) {
      const s = p.segments[drop]!;
      this.unrefSegment(s);
      p.bytes -= s.location.len;
      drop++;
    }
    p.segments.splice(0, drop);
  }

  // ---- snapshots ----

  /**
   * Partition `p` as a snapshot holds it now; with `shared`, its arrays are the live ones (for a reader
   * done with it before the fold can run again), else copies.
   */
  private partitionView(p: PartitionState, shared = false): SnapshotPartition {
    return {
      next: p.nextOffset,
      start: p.logStartOffset,
      bytes: p.bytes,
      // Segments are immutable; the array is not.
      segments: shared ? p.segments : p.segments.slice(),
      producers:
        p.producers.size === 0
          ? NO_PRODUCERS
          : [...p.producers.values()].map((st) => ({
              producerId: st.producerId,
              epoch: st.epoch,
              batches: shared ? st.batches : st.batches.slice(),
              time: st.expiryTime,
              lastTimestamp: st.lastTimestamp,
            })),
    };
  }

  /**
   * Called before the fold changes `p` (or its producers' times): saves it for a pending capture, unless
   * the capture's encoder has read it already.
   */
  private beforeChange(p: PartitionState): void {
    const captured = this.captured;
    if (captured && p.readByCapture !== this.captureNumber && !captured.has(p)) captured.set(p, this.partitionView(p));
  }

  /** The state as a snapshot holds it, every part read now. */
  private view(resolve: (p: PartitionState, readNow: boolean) => SnapshotPartition): SnapshotView {
    const topics = [...this.topics.values()].map((t) => {
      // createPartitions adds to the array: the captured topic keeps the partitions it had.
      const partitions = t.partitions.slice();
      return {
        name: t.name,
        topicId: t.topicId,
        // Replaced, never changed in place, by alterConfigs.
        configs: t.configs,
        partitionCount: partitions.length,
        partition: (i: number, readNow = false) => resolve(partitions[i]!, readNow),
      };
    });
    const groups = [...this.groupOffsets.entries()].map(([group, byTopic]) => ({
      group,
      offsets: [...byTopic.values()].flatMap((m) => [...m.values()]),
      time: this.groupExpiry.timeOf(group) ?? 0,
    }));
    return {
      applied: this.appliedIndex,
      nextProducerId: this.nextProducerId,
      logTime: this.logTime,
      topics,
      groups,
      fences: this.groupFences.toRows(),
      acls: this.acls.toRows(),
      scram: this.scramCredentials.toRows(),
      cgroups: [...this.consumerGroups],
      topicNumbers: this.topicNumbers.toRows(),
      transactions: this.transactions.toRows(),
      pages: this.pageSegments,
    };
  }

  /**
   * Captures the state for a snapshot in a short synchronous pass (topics, partition lists, group offsets
   * and the small tables; no partition's segments or producers), so that the fold may go on while the view
   * is encoded. Until `release()`, the fold saves each partition as it was before changing it, and the
   * view's partitions resolve to those saved copies or, for partitions not changed since, to what they
   * hold now: the view stays the state at the captured index. A partition the encoder reads with
   * `readNow` (and so never asks for again once it yields, snapshot-view.ts) is not saved after that:
   * the encoder is past it. One capture at a time. `saved()`: the partitions saved so far.
   */
  captureSnapshot(): { readonly view: SnapshotView; release(): void; saved(): number } {
    if (this.captured) throw new Error("a snapshot capture of this state is still being encoded");
    const captured = new Map<PartitionState, SnapshotPartition>();
    this.captured = captured;
    const number = ++this.captureNumber;
    const view = this.view((p, readNow) => {
      const saved = captured.get(p);
      if (saved) return saved;
      if (readNow) p.readByCapture = number;
      return this.partitionView(p, readNow);
    });
    return {
      view,
      release: () => {
        if (this.captured === captured) this.captured = null;
      },
      saved: () => captured.size,
    };
  }

  /**
   * A JSON snapshot of the state (formats 1–4, or 6 when it holds topic numbers; snapshot-json.ts),
   * encoded at once.
   */
  toSnapshot(): Buffer {
    return encodeJsonSnapshot(this.view((p, readNow) => this.partitionView(p, readNow)));
  }

  /**
   * The state a snapshot holds, in either encoding. Throws MetadataFormatError for a snapshot this agent
   * cannot read (malformed, or of a format version it does not read); `index` is the snapshot's, for the message.
   */
  static fromSnapshot(data: Buffer, index?: bigint): ClusterState {
    return runSteps(ClusterState.fromSnapshotSteps(data, index));
  }

  /**
   * fromSnapshot in slices of the event loop (common/time-slicer.ts): for an agent that reloads from a
   * snapshot while it serves requests (a lagging agent whose entries were trimmed). At 100,000 partitions
   * decoding and restoring at once holds the loop for about half a second.
   */
  static fromSnapshotSliced(
    data: Buffer,
    index: bigint,
    slicer: TimeSlicer = new TimeSlicer(DEFAULT_SLICE_MS, 1),
  ): Promise<ClusterState> {
    return runStepsSliced(ClusterState.fromSnapshotSteps(data, index), slicer);
  }

  private static *fromSnapshotSteps(data: Buffer, index: bigint | undefined): Steps<ClusterState> {
    const view = yield* decodeSnapshotSteps(data, index);
    return yield* ClusterState.restoreSteps(view);
  }

  /** The state a decoded snapshot holds; throws naming the first row it cannot restore. */
  static fromView(view: SnapshotView): ClusterState {
    return runSteps(ClusterState.restoreSteps(view));
  }

  /** fromView step by step: it yields after each topic, and every PARTITIONS_PER_STEP partitions of a large one. */
  private static *restoreSteps(view: SnapshotView): Steps<ClusterState> {
    const state = new ClusterState();
    state.appliedIndex = view.applied;
    state.nextProducerId = view.nextProducerId;
    state.logTime = view.logTime;
    const producers: ProducerState[] = [];
    for (const t of view.topics) {
      const partitions: PartitionState[] = [];
      for (const [partitionIndex, rp] of partitionsOf(t).entries()) {
        const p = new PartitionState();
        p.nextOffset = rp.next;
        p.logStartOffset = rp.start;
        p.bytes = rp.bytes;
        for (const segment of rp.segments) {
          p.segments.push(segment);
          state.refSegment(segment);
        }
        for (const rs of rp.producers) {
          if (!Number.isFinite(rs.lastTimestamp))
            throw new Error(
              `snapshot: producer ${rs.producerId} of ${t.name}-${partitionIndex} has a last timestamp that is not a number`,
            );
          const producer: ProducerState = {
            producerId: rs.producerId,
            partition: p,
            epoch: rs.epoch,
            batches: rs.batches.slice(),
            lastTimestamp: rs.lastTimestamp,
            expiryTime: rs.time,
            expiryPrev: null,
            expiryNext: null,
          };
          p.producers.set(rs.producerId, producer);
          producers.push(producer);
        }
        partitions.push(p);
        if (partitions.length % PARTITIONS_PER_STEP === 0) yield;
      }
      yield;
      state.topics.set(t.name, { name: t.name, topicId: t.topicId, configs: t.configs, partitions });
      state.partitionTotal += partitions.length;
    }
    // Snapshots before format 6 hold no numbers: no numberTopics came before them.
    state.topicNumbers = TopicNumbers.fromRows(view.topicNumbers);
    for (const t of state.topics.values())
      if (state.topicNumbers.numberOfId(t.topicId) === undefined) state.unnumbered.set(t.name, t);
    state.producerExpiry = ExpiryList.of(producers);
    const groupTimes: Array<[string, number]> = [];
    for (const { group, offsets, time } of view.groups) {
      const byTopic = new Map<string, Map<number, OffsetCommitEntry>>();
      for (const o of offsets) {
        let m = byTopic.get(o.topic);
        if (!m) byTopic.set(o.topic, (m = new Map()));
        m.set(o.partition, o);
      }
      state.groupOffsets.set(group, byTopic);
      groupTimes.push([group, time]);
    }
    state.groupExpiry = ExpiryQueue.of(groupTimes);
    state.groupFences.restore(view.fences);
    state.acls.restore(view.acls);
    state.scramCredentials.restore(view.scram);
    for (const row of view.cgroups) {
      if (!Array.isArray(row) || typeof row[0] !== "string") throw new Error("snapshot: a cgroups row is malformed");
      const problem = recordProblem(row[1]);
      if (problem) throw new Error(`snapshot: consumer group ${row[0]}: ${problem}`);
      state.consumerGroups.set(row[0], row[1]);
    }
    state.transactions.restore(view.transactions);
    return state;
  }
}
