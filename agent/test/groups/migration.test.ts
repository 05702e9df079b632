/**
 * Online migration between the classic and the KIP-848 consumer protocols (migration.ts,
 * classic-members.ts) through the GroupCoordinator's public methods, with manual timers and an in-memory
 * offset store: a live classic group upgraded by a ConsumerGroupHeartbeat (member ids, epochs and
 * assignments kept), the refusals (other protocol types, malformed subscriptions, a full group, a member
 * epoch other than 0), classic members inside the consumer group (Heartbeat → REBALANCE_IN_PROGRESS,
 * JoinGroup/SyncGroup with generation = member epoch, never a partition held twice, commits checked
 * against the epoch, their own session timeout), a group caught mid-rebalance, the downgrade when the last
 * consumer-protocol member leaves, what ConsumerGroupDescribe shows, and fencing by another coordinator.
 */
import assert from "node:assert/strict";
import {
  GroupCoordinator,
  GroupError,
  type ConsumerHeartbeatInput,
  type ConsumerHeartbeatResult,
  type JoinGroupResult,
} from "../../src/groups/coordinator.js";
import { decodeAssignment, encodeAssignment, type TopicPartitions } from "../../src/groups/consumer-protocol.js";
import { assignmentText, EMPTY_ASSIGNMENT, type Assignment } from "../../src/groups/partitions.js";
import { Writer } from "../../src/protocol/codec/writer.js";
import { ManualTimers } from "./manual-timers.js";
import { MemGroupOffsetStore } from "./mem-offset-store.js";
import { REBALANCE, Topics, silent } from "./kip848-clients.js";

const G = "mg";
const CLASSIC_SESSION = 10_000;

function setup(maxGroupSize?: number) {
  const timers = new ManualTimers();
  const store = new MemGroupOffsetStore();
  const topics = new Topics();
  topics.add("t", 4);
  const coordinator = new GroupCoordinator({
    offsets: store,
    timers,
    log: silent,
    topics,
    ...(maxGroupSize !== undefined ? { maxGroupSize } : {}),
  });
  return { timers, store, topics, coordinator };
}
type Env = ReturnType<typeof setup>;

/** A ConsumerProtocolSubscription v1 (topics, no user data, owned partitions), as a Java client sends. */
function subscription(topics: readonly string[], owned: readonly TopicPartitions[] = []): Uint8Array {
  const w = new Writer(64);
  w.int16(1);
  w.arrayLength(topics.length);
  for (const t of topics) w.string(t);
  w.nullableBytes(null);
  w.arrayLength(owned.length);
  for (const o of owned) {
    w.string(o.topic);
    w.arrayLength(o.partitions.length);
    for (const p of o.partitions) w.int32(p);
  }
  return w.finishBuffer();
}

const flush = () => new Promise((resolve) => setImmediate(resolve));

/**
 * A classic (JoinGroup/SyncGroup) member as a Java client runs it: eager, it gives up everything before it
 * rejoins; cooperative, it reports what it owns and rejoins after giving up what its assignment dropped.
 */
class ClassicClient {
  memberId = "";
  generation = -1;
  owned: string[] = [];
  cooperative = false;
  instanceId: string | null = null;
  /** Generations a JoinGroup answered, in order. */
  readonly generations: number[] = [];
  constructor(
    readonly env: Env,
    readonly name: string,
    readonly protocolType = "consumer",
    readonly fixedMetadata: Uint8Array | null = null,
  ) {}

  get metadata(): Uint8Array {
    if (this.fixedMetadata) return this.fixedMetadata;
    const byTopic = new Map<string, number[]>();
    for (const p of this.owned) {
      const at = p.lastIndexOf("-");
      byTopic.set(p.slice(0, at), [...(byTopic.get(p.slice(0, at)) ?? []), Number(p.slice(at + 1))]);
    }
    return subscription(
      ["t"],
      [...byTopic].map(([topic, partitions]) => ({ topic, partitions })),
    );
  }

  join(): Promise<JoinGroupResult> {
    if (!this.cooperative) this.owned = []; // eager: revoked before joining
    return this.env.coordinator
      .joinGroup({
        groupId: G,
        memberId: this.memberId,
        groupInstanceId: this.instanceId,
        clientId: this.name,
        clientHost: "/127.0.0.1",
        sessionTimeoutMs: CLASSIC_SESSION,
        rebalanceTimeoutMs: REBALANCE,
        protocolType: this.protocolType,
        protocols: [
          { name: "range", metadata: this.metadata },
          { name: "cooperative-sticky", metadata: this.metadata },
        ],
        requireKnownMemberId: false,
        supportSkippingAssignment: true,
      })
      .then((r) => {
        if (r.errorCode === GroupError.NONE) {
          this.memberId = r.memberId;
          this.generation = r.generationId;
          this.generations.push(r.generationId);
        }
        return r;
      });
  }

  async sync(assignments: readonly { memberId: string; assignment: Uint8Array }[] = []): Promise<number> {
    const r = await this.env.coordinator.syncGroup({
      groupId: G,
      generationId: this.generation,
      memberId: this.memberId,
      groupInstanceId: this.instanceId,
      protocolType: "consumer",
      protocolName: "range",
      assignments,
    });
    if (r.errorCode === GroupError.NONE)
      this.owned = decodeAssignment(r.assignment)!.flatMap((t) => t.partitions.map((p) => `${t.topic}-${p}`));
    return r.errorCode;
  }

  heartbeat(): number {
    return this.env.coordinator.heartbeat({
      groupId: G,
      generationId: this.generation,
      memberId: this.memberId,
      groupInstanceId: this.instanceId,
    });
  }

  /**
   * Rejoins and syncs (as a follower in a consumer group); the join's result. A cooperative client that
   * lost partitions in the sync rejoins at once, as the Java client does after revoking them.
   */
  async rejoin(): Promise<JoinGroupResult> {
    const joined = await this.join();
    assert.equal(joined.errorCode, GroupError.NONE);
    const before = this.owned;
    assert.equal(await this.sync(), GroupError.NONE);
    if (this.cooperative && before.some((p) => !this.owned.includes(p))) return this.rejoin();
    return joined;
  }
}

function consumerInput(overrides: Partial<ConsumerHeartbeatInput>): ConsumerHeartbeatInput {
  return {
    groupId: G,
    memberId: "k",
    memberEpoch: 0,
    instanceId: null,
    rackId: null,
    rebalanceTimeoutMs: REBALANCE,
    subscribedTopicNames: ["t"],
    subscribedTopicRegex: null,
    serverAssignor: null,
    ownedPartitions: EMPTY_ASSIGNMENT,
    clientId: "k",
    clientHost: "/127.0.0.1",
    version: 1,
    ...overrides,
  };
}

/** A consumer-protocol member: remembers its epoch and what it owns. */
class ConsumerClient {
  epoch = 0;
  owned: Assignment = EMPTY_ASSIGNMENT;
  constructor(
    readonly env: Env,
    readonly memberId: string,
  ) {}

  async beat(overrides: Partial<ConsumerHeartbeatInput> = {}): Promise<ConsumerHeartbeatResult> {
    const r = await this.env.coordinator.consumerGroupHeartbeat(
      consumerInput({ memberId: this.memberId, memberEpoch: this.epoch, ownedPartitions: this.owned, ...overrides }),
    );
    if (r.errorCode === GroupError.NONE) {
      this.epoch = r.memberEpoch;
      if (r.assignment) this.owned = r.assignment;
    }
    return r;
  }

  partitions(): string[] {
    const text = assignmentText(this.owned, (id) => this.env.topics.byId(id)?.name ?? id);
    return text === "" ? [] : text.split(",");
  }
}

function assertDisjoint(holders: Record<string, readonly string[]>): void {
  const owner = new Map<string, string>();
  for (const [name, parts] of Object.entries(holders))
    for (const p of parts) {
      assert.equal(owner.get(p), undefined, `${p} held by ${owner.get(p)} and ${name}`);
      owner.set(p, name);
    }
}

const assign = (topic: string, partitions: number[]) => encodeAssignment(1, [{ topic, partitions }]);

/** A Stable classic group: a holds t-0,t-1 and b t-2,t-3 at generation 1. */
async function classicGroup(env: Env): Promise<[ClassicClient, ClassicClient]> {
  const a = new ClassicClient(env, "a");
  const b = new ClassicClient(env, "b");
  const ja = a.join();
  await flush(); // the claim of the group
  const jb = b.join();
  env.timers.advance(9_000); // group.initial.rebalance.delay.ms, extended as b joined during it
  const [ra, rb] = await Promise.all([ja, jb]);
  assert.equal(ra.errorCode, GroupError.NONE);
  assert.equal(rb.errorCode, GroupError.NONE);
  assert.equal(ra.leader, a.memberId);
  const sa = a.sync([
    { memberId: a.memberId, assignment: assign("t", [0, 1]) },
    { memberId: b.memberId, assignment: assign("t", [2, 3]) },
  ]);
  const sb = b.sync();
  assert.deepEqual(await Promise.all([sa, sb]), [GroupError.NONE, GroupError.NONE]);
  assert.equal(env.coordinator.describeGroups([G])[0]!.state, "Stable");
  assert.deepEqual([a.generation, b.generation], [1, 1]);
  return [a, b];
}

/** Every classic member heartbeats and rejoins when told, the consumer member beats, until nothing changes. */
async function settle(classics: readonly ClassicClient[], consumers: readonly ConsumerClient[]): Promise<void> {
  const holdings = () =>
    Object.fromEntries([
      ...classics.map((c) => [c.name, c.owned] as const),
      ...consumers.map((c) => [c.memberId, c.partitions()] as const),
    ]);
  const env = (classics[0] ?? consumers[0])!.env;
  for (let round = 0; round < 20; round++) {
    const before = JSON.stringify(holdings()) + classics.map((c) => c.generation).join();
    let rejoined = false;
    for (const c of classics) {
      const code = c.heartbeat();
      if (code === GroupError.REBALANCE_IN_PROGRESS) {
        await c.rejoin();
        rejoined = true;
      } else assert.equal(code, GroupError.NONE);
      assertDisjoint(holdings());
    }
    for (const k of consumers) {
      assert.equal((await k.beat()).errorCode, GroupError.NONE);
      assertDisjoint(holdings());
    }
    const same = JSON.stringify(holdings()) + classics.map((c) => c.generation).join() === before;
    if (same && !rejoined && (await env.coordinator.describeConsumerGroups([G]))[0]!.state === "Stable") return;
  }
  assert.fail("the group did not settle");
}

describe("online migration between the classic and consumer protocols", () => {
  it("a ConsumerGroupHeartbeat upgrades a Stable classic group: member ids, epochs and assignments kept", async () => {
    const env = setup();
    const [a, b] = await classicGroup(env);
    const k = new ConsumerClient(env, "k");
    const r = await k.beat();
    assert.equal(r.errorCode, GroupError.NONE);
    assert.equal(r.memberEpoch, 2, "the joiner bumps the group epoch from the classic generation");
    assert.deepEqual(k.partitions(), [], "everything is still held by the classic members");
    const described = (await env.coordinator.describeConsumerGroups([G]))[0]!;
    assert.equal(described.errorCode, GroupError.NONE);
    assert.equal(described.groupEpoch, 2);
    assert.deepEqual(
      described.members.map((m) => [
        m.memberId,
        m.usesClassicProtocol,
        m.memberEpoch,
        m.clientId,
        m.subscribedTopicNames.join(),
        m.assignment.flatMap((t) => t.partitions.map((p) => `${t.topicName}-${p}`)).join(),
      ]),
      [
        [a.memberId, true, 1, "a", "t", "t-0,t-1"],
        [b.memberId, true, 1, "b", "t", "t-2,t-3"],
        ["k", false, 2, "k", "t", ""],
      ],
    );
    // The classic group is gone: DescribeGroups sees a consumer group (Dead to it, as Kafka answers).
    assert.equal(env.coordinator.describeGroups([G])[0]!.state, "Dead");
    assert.deepEqual(
      env.coordinator.listGroups().map((g) => [g.groupId, g.groupType]),
      [[G, "consumer"]],
    );
  });

  it("classic members are told to rejoin, get their reconciled assignment, and no partition is ever held twice", async () => {
    const env = setup();
    const [a, b] = await classicGroup(env);
    const k = new ConsumerClient(env, "k");
    await k.beat();
    // A classic member at generation 1 in a group at epoch 2: rejoin.
    assert.equal(a.heartbeat(), GroupError.REBALANCE_IN_PROGRESS);
    const joined = await a.join();
    assert.equal(joined.errorCode, GroupError.NONE);
    assert.equal(joined.generationId, 2, "the generation is the member's new epoch");
    assert.equal(joined.protocolType, "consumer");
    assert.equal(joined.protocolName, "range", "the member's first protocol");
    assert.equal(joined.leader, "", "nobody runs an assignor");
    assert.equal(joined.members.length, 0);
    // The generation sent must be the member epoch.
    const staleSync = await env.coordinator.syncGroup({
      groupId: G,
      generationId: 1,
      memberId: a.memberId,
      groupInstanceId: null,
      protocolType: "consumer",
      protocolName: "range",
      assignments: [],
    });
    assert.equal(staleSync.errorCode, GroupError.ILLEGAL_GENERATION);
    assert.equal(await a.sync(), GroupError.NONE);
    assert.equal(a.owned.length, 1, "a keeps one partition of its target; the other goes to k");
    assertDisjoint({ a: a.owned, b: b.owned, k: k.partitions() });
    await settle([a, b], [k]);
    const all = [...a.owned, ...b.owned, ...k.partitions()].sort();
    assert.deepEqual(all, ["t-0", "t-1", "t-2", "t-3"]);
    for (const holder of [a.owned, b.owned, k.partitions()]) assert.ok(holder.length >= 1, "each holds a share");
    assert.equal((await env.coordinator.describeConsumerGroups([G]))[0]!.state, "Stable");
    assert.equal(a.heartbeat(), GroupError.NONE);
    assert.equal(a.heartbeat(), GroupError.NONE);
  });

  it("commits from classic members must carry their member epoch as generation (ILLEGAL_GENERATION otherwise)", async () => {
    const env = setup();
    const [a] = await classicGroup(env);
    await new ConsumerClient(env, "k").beat();
    const commit = (generationId: number, apiVersion: number) =>
      env.coordinator.commitOffsets({
        groupId: G,
        memberId: a.memberId,
        generationId,
        groupInstanceId: null,
        apiVersion,
        offsets: [{ topic: "t", partition: 0, offset: 5n, leaderEpoch: -1, metadata: null }],
      });
    assert.equal(await commit(1, 8), GroupError.NONE, "at its epoch, with a pre-KIP-848 OffsetCommit version");
    assert.equal(await commit(2, 8), GroupError.ILLEGAL_GENERATION);
    assert.equal(
      env.coordinator.fetchOffsets(G, null, { memberId: a.memberId, memberEpoch: 5 }).errorCode,
      GroupError.ILLEGAL_GENERATION,
    );
    assert.equal(env.coordinator.fetchOffsets(G, null, { memberId: a.memberId, memberEpoch: 1 }).errorCode, 0);
  });

  it("classic members keep their session timeout; one that leaves frees its partitions for the others", async () => {
    const env = setup();
    const [a, b] = await classicGroup(env);
    const k = new ConsumerClient(env, "k");
    await k.beat();
    await settle([a, b], [k]);
    // b leaves with LeaveGroup.
    const left = env.coordinator.leaveGroup(G, [{ memberId: b.memberId, groupInstanceId: null }]);
    assert.deepEqual(
      left.members.map((m) => m.errorCode),
      [GroupError.NONE],
    );
    b.owned = [];
    await settle([a], [k]);
    assert.deepEqual([...a.owned, ...k.partitions()].sort(), ["t-0", "t-1", "t-2", "t-3"]);
    // a stops heartbeating: gone after its own (classic) session timeout, while k beats.
    env.timers.advance(CLASSIC_SESSION / 2);
    await k.beat();
    env.timers.advance(CLASSIC_SESSION / 2 + 1);
    assert.deepEqual(
      (await env.coordinator.describeConsumerGroups([G]))[0]!.members.map((m) => m.memberId),
      ["k"],
    );
    assert.equal(a.heartbeat(), GroupError.UNKNOWN_MEMBER_ID);
    a.owned = [];
    await k.beat();
    await k.beat();
    assert.deepEqual(k.partitions(), ["t-0", "t-1", "t-2", "t-3"]);
  });

  it("a new classic member can join the consumer group (MEMBER_ID_REQUIRED, then JoinGroup/SyncGroup)", async () => {
    const env = setup();
    const k = new ConsumerClient(env, "k");
    await k.beat();
    const c = new ClassicClient(env, "c");
    const first = await env.coordinator.joinGroup({
      groupId: G,
      memberId: "",
      groupInstanceId: null,
      clientId: "c",
      clientHost: "/127.0.0.1",
      sessionTimeoutMs: CLASSIC_SESSION,
      rebalanceTimeoutMs: REBALANCE,
      protocolType: "consumer",
      protocols: [{ name: "range", metadata: subscription(["t"]) }],
      requireKnownMemberId: true,
      supportSkippingAssignment: true,
    });
    assert.equal(first.errorCode, GroupError.MEMBER_ID_REQUIRED);
    c.memberId = first.memberId;
    await c.rejoin();
    assert.deepEqual(c.owned, [], "k holds everything until it revokes");
    await settle([c], [k]);
    assert.equal(c.owned.length, 2);
    assert.equal(k.partitions().length, 2);
  });

  it("refuses to upgrade a group of another protocol type (Connect), a malformed one, a full one, or a non-zero epoch", async () => {
    // Connect: the group stays classic.
    let env = setup();
    const w = new ClassicClient(env, "w", "connect", Buffer.from("whatever"));
    const joined = w.join();
    await flush();
    env.timers.advance(3_000); // group.initial.rebalance.delay.ms
    assert.equal((await joined).errorCode, GroupError.NONE);
    let r = await new ConsumerClient(env, "k").beat();
    assert.equal(r.errorCode, GroupError.GROUP_ID_NOT_FOUND);
    assert.match(r.errorMessage ?? "", /not a consumer group/);
    assert.equal(env.coordinator.describeGroups([G])[0]!.state, "CompletingRebalance");

    // A "consumer" group whose subscription does not parse.
    env = setup();
    const bad = new ClassicClient(env, "bad", "consumer", Buffer.from([0, 1, 0]));
    const badJoin = bad.join();
    await flush();
    env.timers.advance(3_000);
    assert.equal((await badJoin).errorCode, GroupError.NONE);
    r = await new ConsumerClient(env, "k").beat();
    assert.equal(r.errorCode, GroupError.GROUP_ID_NOT_FOUND);
    assert.equal(env.coordinator.describeGroups([G])[0]!.state, "CompletingRebalance");

    // Full: no room for the joiner.
    env = setup(2);
    await classicGroup(env);
    r = await new ConsumerClient(env, "k").beat();
    assert.equal(r.errorCode, GroupError.GROUP_MAX_SIZE_REACHED);
    assert.equal(env.coordinator.describeGroups([G])[0]!.state, "Stable");

    // Only a joining member (epoch 0) converts.
    env = setup();
    await classicGroup(env);
    r = await new ConsumerClient(env, "k").beat({ memberEpoch: 3 });
    assert.equal(r.errorCode, GroupError.GROUP_ID_NOT_FOUND);
    assert.equal(env.coordinator.describeGroups([G])[0]!.state, "Stable");
  });

  it("a group caught mid-rebalance is upgraded: waiting JoinGroups are told to rejoin, and do so into the consumer group", async () => {
    const env = setup();
    const [a, b] = await classicGroup(env);
    // a rejoins: the classic group prepares a rebalance, a's JoinGroup waits for b.
    const waiting = a.join();
    assert.equal(env.coordinator.describeGroups([G])[0]!.state, "PreparingRebalance");
    const k = new ConsumerClient(env, "k");
    assert.equal((await k.beat()).errorCode, GroupError.NONE);
    assert.equal((await waiting).errorCode, GroupError.REBALANCE_IN_PROGRESS);
    // b still holds its partitions at generation 1; a gave its up (eager) and rejoins.
    await a.rejoin();
    await settle([a, b], [k]);
    assert.deepEqual([...a.owned, ...b.owned, ...k.partitions()].sort(), ["t-0", "t-1", "t-2", "t-3"]);
  });

  it("a cooperative classic member keeps its epoch until it rejoins without the partitions it must give up", async () => {
    const env = setup();
    const [a, b] = await classicGroup(env);
    a.cooperative = b.cooperative = true;
    a.generations.length = b.generations.length = 0; // only the joins into the consumer group count below
    const k = new ConsumerClient(env, "k");
    await k.beat();
    // Both must give one partition up to k (uniform: 2 + 1 + 1 over four partitions, so at least one does).
    assert.equal(a.heartbeat(), GroupError.REBALANCE_IN_PROGRESS);
    const joined = await a.join();
    const stillOwned = [...a.owned];
    assert.equal(await a.sync(), GroupError.NONE);
    if (a.owned.length < stillOwned.length) {
      assert.equal(joined.generationId, 1, "a still owns what it must revoke: it stays at its epoch");
      assert.equal(a.heartbeat(), GroupError.REBALANCE_IN_PROGRESS, "told to rejoin once it revoked");
      assertDisjoint({ a: a.owned, b: b.owned, k: k.partitions() });
      const again = await a.join();
      assert.equal(again.generationId, 2, "reported without them: the target epoch");
      assert.equal(await a.sync(), GroupError.NONE);
    }
    await settle([a, b], [k]);
    assert.deepEqual([...a.owned, ...b.owned, ...k.partitions()].sort(), ["t-0", "t-1", "t-2", "t-3"]);
    assert.ok(
      [a, b].some((c) => c.generations.filter((g) => g === 1).length > 0 && c.generations.includes(2)),
      "some member revoked at its old epoch before moving on",
    );
  });

  it("a static classic member restarted with a new member id takes its predecessor's place and partitions", async () => {
    const env = setup();
    const k = new ConsumerClient(env, "k");
    await k.beat();
    const s1 = new ClassicClient(env, "s1");
    s1.instanceId = "instance-1";
    await s1.rejoin();
    await settle([s1], [k]);
    const held = [...s1.owned];
    assert.equal(held.length, 2);
    const epoch = (await env.coordinator.describeConsumerGroups([G]))[0]!.groupEpoch;
    const s2 = new ClassicClient(env, "s2");
    s2.instanceId = "instance-1";
    await s2.rejoin();
    assert.deepEqual(s2.owned, held, "the same partitions");
    assert.equal((await env.coordinator.describeConsumerGroups([G]))[0]!.groupEpoch, epoch, "no new group epoch");
    assert.equal(s1.heartbeat(), GroupError.FENCED_INSTANCE_ID);
    assert.deepEqual(
      (await env.coordinator.describeConsumerGroups([G]))[0]!.members.map((m) => [m.memberId, m.instanceId]),
      [
        ["k", null],
        [s2.memberId, "instance-1"],
      ],
    );
  });

  it("a classic instance replacing the last static consumer-protocol member turns the group classic, without a rebalance", async () => {
    const env = setup();
    const [a, b] = await classicGroup(env);
    const k = new ConsumerClient(env, "k");
    await k.beat({ instanceId: "i-k" });
    await settle([a, b], [k]);
    const held = k.partitions();
    assert.equal(held.length, 1);
    const epoch = (await env.coordinator.describeConsumerGroups([G]))[0]!.groupEpoch;
    const s = new ClassicClient(env, "s");
    s.instanceId = "i-k";
    const joined = await s.join();
    assert.equal(joined.errorCode, GroupError.NONE);
    assert.equal(joined.generationId, epoch);
    const classic = env.coordinator.describeGroups([G])[0]!;
    assert.equal(classic.state, "Stable", "a classic group, not rebalancing");
    assert.equal(classic.members.length, 3);
    assert.equal(await s.sync(), GroupError.NONE);
    assert.deepEqual(s.owned, held, "the new instance has its predecessor's partitions");
    assert.deepEqual(
      [a.heartbeat(), b.heartbeat(), s.heartbeat()],
      [GroupError.NONE, GroupError.NONE, GroupError.NONE],
    );
    assertDisjoint({ a: a.owned, b: b.owned, s: s.owned });
  });

  it("classic members of a consumer group another coordinator claimed are told NOT_COORDINATOR once, then carry on from the record", async () => {
    const env = setup();
    const [a, b] = await classicGroup(env);
    await new ConsumerClient(env, "k").beat();
    await env.store.claimGroup(G, "another-agent");
    assert.equal(a.heartbeat(), GroupError.NOT_COORDINATOR);
    // Back here, the group is loaded from its record (retriable meanwhile), classic members included.
    assert.equal(a.heartbeat(), GroupError.COORDINATOR_NOT_AVAILABLE);
    for (let i = 0; i < 5; i++) await flush();
    assert.ok(
      ([GroupError.NONE, GroupError.REBALANCE_IN_PROGRESS] as number[]).includes(a.heartbeat()),
      "the classic member is known at its generation",
    );
    const described = (await env.coordinator.describeConsumerGroups([G]))[0]!;
    assert.deepEqual(
      described.members
        .filter((m) => m.usesClassicProtocol)
        .map((m) => m.memberId)
        .sort(),
      [a.memberId, b.memberId].sort(),
      "the classic members were recorded as classic",
    );
    assert.equal((await b.join()).errorCode, GroupError.NONE);
  });

  it("the group goes back to classic when the last consumer-protocol member leaves, and rebalances", async () => {
    const env = setup();
    const [a, b] = await classicGroup(env);
    const k = new ConsumerClient(env, "k");
    await k.beat();
    await settle([a, b], [k]);
    const epoch = (await env.coordinator.describeConsumerGroups([G]))[0]!.groupEpoch;
    const left = await k.beat({ memberEpoch: -1 });
    assert.equal(left.errorCode, GroupError.NONE);
    assert.ok(env.store.consumerGroups.has(G) === false, "a classic group again: its consumer-group record is gone");
    const described = (await env.coordinator.describeConsumerGroups([G]))[0]!;
    assert.equal(described.errorCode, GroupError.GROUP_ID_NOT_FOUND);
    assert.match(described.errorMessage ?? "", /not a consumer group/);
    const classic = env.coordinator.describeGroups([G])[0]!;
    assert.equal(classic.state, "PreparingRebalance");
    assert.equal(classic.protocolType, "consumer");
    assert.deepEqual(classic.members.map((m) => m.memberId).sort(), [a.memberId, b.memberId].sort());
    // The classic members are at the group epoch: their heartbeat says rebalance; they rejoin classically.
    assert.equal(a.generation, epoch);
    assert.equal(a.heartbeat(), GroupError.REBALANCE_IN_PROGRESS);
    const ja = a.join();
    const jb = b.join();
    const [ra, rb] = await Promise.all([ja, jb]);
    assert.equal(ra.errorCode, GroupError.NONE);
    assert.equal(ra.generationId, epoch + 1);
    const leader = ra.leader === a.memberId ? a : b;
    assert.equal((leader === a ? ra : rb).members.length, 2, "the leader gets every member's subscription");
    const follower = leader === a ? b : a;
    const synced = Promise.all([
      leader.sync([
        { memberId: a.memberId, assignment: assign("t", [0, 1]) },
        { memberId: b.memberId, assignment: assign("t", [2, 3]) },
      ]),
      follower.sync(),
    ]);
    await flush();
    assert.deepEqual(await synced, [GroupError.NONE, GroupError.NONE]);
    assert.equal(env.coordinator.describeGroups([G])[0]!.state, "Stable");
    assert.deepEqual([...a.owned, ...b.owned].sort(), ["t-0", "t-1", "t-2", "t-3"]);
  });
});
