/**
 * Produce batching: record batches from every connection are gathered into one ingestion file holding
 * many partitions, written to the ingestion store, then committed to the metadata log, which assigns
 * offsets. A produce request is answered only after both steps succeeded. Files are written
 * concurrently but committed in the order they were sealed, so batches of one producer keep their order.
 *
 * When a file is sealed (closed and written) depends on the seal mode:
 *  - "window": when `batchTimeout` has passed since its first batch, or it reached its size cap. Every
 *    request waits for its file's window, however idle the store is. With `alignWindows`, windows end
 *    at wall-clock multiples of `batchTimeout` instead (a request waits up to `batchTimeout`, half of it
 *    on average): agents whose clocks agree seal their files at the same instants, and the sequencer
 *    puts those files' commits into one log entry (metadata/gather.ts).
 *  - "eager" (group commit): also as soon as waiting longer cannot help. While no file is being written,
 *    the open file is sealed once no request has arrived for the idle gap (`sealIdleGapMs`; 0: at the end
 *    of the event-loop turn that added to it). While one is, the batches arriving meanwhile wait for it and
 *    are sealed together the moment its write ends, so the next write overlaps the previous file's
 *    commit. `batchTimeout` and the size cap still seal a file whatever the store is doing. Files are
 *    smaller and more frequent than in window mode: cheaper latency, dearer where the store bills per
 *    item or per log entry (DynamoDB; docs/cost.md).
 *
 * Log-append time: batches of a topic with message.timestamp.type=LogAppendTime are stamped with the
 * time their file is sealed (all such batches of one file share it), in the file's copy of the bytes,
 * before the file is written; that time is their append time, reported back as `logAppendTime`. Offsets
 * are assigned later, at commit, so the stamp precedes the commit by the write's duration.
 */
import type { Logger } from "../../../common/logger.js";
import { errorMessage } from "../../../common/logger.js";
import type { BatchMeta, Command } from "../metadata/commands.js";
import type { BatchResult, CommandResult } from "../metadata/state.js";
import { RelayedOutcomeUnknownError } from "../metadata/proposal.js";
import type { BatchHeader } from "../records/record-batch.js";
import { stampLogAppendTime } from "../records/record-batch.js";
import type { ObjectStore } from "../store/types.js";
import type { IngestionHealth } from "./health.js";
import { commitCommands } from "./commit-commands.js";

export interface IncomingBatch {
  readonly topic: string;
  readonly partition: number;
  /** The RecordBatch as the producer sent it (a view into the request frame). */
  readonly bytes: Buffer;
  readonly header: BatchHeader;
  /** The topic keeps log-append time: the batch is stamped with its file's seal time. */
  readonly logAppendTime?: boolean;
}

/** When files are sealed besides their batch window and size cap (see the module comment). */
export const SEAL_MODES = ["window", "eager"] as const;
export type SealMode = (typeof SEAL_MODES)[number];

/**
 * Where a committed file's time went, in seconds: `write`, its store write; `previous`, waiting after it
 * for the previous file's proposal (commit order); `commit`, from its proposal to its entry folded here
 * (the log's queue, the conditional append and any retries after conflicts, catching up to the entry).
 */
export interface FilePhases {
  readonly write: number;
  readonly previous: number;
  readonly commit: number;
}

/** Why a file was sealed: its window ended, it was full, the store was free (eager mode), or a flush. */
export type SealReason = "timeout" | "full" | "eager" | "flush";

/**
 * What files are committed through: the metadata log (metadata/log.ts), or the sequencer's forwarder
 * (sequencer/forwarder.ts) in front of it. propose settles as MetadataLog.propose does.
 */
export interface FileCommitter {
  /** `options`: see FileCommitOptions; a plain log ignores them. */
  propose(commands: readonly Command[], options?: FileCommitOptions): Promise<CommandResult[]>;
  /** Largest command size an entry holds. */
  readonly maxCommandBytes: number;
  /** Bytes `command` takes in an entry. */
  commandSize(command: Command): number;
}

export interface FileCommitOptions {
  /**
   * The file ended an aligned window, which ended at this wall-clock time (ms since the epoch): its
   * commit may wait briefly at the sequencer for the other agents' commits of that window
   * (metadata/gather.ts).
   */
  readonly window?: number;
}

export interface BatcherOptions {
  readonly store: ObjectStore;
  readonly log: FileCommitter;
  /** Longest a batch waits for its file to be sealed. */
  readonly batchTimeoutMs: number;
  readonly maxFileBytes: number;
  /** Default "window". */
  readonly sealMode?: SealMode;
  /** Window mode: windows end at wall-clock multiples of batchTimeoutMs (see the module comment; default false). */
  readonly alignWindows?: boolean;
  /** Eager mode: seal once no request has arrived for this long while no file is being written (default 0). */
  readonly sealIdleGapMs?: number;
  /** Names files: `<prefix><time>-<counter>`; include the agent id so agents never collide. */
  readonly keyPrefix: string;
  readonly logger: Logger;
  /**
   * Ingestion files are written with an expiry this far ahead (DynamoDB TTL: free, where a delete is
   * billed like a write). Compaction must copy them out before then. Undefined: no expiry.
   */
  readonly expireAfterMs?: number;
  /** A freshly written file, handed to the fetch cache. */
  readonly onFileWritten?: (key: string, data: Buffer) => void;
  readonly onFileCommitted?: (info: {
    bytes: number;
    batches: number;
    /** From the first store write to the commit folded (the sum of the three phases). */
    writeSeconds: number;
    phases: FilePhases;
    sealed: SealReason;
  }) => void;
  /** Told when each file write starts, succeeds (committed) or fails. */
  readonly health?: IngestionHealth;
  /**
   * Most produced bytes held at once (open file plus files being written or committed). Beyond it,
   * add() waits, in arrival order, until earlier files are done; undefined: no limit. A request
   * larger than the limit is taken alone when nothing else is held.
   */
  readonly maxBufferedBytes?: number;
  /** Asked for each produce request: why new data is refused now (compaction far behind), or null. */
  readonly refusal?: () => string | null;
}

/** Thrown to producers when the file holding their batch could not be stored or committed (retriable). */
export class IngestionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "IngestionError";
  }
}

/** Thrown to producers while new data is refused (see BatcherOptions.refusal); nothing was written. */
export class IngestionRefusedError extends IngestionError {
  constructor(message: string) {
    super(message);
    this.name = "IngestionRefusedError";
  }
}

interface Waiter {
  readonly batch: IncomingBatch;
  readonly resolve: (r: BatchResult) => void;
  readonly reject: (e: Error) => void;
}

interface SpaceWaiter {
  readonly size: number;
  readonly grant: () => void;
  readonly refuse: (e: Error) => void;
}

interface OpenFile {
  readonly waiters: Waiter[];
  bytes: number;
  /** Rough size of the commit command (JSON), kept under the log entry limit. */
  commandBytes: number;
  /** Seals the file when its batch window ends. */
  timer: NodeJS.Timeout | null;
  /** Eager mode: a check after the idle gap is pending (it does nothing once the file is sealed). */
  idleArmed: boolean;
  /** When the last request was added (eager mode's idle gap is measured from it). */
  lastAddAt: number;
  /** An aligned window's end (ms since the epoch, a multiple of batchTimeoutMs); null when not aligned. */
  windowEnd: number | null;
}

const BATCH_META_BYTES = 200;

export class IngestionBatcher {
  private open: OpenFile | null = null;
  private counter = 0;
  /** Resolves when the previously sealed file has been handed to the log (commit order). */
  private commitChain: Promise<void> = Promise.resolve();
  private readonly inFlight = new Set<Promise<void>>();
  private closed = false;
  /** Bytes of the batches held: in the open file or in files not yet committed or failed. */
  private buffered = 0;
  private readonly spaceWaiters: SpaceWaiter[] = [];
  /** Sealed files whose store write has not ended yet. */
  private writing = 0;
  private readonly eager: boolean;
  private readonly idleGapMs: number;

  constructor(private readonly options: BatcherOptions) {
    this.eager = options.sealMode === "eager";
    this.idleGapMs = options.sealIdleGapMs ?? 0;
  }

  /** Produced bytes held in memory now (open file plus files in flight). */
  get bufferedBytes(): number {
    return this.buffered;
  }

  /**
   * Adds the batches of one produce request (they land in the same file); one result per batch. The
   * `logAppendTime` of an appended batch stamped with log-append time is its stamp (the seal time).
   * When the buffer is full the request waits for space; aborting `signal` while it waits drops it
   * (nothing of it is written) with a retriable IngestionError.
   */
  add(batches: readonly IncomingBatch[], signal?: AbortSignal): Promise<BatchResult[]> {
    if (this.closed) return Promise.reject(new IngestionError("agent is shutting down"));
    const refused = this.options.refusal?.() ?? null;
    if (refused !== null) return Promise.reject(new IngestionRefusedError(refused));
    const size = batches.reduce((n, b) => n + b.bytes.length, 0);
    const max = this.options.maxBufferedBytes;
    // Arrival order is kept: with anyone waiting, a newcomer waits too.
    if (max === undefined || (this.spaceWaiters.length === 0 && (this.buffered === 0 || this.buffered + size <= max))) {
      this.buffered += size;
      return this.addNow(batches, size);
    }
    return this.waitForSpace(size, signal).then(() => {
      if (this.closed) {
        this.release(size);
        throw new IngestionError("agent is shutting down");
      }
      return this.addNow(batches, size);
    });
  }

  private waitForSpace(size: number, signal: AbortSignal | undefined): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      if (signal?.aborted) {
        reject(new IngestionError("produce buffer full"));
        return;
      }
      const onAbort = () => {
        const i = this.spaceWaiters.indexOf(waiter);
        if (i >= 0) this.spaceWaiters.splice(i, 1);
        reject(new IngestionError(`produce buffer full (${this.buffered} bytes held): request dropped at its timeout`));
        // The head may now fit.
        this.release(0);
      };
      const waiter: SpaceWaiter = {
        size,
        grant: () => {
          signal?.removeEventListener("abort", onAbort);
          resolve();
        },
        refuse: (e) => {
          signal?.removeEventListener("abort", onAbort);
          reject(e);
        },
      };
      signal?.addEventListener("abort", onAbort, { once: true });
      this.spaceWaiters.push(waiter);
    });
  }

  /** Returns bytes to the buffer and grants waiting requests that now fit, in order. */
  private release(bytes: number): void {
    this.buffered -= bytes;
    const max = this.options.maxBufferedBytes ?? Infinity;
    while (this.spaceWaiters.length > 0) {
      const head = this.spaceWaiters[0]!;
      if (this.buffered > 0 && this.buffered + head.size > max) break;
      this.spaceWaiters.shift();
      this.buffered += head.size;
      head.grant();
    }
  }

  private addNow(batches: readonly IncomingBatch[], size: number): Promise<BatchResult[]> {
    const topicBytes = batches.reduce((n, b) => n + b.topic.length, 0);
    const commandBytes = batches.length * BATCH_META_BYTES + topicBytes;
    if (
      this.open &&
      (this.open.bytes + size > this.options.maxFileBytes ||
        this.open.commandBytes + commandBytes > this.options.log.maxCommandBytes)
    ) {
      this.seal("full");
    }
    const file = this.ensureOpen();
    const promises = batches.map(
      (batch) =>
        new Promise<BatchResult>((resolve, reject) => {
          file.waiters.push({ batch, resolve, reject });
        }),
    );
    file.bytes += size;
    file.commandBytes += commandBytes;
    if (file.bytes >= this.options.maxFileBytes) this.seal("full");
    else if (this.eager) this.armIdleSeal(file);
    return Promise.all(promises);
  }

  private ensureOpen(): OpenFile {
    if (!this.open) {
      const file: OpenFile = {
        waiters: [],
        bytes: 0,
        commandBytes: 512,
        timer: null,
        idleArmed: false,
        lastAddAt: 0,
        windowEnd: null,
      };
      const window = this.options.batchTimeoutMs;
      const now = Date.now();
      if (this.options.alignWindows === true && !this.eager) file.windowEnd = now - (now % window) + window;
      file.timer = setTimeout(
        () => {
          if (this.open === file) this.seal("timeout");
        },
        file.windowEnd !== null ? file.windowEnd - now : window,
      );
      this.open = file;
    }
    return this.open;
  }

  /**
   * Eager mode, after a request was added to `file`: while no file is being written, seal it once no
   * request has arrived for the idle gap. While one is, the end of that write seals it (writeEnded).
   */
  private armIdleSeal(file: OpenFile): void {
    file.lastAddAt = performance.now();
    if (file.idleArmed) return; // the pending check looks at lastAddAt
    file.idleArmed = true;
    const check = (): void => {
      if (this.open !== file || this.writing > 0) {
        file.idleArmed = false;
        return;
      }
      const quietFor = performance.now() - file.lastAddAt;
      if (quietFor >= this.idleGapMs) this.seal("eager");
      else setTimeout(check, this.idleGapMs - quietFor);
    };
    // Gap 0: the end of this event-loop turn, so requests read from the sockets in one turn share a file.
    if (this.idleGapMs === 0) setImmediate(check);
    else setTimeout(check, this.idleGapMs);
  }

  /** A sealed file's store write ended (stored or failed): eager mode seals what waited for it at once. */
  private writeEnded(): void {
    this.writing--;
    if (this.eager && this.writing === 0 && this.open && this.open.waiters.length > 0) this.seal("eager");
  }

  /** Closes the open file and starts writing it. */
  private seal(reason: SealReason): void {
    const file = this.open;
    if (!file) return;
    this.open = null;
    if (file.timer) clearTimeout(file.timer);
    if (file.waiters.length === 0) return;
    const task = this.writeAndCommit(file, reason);
    this.inFlight.add(task);
    void task.finally(() => {
      this.inFlight.delete(task);
      this.release(file.bytes);
    });
  }

  /** A new file's key: `<prefix><time>-<counter>`, never reused by this agent. */
  private nextKey(at: number): string {
    return `${this.options.keyPrefix}${at.toString(36)}-${(this.counter++).toString(36)}`;
  }

  /**
   * Writes `data` as an ingestion file outside the window, with the expiry files get, and resolves with
   * its key once it is durable: for data its writer commits itself (a transaction's markers, in the
   * entry that ends the transaction). The fetch cache is offered it as any file.
   */
  async writeFile(data: Buffer): Promise<string> {
    const key = this.nextKey(Date.now());
    const expiresAt =
      this.options.expireAfterMs !== undefined ? new Date(Date.now() + this.options.expireAfterMs) : undefined;
    await this.options.store.put(key, data, expiresAt ? { expiresAt, fresh: true } : { fresh: true });
    this.options.onFileWritten?.(key, data);
    return key;
  }

  private async writeAndCommit(file: OpenFile, reason: SealReason): Promise<void> {
    const sealedAt = Date.now();
    const key = this.nextKey(sealedAt);
    // Group batches by partition so each partition's batches are contiguous in the file.
    const order = new Map<string, Waiter[]>();
    for (const w of file.waiters) {
      const k = `${w.batch.topic}\u0000${w.batch.partition}`;
      let list = order.get(k);
      if (!list) order.set(k, (list = []));
      list.push(w);
    }
    const parts: Buffer[] = [];
    const metas: BatchMeta[] = [];
    const waiters: Waiter[] = [];
    const stamped: Array<{ at: number; size: number }> = [];
    let pos = 0;
    for (const list of order.values()) {
      for (const w of list) {
        const { batch } = w;
        parts.push(batch.bytes);
        if (batch.logAppendTime) stamped.push({ at: pos, size: batch.bytes.length });
        metas.push({
          topic: batch.topic,
          partition: batch.partition,
          pos,
          len: batch.bytes.length,
          count: batch.header.recordCount,
          maxTimestamp: batch.logAppendTime ? sealedAt : batch.header.maxTimestamp,
          producerId: batch.header.producerId,
          producerEpoch: batch.header.producerEpoch,
          baseSequence: batch.header.baseSequence,
        });
        waiters.push(w);
        pos += batch.bytes.length;
      }
    }
    const data = Buffer.concat(parts, pos);
    // The stamp goes into the file's copy: the request's bytes stay as the producer sent them.
    for (const { at, size } of stamped) stampLogAppendTime(data, at, size, sealedAt);
    const started = process.hrtime.bigint();
    const ticket = this.options.health?.started();
    const expiresAt =
      this.options.expireAfterMs !== undefined ? new Date(Date.now() + this.options.expireAfterMs) : undefined;
    this.writing++;
    let writtenAt = started;
    const written = this.options.store
      // Keys are fresh and read only once committed: the store need not make the write atomic.
      .put(key, data, expiresAt ? { expiresAt, fresh: true } : { fresh: true })
      .then(() => {
        writtenAt = process.hrtime.bigint();
        this.options.onFileWritten?.(key, data);
      });
    // Its end is handled at once (eager sealing waits for it); the outcome is awaited only after the
    // previous file's commit, and a write failing before then must not count as an unhandled rejection
    // (which ends the process).
    written.then(
      () => this.writeEnded(),
      () => this.writeEnded(),
    );
    // Commit strictly in seal order: wait for the previous file's proposal, then this file's write.
    const previous = this.commitChain;
    let proposed!: () => void;
    this.commitChain = new Promise<void>((r) => (proposed = r));
    let results: BatchResult[] | undefined;
    // The commit was lost with the sequencer, not with this agent's store (ingest/health.ts).
    let relayed = false;
    try {
      await previous;
      try {
        await written;
      } catch (err) {
        throw new IngestionError(`writing ingestion file ${key} failed: ${errorMessage(err)}`);
      }
      const log = this.options.log;
      const commands = commitCommands({ key, size: data.length, time: Date.now() }, metas, log.maxCommandBytes, (c) =>
        log.commandSize(c),
      );
      const proposedAt = process.hrtime.bigint();
      // An aligned window's file: the other agents sealed theirs at the same instant.
      const committed = log.propose(
        commands,
        reason === "timeout" && file.windowEnd !== null ? { window: file.windowEnd } : {},
      );
      proposed();
      const outcome = await committed.catch((err: unknown) => {
        relayed = err instanceof RelayedOutcomeUnknownError;
        throw new IngestionError(`committing ingestion file ${key} failed: ${errorMessage(err)}`);
      });
      results = outcome.flatMap((r) => r.batches ?? []);
      const committedAt = process.hrtime.bigint();
      const seconds = (from: bigint, to: bigint): number => Number(to - from) / 1e9;
      this.options.onFileCommitted?.({
        bytes: data.length,
        batches: metas.length,
        writeSeconds: seconds(started, committedAt),
        phases: {
          write: seconds(started, writtenAt),
          previous: seconds(writtenAt, proposedAt),
          commit: seconds(proposedAt, committedAt),
        },
        sealed: reason,
      });
      if (ticket !== undefined) this.options.health?.succeeded(ticket);
    } catch (err) {
      proposed();
      const e = err instanceof Error ? err : new IngestionError(String(err));
      if (ticket !== undefined) {
        if (relayed) this.options.health?.ended(ticket);
        else this.options.health?.failed(ticket, e.message);
      }
      this.options.logger.warn("ingestion file failed", { key, error: e.message });
      for (const w of waiters) w.reject(e);
      return;
    }
    waiters.forEach((w, i) => {
      const r = results?.[i];
      // An appended batch stamped with log-append time reports its stamp.
      if (r) w.resolve(w.batch.logAppendTime && r.logAppendTime >= 0 ? { ...r, logAppendTime: sealedAt } : r);
      else w.reject(new IngestionError(`no commit result for batch ${i} of ${key}`));
    });
  }

  /** Seals the open file and waits until every sealed file is committed or failed. */
  async flush(): Promise<void> {
    this.seal("flush");
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
  }

  /** Stops taking batches and drains what was accepted. */
  async close(): Promise<void> {
    this.closed = true;
    await this.flush();
  }
}
