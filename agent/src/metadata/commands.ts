/**
 * Commands of the metadata log. A log entry is a list of commands proposed together by one agent;
 * every agent folds the same entries in the same order into the same state (metadata/state.ts), so
 * commands carry everything the fold needs (ids, timestamps) and nothing position-dependent: offsets
 * are assigned by the fold, not by the proposer. Their bytes in the log: entry-codec.ts.
 */

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

/** Retention: records below `offset` are no longer readable. */
export interface TruncateCommand {
  readonly type: "truncate";
  readonly topic: string;
  readonly partition: number;
  readonly offset: number;
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
  | TruncateCommand;

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
