/**
 * Regression: an agent killed (so it did not deregister) and restarted on the same address took a new
 * node id, while Metadata kept listing the dead one at that address until its session ran out: two
 * brokers at one host:port, on which librdkafka stalled for seconds. Two agents share DynamoDB Local;
 * (and an S3 server); one is killed with SIGKILL and restarted on its port: it comes back with its node id, no Metadata
 * response of either agent lists an address twice, and kcat reads everything through it.
 */
import assert from "node:assert/strict";
import { CreateBucketCommand, S3Client } from "@aws-sdk/client-s3";
import { Kafka, logLevel } from "kafkajs";
import { LOCAL_AWS, startDynamoDbLocal } from "../../../e2e/support/dynamodb-local.js";
import type { DynamoDbLocal } from "../../../e2e/support/dynamodb-local.js";
import { runKcat } from "../../../e2e/support/kcat.js";
import { freePort } from "../../../e2e/support/ports.js";
import { startS3Server } from "../../../e2e/support/s3-server.js";
import type { S3Server } from "../../../e2e/support/s3-server.js";
import { ApiKey } from "../../src/protocol/index.js";
import { spawnAgentProcess } from "../support/agents.js";
import type { AgentProcess } from "../support/agents.js";
import { RawKafkaClient } from "../support/raw-kafka-client.js";

const TOPIC = "restarted";
const MESSAGES = 600;

/** The node id an agent process logged in its "agent started" line. */
function loggedNodeId(agent: AgentProcess): number {
  const line = agent
    .output()
    .split("\n")
    .find((l) => l.includes('"agent started"'));
  assert.ok(line, "the agent logged its start");
  return (JSON.parse(line) as { nodeId: number }).nodeId;
}

/** The brokers one agent's Metadata response lists, as "id@host:port". */
async function brokers(agent: AgentProcess): Promise<string[]> {
  const client = await RawKafkaClient.connect(agent.port);
  try {
    const response = await client.request(ApiKey.Metadata, 4, { topics: [], allowAutoTopicCreation: false });
    return response.brokers.map((b) => `${b.nodeId}@${b.host}:${b.port}`);
  } finally {
    client.close();
  }
}

function assertOneBrokerPerAddress(listed: readonly string[], who: string): void {
  const addresses = listed.map((b) => b.slice(b.indexOf("@") + 1));
  assert.equal(new Set(addresses).size, addresses.length, `${who} lists an address twice: ${listed.join(", ")}`);
}

describe("an agent restarted on its address after SIGKILL", function () {
  this.timeout(300_000);
  let ddb: DynamoDbLocal;
  let s3: S3Server;
  let env: NodeJS.ProcessEnv;
  const agents: AgentProcess[] = [];

  before(async () => {
    [ddb, s3] = await Promise.all([startDynamoDbLocal(), startS3Server()]);
    env = {
      AWS_REGION: "us-east-1",
      AWS_ACCESS_KEY_ID: LOCAL_AWS.credentials.accessKeyId,
      AWS_SECRET_ACCESS_KEY: LOCAL_AWS.credentials.secretAccessKey,
      AWS_ENDPOINT_URL_DYNAMODB: ddb.endpoint,
      AWS_ENDPOINT_URL_S3: s3.endpoint,
    };
    const s3client = new S3Client({ ...LOCAL_AWS, endpoint: s3.endpoint, forcePathStyle: true });
    await s3client.send(new CreateBucketCommand({ Bucket: "restart-test" }));
    s3client.destroy();
  });
  after(async () => {
    for (const a of agents) await a.kill("SIGKILL");
    await ddb?.stop();
    await s3?.stop();
  });

  const start = async (port: number): Promise<AgentProcess> => {
    const agent = await spawnAgentProcess(
      [
        "-ingestionBucketURL",
        "dynamodb://us-east-1/restart-files<>restart-chunks",
        "-compactionBucketURL",
        "s3://restart-test?region=us-east-1&s3ForcePathStyle=true",
        "-batchTimeout",
        "25ms",
        "-kafkaPort",
        String(port),
      ],
      env,
    );
    agents.push(agent);
    return agent;
  };

  it("keeps its node id: Metadata never lists two brokers at one address, and kcat reads through it", async () => {
    const [portA, portB] = [await freePort(), await freePort()];
    const a = await start(portA);
    const b = await start(portB);
    const idA = loggedNodeId(a);
    const admin = new Kafka({ brokers: [b.bootstrap], logLevel: logLevel.NOTHING }).admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: TOPIC, numPartitions: 6 }] });
    await admin.disconnect();
    const lines = Array.from({ length: MESSAGES }, (_, i) => `k${i}:v${i}`).join("\n") + "\n";
    const produced = await runKcat(
      ["-b", b.bootstrap, "-P", "-t", TOPIC, "-K:", "-X", "acks=all", "-X", "topic.metadata.refresh.interval.ms=1000"],
      { input: lines, timeoutMs: 120_000 },
    );
    assert.equal(produced.code, 0, produced.stderr);
    assert.ok((await brokers(b)).includes(`${idA}@127.0.0.1:${portA}`), "both agents are listed");

    await a.kill("SIGKILL");
    const restarted = await start(portA);
    assert.equal(loggedNodeId(restarted), idA, "the restarted agent has its previous node id");

    const seen: string[][] = [];
    const check = async (): Promise<void> => {
      for (const [who, agent] of [
        ["the restarted agent", restarted],
        ["the other agent", b],
      ] as const) {
        const listed = await brokers(agent);
        assertOneBrokerPerAddress(listed, who);
        seen.push(listed);
      }
    };
    await check();
    // Consume everything through the restarted agent, checking Metadata meanwhile.
    let consuming = true;
    const checks = (async () => {
      while (consuming) await check();
    })();
    const consumed = await runKcat(
      ["-b", restarted.bootstrap, "-C", "-t", TOPIC, "-o", "beginning", "-e", "-q", "-f", "%k:%s\\n"],
      { timeoutMs: 120_000 },
    ).finally(() => (consuming = false));
    await checks;
    assert.equal(consumed.code, 0, consumed.stderr);
    const values = consumed.stdout.split("\n").filter((l) => l !== "");
    assert.equal(values.length, MESSAGES);
    assert.deepEqual(new Set(values), new Set(lines.trim().split("\n")));
    assert.ok(
      seen.every((listed) => listed.includes(`${idA}@127.0.0.1:${portA}`)),
      "every Metadata response lists the restarted agent under its node id",
    );
  });
});
