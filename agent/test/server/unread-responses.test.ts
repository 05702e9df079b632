/**
 * Regression: a client that sends requests but never reads the responses used to make the agent queue
 * every response in that socket's write buffer without bound (the in-flight limit counted only
 * requests not yet answered). Now the bytes queued in the socket count against the connection's
 * budget: the agent stops reading that client, whose requests back up in its own socket, while
 * other connections are served; once the client reads, every request is answered in order.
 */
import assert from "node:assert/strict";
import { once } from "node:events";
import { readFileSync } from "node:fs";
import net from "node:net";
import { eventually } from "../../../e2e/support/eventually.js";
import * as metrics from "../../src/metrics/metrics.js";
import { ApiKey, encodeRequest } from "../../src/protocol/index.js";
import type { RequestInputOf } from "../../src/protocol/index.js";
import { buildBatch } from "../records/batch-builder.js";
import { startTestAgent } from "../support/agents.js";
import type { TestAgent } from "../support/agents.js";
import { RawKafkaClient } from "../support/raw-kafka-client.js";

const MiB = 1024 * 1024;
const TOPIC = "big";
const BATCHES = 4;

/** The largest buffer Linux lets a TCP socket grow to for `kind` (tcp_rmem / tcp_wmem), or 32 MiB. */
function tcpBufferMax(kind: "rmem" | "wmem"): number {
  try {
    return Number(readFileSync(`/proc/sys/net/ipv4/tcp_${kind}`, "utf8").trim().split(/\s+/)[2]);
  } catch {
    return 32 * MiB;
  }
}

/** A Fetch of one ~1 MiB batch of the big partition, padded with `padding` bytes (rackId). */
function fetchBody(padding: number): RequestInputOf<typeof ApiKey.Fetch> {
  return {
    replicaId: -1,
    maxWaitMs: 0,
    minBytes: 1,
    maxBytes: MiB,
    isolationLevel: 0,
    sessionId: 0,
    sessionEpoch: -1,
    topics: [{ topic: TOPIC, partitions: [{ partition: 0, fetchOffset: 0n, partitionMaxBytes: 1 }] }],
    forgottenTopicsData: [],
    rackId: "r".repeat(padding),
  };
}

/** Fetch requests this process's agents have answered so far. */
async function fetchesAnswered(): Promise<number> {
  const { values } = await metrics.requests.get();
  return values.filter((v) => v.labels.api === String(ApiKey.Fetch)).reduce((sum, v) => sum + v.value, 0);
}

/** Reads size-prefixed frames off a socket, keeping only each frame's correlation id (no large buffers). */
function collectCorrelationIds(socket: net.Socket): number[] {
  const ids: number[] = [];
  let head = Buffer.alloc(0);
  let remaining = 0;
  socket.on("data", (chunk: Buffer) => {
    let at = 0;
    while (at < chunk.length) {
      if (remaining > 0) {
        const skip = Math.min(remaining, chunk.length - at);
        remaining -= skip;
        at += skip;
        continue;
      }
      const take = Math.min(8 - head.length, chunk.length - at);
      head = Buffer.concat([head, chunk.subarray(at, at + take)]);
      at += take;
      if (head.length === 8) {
        ids.push(head.readInt32BE(4));
        remaining = head.readInt32BE(0) - 4;
        head = Buffer.alloc(0);
      }
    }
  });
  return ids;
}

describe("a client that does not read its responses", function () {
  this.timeout(120_000);
  let agent: TestAgent;

  before(async () => {
    agent = await startTestAgent();
    const producer = await RawKafkaClient.connect(agent.port);
    for (let i = 0; i < BATCHES; i++) {
      const response = await producer.request(ApiKey.Produce, 7, {
        transactionalId: null,
        acks: -1,
        timeoutMs: 10_000,
        topicData: [{ name: TOPIC, partitionData: [{ index: 0, records: buildBatch([{ value: "x".repeat(MiB) }]) }] }],
      });
      assert.equal(response.responses[0]!.partitionResponses[0]!.errorCode, 0);
    }
    producer.close();
  });
  after(async () => {
    await agent?.stop();
  });

  it("stops being read while other connections are served, and is answered in order once it reads", async () => {
    // More request bytes than the kernel can hold between the two sockets: if the agent stops reading,
    // some of them must stay in the client's own socket buffer.
    const requestBytes = 256 * 1024;
    const count = Math.ceil((tcpBufferMax("rmem") + tcpBufferMax("wmem") + 16 * MiB) / requestBytes);
    const answeredBefore = await fetchesAnswered();

    const unread = net.connect(agent.port, "127.0.0.1");
    await once(unread, "connect");
    unread.on("error", () => undefined);
    unread.pause();
    for (let i = 0; i < count; i++)
      unread.write(
        encodeRequest(
          { apiKey: ApiKey.Fetch, apiVersion: 12, correlationId: i, clientId: "unread" },
          fetchBody(requestBytes),
        ),
      );

    // Another connection is served meanwhile. Its round trips also pace the check: the unread client is
    // settled once a round trip passes with no more of its requests read or answered by the agent.
    const other = await RawKafkaClient.connect(agent.port);
    let otherFetches = 0;
    const fetchOnOther = async (): Promise<void> => {
      const response = await other.request(ApiKey.Fetch, 12, fetchBody(0));
      otherFetches++;
      const partition = response.responses[0]!.partitions[0]!;
      assert.equal(partition.errorCode, 0);
      assert.ok((partition.records?.length ?? 0) > MiB, "the other connection gets the batch");
    };
    const unreadState = async () => ({
      unsent: unread.writableLength,
      answered: (await fetchesAnswered()) - answeredBefore - otherFetches,
    });
    let last = await unreadState();
    const settled = await eventually(
      async () => {
        await fetchOnOther();
        const now = await unreadState();
        const same = now.unsent === last.unsent && now.answered === last.answered && now.answered > 0;
        last = now;
        return same && now;
      },
      { what: "the unread client's requests to stop moving", timeoutMs: 60_000, intervalMs: 20 },
    );
    assert.ok(settled.unsent > 0, "the agent stopped reading: requests back up in the client's own socket");
    assert.ok(settled.answered < count, `later requests are not processed (${settled.answered} of ${count} answered)`);

    // Once the client reads, every request is answered, in order.
    const ids = collectCorrelationIds(unread);
    unread.resume();
    await eventually(() => ids.length === count, {
      what: `all ${count} fetches to be answered`,
      timeoutMs: 60_000,
      intervalMs: 50,
    });
    assert.deepEqual(
      ids,
      Array.from({ length: count }, (_, i) => i),
    );
    unread.destroy();
    other.close();
  });
});
