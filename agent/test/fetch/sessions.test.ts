/**
 * The fetch session cache on its own (no sockets, a test clock): how each epoch is handled, which
 * partitions an incremental answer lists, adding and forgetting partitions, overtaken requests, epoch
 * wrap-around, and eviction (stale sessions, smaller sessions not recently created, a full cache).
 */
import assert from "node:assert/strict";
import {
  FetchSessionCache,
  type FetchContext,
  type FetchPartitionResult,
  type FetchSessionRequest,
  nextEpoch,
} from "../../src/fetch/sessions.js";
import { ErrorCode } from "../../src/protocol/index.js";

interface Part {
  readonly topic: string;
  readonly partition: number;
  readonly offset?: bigint;
}

function request(
  sessionId: number,
  sessionEpoch: number,
  parts: readonly Part[],
  forgotten: readonly Part[] = [],
): FetchSessionRequest {
  const group = (list: readonly Part[]) => {
    const topics = new Map<string, Part[]>();
    for (const p of list) topics.set(p.topic, [...(topics.get(p.topic) ?? []), p]);
    return [...topics];
  };
  return {
    sessionId,
    sessionEpoch,
    topics: group(parts).map(([topic, ps]) => ({
      topic,
      partitions: ps.map((p) => ({ partition: p.partition, fetchOffset: p.offset ?? 0n, partitionMaxBytes: 1000 })),
    })),
    forgottenTopicsData: group(forgotten).map(([topic, ps]) => ({ topic, partitions: ps.map((p) => p.partition) })),
  };
}

/** What the partition would be answered: high watermark 10, log start 0, no records, unless overridden. */
function result(
  p: { topic: string; partition: number },
  over: Partial<Omit<FetchPartitionResult, "topic" | "partitionIndex">> = {},
): FetchPartitionResult {
  return {
    topic: p.topic,
    partitionIndex: p.partition,
    errorCode: ErrorCode.NONE,
    highWatermark: 10n,
    lastStableOffset: 10n,
    logStartOffset: 0n,
    recordBytes: 0,
    ...over,
  };
}

type Overrides = Record<string, Partial<Omit<FetchPartitionResult, "topic" | "partitionIndex">>>;

/** Completes a context with a result for each of its partitions (`over` keyed "topic-partition"). */
function complete(ctx: FetchContext, over: Overrides = {}) {
  const answer = ctx.complete(ctx.partitions.map((p) => result(p, over[`${p.topic}-${p.partition}`])));
  return { ...answer, names: answer.partitions.map((r) => `${r.topic}-${r.partitionIndex}`) };
}

const names = (ctx: FetchContext): string[] => ctx.partitions.map((p) => `${p.topic}-${p.partition}`);

const A0 = { topic: "a", partition: 0 };
const A1 = { topic: "a", partition: 1 };
const B0 = { topic: "b", partition: 0 };

describe("fetch session cache", () => {
  let now = 1_000_000;
  const clock = () => now;
  beforeEach(() => (now = 1_000_000));

  /** A session holding `parts`, created by a full fetch; returns its id (next epoch 1). */
  function createSession(cache: FetchSessionCache, parts: readonly Part[]): number {
    const answer = complete(cache.open(request(0, 0, parts)));
    assert.notEqual(answer.sessionId, 0, "a session was created");
    return answer.sessionId;
  }

  describe("epochs", () => {
    it("epoch −1 (sessionless) answers every partition with session id 0 and keeps nothing", () => {
      const cache = new FetchSessionCache({ slots: 10, now: clock });
      const ctx = cache.open(request(0, -1, [A0, A1]));
      assert.equal(ctx.kind, "sessionless");
      const answer = complete(ctx);
      assert.deepEqual(answer.names, ["a-0", "a-1"]);
      assert.equal(answer.sessionId, 0);
      assert.equal(answer.errorCode, ErrorCode.NONE);
      assert.equal(cache.size, 0);
      assert.equal(cache.counts.sessionless, 1);
    });

    it("epoch 0 (full) answers every partition and creates a session holding them", () => {
      const cache = new FetchSessionCache({ slots: 10, now: clock });
      const answer = complete(cache.open(request(0, 0, [A0, A1, B0])));
      assert.deepEqual(answer.names, ["a-0", "a-1", "b-0"]);
      assert.ok(answer.sessionId > 0);
      assert.deepEqual(cache.sessionIds(), [answer.sessionId]);
      assert.equal(cache.partitions, 3);
      assert.equal(cache.counts.created, 1);
      // The next request of the session carries epoch 1 and reads every partition it holds.
      assert.deepEqual(names(cache.open(request(answer.sessionId, 1, []))), ["a-0", "a-1", "b-0"]);
    });

    it("a partition named twice is held once, with the last position named", () => {
      const cache = new FetchSessionCache({ slots: 10, now: clock });
      const ctx = cache.open(request(0, 0, [{ ...A0, offset: 3n }, B0, { ...A0, offset: 7n }]));
      assert.deepEqual(
        ctx.partitions.map((p) => [p.topic, p.partition, p.fetchOffset]),
        [
          ["a", 0, 7],
          ["b", 0, 0],
        ],
      );
    });

    it("a full fetch naming a session closes it (epoch 0 opens another, epoch −1 none)", () => {
      const cache = new FetchSessionCache({ slots: 10, now: clock });
      const first = createSession(cache, [A0]);
      const second = complete(cache.open(request(first, 0, [A0]))).sessionId;
      assert.notEqual(second, first);
      assert.deepEqual(cache.sessionIds(), [second]);
      complete(cache.open(request(second, -1, [A0])));
      assert.equal(cache.size, 0);
      assert.equal(cache.partitions, 0);
    });

    it("an unknown session id answers FETCH_SESSION_ID_NOT_FOUND and reads nothing", () => {
      const cache = new FetchSessionCache({ slots: 10, now: clock });
      createSession(cache, [A0]);
      const ctx = cache.open(request(12345, 1, [A0]));
      assert.equal(ctx.kind, "error");
      assert.deepEqual(ctx.partitions, []);
      const answer = complete(ctx);
      assert.equal(answer.errorCode, ErrorCode.FETCH_SESSION_ID_NOT_FOUND);
      assert.equal(answer.sessionId, 0);
      assert.deepEqual(answer.partitions, []);
      // Session id 0 with an incremental epoch names no session either.
      assert.equal(complete(cache.open(request(0, 1, [A0]))).errorCode, ErrorCode.FETCH_SESSION_ID_NOT_FOUND);
      assert.equal(cache.counts.id_not_found, 2);
    });

    it("a wrong epoch answers INVALID_FETCH_SESSION_EPOCH and leaves the session as it was", () => {
      const cache = new FetchSessionCache({ slots: 10, now: clock });
      const id = createSession(cache, [A0]);
      for (const wrong of [2, 5, -2]) {
        const answer = complete(cache.open(request(id, wrong, [B0])));
        assert.equal(answer.errorCode, ErrorCode.INVALID_FETCH_SESSION_EPOCH, `epoch ${wrong}`);
        assert.deepEqual(answer.partitions, []);
      }
      assert.equal(cache.counts.invalid_epoch, 3);
      // The right epoch still works, and b-0 of the refused requests was not added.
      assert.deepEqual(names(cache.open(request(id, 1, []))), ["a-0"]);
      // Epochs move on by one per request.
      assert.equal(complete(cache.open(request(id, 1, []))).errorCode, ErrorCode.INVALID_FETCH_SESSION_EPOCH);
      assert.equal(complete(cache.open(request(id, 2, []))).errorCode, ErrorCode.NONE);
    });

    it("a request overtaken by the next one of its session is answered INVALID_FETCH_SESSION_EPOCH", () => {
      const cache = new FetchSessionCache({ slots: 10, now: clock });
      const id = createSession(cache, [A0]);
      const slow = cache.open(request(id, 1, []));
      const fast = cache.open(request(id, 2, []));
      assert.equal(complete(fast, { "a-0": { recordBytes: 5 } }).errorCode, ErrorCode.NONE);
      const late = complete(slow, { "a-0": { recordBytes: 5 } });
      assert.equal(late.errorCode, ErrorCode.INVALID_FETCH_SESSION_EPOCH);
      assert.equal(late.sessionId, id);
      assert.deepEqual(late.partitions, []);
    });

    it("epochs wrap from int32 max to 1; negative epochs stay final", () => {
      assert.equal(nextEpoch(0), 1);
      assert.equal(nextEpoch(41), 42);
      assert.equal(nextEpoch(2_147_483_647), 1);
      assert.equal(nextEpoch(-1), -1);
    });
  });

  describe("what an incremental answer lists", () => {
    it("only partitions with records, a changed high watermark, log start or last stable offset, or an error", () => {
      const cache = new FetchSessionCache({ slots: 10, now: clock });
      const parts = [0, 1, 2, 3, 4, 5].map((partition) => ({ topic: "t", partition }));
      const id = createSession(cache, parts);
      let epoch = 1;
      const next = (over: Overrides = {}) => complete(cache.open(request(id, epoch++, [])), over);

      assert.deepEqual(next().names, [], "nothing changed: nothing listed");
      assert.deepEqual(
        next({
          "t-1": { recordBytes: 100 },
          "t-2": { highWatermark: 11n, lastStableOffset: 11n },
          "t-3": { logStartOffset: 4n },
          "t-4": { lastStableOffset: 9n },
          "t-5": { errorCode: ErrorCode.KAFKA_STORAGE_ERROR },
        }).names,
        ["t-1", "t-2", "t-3", "t-4", "t-5"],
      );
      // What was answered is remembered; the errored partition is answered once more when it clears.
      const same: Overrides = {
        "t-2": { highWatermark: 11n, lastStableOffset: 11n },
        "t-3": { logStartOffset: 4n },
        "t-4": { lastStableOffset: 9n },
      };
      assert.deepEqual(next(same).names, ["t-5"]);
      assert.deepEqual(next(same).names, []);
    });

    it("reads the partitions that returned records last next time, so that none starves under maxBytes", () => {
      const cache = new FetchSessionCache({ slots: 10, now: clock });
      const id = createSession(cache, [A0, A1, B0]);
      const first = cache.open(request(id, 1, []));
      assert.deepEqual(names(first), ["a-0", "a-1", "b-0"]);
      assert.deepEqual(complete(first, { "a-0": { recordBytes: 9 }, "a-1": { recordBytes: 9 } }).names, ["a-0", "a-1"]);
      assert.deepEqual(names(cache.open(request(id, 2, []))), ["b-0", "a-0", "a-1"]);
    });

    it("answers a changed partition once, and an errored one until the error is gone and once after", () => {
      const cache = new FetchSessionCache({ slots: 10, now: clock });
      const id = createSession(cache, [A0, A1]);
      let epoch = 1;
      const next = (over: Overrides = {}) => complete(cache.open(request(id, epoch++, [])), over).names;
      const grown = { highWatermark: 12n, lastStableOffset: 12n };

      assert.deepEqual(next({ "a-0": grown }), ["a-0"]);
      assert.deepEqual(next({ "a-0": grown }), [], "the new high watermark was answered already");
      const failing = { ...grown, errorCode: ErrorCode.KAFKA_STORAGE_ERROR };
      assert.deepEqual(next({ "a-0": failing }), ["a-0"]);
      assert.deepEqual(next({ "a-0": failing }), ["a-0"], "errors are answered every time");
      assert.deepEqual(next({ "a-0": grown }), ["a-0"], "answered once the error is gone, same high watermark");
      assert.deepEqual(next({ "a-0": grown }), []);
    });

    it("a partition answered with an error by the full fetch is answered again once it clears", () => {
      const cache = new FetchSessionCache({ slots: 10, now: clock });
      const answer = complete(cache.open(request(0, 0, [A0, A1])), {
        "a-1": { errorCode: ErrorCode.OFFSET_NOT_AVAILABLE },
      });
      assert.deepEqual(complete(cache.open(request(answer.sessionId, 1, []))).names, ["a-1"]);
    });

    it("adds the partitions an incremental request names and updates the positions of those it holds", () => {
      const cache = new FetchSessionCache({ slots: 10, now: clock });
      const id = createSession(cache, [A0]);
      const ctx = cache.open(request(id, 1, [{ ...A0, offset: 40n }, B0]));
      assert.deepEqual(
        ctx.partitions.map((p) => [p.topic, p.partition, p.fetchOffset]),
        [
          ["a", 0, 40],
          ["b", 0, 0],
        ],
      );
      // The added partition has never been answered: it is listed.
      assert.deepEqual(complete(ctx).names, ["b-0"]);
      assert.equal(cache.partitions, 2);
      // The position stays as last named.
      assert.equal(cache.open(request(id, 2, [])).partitions[0]!.fetchOffset, 40);
    });

    it("forgets the partitions of forgottenTopicsData; forgetting the last one closes the session", () => {
      const cache = new FetchSessionCache({ slots: 10, now: clock });
      const id = createSession(cache, [A0, A1, B0]);
      const ctx = cache.open(request(id, 1, [], [A1, { topic: "never", partition: 9 }]));
      assert.deepEqual(names(ctx), ["a-0", "b-0"]);
      complete(ctx, { "a-0": { recordBytes: 1 }, "b-0": { recordBytes: 1 } });
      assert.equal(cache.partitions, 2);

      const last = cache.open(request(id, 2, [], [A0, B0]));
      assert.equal(last.kind, "sessionless");
      const answer = complete(last);
      assert.equal(answer.sessionId, 0, "answered as sessionless");
      assert.deepEqual(answer.partitions, []);
      assert.equal(cache.size, 0);
      assert.equal(cache.partitions, 0);
      assert.equal(complete(cache.open(request(id, 3, []))).errorCode, ErrorCode.FETCH_SESSION_ID_NOT_FOUND);
    });
  });

  describe("eviction", () => {
    const EVICTION_MS = 1000;

    it("with every slot taken and nothing evictable, a full fetch is answered without a session", () => {
      const cache = new FetchSessionCache({ slots: 2, evictionMs: EVICTION_MS, now: clock });
      createSession(cache, [A0]);
      createSession(cache, [A0]);
      const answer = complete(cache.open(request(0, 0, [A0, A1, B0])));
      assert.equal(answer.sessionId, 0);
      assert.deepEqual(answer.names, ["a-0", "a-1", "b-0"]);
      assert.equal(cache.size, 2);
      assert.equal(cache.counts.not_created, 1);
    });

    it("0 slots keep no session", () => {
      const cache = new FetchSessionCache({ slots: 0, now: clock });
      assert.equal(complete(cache.open(request(0, 0, [A0]))).sessionId, 0);
      assert.equal(cache.size, 0);
    });

    it("a session unused for the eviction time gives way to any new one, least recently used first", () => {
      const cache = new FetchSessionCache({ slots: 2, evictionMs: EVICTION_MS, now: clock });
      const big = createSession(cache, [A0, A1, B0]);
      now += 10;
      const small = createSession(cache, [A0]);
      now += 500;
      complete(cache.open(request(big, 1, []))); // big used again: small is now the least recently used
      now += EVICTION_MS - 499; // small unused for EVICTION_MS + 1, big for EVICTION_MS - 499
      const newer = createSession(cache, [B0]);
      assert.deepEqual(cache.sessionIds(), [big, newer]);
      assert.equal(cache.counts.evicted, 1);
      assert.equal(cache.partitions, 4);
      assert.equal(complete(cache.open(request(small, 1, []))).errorCode, ErrorCode.FETCH_SESSION_ID_NOT_FOUND);
    });

    it("a larger new session evicts the smallest session not recently created, never an equal or smaller one", () => {
      const cache = new FetchSessionCache({ slots: 2, evictionMs: EVICTION_MS, now: clock });
      const two = createSession(cache, [A0, A1]);
      const three = createSession(cache, [A0, A1, B0]);
      // Used past the eviction time after creation (so evictable), but never unused that long (so not stale).
      for (let epoch = 1; epoch <= 3; epoch++) {
        now += 600;
        complete(cache.open(request(two, epoch, [])));
        complete(cache.open(request(three, epoch, [])));
      }
      assert.equal(complete(cache.open(request(0, 0, [A0, A1]))).sessionId, 0, "equal size: no eviction");
      assert.equal(complete(cache.open(request(0, 0, [A0]))).sessionId, 0, "smaller: no eviction");
      const four = complete(cache.open(request(0, 0, [A0, A1, B0, { topic: "c", partition: 0 }]))).sessionId;
      assert.notEqual(four, 0);
      assert.deepEqual(new Set(cache.sessionIds()), new Set([three, four]), "the 2-partition session went");
      assert.equal(cache.counts.evicted, 1);
    });

    it("a session created within the eviction time is not evicted for a larger one", () => {
      const cache = new FetchSessionCache({ slots: 1, evictionMs: EVICTION_MS, now: clock });
      const one = createSession(cache, [A0]);
      now += 600;
      complete(cache.open(request(one, 1, [])));
      assert.equal(complete(cache.open(request(0, 0, [A0, A1, B0]))).sessionId, 0);
      assert.deepEqual(cache.sessionIds(), [one]);
    });

    it("refuses a slot count that is not a whole number ≥ 0", () => {
      assert.throws(() => new FetchSessionCache({ slots: -1 }), /slots/);
      assert.throws(() => new FetchSessionCache({ slots: 1.5 }), /slots/);
    });
  });
});
