/**
 * Regression: PBKDF2 ran synchronously on the event loop, so one PLAIN login for a user stored with
 * 1,000,000 iterations (the most a users file allows) held up every other connection until the key
 * was derived. Keys are now derived on the thread pool: another connection is answered first, and the
 * login's own connection reads nothing further until its answer is known.
 */
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import path from "node:path";
import { ApiKey, ErrorCode, decodeResponse, encodeRequest } from "../../src/protocol/index.js";
import { SCRAM_MAX_ITERATIONS } from "../../src/security/scram.js";
import { prehashedUserLine } from "../../src/security/users.js";
import { startTestAgent, tempDir } from "../support/agents.js";
import type { TestAgent } from "../support/agents.js";
import { RawKafkaClient } from "./support.js";

const PASSWORD = "slow-user-password";

describe("SASL key derivation", function () {
  this.timeout(120_000);
  let dir: { path: string; remove(): void };
  let agent: TestAgent;

  before(async () => {
    dir = tempDir("key-derivation");
    const usersFile = path.join(dir.path, "users");
    writeFileSync(usersFile, `${await prehashedUserLine("slow", "SCRAM-SHA-512", PASSWORD, SCRAM_MAX_ITERATIONS)}\n`);
    agent = await startTestAgent({ kafkaSASLMechanisms: "PLAIN,SCRAM-SHA-512", kafkaSASLUsersFile: usersFile });
  });
  after(async () => {
    await agent?.stop();
    dir?.remove();
  });

  it(`answers another connection while a PLAIN login derives a ${SCRAM_MAX_ITERATIONS}-iteration key`, async () => {
    const login = await RawKafkaClient.connect(agent.port);
    const other = await RawKafkaClient.connect(agent.port);
    assert.equal((await login.request(ApiKey.SaslHandshake, 1, { mechanism: "PLAIN" })).errorCode, ErrorCode.NONE);
    assert.equal((await other.request(ApiKey.ApiVersions, 0, {})).errorCode, ErrorCode.NONE);

    const answered: string[] = [];
    // The login, and a Metadata request right behind it on the same connection (read once it succeeded).
    login.socket.write(
      Buffer.concat([
        encodeRequest(
          { apiKey: ApiKey.SaslAuthenticate, apiVersion: 2, correlationId: 100, clientId: "login" },
          { authBytes: Buffer.from(`\0slow\0${PASSWORD}`) },
        ),
        encodeRequest(
          { apiKey: ApiKey.Metadata, apiVersion: 4, correlationId: 101, clientId: "login" },
          { topics: [], allowAutoTopicCreation: false },
        ),
      ]),
    );
    const loginAnswer = login.readFrame(60_000).then((frame) => {
      answered.push("SaslAuthenticate");
      return decodeResponse(ApiKey.SaslAuthenticate, 2, frame);
    });
    // One turn of the event loop: the agent has read the login before the other request is sent.
    await new Promise((resolve) => setImmediate(resolve));
    other.socket.write(
      encodeRequest({ apiKey: ApiKey.ApiVersions, apiVersion: 0, correlationId: 7, clientId: "other" }, {}),
    );
    const otherAnswer = other.readFrame(60_000).then((frame) => {
      answered.push("ApiVersions");
      return decodeResponse(ApiKey.ApiVersions, 0, frame);
    });

    const [auth, versions] = await Promise.all([loginAnswer, otherAnswer]);
    assert.deepEqual(answered, ["ApiVersions", "SaslAuthenticate"], "the other connection is answered first");
    assert.equal(versions.body.errorCode, ErrorCode.NONE);
    assert.equal(auth.correlationId, 100);
    assert.equal(auth.body.errorCode, ErrorCode.NONE, auth.body.errorMessage ?? "");
    const metadata = decodeResponse(ApiKey.Metadata, 4, await login.readFrame());
    assert.equal(metadata.correlationId, 101);
    assert.equal(metadata.body.brokers.length, 1, "the request behind the login is served once it succeeded");
    login.close();
    other.close();
  });
});
