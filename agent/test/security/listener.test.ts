/**
 * The Kafka listener with TLS and SASL, spoken to byte by byte: SCRAM and PLAIN over TLS, requests
 * before authentication closing the connection, UNSUPPORTED_SASL_MECHANISM and
 * SASL_AUTHENTICATION_FAILED followed by a close, SaslHandshake v0's raw tokens, plaintext clients
 * refused by a TLS listener, mutual TLS, and logs that never contain a password.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { ApiKey, ErrorCode } from "../../src/protocol/index.js";
import { startTestAgent, tempDir } from "../support/agents.js";
import type { TestAgent } from "../support/agents.js";
import { RawKafkaClient, captureLogs, makeTestCerts, scramLogin, writeUsersFile } from "./support.js";
import type { TestCerts } from "./support.js";

const PASSWORD = "correct-horse-battery-staple";
const WRONG = "Tr0ub4dor&3-wrong";

const plainToken = (user: string, password: string): Buffer => Buffer.from(`\0${user}\0${password}`);

describe("Kafka listener with TLS and SASL", function () {
  this.timeout(60_000);
  let certs: TestCerts;
  let agent: TestAgent;
  let tlsClient: { ca: Buffer; servername: string };

  before(async () => {
    certs = await makeTestCerts();
    const usersFile = writeUsersFile(certs.dir, { alice: PASSWORD, bob: "bob-pw" });
    agent = await startTestAgent({
      kafkaTLSCertFile: certs.serverCert,
      kafkaTLSKeyFile: certs.serverKey,
      kafkaSASLMechanisms: "SCRAM-SHA-256,SCRAM-SHA-512,PLAIN",
      kafkaSASLUsersFile: usersFile,
    });
    tlsClient = { ca: readFileSync(certs.caFile), servername: "localhost" };
  });
  after(async () => {
    await agent?.stop();
    certs?.remove();
  });

  it("advertises SaslHandshake and SaslAuthenticate in ApiVersions before authentication", async () => {
    const c = await RawKafkaClient.connect(agent.port, tlsClient);
    const versions = await c.request(ApiKey.ApiVersions, 3, { clientSoftwareName: "t", clientSoftwareVersion: "1" });
    const keys = versions.apiKeys.map((k) => k.apiKey);
    assert.ok(keys.includes(ApiKey.SaslHandshake) && keys.includes(ApiKey.SaslAuthenticate));
    c.close();
  });

  for (const mechanism of ["SCRAM-SHA-256", "SCRAM-SHA-512"] as const) {
    it(`authenticates with ${mechanism} over TLS, then serves Metadata`, async () => {
      const c = await RawKafkaClient.connect(agent.port, tlsClient);
      const { final, scram } = await scramLogin(c, mechanism, "alice", PASSWORD);
      assert.equal(final.errorCode, ErrorCode.NONE);
      assert.equal(final.sessionLifetimeMs, 0n);
      scram.verify(final.authBytes);
      const md = await c.request(ApiKey.Metadata, 4, { topics: [], allowAutoTopicCreation: false });
      assert.equal(md.brokers.length, 1);
      c.close();
    });
  }

  it("authenticates with PLAIN through SaslAuthenticate v0", async () => {
    const c = await RawKafkaClient.connect(agent.port, tlsClient);
    assert.equal((await c.request(ApiKey.SaslHandshake, 1, { mechanism: "PLAIN" })).errorCode, ErrorCode.NONE);
    const r = await c.request(ApiKey.SaslAuthenticate, 0, { authBytes: plainToken("bob", "bob-pw") });
    assert.equal(r.errorCode, ErrorCode.NONE);
    const md = await c.request(ApiKey.Metadata, 1, { topics: [] });
    assert.equal(md.brokers.length, 1);
    c.close();
  });

  it("authenticates with SaslHandshake v0 and a raw legacy PLAIN token", async () => {
    const c = await RawKafkaClient.connect(agent.port, tlsClient);
    const hs = await c.request(ApiKey.SaslHandshake, 0, { mechanism: "PLAIN" });
    assert.equal(hs.errorCode, ErrorCode.NONE);
    assert.deepEqual(hs.mechanisms, ["SCRAM-SHA-256", "SCRAM-SHA-512", "PLAIN"]);
    assert.equal((await c.rawToken(plainToken("bob", "bob-pw"))).length, 0);
    const md = await c.request(ApiKey.Metadata, 1, { topics: [] });
    assert.equal(md.brokers.length, 1);
    c.close();
  });

  it("closes a legacy connection after a wrong raw token", async () => {
    const c = await RawKafkaClient.connect(agent.port, tlsClient);
    await c.request(ApiKey.SaslHandshake, 0, { mechanism: "PLAIN" });
    await assert.rejects(c.rawToken(plainToken("bob", "nope")), /connection closed/);
  });

  it("closes the connection on any other request before authentication", async () => {
    const c = await RawKafkaClient.connect(agent.port, tlsClient);
    await assert.rejects(c.request(ApiKey.Metadata, 1, { topics: [] }), /connection closed/);
    assert.equal(await c.waitClosed(), true);
  });

  it("refuses an unknown mechanism with UNSUPPORTED_SASL_MECHANISM listing the enabled ones, then closes", async () => {
    const c = await RawKafkaClient.connect(agent.port, tlsClient);
    const hs = await c.request(ApiKey.SaslHandshake, 1, { mechanism: "GSSAPI" });
    assert.equal(hs.errorCode, ErrorCode.UNSUPPORTED_SASL_MECHANISM);
    assert.deepEqual(hs.mechanisms, ["SCRAM-SHA-256", "SCRAM-SHA-512", "PLAIN"]);
    assert.equal(await c.waitClosed(), true);
  });

  it("answers a wrong password with SASL_AUTHENTICATION_FAILED and a message, then closes", async () => {
    const c = await RawKafkaClient.connect(agent.port, tlsClient);
    const { final } = await scramLogin(c, "SCRAM-SHA-512", "alice", WRONG);
    assert.equal(final.errorCode, ErrorCode.SASL_AUTHENTICATION_FAILED);
    assert.match(final.errorMessage ?? "", /invalid credentials with SASL mechanism SCRAM-SHA-512/);
    assert.equal(await c.waitClosed(), true);
  });

  it("closes the connection on a frame over 512 KiB before authentication", async () => {
    const c = await RawKafkaClient.connect(agent.port, tlsClient);
    const size = Buffer.alloc(4);
    size.writeInt32BE(600 * 1024);
    c.socket.write(size);
    assert.equal(await c.waitClosed(), true);
  });

  it("refuses plaintext clients: the TLS handshake fails", async () => {
    const c = await RawKafkaClient.connect(agent.port);
    await assert.rejects(c.request(ApiKey.ApiVersions, 0, {}), /connection closed/);
  });

  it("never logs a password or a user name, during failed and successful authentications", async () => {
    const logs = await captureLogs(async () => {
      const bad = await RawKafkaClient.connect(agent.port, tlsClient);
      await bad.request(ApiKey.SaslHandshake, 1, { mechanism: "PLAIN" });
      assert.equal(
        (await bad.request(ApiKey.SaslAuthenticate, 1, { authBytes: plainToken("alice", WRONG) })).errorCode,
        ErrorCode.SASL_AUTHENTICATION_FAILED,
      );
      await bad.waitClosed();
      const badScram = await RawKafkaClient.connect(agent.port, tlsClient);
      assert.equal(
        (await scramLogin(badScram, "SCRAM-SHA-256", "alice", WRONG)).final.errorCode,
        ErrorCode.SASL_AUTHENTICATION_FAILED,
      );
      await badScram.waitClosed();
      const good = await RawKafkaClient.connect(agent.port, tlsClient);
      await good.request(ApiKey.SaslHandshake, 1, { mechanism: "PLAIN" });
      assert.equal(
        (await good.request(ApiKey.SaslAuthenticate, 1, { authBytes: plainToken("alice", PASSWORD) })).errorCode,
        ErrorCode.NONE,
      );
      good.close();
      const goodScram = await RawKafkaClient.connect(agent.port, tlsClient);
      assert.equal((await scramLogin(goodScram, "SCRAM-SHA-512", "alice", PASSWORD)).final.errorCode, ErrorCode.NONE);
      goodScram.close();
      await new Promise((r) => setTimeout(r, 100));
    });
    assert.match(logs, /SASL authentication failed/);
    assert.match(logs, /SASL authentication succeeded/);
    assert.ok(!logs.includes("alice"), "the user name is not logged, whether the login succeeded or not");
    assert.match(logs, /"remote":"127\.0\.0\.1:\d+"/, "the lines name the client's address instead");
    for (const secret of [PASSWORD, WRONG, "bob-pw"])
      assert.ok(!logs.includes(secret), `logs must not contain the password ${secret}`);
    assert.ok(!/p=[A-Za-z0-9+/]{20,}/.test(logs), "logs must not contain a SCRAM proof");
  });
});

describe("Kafka listener with mutual TLS", function () {
  this.timeout(60_000);
  let certs: TestCerts;
  let agent: TestAgent;

  before(async () => {
    certs = await makeTestCerts();
    agent = await startTestAgent({
      kafkaTLSCertFile: certs.serverCert,
      kafkaTLSKeyFile: certs.serverKey,
      kafkaTLSClientCAFile: certs.caFile,
    });
  });
  after(async () => {
    await agent?.stop();
    certs?.remove();
  });

  const attempt = async (options: { cert?: string; key?: string }): Promise<number> => {
    const c = await RawKafkaClient.connect(agent.port, {
      ca: readFileSync(certs.caFile),
      servername: "localhost",
      ...(options.cert ? { cert: readFileSync(options.cert), key: readFileSync(options.key!) } : {}),
    });
    try {
      return (await c.request(ApiKey.ApiVersions, 0, {})).errorCode;
    } finally {
      c.close();
    }
  };

  it("serves a client presenting a certificate signed by the client CA", async () => {
    assert.equal(await attempt({ cert: certs.clientCert, key: certs.clientKey }), ErrorCode.NONE);
  });

  it("refuses a client without a certificate", async () => {
    await assert.rejects(attempt({}));
  });

  it("refuses a client whose certificate another CA signed", async () => {
    await assert.rejects(attempt({ cert: certs.rogueCert, key: certs.rogueKey }));
  });
});

describe("Kafka listener with SASL and no TLS (SASL_PLAINTEXT)", function () {
  this.timeout(60_000);
  let agent: TestAgent;
  let dir: { path: string; remove(): void };

  before(async () => {
    dir = tempDir("sasl-plaintext");
    agent = await startTestAgent({
      kafkaSASLMechanisms: "scram-sha-256",
      kafkaSASLUsersFile: writeUsersFile(dir.path, { alice: PASSWORD }),
    });
  });
  after(async () => {
    await agent?.stop();
    dir?.remove();
  });

  it("authenticates with SCRAM-SHA-256 over plain TCP and refuses PLAIN, which is not enabled", async () => {
    const c = await RawKafkaClient.connect(agent.port);
    assert.equal((await scramLogin(c, "SCRAM-SHA-256", "alice", PASSWORD)).final.errorCode, ErrorCode.NONE);
    c.close();
    const p = await RawKafkaClient.connect(agent.port);
    const hs = await p.request(ApiKey.SaslHandshake, 1, { mechanism: "PLAIN" });
    assert.equal(hs.errorCode, ErrorCode.UNSUPPORTED_SASL_MECHANISM);
    assert.deepEqual(hs.mechanisms, ["SCRAM-SHA-256"]);
  });
});
