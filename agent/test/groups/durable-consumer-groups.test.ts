/**
 * KIP-848 groups survive a coordinator move: two coordinators (two agents) over one offset store (the
 * metadata log, in memory here) and one clock. The members' state is recorded before a heartbeat that
 * changed it is answered; the next coordinator starts from the record, so members carry on with their
 * epochs and partitions instead of rejoining, even in the middle of a rebalance.
 */
import assert from "node:assert/strict";
import { GroupError } from "../../src/groups/coordinator.js";
import { Client, G, SESSION, anotherCoordinator, assertDisjoint, input, settle, setup } from "./kip848-clients.js";

describe("KIP-848 consumer groups: durable state", () => {
  it("a member moving to a new coordinator keeps its member id, epoch and partitions (no rejoin)", async () => {
    const a = setup();
    a.topics.add("t", 4);
    const m1 = new Client(a, "m1");
    const m2 = new Client(a, "m2");
    await m1.join();
    await m2.join();
    await settle([m1, m2]);
    const before = [m1, m2].map((c) => ({ epoch: c.epoch, owned: c.text() }));
    assert.equal(before[0]!.owned.split(",").length + before[1]!.owned.split(",").length, 4);

    // The coordinator moves to agent b: the members look it up and heartbeat there with their epochs.
    const b = anotherCoordinator(a);
    m1.env = b;
    m2.env = b;
    for (const c of [m1, m2]) {
      const r = await c.beat();
      assert.equal(r.errorCode, GroupError.NONE, `${c.memberId} is known to the new coordinator`);
    }
    assert.deepEqual(
      [m1, m2].map((c) => ({ epoch: c.epoch, owned: c.text() })),
      before,
      "same epochs and partitions",
    );
    const described = (await b.coordinator.describeConsumerGroups([G]))[0]!;
    assert.equal(described.state, "Stable");
    // Another agent that has not loaded the group lists it as a consumer group, from its record.
    const c = anotherCoordinator(a);
    assert.deepEqual(c.coordinator.listGroups(), [
      { groupId: G, protocolType: "consumer", state: "Stable", groupType: "consumer" },
    ]);
    assert.deepEqual(described.members.map((m) => m.memberId).sort(), ["m1", "m2"]);

    // The old coordinator is fenced: a member still talking to it is sent to look the coordinator up.
    m1.env = a;
    assert.equal((await m1.beat()).errorCode, GroupError.NOT_COORDINATOR);
  });

  it("a rebalance under way continues on the new coordinator: revocation still comes before reassignment", async () => {
    const a = setup();
    a.topics.add("t", 4);
    const m1 = new Client(a, "m1");
    await m1.join();
    assert.equal(m1.text(), "t-0,t-1,t-2,t-3");
    const m2 = new Client(a, "m2");
    await m2.join();
    assert.equal(m2.text(), "", "m2 waits for m1 to revoke");
    // m1 learns what to revoke but the coordinator moves before it confirms.
    const revoking = await a.coordinator.consumerGroupHeartbeat(
      input({ memberId: "m1", memberEpoch: m1.epoch, ownedPartitions: null }),
    );
    assert.equal(revoking.errorCode, GroupError.NONE);
    const kept = revoking.assignment!;

    const b = anotherCoordinator(a);
    m2.env = b;
    m1.env = b;
    // m2 asks first: m1 has not revoked yet, so m2 still gets nothing.
    assert.equal((await m2.beat()).errorCode, GroupError.NONE);
    assert.equal(m2.text(), "");
    // m1 confirms the revocation (it owns only what it kept) to the new coordinator.
    m1.owned = kept;
    assert.equal((await m1.beat()).errorCode, GroupError.NONE);
    await settle([m1, m2]);
    assertDisjoint([m1, m2]);
    assert.equal(m1.text().split(",").length, 2);
    assert.equal(m2.text().split(",").length, 2);
  });

  it("answers a changing heartbeat only once the change is recorded; steady heartbeats record nothing", async () => {
    const env = setup();
    env.topics.add("t", 2);
    const m1 = new Client(env, "m1");
    await m1.join();
    await settle([m1]);
    const recorded = env.store.consumerGroups.get(G)!;
    assert.equal(recorded.members.length, 1);
    assert.equal(recorded.members[0]!.memberEpoch, m1.epoch, "the epoch the member was told is recorded");
    const writes = env.store.groupRecords;
    for (let i = 0; i < 10; i++) assert.equal((await m1.beat()).errorCode, GroupError.NONE);
    assert.equal(env.store.groupRecords, writes, "heartbeats that change nothing write nothing");

    // The log cannot take the next change: the member is told to retry, the group is reloaded from its
    // record, and the unrecorded join is forgotten.
    env.store.failGroupRecords = new Error("store down");
    const m2 = new Client(env, "m2");
    assert.equal((await m2.join()).errorCode, GroupError.COORDINATOR_NOT_AVAILABLE);
    env.store.failGroupRecords = null;
    assert.equal((await m1.beat()).errorCode, GroupError.NONE);
    const described = (await env.coordinator.describeConsumerGroups([G]))[0]!;
    assert.deepEqual(
      described.members.map((m) => m.memberId),
      ["m1"],
    );
    assert.equal((await m2.join()).errorCode, GroupError.NONE);
    await settle([m1, m2]);
  });

  it("the new coordinator starts every session afresh: a member that never comes back is removed, and that is recorded", async () => {
    const a = setup();
    a.topics.add("t", 2);
    const m1 = new Client(a, "m1");
    const m2 = new Client(a, "m2");
    await m1.join();
    await m2.join();
    await settle([m1, m2]);
    a.coordinator.close();
    const b = anotherCoordinator(a);
    m1.env = b;
    assert.equal((await m1.beat()).errorCode, GroupError.NONE);
    // m2 never heartbeats again; m1 keeps heartbeating within its session.
    for (let t = 0; t < SESSION + 10_000; t += 5_000) {
      a.timers.advance(5_000);
      await m1.beat();
    }
    await settle([m1]);
    assert.equal(m1.text(), "t-0,t-1", "m1 took over m2's partition");
    const record = a.store.consumerGroups.get(G)!;
    assert.deepEqual(
      record.members.map((m) => m.memberId),
      ["m1"],
    );
    // Leaving empties the group: its record goes.
    assert.equal((await m1.beat({ memberEpoch: -1 })).errorCode, GroupError.NONE);
    assert.equal(a.store.consumerGroups.has(G), false);
  });

  it("a group whose coordinator and members are all gone is adopted by its new coordinator, its members expire and its record goes", async () => {
    const a = setup();
    a.topics.add("t", 2);
    const m1 = new Client(a, "m1");
    await m1.join();
    await settle([m1]);
    a.coordinator.close();
    // Nobody comes back: before, the record kept listing m1 as a Stable member for ever.
    const b = anotherCoordinator(a);
    assert.equal(await b.coordinator.adoptRecordedGroups(() => false), 0, "not this agent's group");
    assert.equal(await b.coordinator.adoptRecordedGroups(() => true), 1);
    assert.equal(await b.coordinator.adoptRecordedGroups(() => true), 0, "held now");
    for (let t = 0; t < SESSION + 10_000; t += 5_000) a.timers.advance(5_000);
    await new Promise((r) => setImmediate(r));
    assert.equal(a.store.consumerGroups.has(G), false, "the member expired and the emptied group's record went");
    assert.deepEqual(
      b.coordinator.listGroups().map((g) => [g.groupId, g.state]),
      [[G, "Empty"]],
      "listed as Empty, no longer Stable with a member that is gone",
    );
  });

  it("a static member that left (epoch −2) comes back through the new coordinator to its partitions", async () => {
    const a = setup();
    a.topics.add("t", 2);
    const s1 = new Client(a, "s1", { instanceId: "i1" });
    const s2 = new Client(a, "s2", { instanceId: "i2" });
    await s1.join();
    await s2.join();
    await settle([s1, s2]);
    const s1Partitions = s1.text();
    assert.equal((await s1.beat({ memberEpoch: -2 })).errorCode, GroupError.NONE);
    const b = anotherCoordinator(a);
    const again = new Client(b, "s1-again", { instanceId: "i1" });
    s2.env = b;
    assert.equal((await again.join()).errorCode, GroupError.NONE);
    await settle([again, s2]);
    assert.equal(again.text(), s1Partitions);
  });

  it("a topic that gained partitions while no agent held the group bumps the group epoch on load", async () => {
    const a = setup();
    a.topics.add("t", 2);
    const m1 = new Client(a, "m1");
    await m1.join();
    await settle([m1]);
    const epoch = m1.epoch;
    a.coordinator.close();
    a.topics.add("t", 3);
    const b = anotherCoordinator(a);
    m1.env = b;
    await settle([m1]);
    assert.ok(m1.epoch > epoch, "a new group epoch");
    assert.equal(m1.text(), "t-0,t-1,t-2");
  });

  it("a classic JoinGroup for a consumer group recorded elsewhere is refused, not given a classic group", async () => {
    const a = setup();
    a.topics.add("t", 1);
    await new Client(a, "m1").join();
    const b = anotherCoordinator(a);
    const joined = await b.coordinator.joinGroup({
      groupId: G,
      memberId: "",
      groupInstanceId: null,
      protocolType: "consumer",
      protocols: [{ name: "range", metadata: Buffer.alloc(0) }],
      sessionTimeoutMs: 10_000,
      rebalanceTimeoutMs: 10_000,
      clientId: "classic",
      clientHost: "/127.0.0.1",
      requireKnownMemberId: false,
      supportSkippingAssignment: false,
    });
    assert.equal(joined.errorCode, GroupError.INCONSISTENT_GROUP_PROTOCOL);
  });
});
