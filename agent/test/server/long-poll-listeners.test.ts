/**
 * Long polls on a connection that stays open leave nothing behind once they end: a consumer long-polls
 * several times a second on one connection for days, so whatever a finished wait keeps alive grows
 * until the connection closes. Counted through the connection's abort signal and the waiter table
 * (handler level), and through the heap of an agent serving thousands of polls on one TCP connection.
 */
import assert from "node:assert/strict";
import { getEventListeners } from "node:events";
import v8 from "node:v8";
import vm from "node:vm";
import { componentLogger } from "../../../common/logger.js";
import { ObjectCache } from "../../src/fetch/object-cache.js";
import { PartitionReader } from "../../src/fetch/reader.js";
import { FetchSessionCache } from "../../src/fetch/sessions.js";
import "../../src/handlers/index.js";
import { ApiKey, decodeResponse, encodeRequest, ErrorCode } from "../../src/protocol/index.js";
import type { RequestInputOf } from "../../src/protocol/index.js";
import type { AgentContext } from "../../src/server/context.js";
import { lookupHandler } from "../../src/server/handler.js";
import type { RequestContext } from "../../src/server/handler.js";
import { PartitionWaiters } from "../../src/server/waiters.js";
import { MemObjectStore } from "../../src/store/mem.js";
import { startTestAgent } from "../support/agents.js";
import { openFlakyLog } from "../support/flaky-log.js";
import { RawKafkaClient } from "../support/raw-kafka-client.js";
import { Authorizer } from "../../src/security/authorizer.js";

const PARTITIONS = 100;
const FETCH_VERSION = 12;

/** A fetch of every partition at offset 0 of an empty topic: it waits maxWaitMs for data that never comes. */
function emptyPartitionsFetch(topic: string, maxWaitMs: number): RequestInputOf<typeof ApiKey.Fetch> {
  return {
    replicaId: -1,
    maxWaitMs,
    minBytes: 1,
    maxBytes: 1 << 20,
    isolationLevel: 0,
    sessionId: 0,
    sessionEpoch: -1,
    topics: [
      {
        topic,
        partitions: Array.from({ length: PARTITIONS }, (_, partition) => ({
          partition,
          currentLeaderEpoch: -1,
          fetchOffset: 0n,
          logStartOffset: -1n,
          partitionMaxBytes: 1 << 20,
        })),
      },
    ],
    forgottenTopicsData: [],
    rackId: "",
  };
}

function exposeGc(): () => void {
  v8.setFlagsFromString("--expose-gc");
  return vm.runInNewContext("gc") as () => void;
}

function heapAfterGc(gc: () => void): number {
  for (let i = 0; i < 3; i++) gc();
  return process.memoryUsage().heapUsed;
}

describe("long polls on one open connection", function () {
  this.timeout(120_000);

  it("remove their listener from the connection's signal and their waiter entries when they end", async () => {
    const { log } = await openFlakyLog();
    await log.propose([
      { type: "createTopic", name: "t", topicId: "0".repeat(32), partitions: PARTITIONS, configs: {} },
    ]);
    const waiters = new PartitionWaiters();
    const reader = new PartitionReader(new MemObjectStore(), new MemObjectStore(), new ObjectCache(1 << 20));
    const fetchSessions = new FetchSessionCache({ slots: 10 });
    const agent = {
      metadata: log,
      reader,
      waiters,
      fetchSessions,
      log: componentLogger("test"),
      authorizer: Authorizer.off(),
    } as unknown as AgentContext;
    const connection = new AbortController();
    const ctx = {
      agent,
      header: { apiVersion: FETCH_VERSION },
      connection: { clientZone: null },
      closed: connection.signal,
    } as unknown as RequestContext;
    const fetch = lookupHandler(ApiKey.Fetch)!;
    const request = emptyPartitionsFetch("t", 1);

    const concurrent = 50;
    const rounds = 200;
    let mostListeners = 0;
    for (let round = 0; round < rounds; round++) {
      const polls = Array.from({ length: concurrent }, () => fetch.handle(request, ctx));
      mostListeners = Math.max(mostListeners, getEventListeners(connection.signal, "abort").length);
      await Promise.all(polls);
    }
    // 10,000 waits ended on a connection still open: nothing of them is left.
    assert.equal(getEventListeners(connection.signal, "abort").length, 0);
    assert.equal(waiters.waitingPartitions, 0);
    assert.ok(
      mostListeners > 0 && mostListeners <= concurrent,
      `at most one listener per waiting poll (${mostListeners})`,
    );

    // Closing the connection still ends a poll that is waiting.
    const long = fetch.handle(emptyPartitionsFetch("t", 60_000), ctx);
    await new Promise((r) => setTimeout(r, 20));
    assert.equal(getEventListeners(connection.signal, "abort").length, 1);
    const started = Date.now();
    connection.abort();
    const answer = (await long) as { errorCode: number };
    assert.equal(answer.errorCode, ErrorCode.NONE);
    assert.ok(Date.now() - started < 5_000, "the poll ended when the connection closed");
    assert.equal(waiters.waitingPartitions, 0);
    await log.close();
  });

  it("keep the agent's heap flat over thousands of polls on one TCP connection", async () => {
    const gc = exposeGc();
    const agent = await startTestAgent();
    const client = await RawKafkaClient.connect(agent.port);
    try {
      await agent.running.context.metadata.propose([
        { type: "createTopic", name: "polled", topicId: "1".repeat(32), partitions: PARTITIONS, configs: {} },
      ]);
      const frame = (correlationId: number) =>
        encodeRequest(
          { apiKey: ApiKey.Fetch, apiVersion: FETCH_VERSION, correlationId, clientId: "long-poller" },
          emptyPartitionsFetch("polled", 1),
        );
      let correlation = 0;
      // Requests are pipelined (32 in flight); responses come back in request order.
      const poll = async (count: number): Promise<void> => {
        for (let sent = 0; sent < count; sent += 32) {
          const first = correlation + 1;
          const batch = Math.min(32, count - sent);
          for (let i = 0; i < batch; i++) client.socket.write(frame(++correlation));
          for (let i = 0; i < batch; i++) {
            const { correlationId, body } = decodeResponse(ApiKey.Fetch, FETCH_VERSION, await client.readFrame());
            assert.equal(correlationId, first + i);
            assert.equal(body.responses[0]!.partitions.length, PARTITIONS);
          }
        }
      };
      await poll(500); // warm-up: code paths compiled, caches and pools at their steady size
      const before = heapAfterGc(gc);
      await poll(4_000);
      const grown = heapAfterGc(gc) - before;
      assert.ok(grown < 8 * 1024 * 1024, `heap grew ${(grown / 1024 / 1024).toFixed(1)} MiB over 4,000 polls`);
    } finally {
      client.close();
      await agent.stop();
    }
  });
});
