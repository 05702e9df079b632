/**
 * KIP-848 consumer groups through the GroupCoordinator's public methods, with manual timers and an
 * in-memory offset store: joining, revocation before reassignment, member epochs and fencing, the
 * session and rebalance timeouts, leaving, static members, regular-expression subscriptions, request
 * validation, and living beside classic groups (JoinGroup, ListGroups, DescribeGroups, offsets).
 */
import assert from "node:assert/strict";
import { GroupError, type ConsumerHeartbeatInput } from "../../src/groups/coordinator.js";
import { assignmentOf } from "../../src/groups/partitions.js";
import { Client, G, REBALANCE, SESSION, assertDisjoint, input, settle, setup } from "./kip848-clients.js";

describe("KIP-848 consumer groups", () => {
  it("a first member gets every partition at epoch 1; a second gets its share only after the first revoked", async () => {
    const env = setup();
    env.topics.add("t", 4);
    const a = new Client(env, "a");
    const r = await a.join();
    assert.equal(r.errorCode, GroupError.NONE);
    assert.equal(r.memberId, "a");
    assert.equal(r.memberEpoch, 1);
    assert.equal(r.heartbeatIntervalMs, 5_000);
    assert.equal(a.text(), "t-0,t-1,t-2,t-3");

    const b = new Client(env, "b");
    const rb = await b.join();
    assert.equal(rb.memberEpoch, 2, "the group epoch moved to 2 and b is at the target epoch");
    assert.equal(b.text(), "", "b gets nothing while a holds everything");
    // a's heartbeat asks it to revoke: its epoch stays 1, its assignment shrinks.
    const ra = await a.beat({ ownedPartitions: null });
    assert.equal(ra.memberEpoch, 1);
    assert.equal(ra.assignment !== null, true);
    assert.equal(a.text().split(",").length, 2);
    const describedRevoking = (await env.coordinator.describeConsumerGroups([G]))[0]!;
    assert.equal(describedRevoking.state, "Reconciling");
    // b still gets nothing: a has not reported the revocation.
    await b.beat();
    assert.equal(b.text(), "");
    // a reports what it owns now: it moves to epoch 2; then b gets the rest.
    assert.equal((await a.beat()).memberEpoch, 2);
    await b.beat();
    assert.equal(b.text().split(",").length, 2);
    assertDisjoint([a, b]);
    const described = (await env.coordinator.describeConsumerGroups([G]))[0]!;
    assert.equal(described.state, "Stable");
    assert.equal(described.groupEpoch, 2);
    assert.equal(described.assignmentEpoch, 2);
    assert.equal(described.assignorName, "uniform");
    assert.deepEqual(
      described.members.map((m) => [
        m.memberId,
        m.memberEpoch,
        m.assignment[0]!.topicName,
        m.assignment[0]!.partitions.length,
      ]),
      [
        ["a", 2, "t", 2],
        ["b", 2, "t", 2],
      ],
    );
  });

  it("four members over twelve partitions settle at three each without sharing, and again after one leaves", async () => {
    const env = setup();
    env.topics.add("t", 12);
    const clients = ["a", "b", "c", "d"].map((id) => new Client(env, id));
    for (const c of clients) {
      await c.join();
      await settle(clients.filter((x) => x.epoch > 0));
    }
    for (const c of clients) assert.equal(c.text().split(",").length, 3, c.memberId);
    const leave = await clients[0]!.beat({ memberEpoch: -1 });
    assert.equal(leave.errorCode, GroupError.NONE);
    assert.equal(leave.memberEpoch, -1);
    const rest = clients.slice(1);
    await settle(rest);
    for (const c of rest) assert.equal(c.text().split(",").length, 4, c.memberId);
  });

  it("fences a member whose epoch is ahead, or behind by more than the previous one", async () => {
    const env = setup();
    env.topics.add("t", 2);
    const a = new Client(env, "a");
    await a.join();
    assert.equal((await a.beat({ memberEpoch: 5 })).errorCode, GroupError.FENCED_MEMBER_EPOCH);
    const b = new Client(env, "b");
    await b.join();
    await settle([a, b]);
    assert.equal(a.epoch, 2);
    // The previous epoch with a subset of the assignment is accepted (a lost response)...
    assert.equal((await a.beat({ memberEpoch: 1 })).errorCode, GroupError.NONE);
    // ...but not with partitions it does not have, nor an older epoch.
    assert.equal(
      (await a.beat({ memberEpoch: 1, ownedPartitions: assignmentOf([[env.topics.byName("t")!.id, [0, 1]]]) }))
        .errorCode,
      GroupError.FENCED_MEMBER_EPOCH,
    );
    assert.equal((await a.beat({ memberEpoch: -3 })).errorCode, GroupError.INVALID_REQUEST);
  });

  it("answers UNKNOWN_MEMBER_ID to a member the group does not know, and to any member of a group it does not hold", async () => {
    const env = setup();
    env.topics.add("t", 2);
    assert.equal(
      (await env.coordinator.consumerGroupHeartbeat(input({ memberEpoch: 3 }))).errorCode,
      GroupError.UNKNOWN_MEMBER_ID,
    );
    await new Client(env, "a").join();
    assert.equal(
      (await env.coordinator.consumerGroupHeartbeat(input({ memberId: "ghost", memberEpoch: 1 }))).errorCode,
      GroupError.UNKNOWN_MEMBER_ID,
    );
  });

  it("a member that does not revoke within its rebalance timeout is removed and its partitions go to the others", async () => {
    const env = setup();
    env.topics.add("t", 4);
    const a = new Client(env, "a");
    await a.join();
    const b = new Client(env, "b");
    await b.join();
    await a.beat({ ownedPartitions: null }); // asked to revoke, never confirms
    env.timers.advance(REBALANCE - 1);
    await b.beat();
    assert.equal(b.text(), "", "nothing before the timeout");
    env.timers.advance(1);
    await b.beat();
    assert.equal(b.text(), "t-0,t-1,t-2,t-3");
    assert.equal((await a.beat()).errorCode, GroupError.UNKNOWN_MEMBER_ID);
  });

  it("a member whose session expires is removed", async () => {
    const env = setup();
    env.topics.add("t", 2);
    const a = new Client(env, "a");
    const b = new Client(env, "b");
    await a.join();
    await b.join();
    await settle([a, b]);
    for (let t = 0; t < SESSION; t += 5_000) {
      env.timers.advance(5_000);
      if (t + 5_000 < SESSION) await b.beat();
    }
    // a never heartbeated: gone; b gets everything.
    await settle([b]);
    assert.equal(b.text(), "t-0,t-1");
    assert.equal((await a.beat()).errorCode, GroupError.UNKNOWN_MEMBER_ID);
  });

  it("static members: leaving with −2 keeps the partitions for the next instance, which gets them back without a rebalance", async () => {
    const env = setup();
    env.topics.add("t", 4);
    const a = new Client(env, "a1", { instanceId: "ia" });
    const b = new Client(env, "b1", { instanceId: "ib" });
    await a.join();
    await b.join();
    await settle([a, b]);
    const mine = a.text();
    const epochBefore = (await env.coordinator.describeConsumerGroups([G]))[0]!.groupEpoch;
    // Another instance cannot take ia while a1 holds it.
    assert.equal(
      (await env.coordinator.consumerGroupHeartbeat(input({ memberId: "a2", instanceId: "ia" }))).errorCode,
      GroupError.UNRELEASED_INSTANCE_ID,
    );
    const left = await a.beat({ memberEpoch: -2 });
    assert.equal(left.errorCode, GroupError.NONE);
    assert.equal(left.memberEpoch, -2);
    // b still cannot have a's partitions: they wait for the instance.
    await settle([b]);
    assert.equal(b.text().split(",").length, 2);
    const a2 = new Client(env, "a2", { instanceId: "ia" });
    await a2.join();
    assert.equal(a2.text(), mine, "same partitions");
    assert.equal((await env.coordinator.describeConsumerGroups([G]))[0]!.groupEpoch, epochBefore, "no new group epoch");
    // The old incarnation is fenced.
    assert.equal((await a.beat({ memberEpoch: a.epoch })).errorCode, GroupError.FENCED_INSTANCE_ID);
  });

  it("a static member that left with −2 and never came back is removed when its session expires", async () => {
    const env = setup();
    env.topics.add("t", 2);
    const a = new Client(env, "a1", { instanceId: "ia" });
    const b = new Client(env, "b1");
    await a.join();
    await b.join();
    await settle([a, b]);
    await a.beat({ memberEpoch: -2 });
    for (let t = 0; t < SESSION; t += 5_000) {
      await b.beat();
      env.timers.advance(5_000);
    }
    await settle([b]);
    assert.equal(b.text(), "t-0,t-1");
  });

  it("subscribes by regular expression, picking up matching topics created later", async () => {
    const env = setup();
    env.topics.add("orders-eu", 2);
    env.topics.add("payments", 1);
    const a = new Client(env, "a", { subscribedTopicNames: null, subscribedTopicRegex: "orders-.*" });
    await a.join();
    assert.equal(a.text(), "orders-eu-0,orders-eu-1");
    env.topics.add("orders-us", 1);
    await a.beat({ subscribedTopicRegex: null });
    assert.equal(a.text(), "orders-eu-0,orders-eu-1,orders-us-0");
    assert.equal((await env.coordinator.describeConsumerGroups([G]))[0]!.members[0]!.subscribedTopicRegex, "orders-.*");
  });

  it("refuses invalid regular expressions, and those using what RE2/J lacks", async () => {
    const env = setup();
    for (const regex of ["orders-(", "(?=x)orders", "(a)\\1"]) {
      const r = await env.coordinator.consumerGroupHeartbeat(
        input({ subscribedTopicNames: null, subscribedTopicRegex: regex }),
      );
      assert.equal(r.errorCode, GroupError.INVALID_REGULAR_EXPRESSION, regex);
    }
    const ok = await env.coordinator.consumerGroupHeartbeat(
      input({ subscribedTopicNames: null, subscribedTopicRegex: "(?i)ORDERS" }),
    );
    assert.equal(ok.errorCode, GroupError.NONE);
  });

  it("validates requests as Kafka does", async () => {
    const env = setup();
    const cases: Array<[Partial<ConsumerHeartbeatInput>, number]> = [
      [{ memberId: "" }, GroupError.INVALID_REQUEST],
      [{ groupId: "" }, GroupError.INVALID_REQUEST],
      [{ rebalanceTimeoutMs: -1 }, GroupError.INVALID_REQUEST],
      [{ subscribedTopicNames: null }, GroupError.INVALID_REQUEST],
      [{ ownedPartitions: assignmentOf([["00".repeat(16), [0]]]) }, GroupError.INVALID_REQUEST],
      [{ memberEpoch: -2 }, GroupError.INVALID_REQUEST],
      [{ serverAssignor: "sticky" }, GroupError.UNSUPPORTED_ASSIGNOR],
    ];
    for (const [overrides, errorCode] of cases)
      assert.equal(
        (await env.coordinator.consumerGroupHeartbeat(input(overrides))).errorCode,
        errorCode,
        JSON.stringify(overrides),
      );
    // v0 lets the coordinator make the member id.
    const v0 = await env.coordinator.consumerGroupHeartbeat(input({ memberId: "", version: 0 }));
    assert.equal(v0.errorCode, GroupError.NONE);
    assert.match(v0.memberId ?? "", /^[0-9a-f-]{36}$/);
  });

  it("refuses a member beyond the group's maximum size, but not a member already in it", async () => {
    const env = setup(1);
    env.topics.add("t", 1);
    const a = new Client(env, "a");
    await a.join();
    assert.equal((await new Client(env, "b").join()).errorCode, GroupError.GROUP_MAX_SIZE_REACHED);
    assert.equal((await a.beat()).errorCode, GroupError.NONE);
  });

  it("the range assignor when members ask for it", async () => {
    const env = setup();
    env.topics.add("t", 4);
    const a = new Client(env, "a", { serverAssignor: "range" });
    const b = new Client(env, "b", { serverAssignor: "range" });
    await a.join();
    await b.join();
    await settle([a, b]);
    assert.equal(a.text(), "t-0,t-1");
    assert.equal(b.text(), "t-2,t-3");
    assert.equal((await env.coordinator.describeConsumerGroups([G]))[0]!.assignorName, "range");
  });

  it("lives beside classic groups of other protocol types (Connect): each protocol refuses the other's group id", async () => {
    const env = setup();
    env.topics.add("t", 1);
    await new Client(env, "a").join();
    const join = await env.coordinator.joinGroup({
      groupId: G,
      memberId: "",
      groupInstanceId: null,
      clientId: "classic",
      clientHost: "/127.0.0.1",
      sessionTimeoutMs: 10_000,
      rebalanceTimeoutMs: 10_000,
      protocolType: "connect",
      protocols: [{ name: "sessioned", metadata: Buffer.alloc(0) }],
      requireKnownMemberId: true,
      supportSkippingAssignment: true,
    });
    assert.equal(join.errorCode, GroupError.INCONSISTENT_GROUP_PROTOCOL);
    // A classic Connect group with members: ConsumerGroupHeartbeat (no upgrade for it) and ConsumerGroupDescribe
    // say it is not theirs.
    const classic = env.coordinator.joinGroup({
      groupId: "classic-group",
      memberId: "",
      groupInstanceId: null,
      clientId: "classic",
      clientHost: "/127.0.0.1",
      sessionTimeoutMs: 10_000,
      rebalanceTimeoutMs: 10_000,
      protocolType: "connect",
      protocols: [{ name: "sessioned", metadata: Buffer.alloc(0) }],
      requireKnownMemberId: false,
      supportSkippingAssignment: true,
    });
    await new Promise((resolve) => setImmediate(resolve)); // the claim of the classic group
    env.timers.advance(3_000); // group.initial.rebalance.delay.ms
    assert.equal((await classic).errorCode, GroupError.NONE);
    const r = await env.coordinator.consumerGroupHeartbeat(input({ groupId: "classic-group" }));
    assert.equal(r.errorCode, GroupError.GROUP_ID_NOT_FOUND);
    assert.match(r.errorMessage ?? "", /not a consumer group/);
    assert.equal(
      (await env.coordinator.describeConsumerGroups(["classic-group"]))[0]!.errorCode,
      GroupError.GROUP_ID_NOT_FOUND,
    );
    assert.equal(
      (await env.coordinator.describeConsumerGroups(["nothing"]))[0]!.errorCode,
      GroupError.GROUP_ID_NOT_FOUND,
    );
    // ListGroups: both, with their types; DescribeGroups: the consumer group is Dead to it.
    const listed = env.coordinator.listGroups();
    assert.deepEqual(
      listed.map((g) => [g.groupId, g.groupType, g.protocolType, g.state]),
      [
        ["cg", "consumer", "consumer", "Stable"],
        ["classic-group", "classic", "connect", "CompletingRebalance"],
      ],
    );
    assert.deepEqual(
      env.coordinator.listGroups({ types: ["consumer"] }).map((g) => g.groupId),
      ["cg"],
    );
    assert.deepEqual(
      env.coordinator.listGroups({ types: ["classic"] }).map((g) => g.groupId),
      ["classic-group"],
    );
    assert.equal(env.coordinator.describeGroups([G])[0]!.state, "Dead");
  });

  it("offset commits and fetches from members follow the member epoch", async () => {
    const env = setup();
    const t = env.topics.add("t", 1);
    const a = new Client(env, "a");
    await a.join();
    const commit = (memberId: string, generationId: number, apiVersion = 9) =>
      env.coordinator.commitOffsets({
        groupId: G,
        memberId,
        generationId,
        groupInstanceId: null,
        apiVersion,
        offsets: [{ topic: "t", partition: 0, offset: 5n, leaderEpoch: -1, metadata: null }],
      });
    assert.equal(await commit("a", a.epoch), GroupError.NONE);
    assert.equal(await commit("a", a.epoch + 1), GroupError.STALE_MEMBER_EPOCH);
    assert.equal(await commit("a", a.epoch, 8), GroupError.UNSUPPORTED_VERSION);
    assert.equal(await commit("ghost", 1), GroupError.UNKNOWN_MEMBER_ID);
    assert.equal(await commit("", -1), GroupError.UNKNOWN_MEMBER_ID, "no simple commits while the group has members");
    const fetched = env.coordinator.fetchOffsets(G, [{ topic: "t", partitions: [0] }], {
      memberId: "a",
      memberEpoch: a.epoch,
    });
    assert.equal(fetched.topics[0]!.partitions[0]!.offset, 5n);
    assert.equal(
      env.coordinator.fetchOffsets(G, null, { memberId: "a", memberEpoch: 99 }).errorCode,
      GroupError.STALE_MEMBER_EPOCH,
    );
    assert.equal(env.coordinator.fetchOffsets(G, null, { memberId: null, memberEpoch: -1 }).errorCode, GroupError.NONE);
    assert.ok(t);
    // Empty again: simple commits are fine, and the group can be deleted.
    await a.beat({ memberEpoch: -1 });
    assert.equal(await commit("", -1), GroupError.NONE);
    assert.equal(env.coordinator.listGroups().find((g) => g.groupId === G)?.state, "Empty");
    assert.deepEqual(await env.coordinator.deleteGroups([G]), [{ groupId: G, errorCode: GroupError.NONE }]);
    assert.equal(env.store.committed(G).size, 0);
  });

  it("accepts a commit at the member's previous epoch only for partitions it still holds", async () => {
    const env = setup();
    env.topics.add("t", 2);
    const a = new Client(env, "a");
    const b = new Client(env, "b");
    await a.join();
    await b.join();
    await settle([a, b]);
    assert.equal(a.epoch, 2);
    const held = Number(a.text().split("-")[1]);
    const commit = (partition: number) =>
      env.coordinator.commitOffsets({
        groupId: G,
        memberId: "a",
        generationId: 1,
        groupInstanceId: null,
        apiVersion: 9,
        offsets: [{ topic: "t", partition, offset: 1n, leaderEpoch: -1, metadata: null }],
      });
    assert.equal(await commit(held), GroupError.NONE);
    assert.equal(await commit(1 - held), GroupError.STALE_MEMBER_EPOCH, "that partition went to b");
  });

  it("refuses to delete a consumer group with members, and OffsetDelete of a subscribed topic", async () => {
    const env = setup();
    env.topics.add("t", 1);
    await new Client(env, "a").join();
    assert.deepEqual(await env.coordinator.deleteGroups([G]), [{ groupId: G, errorCode: GroupError.NON_EMPTY_GROUP }]);
    const deleted = await env.coordinator.deleteOffsets(G, [
      { topic: "t", partition: 0 },
      { topic: "other", partition: 0 },
    ]);
    assert.deepEqual(
      deleted.partitions.map((p) => p.errorCode),
      [GroupError.GROUP_SUBSCRIBED_TO_TOPIC, GroupError.NONE],
    );
  });

  it("drops the group when another coordinator claims it: members are told NOT_COORDINATOR once, then carry on from the record", async () => {
    const env = setup();
    env.topics.add("t", 1);
    const a = new Client(env, "a");
    await a.join();
    await env.store.claimGroup(G, "someone else");
    // Told once to look the coordinator up again; should it come back here, the group is loaded from its
    // record and the member keeps its epoch and partition.
    assert.equal((await a.beat()).errorCode, GroupError.NOT_COORDINATOR);
    const back = await a.beat();
    assert.equal(back.errorCode, GroupError.NONE);
    assert.equal(back.memberEpoch, 1);
    assert.equal(a.text(), "t-0");
  });
});
