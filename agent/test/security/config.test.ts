/**
 * Start-up refuses bad TLS/SASL settings with a message naming the flag (and, for the users file, the
 * line): flag combinations in parseAgentConfig, file problems when the agent starts.
 */
import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { freePort } from "../../../e2e/support/ports.js";
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

  describe("OAUTHBEARER and re-authentication flags", () => {
    const JWKS = "file:///etc/warp/oauth/jwks.json";

    it("read the OAuth settings from flags and environment variables, with Kafka's defaults", () => {
      const c = parseAgentConfig(
        {
          ...BASE,
          kafkaSASLMechanisms: "oauthbearer,SCRAM-SHA-512",
          kafkaSASLUsersFile: "/s/users",
          kafkaSASLOAuthJwksURL: "https://idp.example/realms/kafka/protocol/openid-connect/certs",
          kafkaSASLOAuthAudience: "kafka, other ,kafka",
        },
        {
          WARP_KAFKA_SASL_OAUTH_ISSUER: "https://idp.example/realms/kafka",
          WARP_KAFKA_SASL_OAUTH_PRINCIPAL_CLAIM: "client_id",
          WARP_KAFKA_SASL_OAUTH_CLOCK_SKEW: "5s",
          WARP_KAFKA_SASL_OAUTH_JWKS_REFRESH_INTERVAL: "10m",
          WARP_KAFKA_CONNECTIONS_MAX_REAUTH: "1h",
        },
      );
      assert.deepEqual(c.kafkaSASL, {
        mechanisms: ["OAUTHBEARER", "SCRAM-SHA-512"],
        usersFile: "/s/users",
        oauth: {
          jwksUrl: "https://idp.example/realms/kafka/protocol/openid-connect/certs",
          jwksRefreshIntervalMs: 600_000,
          issuer: "https://idp.example/realms/kafka",
          audience: ["kafka", "other"],
          principalClaim: "client_id",
          clockSkewMs: 5000,
        },
      });
      assert.equal(c.kafkaConnectionsMaxReauthMs, 3_600_000);
      const defaults = parseAgentConfig(
        { ...BASE, kafkaSASLMechanisms: "OAUTHBEARER", kafkaSASLOAuthJwksURL: JWKS },
        {},
      );
      assert.deepEqual(defaults.kafkaSASL, {
        mechanisms: ["OAUTHBEARER"],
        oauth: {
          jwksUrl: JWKS,
          jwksRefreshIntervalMs: 3_600_000,
          audience: [],
          principalClaim: "sub",
          clockSkewMs: 30_000,
        },
      });
      assert.equal(defaults.kafkaConnectionsMaxReauthMs, 0);
    });

    it("refuse OAUTHBEARER without a JWKS URL, and OAuth flags without OAUTHBEARER", () => {
      configFails(
        { kafkaSASLMechanisms: "OAUTHBEARER" },
        "-kafkaSASLMechanisms",
        "OAUTHBEARER needs -kafkaSASLOAuthJwksURL",
      );
      configFails(
        { kafkaSASLMechanisms: "PLAIN", kafkaSASLUsersFile: "/u", kafkaSASLOAuthIssuer: "https://idp" },
        "-kafkaSASLOAuthIssuer (WARP_KAFKA_SASL_OAUTH_ISSUER) is set but -kafkaSASLMechanisms",
        "does not include OAUTHBEARER",
      );
      configFails({ kafkaSASLOAuthJwksURL: JWKS }, "-kafkaSASLOAuthJwksURL", "does not include OAUTHBEARER");
    });

    it("need a users file only for PLAIN and SCRAM", () => {
      configFails(
        { kafkaSASLMechanisms: "OAUTHBEARER,PLAIN", kafkaSASLOAuthJwksURL: JWKS },
        "-kafkaSASLMechanisms",
        "PLAIN needs -kafkaSASLUsersFile",
      );
      configFails(
        { kafkaSASLMechanisms: "OAUTHBEARER", kafkaSASLOAuthJwksURL: JWKS, kafkaSASLUsersFile: "/u" },
        "-kafkaSASLUsersFile",
        "names no mechanism that uses it",
      );
    });

    it("refuse JWKS URLs that are not file, http or https, or that hold a password (not repeated)", () => {
      configFails(
        { kafkaSASLMechanisms: "OAUTHBEARER", kafkaSASLOAuthJwksURL: "/etc/jwks.json" },
        "-kafkaSASLOAuthJwksURL",
        "not a URL",
      );
      configFails(
        { kafkaSASLMechanisms: "OAUTHBEARER", kafkaSASLOAuthJwksURL: "ftp://idp/jwks" },
        "-kafkaSASLOAuthJwksURL",
        'scheme "ftp"',
      );
      configFails(
        { kafkaSASLMechanisms: "OAUTHBEARER", kafkaSASLOAuthJwksURL: "file://idp/jwks.json" },
        "-kafkaSASLOAuthJwksURL",
        "three slashes",
      );
      assert.throws(
        () =>
          parseAgentConfig(
            { ...BASE, kafkaSASLMechanisms: "OAUTHBEARER", kafkaSASLOAuthJwksURL: "https://u:hunter2@idp/jwks" },
            {},
          ),
        (err: unknown) =>
          err instanceof ConfigError &&
          err.message.includes("-kafkaSASLOAuthJwksURL") &&
          err.message.includes("https://***@idp/jwks") &&
          !err.message.includes("hunter2"),
      );
    });

    it("-kafkaConnectionsMaxReauth: 0 or at least 1s, with SASL only", () => {
      configFails({ kafkaConnectionsMaxReauth: "1m" }, "-kafkaConnectionsMaxReauth", "needs -kafkaSASLMechanisms");
      configFails(
        { kafkaSASLMechanisms: "PLAIN", kafkaSASLUsersFile: "/u", kafkaConnectionsMaxReauth: "500ms" },
        "-kafkaConnectionsMaxReauth",
        "must be 0 (off) or at least 1s",
      );
      assert.equal(parseAgentConfig({ ...BASE, kafkaConnectionsMaxReauth: "0" }, {}).kafkaConnectionsMaxReauthMs, 0);
    });
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

    it("a missing JWKS file, a JWKS without a usable key, a JWKS URL that does not answer", async () => {
      const base = { kafkaSASLMechanisms: "OAUTHBEARER" };
      const missing = path.join(certs.dir, "no-jwks.json");
      await startFails(
        { ...base, kafkaSASLOAuthJwksURL: pathToFileURL(missing).href },
        "-kafkaSASLOAuthJwksURL",
        `${missing}: no such file`,
      );
      const hmacOnly = path.join(certs.dir, "hmac-jwks.json");
      writeFileSync(hmacOnly, '{"keys":[{"kty":"oct","kid":"h","k":"aHVudGVyMg"}]}');
      await startFails(
        { ...base, kafkaSASLOAuthJwksURL: pathToFileURL(hmacOnly).href },
        "-kafkaSASLOAuthJwksURL",
        "no usable signing key",
        'key type "oct" is not supported',
      );
      const closedPort = await freePort();
      await startFails(
        { ...base, kafkaSASLOAuthJwksURL: `http://127.0.0.1:${closedPort}/jwks?token=hunter2` },
        `-kafkaSASLOAuthJwksURL http://127.0.0.1:${closedPort}/jwks: fetching failed`,
      );
    });

    it("the warp CLI exits naming the JWKS flag", async () => {
      await assert.rejects(
        spawnAgentProcess(["-bucketURL", "mem://cli"], {
          WARP_KAFKA_SASL_MECHANISMS: "OAUTHBEARER",
          WARP_KAFKA_SASL_OAUTH_JWKS_URL: "file:///nonexistent/jwks.json",
        }),
        (err: unknown) => {
          assert.match(String(err), /exited with code [1-9]/);
          assert.match(
            String(err),
            /-kafkaSASLOAuthJwksURL file:\/\/\/nonexistent\/jwks.json: \/nonexistent\/jwks.json: no such file/,
          );
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
