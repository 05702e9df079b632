/**
 * One proposed command waiting for its outcome: settles once (a result, or an error), and not later
 * than its deadline. What a failed proposal's error says about the log matters to a retry:
 * ProposalNotAppliedError — the command is in no entry, nothing changed; ProposalOutcomeUnknownError —
 * its entry may have been applied or may still be (a caller answers with a retriable error; the retry of
 * a non-idempotent change may then find it done, as after a Kafka request timeout).
 */
import type { Command } from "./commands.js";
import type { GatherMark } from "./gather.js";
import type { CommandResult } from "./state.js";

/** The command was never appended: the log did not change. */
export class ProposalNotAppliedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ProposalNotAppliedError";
  }
}

/** The command's entry may have been applied, or may be applied later; its result is not known. */
export class ProposalOutcomeUnknownError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ProposalOutcomeUnknownError";
  }
}

/**
 * The commit went through another agent (the sequencer) and was lost with it or with the way to it: its
 * outcome is unknown as above, and it says nothing about this agent's own writes to the store (its next
 * commits go to the store directly, and show those).
 */
export class RelayedOutcomeUnknownError extends ProposalOutcomeUnknownError {
  constructor(message: string) {
    super(message);
    this.name = "RelayedOutcomeUnknownError";
  }
}

/**
 * The command needs an entry format some live agent does not read yet (an older release during a rolling
 * upgrade): appending it would stop that agent. Nothing was appended; the change works once every agent
 * is upgraded.
 */
export class FormatNotReadByAllError extends Error {
  constructor(
    readonly commandType: string,
    readonly needed: number,
    readonly readers: number,
  ) {
    super(
      `an agent of an older release is running: it reads metadata log entries up to format ${readers}, and this change (${commandType}) needs format ${needed}; upgrade every agent first`,
    );
    this.name = "FormatNotReadByAllError";
  }
}

export class Proposal {
  /** Set once the command is in an entry being appended: from then on a failure leaves the outcome unknown. */
  appending = false;
  /** When propose() queued it (performance.now()). */
  readonly queuedAt = performance.now();
  /** A gathered file commit (gather.ts): its sender and window, and until when (performance.now()) it may wait. */
  gather: (GatherMark & { readonly until: number }) | null = null;
  private settledValue = false;
  private readonly timer: NodeJS.Timeout;

  constructor(
    readonly command: Command,
    /**
     * The command in the binary encoding (entry-codec.ts encodeCommand), in the level-8 form when
     * `numbered`: encoded again, without numbers, if it is written while an agent reading only older
     * levels is live.
     */
    public encoded: Buffer,
    public numbered: boolean,
    timeoutMs: number,
    /** Called with the command's result and the index of the entry that applied it. */
    private readonly resolveFn: (r: CommandResult, index: bigint) => void,
    private readonly rejectFn: (e: Error) => void,
  ) {
    this.timer = setTimeout(() => this.abandon(`metadata log proposal timed out after ${timeoutMs} ms`), timeoutMs);
    this.timer.unref();
  }

  get settled(): boolean {
    return this.settledValue;
  }

  resolve(result: CommandResult, index: bigint): void {
    if (this.settledValue) return;
    this.settledValue = true;
    clearTimeout(this.timer);
    this.resolveFn(result, index);
  }

  reject(error: Error): void {
    if (this.settledValue) return;
    this.settledValue = true;
    clearTimeout(this.timer);
    this.rejectFn(error);
  }

  /** Fails the proposal the way its stage allows: not applied while queued, outcome unknown once appending. */
  abandon(reason: string): void {
    this.reject(
      this.appending
        ? new ProposalOutcomeUnknownError(`${reason}; the metadata log entry may have been applied`)
        : new ProposalNotAppliedError(reason),
    );
  }
}
