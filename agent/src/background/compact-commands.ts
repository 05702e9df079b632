/**
 * A compaction pass's `compact` commands: the runs its object holds back to back, each listed with its
 * place in the object, cut into commands that each fit a log entry (`maxCommandBytes`), in the runs'
 * order, the last carrying the ingestion files the object replaces.
 *
 * Built in slices (common/time-slicer.ts) and sized a command at a time. Encoding one command of a whole
 * pass to find it too large, then each half, and so on, held the lease holder's event loop for 130 to
 * 250 ms at a time in the `scale` benchmark (a pass of 44,000 runs at 100,000 partitions, four entries
 * of about 11,000 runs). Each command is filled greedily instead: tried with as many runs as the bytes
 * per run seen so far (a sample's, then the last command's) say fit, and with fewer, in proportion, when
 * it does not fit.
 */
import type { TimeSlicer } from "../../../common/time-slicer.js";
import type { Command, CompactCommand } from "../metadata/commands.js";
import type { ClusterState, Segment } from "../metadata/state.js";

/** A run of the pass's object, as the commands list it. */
export interface ObjectRun {
  readonly topic: string;
  readonly partition: number;
  /** Its segments, oldest first: the first's base offset and the last's last offset bound it. */
  readonly segments: readonly Segment[];
  readonly len: number;
  readonly maxTimestamp: number;
}

/** What sizes commands against a log entry (the metadata log). */
export interface CommandSizer {
  readonly maxCommandBytes: number;
  commandSize(command: Command): number;
}

/** Runs whose encoded size makes the estimate of bytes per run. */
const SAMPLE_RUNS = 256;
/** Commands are tried at this share of an entry: bytes per run are an estimate. */
const FILL = 0.97;

/**
 * The commands for an object holding `runs` back to back, listing `kept` (those of `runs` still to
 * commit, in the same order); `replacedFiles` go with the last command.
 */
export async function compactCommands(
  key: string,
  runs: readonly ObjectRun[],
  kept: readonly ObjectRun[],
  state: ClusterState,
  sizer: CommandSizer,
  replacedFiles: readonly string[],
  slicer: TimeSlicer,
): Promise<CompactCommand[]> {
  slicer.begin();
  const positions = new Map<ObjectRun, number>();
  let size = 0;
  for (const r of runs) {
    positions.set(r, size);
    size += r.len;
  }
  const command = async (part: readonly ObjectRun[], last: boolean): Promise<CompactCommand> => {
    const listed: Array<CompactCommand["runs"][number]> = [];
    for (const r of part) {
      listed.push({
        topic: r.topic,
        topicId: state.topics.get(r.topic)?.topicId ?? "",
        partition: r.partition,
        baseOffset: r.segments[0]!.baseOffset,
        lastOffset: r.segments[r.segments.length - 1]!.lastOffset,
        maxTimestamp: r.maxTimestamp,
        pos: positions.get(r)!,
        len: r.len,
      });
      if (slicer.due()) await slicer.pause();
    }
    return { type: "compact", key, size, runs: listed, replacedFiles: last ? replacedFiles : [] };
  };
  const max = sizer.maxCommandBytes;
  const out: CompactCommand[] = [];
  // Runs a command is tried with: from a sample's bytes per run, then from the last command's.
  let per =
    kept.length <= SAMPLE_RUNS
      ? kept.length
      : Math.floor((max * FILL) / (sizer.commandSize(await command(kept.slice(0, SAMPLE_RUNS), false)) / SAMPLE_RUNS));
  let from = 0;
  do {
    let n = Math.max(1, Math.min(per, kept.length - from));
    for (;;) {
      const c = await command(kept.slice(from, from + n), from + n >= kept.length);
      const bytes = sizer.commandSize(c);
      if (bytes <= max || n === 1) {
        out.push(c);
        per = Math.max(1, Math.floor((max * FILL) / (bytes / n)));
        break;
      }
      // Too large: fewer runs, in proportion (the estimate was off, or the replaced files did not fit).
      n = Math.max(1, Math.min(n - 1, Math.floor((n * max * FILL) / bytes)));
      if (slicer.due()) await slicer.pause();
    }
    from += n;
  } while (from < kept.length);
  slicer.end();
  return out;
}
