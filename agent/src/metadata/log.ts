/**
 * The metadata log as the agent uses it: loads the latest snapshot, replays the entries after it, tails
 * the store for entries other agents append, and proposes this agent's commands. Proposals are grouped:
 * whatever is queued while an append is in flight goes into the next entry (group commit). An append
 * takes the index after the last applied entry; when another agent took it first, the log catches up
 * and tries the next index: at once after a first conflict, after a full-jitter wait after further ones
 * (APPEND_CONFLICT_BACKOFF), so agents that keep colliding spread out instead of retrying in lockstep.
 * Offsets and every other outcome come from folding the entry (state.ts), so a retried append needs no
 * rewriting.
 *
 * Every proposal settles, at the latest by its deadline (`proposalTimeoutMs`): with its result once its
 * entry is applied here, or with an error that says whether the log may have changed (proposal.ts). A
 * catch-up that jumps to a snapshot covering the index of the entry being appended cannot tell whether
 * that entry is in it: its proposals fail with ProposalOutcomeUnknownError and the entry is not appended
 * again.
 */
import type { RecordableHistogram } from "node:perf_hooks";
import { randomBytes } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import { fullJitterMs, type Backoff } from "../../../common/backoff.js";
import type { Logger } from "../../../common/logger.js";
import { errorMessage } from "../../../common/logger.js";
import { FailureReporter } from "../../../common/failure-reporter.js";
import { DEFAULT_SLICE_MS, TimeSlicer } from "../../../common/time-slicer.js";
import type { LogRecord, MetadataStore } from "../store/types.js";
import type { Command, LogEntry } from "./commands.js";
import { ENTRY_FORMAT, commandFormat, commandProblem } from "./commands.js";
import type { EntryEncoding } from "./entry-codec.js";
import {
  LATEST_ENTRY_FORMAT,
  binaryEntryFormat,
  decodeEntry,
  encodeCommand,
  encodeEntryFrom,
  encodeJsonEntry,
  encodingFor,
  hasNumberedLayout,
  jsonCommandSize,
} from "./entry-codec.js";
import { MetadataFormatError } from "./format.js";
import { encodeSnapshot, snapshotEncodingFor, type SnapshotEncoding } from "./snapshot-codec.js";
import { FormatNotReadByAllError, Proposal, ProposalNotAppliedError, ProposalOutcomeUnknownError } from "./proposal.js";
import type { CommandResult, StateListener } from "./state.js";
import { ClusterState } from "./state.js";
import { TailPace } from "./tail-pace.js";
import { numberingCommand, type NumberedTopic } from "./topic-numbers.js";
import { RecentEntries } from "./recent-entries.js";
import { CommitGathering, type GatherMark } from "./gather.js";
import { delaySeconds, LoopDelayMeter } from "./loop-delay.js";

/** What writing one snapshot took (MetadataLogOptions.onSnapshot). */
export interface SnapshotWritten {
  /** The longest writing it held the event loop at once (capturing the state, or one slice of encoding it). */
  readonly encodeSeconds: number;
  readonly bytes: number;
  /** From the capture to the snapshot stored. */
  readonly seconds: number;
  /**
   * The event-loop delay over that time (loop-delay.ts, a sample every SNAPSHOT_LOOP_RESOLUTION_MS): its p99
   * and max, whatever held the loop (the snapshot's slices, or anything else the agent did then).
   */
  readonly loopDelayP99Seconds: number;
  readonly loopDelayMaxSeconds: number;
  /** The p99 over every sample taken while this agent wrote any snapshot since it started, and their number. */
  readonly loopDelayP99AllSnapshotsSeconds: number;
  readonly loopDelaySamplesAllSnapshots: number;
}

/** A snapshot encoded for writing: the longest it held the loop, and the partitions its capture saved. */
interface EncodedSnapshot {
  readonly index: bigint;
  readonly data: Buffer;
  readonly holdSeconds: number;
  readonly saved: number;
}

/** Room past the last snapshot's size that a kept snapshot buffer must have to be used for the next. */
const SNAPSHOT_REUSE_ROOM = 64 * 1024;
/** Smaller snapshot buffers are not kept: allocating one costs little. */
const SNAPSHOT_REUSE_MIN_BYTES = 256 * 1024;

/** The resolution of the event-loop delay measured while a snapshot is written (ms; prom-client's too). */
const SNAPSHOT_LOOP_RESOLUTION_MS = 10;

/** Seconds as milliseconds to a tenth, for a log line. */
const tenthsOfMs = (seconds: number): number => Math.round(seconds * 10_000) / 10;

export interface MetadataLogOptions {
  /** Poll the store for other agents' entries this often; 0 when this agent is the only writer. */
  readonly tailIntervalMs: number;
  /**
   * On a quiet log with nothing waiting (tailWanted false), polls back off to this interval (ms; default
   * tailIntervalMs: no back-off). See tail-pace.ts.
   */
  readonly tailIdleIntervalMs?: number;
  /** Whether something waits on other agents' entries now (a long-polling fetch): keeps polls at tailIntervalMs. */
  readonly tailWanted?: () => boolean;
  /** Write a snapshot after this many entries since the last one (0: never). */
  readonly snapshotEveryEntries: number;
  /**
   * Write one also when entries were applied since the last and it is this old (ms; default
   * SNAPSHOT_MAX_AGE_MS): expiring entries (store/types.ts AppendOptions.expiresAfterMs) are covered
   * long before they go, however slow the log; a failed snapshot is tried again as late, on a quiet log
   * too.
   */
  readonly snapshotMaxAgeMs?: number;
  /**
   * -metadataLogEntryTTL: entries written while every live agent reads level 13 expire this long after
   * they are written (a store whose trims would rewrite them, DynamoDB, leaves them to TTL); 0 or unset:
   * they never do.
   */
  readonly entryTtlMs?: number;
  /** Entries kept below a snapshot for agents that lag (the rest are trimmed). */
  readonly keepEntriesAfterSnapshot: number;
  /** Whether this agent writes snapshots (one agent at a time should). */
  readonly writesSnapshots: () => boolean;
  /**
   * Whether a snapshot due now should wait (the agent's compaction pass is running: background/jobs.ts,
   * which in turn waits for a snapshot being written); it is tried again at the next entry applied or
   * tail pass. Not asked by snapshotNow.
   */
  readonly snapshotWaits?: () => boolean;
  readonly logger: Logger;
  /** Called after each append attempt (metrics). */
  readonly onAppend?: (result: "ok" | "conflict", seconds: number) => void;
  readonly onApplied?: (index: bigint) => void;
  /**
   * An entry of this agent's was applied: its append attempts (1 + the conflicts), how long its oldest
   * proposal waited in the queue for the entry before it to be done, and how long the entry took from
   * its first attempt to applied here (attempts, waits after conflicts, catching up).
   */
  readonly onEntry?: (info: {
    readonly attempts: number;
    readonly queuedSeconds: number;
    readonly appendingSeconds: number;
  }) => void;
  /** A snapshot was written (SnapshotWritten). */
  readonly onSnapshot?: (info: SnapshotWritten) => void;
  /** A snapshot maybeSnapshot started failed (logged too). */
  readonly onSnapshotFailed?: () => void;
  /** Entries no snapshot covered were given a new expiry (renewUncovered). */
  readonly onEntriesRenewed?: (count: number) => void;
  /** A proposal without an outcome this long after propose() fails (default 30 s). */
  readonly proposalTimeoutMs?: number;
  /** Folding entries read from the store gives the event loop back after about this long (ms; default 5). */
  readonly foldSliceMs?: number;
  /** Waits between conflicting appends (test seam; default: a timer). */
  readonly sleep?: (ms: number) => Promise<void>;
  /**
   * The newest entry format every agent reading the log reads (entry-codec.ts entryFormatFor), which
   * decides the encoding written next (binary from format 3, topic numbers from 8); default the newest
   * this agent reads.
   */
  readonly readersFormat?: () => number;
  /**
   * Called once when an entry or snapshot cannot be folded (malformed, or of a format this agent does not
   * read): the log has stopped there (see halted).
   */
  readonly onUnreadable?: (error: MetadataFormatError) => void;
  /**
   * Proposals marked for gathering (proposeIndexed's `gather`: the sequencer's file commits of an
   * aligned window) may wait this long in the queue for the other senders of their window (gather.ts;
   * ms, default 0: no wait).
   */
  readonly gatherLingerMs?: number;
}

/** A watch through the sequencer that answered (MetadataLog.followWatch). */
export interface FollowedWatch {
  /** Until when (Date.now()) the watch counts as healthy without another answer. */
  readonly until: number;
  /** The sequencer's own tail was active when it answered. */
  readonly active: boolean;
  /** Asks the watch for a prompt answer: something here waits on other agents' entries (wakeTail). */
  readonly wake: () => void;
}

/** proposeIndexed's options. */
export interface ProposeOptions {
  /**
   * These commits' sender (an agent id) and the end of the aligned batch window their file ended: they
   * may wait up to the gather linger for the other senders' commits of the window (gather.ts).
   */
  readonly gather?: GatherMark;
}

/** The entry being appended: its proposals, and the last index it was written at (0 before the first try). */
interface InFlight {
  readonly seq: number;
  readonly proposals: readonly Proposal[];
  attemptedIndex: bigint;
  /** Its proposals are settled: applied, covered by a snapshot, or failed. */
  done: boolean;
  /** Its entry was applied here (its proposals resolved with results). */
  applied: boolean;
}

/** A command's binary encoding, and whether it is in the level-8 form (entry-codec.ts hasNumberedLayout). */
interface EncodedCommand {
  readonly bytes: Buffer;
  readonly numbered: boolean;
}

/** The numberTopics command an entry carries after its proposals' commands, and its encoding. */
interface EncodedNumbering {
  readonly command: Command;
  readonly bytes: Buffer;
}

const READ_BATCH = 500;
export const DEFAULT_PROPOSAL_TIMEOUT_MS = 30_000;
/**
 * Waits before appending an entry again after its second and later consecutive conflicts: up to 5 ms,
 * then up to 10, 20, ... 160 ms. Enough for a contender's append to land and be read; small against
 * the proposal timeout.
 */
export const APPEND_CONFLICT_BACKOFF: Backoff = { baseMs: 5, capMs: 160 };
/** The longest freshenTail waits for its read of the tail (ms). */
const FRESHEN_WAIT_MS = 1000;
/**
 * The snapshot writer snapshots at least this often while entries come (MetadataLogOptions
 * snapshotMaxAgeMs), and a failed snapshot is tried again after as long.
 */
export const SNAPSHOT_MAX_AGE_MS = 3600 * 1000;
/**
 * -metadataLogEntryTTL: how long a metadata log entry stays before TTL removes it (docs/metadata-log.md
 * section 6, "Expiring entries"). Far above SNAPSHOT_MAX_AGE_MS: it is how long a cluster whose every agent stopped without
 * its last snapshot may stay down before the entries since are lost.
 */
export const DEFAULT_LOG_ENTRY_TTL_MS = 7 * 24 * 3600 * 1000;
/** After a failed snapshot, the entries it would have covered are renewed at most this often (renewUncovered). */
const RENEW_INTERVAL_MS = 3600 * 1000;

export class MetadataLog {
  private stateValue = new ClusterState();
  /** Random, written with each entry: 64 bits keep two live instances apart (entry-codec.ts stores it as bytes). */
  private readonly proposerId = randomBytes(8).toString("hex");
  private seq = 0;
  private readonly queue: Proposal[] = [];
  private pumping = false;
  private readonly gathering: CommitGathering | null;
  /** Callers of waitApplied waiting for an index past theirs. */
  private readonly appliedWaiters = new Set<{ readonly after: bigint; readonly resolve: () => void }>();
  /**
   * A watch through the sequencer (followWatch): until when (Date.now()) it counts as healthy, and whether
   * the sequencer's own tail was active at its last answer. Null: no watch; the tail is polled as usual.
   */
  private watch: (FollowedWatch & { readonly answeredAt: number }) | null = null;
  /** Ends the pump's wait for gathered commits early (a proposal was queued). */
  private gatherWake: (() => void) | null = null;
  private inFlight: InFlight | null = null;
  private catchingUp: Promise<void> | null = null;
  private tailTimer: NodeJS.Timeout | null = null;
  /** When the scheduled tail pass is due (ms since the epoch). */
  private tailDueAt = 0;
  private tailPace: TailPace | null = null;
  private tailStopped = false;
  /** The applied index when the last tail pass ended: a pass that ends above it found the log moving. */
  private tailSeenIndex = 0n;
  /** The pass freshenTail started after a back-off, which other requests arriving meanwhile wait for. */
  private freshening: Promise<void> | null = null;
  /** When the last tail pass ended (ms): the age of what the state knows of other agents' entries. */
  private tailPassEndedAt = 0;
  /** Tail failures are logged when they start, change or recover, and at most every 30 s between. */
  private readonly tailFailures = new FailureReporter(
    (error, repeats) =>
      this.options.logger.warn("metadata log tail failed", { error, ...(repeats ? { repeats } : {}) }),
    (failures) => this.options.logger.info("metadata log tail recovered", { failures }),
    30_000,
  );
  /** Binary encodings of the commands sized or proposed, while the caller holds them (encoded()). */
  private readonly encodings = new WeakMap<Command, EncodedCommand>();
  private lastSnapshotIndex = 0n;
  /** When this agent last started writing a snapshot, or opened the log (Date.now()). */
  private lastSnapshotAttemptAt = Date.now();
  /** The index of the newest snapshot known durable: the one loaded at open, or the last this agent wrote. */
  private durableSnapshotIndex = 0n;
  /** When this agent last renewed the entries no snapshot covers (renewUncovered; 0: never). */
  private lastRenewAt = 0;
  /** Size of the last snapshot this agent encoded (0: none yet), and of the one before it. */
  private lastSnapshotBytes = 0;
  private previousSnapshotBytes = 0;
  /**
   * The buffer the last stored snapshot was encoded into, for the next one (snapshotOutput). A new buffer of
   * tens of MiB for each snapshot counts as external memory to V8, which starts a full collection once
   * enough of it was allocated: the scale benchmark's lease holder was in one during each of its large
   * snapshot writes (2026-12-07, GC flags CollectAllExternalMemory).
   */
  private snapshotBuffer: Buffer | null = null;
  /** The snapshot being written by maybeSnapshot, if any. */
  private snapshotting: Promise<void> | null = null;
  /** The event-loop delay while snapshots are written (writeSnapshot). */
  private readonly snapshotLoop = new LoopDelayMeter(SNAPSHOT_LOOP_RESOLUTION_MS);
  private closed = false;
  private haltedBy: MetadataFormatError | null = null;
  private opened = false;
  private listenerValue: StateListener | null = null;
  /** The newest entries folded here, as stored (recentEntries). */
  private readonly recent = new RecentEntries();

  constructor(
    private readonly store: MetadataStore,
    private readonly options: MetadataLogOptions,
  ) {
    this.stateValue.onRefused = this.reportRefusal;
    const linger = options.gatherLingerMs ?? 0;
    this.gathering = linger > 0 ? new CommitGathering(linger) : null;
  }

  /** Current state. Replaced (not mutated) when the log reloads from a snapshot. */
  get state(): ClusterState {
    return this.stateValue;
  }

  set listener(listener: StateListener | null) {
    this.listenerValue = listener;
    this.stateValue.listener = listener;
  }

  /**
   * The error that stopped this log, or null. An entry or snapshot it cannot fold stops it for good:
   * it folds nothing after it, stops tailing and refuses proposals, rather than fold what it may misread.
   */
  get halted(): MetadataFormatError | null {
    return this.haltedBy;
  }

  async open(): Promise<void> {
    const snapshot = await this.store.latestSnapshot();
    if (snapshot) {
      this.replaceState(ClusterState.fromSnapshot(snapshot.data, snapshot.index));
      this.lastSnapshotIndex = snapshot.index;
      this.durableSnapshotIndex = snapshot.index;
      this.options.logger.info("loaded metadata snapshot", {
        index: snapshot.index.toString(),
        bytes: snapshot.data.length,
      });
    }
    await this.catchUp();
    this.opened = true;
    this.options.logger.info("metadata log replayed", { appliedIndex: this.stateValue.appliedIndex.toString() });
    if (this.options.tailIntervalMs > 0) {
      this.tailPace = new TailPace({
        activeMs: this.options.tailIntervalMs,
        idleMs: this.options.tailIdleIntervalMs ?? this.options.tailIntervalMs,
      });
      this.tailSeenIndex = this.stateValue.appliedIndex;
      this.tailPassEndedAt = Date.now();
      this.scheduleTail(this.options.tailIntervalMs);
    }
  }

  /**
   * Asks for a prompt tail pass when polls have backed off (tail-pace.ts): something now waits on other
   * agents' entries. Costs nothing while the tail is polled at its active interval.
   */
  wakeTail(): void {
    if (this.watching()) {
      this.watch!.wake();
      return;
    }
    const pace = this.tailPace;
    if (!pace || !this.tailTimer || !pace.backedOff(this.tailDueAt - Date.now())) return;
    pace.reset();
    clearTimeout(this.tailTimer);
    this.scheduleTail(0);
  }

  /**
   * Before an answer read from the state: when polls have backed off, reads the tail now and waits for it
   * (at most FRESHEN_WAIT_MS; past that, or when the read fails, the answer is what this agent has), so
   * a request after a quiet spell sees what other agents appended meanwhile, as when the tail was polled
   * every tailIntervalMs at all times. Returns null while the tail is active (the state is at most one
   * poll behind, as it always was), so that the caller goes on synchronously.
   */
  freshenTail(): Promise<void> | null {
    let pass = this.freshening;
    if (!pass) {
      const pace = this.tailPace;
      // As fresh as an active tail: no read of its own.
      if (!pace || this.tailStopped || this.haltedBy) return null;
      if (Date.now() - this.tailPassEndedAt <= this.options.tailIntervalMs) return null;
      // Followed through the sequencer, whose tail was active when it answered moments ago: as fresh as an
      // active tail here.
      const watch = this.watch;
      if (watch && watch.active && Date.now() - watch.answeredAt <= this.options.tailIntervalMs) return null;
      if (this.tailTimer) {
        pace.reset();
        clearTimeout(this.tailTimer);
        this.tailTimer = null;
        pass = this.freshening = this.tailPass().finally(() => (this.freshening = null));
      } else if (this.catchingUp) {
        // A pass in flight (the tail's, or a catchUpNow): it started moments ago.
        pass = this.catchingUp.catch(() => undefined);
      } else return null;
    }
    let timer: NodeJS.Timeout | undefined;
    const waited = new Promise<void>((resolve) => (timer = setTimeout(resolve, FRESHEN_WAIT_MS)));
    return Promise.race([pass, waited]).finally(() => clearTimeout(timer));
  }

  private scheduleTail(delayMs: number): void {
    this.tailDueAt = Date.now() + delayMs;
    this.tailTimer = setTimeout(() => this.tailTick(), delayMs);
    this.tailTimer.unref();
  }

  private tailTick(): void {
    this.tailTimer = null;
    if (this.tailStopped || this.haltedBy) return;
    // A pass still running (a slow or unreachable store, a catchUpNow) is not joined: each tick would log
    // its failure again.
    if (this.catchingUp) {
      this.scheduleTail(this.tailPace!.next(true, this.tailWantedNow()));
      return;
    }
    void this.tailPass();
  }

  private tailWantedNow(): boolean {
    return this.options.tailWanted?.() ?? false;
  }

  /** One tail poll; schedules the next when it ends. Never rejects (failures are reported). */
  private tailPass(): Promise<void> {
    const pace = this.tailPace!;
    // Eventually consistent: half the read units, and polls are most of an idle cluster's reads. A
    // stale replica only delays what a later poll sees; answers that need every entry appended before
    // them use catchUpNow (strongly consistent).
    return this.catchUp({ consistent: false })
      .then(
        () => this.tailFailures.succeeded(),
        (err: unknown) => {
          // An unreadable entry halted the log (halt logged it, and the tail has stopped).
          if (!this.haltedBy) this.tailFailures.failed(errorMessage(err));
        },
      )
      .finally(() => {
        this.tailPassEndedAt = Date.now();
        // A quiet log applies nothing: the snapshot due by age is found here (maybeSnapshot).
        this.maybeSnapshot();
        if (this.tailStopped || this.haltedBy || this.tailTimer) return;
        // Moved: the pass found entries, or this agent appended since the last pass (its own entries are
        // folded as they land); either way the log is busy and other agents may append next.
        const applied = this.stateValue.appliedIndex;
        const moved = applied !== this.tailSeenIndex;
        this.tailSeenIndex = applied;
        // Followed through the sequencer: entries come from it; the polls are a safety net.
        const idleMs = this.options.tailIdleIntervalMs ?? this.options.tailIntervalMs;
        this.scheduleTail(this.watching() ? idleMs : pace.next(moved, this.tailWantedNow()));
      });
  }

  private stopTail(): void {
    this.tailStopped = true;
    if (this.tailTimer) clearTimeout(this.tailTimer);
    this.tailTimer = null;
  }

  private readonly reportRefusal = (index: bigint, command: string, message: string): void => {
    this.options.logger.warn("metadata log entry refused by the fold", {
      index: index.toString(),
      command,
      error: message,
    });
  };

  private replaceState(state: ClusterState): void {
    state.listener = this.listenerValue;
    state.onRefused = this.reportRefusal;
    this.stateValue = state;
    this.listenerValue?.topicsChanged?.();
    this.notifyApplied();
  }

  /**
   * Proposes commands; resolves with each command's result once its entry is applied. Rejects with
   * ProposalNotAppliedError (nothing appended: the log is closed or stopped, the command is malformed —
   * the message names what is wrong, commands.ts commandProblem — or too large for an entry, or it
   * waited past its deadline in the queue), CommandEncodingError (a value the binary codec cannot hold;
   * nothing appended), ProposalOutcomeUnknownError (proposal.ts),
   * FormatNotReadByAllError (a command newer than some live agent reads; nothing appended), or the
   * store's error.
   */
  async propose(commands: readonly Command[]): Promise<CommandResult[]> {
    return (await this.proposeIndexed(commands)).results;
  }

  /**
   * propose(), also telling the index of the last entry that applied one of the commands (commands
   * proposed together may land in more than one entry, in order): a state that has folded that index
   * holds every one of them (a sequencer's caller waits for it, sequencer/forwarder.ts).
   */
  async proposeIndexed(
    commands: readonly Command[],
    options: ProposeOptions = {},
  ): Promise<{ index: bigint; results: CommandResult[] }> {
    if (this.closed) throw new ProposalNotAppliedError("metadata log closed");
    if (this.haltedBy) throw this.haltedError();
    const timeoutMs = this.options.proposalTimeoutMs ?? DEFAULT_PROPOSAL_TIMEOUT_MS;
    const gather =
      this.gathering && options.gather
        ? { ...options.gather, until: performance.now() + this.gathering.lingerMs }
        : null;
    // An agent that starts appending after a quiet spell polls the tail at the active interval again:
    // other agents may be appending too, and a stale tail costs conflicts.
    this.wakeTail();
    const promises = commands.map(
      (command) =>
        new Promise<{ index: bigint; result: CommandResult }>((resolve, reject) => {
          const problem = commandProblem(command);
          if (problem !== null) {
            reject(new ProposalNotAppliedError(`malformed metadata command refused before appending: ${problem}`));
            return;
          }
          // A command of a format some live agent does not read would stop that agent at its entry.
          const needed = commandFormat(command);
          const readers = this.readersFormat();
          if (needed > readers) {
            reject(new FormatNotReadByAllError(command.type, needed, readers));
            return;
          }
          // Encoded once (here, or when commandSize measured it): a command the binary codec cannot hold
          // exactly is refused alone, before any entry (in either encoding: agents read JSON entries
          // through that codec too).
          const encoded = this.encoded(command, this.numbered());
          const size = this.sizeIn(this.encoding(), command, encoded.bytes);
          if (size > this.maxCommandBytes) {
            reject(this.tooLarge(size));
            return;
          }
          const proposal = new Proposal(
            command,
            encoded.bytes,
            encoded.numbered,
            timeoutMs,
            (result, index) => resolve({ index, result }),
            reject,
          );
          proposal.gather = gather;
          this.queue.push(proposal);
        }),
    );
    this.gatherWake?.();
    void this.pump();
    const settled = await Promise.all(promises);
    let index = 0n;
    for (const s of settled) if (s.index > index) index = s.index;
    return { index, results: settled.map((s) => s.result) };
  }

  /**
   * The entries `from`..`to` as stored, when this agent folded every one of them lately; else null.
   */
  recentEntries(from: bigint, to: bigint): LogRecord[] | null {
    return this.recent.range(from, to);
  }

  /**
   * Folds entries another agent read or wrote (the sequencer's answer, sequencer/wire.ts) that come next
   * here, as if read from the store; stops at the first that does not decode (the tail reads it from the
   * store, and stops the log there if it is malformed there too). Resolves to how many were folded.
   *
   * In slices, as the tail folds what it reads: an answer holds up to MAX_REPLY_ENTRY_BYTES of entries
   * (a compaction pass's `compact` entries of 11,000 runs, files of thousands of batches), which folded in
   * one step held every agent's event loop for tens of milliseconds at 100,000 partitions. Between slices
   * another path (the tail, this agent's own append) may fold some of them: each is checked again.
   */
  async foldRecords(records: readonly LogRecord[]): Promise<number> {
    const slicer = new TimeSlicer(this.options.foldSliceMs ?? DEFAULT_SLICE_MS, 1);
    let folded = 0;
    for (const r of records) {
      if (this.haltedBy) break;
      if (r.index <= this.stateValue.appliedIndex) continue;
      if (r.index !== this.stateValue.appliedIndex + 1n) break;
      let entry: LogEntry;
      try {
        entry = decodeEntry(r.data, r.index, this.stateValue.numbering);
      } catch {
        break;
      }
      this.applyRecord(r, entry);
      folded++;
      if (slicer.due()) await slicer.pause();
    }
    slicer.end();
    return folded;
  }

  /**
   * Resolves once this agent's state has folded `index` (reading the tail strongly consistent while it
   * has not), or rejects past `deadlineMs` (ms since the epoch) or when a read fails.
   */
  async foldThrough(index: bigint, deadlineMs: number): Promise<void> {
    while (this.stateValue.appliedIndex < index) {
      if (this.haltedBy) throw this.haltedError();
      if (Date.now() > deadlineMs)
        throw new Error(
          `metadata log entry ${index} not folded here in time (applied ${this.stateValue.appliedIndex})`,
        );
      await this.catchUpNow();
      // A single writer (no tail) has folded everything there is: the entry is not in its log.
      if (this.options.tailIntervalMs === 0 && this.stateValue.appliedIndex < index)
        throw new Error(`metadata log entry ${index} is past this log's end (${this.stateValue.appliedIndex})`);
    }
  }

  /** Largest command size this log accepts (the batcher keeps files under it). */
  get maxCommandBytes(): number {
    return this.store.maxEntryBytes - 256;
  }

  private tooLarge(size: number): Error {
    return new ProposalNotAppliedError(
      `metadata command of ${size} bytes exceeds the log entry limit of ${this.store.maxEntryBytes}`,
    );
  }

  /** The newest entry level every live agent reads (this agent's own when nobody else is known). */
  readersFormat(): number {
    return this.options.readersFormat?.() ?? LATEST_ENTRY_FORMAT;
  }

  /** The encoding to write now: binary only while every live agent reads it. */
  private encoding(): EntryEncoding {
    return encodingFor(this.readersFormat());
  }

  /**
   * Whether entries written now name numbered topics by number: only while every live agent reads level 8
   * (an older agent would stop at such an entry; the entries it reads keep naming topics).
   */
  private numbered(): boolean {
    return this.readersFormat() >= ENTRY_FORMAT.topicNumbers;
  }

  /** Bytes `command` takes in an entry of the encoding this log writes now (compare with maxCommandBytes). */
  commandSize(command: Command): number {
    return this.sizeIn(this.encoding(), command, this.encoded(command, this.numbered()).bytes);
  }

  /**
   * The command's binary encoding, made once per command object: callers that size a command and then
   * propose it (the batcher, the compactor) do not encode it twice. Commands are immutable. `numbered`:
   * in the level-8 form, against this agent's topic numbers now (numbers never change meaning, so the
   * bytes stay right whenever the entry folds); made again only if the form needed changed meanwhile.
   */
  private encoded(command: Command, numbered: boolean): EncodedCommand {
    let encoded = this.encodings.get(command);
    if (!encoded || (encoded.numbered !== numbered && hasNumberedLayout(command))) {
      encoded = {
        bytes: encodeCommand(command, numbered ? this.stateValue.numbering : null),
        numbered: numbered && hasNumberedLayout(command),
      };
      this.encodings.set(command, encoded);
    }
    return encoded;
  }

  private sizeIn(encoding: EntryEncoding, command: Command, encoded: Buffer): number {
    return encoding === "binary" ? encoded.length : jsonCommandSize(command);
  }

  private haltedError(): ProposalNotAppliedError {
    return new ProposalNotAppliedError(`metadata log stopped: ${this.haltedBy?.message ?? "unreadable"}`);
  }

  /**
   * An entry or snapshot this agent cannot fold: stop folding, tailing and proposing (see halted). While
   * opening, open() rejects with the error instead of reporting it.
   */
  private halt(error: MetadataFormatError): void {
    if (this.haltedBy) return;
    this.haltedBy = error;
    this.stopTail();
    for (const p of this.queue.splice(0)) p.reject(this.haltedError());
    if (!this.opened) return;
    this.options.logger.error("metadata log unreadable: this agent stops folding it", {
      appliedIndex: this.stateValue.appliedIndex.toString(),
      error: error.message,
    });
    this.options.onUnreadable?.(error);
  }

  private async pump(): Promise<void> {
    if (this.pumping) return;
    this.pumping = true;
    try {
      for (;;) {
        // Proposals that timed out while queued are settled already and go in no entry.
        while (this.queue.length > 0 && this.queue[0]!.settled) this.queue.shift();
        if (this.queue.length === 0 || this.closed || this.haltedBy) return;
        const waitMs = this.gatherWaitMs();
        if (waitMs > 0) {
          await this.waitToGather(waitMs);
          continue;
        }
        const encoding = this.encoding();
        const numbered = encoding === "binary" && this.numbered();
        let bytes = 64;
        const batch: Proposal[] = [];
        while (this.queue.length > 0) {
          const next = this.queue[0]!;
          if (!next.settled && !this.formFor(next, numbered)) {
            this.queue.shift();
            continue;
          }
          if (!next.settled) {
            const size = this.sizeIn(encoding, next.command, next.encoded);
            if (batch.length > 0 && bytes + size > this.store.maxEntryBytes - 64) break;
            bytes += size;
            batch.push(next);
          }
          this.queue.shift();
        }
        if (batch.length === 0) continue;
        this.noteGathered(batch);
        const numbering = numbered ? this.numberingFor(batch, this.store.maxEntryBytes - 64 - bytes) : null;
        await this.appendEntry(batch, encoding, numbered, numbering);
      }
    } finally {
      this.pumping = false;
    }
  }

  /**
   * How long the pump waits before taking the queue into an entry: while every queued proposal is a
   * gathered commit within its linger and some sender expected lately has none queued (gather.ts); else 0.
   */
  private gatherWaitMs(): number {
    if (!this.gathering) return 0;
    let until = Infinity;
    const held: GatherMark[] = [];
    for (const p of this.queue) {
      if (p.settled) continue;
      if (!p.gather) return 0;
      until = Math.min(until, p.gather.until);
      held.push(p.gather);
    }
    const waitMs = until - performance.now();
    if (!(waitMs > 0)) return 0;
    return this.gathering.complete(held, Date.now()) ? 0 : waitMs;
  }

  /** Waits `ms`, or less when a proposal is queued meanwhile. */
  private waitToGather(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.gatherWake = null;
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.gatherWake = done;
    });
  }

  /** The senders of the gathered commits going into an entry are expected in the next windows. */
  private noteGathered(batch: readonly Proposal[]): void {
    if (!this.gathering) return;
    const marks: GatherMark[] = [];
    for (const p of batch) if (p.gather) marks.push(p.gather);
    if (marks.length > 0) this.gathering.appended(marks, Date.now());
  }

  /**
   * Puts a queued proposal in the form entries are written in now (`numbered`: level 8): a commitFile or
   * compact encoded while the live agents read level 8 is encoded again with names once one of them does
   * not (an older agent came back), and the other way round. False when it no longer fits an entry (it is
   * rejected: named topics take more room than numbers).
   */
  private formFor(p: Proposal, numbered: boolean): boolean {
    if (p.numbered === numbered || !hasNumberedLayout(p.command)) return true;
    let encoded: EncodedCommand;
    try {
      encoded = this.encoded(p.command, numbered);
    } catch (err) {
      p.reject(err instanceof Error ? err : new Error(String(err)));
      return false;
    }
    p.encoded = encoded.bytes;
    p.numbered = encoded.numbered;
    if (encoded.bytes.length <= this.maxCommandBytes) return true;
    p.reject(this.tooLarge(encoded.bytes.length));
    return false;
  }

  /**
   * The numberTopics an entry written at level 8 carries (topic-numbers.ts numberingCommand): for the
   * topics its createTopic commands create, then for topics that exist unnumbered, within `roomBytes`.
   */
  private numberingFor(proposals: readonly Proposal[], roomBytes: number): EncodedNumbering | null {
    const created: NumberedTopic[] = [];
    for (const { command: c } of proposals) if (c.type === "createTopic") created.push(c);
    const command = numberingCommand(created, this.stateValue.unnumberedTopics(), roomBytes);
    return command ? { command, bytes: encodeCommand(command) } : null;
  }

  /**
   * Appends one entry until it is applied, or its proposals have failed; never throws. `numbering`: a
   * numberTopics command after the proposals' commands (its result is nobody's).
   */
  private async appendEntry(
    proposals: readonly Proposal[],
    encoding: EntryEncoding,
    numbered: boolean,
    numbering: EncodedNumbering | null,
  ): Promise<void> {
    const header = { proposer: this.proposerId, seq: ++this.seq, time: Date.now() };
    const flight: InFlight = { seq: header.seq, proposals, attemptedIndex: 0n, done: false, applied: false };
    let data: Buffer;
    let entry: LogEntry;
    try {
      const commands = proposals.map((p) => p.command);
      const encoded = proposals.map((p) => p.encoded);
      if (numbering) {
        commands.push(numbering.command);
        encoded.push(numbering.bytes);
      }
      data =
        encoding === "binary"
          ? encodeEntryFrom(header, binaryEntryFormat(commands, numbered), encoded)
          : encodeJsonEntry({ ...header, commands });
      // This agent folds its entry as every other agent does: from its bytes. An entry that does not
      // decode is never written. Its topic numbers are this state's, which the entry's fold will know.
      entry = decodeEntry(data, undefined, this.stateValue.numbering);
    } catch (err) {
      this.fail(flight, err instanceof Error ? err : new Error(String(err)));
      return;
    }
    for (const p of proposals) p.appending = true;
    this.inFlight = flight;
    const settled = () => flight.done || proposals.every((p) => p.settled);
    const appendingFrom = performance.now();
    // The queue is first in, first out: the entry's first proposal waited longest.
    const queuedSeconds = (appendingFrom - proposals[0]!.queuedAt) / 1000;
    try {
      for (let attempt = 0; ; attempt++) {
        // Applied, or past every deadline: stop. The entry can only have landed at an index it was written
        // at, and every index up to the last one written at is taken, so it is in the log at most once.
        if (settled()) return;
        const index = this.stateValue.appliedIndex + 1n;
        flight.attemptedIndex = index;
        const started = process.hrtime.bigint();
        // Bodies kept apart from the log's key only while every live agent follows them (level 12), and
        // entries left to expire only while every live agent snapshots by age too (level 13).
        const readers = this.readersFormat();
        const ok = await this.store.append(index, data, {
          inlineOnly: readers < ENTRY_FORMAT.entryBodies,
          ...(readers >= ENTRY_FORMAT.expiringEntries ? { expiresAfterMs: this.options.entryTtlMs ?? 0 } : {}),
        });
        this.options.onAppend?.(ok ? "ok" : "conflict", Number(process.hrtime.bigint() - started) / 1e9);
        if (ok) {
          if (!flight.done && this.stateValue.appliedIndex === index - 1n) this.applyRecord({ index, data }, entry);
          // A catch-up pass that started before the append may have missed it: read until it is folded.
          while (!settled() && this.stateValue.appliedIndex < index) await this.catchUp();
          if (!flight.done)
            this.fail(
              flight,
              new ProposalOutcomeUnknownError(`metadata log entry ${index} was written but not folded`),
            );
          else if (flight.applied)
            this.options.onEntry?.({
              attempts: attempt + 1,
              queuedSeconds,
              appendingSeconds: (performance.now() - appendingFrom) / 1000,
            });
          return;
        }
        // Another agent took this index: learn what it wrote, then try the next free index. The entry
        // there may be our own: a put whose response was lost lands, and the SDK's retry of it then
        // fails its condition. Folding it resolved this proposal; appending again would repeat it.
        // From the second conflict on, wait first (the catch-up then sees what landed meanwhile).
        if (attempt > 0) await (this.options.sleep ?? sleep)(fullJitterMs(APPEND_CONFLICT_BACKOFF, attempt - 1));
        // A pass that starts after the conflict, strongly consistent: one already running (a tail poll)
        // may have read before the winner's entry, or from a replica without it, and trying the same index
        // again would fail again (a billed write).
        await this.catchUpAfterRunning();
        if (attempt > 0 && attempt % 50 === 0)
          this.options.logger.warn("metadata log append contended", { attempts: attempt });
      }
    } catch (err) {
      this.fail(flight, err instanceof Error ? err : new Error(String(err)));
    } finally {
      this.inFlight = null;
    }
  }

  private fail(flight: InFlight, error: Error): void {
    flight.done = true;
    for (const p of flight.proposals) p.reject(error);
  }

  /** Folds `entry`, decoded from `record` (kept among the recent entries, recentEntries). */
  private applyRecord(record: LogRecord, entry: LogEntry): void {
    const { index } = record;
    this.recent.add(record);
    const flight = this.inFlight;
    const ours = entry.proposer === this.proposerId && flight?.seq === entry.seq && !flight.done;
    // Only this agent's own proposal reads its batches' results.
    const results = this.stateValue.apply(index, entry, ours);
    if (ours && flight) {
      flight.done = true;
      flight.applied = true;
      flight.proposals.forEach((p, i) => p.resolve(results[i]!, index));
    }
    this.options.onApplied?.(index);
    this.notifyApplied();
    this.maybeSnapshot();
  }

  /** Resolves waitApplied callers whose index has been passed. */
  private notifyApplied(): void {
    if (this.appliedWaiters.size === 0) return;
    const applied = this.stateValue.appliedIndex;
    for (const w of this.appliedWaiters) if (applied > w.after) w.resolve();
  }

  /**
   * Resolves once this agent has folded an entry after `after`, or after `ms` (at once when it has
   * already): a sequencer holds its watchers' requests on it (sequencer/service.ts).
   */
  waitApplied(after: bigint, ms: number): Promise<void> {
    if (this.stateValue.appliedIndex > after || this.closed) return Promise.resolve();
    return new Promise((resolve) => {
      const waiter = {
        after,
        resolve: () => {
          clearTimeout(timer);
          this.appliedWaiters.delete(waiter);
          resolve();
        },
      };
      const timer = setTimeout(waiter.resolve, ms);
      this.appliedWaiters.add(waiter);
    });
  }

  /** Whether this agent's tail is polled at the active pace now (what it has folded is at most one poll old). */
  tailActive(): boolean {
    const pace = this.tailPace;
    if (!pace || this.tailStopped || this.haltedBy) return false;
    return (
      !pace.backedOff(this.tailDueAt - Date.now()) &&
      Date.now() - this.tailPassEndedAt <= 2 * this.options.tailIntervalMs
    );
  }

  /**
   * A watch through the sequencer answered (sequencer/watcher.ts): entries reach this agent from the
   * sequencer as it folds them, so until `until` the tail is polled only at the idle interval (a safety
   * net), a wake-up (a fetch starting to wait, a produce naming an unknown topic) calls `wake` instead of
   * polling, and an answer needs no read of its own within tailIntervalMs of a watch answer from an
   * active sequencer. null: the watch ended; the tail is polled as usual at once.
   */
  followWatch(watch: FollowedWatch | null): void {
    const had = this.watching();
    this.watch = watch ? { ...watch, answeredAt: Date.now() } : null;
    if (had && !watch) this.wakeTail();
  }

  private watching(): boolean {
    return this.watch !== null && Date.now() < this.watch.until;
  }

  /**
   * Reads and applies every entry after the applied index. Concurrent callers share one pass, whichever
   * started it; a pass this call starts reads strongly consistent unless `consistent` is false.
   */
  catchUp(options: { readonly consistent?: boolean } = {}): Promise<void> {
    if (this.haltedBy) return Promise.reject(this.haltedBy);
    if (!this.catchingUp) {
      this.catchingUp = this.catchUpOnce(options.consistent ?? true)
        .catch((err: unknown) => {
          if (err instanceof MetadataFormatError) this.halt(err);
          throw err;
        })
        .finally(() => {
          this.catchingUp = null;
        });
    }
    return this.catchingUp;
  }

  /**
   * Applies every entry appended before this call, other agents' included: waits for a tail pass in
   * progress (it may have read before them), then reads the tail again. A log that is the only writer
   * (no tailing) has applied all of them already.
   */
  async catchUpNow(): Promise<void> {
    if (this.options.tailIntervalMs === 0) return;
    await this.catchUpAfterRunning();
  }

  /**
   * Waits for the pass in progress, then runs a strongly consistent one, which reads every entry appended
   * before the call: once the running pass has settled, the tail poll (the one reader that is not strongly
   * consistent, and a timer) cannot start another before this call does.
   */
  private async catchUpAfterRunning(): Promise<void> {
    const running = this.catchingUp;
    if (running) await running.catch(() => undefined);
    await this.catchUp();
  }

  private async catchUpOnce(consistent: boolean): Promise<void> {
    // Entries are folded in slices: one read returns up to READ_BATCH entries, and an entry committing a
    // file of thousands of partitions takes milliseconds to fold. Whatever runs between slices sees a
    // state that is behind but consistent (entries are applied whole, in order).
    const slicer = new TimeSlicer(this.options.foldSliceMs ?? DEFAULT_SLICE_MS, 1);
    for (;;) {
      const from = this.stateValue.appliedIndex + 1n;
      const records = await this.store.read(from, READ_BATCH, { consistent });
      slicer.begin();
      if (records.length === 0) return;
      if (records[0]!.index > from && !consistent) {
        // Entries after a gap: trimmed, or a replica that has not seen them all. The leader tells.
        consistent = true;
        continue;
      }
      if (records[0]!.index > from) {
        // Entries we need were trimmed: start again from the newest snapshot.
        const snapshot = await this.store.latestSnapshot();
        // It must reach the entry before the first one left: one that stops short of it (even at or past
        // `from`) leaves entries nothing holds, and reading on from it would meet the same gap forever.
        const first = records[0]!.index;
        if (!snapshot || snapshot.index < first - 1n) throw this.goneError(from, first, snapshot?.index);
        // Decoded in slices: this agent serves requests from its current state meanwhile (at 100,000
        // partitions a reload at once held the loop for about half a second).
        const state = await ClusterState.fromSnapshotSliced(
          snapshot.data,
          snapshot.index,
          // A step is a topic or up to 256 partitions: the clock is read after each.
          new TimeSlicer(this.options.foldSliceMs ?? DEFAULT_SLICE_MS, 1),
        );
        // Nothing else folds entries behind a trimmed index, but a state already past the snapshot keeps.
        if (this.stateValue.appliedIndex >= snapshot.index) continue;
        this.options.logger.info("metadata log reloaded from snapshot", { index: snapshot.index.toString() });
        this.failCoveredAppend(snapshot.index);
        this.replaceState(state);
        continue;
      }
      for (const r of records) {
        // Another path may have applied it meanwhile (this agent's own append, a reload from a snapshot).
        if (r.index !== this.stateValue.appliedIndex + 1n) continue;
        // Decoded against the state it folds into: a level-8 entry may name topics by number.
        this.applyRecord(r, decodeEntry(r.data, r.index, this.stateValue.numbering));
        if (slicer.due()) await slicer.pause();
      }
      if (records.length < READ_BATCH) return;
    }
  }

  /** Entries from `from` to below `next` are gone, and no snapshot (the newest at `snapshotIndex`) covers them. */
  private goneError(from: bigint, next: bigint, snapshotIndex: bigint | undefined): Error {
    const newest = snapshotIndex === undefined ? "there is no snapshot" : `the newest snapshot is at ${snapshotIndex}`;
    return new Error(
      `metadata log entries ${from} to ${next - 1n} are gone and ${newest}: the state cannot be rebuilt past them. ` +
        `Entries of a DynamoDB log expire -metadataLogEntryTTL after they are written (default ` +
        `${DEFAULT_LOG_ENTRY_TTL_MS / 3_600_000}h): a cluster whose every agent stopped without writing a snapshot ` +
        `and stayed down longer than that has lost them (docs/reliability.md, "Metadata log entries expire")`,
    );
  }

  /**
   * Before jumping to a snapshot at `index`: the entry being appended may sit at an index the jump skips
   * (written, not yet folded here). Whether it is in the snapshot cannot be told, and its results are
   * not in it: its proposals fail with an unknown outcome, and it is not appended again.
   */
  private failCoveredAppend(index: bigint): void {
    const flight = this.inFlight;
    if (!flight || flight.done) return;
    const attempted = flight.attemptedIndex;
    if (attempted > this.stateValue.appliedIndex && attempted <= index) {
      this.fail(
        flight,
        new ProposalOutcomeUnknownError(
          `metadata log entry written at ${attempted} is covered by snapshot ${index}; it may have been applied`,
        ),
      );
    }
  }

  /** The encoding snapshots are written in now: binary only while every live agent reads it. */
  private snapshotEncoding(): SnapshotEncoding {
    return snapshotEncodingFor(this.readersFormat());
  }

  /**
   * Captures the state (a short synchronous pass; the fold saves what it changes afterwards) and encodes
   * it: binary in slices that give the event loop back, while the fold goes on. Reports the longest the
   * event loop was held at once.
   */
  private async encodeSnapshot(): Promise<EncodedSnapshot> {
    const captureStarted = performance.now();
    const capture = this.stateValue.captureSnapshot();
    const captureMs = performance.now() - captureStarted;
    try {
      const encoded = await encodeSnapshot(capture.view, this.snapshotEncoding(), this.snapshotOutput());
      this.previousSnapshotBytes = this.lastSnapshotBytes;
      this.lastSnapshotBytes = encoded.data.length;
      return {
        index: capture.view.applied,
        data: encoded.data,
        holdSeconds: Math.max(captureMs, encoded.longestHoldMs) / 1000,
        saved: capture.saved(),
      };
    } finally {
      capture.release();
    }
  }

  /**
   * The buffer to encode the next snapshot into: the last one's if the last snapshot fits it with room to
   * spare and it is not over twice the size hint (a state that shrank lets it go), else the size of a new
   * one. Taken, so that nothing else writes into it meanwhile.
   */
  private snapshotOutput(): number | Buffer {
    const hint = this.snapshotSizeHint();
    const kept = this.snapshotBuffer;
    this.snapshotBuffer = null;
    const fits =
      kept !== null && kept.length >= this.lastSnapshotBytes + SNAPSHOT_REUSE_ROOM && kept.length <= 2 * hint;
    return fits ? kept : hint;
  }

  /**
   * Keeps the buffer a stored snapshot was encoded into, for the next (snapshotOutput): the store keeps no
   * reference to the bytes once putSnapshot has resolved (the storage contract). Only a buffer of its own
   * (allocated for the snapshot, not a slice of Node's shared pool for small buffers).
   */
  private keepSnapshotBuffer(data: Buffer): void {
    const whole = data.buffer;
    if (data.byteOffset === 0 && whole.byteLength >= SNAPSHOT_REUSE_MIN_BYTES)
      this.snapshotBuffer = Buffer.from(whole, 0, whole.byteLength);
  }

  /**
   * About the size of the next binary snapshot, so that its buffer is allocated once (snapshot-binary.ts):
   * the last one's and a margin — a tenth of it, or what the state grew by between the last two snapshots
   * if more (a state outgrowing its buffer takes it, 1 MiB spills and a joined copy: twice the snapshot) —
   * or, before the first, an estimate from the partitions and the segments (every segment is one reference
   * in objectRefs; a binary segment takes about 20 bytes).
   */
  private snapshotSizeHint(): number {
    const last = this.lastSnapshotBytes;
    if (last > 0) {
      const grew = this.previousSnapshotBytes > 0 ? last - this.previousSnapshotBytes : 0;
      return Math.ceil(last + Math.max(last * 0.1, grew)) + 64 * 1024;
    }
    let segments = 0;
    for (const refs of this.stateValue.objectRefs.values()) segments += refs;
    return 64 * 1024 + this.stateValue.partitionTotal * 48 + segments * 24;
  }

  /**
   * Encodes and stores a snapshot of the state now; one at a time (`snapshotting`). Measures the event-loop
   * delay meanwhile (the scale benchmark's figure "during snapshots", read from the log line).
   */
  private async writeSnapshot(): Promise<void> {
    const started = performance.now();
    const span = this.snapshotLoop.start();
    let written: EncodedSnapshot;
    let loop: RecordableHistogram;
    try {
      written = await this.encodeSnapshot();
      // A snapshot kept as an object is a reference in the table, which agents before level 11 cannot follow.
      await this.store.putSnapshot(
        { index: written.index, data: written.data },
        { inTableOnly: this.readersFormat() < ENTRY_FORMAT.snapshotObjects },
      );
      // Not after a failed put: a store's requests may still be reading the bytes.
      this.keepSnapshotBuffer(written.data);
    } finally {
      loop = span.stop();
    }
    const { index, data, holdSeconds, saved } = written;
    const one = delaySeconds(loop);
    const all = this.snapshotLoop.allSpans;
    const info: SnapshotWritten = {
      encodeSeconds: holdSeconds,
      bytes: data.length,
      seconds: (performance.now() - started) / 1000,
      loopDelayP99Seconds: one.p99,
      loopDelayMaxSeconds: one.max,
      loopDelayP99AllSnapshotsSeconds: delaySeconds(all).p99,
      loopDelaySamplesAllSnapshots: all.count,
    };
    this.options.onSnapshot?.(info);
    // savedPartitions: copies the fold kept of partitions it changed before the encoder had read them.
    this.options.logger.info("metadata snapshot written", {
      index: index.toString(),
      bytes: data.length,
      seconds: Math.round(info.seconds * 1000) / 1000,
      longestHoldMs: tenthsOfMs(holdSeconds),
      loopDelayP99Ms: tenthsOfMs(info.loopDelayP99Seconds),
      loopDelayMaxMs: tenthsOfMs(info.loopDelayMaxSeconds),
      loopDelaySamples: loop.count,
      loopDelayP99AllSnapshotsMs: tenthsOfMs(info.loopDelayP99AllSnapshotsSeconds),
      loopDelaySamplesAllSnapshots: info.loopDelaySamplesAllSnapshots,
      savedPartitions: saved,
    });
  }

  /**
   * Writes a snapshot, and trims the log below it, when `snapshotEveryEntries` entries were applied since
   * the last one this agent started, or when entries past the newest durable one wait and the last start is
   * `snapshotMaxAgeMs` old: a failed snapshot is tried again that late, with or without new entries. Only
   * the snapshot writer (writesSnapshots) does.
   */
  private maybeSnapshot(): void {
    const every = this.options.snapshotEveryEntries;
    if (every <= 0 || this.snapshotting) return;
    const index = this.stateValue.appliedIndex;
    const now = Date.now();
    const dueByEntries = index - this.lastSnapshotIndex >= BigInt(every);
    const dueByAge =
      index > this.durableSnapshotIndex &&
      now - this.lastSnapshotAttemptAt >= (this.options.snapshotMaxAgeMs ?? SNAPSHOT_MAX_AGE_MS);
    if (!(dueByEntries || dueByAge) || !this.options.writesSnapshots() || this.options.snapshotWaits?.()) return;
    this.lastSnapshotIndex = index;
    this.lastSnapshotAttemptAt = now;
    this.snapshotting = (async () => {
      try {
        await this.writeSnapshot();
      } catch (err) {
        this.options.logger.warn("metadata snapshot failed", { error: errorMessage(err) });
        this.options.onSnapshotFailed?.();
        await this.renewUncovered();
        return;
      }
      if (index > this.durableSnapshotIndex) this.durableSnapshotIndex = index;
      const keep = BigInt(this.options.keepEntriesAfterSnapshot);
      try {
        if (index > keep) await this.store.trim(index - keep + 1n);
      } catch (err) {
        this.options.logger.warn("metadata log trim failed", { error: errorMessage(err) });
      }
    })().finally(() => {
      this.snapshotting = null;
    });
  }

  /**
   * After a failed snapshot: the entries after the newest durable one must not expire before a snapshot
   * covers them (store/types.ts renewEntries). At most every RENEW_INTERVAL_MS: only a long outage of
   * the snapshot's store brings any near their expiry.
   */
  private async renewUncovered(): Promise<void> {
    const now = Date.now();
    const ttl = this.options.entryTtlMs ?? 0;
    if (now - this.lastRenewAt < RENEW_INTERVAL_MS) return;
    this.lastRenewAt = now;
    const from = this.durableSnapshotIndex + 1n;
    try {
      // Renewed also when this agent writes none that expire: other agents may (their -metadataLogEntryTTL).
      const renewed = await this.store.renewEntries(from, ttl > 0 ? ttl : DEFAULT_LOG_ENTRY_TTL_MS);
      if (renewed > 0) {
        this.options.onEntriesRenewed?.(renewed);
        this.options.logger.warn("metadata log entries no snapshot covers yet were given a new expiry", {
          from: from.toString(),
          renewed,
        });
      }
    } catch (err) {
      this.options.logger.warn("renewing metadata log entries no snapshot covers yet failed", {
        from: from.toString(),
        error: errorMessage(err),
      });
    }
  }

  /** Whether a snapshot is being written (encoded, stored, the log trimmed below it) by this agent now. */
  get writingSnapshot(): boolean {
    return this.snapshotting !== null;
  }

  /** Writes a snapshot now (graceful shutdown) when entries were applied since the last durable one. */
  async snapshotNow(): Promise<void> {
    // After the one being written, if any (its outcome is its own to report).
    while (this.snapshotting) await this.snapshotting;
    const index = this.stateValue.appliedIndex;
    // Not the last one started: it may have failed.
    if (index === 0n || index <= this.durableSnapshotIndex || !this.options.writesSnapshots()) return;
    const writing = this.writeSnapshot();
    // maybeSnapshot waits for this one meanwhile.
    const settled = writing.then(
      () => undefined,
      () => undefined,
    );
    this.snapshotting = settled;
    try {
      await writing;
      this.lastSnapshotIndex = index;
      if (index > this.durableSnapshotIndex) this.durableSnapshotIndex = index;
    } finally {
      if (this.snapshotting === settled) this.snapshotting = null;
    }
  }

  /**
   * Stops tailing and proposing. Queued proposals still get their entry appended, up to their deadlines;
   * whatever has no outcome then fails (ProposalNotAppliedError while queued, ProposalOutcomeUnknownError
   * once appending), so close() finishes within the proposal timeout even when the store hangs.
   */
  async close(): Promise<void> {
    this.stopTail();
    for (const w of [...this.appliedWaiters]) w.resolve();
    const unsettled = (p: Proposal) => !p.settled;
    while (this.queue.some(unsettled) || this.inFlight?.proposals.some(unsettled))
      await new Promise((r) => setTimeout(r, 5));
    this.closed = true;
    // Settled by now (every proposal has a deadline); proposals queued meanwhile fail here.
    for (const p of this.queue.splice(0)) p.abandon("metadata log closed");
  }
}
