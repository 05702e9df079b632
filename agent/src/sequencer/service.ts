/**
 * The sequencer's side (docs/metadata-log.md section 14.6): while this agent holds the sequencer lease, it
 * proposes the commitFile commands other agents send it to its own metadata log, where they share entries
 * with each other and with its own (the log's group commit), and answers with their results and the index
 * of their entry. It owns no index: its appends are the same compare-and-set puts as any agent's.
 */
import { timingSafeEqual } from "node:crypto";
import type { HttpPost, HttpPostRoute, HttpReply } from "../../../common/http-server.js";
import { errorMessage, type Logger } from "../../../common/logger.js";
import type { Command } from "../metadata/commands.js";
import { CommandEncodingError } from "../metadata/entry-codec.js";
import type { ProposeOptions } from "../metadata/log.js";
import { FormatNotReadByAllError, ProposalNotAppliedError } from "../metadata/proposal.js";
import type { CommandResult } from "../metadata/state.js";
import type { LogRecord } from "../store/types.js";
import {
  acceptsFramedReply,
  appliedIndexOf,
  APPLIED_HEADER,
  decodeCommitRequest,
  encodeCommitReply,
  GATHER_HEADER,
  gatherWindowOf,
  MAX_REPLY_ENTRIES,
  MAX_REPLY_ENTRY_BYTES,
  replyStatus,
  WANTED_HEADER,
  WATCH_HOLD_MS,
  encodeWatchReply,
  type CommitReply,
} from "./wire.js";

export interface SequencerServiceOptions {
  readonly log: {
    proposeIndexed(
      commands: readonly Command[],
      options?: ProposeOptions,
    ): Promise<{ index: bigint; results: CommandResult[] }>;
    recentEntries(from: bigint, to: bigint): LogRecord[] | null;
    readonly state: { readonly appliedIndex: bigint };
    waitApplied(after: bigint, ms: number): Promise<void>;
    tailActive(): boolean;
    wakeTail(): void;
  };
  /** How long a watch with nothing new is held (ms; default WATCH_HOLD_MS). */
  readonly watchHoldMs?: number;
  /** Whether this agent holds the sequencer lease now. */
  readonly isHeld: () => boolean;
  /** The token requests must carry (the one written in the lease item). */
  readonly token: string;
  readonly logger: Logger;
  /** A request was answered: how many commands it held, and their outcome. */
  readonly onRequest?: (outcome: CommitReply["outcome"] | "refused", commands: number) => void;
}

export class SequencerService {
  private readonly token: Buffer;
  /** Watches held now whose watcher has a fetch waiting. */
  private wantedWatches = 0;

  constructor(private readonly options: SequencerServiceOptions) {
    this.token = Buffer.from(options.token, "utf8");
  }

  /** The POST route for COMMIT_PATH. */
  readonly route: HttpPostRoute = (request) => this.handle(request);

  /** The POST route for WATCH_PATH (wire.ts): a watcher's long poll for the entries after its applied index. */
  readonly watchRoute: HttpPostRoute = (request) => this.watch(request);

  /** Whether a watcher has a fetch waiting on data now: this agent's tail then stays at its active pace. */
  watchersWant(): boolean {
    return this.wantedWatches > 0;
  }

  private async watch({ headers }: HttpPost): Promise<HttpReply> {
    const refused = this.refusal(headers);
    if (refused) return refused;
    const applied = appliedIndexOf(headers[APPLIED_HEADER]);
    if (applied === null)
      return this.reply(headers, { outcome: "not-applied", error: `missing or malformed ${APPLIED_HEADER}` }, 400);
    const wanted = headers[WANTED_HEADER] === "1";
    if (wanted) {
      this.wantedWatches++;
      // As a fetch starting to wait here: polls that have backed off poll now.
      this.options.log.wakeTail();
    }
    try {
      await this.options.log.waitApplied(applied, this.options.watchHoldMs ?? WATCH_HOLD_MS);
    } finally {
      if (wanted) this.wantedWatches--;
    }
    const index = this.options.log.state.appliedIndex;
    const entries = this.entriesFor(applied, index);
    const reply = { index, active: this.options.log.tailActive(), ...(entries ? { entries } : {}) };
    return { status: 200, ...encodeWatchReply(reply, acceptsFramedReply(headers.accept)) };
  }

  /** `reply` framed when the request's `accept` asks for it, else as JSON (wire.ts). */
  private reply(headers: HttpPost["headers"], reply: CommitReply, notApplied: 400 | 401 | 409 | 503 = 503): HttpReply {
    return { status: replyStatus(reply, notApplied), ...encodeCommitReply(reply, acceptsFramedReply(headers.accept)) };
  }

  private authorized(header: string | undefined): boolean {
    const match = /^Bearer (.+)$/.exec(header ?? "");
    if (!match) return false;
    const given = Buffer.from(match[1]!, "utf8");
    return given.length === this.token.length && timingSafeEqual(given, this.token);
  }

  /**
   * The entries after `applied` up to `index`, when this agent holds them all and they are few enough
   * (MAX_REPLY_ENTRIES, MAX_REPLY_ENTRY_BYTES); else null, and the sender reads the log.
   */
  private entriesFor(applied: bigint | null, index: bigint): LogRecord[] | null {
    if (applied === null || applied >= index || index - applied > BigInt(MAX_REPLY_ENTRIES)) return null;
    const entries = this.options.log.recentEntries(applied + 1n, index);
    if (!entries) return null;
    let bytes = 0;
    for (const e of entries) bytes += e.data.length;
    return bytes <= MAX_REPLY_ENTRY_BYTES ? entries : null;
  }

  /**
   * The answer to a request this agent must not serve: a wrong token (401), or not the holder now (409: a
   * former holder, or one about to lose the lease; the sender appends, or polls, itself); else null.
   */
  private refusal(headers: HttpPost["headers"]): HttpReply | null {
    if (!this.authorized(headers.authorization))
      return this.reply(headers, { outcome: "not-applied", error: "not authorized" }, 401);
    if (!this.options.isHeld()) return this.reply(headers, { outcome: "not-applied", error: "not the sequencer" }, 409);
    return null;
  }

  private async handle({ headers, body }: HttpPost): Promise<HttpReply> {
    const refused = this.refusal(headers);
    if (refused) {
      this.options.onRequest?.("refused", 0);
      return refused;
    }
    let commands: Command[];
    let sender: string;
    try {
      ({ sender, commands } = decodeCommitRequest(body));
    } catch (err) {
      this.options.onRequest?.("refused", 0);
      return this.reply(headers, { outcome: "not-applied", error: `malformed request: ${errorMessage(err)}` }, 400);
    }
    try {
      // Commits ending aligned windows wait briefly for the other agents' of the same window.
      const window = gatherWindowOf(headers[GATHER_HEADER]);
      const gather = window !== null ? { gather: { from: sender, window } } : {};
      const { index, results } = await this.options.log.proposeIndexed(commands, gather);
      this.options.onRequest?.("applied", commands.length);
      // The entries the sender lacks up to its commit's, so that it need not read them.
      const entries = this.entriesFor(appliedIndexOf(headers[APPLIED_HEADER]), index);
      return this.reply(headers, { outcome: "applied", index, results, ...(entries ? { entries } : {}) });
    } catch (err) {
      // Refusals before any entry: nothing of the request was appended.
      const notApplied =
        err instanceof ProposalNotAppliedError ||
        err instanceof FormatNotReadByAllError ||
        err instanceof CommandEncodingError;
      const outcome = notApplied ? "not-applied" : "unknown";
      this.options.onRequest?.(outcome, commands.length);
      if (!notApplied)
        this.options.logger.warn("forwarded commit failed", { commands: commands.length, error: errorMessage(err) });
      return this.reply(headers, { outcome, error: errorMessage(err) });
    }
  }
}
