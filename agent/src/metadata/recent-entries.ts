/**
 * The newest entries this agent wrote or read, as stored (index and bytes), up to a count and a byte
 * budget: the sequencer hands them to an agent whose commit it appended, so that the agent folds them
 * without reading the log (sequencer/wire.ts). An index's bytes never change once written (the log is a
 * compare-and-set chain), so what is kept stays true.
 */
import type { LogRecord } from "../store/types.js";

export class RecentEntries {
  private readonly records: LogRecord[] = [];
  private bytes = 0;

  constructor(
    private readonly maxEntries = 1024,
    private readonly maxBytes = 8 * 1024 * 1024,
  ) {}

  /** Keeps `record`; one that does not follow the newest kept starts the run again. */
  add(record: LogRecord): void {
    const last = this.records.at(-1);
    if (last && record.index <= last.index) return;
    if (last && record.index !== last.index + 1n) {
      this.records.length = 0;
      this.bytes = 0;
    }
    this.records.push(record);
    this.bytes += record.data.length;
    let drop = 0;
    while (
      this.records.length - drop > 1 &&
      (this.records.length - drop > this.maxEntries || this.bytes > this.maxBytes)
    )
      this.bytes -= this.records[drop++]!.data.length;
    if (drop > 0) this.records.splice(0, drop);
  }

  /** The entries `from`..`to`, all of them, or null when any is not kept. */
  range(from: bigint, to: bigint): LogRecord[] | null {
    const first = this.records[0];
    if (!first || from > to || from < first.index) return null;
    const start = Number(from - first.index);
    const end = Number(to - first.index);
    if (end >= this.records.length) return null;
    return this.records.slice(start, end + 1);
  }
}
