/**
 * Sub-benchmark: what the sequencer's answers cost to encode (the sequencer) and decode (the sender), as
 * JSON with the entries in base64 (what agents before framed answers ask for) and framed
 * (`agent/src/sequencer/reply-frame.ts`), in one process: `npx tsx bench/sequencer-replies.ts`. Each row
 * is a commit answer carrying the sender's missing entries (random bytes of the given sizes) and the
 * fold's results for one file of `batches` partition batches; the median of the rounds, per answer.
 */
import { randomBytes } from "node:crypto";
import { decodeCommitReply, encodeCommitReply, type CommitReply } from "../agent/src/sequencer/wire.js";

const ROUNDS = 200;

interface Shape {
  readonly entries: number;
  readonly entryBytes: number;
  readonly batches: number;
}

const SHAPES: readonly Shape[] = [
  { entries: 4, entryBytes: 2 * 1024, batches: 6 },
  { entries: 16, entryBytes: 16 * 1024, batches: 100 },
  { entries: 16, entryBytes: 64 * 1024, batches: 2000 },
];

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

function measure(
  reply: Extract<CommitReply, { outcome: "applied" }>,
  framed: boolean,
): { encodeMs: number; decodeMs: number; bytes: number } {
  const encodes: number[] = [];
  const decodes: number[] = [];
  let bytes = 0;
  for (let i = 0; i < ROUNDS; i++) {
    const t0 = performance.now();
    const { body, contentType } = encodeCommitReply(reply, framed);
    const t1 = performance.now();
    const buffer = typeof body === "string" ? Buffer.from(body, "utf8") : body;
    const t2 = performance.now();
    const decoded = decodeCommitReply(200, buffer, contentType, 1);
    const t3 = performance.now();
    if (decoded.outcome !== "applied" || decoded.entries?.length !== reply.entries?.length)
      throw new Error("the answer did not round-trip");
    encodes.push(t1 - t0);
    decodes.push(t3 - t2);
    bytes = buffer.length;
  }
  return { encodeMs: median(encodes), decodeMs: median(decodes), bytes };
}

console.log(`sequencer answers, median of ${ROUNDS} rounds each (ms per answer; bytes on the wire)`);
for (const shape of SHAPES) {
  const entries = Array.from({ length: shape.entries }, (_, i) => ({
    index: 1000n + BigInt(i),
    data: randomBytes(shape.entryBytes),
  }));
  const batches = Array.from({ length: shape.batches }, (_, i) => ({
    errorCode: 0,
    baseOffset: 1_000_000 + i,
    logAppendTime: -1,
    logStartOffset: 0,
  }));
  const reply: Extract<CommitReply, { outcome: "applied" }> = {
    outcome: "applied",
    index: entries.at(-1)!.index,
    results: [{ errorCode: 0, batches }],
    entries,
  };
  const json = measure(reply, false);
  const framed = measure(reply, true);
  console.log(
    `  ${shape.entries} entries of ${shape.entryBytes / 1024} KiB, ${shape.batches} batch results: ` +
      `JSON ${json.bytes} B, encode ${json.encodeMs.toFixed(3)} ms, decode ${json.decodeMs.toFixed(3)} ms; ` +
      `framed ${framed.bytes} B, encode ${framed.encodeMs.toFixed(3)} ms, decode ${framed.decodeMs.toFixed(3)} ms ` +
      `(${(json.encodeMs / framed.encodeMs).toFixed(1)}× and ${(json.decodeMs / framed.decodeMs).toFixed(1)}× faster)`,
  );
}
