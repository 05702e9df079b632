/**
 * Authorization in every handler, on an agent started with -authorizationEnabled (and a super user):
 * each API checks the operation Kafka's KafkaApis checks and answers Kafka's code where it is denied
 * (TOPIC_, GROUP_, CLUSTER_ and TRANSACTIONAL_ID_AUTHORIZATION_FAILED, per topic or partition where
 * Kafka answers per partition), and serves the request where it is allowed. Principals are set on the
 * request's connection as SASL sets them; ACLs are created through the CreateAcls handler.
 */
import assert from "node:assert/strict";
import { bindingToWire } from "../../src/handlers/acl-support.js";
import type { AclBinding } from "../../src/metadata/acls.js";
import { ApiKey, ErrorCode } from "../../src/protocol/index.js";
import type { ApiKeyValue, RequestInputOf } from "../../src/protocol/index.js";
import { buildBatch } from "../records/batch-builder.js";
import { startTestAgent } from "../support/agents.js";
import type { TestAgent } from "../support/agents.js";
import { callHandler } from "../support/handler-call.js";

const OP = { READ: 3, WRITE: 4, CREATE: 5, DELETE: 6, ALTER: 7, DESCRIBE: 8, DESCRIBE_CONFIGS: 10, ALTER_CONFIGS: 11 };
const bits = (...ops: number[]) => ops.reduce((n, op) => n | (1 << op), 0);

describe("authorization in every handler", function () {
  this.timeout(60_000);
  let agent: TestAgent;

  function call<K extends ApiKeyValue>(user: string | null, key: K, version: number, request: RequestInputOf<K>) {
    return callHandler(agent.running.context, key, version, request, undefined, {
      principal: user,
      host: "127.0.0.1",
    });
  }

  async function grant(...bindings: Array<Partial<AclBinding>>): Promise<void> {
    const creations = bindings.map((b) => {
      const w = bindingToWire({
        resourceType: "TOPIC",
        resourceName: "orders",
        patternType: "LITERAL",
        principal: "User:alice",
        host: "*",
        operation: "READ",
        permissionType: "ALLOW",
        ...b,
      });
      return { ...w, resourcePatternType: w.patternType };
    });
    const out = await call("admin", ApiKey.CreateAcls, 3, { creations });
    assert.deepEqual(
      out.results.map((r) => r.errorCode),
      creations.map(() => ErrorCode.NONE),
    );
  }

  const produce = (user: string, topic: string, partition = 0) =>
    call(user, ApiKey.Produce, 9, {
      transactionalId: null,
      acks: -1,
      timeoutMs: 10_000,
      topicData: [{ name: topic, partitionData: [{ index: partition, records: buildBatch([{ value: "v" }]) }] }],
    }).then((r) => r.responses[0]!.partitionResponses[0]!.errorCode);

  const commit = (user: string, group: string, topics: string[]) =>
    call(user, ApiKey.OffsetCommit, 8, {
      groupId: group,
      generationIdOrMemberEpoch: -1,
      memberId: "",
      groupInstanceId: null,
      topics: topics.map((name) => ({
        name,
        partitions: [{ partitionIndex: 0, committedOffset: 1n, committedLeaderEpoch: -1, committedMetadata: null }],
      })),
    }).then((r) => r.topics.map((t) => [t.name, t.partitions[0]!.errorCode]));

  before(async () => {
    agent = await startTestAgent({ authorizationEnabled: "true", superUsers: "User:admin" });
    const created = await call("admin", ApiKey.CreateTopics, 7, {
      topics: ["orders", "orders-eu", "payments"].map((name) => ({
        name,
        numPartitions: 2,
        replicationFactor: -1,
        assignments: [],
        configs: [],
      })),
      timeoutMs: 10_000,
      validateOnly: false,
    });
    assert.deepEqual(
      created.topics.map((t) => t.errorCode),
      [0, 0, 0],
    );
    await grant(
      { resourceName: "orders", patternType: "PREFIXED", operation: "WRITE" },
      { resourceName: "orders", patternType: "PREFIXED", operation: "READ" },
      { resourceType: "GROUP", resourceName: "g1", operation: "READ" },
    );
    // Offsets committed by the super user, so that groups exist.
    assert.deepEqual(await commit("admin", "g1", ["orders", "payments"]), [
      ["orders", 0],
      ["payments", 0],
    ]);
    assert.deepEqual(await commit("admin", "g2", ["orders"]), [["orders", 0]]);
  });
  after(async () => agent?.stop());

  it("Produce: WRITE on the topic; auto-creation needs CREATE", async () => {
    assert.equal(await produce("alice", "orders"), ErrorCode.NONE);
    assert.equal(await produce("alice", "payments"), ErrorCode.TOPIC_AUTHORIZATION_FAILED);
    assert.equal(await produce("bob", "orders"), ErrorCode.TOPIC_AUTHORIZATION_FAILED);
    assert.equal(await produce("admin", "payments"), ErrorCode.NONE, "super user");
    // orders-new does not exist; alice may write to it but not create it.
    assert.equal(await produce("alice", "orders-new"), ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
    assert.equal(agent.running.context.metadata.state.topics.has("orders-new"), false);
    await grant({ resourceName: "orders-new", operation: "CREATE" });
    assert.equal(await produce("alice", "orders-new"), ErrorCode.NONE);
  });

  it("Fetch: READ on the topic (a replica's fetch: CLUSTER_ACTION); a denied partition does not end the long poll", async () => {
    const fetch = (user: string, replicaId = -1) =>
      call(user, ApiKey.Fetch, 12, {
        replicaId,
        maxWaitMs: 30_000,
        minBytes: 1,
        maxBytes: 1 << 20,
        isolationLevel: 0,
        sessionId: 0,
        sessionEpoch: -1,
        topics: ["orders", "payments"].map((topic) => ({
          topic,
          partitions: [
            { partition: 1, currentLeaderEpoch: -1, fetchOffset: 0n, logStartOffset: -1n, partitionMaxBytes: 1 << 20 },
          ],
        })),
        forgottenTopicsData: [],
        rackId: "",
      }).then((r) => r.responses.map((t) => [t.topic, t.partitions[0]!.errorCode]));
    assert.deepEqual(await fetch("bob"), [
      ["orders", ErrorCode.TOPIC_AUTHORIZATION_FAILED],
      ["payments", ErrorCode.TOPIC_AUTHORIZATION_FAILED],
    ]);
    assert.deepEqual(await fetch("alice", 1), [
      ["orders", ErrorCode.TOPIC_AUTHORIZATION_FAILED],
      ["payments", ErrorCode.TOPIC_AUTHORIZATION_FAILED],
    ]);
    // Partition 1 of orders is empty: alice's fetch waits for data and then answers orders with no error.
    let settled = false;
    const pending = fetch("alice").finally(() => (settled = true));
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(settled, false, "the denied partition did not end the long poll");
    assert.equal(await produce("admin", "orders", 1), ErrorCode.NONE);
    assert.deepEqual(await pending, [
      ["orders", ErrorCode.NONE],
      ["payments", ErrorCode.TOPIC_AUTHORIZATION_FAILED],
    ]);
  });

  it("ListOffsets and DescribeProducers: DESCRIBE and READ on the topic", async () => {
    const list = await call("alice", ApiKey.ListOffsets, 7, {
      replicaId: -1,
      isolationLevel: 0,
      topics: ["orders", "payments"].map((name) => ({
        name,
        partitions: [{ partitionIndex: 0, currentLeaderEpoch: -1, timestamp: -1n }],
      })),
    });
    assert.deepEqual(
      list.topics.map((t) => [t.name, t.partitions[0]!.errorCode, t.partitions[0]!.offset]),
      [
        ["orders", ErrorCode.NONE, 1n],
        ["payments", ErrorCode.TOPIC_AUTHORIZATION_FAILED, -1n],
      ],
    );
    const producers = await call("alice", ApiKey.DescribeProducers, 0, {
      topics: ["orders", "payments"].map((name) => ({ name, partitionIndexes: [0] })),
    });
    assert.deepEqual(
      producers.topics.map((t) => t.partitions[0]!.errorCode),
      [ErrorCode.NONE, ErrorCode.TOPIC_AUTHORIZATION_FAILED],
    );
  });

  it("Metadata: lists what may be described, refuses what may not, and creates only with CREATE", async () => {
    const metadata = (user: string, topics: string[] | null, allowAutoTopicCreation = true) =>
      call(user, ApiKey.Metadata, 12, {
        topics: topics === null ? null : topics.map((name) => ({ topicId: "0".repeat(32), name })),
        allowAutoTopicCreation,
        includeTopicAuthorizedOperations: true,
      });
    const all = await metadata("alice", null);
    assert.deepEqual(all.topics.map((t) => t.name).sort(), ["orders", "orders-eu", "orders-new"]);
    assert.deepEqual((await metadata("bob", null)).topics, []);
    assert.equal((await metadata("admin", null)).topics.length, 4);
    // READ and WRITE imply DESCRIBE; the operations reported say so.
    assert.equal(
      all.topics.find((t) => t.name === "orders")!.topicAuthorizedOperations,
      bits(OP.READ, OP.WRITE, OP.DESCRIBE),
    );

    const named = await metadata("alice", ["orders", "payments", "nowhere", "orders-x"]);
    assert.deepEqual(
      named.topics.map((t) => [t.name, t.errorCode, t.topicId === "0".repeat(32)]),
      [
        ["orders", ErrorCode.NONE, false],
        ["payments", ErrorCode.TOPIC_AUTHORIZATION_FAILED, true],
        // Not describable: refused without saying whether it exists.
        ["nowhere", ErrorCode.TOPIC_AUTHORIZATION_FAILED, true],
        // Describable, missing, auto-creation asked: alice may not create it.
        ["orders-x", ErrorCode.TOPIC_AUTHORIZATION_FAILED, true],
      ],
    );
    assert.equal(agent.running.context.metadata.state.topics.has("orders-x"), false);
    const noCreate = await metadata("alice", ["orders-x"], false);
    assert.equal(noCreate.topics[0]!.errorCode, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
    await grant({ resourceType: "CLUSTER", resourceName: "kafka-cluster", operation: "CREATE" });
    const created = await metadata("alice", ["orders-x"]);
    assert.equal(created.topics[0]!.errorCode, ErrorCode.NONE);
  });

  it("CreateTopics, CreatePartitions, DeleteTopics, DeleteRecords: CREATE, ALTER, DELETE on the topic", async () => {
    const create = (user: string, name: string) =>
      call(user, ApiKey.CreateTopics, 7, {
        topics: [{ name, numPartitions: 1, replicationFactor: -1, assignments: [], configs: [] }],
        timeoutMs: 10_000,
        validateOnly: false,
      }).then((r) => r.topics[0]!);
    assert.equal((await create("bob", "bobs")).errorCode, ErrorCode.TOPIC_AUTHORIZATION_FAILED);
    // alice has CREATE on the cluster now (previous test), but not DESCRIBE_CONFIGS on the topic.
    const made = await create("alice", "alices");
    assert.equal(made.errorCode, ErrorCode.NONE);
    assert.equal(made.topicConfigErrorCode, ErrorCode.TOPIC_AUTHORIZATION_FAILED);
    assert.deepEqual(made.configs, []);
    await grant({ resourceName: "alices-2", operation: "ALTER_CONFIGS" });
    const withConfigs = await create("alice", "alices-2");
    assert.equal(withConfigs.topicConfigErrorCode, ErrorCode.NONE);
    assert.ok(withConfigs.configs!.length > 0, "ALTER_CONFIGS implies DESCRIBE_CONFIGS");

    const partitions = (user: string) =>
      call(user, ApiKey.CreatePartitions, 3, {
        topics: [{ name: "orders-eu", count: 3, assignments: null }],
        timeoutMs: 10_000,
        validateOnly: true,
      }).then((r) => r.results[0]!.errorCode);
    assert.equal(await partitions("alice"), ErrorCode.TOPIC_AUTHORIZATION_FAILED);
    await grant({ resourceName: "orders-eu", operation: "ALTER" });
    assert.equal(await partitions("alice"), ErrorCode.NONE);

    const deleteRecords = (user: string) =>
      call(user, ApiKey.DeleteRecords, 2, {
        topics: [{ name: "orders", partitions: [{ partitionIndex: 0, offset: 0n }] }],
        timeoutMs: 10_000,
      }).then((r) => r.topics[0]!.partitions[0]!);
    assert.deepEqual(await deleteRecords("alice"), {
      partitionIndex: 0,
      lowWatermark: -1n,
      errorCode: ErrorCode.TOPIC_AUTHORIZATION_FAILED,
    });
    assert.equal((await deleteRecords("admin")).errorCode, ErrorCode.NONE);

    const topicId = agent.running.context.metadata.state.topics.get("alices")!.topicId;
    const byId = await call("bob", ApiKey.DeleteTopics, 6, { topics: [{ name: null, topicId }], timeoutMs: 10_000 });
    assert.deepEqual(
      byId.responses.map((r) => [r.name, r.errorCode]),
      [[null, ErrorCode.TOPIC_AUTHORIZATION_FAILED]],
      "a topic bob may not describe is not named to him",
    );
    const byName = await call("alice", ApiKey.DeleteTopics, 6, {
      topics: [{ name: "alices", topicId: "0".repeat(32) }],
      timeoutMs: 10_000,
    });
    assert.equal(byName.responses[0]!.errorCode, ErrorCode.TOPIC_AUTHORIZATION_FAILED);
    await grant({ resourceName: "alices", operation: "DELETE" });
    const deleted = await call("alice", ApiKey.DeleteTopics, 6, {
      topics: [{ name: null, topicId }],
      timeoutMs: 10_000,
    });
    assert.deepEqual(
      deleted.responses.map((r) => [r.name, r.errorCode]),
      [["alices", ErrorCode.NONE]],
    );
  });

  it("DescribeConfigs, AlterConfigs, IncrementalAlterConfigs: *_CONFIGS on the topic or the cluster", async () => {
    const describe = (user: string) =>
      call(user, ApiKey.DescribeConfigs, 4, {
        resources: [
          { resourceType: 2, resourceName: "orders", configurationKeys: null },
          { resourceType: 4, resourceName: "1", configurationKeys: null },
        ],
        includeSynonyms: false,
        includeDocumentation: false,
      }).then((r) => r.results.map((x) => x.errorCode));
    assert.deepEqual(await describe("alice"), [
      ErrorCode.TOPIC_AUTHORIZATION_FAILED,
      ErrorCode.CLUSTER_AUTHORIZATION_FAILED,
    ]);
    assert.deepEqual(await describe("admin"), [ErrorCode.NONE, ErrorCode.NONE]);
    const alter = await call("alice", ApiKey.AlterConfigs, 2, {
      resources: [
        { resourceType: 2, resourceName: "orders", configs: [{ name: "retention.ms", value: "1000" }] },
        { resourceType: 4, resourceName: "1", configs: [] },
      ],
      validateOnly: true,
    });
    assert.deepEqual(
      alter.responses.map((r) => r.errorCode),
      [ErrorCode.TOPIC_AUTHORIZATION_FAILED, ErrorCode.CLUSTER_AUTHORIZATION_FAILED],
    );
    await grant({ resourceName: "orders", operation: "ALTER_CONFIGS" });
    const incremental = await call("alice", ApiKey.IncrementalAlterConfigs, 1, {
      resources: [
        {
          resourceType: 2,
          resourceName: "orders",
          configs: [{ name: "retention.ms", configOperation: 0, value: "86400000" }],
        },
      ],
      validateOnly: false,
    });
    assert.equal(incremental.responses[0]!.errorCode, ErrorCode.NONE);
    assert.deepEqual(await describe("alice"), [ErrorCode.NONE, ErrorCode.CLUSTER_AUTHORIZATION_FAILED]);
  });

  it("DescribeLogDirs and DescribeCluster: DESCRIBE on the cluster", async () => {
    const logDirs = (user: string) =>
      call(user, ApiKey.DescribeLogDirs, 4, { topics: null }).then((r) => [r.errorCode, r.results.length]);
    assert.deepEqual(await logDirs("alice"), [ErrorCode.CLUSTER_AUTHORIZATION_FAILED, 0]);
    assert.deepEqual(await logDirs("admin"), [ErrorCode.NONE, 1]);
    const cluster = (user: string) =>
      call(user, ApiKey.DescribeCluster, 1, { includeClusterAuthorizedOperations: true, endpointType: 1 }).then(
        (r) => r.clusterAuthorizedOperations,
      );
    assert.equal(await cluster("alice"), 0, "no DESCRIBE on the cluster: no operations reported");
    assert.equal(await cluster("admin"), bits(5, 7, 8, 9, 10, 11, 12));
  });

  it("InitProducerId: IDEMPOTENT_WRITE on the cluster or WRITE on some topic; a transactional id: WRITE on it", async () => {
    const init = (user: string, transactionalId: string | null = null) =>
      call(user, ApiKey.InitProducerId, 4, {
        transactionalId,
        transactionTimeoutMs: 60_000,
        producerId: -1n,
        producerEpoch: -1,
      }).then((r) => r.errorCode);
    assert.equal(await init("bob"), ErrorCode.CLUSTER_AUTHORIZATION_FAILED);
    assert.equal(await init("alice"), ErrorCode.NONE, "WRITE on the orders prefix");
    await grant({
      principal: "User:bob",
      resourceType: "CLUSTER",
      resourceName: "kafka-cluster",
      operation: "IDEMPOTENT_WRITE",
    });
    assert.equal(await init("bob"), ErrorCode.NONE);
    assert.equal(await init("alice", "tx"), ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED);
  });

  it("consumer groups: READ on the group to join, sync, heartbeat, leave and commit; DESCRIBE to look it up", async () => {
    const find = (user: string, keyType: number) =>
      call(user, ApiKey.FindCoordinator, 4, { keyType, coordinatorKeys: ["g1"] }).then(
        (r) => r.coordinators[0]!.errorCode,
      );
    assert.equal(await find("bob", 0), ErrorCode.GROUP_AUTHORIZATION_FAILED);
    assert.equal(await find("alice", 0), ErrorCode.NONE);
    assert.equal(await find("alice", 1), ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED);

    const join = (user: string) =>
      call(user, ApiKey.JoinGroup, 9, {
        groupId: "g1",
        sessionTimeoutMs: 10_000,
        rebalanceTimeoutMs: 10_000,
        memberId: "",
        groupInstanceId: null,
        protocolType: "consumer",
        protocols: [{ name: "range", metadata: Buffer.alloc(0) }],
        reason: null,
      }).then((r) => r.errorCode);
    assert.equal(await join("bob"), ErrorCode.GROUP_AUTHORIZATION_FAILED);
    assert.equal(await join("alice"), ErrorCode.MEMBER_ID_REQUIRED, "past authorization");
    const member = { groupId: "g1", generationId: 1, memberId: "m", groupInstanceId: null };
    assert.equal((await call("bob", ApiKey.Heartbeat, 4, member)).errorCode, ErrorCode.GROUP_AUTHORIZATION_FAILED);
    assert.equal((await call("alice", ApiKey.Heartbeat, 4, member)).errorCode, ErrorCode.UNKNOWN_MEMBER_ID);
    const sync = await call("bob", ApiKey.SyncGroup, 5, {
      ...member,
      protocolType: "consumer",
      protocolName: "range",
      assignments: [],
    });
    assert.equal(sync.errorCode, ErrorCode.GROUP_AUTHORIZATION_FAILED);
    const leave = await call("bob", ApiKey.LeaveGroup, 5, {
      groupId: "g1",
      members: [{ memberId: "m", groupInstanceId: null, reason: null }],
    });
    assert.equal(leave.errorCode, ErrorCode.GROUP_AUTHORIZATION_FAILED);

    assert.deepEqual(await commit("bob", "g1", ["orders"]), [["orders", ErrorCode.GROUP_AUTHORIZATION_FAILED]]);
    assert.deepEqual(await commit("alice", "g1", ["orders", "payments"]), [
      ["orders", ErrorCode.NONE],
      ["payments", ErrorCode.TOPIC_AUTHORIZATION_FAILED],
    ]);
  });

  it("OffsetFetch: DESCRIBE on the group; topics the client may not describe are refused or left out", async () => {
    const fetch = (user: string, topics: string[] | null) =>
      call(user, ApiKey.OffsetFetch, 8, {
        groups: [
          { groupId: "g1", topics: topics === null ? null : topics.map((name) => ({ name, partitionIndexes: [0] })) },
        ],
        requireStable: false,
      }).then((r) => r.groups[0]!);
    assert.equal((await fetch("bob", ["orders"])).errorCode, ErrorCode.GROUP_AUTHORIZATION_FAILED);
    const named = await fetch("alice", ["orders", "payments"]);
    assert.deepEqual(
      named.topics.map((t) => [t.name, t.partitions[0]!.errorCode, t.partitions[0]!.committedOffset]),
      [
        ["orders", ErrorCode.NONE, 1n],
        ["payments", ErrorCode.TOPIC_AUTHORIZATION_FAILED, -1n],
      ],
    );
    const all = await fetch("alice", null);
    assert.deepEqual(
      all.topics.map((t) => t.name),
      ["orders"],
      "payments' offsets are left out",
    );
    assert.deepEqual((await fetch("admin", null)).topics.map((t) => t.name).sort(), ["orders", "payments"]);
    // v1: no group-level error field; every partition carries the code.
    const v1 = await call("bob", ApiKey.OffsetFetch, 1, {
      groupId: "g1",
      topics: [{ name: "orders", partitionIndexes: [0] }],
    });
    assert.equal(v1.topics[0]!.partitions[0]!.errorCode, ErrorCode.GROUP_AUTHORIZATION_FAILED);
  });

  it("DescribeGroups, ListGroups, DeleteGroups, OffsetDelete: DESCRIBE and DELETE on the group", async () => {
    const described = await call("alice", ApiKey.DescribeGroups, 5, {
      groups: ["g1", "g2"],
      includeAuthorizedOperations: true,
    });
    assert.deepEqual(
      described.groups.map((g) => [g.groupId, g.errorCode, g.authorizedOperations]),
      [
        ["g1", ErrorCode.NONE, bits(OP.READ, OP.DESCRIBE)],
        ["g2", ErrorCode.GROUP_AUTHORIZATION_FAILED, -2147483648],
      ],
    );
    const list = (user: string) =>
      call(user, ApiKey.ListGroups, 5, { statesFilter: [], typesFilter: [] }).then((r) =>
        r.groups.map((g) => g.groupId).sort(),
      );
    assert.deepEqual(await list("alice"), ["g1"]);
    assert.deepEqual(await list("bob"), []);
    assert.deepEqual(await list("admin"), ["g1", "g2"]);
    await grant({
      principal: "User:bob",
      resourceType: "CLUSTER",
      resourceName: "kafka-cluster",
      operation: "DESCRIBE",
    });
    assert.deepEqual(await list("bob"), ["g1", "g2"], "DESCRIBE on the cluster lists every group, as in Kafka");

    const offsetDelete = (user: string) =>
      call(user, ApiKey.OffsetDelete, 0, {
        groupId: "g2",
        topics: ["orders", "payments"].map((name) => ({ name, partitions: [{ partitionIndex: 0 }] })),
      });
    assert.equal((await offsetDelete("alice")).errorCode, ErrorCode.GROUP_AUTHORIZATION_FAILED);
    await grant({ resourceType: "GROUP", resourceName: "g2", operation: "DELETE" });
    const deletedOffsets = await offsetDelete("alice");
    assert.deepEqual(
      [deletedOffsets.errorCode, ...deletedOffsets.topics.map((t) => t.partitions[0]!.errorCode)],
      [ErrorCode.NONE, ErrorCode.NONE, ErrorCode.TOPIC_AUTHORIZATION_FAILED],
    );

    const deleteGroups = await call("alice", ApiKey.DeleteGroups, 2, { groupsNames: ["g1", "g2"] });
    assert.deepEqual(
      deleteGroups.results.map((r) => [r.groupId, r.errorCode]),
      [
        ["g1", ErrorCode.GROUP_AUTHORIZATION_FAILED],
        // Past authorization: its last offsets were deleted just above, so the group is gone.
        ["g2", ErrorCode.GROUP_ID_NOT_FOUND],
      ],
    );
  });

  it("the ACL APIs: ALTER on the cluster to create and delete, DESCRIBE to list", async () => {
    const filter = {
      resourceTypeFilter: 1,
      resourceNameFilter: null,
      patternTypeFilter: 1,
      principalFilter: "User:alice",
      hostFilter: null,
      operation: 1,
      permissionType: 1,
    };
    const described = await call("alice", ApiKey.DescribeAcls, 3, filter);
    assert.equal(described.errorCode, ErrorCode.CLUSTER_AUTHORIZATION_FAILED);
    assert.deepEqual(described.resources, []);
    const created = await call("alice", ApiKey.CreateAcls, 3, {
      creations: [
        {
          ...bindingToWire({
            resourceType: "TOPIC",
            resourceName: "x",
            patternType: "LITERAL",
            principal: "User:alice",
            host: "*",
            operation: "ALL",
            permissionType: "ALLOW",
          }),
          resourcePatternType: 3,
        },
      ],
    });
    assert.equal(created.results[0]!.errorCode, ErrorCode.CLUSTER_AUTHORIZATION_FAILED);
    const deleted = await call("alice", ApiKey.DeleteAcls, 3, { filters: [filter] });
    assert.equal(deleted.filterResults[0]!.errorCode, ErrorCode.CLUSTER_AUTHORIZATION_FAILED);
    // bob may DESCRIBE the cluster (previous test): he may list ACLs, not change them.
    assert.equal((await call("bob", ApiKey.DescribeAcls, 3, filter)).errorCode, ErrorCode.NONE);
    assert.equal(
      (await call("bob", ApiKey.DeleteAcls, 3, { filters: [filter] })).filterResults[0]!.errorCode,
      ErrorCode.CLUSTER_AUTHORIZATION_FAILED,
    );
    assert.ok((await call("admin", ApiKey.DescribeAcls, 3, filter)).resources.length > 0);
  });

  it("Fetch in an incremental session: a denied partition is an error partition of the session, checked at every fetch", async () => {
    const created = await call("admin", ApiKey.CreateTopics, 7, {
      topics: ["ledger-a", "ledger-b"].map((name) => ({
        name,
        numPartitions: 1,
        replicationFactor: -1,
        assignments: [],
        configs: [],
      })),
      timeoutMs: 10_000,
      validateOnly: false,
    });
    assert.deepEqual(
      created.topics.map((t) => t.errorCode),
      [0, 0],
    );
    await grant({ resourceName: "ledger-a", operation: "READ" });
    const fetch = (sessionId: number, sessionEpoch: number, topics: string[]) =>
      call("alice", ApiKey.Fetch, 12, {
        replicaId: -1,
        maxWaitMs: 0,
        minBytes: 1,
        maxBytes: 1 << 20,
        isolationLevel: 0,
        sessionId,
        sessionEpoch,
        topics: topics.map((topic) => ({
          topic,
          partitions: [
            { partition: 0, currentLeaderEpoch: -1, fetchOffset: 0n, logStartOffset: -1n, partitionMaxBytes: 1 << 20 },
          ],
        })),
        forgottenTopicsData: [],
        rackId: "",
      }).then((r) => ({
        errorCode: r.errorCode,
        sessionId: r.sessionId,
        partitions: r.responses.map((t) => [t.topic, t.partitions[0]!.errorCode]),
      }));
    // A full fetch creates a session holding both partitions, the denied one answered as an error.
    const full = await fetch(0, 0, ["ledger-a", "ledger-b"]);
    assert.notEqual(full.sessionId, 0);
    assert.deepEqual(full.partitions, [
      ["ledger-a", ErrorCode.NONE],
      ["ledger-b", ErrorCode.TOPIC_AUTHORIZATION_FAILED],
    ]);
    // Incremental fetches name nothing: the session's partitions are checked again, and the errored one
    // is answered at each fetch while it is denied, the other only when it has news.
    const first = await fetch(full.sessionId, 1, []);
    assert.deepEqual(first, {
      errorCode: ErrorCode.NONE,
      sessionId: full.sessionId,
      partitions: [["ledger-b", ErrorCode.TOPIC_AUTHORIZATION_FAILED]],
    });
    await grant({ resourceName: "ledger-b", operation: "READ" });
    const allowed = await fetch(full.sessionId, 2, []);
    assert.deepEqual(allowed.partitions, [["ledger-b", ErrorCode.NONE]], "answered again once allowed");
    assert.deepEqual((await fetch(full.sessionId, 3, [])).partitions, [], "then nothing new");
  });
});
