/**
 * A snapshot's bytes, in either encoding (docs/metadata-log.md, "Snapshots"): JSON formats 1–4
 * (snapshot-json.ts) and binary formats 5, 6 and 7 (snapshot-binary.ts), told apart by the first bytes
 * (format.ts). Agents write binary once every live agent reads it (entry format level 7,
 * ENTRY_FORMAT.binarySnapshot), JSON before; they read both. A state holding topic numbers (entry level 8)
 * is always written in binary format 6, whatever the live agents read: an older format would drop them,
 * and an agent that folds a level-8 entry naming a number it lost could not read it. A state holding
 * transactions (entry level 10) is written in binary format 7 for the same reason, and one holding index
 * pages (entry level 14) in binary format 9. A snapshot of a format this agent does not read is refused with a
 * MetadataFormatError naming the version found and the versions read.
 */
import { ENTRY_FORMAT } from "./commands.js";
import {
  MetadataFormatError,
  SNAPSHOT_MAGIC,
  leadingBytes,
  newerAgentHint,
  storedFormat,
  versionList,
} from "./format.js";
import { BINARY_SNAPSHOT_FORMATS, binarySnapshotSteps, encodeBinarySnapshot } from "./snapshot-binary.js";
import { runSteps, type Steps } from "../../../common/time-slicer.js";
import type { EncodedSnapshot } from "./snapshot-binary.js";
import { JSON_SNAPSHOT_FORMATS, encodeJsonSnapshot, jsonSnapshotView } from "./snapshot-json.js";
import { holdsTransactions, type SnapshotView } from "./snapshot-view.js";
import { SNAPSHOT_OBJECT_FORMAT, decodeSnapshotObjectRef } from "../store/snapshot-objects.js";

export type { EncodedSnapshot };

/**
 * Snapshot formats this agent reads: JSON 1–4 (and 6, 7 and 9, ClusterState.toSnapshot's form of topic
 * numbers, transactions and index pages), binary 5, 6, 7 and 9.
 */
export const READABLE_SNAPSHOT_FORMATS: readonly number[] = [
  ...new Set([...JSON_SNAPSHOT_FORMATS, ...BINARY_SNAPSHOT_FORMATS]),
].sort((a, b) => a - b);

export type SnapshotEncoding = "json" | "binary";

/** The encoding to write while every agent reading the log reads entry formats up to `readersFormat`. */
export function snapshotEncodingFor(readersFormat: number): SnapshotEncoding {
  return readersFormat >= ENTRY_FORMAT.binarySnapshot ? "binary" : "json";
}

/**
 * Encodes a captured state. Binary is encoded in slices (the event loop is given back every few ms);
 * JSON in one go, as agents before binary snapshots did.
 */
export async function encodeSnapshot(
  view: SnapshotView,
  encoding: SnapshotEncoding,
  /** Binary: the expected size in bytes, or a buffer to encode into (encodeBinarySnapshot's `output`). */
  output?: number | Buffer,
): Promise<EncodedSnapshot> {
  // Topic numbers exist only once every live agent read level 8 (or one older agent came back since,
  // which stops at the first level-8 entry anyway): they go in format 6, never dropped.
  // Transactions likewise exist only once every live agent read level 10: format 7.
  // Index pages (entry level 14): format 9.
  if (encoding === "binary" || view.topicNumbers.length > 0 || holdsTransactions(view) || view.pages > 0)
    return encodeBinarySnapshot(view, undefined, output);
  const started = performance.now();
  const data = encodeJsonSnapshot(view);
  return { data, longestHoldMs: performance.now() - started };
}

/**
 * The view a snapshot holds. Throws MetadataFormatError for a snapshot this agent cannot read
 * (malformed, or of a format version it does not read); `index` is the snapshot's, for the message.
 */
export function decodeSnapshot(data: Buffer, index: bigint | undefined): SnapshotView {
  return runSteps(decodeSnapshotSteps(data, index));
}

/**
 * A reference to a snapshot object reached the decoder: the store that read it has no compaction bucket to
 * follow it into (store/snapshot-objects.ts), because the agent runs with -bucketURL dynamodb:// alone.
 */
function objectNotReachable(data: Buffer, subject: string): MetadataFormatError {
  let where = "an object in the compaction bucket";
  try {
    const ref = decodeSnapshotObjectRef(data);
    if (ref) where = `the object ${ref.key} (${ref.size} bytes) in the compaction bucket`;
  } catch {
    // malformed: the generic wording
  }
  return new MetadataFormatError(
    `${subject} is kept as ${where}, which this agent does not open: give it -ingestionBucketURL and -compactionBucketURL as the agents that wrote it (docs/metadata-log.md section 6)`,
    SNAPSHOT_OBJECT_FORMAT,
  );
}

/** decodeSnapshot step by step: a binary snapshot yields after each partition (JSON is parsed at once). */
export function* decodeSnapshotSteps(data: Buffer, index: bigint | undefined): Steps<SnapshotView> {
  const subject = index === undefined ? "metadata snapshot" : `metadata snapshot at log index ${index}`;
  const reads = `this agent reads snapshot format versions ${versionList(READABLE_SNAPSHOT_FORMATS)}`;
  // A version this agent reads, in the other encoding, is malformed rather than newer.
  const unread = (version: number, encoding: string) =>
    new MetadataFormatError(
      READABLE_SNAPSHOT_FORMATS.includes(version)
        ? `${subject} (${encoding}) has format version ${version}, which is never written in ${encoding}; ${reads} (JSON 1-4, 6, 7 and 9, binary 5-7 and 9)`
        : `${subject} has format version ${version}; ${reads}${newerAgentHint(version, Math.max(...READABLE_SNAPSHOT_FORMATS))}`,
      version,
    );
  const format = storedFormat(data, SNAPSHOT_MAGIC);
  if (format.kind === "binary") {
    if (format.version === SNAPSHOT_OBJECT_FORMAT) throw objectNotReachable(data, subject);
    if (!BINARY_SNAPSHOT_FORMATS.includes(format.version)) throw unread(format.version, "binary");
    return yield* binarySnapshotSteps(data, format.headerBytes, subject, format.version);
  }
  if (format.kind === "unknown")
    throw new MetadataFormatError(
      `${subject} is in no format this agent knows: it starts with ${leadingBytes(data)}; ${reads}`,
    );
  let raw: unknown;
  try {
    raw = JSON.parse(data.toString("utf8"));
  } catch (err) {
    throw new MetadataFormatError(`${subject} (JSON) is malformed: ${(err as Error).message}`);
  }
  const version = (raw as { v?: unknown } | null)?.v;
  if (typeof version === "number" && !JSON_SNAPSHOT_FORMATS.includes(version)) throw unread(version, "JSON");
  if (typeof version !== "number")
    throw new MetadataFormatError(
      `${subject} (JSON) has no format version ("v": ${JSON.stringify(version) ?? "absent"})`,
    );
  return jsonSnapshotView(raw);
}
