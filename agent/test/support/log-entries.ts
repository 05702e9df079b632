/**
 * Metadata log entries shaped like the agent's own, for the entry-format tests and
 * bench/log-entry-size.ts: one commitFile per entry as the ingestion batcher writes it (batches grouped
 * per partition, back to back in the file), from a seeded generator so that sizes are reproducible; and
 * the small command parts the metadata tests build states from (a plain batch, a KIP-848 group record).
 */
import { seededRandom } from "../../../e2e/support/fault-proxy.js";
import type { ConsumerGroupRecord } from "../../src/groups/consumer-group-record.js";
import type { BatchMeta, CommitFileCommand, LogEntry } from "../../src/metadata/commands.js";
import { ENTRY_FORMAT } from "../../src/metadata/commands.js";

export interface FileShape {
  /** Topics with data in the file, and partitions of each (one batch per partition). */
  readonly topics: number;
  readonly partitionsPerTopic: number;
  /** Idempotent producers (the Java client's default): producer id, epoch and sequence per batch. */
  readonly idempotent: boolean;
}

/** A 16-character topic name, about the length of names seen in practice. */
export function topicName(i: number): string {
  return `bench-topic-${String(i).padStart(4, "0")}`;
}

/**
 * One entry holding one ingestion file's commitFile: batches of 200 B to 16 KiB with 1 to 100 records,
 * timestamps up to 300 ms before the commit, and (idempotent) one of four producers with sequence
 * numbers of a long-running producer.
 */
export function commitFileEntry(shape: FileShape, seed = 1): LogEntry {
  const random = seededRandom(seed);
  const int = (min: number, max: number) => min + Math.floor(random() * (max - min + 1));
  const time = 1_767_225_600_000 + int(0, 86_400_000);
  const sealedAt = time - int(5, 30);
  const batches: BatchMeta[] = [];
  let pos = 0;
  for (let t = 0; t < shape.topics; t++) {
    for (let partition = 0; partition < shape.partitionsPerTopic; partition++) {
      const len = int(200, 16_384);
      const producer = int(0, 3);
      batches.push({
        topic: topicName(t),
        partition,
        pos,
        len,
        count: int(1, 100),
        maxTimestamp: sealedAt - int(0, 300),
        producerId: shape.idempotent ? 1000 + producer : -1,
        producerEpoch: shape.idempotent ? 0 : -1,
        baseSequence: shape.idempotent ? int(0, 5_000_000) : -1,
      });
      pos += len;
    }
  }
  const command: CommitFileCommand = {
    type: "commitFile",
    key: `ingest/${int(0, 0xffffffff).toString(16).padStart(8, "0")}-${sealedAt.toString(36)}-${int(0, 5000).toString(36)}`,
    size: pos,
    time,
    batches,
  };
  const proposer = Array.from({ length: 8 }, () => int(0, 255).toString(16).padStart(2, "0")).join("");
  return { proposer, seq: int(1, 100_000), time: time + int(0, 3), commands: [command] };
}

/**
 * Runs `check` as an agent of an older release would read the log: one that reads entry formats up to
 * `latest` only (ENTRY_FORMAT.latest set back for the call, then restored).
 */
export function asReaderOfFormatsUpTo(latest: number, check: () => void): void {
  const formats = ENTRY_FORMAT as { latest: number };
  const saved = formats.latest;
  formats.latest = latest;
  try {
    check();
  } finally {
    formats.latest = saved;
  }
}

/** A batch of 3 records at `pos` of 100 bytes, from no idempotent producer unless `extra` says so. */
export function plainBatch(
  topic: string,
  partition: number,
  pos: number,
  maxTimestamp: number,
  extra: Partial<BatchMeta> = {},
): BatchMeta {
  return {
    topic,
    partition,
    pos,
    len: 100,
    count: 3,
    maxTimestamp,
    producerId: -1,
    producerEpoch: -1,
    baseSequence: -1,
    ...extra,
  };
}

/** A KIP-848 group's durable state: one stable member holding partitions 0 and 1 of topic `topicId`. */
export function consumerGroupRecord(groupEpoch: number, topicId: string): ConsumerGroupRecord {
  return {
    groupEpoch,
    assignmentEpoch: groupEpoch,
    subscriptionHash: "abc",
    members: [
      {
        memberId: "m1",
        instanceId: null,
        rackId: null,
        clientId: "c",
        clientHost: "/10.0.0.1",
        rebalanceTimeoutMs: 30_000,
        serverAssignor: null,
        topics: ["t"],
        regex: null,
        state: "STABLE",
        memberEpoch: groupEpoch,
        previousMemberEpoch: groupEpoch - 1,
        assigned: [[topicId, [0, 1]]],
        pendingRevocation: [],
        target: [[topicId, [0, 1]]],
      },
    ],
  };
}
