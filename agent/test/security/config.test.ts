/**
 * Start-up refuses bad TLS/SASL settings with a message naming the flag (and, for the users file, the
 * line): flag combinations in parseAgentConfig, file problems when the agent starts.
 */
import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { ConfigError } from "../../../common/flags/read.js";
import { parseAgentConfig } from "../../src/config/parse.js";
import { spawnAgentProcess, startTestAgent } from "../support/agents.js";
import { RawKafkaClient, ScramClient, makeTestCerts, writeUsersFile } from "./support.js";
import { ApiKey, ErrorCode } from "../../src/protocol/index.js";
import type { TestCerts } from "./support.js";

const BASE = { bucketURL: "mem://security-config" };

function configFails(flags: Record<string, string>, ...parts: string[]): void {
  assert.throws(
    () => parseAgentConfig({ ...BASE, ...flags }, {}),
    (err: unknown) => {
      assert.ok(err instanceof ConfigError, `expected ConfigError, got ${String(err)}`);
      for (const part of parts)
        assert.ok(err.message.includes(part), `${JSON.stringify(err.message)} should include ${JSON.stringify(part)}`);
      return true;
    },
  );
}

async function startFails(flags: Record<string, string>, ...parts: string[]): Promise<void> {
  await assert.rejects(startTestAgent(flags), (err: unknown) => {
    const message = err instanceof Error ? err.message : String(err);
    for (const part of parts)
      assert.ok(message.includes(part), `${JSON.stringify(message)} should include ${JSON.stringify(part)}`);
    assert.ok(!message.includes("hunter2"), "no password in the message");
    return true;
  });
}

describe("TLS and SASL settings", function () {
  this.timeout(60_000);

  describe("flags", () => {
    it("read TLS and SASL settings from flags and environment variables", () => {
      const c = parseAgentConfig(
        { ...BASE, kafkaTLSCertFile: "/t/tls.crt", kafkaTLSKeyFile: "/t/tls.key", kafkaTLSClientCAFile: "/t/ca.crt" },
        {
          WARP_KAFKA_SASL_MECHANISMS: "scram-sha-512, PLAIN,SCRAM-SHA-512",
          WARP_KAFKA_SASL_USERS_FILE: "/s/users",
        },
      );
      assert.deepEqual(c.kafkaTLS, { certFile: "/t/tls.crt", keyFile: "/t/tls.key", clientCaFile: "/t/ca.crt" });
      assert.deepEqual(c.kafkaSASL, { mechanisms: ["SCRAM-SHA-512", "PLAIN"], usersFile: "/s/users" });
      const env = parseAgentConfig(BASE, { WARP_KAFKA_TLS_CERT_FILE: "/a", WARP_KAFKA_TLS_KEY_FILE: "/b" });
      assert.deepEqual(env.kafkaTLS, { certFile: "/a", keyFile: "/b" });
    });

    it("leave both out by default (plaintext, no authentication)", () => {
      const c = parseAgentConfig(BASE, {});
      assert.equal(c.kafkaTLS, undefined);
      assert.equal(c.kafkaSASL, undefined);
      assert.equal(parseAgentConfig({ ...BASE, kafkaSASLMechanisms: "" }, {}).kafkaSASL, undefined);
    });

    it("refuse a certificate without a key and a key without a certificate", () => {
      configFails({ kafkaTLSCertFile: "/c" }, "-kafkaTLSCertFile", "needs -kafkaTLSKeyFile");
      configFails({ kafkaTLSKeyFile: "/k" }, "-kafkaTLSKeyFile", "needs -kafkaTLSCertFile");
    });
    it("refuse a client CA without TLS", () =>
      configFails({ kafkaTLSClientCAFile: "/ca" }, "-kafkaTLSClientCAFile", "needs TLS"));
    it("refuse an unknown SASL mechanism", () =>
      configFails(
        { kafkaSASLMechanisms: "PLAIN,GSSAPI", kafkaSASLUsersFile: "/u" },
        "-kafkaSASLMechanisms",
        '"GSSAPI"',
        "PLAIN, SCRAM-SHA-256, SCRAM-SHA-512",
      ));
    it("refuse mechanisms without a users file", () =>
      configFails({ kafkaSASLMechanisms: "PLAIN" }, "-kafkaSASLMechanisms", "needs -kafkaSASLUsersFile"));
    it("read the authorization settings; off by default, with nothing allowed by default once on", () => {
      assert.deepEqual(parseAgentConfig(BASE, {}).authorization, {
        enabled: false,
        superUsers: [],
        allowEveryoneIfNoAclFound: false,
      });
      const c = parseAgentConfig(
        { ...BASE, authorizationEnabled: "true", superUsers: " User:admin ; User:ops;User:admin;" },
        { WARP_ALLOW_EVERYONE_IF_NO_ACL_FOUND: "true" },
      );
      assert.deepEqual(c.authorization, {
        enabled: true,
        superUsers: ["User:admin", "User:ops"],
        allowEveryoneIfNoAclFound: true,
      });
      const env = parseAgentConfig(BASE, {
        WARP_AUTHORIZATION_ENABLED: "1",
        WARP_SUPER_USERS: "User:CN=admin,O=Example",
      });
      assert.deepEqual(env.authorization.superUsers, ["User:CN=admin,O=Example"]);
    });
    it("refuse authorization settings while authorization is off, naming the flag", () => {
      configFails({ superUsers: "User:admin" }, "-superUsers (WARP_SUPER_USERS)", "authorization is off");
      configFails(
        { allowEveryoneIfNoAclFound: "true" },
        "-allowEveryoneIfNoAclFound (WARP_ALLOW_EVERYONE_IF_NO_ACL_FOUND)",
        "-authorizationEnabled",
      );
    });
    it("refuse super users that are not User principals, and User:*", () => {
      configFails({ authorizationEnabled: "true", superUsers: "admin" }, "-superUsers", '"admin"', "User:<name>");
      configFails({ authorizationEnabled: "true", superUsers: "user:admin" }, "-superUsers", "case-sensitive");
      configFails({ authorizationEnabled: "true", superUsers: "User:admin;User:*" }, "-superUsers", "User:*");
      configFails({ authorizationEnabled: "maybe" }, "-authorizationEnabled", "true, false, 1 or 0");
    });
    it("read principal mapping rules for mutual TLS, refusing bad rules and rules without mutual TLS", () => {
      const tls = { kafkaTLSCertFile: "/t/tls.crt", kafkaTLSKeyFile: "/t/tls.key", kafkaTLSClientCAFile: "/t/ca" };
      const c = parseAgentConfig(
        { ...BASE, ...tls, kafkaTLSPrincipalMappingRules: "RULE:^CN=([^,]+),.*$/$1/L,DEFAULT" },
        {},
      );
      assert.equal(c.kafkaTLSPrincipalMapper?.name("CN=Orders-App,O=Example"), "orders-app");
      assert.equal(parseAgentConfig({ ...BASE, ...tls }, {}).kafkaTLSPrincipalMapper, undefined);
      configFails(
        { ...tls, kafkaTLSPrincipalMappingRules: "RULE:^CN=(.*)$/$1/X" },
        "-kafkaTLSPrincipalMappingRules",
        'invalid rule "RULE:^CN=(.*)$/$1/X"',
      );
      configFails(
        { kafkaTLSCertFile: "/c", kafkaTLSKeyFile: "/k", kafkaTLSPrincipalMappingRules: "DEFAULT" },
        "-kafkaTLSPrincipalMappingRules",
        "needs mutual TLS (-kafkaTLSClientCAFile)",
      );
    });
    it("refuse a users file without mechanisms", () =>
      configFails({ kafkaSASLUsersFile: "/u" }, "-kafkaSASLUsersFile", "is set but -kafkaSASLMechanisms", "is empty"));
  });

  describe("files, at start-up", () => {
    let certs: TestCerts;
    before(async () => {
      certs = await makeTestCerts();
    });
    after(() => certs?.remove());

    it("a missing users file", () =>
      startFails(
        { kafkaSASLMechanisms: "PLAIN", kafkaSASLUsersFile: path.join(certs.dir, "nope") },
        "cannot read -kafkaSASLUsersFile",
        "no such file",
      ));

    it("an unreadable users file (a directory)", () =>
      startFails(
        { kafkaSASLMechanisms: "PLAIN", kafkaSASLUsersFile: certs.dir },
        "cannot read -kafkaSASLUsersFile",
        "is a directory",
      ));

    it("a malformed users file, naming the line", () => {
      const file = path.join(certs.dir, "bad-users");
      writeFileSync(file, "# users\nalice:pw\nbob hunter2\n");
      return startFails(
        { kafkaSASLMechanisms: "SCRAM-SHA-256", kafkaSASLUsersFile: file },
        "-kafkaSASLUsersFile",
        "line 3",
        "expected <user>:<password>",
      );
    });

    it("a missing certificate file", () =>
      startFails(
        { kafkaTLSCertFile: path.join(certs.dir, "none.pem"), kafkaTLSKeyFile: certs.serverKey },
        "cannot read -kafkaTLSCertFile",
        "no such file",
      ));

    it("a certificate file without a certificate", () =>
      startFails(
        { kafkaTLSCertFile: certs.serverKey, kafkaTLSKeyFile: certs.serverKey },
        "-kafkaTLSCertFile",
        "no PEM certificate",
      ));

    it("a key file without a key", () =>
      startFails(
        { kafkaTLSCertFile: certs.serverCert, kafkaTLSKeyFile: certs.serverCert },
        "-kafkaTLSKeyFile",
        "not a valid unencrypted PEM private key",
      ));

    it("a key that does not belong to the certificate", () =>
      startFails(
        { kafkaTLSCertFile: certs.serverCert, kafkaTLSKeyFile: certs.clientKey },
        "-kafkaTLSKeyFile",
        "does not belong to the certificate",
      ));

    it("the warp CLI takes them from WARP_* environment variables and serves SASL_SSL", async () => {
      const agent = await spawnAgentProcess(["-bucketURL", `file://${path.join(certs.dir, "data")}`], {
        WARP_KAFKA_TLS_CERT_FILE: certs.serverCert,
        WARP_KAFKA_TLS_KEY_FILE: certs.serverKey,
        WARP_KAFKA_SASL_MECHANISMS: "SCRAM-SHA-512",
        WARP_KAFKA_SASL_USERS_FILE: writeUsersFile(certs.dir, { alice: "hunter2" }, "cli-users"),
      });
      try {
        assert.match(agent.output(), /"securityProtocol":"SASL_SSL"/);
        const c = await RawKafkaClient.connect(agent.port, { ca: readFileSync(certs.caFile), servername: "localhost" });
        assert.equal(
          (await c.request(ApiKey.SaslHandshake, 1, { mechanism: "SCRAM-SHA-512" })).errorCode,
          ErrorCode.NONE,
        );
        const scram = new ScramClient("SCRAM-SHA-512", "alice", "hunter2");
        const first = await c.request(ApiKey.SaslAuthenticate, 2, { authBytes: scram.first() });
        const final = await c.request(ApiKey.SaslAuthenticate, 2, { authBytes: scram.final(first.authBytes) });
        assert.equal(final.errorCode, ErrorCode.NONE);
        c.close();
        assert.ok(!agent.output().includes("hunter2"), "the password is not in the agent's output");
      } finally {
        await agent.kill("SIGTERM");
      }
    });

    it("the warp CLI exits with the message naming the flag and line", async () => {
      const file = path.join(certs.dir, "cli-bad-users");
      writeFileSync(file, "alice:hunter2\n\nnocolon\n");
      await assert.rejects(
        spawnAgentProcess(["-bucketURL", "mem://cli", "-kafkaSASLMechanisms", "PLAIN", "-kafkaSASLUsersFile", file]),
        (err: unknown) => {
          const message = String(err);
          assert.match(message, /exited with code [1-9]/);
          assert.match(message, /-kafkaSASLUsersFile .*cli-bad-users: line 3: expected <user>:<password>/);
          assert.ok(!message.includes("hunter2"));
          return true;
        },
      );
    });

    it("a client CA file without a certificate", () =>
      startFails(
        { kafkaTLSCertFile: certs.serverCert, kafkaTLSKeyFile: certs.serverKey, kafkaTLSClientCAFile: certs.serverKey },
        "-kafkaTLSClientCAFile",
        "no PEM certificate",
      ));
  });
});
