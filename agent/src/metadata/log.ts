/**
 * The metadata log as the agent uses it: loads the latest snapshot, replays the entries after it, tails
 * the store for entries other agents append, and proposes this agent's commands. Proposals are grouped:
 * whatever is queued while an append is in flight goes into the next entry (group commit). An append
 * takes the index after the last applied entry; when another agent took it first, the log catches up
 * and tries the next index. Offsets and every other outcome come from folding the entry (state.ts),
 * so a retried append needs no rewriting.
 */
import { randomUUID } from "node:crypto";
import type { Logger } from "../../../common/logger.js";
import { errorMessage } from "../../../common/logger.js";
import type { MetadataStore } from "../store/types.js";
import type { Command, LogEntry } from "./commands.js";
import { commandSize, decodeEntry, encodeEntry } from "./commands.js";
import type { CommandResult, StateListener } from "./state.js";
import { ClusterState } from "./state.js";

export interface MetadataLogOptions {
  /** Poll the store for other agents' entries this often; 0 when this agent is the only writer. */
  readonly tailIntervalMs: number;
  /** Write a snapshot after this many entries since the last one (0: never). */
  readonly snapshotEveryEntries: number;
  /** Entries kept below a snapshot for agents that lag (the rest are trimmed). */
  readonly keepEntriesAfterSnapshot: number;
  /** Whether this agent writes snapshots (one agent at a time should). */
  readonly writesSnapshots: () => boolean;
  readonly logger: Logger;
  /** Called after each append attempt (metrics). */
  readonly onAppend?: (result: "ok" | "conflict", seconds: number) => void;
  readonly onApplied?: (index: bigint) => void;
}

interface Pending {
  readonly command: Command;
  readonly size: number;
  readonly resolve: (r: CommandResult) => void;
  readonly reject: (e: Error) => void;
}

const READ_BATCH = 500;

export class MetadataLog {
  private stateValue = new ClusterState();
  private readonly proposerId = randomUUID();
  private seq = 0;
  private readonly queue: Pending[] = [];
  private pumping = false;
  private readonly waiting = new Map<number, (results: CommandResult[]) => void>();
  private catchingUp: Promise<void> | null = null;
  private tailTimer: NodeJS.Timeout | null = null;
  private lastSnapshotIndex = 0n;
  private snapshotting = false;
  private closed = false;
  private listenerValue: StateListener | null = null;

  constructor(
    private readonly store: MetadataStore,
    private readonly options: MetadataLogOptions,
  ) {}

  /** Current state. Replaced (not mutated) when the log reloads from a snapshot. */
  get state(): ClusterState {
    return this.stateValue;
  }

  set listener(listener: StateListener | null) {
    this.listenerValue = listener;
    this.stateValue.listener = listener;
  }

  async open(): Promise<void> {
    const snapshot = await this.store.latestSnapshot();
    if (snapshot) {
      this.replaceState(ClusterState.fromSnapshot(snapshot.data));
      this.lastSnapshotIndex = snapshot.index;
      this.options.logger.info("loaded metadata snapshot", {
        index: snapshot.index.toString(),
        bytes: snapshot.data.length,
      });
    }
    await this.catchUp();
    this.options.logger.info("metadata log replayed", { appliedIndex: this.stateValue.appliedIndex.toString() });
    if (this.options.tailIntervalMs > 0) {
      this.tailTimer = setInterval(() => {
        // A pass still running (a slow or unreachable store) is not joined: each tick would log its failure again.
        if (this.catchingUp) return;
        this.catchUp().catch((err: unknown) =>
          this.options.logger.warn("metadata log tail failed", { error: errorMessage(err) }),
        );
      }, this.options.tailIntervalMs);
      this.tailTimer.unref();
    }
  }

  private replaceState(state: ClusterState): void {
    state.listener = this.listenerValue;
    this.stateValue = state;
    this.listenerValue?.topicsChanged?.();
  }

  /** Proposes commands; resolves with each command's result once its entry is applied. */
  propose(commands: readonly Command[]): Promise<CommandResult[]> {
    if (this.closed) return Promise.reject(new Error("metadata log closed"));
    const promises = commands.map(
      (command) =>
        new Promise<CommandResult>((resolve, reject) => {
          const size = commandSize(command);
          if (size > this.store.maxEntryBytes - 256) {
            reject(
              new Error(`metadata command of ${size} bytes exceeds the log entry limit of ${this.store.maxEntryBytes}`),
            );
            return;
          }
          this.queue.push({ command, size, resolve, reject });
        }),
    );
    void this.pump();
    return Promise.all(promises);
  }

  /** Largest command size this log accepts (the batcher keeps files under it). */
  get maxCommandBytes(): number {
    return this.store.maxEntryBytes - 256;
  }

  private async pump(): Promise<void> {
    if (this.pumping) return;
    this.pumping = true;
    try {
      while (this.queue.length > 0 && !this.closed) {
        let bytes = 64;
        let n = 0;
        while (n < this.queue.length && (n === 0 || bytes + this.queue[n]!.size <= this.store.maxEntryBytes - 64)) {
          bytes += this.queue[n]!.size;
          n++;
        }
        const batch = this.queue.splice(0, n);
        try {
          const results = await this.appendEntry(batch.map((p) => p.command));
          batch.forEach((p, i) => p.resolve(results[i]!));
        } catch (err) {
          const e = err instanceof Error ? err : new Error(String(err));
          for (const p of batch) p.reject(e);
        }
      }
    } finally {
      this.pumping = false;
    }
  }

  private async appendEntry(commands: readonly Command[]): Promise<CommandResult[]> {
    const entry: LogEntry = { proposer: this.proposerId, seq: ++this.seq, commands };
    const data = encodeEntry(entry);
    const done = new Promise<CommandResult[]>((resolve) => this.waiting.set(entry.seq, resolve));
    for (let attempt = 0; ; attempt++) {
      if (this.closed) throw new Error("metadata log closed");
      const index = this.stateValue.appliedIndex + 1n;
      const started = process.hrtime.bigint();
      let ok: boolean;
      try {
        ok = await this.store.append(index, data);
      } catch (err) {
        this.waiting.delete(entry.seq);
        throw err;
      }
      this.options.onAppend?.(ok ? "ok" : "conflict", Number(process.hrtime.bigint() - started) / 1e9);
      if (ok) {
        if (this.stateValue.appliedIndex === index - 1n) this.applyRecord(index, entry);
        else if (this.stateValue.appliedIndex < index) await this.catchUp();
        return done;
      }
      // Another agent took this index: learn what it wrote, then try the next free index. The entry
      // there may be our own: a put whose response was lost lands, and the SDK's retry of it then
      // fails its condition. Folding it resolved this proposal; appending again would repeat it.
      await this.catchUp();
      if (!this.waiting.has(entry.seq)) return done;
      if (attempt > 0 && attempt % 50 === 0)
        this.options.logger.warn("metadata log append contended", { attempts: attempt });
    }
  }

  private applyRecord(index: bigint, entry: LogEntry): void {
    const results = this.stateValue.apply(index, entry);
    if (entry.proposer === this.proposerId) {
      const resolve = this.waiting.get(entry.seq);
      if (resolve) {
        this.waiting.delete(entry.seq);
        resolve(results);
      }
    }
    this.options.onApplied?.(index);
    this.maybeSnapshot();
  }

  /** Reads and applies every entry after the applied index. Concurrent callers share one pass. */
  catchUp(): Promise<void> {
    if (!this.catchingUp) {
      this.catchingUp = this.catchUpOnce().finally(() => {
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
    const running = this.catchingUp;
    if (running) await running.catch(() => undefined);
    await this.catchUp();
  }

  private async catchUpOnce(): Promise<void> {
    for (;;) {
      const from = this.stateValue.appliedIndex + 1n;
      const records = await this.store.read(from, READ_BATCH);
      if (records.length === 0) return;
      if (records[0]!.index > from) {
        // Entries we need were trimmed: start again from the newest snapshot.
        const snapshot = await this.store.latestSnapshot();
        if (!snapshot || snapshot.index < from - 1n)
          throw new Error(`metadata log entries from ${from} are gone and no snapshot covers them`);
        this.options.logger.info("metadata log reloaded from snapshot", { index: snapshot.index.toString() });
        this.replaceState(ClusterState.fromSnapshot(snapshot.data));
        continue;
      }
      for (const r of records) {
        if (r.index !== this.stateValue.appliedIndex + 1n) continue;
        this.applyRecord(r.index, decodeEntry(r.data));
      }
      if (records.length < READ_BATCH) return;
    }
  }

  private maybeSnapshot(): void {
    const every = this.options.snapshotEveryEntries;
    if (every <= 0 || this.snapshotting) return;
    const index = this.stateValue.appliedIndex;
    if (index - this.lastSnapshotIndex < BigInt(every) || !this.options.writesSnapshots()) return;
    this.snapshotting = true;
    const data = this.stateValue.toSnapshot();
    this.lastSnapshotIndex = index;
    void (async () => {
      try {
        await this.store.putSnapshot({ index, data });
        const keep = BigInt(this.options.keepEntriesAfterSnapshot);
        if (index > keep) await this.store.trim(index - keep + 1n);
        this.options.logger.debug("metadata snapshot written", { index: index.toString(), bytes: data.length });
      } catch (err) {
        this.options.logger.warn("metadata snapshot failed", { error: errorMessage(err) });
      } finally {
        this.snapshotting = false;
      }
    })();
  }

  /** Writes a snapshot now (graceful shutdown) when entries were applied since the last one. */
  async snapshotNow(): Promise<void> {
    const index = this.stateValue.appliedIndex;
    if (index === 0n || index === this.lastSnapshotIndex || !this.options.writesSnapshots()) return;
    await this.store.putSnapshot({ index, data: this.stateValue.toSnapshot() });
    this.lastSnapshotIndex = index;
  }

  async close(): Promise<void> {
    if (this.tailTimer) clearInterval(this.tailTimer);
    this.tailTimer = null;
    while (this.pumping || this.queue.length > 0) await new Promise((r) => setTimeout(r, 5));
    this.closed = true;
  }
}
