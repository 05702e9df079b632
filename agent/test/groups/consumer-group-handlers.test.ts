/**
 * The KIP-848 wire handlers (ConsumerGroupHeartbeat, ConsumerGroupDescribe) and what they change in the
 * group handlers beside them (OffsetCommit/OffsetFetch v9 with member epochs, ListGroups v5 types, a
 * classic JoinGroup into a consumer group: Connect refused, classic consumers joining as MemberType 0),
 * through the handler registry with every request and response round-tripped through the real codec at
 * its version (the heartbeat's nullable assignment struct included).
 */
import assert from "node:assert/strict";
import winston from "winston";
import type { AgentInfo, ClusterView } from "../../src/cluster/types.js";
import { GroupCoordinator, type TopicView } from "../../src/groups/coordinator.js";
import "../../src/handlers/08-offset-commit.js";
import "../../src/handlers/09-offset-fetch.js";
import "../../src/handlers/11-join-group.js";
import "../../src/handlers/14-sync-group.js";
import "../../src/handlers/16-list-groups.js";
import "../../src/handlers/68-consumer-group-heartbeat.js";
import "../../src/handlers/69-consumer-group-describe.js";
import { ApiKey, ErrorCode } from "../../src/protocol/index.js";
import type { ApiKeyValue, DecodedResponseOf, RequestInputOf } from "../../src/protocol/index.js";
import { AclStore } from "../../src/metadata/acls.js";
import { Authorizer } from "../../src/security/authorizer.js";
import type { AgentContext } from "../../src/server/context.js";
import { lookupHandler } from "../../src/server/handler.js";
import { callHandler } from "../support/handler-call.js";
import { MemGroupOffsetStore } from "./mem-offset-store.js";

const silent = winston.createLogger({ silent: true });
const SELF: AgentInfo = { nodeId: 1, host: "127.0.0.1", port: 9092, zone: null };
const OTHER: AgentInfo = { nodeId: 2, host: "127.0.0.2", port: 9092, zone: null };
const ORDERS = { id: "0123456789abcdef0123456789abcdef", name: "orders", partitions: 2 };
const topics: TopicView = {
  byName: (name) => (name === ORDERS.name ? ORDERS : undefined),
  byId: (id) => (id === ORDERS.id ? ORDERS : undefined),
  names: () => [ORDERS.name],
};

class Agent {
  readonly groups = new GroupCoordinator({ offsets: new MemGroupOffsetStore(), log: silent, topics });
  readonly context: AgentContext;

  constructor(authorizer: Authorizer = Authorizer.off()) {
    const cluster: ClusterView = {
      clusterId: "test-cluster",
      self: SELF,
      liveAgents: () => [SELF, OTHER],
      agentsForZone: () => [SELF, OTHER],
      coordinatorFor: (groupId) => (groupId.startsWith("elsewhere") ? OTHER : SELF),
      leaderFor: () => SELF,
      isolated: () => false,
    };
    // Only the members these handlers use.
    const partial = {
      log: silent,
      cluster,
      groups: this.groups,
      topics: { partitionCount: (topic: string) => (topic === ORDERS.name ? ORDERS.partitions : null) },
      metadata: { catchUpNow: () => Promise.resolve() },
      authorizer,
    };
    this.context = partial as unknown as AgentContext;
  }

  async call<K extends ApiKeyValue>(
    key: K,
    version: number,
    request: RequestInputOf<K>,
  ): Promise<DecodedResponseOf<K>> {
    const handler = lookupHandler(key);
    assert.ok(handler && version >= handler.min && version <= handler.max, `key ${key} v${version} is registered`);
    return callHandler(this.context, key, version, request);
  }
}

function heartbeat(
  overrides: Partial<RequestInputOf<typeof ApiKey.ConsumerGroupHeartbeat>> = {},
): RequestInputOf<typeof ApiKey.ConsumerGroupHeartbeat> {
  return {
    groupId: "g",
    memberId: "member-1",
    memberEpoch: 0,
    instanceId: null,
    rackId: null,
    rebalanceTimeoutMs: 30_000,
    subscribedTopicNames: ["orders"],
    subscribedTopicRegex: null,
    serverAssignor: null,
    topicPartitions: [],
    ...overrides,
  };
}

describe("KIP-848 group handlers", () => {
  let agent: Agent;
  beforeEach(() => (agent = new Agent()));
  afterEach(() => agent.groups.close());

  it("ConsumerGroupHeartbeat v1 joins with an assignment by topic id, then answers a null assignment while nothing changes", async () => {
    const joined = await agent.call(ApiKey.ConsumerGroupHeartbeat, 1, heartbeat());
    assert.equal(joined.errorCode, ErrorCode.NONE);
    assert.equal(joined.memberId, "member-1");
    assert.equal(joined.memberEpoch, 1);
    assert.equal(joined.heartbeatIntervalMs, 5_000);
    assert.deepEqual(joined.assignment, { topicPartitions: [{ topicId: ORDERS.id, partitions: [0, 1] }] });
    const again = await agent.call(
      ApiKey.ConsumerGroupHeartbeat,
      1,
      heartbeat({ memberEpoch: 1, rebalanceTimeoutMs: -1, subscribedTopicNames: null, topicPartitions: null }),
    );
    assert.equal(again.errorCode, ErrorCode.NONE);
    assert.equal(again.assignment, null);
  });

  it("ConsumerGroupHeartbeat v0 makes the member id; v1 requires one; another agent's group is NOT_COORDINATOR", async () => {
    const v0 = await agent.call(ApiKey.ConsumerGroupHeartbeat, 0, heartbeat({ memberId: "" }));
    assert.equal(v0.errorCode, ErrorCode.NONE);
    assert.ok((v0.memberId ?? "").length > 0);
    const v1 = await agent.call(ApiKey.ConsumerGroupHeartbeat, 1, heartbeat({ memberId: "" }));
    assert.equal(v1.errorCode, ErrorCode.INVALID_REQUEST);
    assert.equal(v1.errorMessage, "MemberId can't be empty.");
    const elsewhere = await agent.call(ApiKey.ConsumerGroupHeartbeat, 1, heartbeat({ groupId: "elsewhere" }));
    assert.equal(elsewhere.errorCode, ErrorCode.NOT_COORDINATOR);
  });

  it("ConsumerGroupHeartbeat needs READ on the group and DESCRIBE on every topic subscribed to by name", async () => {
    const acls = new AclStore();
    const allow = (resourceType: "GROUP" | "TOPIC", resourceName: string, operation: "READ" | "DESCRIBE") =>
      acls.add({
        resourceType,
        resourceName,
        patternType: "LITERAL",
        principal: "User:ANONYMOUS",
        host: "*",
        operation,
        permissionType: "ALLOW",
      });
    const secured = new Agent(
      new Authorizer({ enabled: true, superUsers: [], allowEveryoneIfNoAclFound: false }, () => acls, null),
    );
    try {
      const beat = () =>
        secured.call(ApiKey.ConsumerGroupHeartbeat, 1, heartbeat({ subscribedTopicNames: ["orders", "payments"] }));
      assert.equal((await beat()).errorCode, ErrorCode.GROUP_AUTHORIZATION_FAILED);
      allow("GROUP", "g", "READ");
      const refused = await beat();
      assert.deepEqual(
        [refused.errorCode, refused.errorMessage, refused.memberEpoch, refused.assignment],
        [ErrorCode.TOPIC_AUTHORIZATION_FAILED, "Topic authorization failed for orders, payments.", 0, null],
      );
      allow("TOPIC", "orders", "DESCRIBE");
      assert.equal((await beat()).errorMessage, "Topic authorization failed for payments.");
      allow("TOPIC", "payments", "DESCRIBE");
      const joined = await beat();
      assert.equal(joined.errorCode, ErrorCode.NONE);
      assert.equal(joined.memberEpoch, 1, "the refused heartbeats changed nothing");
    } finally {
      secured.groups.close();
    }
  });

  it("ConsumerGroupDescribe v1 shows members, assignments by name and id, and GROUP_ID_NOT_FOUND for other ids", async () => {
    await agent.call(ApiKey.ConsumerGroupHeartbeat, 1, heartbeat({ instanceId: "i-1", rackId: "rack-a" }));
    const described = await agent.call(ApiKey.ConsumerGroupDescribe, 1, {
      groupIds: ["g", "missing"],
      includeAuthorizedOperations: false,
    });
    const [g, missing] = described.groups;
    assert.equal(g!.errorCode, ErrorCode.NONE);
    assert.equal(g!.groupState, "Stable");
    assert.equal(g!.groupEpoch, 1);
    assert.equal(g!.assignmentEpoch, 1);
    assert.equal(g!.assignorName, "uniform");
    const m = g!.members[0]!;
    assert.equal(m.memberId, "member-1");
    assert.equal(m.instanceId, "i-1");
    assert.equal(m.rackId, "rack-a");
    assert.equal(m.clientId, "handler-test"); // the client id callHandler sends
    assert.equal(m.clientHost, "/127.0.0.1");
    assert.equal(m.memberType, 1);
    assert.deepEqual(m.subscribedTopicNames, ["orders"]);
    assert.deepEqual(m.assignment.topicPartitions, [{ topicId: ORDERS.id, topicName: "orders", partitions: [0, 1] }]);
    assert.deepEqual(m.targetAssignment.topicPartitions, m.assignment.topicPartitions);
    assert.equal(missing!.errorCode, ErrorCode.GROUP_ID_NOT_FOUND);
  });

  it("a classic member joins the consumer group with JoinGroup v5/SyncGroup v5; ConsumerGroupDescribe v1 marks it MemberType 0", async () => {
    await agent.call(ApiKey.ConsumerGroupHeartbeat, 1, heartbeat());
    // ConsumerProtocolSubscription v0: version, topics ["orders"], no user data.
    const metadata = Buffer.from([0, 0, 0, 0, 0, 1, 0, 6, ...Buffer.from("orders"), 0xff, 0xff, 0xff, 0xff]);
    const join = (memberId: string) =>
      agent.call(ApiKey.JoinGroup, 5, {
        groupId: "g",
        sessionTimeoutMs: 10_000,
        rebalanceTimeoutMs: 10_000,
        memberId,
        groupInstanceId: null,
        protocolType: "consumer",
        protocols: [{ name: "range", metadata }],
        reason: null,
      });
    const first = await join("");
    assert.equal(first.errorCode, ErrorCode.MEMBER_ID_REQUIRED);
    const joined = await join(first.memberId);
    assert.equal(joined.errorCode, ErrorCode.NONE);
    assert.equal(joined.generationId, 2, "the member epoch: the group epoch moved to 2 as it joined");
    assert.equal(joined.protocolName, "range");
    assert.equal(joined.leader, "");
    const synced = await agent.call(ApiKey.SyncGroup, 5, {
      groupId: "g",
      generationId: joined.generationId,
      memberId: joined.memberId,
      groupInstanceId: null,
      protocolType: "consumer",
      protocolName: "range",
      assignments: [],
    });
    assert.equal(synced.errorCode, ErrorCode.NONE);
    // ConsumerProtocolAssignment v0 with no partitions yet (member-1 holds both until it revokes one).
    assert.deepEqual([...synced.assignment], [0, 0, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff]);
    const described = await agent.call(ApiKey.ConsumerGroupDescribe, 1, {
      groupIds: ["g"],
      includeAuthorizedOperations: false,
    });
    assert.deepEqual(
      described.groups[0]!.members.map((m) => [m.memberId, m.memberType, m.subscribedTopicNames]),
      [
        ["member-1", 1, ["orders"]],
        [joined.memberId, 0, ["orders"]],
      ],
    );
  });

  it("OffsetCommit v9 and OffsetFetch v9 check the member epoch; ListGroups v5 lists the group as consumer; a Connect JoinGroup is refused", async () => {
    await agent.call(ApiKey.ConsumerGroupHeartbeat, 1, heartbeat());
    const commit = (generationIdOrMemberEpoch: number) =>
      agent.call(ApiKey.OffsetCommit, 9, {
        groupId: "g",
        generationIdOrMemberEpoch,
        memberId: "member-1",
        groupInstanceId: null,
        retentionTimeMs: -1n,
        topics: [
          {
            name: "orders",
            partitions: [
              {
                partitionIndex: 0,
                committedOffset: 7n,
                committedLeaderEpoch: -1,
                committedMetadata: null,
                commitTimestamp: -1n,
              },
            ],
          },
        ],
      });
    assert.equal((await commit(1)).topics[0]!.partitions[0]!.errorCode, ErrorCode.NONE);
    assert.equal((await commit(4)).topics[0]!.partitions[0]!.errorCode, ErrorCode.STALE_MEMBER_EPOCH);
    const fetch = (memberEpoch: number) =>
      agent.call(ApiKey.OffsetFetch, 9, {
        groups: [
          { groupId: "g", memberId: "member-1", memberEpoch, topics: [{ name: "orders", partitionIndexes: [0] }] },
        ],
        requireStable: false,
      });
    const fetched = await fetch(1);
    assert.equal(fetched.groups[0]!.errorCode, ErrorCode.NONE);
    assert.equal(fetched.groups[0]!.topics[0]!.partitions[0]!.committedOffset, 7n);
    assert.equal((await fetch(3)).groups[0]!.errorCode, ErrorCode.STALE_MEMBER_EPOCH);
    const listed = await agent.call(ApiKey.ListGroups, 5, { statesFilter: [], typesFilter: ["consumer"] });
    assert.deepEqual(
      listed.groups.map((g) => [g.groupId, g.protocolType, g.groupState, g.groupType]),
      [["g", "consumer", "Stable", "consumer"]],
    );
    const joined = await agent.call(ApiKey.JoinGroup, 5, {
      groupId: "g",
      sessionTimeoutMs: 10_000,
      rebalanceTimeoutMs: 10_000,
      memberId: "",
      groupInstanceId: null,
      protocolType: "connect",
      protocols: [{ name: "sessioned", metadata: Buffer.alloc(0) }],
      reason: null,
    });
    // Classic consumers may join (classic-members.ts); a Connect worker may not.
    assert.equal(joined.errorCode, ErrorCode.INCONSISTENT_GROUP_PROTOCOL);
  });
});
