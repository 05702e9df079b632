/**
 * The consumer-group wire handlers (OffsetCommit, OffsetFetch, JoinGroup, Heartbeat, LeaveGroup,
 * SyncGroup, DescribeGroups, ListGroups, DeleteGroups) driven through the handler registry with an
 * AgentContext built here: a real GroupCoordinator (real timers, no initial rebalance delay), the
 * in-memory offset store, a one-agent cluster view and a topic table. Only the members these handlers
 * use are provided (the cast below says so); the end-to-end client tests cover the real agent.
 * Every response is also encoded with the real codec at the version it answers, so a field that does
 * not fit its version's schema fails here.
 */
import assert from "node:assert/strict";
import winston from "winston";
import {
  ApiKey,
  ErrorCode,
  decodeRequest,
  decodeResponse,
  encodeRequest,
  encodeResponse,
} from "../../src/protocol/index.js";
import type {
  ApiKeyValue,
  DecodedResponseOf,
  RequestHeader,
  RequestInputOf,
  ResponseOf,
} from "../../src/protocol/index.js";
import { GroupCoordinator } from "../../src/groups/coordinator.js";
import type { AgentInfo, ClusterView } from "../../src/cluster/types.js";
import type { AgentContext } from "../../src/server/context.js";
import { lookupHandler, type RequestContext } from "../../src/server/handler.js";
import "../../src/handlers/08-offset-commit.js";
import "../../src/handlers/09-offset-fetch.js";
import "../../src/handlers/11-join-group.js";
import "../../src/handlers/12-heartbeat.js";
import "../../src/handlers/13-leave-group.js";
import "../../src/handlers/14-sync-group.js";
import "../../src/handlers/15-describe-groups.js";
import "../../src/handlers/16-list-groups.js";
import "../../src/handlers/42-delete-groups.js";
import { MemGroupOffsetStore } from "./mem-offset-store.js";
import { Authorizer } from "../../src/security/authorizer.js";

const silent = winston.createLogger({ silent: true });
const SELF: AgentInfo = { nodeId: 1, host: "127.0.0.1", port: 9092, zone: null };
const OTHER: AgentInfo = { nodeId: 2, host: "127.0.0.2", port: 9092, zone: null };
const TOPICS = new Map([["orders", 3]]);

function cluster(coordinatorOf: (groupId: string) => AgentInfo): ClusterView {
  return {
    clusterId: "test-cluster",
    self: SELF,
    liveAgents: () => [SELF, OTHER],
    agentsForZone: () => [SELF, OTHER],
    coordinatorFor: coordinatorOf,
    leaderFor: () => SELF,
    isolated: () => false,
  };
}

class Agent {
  readonly store = new MemGroupOffsetStore();
  readonly groups = new GroupCoordinator({ offsets: this.store, log: silent, initialRebalanceDelayMs: 0 });
  readonly context: AgentContext;
  private correlationId = 0;

  constructor(coordinatorOf: (groupId: string) => AgentInfo = () => SELF) {
    // Handlers for groups use only these members of AgentContext.
    const partial = {
      log: silent,
      cluster: cluster(coordinatorOf),
      groups: this.groups,
      topics: { partitionCount: (topic: string) => TOPICS.get(topic) ?? null },
      // Offsets live in the in-memory store above: there is no log tail to catch up with.
      metadata: { catchUpNow: () => Promise.resolve() },
      authorizer: Authorizer.off(),
    };
    this.context = partial as unknown as AgentContext;
  }

  /** Encodes the request, decodes it as the server would, runs the handler, and round-trips the response. */
  async call<K extends ApiKeyValue>(
    key: K,
    version: number,
    request: RequestInputOf<K>,
  ): Promise<DecodedResponseOf<K>> {
    const handler = lookupHandler(key);
    assert.ok(handler, `no handler for API key ${key}`);
    assert.ok(version >= handler.min && version <= handler.max, `version ${version} of key ${key} is not registered`);
    const correlationId = ++this.correlationId;
    const frame = encodeRequest({ apiKey: key, apiVersion: version, correlationId, clientId: "test-client" }, request);
    const decoded = decodeRequest(frame.subarray(4));
    const header: RequestHeader = decoded.header;
    const ctx: RequestContext = {
      agent: this.context,
      connection: {
        id: 1,
        remoteAddress: "127.0.0.1",
        host: "127.0.0.1",
        clientZone: null,
        principal: null,
        tlsPrincipal: null,
      },
      header,
      closed: new AbortController().signal,
    };
    const response = await handler.handle(decoded.body, ctx);
    assert.ok(response !== null, "group handlers always answer");
    const bytes = Buffer.concat(encodeResponse(key, version, correlationId, response as ResponseOf<K>));
    const out = decodeResponse(key, version, bytes.subarray(4));
    assert.equal(out.correlationId, correlationId);
    return out.body;
  }

  close(): void {
    this.groups.close();
  }
}

const consumerMetadata = Buffer.from("subscription: orders");

function joinRequest(
  memberId: string,
  overrides: Partial<RequestInputOf<typeof ApiKey.JoinGroup>> = {},
): RequestInputOf<typeof ApiKey.JoinGroup> {
  return {
    groupId: "g",
    sessionTimeoutMs: 10_000,
    rebalanceTimeoutMs: 10_000,
    memberId,
    groupInstanceId: null,
    protocolType: "consumer",
    protocols: [{ name: "range", metadata: consumerMetadata }],
    reason: null,
    ...overrides,
  };
}

describe("consumer-group handlers", () => {
  let agent: Agent;
  afterEach(() => agent?.close());

  it("runs a group through JoinGroup v5, SyncGroup v3, Heartbeat, commits, fetches, describes, lists, leaves and deletes", async () => {
    agent = new Agent();
    const first = await agent.call(ApiKey.JoinGroup, 5, joinRequest(""));
    assert.equal(first.errorCode, ErrorCode.MEMBER_ID_REQUIRED);
    assert.match(first.memberId, /^test-client-/);
    const joined = await agent.call(ApiKey.JoinGroup, 5, joinRequest(first.memberId));
    assert.equal(joined.errorCode, ErrorCode.NONE);
    assert.equal(joined.generationId, 1);
    assert.equal(joined.leader, first.memberId);
    assert.equal(joined.protocolName, "range");
    assert.deepEqual(
      joined.members.map((m) => [m.memberId, Buffer.from(m.metadata).toString()]),
      [[first.memberId, "subscription: orders"]],
    );

    const synced = await agent.call(ApiKey.SyncGroup, 3, {
      groupId: "g",
      generationId: 1,
      memberId: first.memberId,
      groupInstanceId: null,
      protocolType: null,
      protocolName: null,
      assignments: [{ memberId: first.memberId, assignment: Buffer.from("orders-0,1,2") }],
    });
    assert.equal(synced.errorCode, ErrorCode.NONE);
    assert.equal(Buffer.from(synced.assignment).toString(), "orders-0,1,2");

    const hb = await agent.call(ApiKey.Heartbeat, 3, {
      groupId: "g",
      generationId: 1,
      memberId: first.memberId,
      groupInstanceId: null,
    });
    assert.equal(hb.errorCode, ErrorCode.NONE);

    const commit = await agent.call(ApiKey.OffsetCommit, 7, {
      groupId: "g",
      generationIdOrMemberEpoch: 1,
      memberId: first.memberId,
      groupInstanceId: null,
      retentionTimeMs: -1n,
      topics: [
        {
          name: "orders",
          partitions: [
            {
              partitionIndex: 0,
              committedOffset: 15n,
              committedLeaderEpoch: 2,
              commitTimestamp: -1n,
              committedMetadata: "m",
            },
            {
              partitionIndex: 7,
              committedOffset: 1n,
              committedLeaderEpoch: -1,
              commitTimestamp: -1n,
              committedMetadata: null,
            },
            {
              partitionIndex: 1,
              committedOffset: 1n,
              committedLeaderEpoch: -1,
              commitTimestamp: -1n,
              committedMetadata: "x".repeat(4097),
            },
          ],
        },
        {
          name: "missing",
          partitions: [
            {
              partitionIndex: 0,
              committedOffset: 1n,
              committedLeaderEpoch: -1,
              commitTimestamp: -1n,
              committedMetadata: null,
            },
          ],
        },
      ],
    });
    assert.deepEqual(
      commit.topics.map((t) => [t.name, t.partitions.map((p) => [p.partitionIndex, p.errorCode])]),
      [
        [
          "orders",
          [
            [0, ErrorCode.NONE],
            [7, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION],
            [1, ErrorCode.OFFSET_METADATA_TOO_LARGE],
          ],
        ],
        ["missing", [[0, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION]]],
      ],
    );

    const stale = await agent.call(ApiKey.OffsetCommit, 2, {
      groupId: "g",
      generationIdOrMemberEpoch: 0,
      memberId: first.memberId,
      groupInstanceId: null,
      retentionTimeMs: -1n,
      topics: [
        {
          name: "orders",
          partitions: [
            {
              partitionIndex: 0,
              committedOffset: 99n,
              committedLeaderEpoch: -1,
              commitTimestamp: -1n,
              committedMetadata: null,
            },
          ],
        },
      ],
    });
    assert.equal(stale.topics[0]!.partitions[0]!.errorCode, ErrorCode.ILLEGAL_GENERATION);

    const fetched = await agent.call(ApiKey.OffsetFetch, 7, {
      groupId: "g",
      topics: [{ name: "orders", partitionIndexes: [0, 1] }],
      groups: [],
      requireStable: true,
    });
    assert.equal(fetched.errorCode, ErrorCode.NONE);
    assert.deepEqual(
      fetched.topics[0]!.partitions.map((p) => [
        p.partitionIndex,
        p.committedOffset,
        p.committedLeaderEpoch,
        p.metadata,
      ]),
      [
        [0, 15n, 2, "m"],
        [1, -1n, -1, ""],
      ],
    );
    const all = await agent.call(ApiKey.OffsetFetch, 2, {
      groupId: "g",
      topics: null,
      groups: [],
      requireStable: false,
    });
    assert.deepEqual(
      all.topics.map((t) => [t.name, t.partitions.map((p) => p.committedOffset)]),
      [["orders", [15n]]],
    );
    const batched = await agent.call(ApiKey.OffsetFetch, 8, {
      groupId: "",
      topics: [],
      groups: [
        { groupId: "g", memberId: null, memberEpoch: -1, topics: null },
        { groupId: "unknown", memberId: null, memberEpoch: -1, topics: [{ name: "orders", partitionIndexes: [2] }] },
      ],
      requireStable: false,
    });
    assert.deepEqual(
      batched.groups.map((g) => [
        g.groupId,
        g.errorCode,
        g.topics.map((t) => t.partitions.map((p) => p.committedOffset)),
      ]),
      [
        ["g", 0, [[15n]]],
        ["unknown", 0, [[-1n]]],
      ],
    );

    const described = await agent.call(ApiKey.DescribeGroups, 5, {
      groups: ["g", "nope"],
      includeAuthorizedOperations: false,
    });
    const [g, nope] = described.groups;
    assert.equal(g!.groupState, "Stable");
    assert.equal(g!.protocolType, "consumer");
    assert.equal(g!.protocolData, "range");
    assert.equal(g!.members[0]!.clientId, "test-client");
    assert.equal(g!.members[0]!.clientHost, "/127.0.0.1");
    assert.equal(Buffer.from(g!.members[0]!.memberAssignment).toString(), "orders-0,1,2");
    assert.equal(nope!.groupState, "Dead");

    const listed = await agent.call(ApiKey.ListGroups, 4, { statesFilter: ["stable"], typesFilter: [] });
    assert.deepEqual(
      listed.groups.map((x) => [x.groupId, x.protocolType, x.groupState]),
      [["g", "consumer", "Stable"]],
    );
    const listedV5 = await agent.call(ApiKey.ListGroups, 5, { statesFilter: [], typesFilter: ["classic"] });
    assert.deepEqual(
      listedV5.groups.map((x) => x.groupType),
      ["classic"],
    );

    const notEmpty = await agent.call(ApiKey.DeleteGroups, 2, { groupsNames: ["g", "nope"] });
    assert.deepEqual(
      notEmpty.results.map((r) => [r.groupId, r.errorCode]),
      [
        ["g", ErrorCode.NON_EMPTY_GROUP],
        ["nope", ErrorCode.GROUP_ID_NOT_FOUND],
      ],
    );

    const left = await agent.call(ApiKey.LeaveGroup, 3, {
      groupId: "g",
      memberId: "",
      members: [{ memberId: first.memberId, groupInstanceId: null, reason: null }],
    });
    assert.equal(left.errorCode, ErrorCode.NONE);
    assert.deepEqual(
      left.members.map((m) => m.errorCode),
      [ErrorCode.NONE],
    );

    const deleted = await agent.call(ApiKey.DeleteGroups, 0, { groupsNames: ["g"] });
    assert.deepEqual(
      deleted.results.map((r) => r.errorCode),
      [ErrorCode.NONE],
    );
    assert.equal(agent.store.committed("g").size, 0);
  });

  it("speaks the oldest versions: JoinGroup v0 (no rebalance timeout, no member-id round trip), LeaveGroup v0, OffsetCommit v0", async () => {
    agent = new Agent();
    const joined = await agent.call(ApiKey.JoinGroup, 0, joinRequest("", { rebalanceTimeoutMs: -1 }));
    assert.equal(joined.errorCode, ErrorCode.NONE);
    assert.equal(joined.generationId, 1);
    const bad = await agent.call(ApiKey.JoinGroup, 0, joinRequest("", { sessionTimeoutMs: 100 }));
    assert.equal(bad.errorCode, ErrorCode.INVALID_SESSION_TIMEOUT);
    assert.equal(bad.protocolName, "", "v0-6 protocol names are not nullable");
    const synced = await agent.call(ApiKey.SyncGroup, 0, {
      groupId: "g",
      generationId: 1,
      memberId: joined.memberId,
      groupInstanceId: null,
      protocolType: null,
      protocolName: null,
      assignments: [{ memberId: joined.memberId, assignment: Buffer.from("a") }],
    });
    assert.equal(synced.errorCode, ErrorCode.NONE);
    const left = await agent.call(ApiKey.LeaveGroup, 0, { groupId: "g", memberId: joined.memberId, members: [] });
    assert.equal(left.errorCode, ErrorCode.NONE);
    const again = await agent.call(ApiKey.LeaveGroup, 1, { groupId: "g", memberId: joined.memberId, members: [] });
    assert.equal(again.errorCode, ErrorCode.UNKNOWN_MEMBER_ID, "v0-2 carry the member's error at the top");
    // v0 commits are simple commits (no generation, no member): accepted now that the group is Empty.
    const commit = await agent.call(ApiKey.OffsetCommit, 0, {
      groupId: "g",
      generationIdOrMemberEpoch: 1234,
      memberId: "ignored",
      groupInstanceId: null,
      retentionTimeMs: -1n,
      topics: [
        {
          name: "orders",
          partitions: [
            {
              partitionIndex: 2,
              committedOffset: 3n,
              committedLeaderEpoch: 9,
              commitTimestamp: -1n,
              committedMetadata: null,
            },
          ],
        },
      ],
    });
    assert.equal(commit.topics[0]!.partitions[0]!.errorCode, ErrorCode.NONE);
    assert.equal(agent.store.committed("g").get("orders")!.get(2)!.leaderEpoch, -1, "no leader epoch before v6");
    const fetched = await agent.call(ApiKey.OffsetFetch, 1, {
      groupId: "g",
      topics: [{ name: "orders", partitionIndexes: [2] }],
      groups: [],
      requireStable: false,
    });
    assert.equal(fetched.topics[0]!.partitions[0]!.committedOffset, 3n);
  });

  it("answers NOT_COORDINATOR for groups another agent coordinates, and lists only its own groups", async () => {
    agent = new Agent((groupId) => (groupId.startsWith("mine") ? SELF : OTHER));
    const join = await agent.call(ApiKey.JoinGroup, 7, joinRequest("", { groupId: "theirs" }));
    assert.equal(join.errorCode, ErrorCode.NOT_COORDINATOR);
    assert.equal(join.protocolName, null);
    assert.equal(
      (
        await agent.call(ApiKey.Heartbeat, 4, {
          groupId: "theirs",
          generationId: 1,
          memberId: "m",
          groupInstanceId: null,
        })
      ).errorCode,
      ErrorCode.NOT_COORDINATOR,
    );
    assert.equal(
      (
        await agent.call(ApiKey.SyncGroup, 5, {
          groupId: "theirs",
          generationId: 1,
          memberId: "m",
          groupInstanceId: null,
          protocolType: "consumer",
          protocolName: "range",
          assignments: [],
        })
      ).errorCode,
      ErrorCode.NOT_COORDINATOR,
    );
    assert.equal(
      (
        await agent.call(ApiKey.LeaveGroup, 5, {
          groupId: "theirs",
          memberId: "",
          members: [{ memberId: "m", groupInstanceId: null, reason: "bye" }],
        })
      ).errorCode,
      ErrorCode.NOT_COORDINATOR,
    );
    const commit = await agent.call(ApiKey.OffsetCommit, 9, {
      groupId: "theirs",
      generationIdOrMemberEpoch: -1,
      memberId: "",
      groupInstanceId: null,
      retentionTimeMs: -1n,
      topics: [
        {
          name: "orders",
          partitions: [
            {
              partitionIndex: 0,
              committedOffset: 1n,
              committedLeaderEpoch: -1,
              commitTimestamp: -1n,
              committedMetadata: null,
            },
          ],
        },
      ],
    });
    assert.equal(commit.topics[0]!.partitions[0]!.errorCode, ErrorCode.NOT_COORDINATOR);
    const fetched = await agent.call(ApiKey.OffsetFetch, 9, {
      groupId: "",
      topics: [],
      requireStable: false,
      groups: [
        { groupId: "theirs", memberId: null, memberEpoch: -1, topics: null },
        { groupId: "mine", memberId: null, memberEpoch: -1, topics: null },
      ],
    });
    assert.deepEqual(
      fetched.groups.map((g) => g.errorCode),
      [ErrorCode.NOT_COORDINATOR, ErrorCode.NONE],
    );
    const described = await agent.call(ApiKey.DescribeGroups, 0, {
      groups: ["theirs"],
      includeAuthorizedOperations: false,
    });
    assert.equal(described.groups[0]!.errorCode, ErrorCode.NOT_COORDINATOR);
    const deleted = await agent.call(ApiKey.DeleteGroups, 1, { groupsNames: ["theirs"] });
    assert.equal(deleted.results[0]!.errorCode, ErrorCode.NOT_COORDINATOR);

    // Offsets this agent holds for a group another agent coordinates are not listed here.
    for (const group of ["theirs-too", "mine-1"]) {
      const { coordinatorEpoch } = await agent.store.claimGroup(group, "elsewhere");
      await agent.store.commit(
        group,
        [{ topic: "orders", partition: 0, offset: 1n, leaderEpoch: -1, metadata: null, commitTimestamp: 0n }],
        { coordinatorEpoch, generationId: -1 },
      );
    }
    const listed = await agent.call(ApiKey.ListGroups, 3, { statesFilter: [], typesFilter: [] });
    assert.deepEqual(
      listed.groups.map((g) => g.groupId),
      ["mine-1"],
    );
  });

  it("a static member (JoinGroup v5+) restarting gets its old assignment without a rebalance", async () => {
    agent = new Agent();
    const joined = await agent.call(ApiKey.JoinGroup, 7, joinRequest("", { groupInstanceId: "pod-0" }));
    assert.equal(joined.errorCode, ErrorCode.NONE, "static members skip the member-id round trip");
    await agent.call(ApiKey.SyncGroup, 5, {
      groupId: "g",
      generationId: joined.generationId,
      memberId: joined.memberId,
      groupInstanceId: "pod-0",
      protocolType: "consumer",
      protocolName: "range",
      assignments: [{ memberId: joined.memberId, assignment: Buffer.from("orders-all") }],
    });
    const restarted = await agent.call(ApiKey.JoinGroup, 9, joinRequest("", { groupInstanceId: "pod-0" }));
    assert.equal(restarted.generationId, joined.generationId);
    assert.equal(restarted.skipAssignment, true);
    const synced = await agent.call(ApiKey.SyncGroup, 5, {
      groupId: "g",
      generationId: restarted.generationId,
      memberId: restarted.memberId,
      groupInstanceId: "pod-0",
      protocolType: "consumer",
      protocolName: "range",
      assignments: [],
    });
    assert.equal(Buffer.from(synced.assignment).toString(), "orders-all");
    const fenced = await agent.call(ApiKey.Heartbeat, 4, {
      groupId: "g",
      generationId: joined.generationId,
      memberId: joined.memberId,
      groupInstanceId: "pod-0",
    });
    assert.equal(fenced.errorCode, ErrorCode.FENCED_INSTANCE_ID);
  });
});
