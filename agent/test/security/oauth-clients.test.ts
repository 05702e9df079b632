/**
 * Real clients with SASL/OAUTHBEARER and re-authentication. A test identity provider on 127.0.0.1
 * issues JWTs for the client-credentials grant from its token endpoint and publishes its key in a JWKS
 * file the agent reads. Apache Kafka's Java tools (OAuthBearerLoginCallbackHandler with
 * sasl.oauthbearer.token.endpoint.url) and kafkajs (oauthBearerProvider) produce and consume over TLS;
 * kcat (Debian's librdkafka 2.0.2 is built without OIDC) is refused with its unsecured `alg: none`
 * token. With -kafkaConnectionsMaxReauth 3s, a
 * Java console producer (OAUTHBEARER) and console consumer (SCRAM-SHA-512), and confluent-kafka
 * (librdkafka 2.16, OIDC), keep producing and consuming across several re-authentications of their
 * connections, none failed and no connection closed for an expired session.
 */
import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { Kafka, logLevel } from "kafkajs";
import { eventually } from "../../../e2e/support/eventually.js";
import { ensureKafkaTools, runKafkaTool, startKafkaTool } from "../../../e2e/support/kafka-tools.js";
import { ensureKcat, runKcat } from "../../../e2e/support/kcat.js";
import type { RunningCommand } from "../../../e2e/support/processes.js";
import { ensureConfluentKafka, jsonLines, startPythonScript } from "../../../e2e/support/python-client.js";
import { startTestAgent, tempDir } from "../support/agents.js";
import type { TestAgent } from "../support/agents.js";
import { TestIdentityProvider, metricValue } from "./oauth-support.js";
import { makeTestCerts, writeUsersFile } from "./support.js";
import type { TestCerts } from "./support.js";

const CLIENTS = { "orders-app": "orders-secret-7", "kcat-app": "kcat-secret-8", "js-app": "js-secret-9" };

function lines(n: number, prefix: string): string {
  return Array.from({ length: n }, (_, i) => `${prefix}-${i}`).join("\n") + "\n";
}

/** Java client properties for OAUTHBEARER with the client-credentials grant against `idp`. */
function javaOAuthProperties(
  dir: string,
  idp: TestIdentityProvider,
  clientId: keyof typeof CLIENTS,
  caFile: string | null,
): string {
  const file = path.join(dir, `${clientId}-oauth.properties`);
  writeFileSync(
    file,
    [
      `security.protocol=${caFile ? "SASL_SSL" : "SASL_PLAINTEXT"}`,
      "sasl.mechanism=OAUTHBEARER",
      "sasl.login.callback.handler.class=org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginCallbackHandler",
      `sasl.oauthbearer.token.endpoint.url=${idp.tokenUrl}`,
      `sasl.jaas.config=org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule required clientId="${clientId}" clientSecret="${CLIENTS[clientId]}" scope="kafka";`,
      ...(caFile ? ["ssl.truststore.type=PEM", `ssl.truststore.location=${caFile}`] : []),
      "",
    ].join("\n"),
  );
  return file;
}

/** Kafka 4.x clients fetch tokens only from URLs this system property allows. */
const allowTokenUrl = (idp: TestIdentityProvider): string[] => [
  `-Dorg.apache.kafka.sasl.oauthbearer.allowed.urls=${idp.tokenUrl}`,
];

/** A token from the identity provider's endpoint, as an application would get one (for kafkajs). */
async function clientCredentialsToken(idp: TestIdentityProvider, clientId: keyof typeof CLIENTS): Promise<string> {
  const res = await fetch(idp.tokenUrl, {
    method: "POST",
    headers: {
      authorization: `Basic ${Buffer.from(`${clientId}:${CLIENTS[clientId]}`).toString("base64")}`,
      "content-type": "application/x-www-form-urlencoded",
    },
    body: "grant_type=client_credentials&scope=kafka",
  });
  assert.equal(res.status, 200);
  return ((await res.json()) as { access_token: string }).access_token;
}

const oauthSuccesses = (agent: TestAgent, kind: "authentication" | "reauthentication", mechanism = "OAUTHBEARER") =>
  metricValue(agent.httpPort, "warp_sasl_authentications_total", { mechanism, kind, result: "success" });

describe("real clients with SASL/OAUTHBEARER", function () {
  this.timeout(600_000);
  let certs: TestCerts;
  let idp: TestIdentityProvider;
  let agent: TestAgent;

  before(async () => {
    await ensureKcat();
    await ensureKafkaTools();
    certs = await makeTestCerts();
    idp = await TestIdentityProvider.start({ dir: certs.dir, clients: CLIENTS });
    agent = await startTestAgent({
      kafkaTLSCertFile: certs.serverCert,
      kafkaTLSKeyFile: certs.serverKey,
      kafkaSASLMechanisms: "OAUTHBEARER",
      kafkaSASLOAuthJwksURL: idp.jwksFileUrl,
      kafkaSASLOAuthIssuer: idp.issuer,
      kafkaSASLOAuthAudience: idp.audience,
    });
  });
  after(async () => {
    await agent?.stop();
    await idp?.stop();
    certs?.remove();
  });

  it("the Java console producer and consumer authenticate with tokens from the token endpoint", async () => {
    const config = javaOAuthProperties(certs.dir, idp, "orders-app", certs.caFile);
    const issuedBefore = idp.log.issued;
    const authBefore = await oauthSuccesses(agent, "authentication");
    const produced = await runKafkaTool(
      "console-producer",
      ["--bootstrap-server", agent.bootstrap, "--topic", "java-oauth", "--producer.config", config],
      { input: lines(50, "java"), jvmOptions: allowTokenUrl(idp) },
    );
    assert.equal(produced.code, 0, produced.stderr);
    const consumed = await runKafkaTool(
      "console-consumer",
      [
        "--bootstrap-server",
        agent.bootstrap,
        "--topic",
        "java-oauth",
        "--from-beginning",
        "--group",
        "java-oauth-group",
        "--max-messages",
        "50",
        "--timeout-ms",
        "60000",
        "--consumer.config",
        config,
      ],
      { jvmOptions: allowTokenUrl(idp) },
    );
    assert.equal(consumed.code, 0, consumed.stderr);
    assert.equal(new Set(consumed.stdout.split("\n").filter((l) => l.startsWith("java-"))).size, 50);
    assert.ok(idp.log.issued - issuedBefore >= 2, "each tool fetched its token from the endpoint");
    assert.ok((await oauthSuccesses(agent, "authentication")) - authBefore >= 2);
  });

  it("the Java tools fail to authenticate when the token endpoint refuses their credentials", async () => {
    const config = path.join(certs.dir, "wrong-secret.properties");
    writeFileSync(
      config,
      [
        "security.protocol=SASL_SSL",
        "sasl.mechanism=OAUTHBEARER",
        "sasl.login.callback.handler.class=org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginCallbackHandler",
        `sasl.oauthbearer.token.endpoint.url=${idp.tokenUrl}`,
        'sasl.jaas.config=org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule required clientId="orders-app" clientSecret="not-the-secret";',
        "ssl.truststore.type=PEM",
        `ssl.truststore.location=${certs.caFile}`,
        "",
      ].join("\n"),
    );
    const refusedBefore = idp.log.refused;
    const r = await runKafkaTool(
      "topics",
      ["--bootstrap-server", agent.bootstrap, "--list", "--command-config", config],
      { jvmOptions: allowTokenUrl(idp), timeoutMs: 120_000 },
    );
    assert.notEqual(r.code, 0, r.stdout);
    assert.ok(idp.log.refused > refusedBefore, "the token endpoint refused the client");
  });

  it("kcat (librdkafka 2.0.2, built without OIDC) is refused with its unsecured, unsigned token", async () => {
    const r = await runKcat(
      [
        "-b",
        agent.bootstrap,
        "-X",
        "security.protocol=SASL_SSL",
        "-X",
        "sasl.mechanisms=OAUTHBEARER",
        "-X",
        "enable.sasl.oauthbearer.unsecure.jwt=true",
        "-X",
        "sasl.oauthbearer.config=principal=orders-app",
        "-X",
        `ssl.ca.location=${certs.caFile}`,
        "-L",
        "-m",
        "4", // the refusal comes on the first connection; kcat retries until this many seconds pass
      ],
      { timeoutMs: 60_000 },
    );
    assert.notEqual(r.code, 0, r.stdout);
    assert.match(r.stderr, /invalid_token/, r.stderr);
  });

  it("kafkajs produces and consumes with an oauthBearerProvider", async () => {
    const kafka = new Kafka({
      brokers: [agent.bootstrap],
      clientId: "kafkajs-oauth",
      logLevel: logLevel.NOTHING,
      ssl: { ca: [readFileSync(certs.caFile, "utf8")] },
      sasl: {
        mechanism: "oauthbearer",
        oauthBearerProvider: async () => ({ value: await clientCredentialsToken(idp, "js-app") }),
      },
      retry: { retries: 2 },
    });
    const producer = kafka.producer();
    await producer.connect();
    await producer.send({
      topic: "kafkajs-oauth",
      messages: Array.from({ length: 20 }, (_, i) => ({ value: `js-${i}` })),
    });
    await producer.disconnect();
    const consumer = kafka.consumer({ groupId: "kafkajs-oauth" });
    await consumer.connect();
    await consumer.subscribe({ topic: "kafkajs-oauth", fromBeginning: true });
    const seen = new Set<string>();
    await consumer.run({ eachMessage: async ({ message }) => void seen.add(message.value!.toString()) });
    await eventually(() => seen.size === 20, { what: "kafkajs to consume the 20 records", timeoutMs: 60_000 });
    await consumer.disconnect();
  });
});

describe("real clients re-authenticating (-kafkaConnectionsMaxReauth 3s)", function () {
  this.timeout(600_000);
  let dir: { path: string; remove(): void };
  let idp: TestIdentityProvider;
  let agent: TestAgent;
  const running: RunningCommand[] = [];

  before(async () => {
    await ensureKafkaTools();
    await ensureConfluentKafka();
    dir = tempDir("reauth-clients");
    idp = await TestIdentityProvider.start({ dir: dir.path, clients: CLIENTS });
    agent = await startTestAgent({
      kafkaSASLMechanisms: "OAUTHBEARER,SCRAM-SHA-512",
      kafkaSASLUsersFile: writeUsersFile(dir.path, { scram: "scram-pw-1" }),
      kafkaSASLOAuthJwksURL: idp.jwksFileUrl,
      kafkaSASLOAuthIssuer: idp.issuer,
      kafkaSASLOAuthAudience: idp.audience,
      kafkaConnectionsMaxReauth: "3s",
    });
  });
  afterEach(() => {
    for (const c of running.splice(0)) c.kill();
  });
  after(async () => {
    await agent?.stop();
    await idp?.stop();
    dir?.remove();
  });

  /** Counters that must not move while clients re-authenticate. */
  const trouble = async (): Promise<number> =>
    (await metricValue(agent.httpPort, "warp_sasl_expired_connections_closed_total")) +
    (await metricValue(agent.httpPort, "warp_sasl_authentications_total", {
      mechanism: "OAUTHBEARER",
      kind: "reauthentication",
      result: "failure",
    })) +
    (await metricValue(agent.httpPort, "warp_sasl_authentications_total", {
      mechanism: "SCRAM-SHA-512",
      kind: "reauthentication",
      result: "failure",
    }));

  /**
   * Sends records one by one (`send`) and waits for each to be consumed (`seen`) until `enough()`
   * says the clients have re-authenticated enough; returns how many records went through.
   */
  async function keepTraffic(send: (value: string) => void, seen: Set<string>, enough: () => Promise<boolean>) {
    let i = 0;
    const deadline = Date.now() + 240_000;
    while (!(await enough())) {
      assert.ok(Date.now() < deadline, `the clients did not re-authenticate enough within 240 s (${i} records sent)`);
      const value = `r-${i++}`;
      send(value);
      await eventually(() => seen.has(value), { what: `record ${value} to be consumed`, timeoutMs: 60_000 });
      await new Promise((r) => setTimeout(r, 250));
    }
    return i;
  }

  it("the Java console producer (OAUTHBEARER) and consumer (SCRAM-SHA-512) keep working across re-authentications", async () => {
    const producerConfig = javaOAuthProperties(dir.path, idp, "orders-app", null);
    const consumerConfig = path.join(dir.path, "scram.properties");
    writeFileSync(
      consumerConfig,
      [
        "security.protocol=SASL_PLAINTEXT",
        "sasl.mechanism=SCRAM-SHA-512",
        'sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="scram" password="scram-pw-1";',
        "",
      ].join("\n"),
    );
    const troubleBefore = await trouble();
    const oauthBefore = await oauthSuccesses(agent, "reauthentication");
    const scramBefore = await oauthSuccesses(agent, "reauthentication", "SCRAM-SHA-512");
    const seen = new Set<string>();
    const consumer = await startKafkaTool(
      "console-consumer",
      [
        "--bootstrap-server",
        agent.bootstrap,
        "--topic",
        "java-reauth",
        "--group",
        "java-reauth",
        "--from-beginning",
        "--consumer.config",
        consumerConfig,
      ],
      { onStdoutLine: (line) => seen.add(line.trim()) },
    );
    running.push(consumer);
    const producer = await startKafkaTool(
      "console-producer",
      ["--bootstrap-server", agent.bootstrap, "--topic", "java-reauth", "--producer.config", producerConfig],
      { jvmOptions: allowTokenUrl(idp) },
    );
    running.push(producer);
    const sent = await keepTraffic(
      (value) => producer.write(`${value}\n`),
      seen,
      async () =>
        (await oauthSuccesses(agent, "reauthentication")) - oauthBefore >= 3 &&
        (await oauthSuccesses(agent, "reauthentication", "SCRAM-SHA-512")) - scramBefore >= 3,
    );
    producer.endInput();
    const producerResult = await producer.result;
    assert.equal(producerResult.code, 0, producerResult.stderr);
    assert.equal(await trouble(), troubleBefore, "no failed re-authentication, no connection closed as expired");
    assert.ok(sent > 0);
    consumer.kill();
    const consumerResult = await consumer.result;
    assert.doesNotMatch(consumerResult.stderr, /SaslAuthenticationException|IllegalSaslState/);
  });

  it("confluent-kafka (librdkafka 2.16, OIDC) keeps producing and consuming across re-authentications", async () => {
    const config = {
      "security.protocol": "SASL_PLAINTEXT",
      "sasl.mechanism": "OAUTHBEARER",
      "sasl.oauthbearer.method": "oidc",
      "sasl.oauthbearer.client.id": "kcat-app",
      "sasl.oauthbearer.client.secret": CLIENTS["kcat-app"],
      "sasl.oauthbearer.token.endpoint.url": idp.tokenUrl,
      "sasl.oauthbearer.scope": "kafka",
    };
    // The topic exists before the consumer subscribes (else it reports UNKNOWN_TOPIC_OR_PART at first).
    const admin = new Kafka({
      brokers: [agent.bootstrap],
      clientId: "reauth-admin",
      logLevel: logLevel.NOTHING,
      // kafkajs re-authenticates this long before the session ends (default 10 s, more than the 3 s
      // lifetime: it would try before every request and be refused, at most one a second).
      reauthenticationThreshold: 1000,
      sasl: { mechanism: "scram-sha-512", username: "scram", password: "scram-pw-1" },
    }).admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: "python-reauth", numPartitions: 1 }] });
    await admin.disconnect();
    const troubleBefore = await trouble();
    const before = await oauthSuccesses(agent, "reauthentication");
    const seen = new Set<string>();
    const errors: string[] = [];
    const client = await startPythonScript(
      "produce_consume.py",
      [agent.bootstrap, "python-reauth", "python-reauth", JSON.stringify(config)],
      {
        timeoutMs: 300_000,
        onStdoutLine: (line) => {
          const event = jsonLines<{ event: string; v?: string; error?: string }>(line)[0];
          if (event?.event === "record") seen.add(event.v!);
          if (event?.event === "error") errors.push(event.error!);
        },
      },
    );
    running.push(client);
    // Two connections (producer and consumer) at least: three re-authentications each.
    await keepTraffic(
      (value) => client.write(`produce ${value}\n`),
      seen,
      async () => (await oauthSuccesses(agent, "reauthentication")) - before >= 6,
    );
    client.write("stop\n");
    const result = await client.result;
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual(errors, [], "no client error");
    assert.equal(await trouble(), troubleBefore, "no failed re-authentication, no connection closed as expired");
  });
});
