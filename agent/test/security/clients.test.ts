/**
 * Real clients against an agent with TLS and SASL: kcat (librdkafka) with SCRAM-SHA-256 and PLAIN over
 * TLS, Apache Kafka's Java tools with SCRAM-SHA-512 over TLS, kafkajs with SCRAM over TLS; each produces
 * and consumes, and a wrong password is an authentication error. A plaintext client is refused by the
 * TLS listener; with mutual TLS, kcat and the Java tools with a client certificate work and without one
 * are refused.
 */
import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { Kafka, logLevel } from "kafkajs";
import type { KafkaConfig, SASLOptions } from "kafkajs";
import { ensureKafkaTools, runKafkaTool } from "../../../e2e/support/kafka-tools.js";
import { ensureKcat, runKcat } from "../../../e2e/support/kcat.js";
import { startTestAgent } from "../support/agents.js";
import type { TestAgent } from "../support/agents.js";
import { makeTestCerts, writeUsersFile } from "./support.js";
import type { TestCerts } from "./support.js";

const USER = "app";
const PASSWORD = "app-Secret-42";

function kafkajsConfig(agent: TestAgent, certs: TestCerts, sasl: SASLOptions): KafkaConfig {
  return {
    brokers: [agent.bootstrap],
    clientId: "kafkajs-security",
    logLevel: logLevel.NOTHING,
    ssl: { ca: [readFileSync(certs.caFile, "utf8")] },
    sasl,
    retry: { retries: 0 },
    connectionTimeout: 5000,
  };
}

function lines(n: number, prefix: string): string {
  return Array.from({ length: n }, (_, i) => `${prefix}-${i}`).join("\n") + "\n";
}

/** Produces `count` lines with Kafka's console producer and reads them back with its console consumer in a group. */
async function javaRoundTrip(
  bootstrap: string,
  topic: string,
  config: string,
  count: number,
  prefix: string,
): Promise<void> {
  const produced = await runKafkaTool(
    "console-producer",
    ["--bootstrap-server", bootstrap, "--topic", topic, "--producer.config", config],
    {
      input: lines(count, prefix),
    },
  );
  assert.equal(produced.code, 0, produced.stderr);
  const consumed = await runKafkaTool("console-consumer", [
    "--bootstrap-server",
    bootstrap,
    "--topic",
    topic,
    "--from-beginning",
    "--group",
    `${topic}-group`,
    "--max-messages",
    String(count),
    "--timeout-ms",
    "60000",
    "--consumer.config",
    config,
  ]);
  assert.equal(consumed.code, 0, consumed.stderr);
  assert.equal(new Set(consumed.stdout.split("\n").filter((l) => l.startsWith(`${prefix}-`))).size, count);
}

describe("real clients with TLS and SASL", function () {
  this.timeout(600_000);
  let certs: TestCerts;
  let agent: TestAgent;
  let kcatSasl: (mechanism: string, password?: string) => string[];

  before(async () => {
    await ensureKcat();
    await ensureKafkaTools();
    certs = await makeTestCerts();
    agent = await startTestAgent({
      kafkaTLSCertFile: certs.serverCert,
      kafkaTLSKeyFile: certs.serverKey,
      kafkaSASLMechanisms: "SCRAM-SHA-256,SCRAM-SHA-512,PLAIN",
      kafkaSASLUsersFile: writeUsersFile(certs.dir, { [USER]: PASSWORD, other: "other-pw" }),
      autoCreateTopics: "false",
    });
    kcatSasl = (mechanism, password = PASSWORD) => [
      "-X",
      "security.protocol=SASL_SSL",
      "-X",
      `sasl.mechanisms=${mechanism}`,
      "-X",
      `sasl.username=${USER}`,
      "-X",
      `sasl.password=${password}`,
      "-X",
      `ssl.ca.location=${certs.caFile}`,
    ];
    const admin = new Kafka(
      kafkajsConfig(agent, certs, { mechanism: "scram-sha-256", username: USER, password: PASSWORD }),
    ).admin();
    await admin.connect();
    await admin.createTopics({
      topics: ["kcat-scram", "kcat-plain", "java-scram", "kafkajs-scram"].map((topic) => ({ topic, numPartitions: 2 })),
    });
    await admin.disconnect();
  });
  after(async () => {
    await agent?.stop();
    certs?.remove();
  });

  for (const [mechanism, topic] of [
    ["SCRAM-SHA-256", "kcat-scram"],
    ["PLAIN", "kcat-plain"],
  ] as const) {
    it(`kcat produces and consumes with SASL/${mechanism} over TLS`, async () => {
      const produced = await runKcat(
        ["-b", agent.bootstrap, ...kcatSasl(mechanism), "-P", "-t", topic, "-X", "acks=all"],
        { input: lines(200, topic) },
      );
      assert.equal(produced.code, 0, produced.stderr);
      const consumed = await runKcat([
        "-b",
        agent.bootstrap,
        ...kcatSasl(mechanism),
        "-C",
        "-t",
        topic,
        "-o",
        "beginning",
        "-e",
        "-q",
      ]);
      assert.equal(consumed.code, 0, consumed.stderr);
      const got = consumed.stdout.split("\n").filter((l) => l.startsWith(`${topic}-`));
      assert.equal(new Set(got).size, 200);
    });
  }

  // -m: how long kcat waits for metadata; the refusal comes on its first connection, then it retries until then.
  it("kcat with a wrong password gets an authentication error", async () => {
    const r = await runKcat(["-b", agent.bootstrap, ...kcatSasl("SCRAM-SHA-256", "wrong-password"), "-L", "-m", "4"], {
      timeoutMs: 60_000,
    });
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /Authentication failed|SASL authentication error/i, r.stderr);
  });

  it("kcat without TLS is refused (the TLS handshake fails)", async () => {
    const r = await runKcat(["-b", agent.bootstrap, "-L", "-m", "5"], { timeoutMs: 60_000 });
    assert.notEqual(r.code, 0, r.stdout);
  });

  describe("Java client (Apache Kafka tools) with SCRAM-SHA-512 over TLS", () => {
    const properties = (password: string): string => {
      const file = path.join(certs.dir, `client-${password.length}.properties`);
      writeFileSync(
        file,
        [
          "security.protocol=SASL_SSL",
          "sasl.mechanism=SCRAM-SHA-512",
          `sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="${USER}" password="${password}";`,
          "ssl.truststore.type=PEM",
          `ssl.truststore.location=${certs.caFile}`,
          "",
        ].join("\n"),
      );
      return file;
    };

    it("produces with the console producer and consumes with the console consumer", async () => {
      await javaRoundTrip(agent.bootstrap, "java-scram", properties(PASSWORD), 50, "java");
    });

    it("gets an authentication error with a wrong password", async () => {
      const r = await runKafkaTool("topics", [
        "--bootstrap-server",
        agent.bootstrap,
        "--list",
        "--command-config",
        properties("not-the-password"),
      ]);
      assert.notEqual(r.code, 0);
      assert.match(r.stdout + r.stderr, /SaslAuthenticationException|Authentication failed/);
    });
  });

  describe("kafkajs", () => {
    it("produces and consumes with SCRAM-SHA-512 over TLS", async () => {
      const kafka = new Kafka(
        kafkajsConfig(agent, certs, { mechanism: "scram-sha-512", username: USER, password: PASSWORD }),
      );
      const producer = kafka.producer();
      await producer.connect();
      await producer.send({
        topic: "kafkajs-scram",
        messages: Array.from({ length: 20 }, (_, i) => ({ value: `js-${i}` })),
      });
      await producer.disconnect();
      const consumer = kafka.consumer({ groupId: "kafkajs-sasl" });
      await consumer.connect();
      await consumer.subscribe({ topic: "kafkajs-scram", fromBeginning: true });
      const seen = new Set<string>();
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`only ${seen.size} of 20 messages consumed`)), 60_000);
        void consumer.run({
          eachMessage: async ({ message }) => {
            seen.add(message.value!.toString());
            if (seen.size === 20) {
              clearTimeout(timer);
              resolve();
            }
          },
        });
      });
      await consumer.disconnect();
    });

    it("works with PLAIN and refuses a wrong password", async () => {
      const admin = new Kafka(
        kafkajsConfig(agent, certs, { mechanism: "plain", username: "other", password: "other-pw" }),
      ).admin();
      await admin.connect();
      assert.ok((await admin.listTopics()).includes("kafkajs-scram"));
      await admin.disconnect();
      const bad = new Kafka(
        kafkajsConfig(agent, certs, { mechanism: "scram-sha-256", username: USER, password: "nope" }),
      ).admin();
      await assert.rejects(bad.connect(), /SASL SCRAM SHA256 authentication failed|authentication failed/i);
    });
  });
});

describe("mutual TLS", function () {
  this.timeout(300_000);
  let certs: TestCerts;
  let agent: TestAgent;

  before(async () => {
    await ensureKcat();
    await ensureKafkaTools();
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

  const ssl = (): string[] => ["-X", "security.protocol=SSL", "-X", `ssl.ca.location=${certs.caFile}`];

  it("kcat produces and consumes with a client certificate", async () => {
    const cert = ["-X", `ssl.certificate.location=${certs.clientCert}`, "-X", `ssl.key.location=${certs.clientKey}`];
    const produced = await runKcat(["-b", agent.bootstrap, ...ssl(), ...cert, "-P", "-t", "mtls"], {
      input: lines(10, "m"),
    });
    assert.equal(produced.code, 0, produced.stderr);
    const consumed = await runKcat([
      "-b",
      agent.bootstrap,
      ...ssl(),
      ...cert,
      "-C",
      "-t",
      "mtls",
      "-o",
      "beginning",
      "-e",
      "-q",
    ]);
    assert.equal(consumed.code, 0, consumed.stderr);
    assert.equal(consumed.stdout.split("\n").filter((l) => l.startsWith("m-")).length, 10);
  });

  it("kcat is refused without a client certificate", async () => {
    const r = await runKcat(["-b", agent.bootstrap, ...ssl(), "-L", "-m", "5"], { timeoutMs: 60_000 });
    assert.notEqual(r.code, 0, r.stdout);
  });

  /** Java client properties for SSL with the CA as a PEM trust store and, when given, a PEM key store (key + certificate). */
  const javaSsl = (name: string, withCertificate: boolean): string => {
    const lines = ["security.protocol=SSL", "ssl.truststore.type=PEM", `ssl.truststore.location=${certs.caFile}`];
    if (withCertificate) {
      const keystore = path.join(certs.dir, "client-keystore.pem");
      writeFileSync(keystore, readFileSync(certs.clientKey, "utf8") + readFileSync(certs.clientCert, "utf8"));
      lines.push("ssl.keystore.type=PEM", `ssl.keystore.location=${keystore}`);
    }
    const file = path.join(certs.dir, `${name}.properties`);
    writeFileSync(file, lines.join("\n") + "\n");
    return file;
  };

  it("the Java console producer and consumer work with a client certificate", async () => {
    await javaRoundTrip(agent.bootstrap, "java-mtls", javaSsl("java-mtls", true), 20, "jm");
  });

  it("the Java tools are refused without a client certificate", async () => {
    const r = await runKafkaTool("topics", [
      "--bootstrap-server",
      agent.bootstrap,
      "--list",
      "--command-config",
      javaSsl("java-no-cert", false),
    ]);
    assert.notEqual(r.code, 0, r.stdout);
    assert.match(
      r.stdout + r.stderr,
      /SslAuthenticationException|SSL handshake failed|bad_certificate|certificate_required/i,
    );
  });
});
