/**
 * Micro-benchmark of the protocol codec's hot paths: decoding Produce v7 / v9 requests and encoding
 * Fetch v11 / v12 responses. Prints operations per second (and records per second for produce).
 *
 *   npx tsx bench/protocol-codec.ts        (WARP_BENCH_SECONDS per case, default 2)
 */
import {
  ApiKey,
  decodeRequestBody,
  decodeRequestHeader,
  encodeRequest,
  encodeResponse,
} from "../agent/src/protocol/index.js";
import type { ResponseOf } from "../agent/src/protocol/index.js";

const SECONDS = Number(process.env.WARP_BENCH_SECONDS ?? 2);

function measure(name: string, fn: () => void, unitsPerOp = 1, unit = ""): void {
  for (let i = 0; i < 2000; i++) fn(); // warm up
  let ops = 0;
  const start = process.hrtime.bigint();
  const budget = BigInt(Math.round(SECONDS * 1e9));
  let elapsed = 0n;
  while (elapsed < budget) {
    for (let i = 0; i < 200; i++) fn();
    ops += 200;
    elapsed = process.hrtime.bigint() - start;
  }
  const perSec = ops / (Number(elapsed) / 1e9);
  const extra = unit ? `  (${Math.round(perSec * unitsPerOp).toLocaleString("en-US")} ${unit}/s)` : "";
  console.log(`${name.padEnd(52)} ${Math.round(perSec).toLocaleString("en-US").padStart(12)} ops/s${extra}`);
}

// A produce request like a Java/librdkafka producer sends: a few topics, several partitions each,
// one 16 KiB batch per partition (the batch content is opaque to the codec).
function produceFrame(version: number): Buffer {
  const batch = Buffer.alloc(16 * 1024, 1);
  const topicData = Array.from({ length: 2 }, (_, t) => ({
    name: `topic-${t}`,
    partitionData: Array.from({ length: 8 }, (_, p) => ({ index: p, records: batch })),
  }));
  return encodeRequest(
    { apiKey: ApiKey.Produce, apiVersion: version, correlationId: 1, clientId: "producer-1" },
    { transactionalId: null, acks: -1, timeoutMs: 30000, topicData },
  ).subarray(4);
}

function fetchResponse(): ResponseOf<typeof ApiKey.Fetch> {
  const chunk = Buffer.alloc(64 * 1024, 2);
  return {
    throttleTimeMs: 0,
    errorCode: 0,
    sessionId: 0,
    responses: Array.from({ length: 2 }, (_, t) => ({
      topic: `topic-${t}`,
      partitions: Array.from({ length: 8 }, (_, p) => ({
        partitionIndex: p,
        errorCode: 0,
        highWatermark: 1000n,
        lastStableOffset: 1000n,
        logStartOffset: 0n,
        abortedTransactions: null,
        preferredReadReplica: -1,
        records: [chunk, chunk],
      })),
    })),
  };
}

for (const v of [7, 9]) {
  const frame = produceFrame(v);
  measure(
    `decode Produce v${v} (2 topics x 8 partitions)`,
    () => {
      const h = decodeRequestHeader(frame);
      decodeRequestBody(ApiKey.Produce, v, frame, h.bodyOffset);
    },
    16,
    "partition batches",
  );
}
const body = fetchResponse();
for (const v of [11, 12]) {
  measure(`encode Fetch v${v} (2 topics x 8 partitions, 2 chunks each)`, () => {
    encodeResponse(ApiKey.Fetch, v, 1, body);
  });
}
