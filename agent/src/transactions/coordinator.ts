/**
 * The transaction coordinator (docs/metadata-log.md section 15): what InitProducerId with a transactional
 * id, AddPartitionsToTxn, AddOffsetsToTxn and EndTxn do, and the aborts of transactions past their
 * timeout. Its state is the fold's (metadata/transactions.ts): every decision is a log command the fold
 * admits or refuses, so any agent can take a transactional id over and two agents that both believe they
 * coordinate one cannot split it. What is local is the work around the commands: writing a transaction's
 * markers into an ingestion file before the entry that ends it, retrying an end whose markers a lagging
 * view got wrong, and the timer.
 *
 * The coordinator of a transactional id is the agent the cluster view picks for it (FindCoordinator key
 * type 1); the handlers answer NOT_COORDINATOR elsewhere, and only the coordinator aborts timed-out
 * transactions.
 */
import { errorMessage, type Logger } from "../../../common/logger.js";
import type { Command } from "../metadata/commands.js";
import type { MetadataLog } from "../metadata/log.js";
import type { CommandResult } from "../metadata/state.js";
import { partitionKey, type Transaction } from "../metadata/transactions.js";
import { ErrorCode } from "../protocol/error-codes.js";
import { controlBatch } from "../records/control-batch.js";

/** How often the coordinator looks for transactions past their timeout (Kafka's default is 10 s). */
const TIMEOUT_CHECK_INTERVAL_MS = 1_000;
/** How many times an end is written again after the fold refused its markers as out of date. */
const END_ATTEMPTS = 5;

export interface TransactionCoordinatorOptions {
  readonly metadata: MetadataLog;
  /** Writes an ingestion file and resolves with its key once durable (IngestionBatcher.writeFile). */
  readonly writeFile: (data: Buffer) => Promise<string>;
  /** Whether this agent coordinates the transactional id now (the cluster view's choice). */
  readonly coordinates: (transactionalId: string) => boolean;
  readonly log: Logger;
  readonly now?: () => number;
}

export interface InitResult {
  readonly errorCode: number;
  readonly producerId: number;
  readonly producerEpoch: number;
}

export class TransactionCoordinator {
  private timer: NodeJS.Timeout | null = null;
  /** Per transactional id, the tail of its operations: one at a time per id. */
  private readonly chains = new Map<string, Promise<unknown>>();
  private readonly now: () => number;

  constructor(private readonly options: TransactionCoordinatorOptions) {
    this.now = options.now ?? Date.now;
  }

  /** Starts the timeout checks. */
  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => void this.abortTimedOut(), TIMEOUT_CHECK_INTERVAL_MS);
    this.timer.unref();
  }

  close(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /** Runs `work` after every earlier operation on the same transactional id. */
  private serialized<T>(transactionalId: string, work: () => Promise<T>): Promise<T> {
    const previous = this.chains.get(transactionalId) ?? Promise.resolve();
    const next = previous.then(work, work);
    const tail = next.catch(() => undefined);
    this.chains.set(transactionalId, tail);
    void tail.then(() => {
      if (this.chains.get(transactionalId) === tail) this.chains.delete(transactionalId);
    });
    return next;
  }

  private async propose(command: Command): Promise<CommandResult> {
    const [result] = await this.options.metadata.propose([command]);
    if (!result) throw new Error(`the metadata log returned no result for ${command.type}`);
    return result;
  }

  /**
   * InitProducerId with a transactional id: a producer id and a new epoch, fencing the previous holder. A
   * transaction it left ongoing is aborted first (its markers written), as Kafka's coordinator does.
   */
  initProducerId(
    transactionalId: string,
    timeoutMs: number,
    producerId: number,
    producerEpoch: number,
  ): Promise<InitResult> {
    return this.serialized(transactionalId, async () => {
      const failed = (errorCode: number): InitResult => ({ errorCode, producerId: -1, producerEpoch: -1 });
      for (let attempt = 0; attempt < END_ATTEMPTS; attempt++) {
        const result = await this.propose({
          type: "initTransaction",
          transactionalId,
          timeoutMs,
          producerId,
          producerEpoch,
        });
        if (result.errorCode === ErrorCode.NONE)
          return { errorCode: ErrorCode.NONE, producerId: result.producerId!, producerEpoch: result.producerEpoch! };
        if (result.errorCode !== ErrorCode.CONCURRENT_TRANSACTIONS) return failed(result.errorCode);
        // An ongoing transaction of the previous producer: abort it, then the init bumps the epoch.
        const txn = this.options.metadata.state.transactions.get(transactionalId);
        if (txn?.state === "Ongoing") {
          const ended = await this.end(txn, false, false);
          if (ended !== ErrorCode.NONE && ended !== ErrorCode.CONCURRENT_TRANSACTIONS) return failed(ended);
        }
      }
      return failed(ErrorCode.CONCURRENT_TRANSACTIONS);
    });
  }

  /**
   * AddPartitionsToTxn and AddOffsetsToTxn: one code for the request (refused whole), or one per partition
   * (UNKNOWN_TOPIC_OR_PARTITION for those that do not exist, OPERATION_NOT_ATTEMPTED for the others).
   */
  add(
    transactionalId: string,
    producerId: number,
    producerEpoch: number,
    partitions: ReadonlyArray<{ readonly topic: string; readonly partition: number }>,
    groups: readonly string[],
  ): Promise<{ errorCode: number; partitionErrors: readonly number[] }> {
    return this.serialized(transactionalId, async () => {
      if (!this.endFits(transactionalId, producerId, producerEpoch, partitions)) {
        this.options.log.warn("transaction refused: its end would not fit one metadata log entry", {
          transactionalId,
          adding: partitions.length,
        });
        return {
          errorCode: ErrorCode.POLICY_VIOLATION,
          partitionErrors: partitions.map(() => ErrorCode.POLICY_VIOLATION),
        };
      }
      const result = await this.propose({
        type: "addToTransaction",
        transactionalId,
        producerId,
        producerEpoch,
        partitions,
        groups,
      });
      return {
        errorCode: result.errorCode,
        partitionErrors: result.partitionErrors ?? partitions.map(() => result.errorCode),
      };
    });
  }

  /**
   * Whether the transaction, with `adding` too, can still end in one log entry: its markers are one entry
   * (the Prepare states that would split a larger end are not built), so a transaction is refused partitions
   * beyond that (a few thousand on DynamoDB, fewer with long topic names) rather than left unable to end.
   */
  private endFits(
    transactionalId: string,
    producerId: number,
    producerEpoch: number,
    adding: ReadonlyArray<{ readonly topic: string; readonly partition: number }>,
  ): boolean {
    if (adding.length === 0) return true;
    const txn = this.options.metadata.state.transactions.get(transactionalId);
    const all = new Map<string, { topic: string; partition: number }>();
    if (txn?.state === "Ongoing")
      for (const [topic, set] of txn.partitions)
        for (const partition of set) all.set(partitionKey(topic, partition), { topic, partition });
    for (const p of adding) all.set(partitionKey(p.topic, p.partition), { topic: p.topic, partition: p.partition });
    const widest: Command = {
      type: "endTransaction",
      transactionalId,
      producerId,
      producerEpoch,
      commit: false,
      bumpEpoch: true,
      markers: {
        // As long as any file key the batcher gives, with the largest positions a file may have.
        key: "x".repeat(96),
        size: 0x7fffffff,
        time: this.now(),
        batches: [...all.values()].map((p) => ({ ...p, pos: 0x7fffffff, len: 0xffff })),
      },
    };
    return this.options.metadata.commandSize(widest) <= this.options.metadata.maxCommandBytes;
  }

  /** EndTxn from the producer: commits or aborts its ongoing transaction. */
  endTxn(transactionalId: string, producerId: number, producerEpoch: number, commit: boolean): Promise<number> {
    return this.serialized(transactionalId, async () => {
      const txn = this.options.metadata.state.transactions.get(transactionalId);
      if (!txn || txn.producerId !== producerId) return ErrorCode.INVALID_PRODUCER_ID_MAPPING;
      if (txn.producerEpoch !== producerEpoch) return ErrorCode.PRODUCER_FENCED;
      return this.end(txn, commit, false, producerEpoch);
    });
  }

  /**
   * Writes the end of `txn`: its markers (when it holds partitions) into a new ingestion file, then the
   * entry. When the fold finds the markers out of date (this view was behind), reads the log on and
   * tries again with the partitions it then holds.
   */
  private async end(
    txn: Transaction,
    commit: boolean,
    bumpEpoch: boolean,
    producerEpoch = txn.producerEpoch,
  ): Promise<number> {
    const { transactionalId, producerId } = txn;
    for (let attempt = 0; attempt < END_ATTEMPTS; attempt++) {
      const current = this.options.metadata.state.transactions.get(transactionalId);
      if (!current) return ErrorCode.INVALID_PRODUCER_ID_MAPPING;
      const state = this.options.metadata.state;
      const partitions: Array<{ topic: string; partition: number }> = [];
      if (current.state === "Ongoing")
        for (const [topic, set] of current.partitions)
          for (const partition of set) if (state.partition(topic, partition)) partitions.push({ topic, partition });
      let markers: Extract<Command, { type: "endTransaction" }>["markers"] = null;
      if (partitions.length > 0) {
        const time = this.now();
        const batch = controlBatch({
          producerId,
          // Markers of an abort that fences the producer carry the new epoch, as Kafka's do.
          producerEpoch: bumpEpoch ? producerEpoch + 1 : producerEpoch,
          commit,
          coordinatorEpoch: 0,
          timestamp: time,
        });
        const data = Buffer.concat(partitions.map(() => batch));
        const key = await this.options.writeFile(data);
        markers = {
          key,
          size: data.length,
          time,
          batches: partitions.map((p, i) => ({ ...p, pos: i * batch.length, len: batch.length })),
        };
      }
      const result = await this.propose({
        type: "endTransaction",
        transactionalId,
        producerId,
        producerEpoch,
        commit,
        bumpEpoch,
        markers,
      });
      if (result.errorCode !== ErrorCode.CONCURRENT_TRANSACTIONS) {
        if (result.errorCode === ErrorCode.NONE)
          this.options.log.debug("transaction ended", { transactionalId, commit, partitions: partitions.length });
        return result.errorCode;
      }
      await this.options.metadata.catchUpNow();
    }
    return ErrorCode.CONCURRENT_TRANSACTIONS;
  }

  /** Aborts, with a new epoch that fences their producers, the transactions it coordinates that timed out. */
  async abortTimedOut(): Promise<void> {
    const expired = this.options.metadata.state.transactions
      .timedOut(this.now())
      .filter((t) => this.options.coordinates(t.transactionalId));
    for (const txn of expired) {
      const { transactionalId, producerId, producerEpoch } = txn;
      try {
        const errorCode = await this.serialized(transactionalId, async () => {
          const current = this.options.metadata.state.transactions.get(transactionalId);
          // Ended or taken over meanwhile.
          if (current?.state !== "Ongoing" || current.producerEpoch !== producerEpoch) return ErrorCode.NONE;
          return this.end(current, false, true);
        });
        this.options.log.info("transaction timed out: aborted", {
          transactionalId,
          producerId,
          producerEpoch,
          errorCode,
        });
      } catch (err) {
        this.options.log.warn("aborting a timed-out transaction failed", {
          transactionalId,
          error: errorMessage(err),
        });
      }
    }
  }
}
