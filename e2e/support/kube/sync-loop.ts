/**
 * Runs a sync pass, then again `intervalMs` after each pass ends, until stopped: the loop the
 * stand-in for the kubelet (PodRunner) drives its passes with. A pass that fails is reported and the
 * loop goes on; stop() waits for the pass in flight.
 */
export class SyncLoop {
  private timer: NodeJS.Timeout | undefined;
  private syncing: Promise<void> = Promise.resolve();
  private stopped = false;

  constructor(
    private readonly pass: () => Promise<void>,
    private readonly onError: (err: unknown) => void,
    private readonly intervalMs: number,
  ) {}

  start(): void {
    const tick = (): void => {
      if (this.stopped) return;
      this.syncing = this.pass()
        .catch(this.onError)
        .finally(() => {
          if (!this.stopped) this.timer = setTimeout(tick, this.intervalMs);
        });
    };
    tick();
  }

  /** Ends the loop once the pass in flight (if any) is done. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.syncing;
  }
}
