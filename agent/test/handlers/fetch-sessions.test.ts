/**
 * Incremental fetch sessions (KIP-227) over the wire, hand-crafted as a Java consumer sends them: a
 * full fetch opens a session, incremental fetches are answered only the partitions with news, add and
 * forget partitions, wrong epochs and unknown sessions are refused, epoch −1 closes, a full cache
 * answers without a session, a request overtaken by the next one of its session is refused, and a
 * second agent (sharing the store) does not know the first one's sessions. Raw frames against
 * in-process agents.
 */
import assert from "node:assert/strict";
import { ApiKey, ErrorCode } from "../../src/protocol/index.js";
import { buildBatch } from "../records/batch-builder.js";
import { startTestAgent } from "../support/agents.js";
import type { TestAgent } from "../support/agents.js";
import { RawKafkaClient } from "../support/raw-kafka-client.js";

const SLOTS = 2;

type Part = readonly [topic: string, partition: number, offset: bigint];

interface FetchOptions {
  readonly sessionId: number;
  readonly epoch: number;
  readonly parts?: readonly Part[];
  readonly forgotten?: ReadonlyArray<readonly [string, number]>;
  readonly maxWaitMs?: number;
  readonly version?: number;
}

interface Answered {
  readonly errorCode: number;
  readonly sessionId: number;
  /** "topic-partition" of each partition answered, in order. */
  readonly names: string[];
  /** The record bytes answered per "topic-partition" (as latin1 text, to look for values). */
  readonly records: Map<string, string>;
  readonly highWatermarks: Map<string, bigint>;
  readonly elapsedMs: number;
}

async function fetch(client: RawKafkaClient, o: FetchOptions): Promise<Answered> {
  const topics = new Map<string, Array<{ partition: number; fetchOffset: bigint; partitionMaxBytes: number }>>();
  for (const [topic, partition, fetchOffset] of o.parts ?? [])
    topics.set(topic, [...(topics.get(topic) ?? []), { partition, fetchOffset, partitionMaxBytes: 1 << 20 }]);
  const forgotten = new Map<string, number[]>();
  for (const [topic, partition] of o.forgotten ?? [])
    forgotten.set(topic, [...(forgotten.get(topic) ?? []), partition]);
  const started = Date.now();
  const r = await client.request(ApiKey.Fetch, o.version ?? 12, {
    replicaId: -1,
    maxWaitMs: o.maxWaitMs ?? 0,
    minBytes: 1,
    maxBytes: 4 << 20,
    isolationLevel: 0,
    sessionId: o.sessionId,
    sessionEpoch: o.epoch,
    topics: [...topics].map(([topic, partitions]) => ({ topic, partitions })),
    forgottenTopicsData: [...forgotten].map(([topic, partitions]) => ({ topic, partitions })),
    rackId: "",
  });
  const names: string[] = [];
  const records = new Map<string, string>();
  const highWatermarks = new Map<string, bigint>();
  for (const t of r.responses) {
    for (const p of t.partitions) {
      const name = `${t.topic}-${p.partitionIndex}`;
      names.push(name);
      records.set(name, (p.records ?? Buffer.alloc(0)).toString("latin1"));
      highWatermarks.set(name, p.highWatermark);
    }
  }
  return {
    errorCode: r.errorCode,
    sessionId: r.sessionId,
    names,
    records,
    highWatermarks,
    elapsedMs: Date.now() - started,
  };
}

describe("Fetch sessions over the wire", function () {
  this.timeout(60_000);
  const bucketURL = `mem://fetch-sessions-${process.pid}-${Date.now()}`;
  let agent: TestAgent;
  let client: RawKafkaClient;
  /** Produces on its own connection: a long poll on `client` holds the responses queued behind it. */
  let producer: RawKafkaClient;

  before(async () => {
    agent = await startTestAgent({ bucketURL, autoCreateTopics: "false", fetchSessionCacheSlots: String(SLOTS) });
    client = await RawKafkaClient.connect(agent.port);
    producer = await RawKafkaClient.connect(agent.port);
    const created = await client.request(ApiKey.CreateTopics, 4, {
      topics: [
        { name: "s", numPartitions: 3, replicationFactor: 1, assignments: [], configs: [] },
        { name: "u", numPartitions: 1, replicationFactor: 1, assignments: [], configs: [] },
      ],
      timeoutMs: 10_000,
      validateOnly: false,
    });
    for (const t of created.topics) assert.equal(t.errorCode, ErrorCode.NONE);
  });
  after(async () => {
    client?.close();
    producer?.close();
    await agent?.stop();
  });

  const sessions = () => agent.running.context.fetchSessions;

  /** Closes every session left by a test, so that each starts with every slot free. */
  afterEach(async () => {
    for (const id of sessions().sessionIds()) await fetch(client, { sessionId: id, epoch: -1 });
    assert.equal(sessions().size, 0);
  });

  async function produce(topic: string, partition: number, value: string): Promise<bigint> {
    const r = await producer.request(ApiKey.Produce, 7, {
      transactionalId: null,
      acks: -1,
      timeoutMs: 10_000,
      topicData: [{ name: topic, partitionData: [{ index: partition, records: buildBatch([{ value }]) }] }],
    });
    const p = r.responses[0]!.partitionResponses[0]!;
    assert.equal(p.errorCode, ErrorCode.NONE);
    return p.baseOffset;
  }

  it("opens a session with a full fetch and answers incremental fetches only the partitions with news", async () => {
    const at = await produce("s", 0, "first-in-s0");
    const full = await fetch(client, {
      sessionId: 0,
      epoch: 0,
      parts: [
        ["s", 0, at],
        ["s", 1, 0n],
        ["s", 2, 0n],
      ],
    });
    assert.equal(full.errorCode, ErrorCode.NONE);
    assert.notEqual(full.sessionId, 0, "a session id is answered");
    assert.deepEqual(full.names, ["s-0", "s-1", "s-2"]);
    assert.match(full.records.get("s-0")!, /first-in-s0/);
    assert.deepEqual(sessions().sessionIds(), [full.sessionId]);
    assert.equal(sessions().partitions, 3);

    // The consumer moved past the record: only s-0's position is sent. Nothing changed: nothing is
    // answered, after the long poll.
    const quiet = await fetch(client, {
      sessionId: full.sessionId,
      epoch: 1,
      parts: [["s", 0, at + 1n]],
      maxWaitMs: 400,
    });
    assert.equal(quiet.errorCode, ErrorCode.NONE);
    assert.equal(quiet.sessionId, full.sessionId);
    assert.deepEqual(quiet.names, []);
    assert.ok(quiet.elapsedMs >= 300, `long-polled (${quiet.elapsedMs} ms)`);

    // A record in s-2 wakes the next incremental fetch; only s-2 is answered, with it.
    const pending = fetch(client, { sessionId: full.sessionId, epoch: 2, maxWaitMs: 10_000 });
    await new Promise((r) => setTimeout(r, 100));
    await produce("s", 2, "news-in-s2");
    const news = await pending;
    assert.deepEqual(news.names, ["s-2"]);
    assert.match(news.records.get("s-2")!, /news-in-s2/);
    assert.equal(news.highWatermarks.get("s-2"), 1n);
    assert.ok(news.elapsedMs < 5_000, `woken by the record (${news.elapsedMs} ms)`);

    // The metrics count the session and its requests.
    const text = await (await globalThis.fetch(`http://127.0.0.1:${agent.httpPort}/metrics`)).text();
    assert.match(text, /^warp_fetch_sessions 1$/m);
    assert.match(text, /^warp_fetch_session_partitions 3$/m);
    assert.match(text, /^warp_fetch_session_requests_total\{result="created"\} [1-9]/m);
    assert.match(text, /^warp_fetch_session_requests_total\{result="incremental"\} [1-9]/m);
  });

  it("answers a partition whose high watermark moved even with no records for it", async () => {
    const full = await fetch(client, { sessionId: 0, epoch: 0, parts: [["s", 1, 0n]] });
    assert.notEqual(full.sessionId, 0);
    const hw = full.highWatermarks.get("s-1")!;
    // The consumer's position is already at the new end (it skipped ahead): no records to send, but the
    // new high watermark is news.
    await produce("s", 1, "skipped");
    const moved = await fetch(client, { sessionId: full.sessionId, epoch: 1, parts: [["s", 1, hw + 1n]] });
    assert.equal(moved.sessionId, full.sessionId);
    assert.deepEqual(moved.names, ["s-1"]);
    assert.equal(moved.highWatermarks.get("s-1"), hw + 1n);
    assert.equal(moved.records.get("s-1"), "", "no records at the high watermark");
    const again = await fetch(client, { sessionId: full.sessionId, epoch: 2 });
    assert.deepEqual(again.names, [], "the high watermark was answered already");
  });

  it("adds the partitions an incremental fetch names and forgets those in forgottenTopicsData", async () => {
    const s0 = (await fetch(client, { sessionId: 0, epoch: 0, parts: [["s", 0, 0n]] })).highWatermarks;
    const id = sessions().sessionIds()[0]!;
    const added = await fetch(client, {
      sessionId: id,
      epoch: 1,
      parts: [
        ["s", 0, s0.get("s-0")!],
        ["u", 0, 0n],
      ],
    });
    assert.deepEqual(added.names, ["u-0"], "the added partition is answered; s-0 has no news");
    assert.equal(sessions().partitions, 2);

    const forgot = await fetch(client, { sessionId: id, epoch: 2, forgotten: [["s", 0]] });
    assert.deepEqual(forgot.names, []);
    assert.equal(sessions().partitions, 1);
    await produce("s", 0, "not-for-this-session");
    await produce("u", 0, "for-this-session");
    const after = await fetch(client, { sessionId: id, epoch: 3, maxWaitMs: 2_000 });
    assert.deepEqual(after.names, ["u-0"], "s-0 was forgotten");
    assert.match(after.records.get("u-0")!, /for-this-session/);

    // Forgetting the last partition closes the session; the answer is sessionless.
    const emptied = await fetch(client, { sessionId: id, epoch: 4, forgotten: [["u", 0]] });
    assert.equal(emptied.errorCode, ErrorCode.NONE);
    assert.equal(emptied.sessionId, 0);
    assert.equal(sessions().size, 0);
  });

  it("refuses a wrong epoch with INVALID_FETCH_SESSION_EPOCH and keeps the session", async () => {
    const full = await fetch(client, { sessionId: 0, epoch: 0, parts: [["s", 0, 0n]] });
    const wrong = await fetch(client, { sessionId: full.sessionId, epoch: 7, parts: [["u", 0, 0n]] });
    assert.equal(wrong.errorCode, ErrorCode.INVALID_FETCH_SESSION_EPOCH);
    assert.equal(wrong.sessionId, 0);
    assert.deepEqual(wrong.names, []);
    const right = await fetch(client, { sessionId: full.sessionId, epoch: 1 });
    assert.equal(right.errorCode, ErrorCode.NONE);
    assert.equal(right.sessionId, full.sessionId);
    assert.equal(sessions().partitions, 1, "the refused request added nothing");
  });

  it("refuses an unknown session with FETCH_SESSION_ID_NOT_FOUND; epoch −1 closes a session", async () => {
    const unknown = await fetch(client, { sessionId: 424242, epoch: 1, parts: [["s", 0, 0n]], maxWaitMs: 5_000 });
    assert.equal(unknown.errorCode, ErrorCode.FETCH_SESSION_ID_NOT_FOUND);
    assert.equal(unknown.sessionId, 0);
    assert.deepEqual(unknown.names, []);
    assert.ok(unknown.elapsedMs < 2_000, `answered at once (${unknown.elapsedMs} ms)`);

    const full = await fetch(client, { sessionId: 0, epoch: 0, parts: [["s", 0, 0n]] });
    const closing = await fetch(client, { sessionId: full.sessionId, epoch: -1, parts: [["s", 0, 0n]] });
    assert.equal(closing.errorCode, ErrorCode.NONE);
    assert.equal(closing.sessionId, 0);
    assert.deepEqual(closing.names, ["s-0"], "a final fetch is answered in full");
    assert.equal(sessions().size, 0);
    const gone = await fetch(client, { sessionId: full.sessionId, epoch: 1 });
    assert.equal(gone.errorCode, ErrorCode.FETCH_SESSION_ID_NOT_FOUND);
  });

  it("with every slot taken answers a full fetch in full with session id 0", async () => {
    const taken: number[] = [];
    for (let i = 0; i < SLOTS; i++)
      taken.push((await fetch(client, { sessionId: 0, epoch: 0, parts: [["s", 0, 0n]] })).sessionId);
    assert.ok(taken.every((id) => id !== 0));
    const refused = sessions().counts.not_created;
    const full = await fetch(client, {
      sessionId: 0,
      epoch: 0,
      parts: [
        ["s", 0, 0n],
        ["s", 1, 0n],
        ["u", 0, 0n],
      ],
    });
    assert.equal(full.errorCode, ErrorCode.NONE);
    assert.equal(full.sessionId, 0, "no session");
    assert.deepEqual(full.names, ["s-0", "s-1", "u-0"]);
    assert.equal(sessions().counts.not_created, refused + 1);
    assert.deepEqual(new Set(sessions().sessionIds()), new Set(taken), "the sessions held were not evicted");
  });

  it("answers a request overtaken by the next one of its session INVALID_FETCH_SESSION_EPOCH", async () => {
    const full = await fetch(client, { sessionId: 0, epoch: 0, parts: [["s", 1, 0n]] });
    const other = await RawKafkaClient.connect(agent.port);
    try {
      const hw = full.highWatermarks.get("s-1")!;
      // Epoch 1 long-polls at the end of s-1; epoch 2 (sent on another connection meanwhile) is the
      // one the client follows.
      const slow = fetch(client, { sessionId: full.sessionId, epoch: 1, parts: [["s", 1, hw]], maxWaitMs: 1_500 });
      await new Promise((r) => setTimeout(r, 200));
      const fast = await fetch(other, { sessionId: full.sessionId, epoch: 2 });
      assert.equal(fast.errorCode, ErrorCode.NONE);
      const late = await slow;
      assert.equal(late.errorCode, ErrorCode.INVALID_FETCH_SESSION_EPOCH);
      assert.equal(late.sessionId, full.sessionId);
      assert.deepEqual(late.names, []);
      assert.equal((await fetch(other, { sessionId: full.sessionId, epoch: 3 })).errorCode, ErrorCode.NONE);
    } finally {
      other.close();
    }
  });

  it("at Fetch v7, the first version with sessions, as at v12; v4–6 are sessionless", async () => {
    const full = await fetch(client, { sessionId: 0, epoch: 0, parts: [["s", 0, 0n]], version: 7 });
    assert.notEqual(full.sessionId, 0);
    const end = full.highWatermarks.get("s-0")!;
    const incremental = await fetch(client, {
      sessionId: full.sessionId,
      epoch: 1,
      parts: [["s", 0, end]],
      version: 7,
    });
    assert.equal(incremental.errorCode, ErrorCode.NONE);
    assert.deepEqual(incremental.names, []);
    const before = sessions().counts.sessionless;
    // v6 has no session fields (the codec leaves them out): a full answer, no session.
    const v6 = await fetch(client, { sessionId: 0, epoch: 0, parts: [["s", 0, 0n]], version: 6 });
    assert.deepEqual(v6.names, ["s-0"]);
    assert.equal(sessions().counts.sessionless, before + 1);
    assert.equal(sessions().size, 1);
  });

  it("is this agent's own: another agent answers FETCH_SESSION_ID_NOT_FOUND and opens its own session", async () => {
    const full = await fetch(client, { sessionId: 0, epoch: 0, parts: [["s", 0, 0n]] });
    // A second agent on the same store: the partition's leader moved there, or this agent restarted.
    const second = await startTestAgent({ bucketURL, autoCreateTopics: "false" });
    const moved = await RawKafkaClient.connect(second.port);
    try {
      const lost = await fetch(moved, { sessionId: full.sessionId, epoch: 1, parts: [["s", 0, 0n]] });
      assert.equal(lost.errorCode, ErrorCode.FETCH_SESSION_ID_NOT_FOUND);
      // The client starts over with a full fetch (epoch 0, session id 0), as the Java client does.
      const anew = await fetch(moved, { sessionId: 0, epoch: 0, parts: [["s", 0, 0n]] });
      assert.equal(anew.errorCode, ErrorCode.NONE);
      assert.notEqual(anew.sessionId, 0);
      assert.match(anew.records.get("s-0")!, /first-in-s0/);
      assert.deepEqual(second.running.context.fetchSessions.sessionIds(), [anew.sessionId]);
      const end = anew.highWatermarks.get("s-0")!;
      const incremental = await fetch(moved, { sessionId: anew.sessionId, epoch: 1, parts: [["s", 0, end]] });
      assert.equal(incremental.errorCode, ErrorCode.NONE);
      assert.deepEqual(incremental.names, []);
    } finally {
      moved.close();
      await second.stop();
    }
  });
});
