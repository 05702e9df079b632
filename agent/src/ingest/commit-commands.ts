/**
 * The commitFile commands of one ingestion file. A file's batches normally fit one command; a single
 * produce request can touch more partitions than one metadata log entry holds (40,000 partitions make a
 * command of about 470 KB, against DynamoDB's 350 KB), so its batches are then split into several
 * commands naming the same file, each within the log's limit. Each command is committed on its own:
 * their batches get their offsets independently, as the partitions of one Kafka produce request do.
 */
import type { BatchMeta, CommitFileCommand } from "../metadata/commands.js";

/**
 * Commands holding `batches` in order, each of at most `maxBytes` as `sizeOf` measures it (the log's
 * encoding). Splits in halves until each part fits: a part of one batch always fits (a command of one
 * batch is far below any entry limit).
 */
export function commitCommands(
  file: Omit<CommitFileCommand, "type" | "batches">,
  batches: readonly BatchMeta[],
  maxBytes: number,
  sizeOf: (command: CommitFileCommand) => number,
): CommitFileCommand[] {
  const command = (part: readonly BatchMeta[]): CommitFileCommand => ({ type: "commitFile", ...file, batches: part });
  const whole = command(batches);
  if (batches.length <= 1 || sizeOf(whole) <= maxBytes) return [whole];
  const half = Math.ceil(batches.length / 2);
  return [
    ...commitCommands(file, batches.slice(0, half), maxBytes, sizeOf),
    ...commitCommands(file, batches.slice(half), maxBytes, sizeOf),
  ];
}
