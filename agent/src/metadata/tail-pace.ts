/**
 * How often an agent on a shared store polls the metadata log's tail (docs/metadata-log.md section 5).
 *
 * Polls cost read units whether or not they find anything, and on an idle cluster they are most of the
 * bill. The tail is polled every `activeMs` while it is needed fresh: the last pass found entries (or
 * this agent appended one), or something waits on other agents' entries (a long-polling fetch). Once
 * neither holds, each empty pass doubles the wait, up to `idleMs`. `wake()` asks for a prompt pass when
 * a wait starts on an agent whose polls have backed off.
 */
export interface TailPaceOptions {
  /** The interval while the tail is needed fresh (ms). */
  readonly activeMs: number;
  /** The longest interval on an idle log with nothing waiting (ms); equal to activeMs: no back-off. */
  readonly idleMs: number;
}

export class TailPace {
  private delayMs: number;

  constructor(private readonly options: TailPaceOptions) {
    if (!(options.activeMs > 0) || !(options.idleMs >= options.activeMs))
      throw new RangeError(
        `tail pace: idleMs (${options.idleMs}) must be at least activeMs (${options.activeMs}), which must be positive`,
      );
    this.delayMs = options.activeMs;
  }

  /** The wait before the next pass, after one that did (`moved`) or did not find entries. */
  next(moved: boolean, wanted: boolean): number {
    this.delayMs = moved || wanted ? this.options.activeMs : Math.min(this.options.idleMs, this.delayMs * 2);
    return this.delayMs;
  }

  /** Whether a wait of `remainingMs` before the next pass is longer than the tail may lag when needed. */
  backedOff(remainingMs: number): boolean {
    return remainingMs > this.options.activeMs;
  }

  /** Back to the active interval (a wake-up): the next empty passes back off again from there. */
  reset(): void {
    this.delayMs = this.options.activeMs;
  }
}
