/**
 * OffsetDelete in the group coordinator, with Kafka's rules: GROUP_ID_NOT_FOUND, NON_EMPTY_GROUP for
 * members outside the consumer protocol, GROUP_SUBSCRIBED_TO_TOPIC for topics the members' subscriptions
 * name (or every topic while those cannot be read), fencing by coordinator epoch, and an Empty group left
 * without offsets forgotten. Manual timers and the in-memory offset store, as in coordinator.test.ts.
 */
import assert from "node:assert/strict";
import winston from "winston";
import { subscriptionTopics } from "../../src/groups/consumer-protocol.js";
import { GroupCoordinator, GroupError, type GroupProtocol } from "../../src/groups/coordinator.js";
import { ManualTimers } from "./manual-timers.js";
import { MemGroupOffsetStore } from "./mem-offset-store.js";

const silent = winston.createLogger({ silent: true });
const G = "group-1";

/** A ConsumerProtocolSubscription as the Java client writes it (v1: topics, user data, owned partitions). */
function subscription(topics: readonly string[], version = 1): Buffer {
  const parts: Buffer[] = [Buffer.from([0, version]), Buffer.alloc(4)];
  parts[1]!.writeInt32BE(topics.length);
  for (const t of topics) {
    const len = Buffer.alloc(2);
    len.writeInt16BE(Buffer.byteLength(t));
    parts.push(len, Buffer.from(t));
  }
  parts.push(Buffer.from([0xff, 0xff, 0xff, 0xff])); // user data: null
  if (version >= 1) parts.push(Buffer.alloc(4)); // owned partitions: none
  return Buffer.concat(parts);
}

const at = (topic: string, partition: number) => ({ topic, partition });

describe("GroupCoordinator: OffsetDelete", () => {
  let timers: ManualTimers;
  let store: MemGroupOffsetStore;
  let coordinator: GroupCoordinator;

  beforeEach(() => {
    timers = new ManualTimers();
    store = new MemGroupOffsetStore();
    coordinator = new GroupCoordinator({ offsets: store, timers, log: silent });
  });
  afterEach(() => coordinator.close());

  /** A simple commit (generation −1) of offset 1 on each partition. */
  async function commitSimple(groupId: string, ...partitions: Array<{ topic: string; partition: number }>) {
    const code = await coordinator.commitOffsets({
      groupId,
      generationId: -1,
      memberId: "",
      groupInstanceId: null,
      offsets: partitions.map((p) => ({ ...p, offset: 1n, leaderEpoch: -1, metadata: null })),
    });
    assert.equal(code, GroupError.NONE);
  }

  /** Members joining at once (no member id round trip); the group is PreparingRebalance until `complete`. */
  function joinAll(protocolType: string, metadata: readonly Buffer[]) {
    return metadata.map((m, i) =>
      coordinator.joinGroup({
        groupId: G,
        memberId: "",
        groupInstanceId: null,
        clientId: `c${i}`,
        clientHost: "/127.0.0.1",
        sessionTimeoutMs: 10_000,
        rebalanceTimeoutMs: 30_000,
        protocolType,
        protocols: [{ name: "range", metadata: m } satisfies GroupProtocol],
        requireKnownMemberId: false,
        supportSkippingAssignment: false,
      }),
    );
  }

  /** Brings the members to Stable and commits offset 1 for each partition under their generation. */
  async function stableGroup(
    protocolType: string,
    metadata: readonly Buffer[],
    ...committed: Array<{ topic: string; partition: number }>
  ) {
    const joins = joinAll(protocolType, metadata);
    await new Promise((r) => setImmediate(r));
    timers.advance(10_000);
    const results = await Promise.all(joins);
    const leader = results.find((r) => r.memberId === r.leader)!;
    await Promise.all(
      results.map((r) =>
        coordinator.syncGroup({
          groupId: G,
          generationId: r.generationId,
          memberId: r.memberId,
          groupInstanceId: null,
          protocolType: null,
          protocolName: null,
          assignments: r === leader ? results.map((m) => ({ memberId: m.memberId, assignment: Buffer.alloc(0) })) : [],
        }),
      ),
    );
    assert.equal(coordinator.groupState(G), "Stable");
    const code = await coordinator.commitOffsets({
      groupId: G,
      generationId: leader.generationId,
      memberId: leader.memberId,
      groupInstanceId: null,
      offsets: committed.map((p) => ({ ...p, offset: 1n, leaderEpoch: -1, metadata: null })),
    });
    assert.equal(code, GroupError.NONE);
  }

  const committedTopics = (groupId = G) => [...store.committed(groupId)].map(([t, ps]) => `${t}:${[...ps.keys()]}`);

  it("reads the topics of every consumer-protocol subscription version, and nothing from other bytes", () => {
    for (const version of [0, 1, 3])
      assert.deepEqual(subscriptionTopics(subscription(["a", "bé"], version)), ["a", "bé"]);
    assert.deepEqual(subscriptionTopics(subscription([])), []);
    assert.equal(subscriptionTopics(Buffer.from("range")), null);
    assert.equal(subscriptionTopics(Buffer.from([0, 1, 0x7f, 0xff, 0xff, 0xff])), null, "a count beyond the bytes");
    assert.equal(subscriptionTopics(Buffer.from([0xff, 0xff, 0, 0, 0, 0])), null, "a negative version");
  });

  it("answers GROUP_ID_NOT_FOUND for a group with neither members nor offsets", async () => {
    assert.deepEqual(await coordinator.deleteOffsets("nobody", [at("t", 0)]), {
      errorCode: GroupError.GROUP_ID_NOT_FOUND,
      partitions: [],
    });
    assert.equal(store.coordinatorEpoch("nobody"), 0, "no coordinator epoch is claimed for it");
  });

  it("deletes an Empty group's offsets under a new coordinator epoch; the group is gone with its last offset", async () => {
    await commitSimple("simple", at("t", 0), at("t", 1), at("u", 0));
    coordinator.close();
    // A coordinator that holds the group only by its offsets claims it first, fencing any other holder.
    coordinator = new GroupCoordinator({ offsets: store, timers, log: silent });
    const epochBefore = store.coordinatorEpoch("simple");
    const first = await coordinator.deleteOffsets("simple", [at("t", 0), at("t", 1), at("never", 0)]);
    assert.deepEqual(first, {
      errorCode: GroupError.NONE,
      partitions: [
        { ...at("t", 0), errorCode: GroupError.NONE },
        { ...at("t", 1), errorCode: GroupError.NONE },
        { ...at("never", 0), errorCode: GroupError.NONE },
      ],
    });
    assert.equal(store.coordinatorEpoch("simple"), epochBefore + 1);
    assert.deepEqual(committedTopics("simple"), ["u:0"]);
    assert.deepEqual(
      coordinator.listGroups().map((g) => [g.groupId, g.state]),
      [["simple", "Empty"]],
    );

    assert.equal((await coordinator.deleteOffsets("simple", [at("u", 0)])).errorCode, GroupError.NONE);
    assert.deepEqual(committedTopics("simple"), []);
    assert.deepEqual(coordinator.listGroups(), [], "an Empty group without offsets is forgotten");
    assert.equal(coordinator.describeGroups(["simple"])[0]!.state, "Dead");
    assert.equal((await coordinator.deleteOffsets("simple", [at("u", 0)])).errorCode, GroupError.GROUP_ID_NOT_FOUND);
  });

  it("refuses the topics a consumer group's members subscribe to, and deletes the others", async () => {
    await stableGroup("consumer", [subscription(["t"]), subscription(["u", "t"])], at("t", 0), at("u", 0), at("v", 0));
    const result = await coordinator.deleteOffsets(G, [at("t", 0), at("u", 0), at("v", 0), at("w", 0)]);
    assert.deepEqual(result, {
      errorCode: GroupError.NONE,
      partitions: [
        { ...at("t", 0), errorCode: GroupError.GROUP_SUBSCRIBED_TO_TOPIC },
        { ...at("u", 0), errorCode: GroupError.GROUP_SUBSCRIBED_TO_TOPIC },
        { ...at("v", 0), errorCode: GroupError.NONE },
        { ...at("w", 0), errorCode: GroupError.NONE },
      ],
    });
    assert.deepEqual(committedTopics(), ["t:0", "u:0"]);
    assert.equal(coordinator.groupState(G), "Stable", "the group is untouched");
  });

  it("counts every topic as subscribed while the subscriptions cannot be read", async () => {
    // A member whose metadata is not a subscription.
    await stableGroup("consumer", [subscription(["t"]), Buffer.from("range")], at("v", 0));
    const unreadable = await coordinator.deleteOffsets(G, [at("v", 0)]);
    assert.deepEqual(unreadable.partitions, [{ ...at("v", 0), errorCode: GroupError.GROUP_SUBSCRIBED_TO_TOPIC }]);
    assert.deepEqual(committedTopics(), ["v:0"]);
  });

  it("counts every topic as subscribed before the group's first generation picks a protocol", async () => {
    const joins = joinAll("consumer", [subscription(["t"])]);
    await new Promise((r) => setImmediate(r));
    assert.equal(coordinator.groupState(G), "PreparingRebalance");
    const result = await coordinator.deleteOffsets(G, [at("v", 0)]);
    assert.deepEqual(result.partitions, [{ ...at("v", 0), errorCode: GroupError.GROUP_SUBSCRIBED_TO_TOPIC }]);
    coordinator.close();
    await Promise.all(joins);
  });

  it("answers NON_EMPTY_GROUP for a group with members outside the consumer protocol", async () => {
    await stableGroup("connect", [Buffer.from("worker")], at("t", 0));
    assert.deepEqual(await coordinator.deleteOffsets(G, [at("t", 0)]), {
      errorCode: GroupError.NON_EMPTY_GROUP,
      partitions: [],
    });
    assert.deepEqual(committedTopics(), ["t:0"]);
  });

  it("answers NOT_COORDINATOR and deletes nothing once another coordinator claimed the group", async () => {
    await commitSimple(G, at("t", 0), at("t", 1));
    await store.claimGroup(G, "another agent");
    assert.equal((await coordinator.deleteOffsets(G, [at("t", 0)])).errorCode, GroupError.NOT_COORDINATOR);
    assert.deepEqual(committedTopics(), ["t:0,1"]);
    assert.deepEqual(coordinator.groupIds(), [], "the fenced coordinator dropped the group");
  });

  it("answers NOT_COORDINATOR when the store refuses the deletion for a newer epoch claimed meanwhile", async () => {
    await commitSimple(G, at("t", 0));
    const deleteOffsets = store.deleteOffsets.bind(store);
    store.deleteOffsets = async (...args) => {
      await store.claimGroup(G, "another agent");
      return deleteOffsets(...args);
    };
    assert.equal((await coordinator.deleteOffsets(G, [at("t", 0)])).errorCode, GroupError.NOT_COORDINATOR);
    assert.deepEqual(committedTopics(), ["t:0"]);
    assert.deepEqual(coordinator.groupIds(), []);
  });

  it("answers COORDINATOR_NOT_AVAILABLE when the store fails", async () => {
    await commitSimple(G, at("t", 0));
    store.deleteOffsets = () => Promise.reject(new Error("store down"));
    assert.equal((await coordinator.deleteOffsets(G, [at("t", 0)])).errorCode, GroupError.COORDINATOR_NOT_AVAILABLE);
    coordinator.close();
    assert.equal((await coordinator.deleteOffsets(G, [at("t", 0)])).errorCode, GroupError.COORDINATOR_NOT_AVAILABLE);
  });
});
