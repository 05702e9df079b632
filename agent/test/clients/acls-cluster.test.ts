/**
 * ACLs on three agents sharing DynamoDB Local, with SASL users and -authorizationEnabled (a super user,
 * nothing allowed where no ACL says so). ACLs created with kafka-acls through one agent take effect on
 * every agent (the metadata log carries them), and ACLs removed through another stop working on every
 * agent. Kafka's console producer and consumer, limited by ACLs, get TopicAuthorizationException and
 * GroupAuthorizationException where they lack rights and work where they have them: a prefixed ALLOW,
 * a DENY that wins over it, a group READ, a topic nobody has an ACL for, and the super user. SCRAM users
 * created with kafka-configs through one agent log in on every agent, and are refused everywhere once
 * deleted through another.
 */
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import path from "node:path";
import { eventually } from "../../../e2e/support/eventually.js";
import { ensureKafkaTools, runKafkaTool } from "../../../e2e/support/kafka-tools.js";
import type { KafkaTool, RunResult } from "../../../e2e/support/kafka-tools.js";
import { ApiKey, ErrorCode } from "../../src/protocol/index.js";
import { scramLogin, writeUsersFile } from "../security/support.js";
import { tempDir } from "../support/agents.js";
import { startDynamoDbAgents, type DynamoDbAgents } from "../support/dynamodb-agents.js";
import type { TestAgent } from "../support/agents.js";
import { RawKafkaClient } from "../support/raw-kafka-client.js";

const POLL = { timeoutMs: 30_000, intervalMs: 50 } as const;
const USERS = { admin: "admin-pw", alice: "alice-pw", bob: "bob-pw", mallory: "mallory-pw" } as const;
type User = keyof typeof USERS;

describe("ACLs on three agents sharing DynamoDB Local", function () {
  this.timeout(900_000);
  let cluster: DynamoDbAgents;
  let agents: readonly TestAgent[] = [];
  let dir: ReturnType<typeof tempDir>;
  const configs = new Map<User, string>();
  /** An authenticated raw connection per agent and user, for probes. */
  const probes = new Map<string, RawKafkaClient>();
  const bootstrapAll = () => agents.map((a) => a.bootstrap).join(",");

  function tool(name: KafkaTool, bootstrap: string, args: readonly string[], input?: string): Promise<RunResult> {
    return runKafkaTool(name, ["--bootstrap-server", bootstrap, ...args], {
      timeoutMs: 180_000,
      ...(input !== undefined ? { input } : {}),
    });
  }

  async function acls(via: TestAgent, args: readonly string[]): Promise<void> {
    const r = await tool("acls", via.bootstrap, ["--command-config", configs.get("admin")!, ...args]);
    assert.equal(r.code, 0, `kafka-acls ${args.join(" ")}:\n${r.stdout}\n${r.stderr}`);
  }

  /** The first Kafka exception a tool reported, or null. */
  const failure = (r: RunResult): string | null =>
    /org\.apache\.kafka\.common\.errors\.(\w+Exception)/.exec(`${r.stdout}\n${r.stderr}`)?.[1] ?? null;

  /** Produces `count` records with the console producer as `user`: "ok", or the exception reported. */
  async function produce(user: User, topic: string, count: number, prefix = topic): Promise<string> {
    const input = Array.from({ length: count }, (_, i) => `${prefix}-${i}`).join("\n") + "\n";
    const r = await tool(
      "console-producer",
      bootstrapAll(),
      ["--topic", topic, "--producer.config", configs.get(user)!, "--producer-property", "max.block.ms=20000"],
      input,
    );
    const failed = failure(r);
    if (failed) return failed;
    assert.equal(r.code, 0, r.stderr);
    return "ok";
  }

  /** Consumes with the console consumer in `group` as `user`: the records read, or the exception reported. */
  async function consume(user: User, topic: string, group: string, max: number): Promise<string[] | string> {
    const r = await tool("console-consumer", bootstrapAll(), [
      "--topic",
      topic,
      "--group",
      group,
      "--from-beginning",
      "--max-messages",
      String(max),
      "--timeout-ms",
      "60000",
      "--consumer.config",
      configs.get(user)!,
    ]);
    const failed = failure(r);
    if (failed) return failed;
    assert.equal(r.code, 0, r.stderr);
    return r.stdout.split("\n").filter((l) => l !== "");
  }

  async function probe(agent: number, user: User): Promise<RawKafkaClient> {
    const key = `${agent}:${user}`;
    let client = probes.get(key);
    if (!client) {
      client = await RawKafkaClient.connect(agents[agent]!.port);
      await client.authenticatePlain(user, USERS[user]);
      probes.set(key, client);
    }
    return client;
  }

  /** What agent `agent` answers `user` for Metadata on `topic` (v12, no auto-creation). */
  async function metadataError(agent: number, user: User, topic: string): Promise<number> {
    const out = await (
      await probe(agent, user)
    ).request(ApiKey.Metadata, 12, {
      topics: [{ topicId: "0".repeat(32), name: topic }],
      allowAutoTopicCreation: false,
      includeTopicAuthorizedOperations: false,
    });
    return out.topics[0]!.errorCode;
  }

  before(async () => {
    await ensureKafkaTools();
    dir = tempDir("acls-cluster");
    cluster = await startDynamoDbAgents("acls", 3, {
      kafkaSASLMechanisms: "SCRAM-SHA-512,PLAIN",
      kafkaSASLUsersFile: writeUsersFile(dir.path, USERS),
      authorizationEnabled: "true",
      superUsers: "User:admin",
    });
    agents = cluster.agents;
    for (const [user, password] of Object.entries(USERS)) {
      const file = path.join(dir.path, `${user}.properties`);
      writeFileSync(
        file,
        [
          "security.protocol=SASL_PLAINTEXT",
          "sasl.mechanism=SCRAM-SHA-512",
          `sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="${user}" password="${password}";`,
          "",
        ].join("\n"),
      );
      configs.set(user as User, file);
    }
    // The super user needs no ACL to create topics.
    for (const [topic, partitions] of [
      ["orders-eu", 3],
      ["orders-secret", 1],
      ["payments", 1],
      ["unclaimed", 1],
    ] as const) {
      const r = await tool("topics", agents[0]!.bootstrap, [
        "--command-config",
        configs.get("admin")!,
        "--create",
        "--topic",
        topic,
        "--partitions",
        String(partitions),
      ]);
      assert.equal(r.code, 0, r.stderr);
    }
  });

  after(async () => {
    for (const c of probes.values()) c.close();
    await cluster?.stop();
    dir?.remove();
  });

  it("ACLs created through one agent take effect on every agent", async () => {
    for (let i = 0; i < 3; i++)
      assert.equal(await metadataError(i, "alice", "orders-eu"), ErrorCode.TOPIC_AUTHORIZATION_FAILED, `agent ${i}`);
    // All through the first agent only.
    await acls(agents[0]!, [
      "--add",
      "--producer",
      "--allow-principal",
      "User:alice",
      "--topic",
      "orders-",
      "--resource-pattern-type",
      "prefixed",
    ]);
    await acls(agents[0]!, [
      "--add",
      "--deny-principal",
      "User:alice",
      "--operation",
      "Write",
      "--operation",
      "Describe",
      "--topic",
      "orders-secret",
    ]);
    await acls(agents[0]!, [
      "--add",
      "--consumer",
      "--allow-principal",
      "User:bob",
      "--topic",
      "orders-eu",
      "--group",
      "billing",
    ]);
    for (let i = 0; i < 3; i++) {
      // Bob's binding was the last of the three entries: once an agent lets bob in, it has folded all
      // three (entries are folded in log order), so the checks below see the whole set.
      await eventually(async () => (await metadataError(i, "bob", "orders-eu")) === ErrorCode.NONE, {
        ...POLL,
        what: `agent ${i} to fold the last ACL entry (bob may describe orders-eu)`,
      });
      assert.equal(await metadataError(i, "alice", "orders-eu"), ErrorCode.NONE);
      assert.equal(await metadataError(i, "alice", "orders-secret"), ErrorCode.TOPIC_AUTHORIZATION_FAILED);
      assert.equal(await metadataError(i, "bob", "orders-eu"), ErrorCode.NONE);
      assert.equal(await metadataError(i, "bob", "payments"), ErrorCode.TOPIC_AUTHORIZATION_FAILED);
    }
    const snapshots = agents.map((a) => JSON.stringify(a.running.context.metadata.state.acls.toRows()));
    assert.equal(new Set(snapshots).size, 1, "every agent holds the same bindings");
  });

  it("a producer limited by ACLs writes where it may and gets TopicAuthorizationException elsewhere", async () => {
    assert.equal(await produce("alice", "orders-eu", 60), "ok");
    assert.equal(await produce("alice", "payments", 1), "TopicAuthorizationException");
    assert.equal(await produce("alice", "orders-secret", 1), "TopicAuthorizationException", "the DENY wins");
    assert.equal(await produce("mallory", "unclaimed", 1), "TopicAuthorizationException", "no ACL: nobody");
    assert.equal(await produce("admin", "unclaimed", 1), "ok", "the super user needs no ACL");
    const stored = (a: TestAgent) =>
      a.running.context.metadata.state.topics.get("orders-eu")!.partitions.reduce((n, p) => n + p.nextOffset, 0);
    for (const [i, a] of agents.entries())
      await eventually(() => stored(a) === 60, { ...POLL, what: `agent ${i} to hold alice's 60 records` });
  });

  it("a consumer limited by ACLs reads in its group and gets Group/TopicAuthorizationException elsewhere", async () => {
    const read = await consume("bob", "orders-eu", "billing", 60);
    assert.ok(Array.isArray(read), `bob reads orders-eu in billing: ${String(read)}`);
    assert.equal(new Set(read).size, 60);
    assert.equal(await consume("bob", "orders-eu", "other", 1), "GroupAuthorizationException");
    assert.equal(await consume("bob", "payments", "billing", 1), "TopicAuthorizationException");
    assert.equal(await consume("alice", "orders-eu", "billing", 1), "GroupAuthorizationException");
  });

  it("ACLs removed through another agent stop working on every agent", async () => {
    // Through the third agent this time.
    const r = await tool("acls", agents[2]!.bootstrap, [
      "--command-config",
      configs.get("admin")!,
      "--remove",
      "--force",
      "--topic",
      "orders-",
      "--resource-pattern-type",
      "prefixed",
    ]);
    assert.equal(r.code, 0, r.stderr);
    for (let i = 0; i < 3; i++)
      await eventually(
        async () => (await metadataError(i, "alice", "orders-eu")) === ErrorCode.TOPIC_AUTHORIZATION_FAILED,
        { ...POLL, what: `agent ${i} to refuse alice orders-eu again` },
      );
    assert.equal(await produce("alice", "orders-eu", 1), "TopicAuthorizationException");
    assert.equal(await metadataError(1, "bob", "orders-eu"), ErrorCode.NONE, "bob's ACLs are untouched");
  });

  /** Whether `user` logs in to agent `agent` with SCRAM-SHA-512 (a new connection). */
  async function scramLogsIn(agent: number, user: string, password: string): Promise<boolean> {
    const c = await RawKafkaClient.connect(agents[agent]!.port);
    try {
      return (await scramLogin(c, "SCRAM-SHA-512", user, password)).final.errorCode === ErrorCode.NONE;
    } finally {
      c.close();
    }
  }

  it("kafka-configs creates a SCRAM user through one agent that logs in on every agent; --delete-config removes it", async () => {
    const configsTool = (via: TestAgent, user: User, args: readonly string[]) =>
      tool("configs", via.bootstrap, ["--command-config", configs.get(user)!, "--entity-type", "users", ...args]);
    for (let i = 0; i < 3; i++) assert.equal(await scramLogsIn(i, "carol", "carol-pw"), false, `agent ${i} before`);
    const added = await configsTool(agents[1]!, "admin", [
      "--entity-name",
      "carol",
      "--alter",
      "--add-config",
      "SCRAM-SHA-512=[iterations=8192,password=carol-pw]",
    ]);
    assert.equal(added.code, 0, `${added.stdout}\n${added.stderr}`);
    assert.match(added.stdout, /Completed updating config for user carol/);
    for (let i = 0; i < 3; i++)
      await eventually(() => scramLogsIn(i, "carol", "carol-pw"), { ...POLL, what: `carol to log in on agent ${i}` });
    const described = await configsTool(agents[2]!, "admin", ["--entity-name", "carol", "--describe"]);
    assert.equal(described.code, 0, described.stderr);
    assert.match(
      described.stdout,
      /SCRAM credential configs for user-principal 'carol' are SCRAM-SHA-512=iterations=8192/,
    );
    // Only who may ALTER the cluster changes credentials.
    const denied = await configsTool(agents[0]!, "alice", [
      "--entity-name",
      "alice2",
      "--alter",
      "--add-config",
      "SCRAM-SHA-512=[password=x]",
    ]);
    assert.notEqual(denied.code, 0);
    assert.equal(failure(denied), "ClusterAuthorizationException");

    const removed = await configsTool(agents[2]!, "admin", [
      "--entity-name",
      "carol",
      "--alter",
      "--delete-config",
      "SCRAM-SHA-512",
    ]);
    assert.equal(removed.code, 0, `${removed.stdout}\n${removed.stderr}`);
    for (let i = 0; i < 3; i++)
      await eventually(async () => !(await scramLogsIn(i, "carol", "carol-pw")), {
        ...POLL,
        what: `carol to be refused on agent ${i}`,
      });
    const gone = await configsTool(agents[0]!, "admin", ["--entity-name", "carol", "--describe"]);
    assert.equal(gone.code, 0, gone.stderr);
    assert.doesNotMatch(gone.stdout, /SCRAM-SHA-512/);
  });
});
