/**
 * An agent's JSON log lines as the benchmarks read them: the scale scenario (scale-cluster.ts, from the
 * agents' output) and bench/profile-stalls.ts (from a log the scenario wrote with WARP_BENCH_AGENT_LOGS).
 */

/** The fields of an agent's log lines the benchmarks read. */
export interface LoggedLine {
  readonly message?: string;
  readonly timestamp?: string;
  readonly bytes?: number;
  readonly seconds?: number;
  readonly loopDelayP99Ms?: number;
  readonly loopDelayMaxMs?: number;
  readonly loopDelayP99AllSnapshotsMs?: number;
  readonly loopDelaySamplesAllSnapshots?: number;
}

/** The JSON log lines in an agent's output (a line cut by another process's output is skipped). */
export function loggedLines(output: string): LoggedLine[] {
  const out: LoggedLine[] = [];
  for (const l of output.split("\n")) {
    if (!l.startsWith("{")) continue;
    try {
      out.push(JSON.parse(l) as LoggedLine);
    } catch {
      // Not a whole line.
    }
  }
  return out;
}

/** A "metadata snapshot written" line with its span: from the capture (`seconds` before) to its time. */
export interface SnapshotWrite {
  readonly line: LoggedLine;
  /** ms since the epoch */
  readonly fromMs: number;
  readonly toMs: number;
}

/** The snapshots an agent's output says it wrote (lines without a readable time are left out). */
export function snapshotWrites(output: string): SnapshotWrite[] {
  const writes: SnapshotWrite[] = [];
  for (const line of loggedLines(output)) {
    const toMs = Date.parse(line.timestamp ?? "");
    if (line.message === "metadata snapshot written" && Number.isFinite(toMs))
      writes.push({ line, fromMs: toMs - (line.seconds ?? 0) * 1000, toMs });
  }
  return writes;
}
