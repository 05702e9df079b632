/**
 * Security files changed without a restart. Renewed TLS files: changed files that load are applied, a
 * broken renewal (key not matching the certificate) keeps the previous certificate, and the listener
 * presents the new certificate after setTlsOptions. A rotated SASL users file: new users and passwords
 * authenticate on new connections of a running agent (real kafkajs clients), old passwords no longer
 * do, connections already authenticated stay open, a broken file keeps the previous users, and no
 * password reaches the logs.
 */
import assert from "node:assert/strict";
import { copyFileSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import path from "node:path";
import tls from "node:tls";
import { componentLogger } from "../../../common/logger.js";
import { eventually } from "../../../e2e/support/eventually.js";
import { Kafka, logLevel } from "kafkajs";
import type { SASLOptions } from "kafkajs";
import type { SaslUsers } from "../../src/security/users.js";
import { watchTlsFiles, watchUsersFile } from "../../src/security/reload.js";
import { loadTls } from "../../src/security/tls.js";
import type { AgentContext } from "../../src/server/context.js";
import { startKafkaServer } from "../../src/server/server.js";
import { startTestAgent, tempDir } from "../support/agents.js";
import { captureLogs, makeTestCerts, writeUsersFile } from "./support.js";
import type { TestCerts } from "./support.js";

/** Checks every 20 ms, for 5 s. */
const POLL = { timeoutMs: 5_000, intervalMs: 20 } as const;

/** The common name of the certificate the server presents. */
function presentedCN(port: number, ca: Buffer): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = tls.connect({ host: "127.0.0.1", port, ca, rejectUnauthorized: false }, () => {
      const cn = s.getPeerCertificate().subject.CN;
      s.destroy();
      resolve(Array.isArray(cn) ? cn.join(",") : (cn ?? ""));
    });
    s.once("error", reject);
  });
}

describe("TLS certificate reload", function () {
  this.timeout(60_000);
  let certs: TestCerts;
  let cert: string;
  let key: string;

  before(async () => {
    certs = await makeTestCerts();
  });
  after(() => certs?.remove());
  beforeEach(() => {
    cert = path.join(certs.dir, `live-${Math.random().toString(36).slice(2)}.crt`);
    key = `${cert}.key`;
    copyFileSync(certs.serverCert, cert);
    copyFileSync(certs.serverKey, key);
  });

  it("applies changed files that load, and keeps the old ones when a renewal is broken", async () => {
    const applied: tls.TlsOptions[] = [];
    const stop = watchTlsFiles({ certFile: cert, keyFile: key }, (o) => applied.push(o), componentLogger("test"), 20);
    try {
      await new Promise((r) => setTimeout(r, 60));
      assert.equal(applied.length, 0, "nothing changed yet");
      copyFileSync(certs.clientCert, cert); // a certificate whose key is still the server's: refused
      await new Promise((r) => setTimeout(r, 150));
      assert.equal(applied.length, 0, "a mismatched pair is not applied");
      copyFileSync(certs.clientKey, key);
      await eventually(() => applied.length === 1, { ...POLL, what: "the matching pair to be applied" });
      assert.deepEqual(applied[0]!.cert, readFileSync(certs.clientCert));
    } finally {
      stop();
    }
  });

  it("the listener presents the new certificate to new connections after setTlsOptions", async () => {
    const options = loadTls({ certFile: cert, keyFile: key }).options;
    // A TLS handshake needs no handlers, so no agent behind the listener.
    const server = await startKafkaServer({} as AgentContext, {
      host: "127.0.0.1",
      port: 0,
      maxConnections: 10,
      maxFrameBytes: 1 << 20,
      maxInFlight: 4,
      logger: componentLogger("test"),
      tls: options,
    });
    try {
      const ca = readFileSync(certs.caFile);
      assert.equal(await presentedCN(server.port, ca), "server");
      server.setTlsOptions(loadTls({ certFile: certs.clientCert, keyFile: certs.clientKey }).options);
      assert.equal(await presentedCN(server.port, ca), "client");
    } finally {
      server.closeConnections();
      await server.stopAccepting();
    }
  });
});

describe("SASL users file reload", function () {
  this.timeout(60_000);
  let dir: { path: string; remove(): void };
  beforeEach(() => {
    dir = tempDir("warp-users-reload");
  });
  afterEach(() => dir.remove());

  /** Replaces the file the way Kubernetes updates a Secret volume: a new file renamed over the old one. */
  const replaceUsers = (file: string, users: Record<string, string>): void => {
    const staged = writeUsersFile(dir.path, users, ".staged");
    renameSync(staged, file);
  };

  it("applies a changed file, keeps the previous users when the new file is broken, and logs no password", async () => {
    const file = writeUsersFile(dir.path, { alice: "alice-pw-1" });
    const applied: SaslUsers[] = [];
    const logs = await captureLogs(async () => {
      const stop = watchUsersFile(
        ["SCRAM-SHA-256", "PLAIN"],
        file,
        (s) => applied.push(s),
        componentLogger("test"),
        20,
      );
      try {
        await new Promise((r) => setTimeout(r, 60));
        assert.equal(applied.length, 0, "nothing changed yet");
        replaceUsers(file, { alice: "alice-pw-2", bob: "bob-pw-1" });
        await eventually(() => applied.length === 1, { ...POLL, what: "the new users file to be applied" });
        const users = applied[0]!;
        assert.equal(users.size, 2);
        assert.ok(await users.passwordMatches("alice", "alice-pw-2"));
        assert.ok(!(await users.passwordMatches("alice", "alice-pw-1")));
        assert.ok(await users.passwordMatches("bob", "bob-pw-1"));
        writeFileSync(file, "# broken\ncarol-without-a-colon-secret-pw\n");
        await new Promise((r) => setTimeout(r, 150));
        assert.equal(applied.length, 1, "a broken file is not applied");
        replaceUsers(file, { alice: "alice-pw-3" });
        await eventually(() => applied.length === 2, { ...POLL, what: "the next users file to be applied" });
        assert.ok(await applied[1]!.passwordMatches("alice", "alice-pw-3"));
      } finally {
        stop();
      }
    });
    assert.match(logs, /SASL users file reloaded/);
    assert.match(logs, /"message":"SASL users file changed but does not load; keeping the previous one"/);
    assert.match(logs, /line 2: expected <user>:<password>/, "the warning names the line");
    for (const secret of ["alice-pw-1", "alice-pw-2", "alice-pw-3", "bob-pw-1", "secret-pw"])
      assert.ok(!logs.includes(secret), `logs must not contain ${secret}`);
  });

  it("a running agent authenticates new connections against the new users; open connections stay", async () => {
    const file = writeUsersFile(dir.path, { alice: "alice-pw-1" });
    const agent = await startTestAgent({
      kafkaSASLMechanisms: "SCRAM-SHA-256",
      kafkaSASLUsersFile: file,
      kafkaSecurityReloadInterval: "100ms",
    });
    const admin = (sasl: SASLOptions) =>
      new Kafka({
        brokers: [agent.bootstrap],
        clientId: "users-reload",
        logLevel: logLevel.NOTHING,
        sasl,
        retry: { retries: 0 },
        connectionTimeout: 5000,
      }).admin();
    const connects = async (username: string, password: string): Promise<boolean> => {
      const a = admin({ mechanism: "scram-sha-256", username, password });
      try {
        await a.connect();
        await a.listTopics();
        return true;
      } catch {
        return false;
      } finally {
        await a.disconnect().catch(() => undefined);
      }
    };
    const before = admin({ mechanism: "scram-sha-256", username: "alice", password: "alice-pw-1" });
    try {
      await before.connect();
      await before.createTopics({ topics: [{ topic: "reload", numPartitions: 1 }] });
      assert.equal(await connects("bob", "bob-pw-1"), false, "bob is not a user yet");

      replaceUsers(file, { alice: "alice-pw-2", bob: "bob-pw-1" });
      await eventually(() => connects("bob", "bob-pw-1"), {
        what: "bob to authenticate after the change",
        timeoutMs: 20_000,
        intervalMs: 100,
      });
      assert.equal(await connects("alice", "alice-pw-1"), false, "the old password is refused on new connections");
      assert.equal(await connects("alice", "alice-pw-2"), true);
      assert.ok(
        (await before.listTopics()).includes("reload"),
        "a connection authenticated before the change stays usable",
      );
    } finally {
      await before.disconnect().catch(() => undefined);
      await agent.stop();
    }
  });
});
