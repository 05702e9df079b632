/**
 * A consumer at the tail of every partition of one topic, as far as its Fetch requests go: with a
 * session it fetches as Kafka's FetchSessionHandler does (a full fetch, then incremental fetches naming
 * only the partitions whose position moved since the session last saw them; a full fetch again after
 * an error or when no session was given); without, every request is sessionless (epoch −1) and names
 * every partition, as librdkafka and kafkajs do.
 */
import { nextEpoch } from "../../agent/src/fetch/sessions.js";
import { ErrorCode, errorCodeName } from "../../agent/src/protocol/index.js";
import type { ApiKey, DecodedResponseOf, RequestInputOf } from "../../agent/src/protocol/index.js";
import { iterateBatches } from "../../agent/src/records/record-batch.js";

type FetchRequest = RequestInputOf<typeof ApiKey.Fetch>;
type FetchResponse = DecodedResponseOf<typeof ApiKey.Fetch>;

const MiB = 1024 * 1024;

export class TailConsumer {
  private readonly position: bigint[];
  /** The position the session holds for each partition (what was last sent). */
  private readonly sent: bigint[];
  private sessionId = 0;
  private epoch: number;
  /** Whether the last request built was a full (or sessionless) fetch. */
  lastWasFull = true;

  /** Starts at `from` (each partition's position, e.g. its end), fetching with `maxWaitMs`. */
  constructor(
    private readonly topic: string,
    from: readonly bigint[],
    private readonly useSession: boolean,
    private readonly maxWaitMs: number,
  ) {
    this.position = [...from];
    this.sent = new Array<bigint>(from.length).fill(-1n);
    this.epoch = useSession ? 0 : -1;
  }

  /** The next Fetch request (v12 fields, Java's default sizes). */
  request(): FetchRequest {
    const full = this.epoch <= 0;
    this.lastWasFull = full;
    const partitions = [];
    for (let p = 0; p < this.position.length; p++) {
      if (!full && this.sent[p] === this.position[p]) continue;
      partitions.push({ partition: p, fetchOffset: this.position[p]!, partitionMaxBytes: MiB });
      this.sent[p] = this.position[p]!;
    }
    return {
      replicaId: -1,
      maxWaitMs: this.maxWaitMs,
      minBytes: 1,
      maxBytes: 50 * MiB,
      isolationLevel: 0,
      sessionId: this.sessionId,
      sessionEpoch: this.epoch,
      topics: partitions.length > 0 ? [{ topic: this.topic, partitions }] : [],
      forgottenTopicsData: [],
      rackId: "",
    };
  }

  /** Takes the answer to the last request: moves positions past the records; returns their bytes. */
  handle(r: FetchResponse): number {
    if (r.errorCode !== ErrorCode.NONE) throw new Error(`fetch failed: ${errorCodeName(r.errorCode)}`);
    let recordBytes = 0;
    for (const t of r.responses) {
      for (const p of t.partitions) {
        if (p.errorCode !== ErrorCode.NONE)
          throw new Error(`fetch of partition ${p.partitionIndex} failed: ${errorCodeName(p.errorCode)}`);
        if (!p.records || p.records.length === 0) continue;
        recordBytes += p.records.length;
        for (const b of iterateBatches(p.records))
          this.position[p.partitionIndex] = BigInt(b.baseOffset + b.header.lastOffsetDelta + 1);
      }
    }
    if (this.useSession) {
      // No session given: full fetches from now on, as the Java client does.
      this.sessionId = r.sessionId;
      this.epoch = r.sessionId === 0 ? 0 : this.lastWasFull ? 1 : nextEpoch(this.epoch);
    }
    return recordBytes;
  }
}
