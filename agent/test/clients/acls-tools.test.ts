/**
 * ACLs with Apache Kafka 4.1.1's own tools against one agent: `kafka-acls --add / --list / --remove`
 * round trips (literal, prefixed, --producer and --consumer shortcuts, a DENY from one host, MATCH
 * listings, listing by principal); a user who is not a super user is refused
 * (ClusterAuthorizationException), and an agent without authorization answers SecurityDisabledException.
 * -allowEveryoneIfNoAclFound=true leaves a topic open until an ACL names it. Mutual TLS: the client
 * certificate's subject mapped by -kafkaTLSPrincipalMappingRules is the principal ACLs name, the default
 * rule keeps the whole subject, and a certificate no rule maps is disconnected.
 */
import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { ensureKafkaTools, runKafkaTool } from "../../../e2e/support/kafka-tools.js";
import type { KafkaTool, RunResult } from "../../../e2e/support/kafka-tools.js";
import { ApiKey, ErrorCode } from "../../src/protocol/index.js";
import { captureLogs, makeTestCerts, writeUsersFile } from "../security/support.js";
import type { TestCerts } from "../security/support.js";
import { startTestAgent, tempDir } from "../support/agents.js";
import type { TestAgent } from "../support/agents.js";
import { RawKafkaClient } from "../support/raw-kafka-client.js";

function saslConfig(dir: string, user: string, password: string): string {
  const file = path.join(dir, `${user}.properties`);
  writeFileSync(
    file,
    [
      "security.protocol=SASL_PLAINTEXT",
      "sasl.mechanism=SCRAM-SHA-512",
      `sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="${user}" password="${password}";`,
      "",
    ].join("\n"),
  );
  return file;
}

async function tool(name: KafkaTool, bootstrap: string, args: readonly string[], input?: string): Promise<RunResult> {
  return runKafkaTool(name, ["--bootstrap-server", bootstrap, ...args], {
    timeoutMs: 120_000,
    ...(input !== undefined ? { input } : {}),
  });
}

/** kafka-acls; fails the test unless it succeeds. */
async function acls(bootstrap: string, config: string, args: readonly string[]): Promise<string> {
  const r = await tool("acls", bootstrap, ["--command-config", config, ...args]);
  assert.equal(r.code, 0, `kafka-acls ${args.join(" ")}:\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

/** The console producer's outcome for one record: "ok", or the exception it reported. */
async function produceOne(bootstrap: string, config: string, topic: string, value: string): Promise<string> {
  const r = await tool(
    "console-producer",
    bootstrap,
    ["--topic", topic, "--producer.config", config, "--producer-property", "max.block.ms=20000"],
    `${value}\n`,
  );
  const failure = /org\.apache\.kafka\.common\.errors\.(\w+Exception)/.exec(`${r.stdout}\n${r.stderr}`);
  if (failure) return failure[1]!;
  assert.equal(r.code, 0, r.stderr);
  return "ok";
}

describe("ACLs with Kafka's tools (one agent)", function () {
  this.timeout(600_000);
  let dir: ReturnType<typeof tempDir>;

  before(async () => {
    await ensureKafkaTools();
    dir = tempDir("acls-tools");
  });
  after(() => dir?.remove());

  describe("kafka-acls against an agent with SASL users and authorization on", () => {
    let agent: TestAgent;
    let admin: string;
    let alice: string;

    before(async () => {
      const users = writeUsersFile(dir.path, { admin: "admin-pw", alice: "alice-pw" });
      agent = await startTestAgent({
        kafkaSASLMechanisms: "SCRAM-SHA-512",
        kafkaSASLUsersFile: users,
        authorizationEnabled: "true",
        superUsers: "User:admin",
      });
      admin = saslConfig(dir.path, "admin", "admin-pw");
      alice = saslConfig(dir.path, "alice", "alice-pw");
    });
    after(async () => agent?.stop());

    it("--add, --list and --remove round-trip, as the agent's bindings show", async () => {
      const added = await acls(agent.bootstrap, admin, [
        "--add",
        "--allow-principal",
        "User:alice",
        "--operation",
        "Read",
        "--operation",
        "Describe",
        "--topic",
        "orders",
      ]);
      assert.match(
        added,
        /Adding ACLs for resource `ResourcePattern\(resourceType=TOPIC, name=orders, patternType=LITERAL\)`/,
      );
      await acls(agent.bootstrap, admin, [
        "--add",
        "--producer",
        "--allow-principal",
        "User:alice",
        "--topic",
        "orders-",
        "--resource-pattern-type",
        "prefixed",
      ]);
      await acls(agent.bootstrap, admin, [
        "--add",
        "--consumer",
        "--allow-principal",
        "User:bob",
        "--topic",
        "orders",
        "--group",
        "billing",
      ]);
      await acls(agent.bootstrap, admin, [
        "--add",
        "--deny-principal",
        "User:alice",
        "--deny-host",
        "10.0.0.1",
        "--operation",
        "Write",
        "--topic",
        "orders-secret",
      ]);
      assert.equal(agent.running.context.metadata.state.acls.size, 9);

      const all = await acls(agent.bootstrap, admin, ["--list"]);
      for (const line of [
        "(principal=User:alice, host=10.0.0.1, operation=WRITE, permissionType=DENY)",
        "(principal=User:alice, host=*, operation=CREATE, permissionType=ALLOW)",
        "(principal=User:bob, host=*, operation=READ, permissionType=ALLOW)",
        "ResourcePattern(resourceType=GROUP, name=billing, patternType=LITERAL)",
        "ResourcePattern(resourceType=TOPIC, name=orders-, patternType=PREFIXED)",
      ])
        assert.ok(all.includes(line), `--list shows ${line}:\n${all}`);
      assert.equal(all.match(/\(principal=/g)?.length, 9);

      const match = await acls(agent.bootstrap, admin, [
        "--list",
        "--topic",
        "orders-eu",
        "--resource-pattern-type",
        "match",
      ]);
      assert.match(match, /name=orders-, patternType=PREFIXED/);
      assert.doesNotMatch(match, /name=orders, patternType=LITERAL/);
      const bobs = await acls(agent.bootstrap, admin, ["--list", "--principal", "User:bob"]);
      assert.equal(bobs.match(/\(principal=User:bob/g)?.length, 3);
      assert.doesNotMatch(bobs, /User:alice/);

      await acls(agent.bootstrap, admin, [
        "--remove",
        "--force",
        "--allow-principal",
        "User:bob",
        "--operation",
        "Read",
        "--topic",
        "orders",
      ]);
      const after = await acls(agent.bootstrap, admin, ["--list", "--topic", "orders"]);
      assert.doesNotMatch(after, /User:bob, host=\*, operation=READ/);
      assert.match(after, /User:bob, host=\*, operation=DESCRIBE/);
      // The --consumer shortcut names the operations to remove (docs/security.md's example).
      await acls(agent.bootstrap, admin, [
        "--remove",
        "--force",
        "--allow-principal",
        "User:bob",
        "--consumer",
        "--topic",
        "orders",
        "--group",
        "billing",
      ]);
      assert.doesNotMatch(await acls(agent.bootstrap, admin, ["--list"]), /User:bob/);
      await acls(agent.bootstrap, admin, [
        "--remove",
        "--force",
        "--topic",
        "orders-",
        "--resource-pattern-type",
        "prefixed",
      ]);
      assert.equal(agent.running.context.metadata.state.acls.size, 3);
    });

    it("refuses a user who is not a super user: ClusterAuthorizationException", async () => {
      for (const args of [
        ["--list"],
        ["--add", "--allow-principal", "User:alice", "--operation", "All", "--cluster"],
      ]) {
        const r = await tool("acls", agent.bootstrap, ["--command-config", alice, ...args]);
        assert.notEqual(r.code, 0);
        assert.match(r.stdout + r.stderr, /ClusterAuthorizationException: Cluster authorization failed/);
      }
    });

    it("an agent without authorization answers SecurityDisabledException", async () => {
      const open = await startTestAgent();
      try {
        const r = await tool("acls", open.bootstrap, ["--list"]);
        assert.notEqual(r.code, 0);
        assert.match(r.stdout + r.stderr, /SecurityDisabledException: No Authorizer is configured/);
      } finally {
        await open.stop();
      }
    });
  });

  describe("-allowEveryoneIfNoAclFound=true", () => {
    let agent: TestAgent;
    let admin: string;
    let alice: string;

    before(async () => {
      const users = writeUsersFile(dir.path, { admin: "admin-pw", alice: "alice-pw" }, "users-open");
      agent = await startTestAgent({
        kafkaSASLMechanisms: "SCRAM-SHA-512",
        kafkaSASLUsersFile: users,
        authorizationEnabled: "true",
        superUsers: "User:admin",
        allowEveryoneIfNoAclFound: "true",
        autoCreateTopics: "false",
      });
      admin = saslConfig(dir.path, "admin", "admin-pw");
      alice = saslConfig(dir.path, "alice", "alice-pw");
      for (const topic of ["open", "claimed"]) {
        const r = await tool("topics", agent.bootstrap, ["--command-config", alice, "--create", "--topic", topic]);
        assert.equal(r.code, 0, `anybody may create topics while no ACL names the cluster:\n${r.stderr}`);
      }
    });
    after(async () => agent?.stop());

    it("lets anybody use a topic no ACL names, and only those an ACL allows once one does", async () => {
      assert.equal(await produceOne(agent.bootstrap, alice, "claimed", "before"), "ok");
      await acls(agent.bootstrap, admin, [
        "--add",
        "--allow-principal",
        "User:bob",
        "--operation",
        "Write",
        "--topic",
        "claimed",
      ]);
      assert.equal(await produceOne(agent.bootstrap, alice, "claimed", "after"), "TopicAuthorizationException");
      assert.equal(await produceOne(agent.bootstrap, alice, "open", "still"), "ok");
    });
  });

  describe("mutual TLS: certificate subjects as principals", () => {
    let certs: TestCerts;
    let agent: TestAgent;
    const keystore = (name: string) => {
      const c = certs.clients[name]!;
      const file = path.join(certs.dir, `${name}-keystore.pem`);
      writeFileSync(file, readFileSync(c.key, "utf8") + readFileSync(c.cert, "utf8"));
      const config = path.join(certs.dir, `${name}.properties`);
      writeFileSync(
        config,
        [
          "security.protocol=SSL",
          "ssl.truststore.type=PEM",
          `ssl.truststore.location=${certs.caFile}`,
          "ssl.keystore.type=PEM",
          `ssl.keystore.location=${file}`,
          "",
        ].join("\n"),
      );
      return config;
    };

    before(async () => {
      certs = await makeTestCerts({
        admin: "/O=Example/OU=apps/CN=Admin",
        orders: "/O=Example/OU=apps/CN=Orders-App",
        other: "/O=Example/OU=apps/CN=Other-App",
        partner: "/O=Example/OU=partners/CN=acme",
        stranger: "/O=Elsewhere/CN=nobody",
      });
      agent = await startTestAgent({
        kafkaTLSCertFile: certs.serverCert,
        kafkaTLSKeyFile: certs.serverKey,
        kafkaTLSClientCAFile: certs.caFile,
        // apps: the lower-cased CN; partners: the whole subject (DEFAULT); anybody else: no principal.
        kafkaTLSPrincipalMappingRules: "RULE:^CN=([^,]+),OU=apps,O=Example$/$1/L,RULE:^.*,OU=partners,O=Example$/$0/",
        authorizationEnabled: "true",
        superUsers: "User:admin",
        autoCreateTopics: "false",
      });
      const admin = keystore("admin");
      const created = await tool("topics", agent.bootstrap, [
        "--command-config",
        admin,
        "--create",
        "--topic",
        "orders",
      ]);
      assert.equal(created.code, 0, created.stderr);
      await acls(agent.bootstrap, admin, [
        "--add",
        "--producer",
        "--allow-principal",
        "User:orders-app",
        "--topic",
        "orders",
      ]);
      await acls(agent.bootstrap, admin, [
        "--add",
        "--allow-principal",
        "User:CN=acme,OU=partners,O=Example",
        "--operation",
        "Write",
        "--topic",
        "orders",
      ]);
    });
    after(async () => {
      await agent?.stop();
      certs?.remove();
    });

    it("a mapped name is the principal ACLs name; another name is denied", async () => {
      assert.equal(await produceOne(agent.bootstrap, keystore("orders"), "orders", "from-orders-app"), "ok");
      assert.equal(
        await produceOne(agent.bootstrap, keystore("other"), "orders", "from-other-app"),
        "TopicAuthorizationException",
      );
    });

    it("a rule can keep the whole subject (RFC 2253, most specific first)", async () => {
      assert.equal(await produceOne(agent.bootstrap, keystore("partner"), "orders", "from-partner"), "ok");
    });

    it("a certificate no rule maps is disconnected, and the log says why", async () => {
      const c = certs.clients.stranger!;
      const logs = await captureLogs(async () => {
        const client = await RawKafkaClient.connect(agent.port, {
          ca: readFileSync(certs.caFile),
          cert: readFileSync(c.cert),
          key: readFileSync(c.key),
          servername: "localhost",
        });
        assert.ok(await client.waitClosed(), "the connection is closed");
        await assert.rejects(client.request(ApiKey.ApiVersions, 0, {}), /connection closed/);
      });
      assert.match(
        logs,
        /closing connection.*no principal mapping rule \(-kafkaTLSPrincipalMappingRules\) applies to the client certificate CN=nobody,O=Elsewhere/,
      );
      // A client with a mapped name is served on the same listener meanwhile.
      const o = certs.clients.orders!;
      const served = await RawKafkaClient.connect(agent.port, {
        ca: readFileSync(certs.caFile),
        cert: readFileSync(o.cert),
        key: readFileSync(o.key),
        servername: "localhost",
      });
      assert.equal((await served.request(ApiKey.ApiVersions, 0, {})).errorCode, ErrorCode.NONE);
      served.close();
    });

    it("with SASL on the same listener, the SASL user is the principal and certificates are not mapped", async () => {
      const sasl = await startTestAgent({
        kafkaTLSCertFile: certs.serverCert,
        kafkaTLSKeyFile: certs.serverKey,
        kafkaTLSClientCAFile: certs.caFile,
        kafkaTLSPrincipalMappingRules: "RULE:^CN=([^,]+),OU=apps,O=Example$/$1/L",
        kafkaSASLMechanisms: "PLAIN",
        kafkaSASLUsersFile: writeUsersFile(certs.dir, { admin: "admin-pw" }, "users-mtls"),
        authorizationEnabled: "true",
        superUsers: "User:admin",
      });
      try {
        const c = certs.clients.stranger!;
        const client = await RawKafkaClient.connect(sasl.port, {
          ca: readFileSync(certs.caFile),
          cert: readFileSync(c.cert),
          key: readFileSync(c.key),
          servername: "localhost",
        });
        await client.authenticatePlain("admin", "admin-pw");
        const listed = await client.request(ApiKey.DescribeAcls, 3, {
          resourceTypeFilter: 1,
          resourceNameFilter: null,
          patternTypeFilter: 1,
          principalFilter: null,
          hostFilter: null,
          operation: 1,
          permissionType: 1,
        });
        assert.equal(listed.errorCode, ErrorCode.NONE, "the super user, by SASL, whatever the certificate");
        client.close();
      } finally {
        await sasl.stop();
      }
    });
  });
});
