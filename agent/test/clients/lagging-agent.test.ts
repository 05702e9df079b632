/**
 * Two agents sharing DynamoDB Local, the second one reaching it through a fault proxy that slows or
 * holds its metadata log reads (Queries of the log's items), so its view trails the log. The second agent
 * runs with -sequencer=false: it neither commits through the sequencer nor follows the log through it
 * (watches, which would bring it the entries over HTTP whatever its reads do; watching-agent.test.ts),
 * as an agent whose watch has failed, or of an older release, trails by its own reads. Records
 * produced and offsets committed through the first agent are at once fetched, listed and resumed from
 * through the lagging one: no OFFSET_OUT_OF_RANGE for offsets that exist, and a consumer (kafkajs)
 * resuming from there — fetching from the lagging agent, or with the lagging agent as its new group
 * coordinator — starts at its committed offset instead of resetting. Offsets committed through the
 * first agent can be deleted (OffsetDelete) through the lagging coordinator.
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { Kafka, logLevel } from "kafkajs";
import { startDynamoDbLocal } from "../../../e2e/support/dynamodb-local.js";
import type { DynamoDbLocal } from "../../../e2e/support/dynamodb-local.js";
import { startFaultProxy } from "../../../e2e/support/fault-proxy.js";
import type { FaultProxy } from "../../../e2e/support/fault-proxy.js";
import { LOG_PK } from "../../src/store/dynamodb/metadata.js";
import { ApiKey, ErrorCode } from "../../src/protocol/index.js";
import { buildBatch } from "../records/batch-builder.js";
import { startTestAgent } from "../support/agents.js";
import type { TestAgent } from "../support/agents.js";
import { useLocalAwsCredentials } from "../support/dynamodb-agents.js";
import { RawKafkaClient } from "../support/raw-kafka-client.js";
import { commitAsCoordinator } from "../support/group-commits.js";

const TOPIC = "lagged";
/** What the body of a DynamoDB Query of the metadata log's entries contains (store/dynamodb/metadata.ts). */
const LOG_READ = `":pk":{"S":"${LOG_PK}"}`;
/** When a consumer of `resumeWhileBTrails` has not joined by then, the held log reads go through anyway. */
const THAW_WITHOUT_JOIN_MS = 10_000;

async function eventually(what: string, check: () => boolean, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`not within ${timeoutMs} ms: ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe("an agent whose metadata log reads are slow (DynamoDB Local, fault proxy)", function () {
  this.timeout(240_000);
  let ddb: DynamoDbLocal;
  let direct: FaultProxy;
  let slowed: FaultProxy;
  let a: TestAgent;
  let b: TestAgent;
  let toA: RawKafkaClient;
  let toB: RawKafkaClient;
  let restoreEnv = (): void => {};

  /** The lagging agent's end of a partition, as its own view has it. */
  const viewOfB = (topic = TOPIC) => b.running.context.metadata.state.partition(topic, 0)?.nextOffset ?? -1;

  /** A group id `agent` coordinates. */
  function groupCoordinatedBy(agent: TestAgent, prefix: string): string {
    const cluster = agent.running.context.cluster;
    for (let i = 0; ; i++) {
      const id = `${prefix}-${i}`;
      if (cluster.coordinatorFor(id).nodeId === cluster.self.nodeId) return id;
    }
  }

  /** Every log read of the second agent waits `ms` before it reaches the store. */
  function slowLogReads(ms: number): void {
    slowed.setRules([
      { probability: 1, fault: { kind: "latency", ms }, operations: ["Query"], bodyIncludes: LOG_READ },
    ]);
  }

  /** Lets the second agent's log reads through again, those held included. */
  function thawLogReads(): void {
    slowed.setRules([]);
    slowed.heal();
  }

  async function produceThroughA(values: readonly string[], topic = TOPIC): Promise<bigint> {
    const out = await toA.request(ApiKey.Produce, 9, {
      transactionalId: null,
      acks: -1,
      timeoutMs: 10_000,
      topicData: [
        {
          name: topic,
          partitionData: [{ index: 0, records: buildBatch(values.map((value) => ({ value }))) }],
        },
      ],
    });
    const p = out.responses[0]!.partitionResponses[0]!;
    assert.equal(p.errorCode, ErrorCode.NONE);
    return p.baseOffset + BigInt(values.length);
  }

  async function fetchFromB(offset: bigint) {
    const out = await toB.request(ApiKey.Fetch, 12, {
      replicaId: -1,
      maxWaitMs: 0,
      minBytes: 1,
      maxBytes: 1 << 20,
      isolationLevel: 0,
      sessionId: 0,
      sessionEpoch: -1,
      topics: [
        {
          topic: TOPIC,
          partitions: [
            {
              partition: 0,
              currentLeaderEpoch: -1,
              fetchOffset: offset,
              logStartOffset: -1n,
              partitionMaxBytes: 1 << 20,
            },
          ],
        },
      ],
      forgottenTopicsData: [],
      rackId: "",
    });
    return out.responses[0]!.partitions[0]!;
  }

  async function latestFromB(): Promise<bigint> {
    const out = await toB.request(ApiKey.ListOffsets, 7, {
      replicaId: -1,
      isolationLevel: 0,
      topics: [{ name: TOPIC, partitions: [{ partitionIndex: 0, currentLeaderEpoch: -1, timestamp: -1n }] }],
    });
    const p = out.topics[0]!.partitions[0]!;
    assert.equal(p.errorCode, ErrorCode.NONE);
    return p.offset;
  }

  /** A simple commit (outside any generation) through `client`'s agent. */
  async function commitThrough(client: RawKafkaClient, groupId: string, offset: bigint, topic = TOPIC): Promise<void> {
    const out = await client.request(ApiKey.OffsetCommit, 8, {
      groupId,
      generationIdOrMemberEpoch: -1,
      memberId: "",
      groupInstanceId: null,
      topics: [
        {
          name: topic,
          partitions: [{ partitionIndex: 0, committedOffset: offset, committedLeaderEpoch: -1, committedMetadata: "" }],
        },
      ],
    });
    assert.equal(out.topics[0]!.partitions[0]!.errorCode, ErrorCode.NONE);
  }

  async function offsetFetch(client: RawKafkaClient, groupId: string): Promise<bigint> {
    const out = await client.request(ApiKey.OffsetFetch, 8, {
      groups: [{ groupId, topics: [{ name: TOPIC, partitionIndexes: [0] }] }],
      requireStable: false,
    });
    const g = out.groups[0]!;
    assert.equal(g.errorCode, ErrorCode.NONE);
    return g.topics[0]!.partitions[0]!.committedOffset;
  }

  before(async () => {
    restoreEnv = useLocalAwsCredentials();
    ddb = await startDynamoDbLocal();
    direct = await startFaultProxy({ service: "dynamodb", upstream: ddb.endpoint, seed: 1 });
    slowed = await startFaultProxy({ service: "dynamodb", upstream: ddb.endpoint, seed: 2 });
    const tables = `lag-${randomBytes(3).toString("hex")}`;
    const flags = (proxy: FaultProxy, zone: string) => ({
      bucketURL: `dynamodb://us-east-1/${tables}-files<>${tables}-chunks?endpoint=${encodeURIComponent(proxy.endpoint)}`,
      availabilityZone: zone,
      batchTimeout: "25ms",
    });
    a = await startTestAgent(flags(direct, "zone-a"));
    b = await startTestAgent({ ...flags(slowed, "zone-b"), sequencer: "false" });
    await a.running.context.metadata.propose([
      { type: "createTopic", name: TOPIC, topicId: randomBytes(16).toString("hex"), partitions: 1, configs: {} },
    ]);
    await eventually("both agents list both agents and know the topic", () => {
      return (
        a.running.context.cluster.liveAgents().length === 2 &&
        b.running.context.cluster.liveAgents().length === 2 &&
        viewOfB() === 0
      );
    });
    toA = await RawKafkaClient.connect(a.port);
    toB = await RawKafkaClient.connect(b.port);
  });

  after(async () => {
    toA?.close();
    toB?.close();
    slowed?.setRules([]);
    slowed?.heal();
    await b?.stop();
    await a?.stop();
    await direct?.close();
    await slowed?.close();
    await ddb?.stop();
    restoreEnv();
  });

  it("fetches, lists and resumes at offsets just produced and committed through the other agent", async () => {
    slowLogReads(300);
    const group = groupCoordinatedBy(a, "resume");
    let lagged = 0;
    for (let round = 0; round < 6; round++) {
      const end = await produceThroughA([`round-${round}-first`, `round-${round}-last`]);
      await commitThrough(toA, group, end);
      if (viewOfB() < Number(end)) lagged++;

      // The consumer's way back in: its committed offset from the coordinator, then Fetch on the lagging agent.
      assert.equal(await offsetFetch(toA, group), end);
      const resumed = await fetchFromB(end);
      assert.equal(resumed.errorCode, ErrorCode.NONE, `round ${round}: resuming at the committed end`);
      assert.equal(resumed.highWatermark, end);

      const last = await fetchFromB(end - 1n);
      assert.equal(last.errorCode, ErrorCode.NONE, `round ${round}: fetching the last record`);
      assert.ok((last.records ?? Buffer.alloc(0)).includes(`round-${round}-last`));

      await produceThroughA([`round-${round}-more`]);
      assert.equal(await latestFromB(), end + 1n, `round ${round}: latest through the lagging agent`);
    }
    assert.ok(lagged >= 3, `the second agent trailed the log in ${lagged} of 6 rounds`);
  });

  it("hands the lagging agent's new coordinator role the commits made through the other agent", async () => {
    slowLogReads(300);
    // A group the lagging agent coordinates, committed through the other agent's log (as the previous
    // coordinator did before the membership changed).
    const group = groupCoordinatedBy(b, "moved");
    const end = await produceThroughA(["moved-record"]);
    await commitAsCoordinator(a.running.context.metadata, group, [
      { topic: TOPIC, partition: 0, offset: end, leaderEpoch: -1, metadata: "", commitTimestamp: BigInt(Date.now()) },
    ]);
    assert.ok(viewOfB() < Number(end), "the second agent has not seen the produce nor the commit");
    assert.equal(await offsetFetch(toB, group), end);
    assert.equal((await fetchFromB(end)).errorCode, ErrorCode.NONE);
  });

  it("deletes offsets (OffsetDelete) the lagging coordinator has not read yet, instead of answering GROUP_ID_NOT_FOUND", async () => {
    slowLogReads(300);
    const group = groupCoordinatedBy(b, "forget");
    const end = await produceThroughA(["forgotten-record"]);
    await commitAsCoordinator(a.running.context.metadata, group, [
      { topic: TOPIC, partition: 0, offset: end, leaderEpoch: -1, metadata: "", commitTimestamp: BigInt(Date.now()) },
    ]);
    assert.ok(!b.running.context.metadata.state.groupOffsets.has(group), "the second agent has not seen the commit");
    const out = await toB.request(ApiKey.OffsetDelete, 0, {
      groupId: group,
      topics: [{ name: TOPIC, partitions: [{ partitionIndex: 0 }] }],
    });
    assert.equal(out.errorCode, ErrorCode.NONE);
    assert.deepEqual(
      out.topics[0]!.partitions.map((p) => p.errorCode),
      [ErrorCode.NONE],
    );
    assert.equal(await offsetFetch(toB, group), -1n, "the offset is gone");
    thawLogReads();
    await eventually(
      "the first agent folds the deletion",
      () => !a.running.context.metadata.state.groupOffsets.has(group),
    );
  });

  it("refuses a group deletion (DeleteGroups) from the lagging coordinator once the other agent has claimed the group: its offsets stay", async () => {
    thawLogReads();
    const group = groupCoordinatedBy(b, "deleted-late");
    const early = await produceThroughA(["early"]);
    // The lagging agent coordinates the group (Empty, known by a simple commit) at the first epoch.
    await commitThrough(toB, group, early);
    slowLogReads(100_000);
    // The other agent claims the group (its view of the cluster differed) and commits through it.
    const end = await produceThroughA(["kept"]);
    await commitAsCoordinator(a.running.context.metadata, group, [
      { topic: TOPIC, partition: 0, offset: end, leaderEpoch: -1, metadata: "", commitTimestamp: BigInt(Date.now()) },
    ]);
    // The lagging agent still holds the group at its epoch: it deletes, its append waits for its reads.
    const deleting = toB.request(ApiKey.DeleteGroups, 2, { groupsNames: [group] });
    await new Promise((r) => setTimeout(r, 2_000));
    assert.equal(
      b.running.context.metadata.state.groupFences.get(group)?.epoch,
      1,
      "the second agent had not seen the other's claim when it was asked",
    );
    thawLogReads();
    const out = await deleting;
    assert.equal(out.results[0]!.errorCode, ErrorCode.NOT_COORDINATOR);
    await eventually(
      "the second agent has read the claim",
      () => b.running.context.metadata.state.groupFences.get(group)?.epoch !== 1,
    );
    assert.equal(
      a.running.context.metadata.state.groupOffsets.get(group)?.get(TOPIC)?.get(0)?.offset,
      Number(end),
      "the offset committed through the new coordinator stays",
    );
  });

  /**
   * A one-partition topic whose partition the second agent leads for clients without a zone (so a
   * consumer fetches it from there), known to both agents, with a few records.
   */
  async function topicLedByB(prefix: string): Promise<string> {
    const cluster = b.running.context.cluster;
    let topic = "";
    for (let i = 0; topic === ""; i++)
      if (cluster.leaderFor(`${prefix}-${i}`, 0, null).nodeId === cluster.self.nodeId) topic = `${prefix}-${i}`;
    await a.running.context.metadata.propose([
      { type: "createTopic", name: topic, topicId: randomBytes(16).toString("hex"), partitions: 1, configs: {} },
    ]);
    const end = await produceThroughA(["early-1", "early-2", "early-3"], topic);
    await eventually("the second agent has the records", () => viewOfB(topic) === Number(end));
    return topic;
  }

  /**
   * Holds the second agent's log reads (its view stays where it is), commits `resumeAt` with `commit`,
   * and runs a kafkajs consumer of the group (auto.offset.reset earliest); 3 s after it has joined the
   * log reads go through again, and the consumer runs until it reads a record. Returns the offset of
   * that first record and whether the second agent still lacked the commit when the consumer joined.
   */
  async function resumeWhileBTrails(
    topic: string,
    group: string,
    commit: (resumeAt: bigint) => Promise<void>,
  ): Promise<{ resumeAt: bigint; first: bigint; laggedAtStart: boolean; laggedAtJoin: boolean }> {
    slowLogReads(100_000);
    await new Promise((r) => setTimeout(r, 200));
    // The committed offset is beyond the end the second agent knows: its own view cannot serve it.
    const resumeAt = (await produceThroughA(["skipped", "resume-here"], topic)) - 1n;
    await commit(resumeAt);
    const kafka = new Kafka({
      clientId: "lagging-resume",
      brokers: [a.bootstrap],
      logLevel: logLevel.NOTHING,
      retry: { initialRetryTime: 200, retries: 30 },
    });
    // Long polls of 500 ms (the Java consumer's default) end well before the log reads go through.
    const consumer = kafka.consumer({
      groupId: group,
      maxWaitTimeInMs: 500,
      retry: { initialRetryTime: 200, retries: 30 },
    });
    const offsets: bigint[] = [];
    const laggedAtStart = viewOfB(topic) < Number(resumeAt);
    let laggedAtJoin: boolean | null = null;
    // Log reads go through again 3 s after the group is joined, or 10 s after connecting: a coordinator
    // claims its group through the log, so on the lagging agent the join itself waits for them. A join
    // through the other agent takes the group's initial rebalance delay (3 s), and each request the
    // lagging agent answers on the way (FindCoordinator, Metadata) may wait up to 1 s for a read of its
    // tail first, so the fallback stays well past those.
    let thaw: NodeJS.Timeout | undefined = setTimeout(thawLogReads, THAW_WITHOUT_JOIN_MS);
    consumer.on(consumer.events.GROUP_JOIN, () => {
      if (laggedAtJoin !== null) return;
      laggedAtJoin = viewOfB(topic) < Number(resumeAt);
      clearTimeout(thaw);
      thaw = setTimeout(thawLogReads, 3_000);
    });
    try {
      await consumer.connect();
      await consumer.subscribe({ topic, fromBeginning: true });
      await consumer.run({
        eachMessage: async ({ message }) => {
          offsets.push(BigInt(message.offset));
        },
      });
      await eventually("the consumer read a record", () => offsets.length > 0, 90_000);
    } finally {
      clearTimeout(thaw);
      thawLogReads();
      await consumer.disconnect();
    }
    return { resumeAt, first: offsets[0]!, laggedAtStart, laggedAtJoin: laggedAtJoin === true };
  }

  it("keeps a consumer at its committed offset when it resumes fetching from the lagging agent", async () => {
    thawLogReads();
    const topic = await topicLedByB("resume-fetch");
    const group = groupCoordinatedBy(a, "resume-fetch");
    const run = await resumeWhileBTrails(topic, group, (offset) => commitThrough(toA, group, offset, topic));
    assert.ok(run.laggedAtJoin, "the consumer joined while the second agent had not seen its records");
    assert.equal(run.first, run.resumeAt, "resumed at the committed offset, not reset to the beginning");
  });

  it("keeps a consumer at its committed offset when the lagging agent has just become its coordinator", async () => {
    thawLogReads();
    const topic = await topicLedByB("resume-coordinator");
    const group = groupCoordinatedBy(b, "resume-coordinator");
    // Committed through the other agent's log, as the previous coordinator did.
    const run = await resumeWhileBTrails(topic, group, (offset) =>
      commitAsCoordinator(a.running.context.metadata, group, [
        { topic, partition: 0, offset, leaderEpoch: -1, metadata: "", commitTimestamp: BigInt(Date.now()) },
      ]),
    );
    // Becoming the group's coordinator means claiming it through the metadata log, which catches the
    // agent up first: the consumer starts while the agent trails, and is served the commit once it joins.
    assert.ok(run.laggedAtStart, "the consumer started while the second agent had not seen the commit");
    assert.equal(run.first, run.resumeAt, "resumed at the committed offset, not reset to the beginning");
  });
});
