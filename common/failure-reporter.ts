/**
 * Logs a failure that repeats on every pass of a loop (a tail read, a poll) without a line per pass:
 * the first failure, a different error, and then the same error at most every `intervalMs` (with how
 * many failures there were since the last line); and one line when a pass succeeds again.
 */
export class FailureReporter {
  private lastError: string | null = null;
  private lastReportedAt = 0;
  private unreported = 0;
  private failures = 0;

  constructor(
    private readonly report: (error: string, repeats: number) => void,
    private readonly recovered: (failures: number) => void,
    private readonly intervalMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  failed(error: string): void {
    this.failures++;
    const at = this.now();
    if (error !== this.lastError || at - this.lastReportedAt >= this.intervalMs) {
      this.report(error, this.unreported);
      this.lastError = error;
      this.lastReportedAt = at;
      this.unreported = 0;
    } else {
      this.unreported++;
    }
  }

  succeeded(): void {
    if (this.failures === 0) return;
    this.recovered(this.failures);
    this.lastError = null;
    this.unreported = 0;
    this.failures = 0;
  }
}
