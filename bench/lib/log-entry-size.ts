/**
 * Bytes a metadata log entry spends per partition batch, as JSON (format 1), binary naming topics
 * (format 3) and binary naming them by topic number (format 8, every topic of the file numbered): one
 * ingestion file's commitFile per entry, of the shapes below, averaged over 20 generated files
 * (agent/test/support/log-entries.ts: seeded, so the figures repeat exactly).
 */
import type { LogEntry } from "../../agent/src/metadata/commands.js";
import { encodeEntry } from "../../agent/src/metadata/entry-codec.js";
import type { TopicNumbering } from "../../agent/src/metadata/topic-numbers.js";
import { commitFileEntry, type FileShape } from "../../agent/test/support/log-entries.js";

export interface LogEntrySizeRow {
  readonly partitionsPerFile: number;
  readonly topics: number;
  readonly idempotent: boolean;
  /** Average bytes of one entry, and per partition batch, in each format. */
  readonly jsonBytes: number;
  readonly jsonPerBatch: number;
  readonly binaryBytes: number;
  readonly binaryPerBatch: number;
  /** Format 8, every topic numbered (absent in results from before topic numbers). */
  readonly numberedBytes?: number;
  readonly numberedPerBatch?: number;
}

/** The topics of the entry's file numbered 0, 1, 2, ... in the order the file names them, as the fold would. */
function numberingOf(entry: LogEntry): TopicNumbering {
  const numbers = new Map<string, number>();
  for (const c of entry.commands)
    if (c.type === "commitFile")
      for (const b of c.batches) if (!numbers.has(b.topic)) numbers.set(b.topic, numbers.size);
  return { numberOf: (name) => numbers.get(name), topicOf: () => undefined };
}

/** Files of 6 and of 1,000 partitions, from one topic or from many. */
export const SHAPES: readonly Omit<FileShape, "idempotent">[] = [
  { topics: 1, partitionsPerTopic: 6 },
  { topics: 6, partitionsPerTopic: 1 },
  { topics: 1, partitionsPerTopic: 1000 },
  { topics: 100, partitionsPerTopic: 10 },
  { topics: 1000, partitionsPerTopic: 1 },
];

const FILES = 20;

export function measureLogEntrySizes(): LogEntrySizeRow[] {
  return SHAPES.flatMap((shape) =>
    [false, true].map((idempotent) => {
      let json = 0;
      let binary = 0;
      let numbered = 0;
      for (let seed = 1; seed <= FILES; seed++) {
        const entry = commitFileEntry({ ...shape, idempotent }, seed);
        json += encodeEntry(entry, "json").length;
        binary += encodeEntry(entry, "binary").length;
        numbered += encodeEntry(entry, "binary", numberingOf(entry)).length;
      }
      const batches = shape.topics * shape.partitionsPerTopic;
      return {
        partitionsPerFile: batches,
        topics: shape.topics,
        idempotent,
        jsonBytes: json / FILES,
        jsonPerBatch: json / FILES / batches,
        binaryBytes: binary / FILES,
        binaryPerBatch: binary / FILES / batches,
        numberedBytes: numbered / FILES,
        numberedPerBatch: numbered / FILES / batches,
      };
    }),
  );
}

export function logEntrySizeTable(rows: readonly LogEntrySizeRow[]): string {
  const n = (v: number, digits = 0) =>
    v.toLocaleString("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits });
  return [
    "| partitions per file | topics | producers | format 1 (JSON) bytes per entry | per batch | format 3 (binary) bytes per entry | per batch | format 8 (topic numbers) bytes per entry | per batch |",
    "|---|---|---|---|---|---|---|---|---|",
    ...rows.map(
      (r) =>
        `| ${n(r.partitionsPerFile)} | ${n(r.topics)} | ${r.idempotent ? "idempotent" : "plain"} | ${n(r.jsonBytes)} | ` +
        `${n(r.jsonPerBatch, 1)} | ${n(r.binaryBytes)} | ${n(r.binaryPerBatch, 1)} | ` +
        (r.numberedBytes === undefined || r.numberedPerBatch === undefined
          ? "– | – |"
          : `${n(r.numberedBytes)} | **${n(r.numberedPerBatch, 1)}** |`),
    ),
  ].join("\n");
}
