/**
 * An agent's way of committing its ingestion files (docs/metadata-log.md section 14.6): to the sequencer,
 * the agent holding the sequencer lease, which puts every agent's commits into few entries written by one
 * agent (no compare-and-set conflicts between agents); or, without a usable sequencer (none, this agent,
 * unreachable, refusing), to the log directly as before. The log's compare-and-set chain stays the only
 * thing correctness rests on: the sequencer is group commit across agents, and losing it costs latency.
 *
 * Commits keep the order they were proposed in (an idempotent producer's sequence numbers depend on it):
 * one request to the sequencer at a time, holding everything queued meanwhile; a fallback to the log
 * happens only when no request is outstanding. A commit the sequencer took is answered once this agent
 * has folded its entry, so that what it acknowledges it also serves: from the entries the answer carries
 * (those after this agent's applied index, which the sequencer still holds), else by reading the log.
 *
 * Outcomes: the sequencer answers "applied" (results from its fold, which is this agent's fold too) or
 * "not-applied" (nothing appended: the commits go to the log here); a request that was not delivered
 * (connection refused, address unknown, no connection within a second) falls back the same way; anything else (a timeout, a dropped
 * connection, a failed append there) leaves the outcome unknown, and the commits fail with
 * ProposalOutcomeUnknownError (RelayedOutcomeUnknownError), as a timed-out append here does: producers retry,
 * an idempotent producer's retry is recognised by the fold. Such a loss is the sequencer's, not a sign that
 * this agent cannot store data: it does not count against its ingestion health (ingest/health.ts), whose
 * verdict then rests on the next commits, which go to the log here while the sequencer is suspect.
 */
import { errorMessage, type Logger } from "../../../common/logger.js";
import type { Command, CommitFileCommand } from "../metadata/commands.js";
import type { FileCommitOptions } from "../ingest/batcher.js";
import type { MetadataLog } from "../metadata/log.js";
import { RelayedOutcomeUnknownError } from "../metadata/proposal.js";
import type { CommandResult } from "../metadata/state.js";
import type { LogRecord } from "../store/types.js";
import { SequencerChoice } from "./choice.js";
import { postOnce } from "./http-post.js";
import {
  APPLIED_HEADER,
  COMMIT_PATH,
  decodeCommitReply,
  REPLY_ACCEPT,
  MAX_REQUEST_BYTES,
  encodeCommitRequest,
  GATHER_HEADER,
  type CommitReply,
  type SequencerAddress,
} from "./wire.js";

/** How a commit went: to the log here (no sequencer, or this agent is it), through the sequencer, or here after the sequencer failed. */
export type CommitRoute = "local" | "sequencer" | "fallback" | "unknown";

export interface CommitForwarderOptions {
  /** The sequencer to send commits to now, or null to append them here. */
  readonly sequencer: () => SequencerAddress | null;
  /**
   * Whether this agent is the sequencer now: its own commits of aligned windows then wait in its log's
   * queue for the other agents' (metadata/gather.ts), as theirs do. Default: never.
   */
  readonly isSequencer?: () => boolean;
  /** A request without an answer this long fails with an unknown outcome (ms; default 10,000). */
  readonly requestTimeoutMs?: number;
  /** After a failed request, the same sequencer is not tried again for this long (ms; default 5,000). */
  readonly suspectMs?: number;
  /** Its answer applied: how long this agent may wait to fold the entry (ms; default 10,000). */
  readonly foldTimeoutMs?: number;
  readonly logger: Logger;
  /** A commit (a proposal of one file's commands) went this way. */
  readonly onCommit?: (route: CommitRoute) => void;
  /** A request to the sequencer ended: its outcome, how many commits it carried, and its seconds. */
  readonly onRequest?: (outcome: CommitReply["outcome"], commits: number, seconds: number) => void;
  /** The most command bytes one request carries (default MAX_REQUEST_BYTES). */
  readonly maxRequestBytes?: number;
  /** A connection not made this long counts as not delivered: the sender appends itself (ms; default 1,000). */
  readonly connectTimeoutMs?: number;
}

interface Pending {
  readonly commands: readonly CommitFileCommand[];
  /** The end of the aligned window its file ended (FileCommitOptions.window), or null. */
  readonly window: number | null;
  readonly resolve: (results: CommandResult[]) => void;
  readonly reject: (error: Error) => void;
}

export class CommitForwarder {
  private readonly queue: Pending[] = [];
  private pumping = false;
  private seq = 0;
  private readonly choice: SequencerChoice;

  /** `sender` names this agent in its requests (the proposer of the entries it sends). */
  constructor(
    private readonly log: MetadataLog,
    private readonly options: CommitForwarderOptions,
    private readonly sender: string,
  ) {
    this.choice = new SequencerChoice(options.sequencer, options.suspectMs ?? 5000);
  }

  get maxCommandBytes(): number {
    return this.log.maxCommandBytes;
  }

  commandSize(command: Command): number {
    return this.log.commandSize(command);
  }

  /**
   * Commits one file's commitFile commands (ingest/commit-commands.ts); settles like MetadataLog.propose.
   * Commands of another type go to the log here.
   */
  propose(commands: readonly Command[], options: FileCommitOptions = {}): Promise<CommandResult[]> {
    const files = commands.filter((c): c is CommitFileCommand => c.type === "commitFile");
    const window = options.window ?? null;
    if (files.length !== commands.length) {
      this.options.onCommit?.("local");
      return this.log.propose(commands);
    }
    // Nothing queued and no sequencer: straight to the log, in order behind nothing.
    if (this.queue.length === 0 && !this.pumping && !this.choice.target()) {
      this.options.onCommit?.("local");
      return this.proposeHere(files, window);
    }
    return new Promise<CommandResult[]>((resolve, reject) => {
      this.queue.push({ commands: files, window, resolve, reject });
      void this.pump();
    });
  }

  /** Proposes to the log here; as the sequencer, an aligned window's commit waits for the others' too. */
  private async proposeHere(commands: readonly CommitFileCommand[], window: number | null): Promise<CommandResult[]> {
    if (window === null || !(this.options.isSequencer?.() ?? false)) return this.log.propose(commands);
    return (await this.log.proposeIndexed(commands, { gather: { from: this.sender, window } })).results;
  }

  private async pump(): Promise<void> {
    if (this.pumping) return;
    this.pumping = true;
    try {
      while (this.queue.length > 0) {
        const batch = this.takeBatch();
        const target = this.choice.target();
        if (!target) {
          this.local(batch, "local");
          continue;
        }
        const sentAt = performance.now();
        const reply = await this.send(target, batch);
        this.options.onRequest?.(reply.outcome, batch.length, (performance.now() - sentAt) / 1000);
        if (reply.outcome === "applied") {
          for (let i = 0; i < batch.length; i++) this.options.onCommit?.("sequencer");
          void this.settleApplied(batch, reply.index, reply.results, reply.entries ?? []);
          continue;
        }
        this.choice.failed(target);
        this.options.logger.warn("sequencer unusable; committing here", {
          sequencer: `${target.host}:${target.port}`,
          outcome: reply.outcome,
          error: reply.error,
        });
        if (reply.outcome === "not-applied") {
          this.local(batch, "fallback");
          continue;
        }
        for (const p of batch) {
          this.options.onCommit?.("unknown");
          p.reject(new RelayedOutcomeUnknownError(`commit through the sequencer failed: ${reply.error}`));
        }
      }
    } finally {
      this.pumping = false;
    }
  }

  /** The queued commits for one request: all of them, up to maxRequestBytes of commands (at least one). */
  private takeBatch(): Pending[] {
    let bytes = 0;
    let n = 0;
    while (n < this.queue.length) {
      const size = this.queue[n]!.commands.reduce((sum, c) => sum + this.log.commandSize(c), 0);
      if (n > 0 && bytes + size > (this.options.maxRequestBytes ?? MAX_REQUEST_BYTES)) break;
      bytes += size;
      n++;
    }
    return this.queue.splice(0, n);
  }

  /** Proposes each pending commit to the log here, in order (the log's queue keeps it). */
  private local(batch: readonly Pending[], route: CommitRoute): void {
    for (const p of batch) {
      this.options.onCommit?.(route);
      this.proposeHere(p.commands, p.window).then(p.resolve, p.reject);
    }
  }

  private async send(target: SequencerAddress, batch: readonly Pending[]): Promise<CommitReply> {
    const commands = batch.flatMap((p) => p.commands);
    const body = encodeCommitRequest(this.sender, ++this.seq, commands);
    const answer = await postOnce(target, COMMIT_PATH, body, {
      headers: {
        authorization: `Bearer ${target.token}`,
        "content-type": "application/octet-stream",
        accept: REPLY_ACCEPT,
        [APPLIED_HEADER]: this.log.state.appliedIndex.toString(),
        // A lone commit ending an aligned window may wait for the other agents'; commits that queued
        // here behind a slow request are late already and go at once.
        ...(batch.length === 1 && batch[0]!.window !== null ? { [GATHER_HEADER]: String(batch[0]!.window) } : {}),
      },
      connectTimeoutMs: this.options.connectTimeoutMs ?? 1000,
      timeoutMs: this.options.requestTimeoutMs ?? 10_000,
    });
    if ("error" in answer) return { outcome: answer.delivered ? "unknown" : "not-applied", error: answer.error };
    return decodeCommitReply(answer.status, answer.body, answer.contentType, commands.length);
  }

  /**
   * Resolves each commit with its results once this agent has folded their entry: from the entries the
   * answer carried when they follow what this agent folded, else by reading the log.
   */
  private async settleApplied(
    batch: readonly Pending[],
    index: bigint,
    results: readonly CommandResult[],
    entries: readonly LogRecord[],
  ): Promise<void> {
    await this.log.foldRecords(entries);
    try {
      await this.log.foldThrough(index, Date.now() + (this.options.foldTimeoutMs ?? 10_000));
    } catch (err) {
      // Committed: the answer is true even though this agent does not serve it yet.
      this.options.logger.warn("a commit made through the sequencer is not folded here yet", {
        index: index.toString(),
        error: errorMessage(err),
      });
    }
    let at = 0;
    for (const p of batch) {
      p.resolve(results.slice(at, at + p.commands.length));
      at += p.commands.length;
    }
  }
}
