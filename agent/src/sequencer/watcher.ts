/**
 * Following the metadata log through the sequencer (docs/metadata-log.md section 14.6, "Watches"): an
 * agent that is not the sequencer keeps one long-polling request open to it, which the sequencer answers
 * as soon as it has folded an entry past the agent's applied index, carrying the entries. The agent folds
 * them (MetadataLog.foldRecords) and, while the watch answers, polls the store only at the idle interval:
 * the log's tail is read by one agent, the sequencer, instead of by every agent.
 *
 * The watch adds nothing correctness rests on: entries are the log's, folded in order; a gap (the
 * sequencer no longer holds what the agent lacks) is read from the store; a watch that fails, or a
 * sequencer that goes away, puts the agent back on its own polls at once (MetadataLog.followWatch(null)).
 */
import { setTimeout as sleep } from "node:timers/promises";
import { errorMessage, type Logger } from "../../../common/logger.js";
import type { MetadataLog } from "../metadata/log.js";
import { SequencerChoice } from "./choice.js";
import { postOnce } from "./http-post.js";
import {
  APPLIED_HEADER,
  decodeWatchReply,
  REPLY_ACCEPT,
  WANTED_HEADER,
  WATCH_HOLD_MS,
  WATCH_PATH,
  type SequencerAddress,
} from "./wire.js";

export interface TailWatcherOptions {
  /** The sequencer to follow now, or null (none, or this agent is it). */
  readonly sequencer: () => SequencerAddress | null;
  /** Whether a fetch waits on this agent now (the watch then asks the sequencer to poll at its active pace). */
  readonly wanted: () => boolean;
  readonly logger: Logger;
  /** After a failed watch, the same sequencer is not watched again for this long (ms; default 5,000). */
  readonly suspectMs?: number;
  /** With no sequencer to watch, look again this often (ms; default 1,000: the lease is read as often). */
  readonly idleCheckMs?: number;
  /** A watch answered (`ok`: it carried or led to the entries) or failed. */
  readonly onWatch?: (outcome: "ok" | "failed") => void;
}

const CONNECT_TIMEOUT_MS = 1000;
/** A watch answer keeps the log following for the hold and this much more (ms). */
const FOLLOW_SLACK_MS = 1000;

export class TailWatcher {
  private stopped = true;
  private loop: Promise<void> | null = null;
  /** Aborts the watch in flight (to send it again, now wanting, or to stop). */
  private current: AbortController | null = null;
  /** Whether the watch in flight asked the sequencer to poll at its active pace. */
  private currentWanted = false;
  /** The next watch asks it (a wake-up came while one was in flight without asking). */
  private forceWanted = false;
  /** Ends the wait between checks for a sequencer early (stop()). */
  private idleStop: AbortController | null = null;

  private readonly choice: SequencerChoice;

  constructor(
    private readonly log: MetadataLog,
    private readonly options: TailWatcherOptions,
  ) {
    this.choice = new SequencerChoice(options.sequencer, options.suspectMs ?? 5000);
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.current?.abort();
    this.endIdle();
    await this.loop;
    this.log.followWatch(null);
  }

  /**
   * Something now waits on other agents' entries here (MetadataLog.wakeTail: a fetch starting to wait, a
   * produce naming a topic this agent does not know): a watch sent without saying so is sent again, saying
   * so, and the sequencer polls the log at once and at its active pace while it holds the watch.
   */
  private readonly wake = (): void => {
    if (!this.current || this.currentWanted) return;
    this.forceWanted = true;
    this.current.abort();
  };

  private endIdle(): void {
    this.idleStop?.abort();
  }

  private async idle(ms: number): Promise<void> {
    const stop = new AbortController();
    this.idleStop = stop;
    try {
      await sleep(ms, undefined, { signal: stop.signal });
    } catch {
      // ended early by stop()
    } finally {
      if (this.idleStop === stop) this.idleStop = null;
    }
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      const target = this.choice.target();
      if (!target) {
        this.log.followWatch(null);
        await this.idle(this.options.idleCheckMs ?? 1000);
        continue;
      }
      const ok = await this.watchOnce(target);
      if (ok === null) continue; // aborted: send again at once (or stop)
      this.options.onWatch?.(ok ? "ok" : "failed");
      if (!ok) {
        this.choice.failed(target);
        this.log.followWatch(null);
      }
    }
  }

  /** One watch: true when it answered, false when it failed, null when it was aborted. */
  private async watchOnce(target: SequencerAddress): Promise<boolean | null> {
    const controller = new AbortController();
    this.current = controller;
    this.currentWanted = this.forceWanted || this.options.wanted();
    this.forceWanted = false;
    const applied = this.log.state.appliedIndex;
    const answer = await postOnce(target, WATCH_PATH, Buffer.alloc(0), {
      headers: {
        authorization: `Bearer ${target.token}`,
        accept: REPLY_ACCEPT,
        [APPLIED_HEADER]: applied.toString(),
        ...(this.currentWanted ? { [WANTED_HEADER]: "1" } : {}),
      },
      connectTimeoutMs: CONNECT_TIMEOUT_MS,
      timeoutMs: WATCH_HOLD_MS + 5000,
      signal: controller.signal,
    });
    this.current = null;
    if ("aborted" in answer && answer.aborted) return null;
    if ("error" in answer) {
      this.options.logger.debug("watching the log through the sequencer failed", {
        sequencer: `${target.host}:${target.port}`,
        error: answer.error,
      });
      return false;
    }
    const reply = decodeWatchReply(answer.status, answer.body, answer.contentType);
    if (!reply) {
      this.options.logger.debug("the sequencer refused a watch", { status: answer.status });
      return false;
    }
    await this.log.foldRecords(reply.entries ?? []);
    if (this.log.state.appliedIndex < reply.index) {
      // The sequencer no longer held what this agent lacks (or it did not decode): read it from the log.
      try {
        await this.log.catchUp();
      } catch (err) {
        this.options.logger.debug("reading the log after a watch failed", { error: errorMessage(err) });
        return false;
      }
    }
    this.log.followWatch({
      until: Date.now() + WATCH_HOLD_MS + FOLLOW_SLACK_MS,
      active: reply.active,
      wake: this.wake,
    });
    return true;
  }
}
