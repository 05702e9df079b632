/**
 * SCRAM credential administration on the wire (AlterUserScramCredentials 51, DescribeUserScramCredentials
 * 50, and DescribeClientQuotas 48, which `kafka-configs --describe` asks first), on an agent with SASL,
 * a users file and authorization: credentials created through the API log in with SCRAM and PLAIN,
 * deleting them stops new logins, Kafka's per-user errors, the users file's precedence, the cluster
 * permissions each API needs, the salted password never reaching the metadata log, and no user name,
 * password or principal in any log line. The SCRAM client side is computed here, independently of the
 * agent's code.
 */
import assert from "node:assert/strict";
import { createHash, createHmac, pbkdf2Sync, randomBytes } from "node:crypto";
import { readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import { ApiKey, ErrorCode } from "../../src/protocol/index.js";
import { RawKafkaClient, captureLogs, scramLogin, writeUsersFile } from "../security/support.js";
import { startTestAgent, tempDir } from "../support/agents.js";
import type { TestAgent } from "../support/agents.js";

const USERS = { admin: "admin-pw", alice: "alice-pw" } as const;
const SHA = { 1: ["sha256", 32], 2: ["sha512", 64] } as const;

interface Upsertion {
  name: string;
  mechanism: number;
  iterations: number;
  salt: Buffer;
  saltedPassword: Buffer;
}

/** What the Java admin client sends for a password: a random salt and Hi(password, salt, iterations). */
function upsertion(name: string, mechanism: 1 | 2, password: string, iterations = 4096): Upsertion {
  const [hash, length] = SHA[mechanism];
  const salt = randomBytes(24);
  return { name, mechanism, iterations, salt, saltedPassword: pbkdf2Sync(password, salt, iterations, length, hash) };
}

/** Every file under `dir`, concatenated (the file:// store's objects). */
function allBytes(dir: string): Buffer {
  const parts: Buffer[] = [];
  for (const name of readdirSync(dir)) {
    const p = path.join(dir, name);
    parts.push(statSync(p).isDirectory() ? allBytes(p) : readFileSync(p));
  }
  return Buffer.concat(parts);
}

describe("SCRAM credential administration (AlterUserScramCredentials, DescribeUserScramCredentials)", function () {
  this.timeout(60_000);
  let dir: ReturnType<typeof tempDir>;
  let agent: TestAgent;
  const clients: RawKafkaClient[] = [];

  async function as(user: keyof typeof USERS): Promise<RawKafkaClient> {
    const c = await RawKafkaClient.connect(agent.port);
    clients.push(c);
    await c.authenticatePlain(user, USERS[user]);
    return c;
  }

  async function alter(
    c: RawKafkaClient,
    deletions: Array<{ name: string; mechanism: number }>,
    upsertions: Upsertion[],
  ): Promise<Array<[string, number, string | null]>> {
    const r = await c.request(ApiKey.AlterUserScramCredentials, 0, { deletions, upsertions });
    return r.results.map((x) => [x.user, x.errorCode, x.errorMessage]);
  }

  async function describe(c: RawKafkaClient, users: string[] | null) {
    return c.request(ApiKey.DescribeUserScramCredentials, 0, {
      users: users === null ? null : users.map((name) => ({ name })),
    });
  }

  /** Whether `user` logs in with `mechanism` and `password` on a new connection. */
  async function logsIn(
    user: string,
    password: string,
    mechanism: "PLAIN" | "SCRAM-SHA-256" | "SCRAM-SHA-512",
  ): Promise<boolean> {
    const c = await RawKafkaClient.connect(agent.port);
    try {
      if (mechanism === "PLAIN") {
        await c.request(ApiKey.SaslHandshake, 1, { mechanism });
        const r = await c.request(ApiKey.SaslAuthenticate, 2, { authBytes: Buffer.from(`\0${user}\0${password}`) });
        return r.errorCode === ErrorCode.NONE;
      }
      const { final, scram } = await scramLogin(c, mechanism, user, password);
      if (final.errorCode !== ErrorCode.NONE) return false;
      scram.verify(final.authBytes);
      return true;
    } finally {
      c.close();
    }
  }

  before(async () => {
    dir = tempDir("scram-admin");
    agent = await startTestAgent({
      bucketURL: `file://${path.join(dir.path, "data")}`,
      kafkaSASLMechanisms: "SCRAM-SHA-256,SCRAM-SHA-512,PLAIN",
      kafkaSASLUsersFile: writeUsersFile(dir.path, USERS),
      authorizationEnabled: "true",
      superUsers: "User:admin",
    });
  });

  after(async () => {
    for (const c of clients) c.close();
    await agent?.stop();
    dir?.remove();
  });

  it("creates a user that logs in with SCRAM and PLAIN; deleting the credential stops new logins", async () => {
    const admin = await as("admin");
    assert.equal(await logsIn("carol", "carol-pw", "SCRAM-SHA-512"), false, "unknown before");
    assert.deepEqual(await alter(admin, [], [upsertion("carol", 2, "carol-pw", 8192)]), [["carol", 0, null]]);
    assert.equal(await logsIn("carol", "carol-pw", "SCRAM-SHA-512"), true);
    assert.equal(await logsIn("carol", "carol-pw", "PLAIN"), true, "PLAIN checks the password against the stored key");
    assert.equal(await logsIn("carol", "wrong", "SCRAM-SHA-512"), false);
    assert.equal(await logsIn("carol", "carol-pw", "SCRAM-SHA-256"), false, "no SCRAM-SHA-256 credential");
    const described = await describe(admin, ["carol"]);
    assert.equal(described.errorCode, ErrorCode.NONE);
    assert.deepEqual(described.results, [
      { user: "carol", errorCode: 0, errorMessage: null, credentialInfos: [{ mechanism: 2, iterations: 8192 }] },
    ]);
    // A new password replaces the old one.
    assert.deepEqual(await alter(admin, [], [upsertion("carol", 2, "carol-pw-2")]), [["carol", 0, null]]);
    assert.equal(await logsIn("carol", "carol-pw", "SCRAM-SHA-512"), false);
    assert.equal(await logsIn("carol", "carol-pw-2", "SCRAM-SHA-512"), true);
    assert.deepEqual(await alter(admin, [{ name: "carol", mechanism: 2 }], []), [["carol", 0, null]]);
    assert.equal(await logsIn("carol", "carol-pw-2", "SCRAM-SHA-512"), false);
    assert.equal(await logsIn("carol", "carol-pw-2", "PLAIN"), false);
    assert.equal((await describe(admin, ["carol"])).results[0]!.errorCode, ErrorCode.RESOURCE_NOT_FOUND);
  });

  it("answers Kafka's error per user, applying each user's changes all or nothing", async () => {
    const admin = await as("admin");
    const results = await alter(
      admin,
      [
        { name: "dave", mechanism: 1 },
        { name: "erin", mechanism: 2 },
      ],
      [
        upsertion("", 1, "x"),
        { ...upsertion("gus", 1, "x"), mechanism: 0 },
        upsertion("dave", 1, "x"),
        upsertion("erin", 1, "erin-pw"),
        { ...upsertion("hal", 1, "x"), iterations: 1000 },
        { ...upsertion("ivy", 1, "x"), iterations: 20_000 },
        { ...upsertion("jan", 2, "x"), saltedPassword: randomBytes(32) },
        { ...upsertion("kim", 1, "x"), salt: Buffer.alloc(0) },
        upsertion("alice", 2, "taken-over"),
        upsertion("frank", 1, "frank-pw"),
      ],
    );
    assert.deepEqual(results, [
      ["dave", ErrorCode.DUPLICATE_RESOURCE, "A user credential cannot be altered twice in the same request"],
      ["erin", ErrorCode.RESOURCE_NOT_FOUND, "Attempt to delete a user credential that does not exist"],
      ["", ErrorCode.UNACCEPTABLE_CREDENTIAL, "Username must not be empty"],
      ["gus", ErrorCode.UNSUPPORTED_SASL_MECHANISM, "Unknown SCRAM mechanism"],
      ["hal", ErrorCode.UNACCEPTABLE_CREDENTIAL, "Too few iterations"],
      ["ivy", ErrorCode.UNACCEPTABLE_CREDENTIAL, "Too many iterations"],
      ["jan", ErrorCode.UNACCEPTABLE_CREDENTIAL, "The salted password must be 64 bytes for SCRAM-SHA-512"],
      ["kim", ErrorCode.UNACCEPTABLE_CREDENTIAL, "Salt must not be empty"],
      [
        "alice",
        ErrorCode.UNACCEPTABLE_CREDENTIAL,
        "This user is defined in the agents' users file (-kafkaSASLUsersFile), which takes precedence: change it there",
      ],
      ["frank", ErrorCode.NONE, null],
    ]);
    // erin's upsertion came with a failed deletion: nothing of it applied.
    assert.equal(await logsIn("erin", "erin-pw", "SCRAM-SHA-256"), false);
    assert.equal(await logsIn("frank", "frank-pw", "SCRAM-SHA-256"), true);
    assert.equal(await logsIn("alice", "taken-over", "SCRAM-SHA-512"), false, "the users file still decides");
    assert.equal(await logsIn("alice", USERS.alice, "SCRAM-SHA-512"), true);
    assert.deepEqual(await alter(admin, [{ name: "alice", mechanism: 1 }], []), [
      [
        "alice",
        ErrorCode.UNACCEPTABLE_CREDENTIAL,
        "This user is defined in the agents' users file (-kafkaSASLUsersFile), which takes precedence: change it there",
      ],
    ]);
  });

  it("describes every user, the users file's first among equals, and named ones with Kafka's errors", async () => {
    const admin = await as("admin");
    assert.deepEqual(await alter(admin, [], [upsertion("lee", 1, "lee-pw"), upsertion("lee", 2, "lee-pw", 5000)]), [
      ["lee", 0, null],
    ]);
    for (const users of [null, []]) {
      const all = await describe(admin, users);
      assert.equal(all.errorCode, ErrorCode.NONE);
      const byUser = new Map(all.results.map((r) => [r.user, r.credentialInfos]));
      assert.deepEqual(byUser.get("lee"), [
        { mechanism: 1, iterations: 4096 },
        { mechanism: 2, iterations: 5000 },
      ]);
      // Users-file users, described from the file (every enabled SCRAM mechanism, 4096 iterations).
      assert.deepEqual(byUser.get("alice"), [
        { mechanism: 1, iterations: 4096 },
        { mechanism: 2, iterations: 4096 },
      ]);
      assert.ok(byUser.has("admin"));
      assert.ok(!byUser.has("carol"), "a user whose last credential was deleted is gone");
      assert.deepEqual(
        all.results.map((r) => r.user),
        [...byUser.keys()].sort(),
        "sorted by user",
      );
    }
    const named = await describe(admin, ["lee", "nobody", "alice", "lee"]);
    assert.deepEqual(
      named.results.map((r) => [r.user, r.errorCode, r.errorMessage, r.credentialInfos.length]),
      [
        [
          "lee",
          ErrorCode.DUPLICATE_RESOURCE,
          "Cannot describe SCRAM credentials for the same user twice in a single request",
          0,
        ],
        ["nobody", ErrorCode.RESOURCE_NOT_FOUND, "Attempt to describe a user credential that does not exist", 0],
        ["alice", ErrorCode.NONE, null, 2],
      ],
    );
  });

  it("needs ALTER on the cluster to alter and DESCRIBE to describe", async () => {
    const alice = await as("alice");
    assert.deepEqual(await alter(alice, [{ name: "frank", mechanism: 1 }], [upsertion("mia", 1, "mia-pw")]), [
      ["frank", ErrorCode.CLUSTER_AUTHORIZATION_FAILED, "Cluster authorization failed."],
      ["mia", ErrorCode.CLUSTER_AUTHORIZATION_FAILED, "Cluster authorization failed."],
    ]);
    assert.equal(await logsIn("frank", "frank-pw", "SCRAM-SHA-256"), true, "frank's credential is still there");
    assert.equal(await logsIn("mia", "mia-pw", "SCRAM-SHA-256"), false);
    const described = await describe(alice, null);
    assert.deepEqual(
      [described.errorCode, described.errorMessage, described.results],
      [ErrorCode.CLUSTER_AUTHORIZATION_FAILED, "Cluster authorization failed.", []],
    );
    const quotas = await alice.request(ApiKey.DescribeClientQuotas, 1, { components: [], strict: false });
    assert.equal(quotas.errorCode, ErrorCode.CLUSTER_AUTHORIZATION_FAILED);
  });

  it("keeps StoredKey and ServerKey in the metadata log, never the salted password", async () => {
    const admin = await as("admin");
    const u = upsertion("nia", 2, "nia-pw");
    const salted = Buffer.from(u.saltedPassword);
    assert.deepEqual(await alter(admin, [], [u]), [["nia", 0, null]]);
    const stored = allBytes(path.join(dir.path, "data"));
    const serverKey = createHmac("sha512", salted).update("Server Key").digest();
    const storedKey = createHash("sha512").update(createHmac("sha512", salted).update("Client Key").digest()).digest();
    assert.ok(stored.includes(serverKey.toString("base64")), "the log holds ServerKey");
    assert.ok(stored.includes(storedKey.toString("base64")), "and StoredKey");
    for (const form of [salted, Buffer.from(salted.toString("base64")), Buffer.from(salted.toString("hex"))])
      assert.ok(!stored.includes(form), "but not the salted password");
  });

  it("DescribeClientQuotas answers that no quotas are set, and refuses malformed filters as Kafka does", async () => {
    const admin = await as("admin");
    for (const version of [0, 1] as const) {
      const r = await admin.request(ApiKey.DescribeClientQuotas, version, {
        components: [{ entityType: "user", matchType: 0, match: "carol" }],
        strict: false,
      });
      assert.deepEqual([r.errorCode, r.entries], [ErrorCode.NONE, []]);
    }
    const refused = async (components: Array<{ entityType: string; matchType: number; match: string | null }>) => {
      const r = await admin.request(ApiKey.DescribeClientQuotas, 1, { components, strict: true });
      assert.equal(r.errorCode, ErrorCode.INVALID_REQUEST);
      return r.errorMessage;
    };
    assert.match((await refused([{ entityType: "team", matchType: 2, match: null }]))!, /Custom entity type 'team'/);
    assert.match(
      (await refused([
        { entityType: "user", matchType: 2, match: null },
        { entityType: "user", matchType: 1, match: null },
      ]))!,
      /Duplicate user filter/,
    );
    assert.match((await refused([{ entityType: "user", matchType: 0, match: null }]))!, /Unexpected null match/);
    assert.match((await refused([{ entityType: "user", matchType: 1, match: "x" }]))!, /Unexpected match/);
    assert.match((await refused([{ entityType: "user", matchType: 7, match: null }]))!, /Unknown match type 7/);
    assert.match(
      (await refused([
        { entityType: "ip", matchType: 2, match: null },
        { entityType: "user", matchType: 2, match: null },
      ]))!,
      /IP filter component should not be used with user/,
    );
  });

  it("logs no user name, principal or password: logins, credential and ACL changes, denials", async () => {
    const logs = await captureLogs(async () => {
      const admin = await as("admin");
      assert.deepEqual(await alter(admin, [], [upsertion("olga", 2, "olga-secret-pw")]), [["olga", 0, null]]);
      assert.equal(await logsIn("olga", "olga-secret-pw", "SCRAM-SHA-512"), true);
      assert.equal(await logsIn("olga", "olga-wrong-pw", "PLAIN"), false);
      assert.equal(await logsIn("alice", "alice-wrong-pw", "SCRAM-SHA-256"), false);
      const acl = {
        resourceType: 2,
        resourceName: "olga-topic",
        resourcePatternType: 3,
        principal: "User:olga",
        host: "*",
        operation: 3,
        permissionType: 3,
      };
      const created = await admin.request(ApiKey.CreateAcls, 3, { creations: [acl] });
      assert.equal(created.results[0]!.errorCode, ErrorCode.NONE);
      const deleted = await admin.request(ApiKey.DeleteAcls, 3, {
        filters: [
          {
            resourceTypeFilter: 2,
            resourceNameFilter: "olga-topic",
            patternTypeFilter: 3,
            principalFilter: "User:olga",
            hostFilter: "*",
            operation: 3,
            permissionType: 3,
          },
        ],
      });
      assert.equal(deleted.filterResults[0]!.matchingAcls.length, 1);
      // A denial (logged at debug): alice may not describe the cluster.
      const alice = await as("alice");
      assert.equal((await describe(alice, null)).errorCode, ErrorCode.CLUSTER_AUTHORIZATION_FAILED);
      assert.deepEqual(await alter(admin, [{ name: "olga", mechanism: 2 }], []), [["olga", 0, null]]);
      await new Promise((r) => setTimeout(r, 100));
    });
    assert.match(logs, /SASL authentication failed/);
    assert.match(logs, /SCRAM credentials altered/);
    assert.match(logs, /ACLs created/);
    assert.match(logs, /authorization denied/);
    for (const secret of ["olga", "alice", "admin", "olga-secret-pw", "olga-wrong-pw", "alice-wrong-pw", USERS.admin])
      assert.ok(!logs.includes(secret), `no log line contains ${JSON.stringify(secret)}`);
  });
});
