/**
 * Decoder fuzzing: random bytes and mutated valid frames (bit flips, truncation, bytes inserted,
 * length-looking fields set to huge or negative values) for every API and version, in both
 * directions. Only ProtocolError may escape; every case must finish (the loop is bounded and each
 * decode is linear in the frame), and memory must stay bounded (lengths are checked against the
 * remaining bytes before allocation).
 *
 *   WARP_FUZZ_CASES   number of cases (default 20000; e.g. 1000000 for a long run)
 *   WARP_FUZZ_SEED    seed (default: random; printed so a failure can be replayed)
 */
import assert from "node:assert/strict";
import {
  MESSAGES,
  ProtocolError,
  decodeRequest,
  decodeResponse,
  encodeRequest,
  encodeResponse,
} from "../../src/protocol/index.js";
import type { ApiKeyValue } from "../../src/protocol/index.js";
import { Rng, sampleBody, versionsOf } from "./samples.js";

const CASES = Number(process.env.WARP_FUZZ_CASES ?? 20_000);
const SEED = Number(process.env.WARP_FUZZ_SEED ?? Math.floor(Math.random() * 2 ** 31));
/** Generous bound on heap growth over the whole run; a decoder that allocates by a forged length blows far past it. */
const HEAP_BOUND_BYTES = 1024 * 1024 * 1024;

interface Target {
  key: ApiKeyValue;
  version: number;
  response: boolean;
  valid: Buffer[];
}

function buildTargets(rng: Rng): Target[] {
  const targets: Target[] = [];
  for (const key of Object.keys(MESSAGES).map(Number) as ApiKeyValue[]) {
    const { request, response } = MESSAGES[key];
    for (const version of versionsOf(request)) {
      const reqFrames: Buffer[] = [];
      const resFrames: Buffer[] = [];
      for (let i = 0; i < 4; i++) {
        const frame = encodeRequest(
          { apiKey: key, apiVersion: version, correlationId: i, clientId: "fuzz" },
          sampleBody(request, version, rng) as never,
        );
        reqFrames.push(frame.subarray(4));
        resFrames.push(
          Buffer.concat(encodeResponse(key, version, i, sampleBody(response, version, rng) as never)).subarray(4),
        );
      }
      targets.push(
        { key, version, response: false, valid: reqFrames },
        { key, version, response: true, valid: resFrames },
      );
    }
  }
  return targets;
}

const SPECIAL_INT32 = ["7fffffff", "ffffffff", "fffffffe", "80000000", "00ffffff", "00000000"];
const SPECIAL_INT16 = ["7fff", "ffff", "fffe", "8000"];
const SPECIAL_VARINT = ["ffffffff0f", "ffffffffff", "80", "00", "7f"];

function mutate(frame: Buffer, rng: Rng): Buffer {
  const b = Buffer.from(frame);
  const kind = rng.int(6);
  if (b.length === 0 || kind === 0) return rng.bytes(rng.int(64));
  const at = rng.int(b.length);
  switch (kind) {
    case 1: {
      // bit flips
      const flips = 1 + rng.int(4);
      for (let i = 0; i < flips; i++) {
        const p = rng.int(b.length);
        b[p] = b[p]! ^ (1 << rng.int(8));
      }
      return b;
    }
    case 2:
      return b.subarray(0, at); // truncation
    case 3: {
      // a length-looking field overwritten with a huge or negative value
      const pick = rng.int(3);
      const special = Buffer.from(
        pick === 0
          ? SPECIAL_INT32[rng.int(SPECIAL_INT32.length)]!
          : pick === 1
            ? SPECIAL_INT16[rng.int(SPECIAL_INT16.length)]!
            : SPECIAL_VARINT[rng.int(SPECIAL_VARINT.length)]!,
        "hex",
      );
      special.copy(b, at, 0, Math.min(special.length, b.length - at));
      return b;
    }
    case 4:
      return Buffer.concat([b.subarray(0, at), rng.bytes(1 + rng.int(8)), b.subarray(at)]); // insertion
    default:
      return Buffer.concat([b.subarray(0, at), b.subarray(Math.min(b.length, at + 1 + rng.int(8)))]); // deletion
  }
}

describe("protocol decoder fuzz", function () {
  this.timeout(0);

  it(`only ProtocolError escapes, for ${CASES} random and mutated frames`, () => {
    console.log(`      fuzz seed=${SEED} cases=${CASES} (replay with WARP_FUZZ_SEED=${SEED} WARP_FUZZ_CASES=${CASES})`);
    const rng = new Rng(SEED);
    const targets = buildTargets(rng);
    const heapBefore = process.memoryUsage().heapUsed;
    let rejected = 0;
    let accepted = 0;
    for (let i = 0; i < CASES; i++) {
      const t = targets[rng.int(targets.length)]!;
      const input = mutate(t.valid[rng.int(t.valid.length)]!, rng);
      try {
        if (t.response) decodeResponse(t.key, t.version, input);
        else decodeRequest(input);
        accepted++;
      } catch (err) {
        if (!(err instanceof ProtocolError)) {
          assert.fail(
            `case ${i} (seed ${SEED}) ${t.response ? "response" : "request"} key ${t.key} v${t.version} input ${input.toString("hex")} threw ${String(err)}\n${err instanceof Error ? err.stack : ""}`,
          );
        }
        rejected++;
      }
    }
    const growth = process.memoryUsage().heapUsed - heapBefore;
    console.log(`      rejected=${rejected} accepted=${accepted} heap growth=${Math.round(growth / 1024 / 1024)} MiB`);
    assert.equal(rejected + accepted, CASES);
    assert.ok(rejected > 0, "mutations produce rejected frames");
    assert.ok(growth < HEAP_BOUND_BYTES, `heap grew by ${growth} bytes`);
  });
});
