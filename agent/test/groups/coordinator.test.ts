/**
 * The classic group coordinator's state machine, driven through its public methods with manual timers
 * (time only moves when a test advances it) and an in-memory offset store (the agent's real one lives on
 * the metadata log and is tested with it).
 */
import assert from "node:assert/strict";
import winston from "winston";
import {
  GroupCoordinator,
  GroupError,
  type GroupCoordinatorConfig,
  type GroupProtocol,
  type JoinGroupResult,
  type SyncGroupResult,
} from "../../src/groups/coordinator.js";
import { ManualTimers } from "./manual-timers.js";
import { MemGroupOffsetStore } from "./mem-offset-store.js";

const silent = winston.createLogger({ silent: true });
const G = "group-1";
const SESSION = 10_000;
const REBALANCE = 30_000;
const DELAY = 3_000;

function proto(name: string, metadata = name): GroupProtocol {
  return { name, metadata: Buffer.from(metadata) };
}

interface JoinOptions {
  memberId?: string;
  instanceId?: string | null;
  clientId?: string;
  protocols?: GroupProtocol[];
  protocolType?: string;
  sessionTimeoutMs?: number;
  rebalanceTimeoutMs?: number;
  requireKnownMemberId?: boolean;
  supportSkippingAssignment?: boolean;
  groupId?: string;
}

class Harness {
  readonly timers = new ManualTimers();
  readonly store = new MemGroupOffsetStore();
  readonly coordinator: GroupCoordinator;

  constructor(config: Partial<GroupCoordinatorConfig> = {}) {
    this.coordinator = new GroupCoordinator({ offsets: this.store, timers: this.timers, log: silent, ...config });
  }

  join(o: JoinOptions = {}): Promise<JoinGroupResult> {
    return this.coordinator.joinGroup({
      groupId: o.groupId ?? G,
      memberId: o.memberId ?? "",
      groupInstanceId: o.instanceId ?? null,
      clientId: o.clientId ?? "client",
      clientHost: "/127.0.0.1",
      sessionTimeoutMs: o.sessionTimeoutMs ?? SESSION,
      rebalanceTimeoutMs: o.rebalanceTimeoutMs ?? REBALANCE,
      protocolType: o.protocolType ?? "consumer",
      protocols: o.protocols ?? [proto("range")],
      requireKnownMemberId: o.requireKnownMemberId ?? true,
      supportSkippingAssignment: o.supportSkippingAssignment ?? false,
    });
  }

  /** KIP-394 two-step join: returns the member id and the pending second JoinGroup. */
  async joinDynamic(o: JoinOptions = {}): Promise<{ memberId: string; joined: Promise<JoinGroupResult> }> {
    const first = await this.join({ ...o, memberId: "" });
    assert.equal(first.errorCode, GroupError.MEMBER_ID_REQUIRED);
    return { memberId: first.memberId, joined: this.join({ ...o, memberId: first.memberId }) };
  }

  sync(
    memberId: string,
    generationId: number,
    assignments: Record<string, string> = {},
    instanceId: string | null = null,
  ): Promise<SyncGroupResult> {
    return this.coordinator.syncGroup({
      groupId: G,
      generationId,
      memberId,
      groupInstanceId: instanceId,
      protocolType: null,
      protocolName: null,
      assignments: Object.entries(assignments).map(([id, a]) => ({ memberId: id, assignment: Buffer.from(a) })),
    });
  }

  heartbeat(memberId: string, generationId: number, instanceId: string | null = null): number {
    return this.coordinator.heartbeat({ groupId: G, memberId, generationId, groupInstanceId: instanceId });
  }

  /** Advances time by `ms` in 3 s steps, heartbeating for the given members on the way. */
  keepAlive(
    members: readonly { memberId: string; generation: number; instanceId?: string | null }[],
    ms: number,
  ): void {
    let left = ms;
    while (left > 0) {
      for (const m of members) this.heartbeat(m.memberId, m.generation, m.instanceId ?? null);
      const step = Math.min(3_000, left);
      this.timers.advance(step);
      left -= step;
    }
  }

  /** Lets pending store calls finish: the first JoinGroup of a group waits for its coordinator epoch. */
  settle(): Promise<void> {
    return new Promise((r) => setImmediate(r));
  }

  state(groupId = G): string {
    return this.coordinator.groupState(groupId);
  }

  /**
   * Brings `count` dynamic members to Stable generation 1; the leader assigns "a-<index>" to each.
   */
  async stableGroup(
    count: number,
    o: JoinOptions = {},
  ): Promise<{ ids: string[]; generation: number; leader: string }> {
    const joins: Promise<JoinGroupResult>[] = [];
    const ids: string[] = [];
    for (let i = 0; i < count; i++) {
      const { memberId, joined } = await this.joinDynamic({ ...o, clientId: `c${i}` });
      ids.push(memberId);
      joins.push(joined);
    }
    this.timers.advance(DELAY * (count + 1));
    const results = await Promise.all(joins);
    const generation = results[0]!.generationId;
    const leader = results[0]!.leader;
    const assignments = Object.fromEntries(ids.map((id, i) => [id, `a-${i}`]));
    const syncs = results.map((r) => this.sync(r.memberId, generation, r.memberId === leader ? assignments : {}));
    await Promise.all(syncs);
    assert.equal(this.state(), "Stable");
    return { ids, generation, leader };
  }
}

async function isSettled(p: Promise<unknown>): Promise<boolean> {
  let done = false;
  void p.then(
    () => (done = true),
    () => (done = true),
  );
  await new Promise((r) => setImmediate(r));
  return done;
}

describe("GroupCoordinator (classic groups)", () => {
  let h: Harness;
  afterEach(() => h?.coordinator.close());

  describe("JoinGroup", () => {
    it("asks a v4+ member without id to rejoin with a generated one (MEMBER_ID_REQUIRED, KIP-394)", async () => {
      h = new Harness();
      const first = await h.join({ clientId: "my-client" });
      assert.equal(first.errorCode, GroupError.MEMBER_ID_REQUIRED);
      assert.match(first.memberId, /^my-client-[0-9a-f-]{36}$/);
      assert.equal(h.state(), "Empty");
      const joined = h.join({ memberId: first.memberId, clientId: "my-client" });
      assert.equal(await isSettled(joined), false, "the first rebalance waits for the initial delay");
      h.timers.advance(DELAY);
      const r = await joined;
      assert.equal(r.errorCode, GroupError.NONE);
      assert.equal(r.generationId, 1);
      assert.equal(r.leader, first.memberId);
      assert.equal(r.protocolName, "range");
      assert.equal(r.protocolType, "consumer");
      assert.deepEqual(
        r.members.map((m) => m.memberId),
        [first.memberId],
      );
      assert.equal(h.state(), "CompletingRebalance");
    });

    it("adds a member directly on JoinGroup v0-v3 (no member id round trip)", async () => {
      h = new Harness();
      const joined = h.join({ requireKnownMemberId: false, clientId: "old" });
      await h.settle();
      h.timers.advance(DELAY);
      const r = await joined;
      assert.equal(r.errorCode, GroupError.NONE);
      assert.match(r.memberId, /^old-/);
      assert.equal(r.generationId, 1);
    });

    it("rejects a member id the group does not know", async () => {
      h = new Harness();
      assert.equal((await h.join({ memberId: "ghost" })).errorCode, GroupError.UNKNOWN_MEMBER_ID);
      await h.stableGroup(1);
      assert.equal((await h.join({ memberId: "ghost" })).errorCode, GroupError.UNKNOWN_MEMBER_ID);
    });

    for (const [name, timeout, config, expected] of [
      ["below the minimum", 5_999, {}, GroupError.INVALID_SESSION_TIMEOUT],
      ["at the minimum", 6_000, {}, GroupError.MEMBER_ID_REQUIRED],
      ["at the maximum", 1_800_000, {}, GroupError.MEMBER_ID_REQUIRED],
      ["above the maximum", 1_800_001, {}, GroupError.INVALID_SESSION_TIMEOUT],
      ["below a configured minimum", 9_000, { minSessionTimeoutMs: 10_000 }, GroupError.INVALID_SESSION_TIMEOUT],
    ] as const) {
      it(`checks the session timeout: ${name}`, async () => {
        h = new Harness(config);
        assert.equal((await h.join({ sessionTimeoutMs: timeout })).errorCode, expected);
      });
    }

    it("rejects members whose protocol type or protocols do not fit the group (INCONSISTENT_GROUP_PROTOCOL)", async () => {
      h = new Harness();
      assert.equal((await h.join({ protocols: [] })).errorCode, GroupError.INCONSISTENT_GROUP_PROTOCOL);
      assert.equal((await h.join({ protocolType: "" })).errorCode, GroupError.INCONSISTENT_GROUP_PROTOCOL);
      await h.stableGroup(1, { protocols: [proto("range")] });
      assert.equal((await h.join({ protocolType: "connect" })).errorCode, GroupError.INCONSISTENT_GROUP_PROTOCOL);
      assert.equal((await h.join({ protocols: [proto("sticky")] })).errorCode, GroupError.INCONSISTENT_GROUP_PROTOCOL);
    });

    it("extends the initial delay while members keep joining, bounded by the rebalance timeout", async () => {
      h = new Harness();
      const a = await h.joinDynamic({ clientId: "a" });
      h.timers.advance(2_000);
      const b = await h.joinDynamic({ clientId: "b" });
      h.timers.advance(1_000); // t = 3000: b joined during the delay, so it is extended
      assert.equal(await isSettled(a.joined), false);
      h.timers.advance(2_999);
      assert.equal(await isSettled(a.joined), false);
      h.timers.advance(1); // t = 6000
      const [ra, rb] = await Promise.all([a.joined, b.joined]);
      assert.equal(ra.generationId, 1);
      assert.equal(rb.generationId, 1);
      assert.equal(ra.leader, a.memberId);
      assert.equal(ra.members.length, 2, "the leader gets every member's metadata");
      assert.equal(rb.members.length, 0, "followers get none");

      const bounded = new Harness();
      try {
        const x = await bounded.joinDynamic({ clientId: "x", rebalanceTimeoutMs: 4_000 });
        bounded.timers.advance(2_500);
        const y = await bounded.joinDynamic({ clientId: "y", rebalanceTimeoutMs: 4_000 });
        bounded.timers.advance(500); // t = 3000, extension limited to 1000 more
        assert.equal(await isSettled(x.joined), false);
        bounded.timers.advance(1_000);
        assert.equal((await x.joined).generationId, 1);
        assert.equal((await y.joined).members.length, 0);
      } finally {
        bounded.coordinator.close();
      }
    });

    it("does not end the join phase while a member that got MEMBER_ID_REQUIRED may still join, until it expires", async () => {
      h = new Harness();
      const { ids, generation } = await h.stableGroup(1);
      // A new member asks for an id but never comes back; then the leader's rejoin starts a rebalance.
      const pending = await h.join({ clientId: "slow" });
      assert.equal(pending.errorCode, GroupError.MEMBER_ID_REQUIRED);
      assert.equal(h.state(), "Stable");
      const rejoin = h.join({ memberId: ids[0]! });
      assert.equal(h.state(), "PreparingRebalance");
      const r0 = h.join({ memberId: ids[0]! });
      assert.equal(
        (await rejoin).errorCode,
        GroupError.REBALANCE_IN_PROGRESS,
        "a retried JoinGroup replaces the earlier one",
      );
      assert.equal(await isSettled(r0), false);
      h.timers.advance(SESSION - 1);
      assert.equal(await isSettled(r0), false);
      h.timers.advance(1); // the pending member's id expires after its session timeout
      const r = await r0;
      assert.equal(r.errorCode, GroupError.NONE);
      assert.equal(r.generationId, generation + 1);
    });

    it("selects the protocol every member supports, by vote", async () => {
      h = new Harness();
      const a = await h.joinDynamic({ clientId: "a", protocols: [proto("range"), proto("roundrobin")] });
      const b = await h.joinDynamic({ clientId: "b", protocols: [proto("range"), proto("roundrobin")] });
      const c = await h.joinDynamic({ clientId: "c", protocols: [proto("roundrobin"), proto("range")] });
      h.timers.advance(DELAY * 4);
      const results = await Promise.all([a.joined, b.joined, c.joined]);
      for (const r of results) assert.equal(r.protocolName, "range");
      const leader = results.find((r) => r.memberId === r.leader)!;
      const metadata = new Map(leader.members.map((m) => [m.memberId, Buffer.from(m.metadata).toString()]));
      assert.equal(
        metadata.get(c.memberId),
        "range",
        "the leader sees each member's metadata for the selected protocol",
      );

      const h2 = new Harness();
      try {
        const x = await h2.joinDynamic({ clientId: "x", protocols: [proto("range"), proto("roundrobin")] });
        const y = await h2.joinDynamic({ clientId: "y", protocols: [proto("roundrobin")] });
        h2.timers.advance(DELAY * 3);
        assert.equal((await x.joined).protocolName, "roundrobin", "only roundrobin is supported by all");
        assert.equal((await y.joined).protocolName, "roundrobin");
      } finally {
        h2.coordinator.close();
      }
    });

    it("answers a follower rejoining a Stable group with unchanged metadata without a rebalance, and rebalances for the leader", async () => {
      h = new Harness();
      const { ids, generation, leader } = await h.stableGroup(2);
      const follower = ids.find((id) => id !== leader)!;
      const r = await h.join({ memberId: follower });
      assert.equal(r.errorCode, GroupError.NONE);
      assert.equal(r.generationId, generation);
      assert.equal(h.state(), "Stable");
      const leaderJoin = h.join({ memberId: leader });
      assert.equal(h.state(), "PreparingRebalance");
      assert.equal(h.heartbeat(follower, generation), GroupError.REBALANCE_IN_PROGRESS);
      const followerJoin = h.join({ memberId: follower });
      const [l, f] = await Promise.all([leaderJoin, followerJoin]); // all members rejoined: no waiting for timers
      assert.equal(l.generationId, generation + 1);
      assert.equal(f.generationId, generation + 1);
    });

    it("rejects new members beyond group.max.size (GROUP_MAX_SIZE_REACHED)", async () => {
      h = new Harness({ maxGroupSize: 1 });
      const { ids, generation } = await h.stableGroup(1);
      assert.equal((await h.join({ clientId: "second" })).errorCode, GroupError.GROUP_MAX_SIZE_REACHED);
      assert.equal(h.state(), "Stable");
      assert.equal(h.heartbeat(ids[0]!, generation), GroupError.NONE, "the existing member is unaffected");
    });
  });

  describe("rebalances", () => {
    it("3 members join, one leaves: the others are told to rejoin and form the next generation", async () => {
      h = new Harness();
      const { ids, generation, leader } = await h.stableGroup(3);
      const leaving = ids.find((id) => id !== leader)!;
      const stay = ids.filter((id) => id !== leaving);
      const left = h.coordinator.leaveGroup(G, [{ memberId: leaving, groupInstanceId: null, reason: "shutdown" }]);
      assert.deepEqual(left, { errorCode: 0, members: [{ memberId: leaving, groupInstanceId: null, errorCode: 0 }] });
      assert.equal(h.state(), "PreparingRebalance");
      for (const id of stay) assert.equal(h.heartbeat(id, generation), GroupError.REBALANCE_IN_PROGRESS);
      assert.equal(h.heartbeat(leaving, generation), GroupError.UNKNOWN_MEMBER_ID);
      const rejoins = stay.map((id) => h.join({ memberId: id }));
      const results = await Promise.all(rejoins);
      for (const r of results) assert.equal(r.generationId, generation + 1);
      const leaderResult = results.find((r) => r.memberId === r.leader)!;
      assert.deepEqual(new Set(leaderResult.members.map((m) => m.memberId)), new Set(stay));
      assert.equal(h.state(), "CompletingRebalance");
    });

    it("removes members that do not rejoin before the rebalance timeout", async () => {
      h = new Harness();
      const { ids, generation, leader } = await h.stableGroup(2);
      const follower = ids.find((id) => id !== leader)!;
      const rejoin = h.join({ memberId: leader });
      h.keepAlive([{ memberId: follower, generation }], REBALANCE - 1); // still alive, but it never rejoins
      assert.equal(await isSettled(rejoin), false);
      h.timers.advance(1);
      const r = await rejoin;
      assert.equal(r.generationId, generation + 1);
      assert.deepEqual(
        r.members.map((m) => m.memberId),
        [leader],
      );
      assert.equal(h.heartbeat(follower, generation), GroupError.UNKNOWN_MEMBER_ID);
    });

    it("elects a new leader when the old one does not rejoin", async () => {
      h = new Harness();
      const { ids, generation, leader } = await h.stableGroup(2);
      const follower = ids.find((id) => id !== leader)!;
      const rejoin = h.join({ memberId: follower, protocols: [proto("range", "changed")] });
      h.timers.advance(REBALANCE);
      const r = await rejoin;
      assert.equal(r.generationId, generation + 1);
      assert.equal(r.leader, follower);
      assert.equal(r.members.length, 1);
    });

    it("a member that misses its heartbeats is expelled and the group rebalances", async () => {
      h = new Harness();
      const { ids, generation } = await h.stableGroup(2);
      const [alive, silentMember] = ids as [string, string];
      for (let t = 0; t < SESSION; t += 3_000) {
        assert.equal(h.heartbeat(alive, generation), GroupError.NONE);
        h.timers.advance(3_000);
      }
      assert.equal(h.state(), "PreparingRebalance", "the silent member's session expired");
      assert.equal(h.heartbeat(alive, generation), GroupError.REBALANCE_IN_PROGRESS);
      const r = await h.join({ memberId: alive });
      assert.equal(r.generationId, generation + 1);
      assert.equal(r.leader, alive);
      assert.equal(h.heartbeat(silentMember, generation), GroupError.UNKNOWN_MEMBER_ID);
      const described = h.coordinator.describeGroups([G])[0]!;
      assert.deepEqual(
        described.members.map((m) => m.memberId),
        [alive],
      );
    });

    it("the last member leaving empties the group (next generation, state Empty)", async () => {
      h = new Harness();
      const { ids, generation } = await h.stableGroup(1);
      h.coordinator.leaveGroup(G, [{ memberId: ids[0]!, groupInstanceId: null }]);
      assert.equal(h.state(), "Empty");
      assert.equal(h.heartbeat(ids[0]!, generation + 1), GroupError.UNKNOWN_MEMBER_ID);
      assert.equal(h.timers.scheduled, 0, "no timers left for an empty group");
    });

    it("removes members that never send SyncGroup after the join phase", async () => {
      h = new Harness();
      const a = await h.joinDynamic({ clientId: "a" });
      const b = await h.joinDynamic({ clientId: "b" });
      h.timers.advance(DELAY * 3);
      const [ra] = await Promise.all([a.joined, b.joined]);
      const leaderSync = h.sync(a.memberId, ra.generationId, { [a.memberId]: "x", [b.memberId]: "y" });
      assert.equal((await leaderSync).errorCode, GroupError.NONE);
      assert.equal(h.state(), "Stable");
      // b keeps its session alive but never syncs; the pending-sync deadline is the rebalance timeout.
      h.keepAlive(
        [
          { memberId: a.memberId, generation: ra.generationId },
          { memberId: b.memberId, generation: ra.generationId },
        ],
        REBALANCE,
      );
      assert.equal(h.state(), "PreparingRebalance");
      assert.equal(h.heartbeat(b.memberId, ra.generationId), GroupError.UNKNOWN_MEMBER_ID);
    });
  });

  describe("SyncGroup", () => {
    it("a follower's SyncGroup waits for the leader's assignment", async () => {
      h = new Harness();
      const a = await h.joinDynamic({ clientId: "a" });
      const b = await h.joinDynamic({ clientId: "b" });
      h.timers.advance(DELAY * 3);
      const [ra, rb] = await Promise.all([a.joined, b.joined]);
      assert.equal(ra.leader, a.memberId);
      const followerSync = h.sync(b.memberId, rb.generationId);
      assert.equal(await isSettled(followerSync), false);
      assert.equal(
        h.heartbeat(b.memberId, rb.generationId),
        GroupError.NONE,
        "heartbeats are fine in CompletingRebalance",
      );
      const leaderSync = h.sync(a.memberId, ra.generationId, { [a.memberId]: "for-a", [b.memberId]: "for-b" });
      const [fs, ls] = await Promise.all([followerSync, leaderSync]);
      assert.equal(Buffer.from(fs.assignment).toString(), "for-b");
      assert.equal(Buffer.from(ls.assignment).toString(), "for-a");
      assert.equal(fs.protocolName, "range");
      assert.equal(fs.protocolType, "consumer");
      assert.equal(h.state(), "Stable");
      // In Stable, SyncGroup returns the stored assignment at once.
      assert.equal(Buffer.from((await h.sync(b.memberId, rb.generationId)).assignment).toString(), "for-b");
    });

    it("gives members the leader left out an empty assignment", async () => {
      h = new Harness();
      const a = await h.joinDynamic({ clientId: "a" });
      const b = await h.joinDynamic({ clientId: "b" });
      h.timers.advance(DELAY * 3);
      const [ra] = await Promise.all([a.joined, b.joined]);
      const fs = h.sync(b.memberId, ra.generationId);
      await h.sync(a.memberId, ra.generationId, { [a.memberId]: "all", unknown: "zzz" });
      assert.equal((await fs).assignment.length, 0);
    });

    it("answers errors: unknown member, stale generation, rebalance in progress, wrong protocol", async () => {
      h = new Harness();
      assert.equal((await h.sync("nobody", 1)).errorCode, GroupError.UNKNOWN_MEMBER_ID);
      const { ids, generation, leader } = await h.stableGroup(2);
      assert.equal((await h.sync("nobody", generation)).errorCode, GroupError.UNKNOWN_MEMBER_ID);
      assert.equal((await h.sync(ids[0]!, generation - 1)).errorCode, GroupError.ILLEGAL_GENERATION);
      const wrong = await h.coordinator.syncGroup({
        groupId: G,
        generationId: generation,
        memberId: ids[0]!,
        groupInstanceId: null,
        protocolType: "consumer",
        protocolName: "sticky",
        assignments: [],
      });
      assert.equal(wrong.errorCode, GroupError.INCONSISTENT_GROUP_PROTOCOL);
      void h.join({ memberId: leader });
      assert.equal((await h.sync(ids[1]!, generation)).errorCode, GroupError.REBALANCE_IN_PROGRESS);
    });

    it("a rebalance starting while followers wait for the assignment answers them REBALANCE_IN_PROGRESS", async () => {
      h = new Harness();
      const a = await h.joinDynamic({ clientId: "a" });
      const b = await h.joinDynamic({ clientId: "b" });
      h.timers.advance(DELAY * 3);
      const [, rb] = await Promise.all([a.joined, b.joined]);
      const waiting = h.sync(b.memberId, rb.generationId);
      const c = await h.join({ clientId: "c" });
      void h.join({ memberId: c.memberId }); // a new member joins: rebalance
      assert.equal((await waiting).errorCode, GroupError.REBALANCE_IN_PROGRESS);
      assert.equal(h.state(), "PreparingRebalance");
    });

    it("hands out no assignment when the generation cannot be recorded, and rebalances", async () => {
      h = new Harness();
      const a = await h.joinDynamic({ clientId: "a" });
      const b = await h.joinDynamic({ clientId: "b" });
      h.timers.advance(DELAY * 3);
      const [ra, rb] = await Promise.all([a.joined, b.joined]);
      const followerSync = h.sync(b.memberId, rb.generationId);
      h.store.failGenerations = new Error("log append failed");
      const leaderSync = h.sync(a.memberId, ra.generationId, { [a.memberId]: "for-a", [b.memberId]: "for-b" });
      for (const s of await Promise.all([followerSync, leaderSync])) {
        assert.equal(s.errorCode, GroupError.COORDINATOR_NOT_AVAILABLE);
        assert.equal(s.assignment.length, 0);
      }
      assert.equal(h.state(), "PreparingRebalance");
    });

    it("a coordinator taking a group over continues its generations; the one it fenced answers NOT_COORDINATOR", async () => {
      h = new Harness();
      const { ids, generation } = await h.stableGroup(1);
      const next = new GroupCoordinator({ offsets: h.store, timers: h.timers, log: silent });
      try {
        const joining = next.joinGroup({
          groupId: G,
          memberId: "",
          groupInstanceId: null,
          clientId: "moved",
          clientHost: "/127.0.0.1",
          sessionTimeoutMs: SESSION,
          rebalanceTimeoutMs: REBALANCE,
          protocolType: "consumer",
          protocols: [proto("range")],
          requireKnownMemberId: false,
          supportSkippingAssignment: false,
        });
        await h.settle();
        h.timers.advance(DELAY);
        const first = await joining;
        assert.equal(first.errorCode, GroupError.NONE);
        assert.equal(first.generationId, generation + 1, "generation ids are never reused");
        assert.equal(h.heartbeat(ids[0]!, generation), GroupError.NOT_COORDINATOR);
        assert.equal(h.heartbeat(ids[0]!, generation), GroupError.UNKNOWN_MEMBER_ID);
      } finally {
        next.close();
      }
    });
  });

  describe("Heartbeat", () => {
    it("answers in each state", async () => {
      h = new Harness();
      assert.equal(h.heartbeat("m", 0), GroupError.UNKNOWN_MEMBER_ID, "unknown group");
      const a = await h.joinDynamic({ clientId: "a" });
      assert.equal(h.heartbeat(a.memberId, 0), GroupError.REBALANCE_IN_PROGRESS, "PreparingRebalance");
      h.timers.advance(DELAY);
      const r = await a.joined;
      assert.equal(h.heartbeat(a.memberId, r.generationId), GroupError.NONE, "CompletingRebalance");
      assert.equal(h.heartbeat(a.memberId, r.generationId + 1), GroupError.ILLEGAL_GENERATION);
      assert.equal(h.heartbeat("other", r.generationId), GroupError.UNKNOWN_MEMBER_ID);
      await h.sync(a.memberId, r.generationId, { [a.memberId]: "x" });
      assert.equal(h.heartbeat(a.memberId, r.generationId), GroupError.NONE, "Stable");
      h.coordinator.leaveGroup(G, [{ memberId: a.memberId, groupInstanceId: null }]);
      assert.equal(h.state(), "Empty");
      assert.equal(h.heartbeat(a.memberId, r.generationId + 1), GroupError.UNKNOWN_MEMBER_ID, "Empty");
    });
  });

  describe("static membership (KIP-345)", () => {
    async function staticGroup(supportSkippingAssignment = false) {
      const s1 = h.join({ instanceId: "i-1", clientId: "c1", supportSkippingAssignment });
      const s2 = h.join({ instanceId: "i-2", clientId: "c2", supportSkippingAssignment });
      await h.settle();
      h.timers.advance(DELAY * 3);
      const [r1, r2] = await Promise.all([s1, s2]);
      assert.match(r1.memberId, /^i-1-/, "a static member's id starts with its instance id");
      const leader = r1.leader;
      const byId = { [r1.memberId]: "assign-1", [r2.memberId]: "assign-2" };
      await Promise.all([
        h.sync(r1.memberId, r1.generationId, leader === r1.memberId ? byId : {}, "i-1"),
        h.sync(r2.memberId, r2.generationId, leader === r2.memberId ? byId : {}, "i-2"),
      ]);
      assert.equal(h.state(), "Stable");
      return { r1, r2, generation: r1.generationId, leader };
    }

    it("a restarted static member replaces its old member id without a rebalance", async () => {
      h = new Harness();
      const { r2, generation, leader } = await staticGroup();
      const restarted = await h.join({ instanceId: "i-2", clientId: "c2" });
      assert.equal(restarted.errorCode, GroupError.NONE);
      assert.equal(restarted.generationId, generation, "same generation: no rebalance");
      assert.notEqual(restarted.memberId, r2.memberId);
      assert.equal(h.state(), "Stable");
      assert.equal(restarted.members.length, 0);
      if (leader === r2.memberId)
        assert.equal(restarted.leader, r2.memberId, "old clients get the old leader id, so they do not assign");
      const s = await h.sync(restarted.memberId, generation, {}, "i-2");
      assert.equal(Buffer.from(s.assignment).toString(), "assign-2", "it keeps its assignment");
      assert.equal(
        h.heartbeat(r2.memberId, generation, "i-2"),
        GroupError.FENCED_INSTANCE_ID,
        "the old incarnation is fenced",
      );
      assert.equal(
        (await h.join({ memberId: r2.memberId, instanceId: "i-2" })).errorCode,
        GroupError.FENCED_INSTANCE_ID,
      );
      assert.equal(h.heartbeat(restarted.memberId, generation, "i-2"), GroupError.NONE);
    });

    it("a restarted static leader on JoinGroup v9 is told to skip the assignment (KIP-814)", async () => {
      h = new Harness();
      const { r1, r2, generation, leader } = await staticGroup(true);
      const instance = leader === r1.memberId ? "i-1" : "i-2";
      const restarted = await h.join({ instanceId: instance, clientId: "c", supportSkippingAssignment: true });
      assert.equal(restarted.generationId, generation);
      assert.equal(restarted.leader, restarted.memberId);
      assert.equal(restarted.skipAssignment, true);
      assert.equal(restarted.members.length, 2);
      assert.ok(![r1.memberId, r2.memberId].includes(restarted.memberId));
      assert.equal(h.state(), "Stable");
    });

    it("rebalances when the restarted static member changes the group's protocol", async () => {
      h = new Harness();
      await staticGroup();
      void h.join({ instanceId: "i-1", clientId: "c1", protocols: [proto("roundrobin"), proto("range")] });
      // Votes tie 1–1 between roundrobin and range; the leader's preference decides, so whether it changes
      // depends on who leads. Make it unambiguous: the other member also prefers roundrobin now.
      void h.join({ instanceId: "i-2", clientId: "c2", protocols: [proto("roundrobin"), proto("range")] });
      assert.equal(h.state(), "PreparingRebalance");
    });

    it("static members that do not rejoin in time stay until their session expires", async () => {
      h = new Harness();
      const { r1, r2, leader } = await staticGroup();
      const [lead, other] = leader === r1.memberId ? [r1, r2] : [r2, r1];
      const rejoin = h.join({ memberId: lead.memberId, instanceId: lead === r1 ? "i-1" : "i-2" });
      h.keepAlive(
        [{ memberId: other.memberId, generation: other.generationId, instanceId: other === r1 ? "i-1" : "i-2" }],
        REBALANCE,
      );
      const r = await rejoin;
      assert.equal(r.members.length, 2, "the static member that did not rejoin is still a member");
      assert.ok(r.members.some((m) => m.memberId === other.memberId && m.groupInstanceId !== null));
    });

    it("LeaveGroup removes a static member by instance id alone (admin removal)", async () => {
      h = new Harness();
      await staticGroup();
      const result = h.coordinator.leaveGroup(G, [
        { memberId: "", groupInstanceId: "i-2" },
        { memberId: "", groupInstanceId: "i-9" },
        { memberId: "wrong", groupInstanceId: "i-1" },
      ]);
      assert.deepEqual(
        result.members.map((m) => m.errorCode),
        [GroupError.NONE, GroupError.UNKNOWN_MEMBER_ID, GroupError.FENCED_INSTANCE_ID],
      );
      assert.equal(h.state(), "PreparingRebalance");
    });
  });

  describe("LeaveGroup", () => {
    it("answers UNKNOWN_MEMBER_ID per member for unknown groups and members, and removes pending members", async () => {
      h = new Harness();
      assert.deepEqual(h.coordinator.leaveGroup("nope", [{ memberId: "m", groupInstanceId: null }]), {
        errorCode: 0,
        members: [{ memberId: "m", groupInstanceId: null, errorCode: GroupError.UNKNOWN_MEMBER_ID }],
      });
      const pending = await h.join({ clientId: "p" });
      const result = h.coordinator.leaveGroup(G, [
        { memberId: pending.memberId, groupInstanceId: null },
        { memberId: "other", groupInstanceId: null },
      ]);
      assert.deepEqual(
        result.members.map((m) => m.errorCode),
        [GroupError.NONE, GroupError.UNKNOWN_MEMBER_ID],
      );
      assert.equal((await h.join({ memberId: pending.memberId })).errorCode, GroupError.UNKNOWN_MEMBER_ID);
    });
  });

  describe("offsets", () => {
    const offset = (topic: string, partition: number, value: bigint) => ({
      topic,
      partition,
      offset: value,
      leaderEpoch: 3,
      metadata: "m",
    });

    it("accepts a simple commit (generation −1, no member) for an unknown or Empty group", async () => {
      h = new Harness();
      const err = await h.coordinator.commitOffsets({
        groupId: "simple",
        generationId: -1,
        memberId: "",
        groupInstanceId: null,
        offsets: [offset("t", 0, 42n)],
      });
      assert.equal(err, GroupError.NONE);
      const fetched = h.coordinator.fetchOffsets("simple", [{ topic: "t", partitions: [0, 1] }]);
      assert.deepEqual(fetched, {
        errorCode: 0,
        topics: [
          {
            topic: "t",
            partitions: [
              { partition: 0, offset: 42n, leaderEpoch: 3, metadata: "m", errorCode: 0 },
              { partition: 1, offset: -1n, leaderEpoch: -1, metadata: "", errorCode: 0 },
            ],
          },
        ],
      });
      const stored = h.store.committed("simple").get("t")!.get(0)!;
      assert.equal(stored.commitTimestamp, BigInt(h.timers.now()));
      assert.equal(h.state("simple"), "Empty");
    });

    it("checks member and generation for group members", async () => {
      h = new Harness();
      const { ids, generation, leader } = await h.stableGroup(2);
      const commit = (memberId: string, generationId: number, groupId = G) =>
        h.coordinator.commitOffsets({
          groupId,
          generationId,
          memberId,
          groupInstanceId: null,
          offsets: [offset("t", 0, 7n)],
        });
      assert.equal(await commit(ids[0]!, generation - 1), GroupError.ILLEGAL_GENERATION, "stale generation");
      assert.equal(await commit("ghost", generation), GroupError.UNKNOWN_MEMBER_ID);
      assert.equal(await commit("", -1), GroupError.UNKNOWN_MEMBER_ID, "simple commits only while the group is Empty");
      assert.equal(await commit(ids[0]!, 5, "unknown-group"), GroupError.ILLEGAL_GENERATION);
      assert.equal(h.store.commits, 0);
      assert.equal(await commit(ids[0]!, generation), GroupError.NONE);
      assert.equal(h.store.commits, 1);
      // During PreparingRebalance commits are still accepted; in CompletingRebalance they are not.
      const rejoin = h.join({ memberId: leader });
      assert.equal(await commit(ids[1]!, generation), GroupError.NONE);
      const other = h.join({ memberId: ids.find((id) => id !== leader)! });
      const [r] = await Promise.all([rejoin, other]);
      assert.equal(h.state(), "CompletingRebalance");
      assert.equal(await commit(ids[0]!, r.generationId), GroupError.REBALANCE_IN_PROGRESS);
    });

    it("answers COORDINATOR_NOT_AVAILABLE when the store fails", async () => {
      h = new Harness();
      h.store.failCommits = new Error("log append failed");
      const err = await h.coordinator.commitOffsets({
        groupId: "g",
        generationId: -1,
        memberId: "",
        groupInstanceId: null,
        offsets: [offset("t", 0, 1n)],
      });
      assert.equal(err, GroupError.COORDINATOR_NOT_AVAILABLE);
    });

    it("answers COORDINATOR_NOT_AVAILABLE while the group's coordinator epoch cannot be claimed", async () => {
      h = new Harness();
      h.store.failClaims = new Error("log append failed");
      assert.equal((await h.join()).errorCode, GroupError.COORDINATOR_NOT_AVAILABLE);
      const simple = {
        groupId: "g",
        generationId: -1,
        memberId: "",
        groupInstanceId: null,
        offsets: [offset("t", 0, 1n)],
      };
      assert.equal(await h.coordinator.commitOffsets(simple), GroupError.COORDINATOR_NOT_AVAILABLE);
      assert.deepEqual(h.coordinator.groupIds(), []);
      h.store.failClaims = null;
      assert.equal((await h.join()).errorCode, GroupError.MEMBER_ID_REQUIRED);
      assert.equal(await h.coordinator.commitOffsets(simple), GroupError.NONE);
    });

    it("fetches every committed partition when topics is null", async () => {
      h = new Harness();
      await h.coordinator.commitOffsets({
        groupId: "g",
        generationId: -1,
        memberId: "",
        groupInstanceId: null,
        offsets: [offset("b", 1, 5n), offset("a", 0, 9n), offset("b", 0, 4n)],
      });
      const all = h.coordinator.fetchOffsets("g", null);
      assert.deepEqual(
        all.topics.map((t) => [t.topic, t.partitions.map((p) => [p.partition, p.offset])]),
        [
          ["a", [[0, 9n]]],
          [
            "b",
            [
              [0, 4n],
              [1, 5n],
            ],
          ],
        ],
      );
      assert.deepEqual(h.coordinator.fetchOffsets("none", null), { errorCode: 0, topics: [] });
    });
  });

  describe("admin: DescribeGroups, ListGroups, DeleteGroups", () => {
    it("describes groups with Kafka's state names; members carry metadata and assignment when Stable", async () => {
      h = new Harness();
      const { ids } = await h.stableGroup(2);
      await h.coordinator.commitOffsets({
        groupId: "offsets-only",
        generationId: -1,
        memberId: "",
        groupInstanceId: null,
        offsets: [{ topic: "t", partition: 0, offset: 1n, leaderEpoch: -1, metadata: null }],
      });
      const [g, o, u] = h.coordinator.describeGroups([G, "offsets-only", "unknown"]);
      assert.equal(g!.state, "Stable");
      assert.equal(g!.protocolType, "consumer");
      assert.equal(g!.protocolData, "range");
      const m0 = g!.members.find((m) => m.memberId === ids[0])!;
      assert.equal(m0.clientId, "c0");
      assert.equal(m0.clientHost, "/127.0.0.1");
      assert.equal(Buffer.from(m0.metadata).toString(), "range");
      assert.equal(Buffer.from(m0.assignment).toString(), "a-0");
      assert.equal(o!.state, "Empty");
      assert.equal(o!.members.length, 0);
      assert.deepEqual(u, {
        groupId: "unknown",
        errorCode: 0,
        state: "Dead",
        protocolType: "",
        protocolData: "",
        members: [],
      });
      void h.join({ memberId: ids[0]! });
      const preparing = h.coordinator.describeGroups([G])[0]!;
      assert.equal(preparing.state, "PreparingRebalance");
      assert.equal(preparing.protocolData, "");
      assert.equal(preparing.members[0]!.metadata.length, 0);
    });

    it("lists groups, filtered by state (case-insensitive) and type", async () => {
      h = new Harness();
      await h.stableGroup(1);
      await h.coordinator.commitOffsets({
        groupId: "simple",
        generationId: -1,
        memberId: "",
        groupInstanceId: null,
        offsets: [{ topic: "t", partition: 0, offset: 1n, leaderEpoch: -1, metadata: null }],
      });
      const all = h.coordinator.listGroups();
      assert.deepEqual(all, [
        { groupId: G, protocolType: "consumer", state: "Stable", groupType: "classic" },
        { groupId: "simple", protocolType: "", state: "Empty", groupType: "classic" },
      ]);
      assert.deepEqual(
        h.coordinator.listGroups({ states: ["stable"] }).map((g) => g.groupId),
        [G],
      );
      assert.deepEqual(
        h.coordinator.listGroups({ states: ["Empty", "Dead"] }).map((g) => g.groupId),
        ["simple"],
      );
      assert.deepEqual(h.coordinator.listGroups({ types: ["Classic"] }).length, 2);
      assert.deepEqual(h.coordinator.listGroups({ types: ["consumer"] }), []);
    });

    it("deletes only Empty groups: NON_EMPTY_GROUP and GROUP_ID_NOT_FOUND otherwise", async () => {
      h = new Harness();
      const { ids, generation } = await h.stableGroup(1);
      await h.coordinator.commitOffsets({
        groupId: G,
        generationId: generation,
        memberId: ids[0]!,
        groupInstanceId: null,
        offsets: [{ topic: "t", partition: 0, offset: 1n, leaderEpoch: -1, metadata: null }],
      });
      await h.coordinator.commitOffsets({
        groupId: "simple",
        generationId: -1,
        memberId: "",
        groupInstanceId: null,
        offsets: [{ topic: "t", partition: 0, offset: 2n, leaderEpoch: -1, metadata: null }],
      });
      assert.deepEqual(await h.coordinator.deleteGroups([G, "simple", "missing"]), [
        { groupId: G, errorCode: GroupError.NON_EMPTY_GROUP },
        { groupId: "simple", errorCode: GroupError.NONE },
        { groupId: "missing", errorCode: GroupError.GROUP_ID_NOT_FOUND },
      ]);
      assert.equal(h.store.committed("simple").size, 0);
      assert.equal(h.coordinator.describeGroups(["simple"])[0]!.state, "Dead");
      h.coordinator.leaveGroup(G, [{ memberId: ids[0]!, groupInstanceId: null }]);
      assert.deepEqual(await h.coordinator.deleteGroups([G]), [{ groupId: G, errorCode: GroupError.NONE }]);
      assert.equal(h.store.committed(G).size, 0);
      assert.deepEqual(h.coordinator.listGroups(), []);
    });

    it("does not delete a group another coordinator has claimed since: NOT_COORDINATOR, its offsets stay", async () => {
      h = new Harness();
      const simpleCommit = (coordinator: GroupCoordinator, offset: bigint) =>
        coordinator.commitOffsets({
          groupId: "simple",
          generationId: -1,
          memberId: "",
          groupInstanceId: null,
          offsets: [{ topic: "t", partition: 0, offset, leaderEpoch: -1, metadata: null }],
        });
      assert.equal(await simpleCommit(h.coordinator, 2n), GroupError.NONE);
      // Another agent took the group over (views of the cluster differed) and committed through it.
      const next = new GroupCoordinator({ offsets: h.store, timers: h.timers, log: silent });
      try {
        assert.equal(await simpleCommit(next, 5n), GroupError.NONE);
        assert.deepEqual(await h.coordinator.deleteGroups(["simple"]), [
          { groupId: "simple", errorCode: GroupError.NOT_COORDINATOR },
        ]);
        assert.equal(h.store.committed("simple").get("t")?.get(0)?.offset, 5n, "the new coordinator's offsets stay");
        assert.deepEqual(await next.deleteGroups(["simple"]), [{ groupId: "simple", errorCode: GroupError.NONE }]);
        assert.equal(h.store.committed("simple").size, 0);
      } finally {
        next.close();
      }
    });
  });

  describe("lifecycle", () => {
    it("close() answers waiting requests and cancels every timer", async () => {
      h = new Harness();
      await h.stableGroup(1);
      const a = await h.joinDynamic({ clientId: "late" });
      assert.ok(h.timers.scheduled > 0);
      h.coordinator.close();
      assert.equal((await a.joined).errorCode, GroupError.COORDINATOR_NOT_AVAILABLE);
      assert.equal(h.timers.scheduled, 0);
      assert.equal((await h.join()).errorCode, GroupError.COORDINATOR_NOT_AVAILABLE);
    });

    it("unloadGroups() answers waiting members NOT_COORDINATOR and forgets the groups", async () => {
      h = new Harness();
      const a = await h.joinDynamic({ clientId: "a" });
      const other = await h.join({ groupId: "stays" });
      assert.equal(other.errorCode, GroupError.MEMBER_ID_REQUIRED);
      h.coordinator.unloadGroups((id) => id === G);
      assert.equal((await a.joined).errorCode, GroupError.NOT_COORDINATOR);
      assert.deepEqual(h.coordinator.groupIds(), ["stays"]);
    });

    it("works with real timers (initial delay 0)", async () => {
      h = new Harness();
      const real = new GroupCoordinator({
        offsets: new MemGroupOffsetStore(),
        log: silent,
        initialRebalanceDelayMs: 0,
      });
      try {
        const first = await real.joinGroup({
          groupId: "g",
          memberId: "",
          groupInstanceId: null,
          clientId: "c",
          clientHost: "h",
          sessionTimeoutMs: 10_000,
          rebalanceTimeoutMs: 10_000,
          protocolType: "consumer",
          protocols: [proto("range")],
          requireKnownMemberId: false,
          supportSkippingAssignment: false,
        });
        assert.equal(first.errorCode, GroupError.NONE);
        assert.equal(first.generationId, 1);
      } finally {
        real.close();
      }
    });
  });
});
