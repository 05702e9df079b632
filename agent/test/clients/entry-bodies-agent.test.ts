/**
 * Metadata log entries over 1 KiB kept as bodies off the log's partition key (docs/metadata-log.md section 1,
 * "Entry bodies"), through agents on DynamoDB Local: a produce request to 300 partitions commits a file
 * whose entry is a body in a stripe and a pointer on the log's key; the agent is SIGKILLed (no last
 * snapshot), and a new agent replays the log from the table, bodies included, and serves every record.
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { DynamoDBClient, QueryCommand, ScanCommand } from "@aws-sdk/client-dynamodb";
import { Kafka, logLevel } from "kafkajs";
import { LOCAL_AWS, startDynamoDbLocal, type DynamoDbLocal } from "../../../e2e/support/dynamodb-local.js";
import { ENTRY_BODY_KEY } from "../../src/store/dynamodb/entry-bodies.js";
import { LOG_PK } from "../../src/store/dynamodb/log-keys.js";
import { spawnAgentProcess, type AgentProcess } from "../support/agents.js";
import { useLocalAwsCredentials } from "../support/dynamodb-agents.js";

const TOPIC = "wide";
const PARTITIONS = 300;

describe("an agent's metadata log entries over 1 KiB, kept as bodies apart (DynamoDB Local)", function () {
  this.timeout(180_000);
  let ddb: DynamoDbLocal;
  let dynamo: DynamoDBClient;
  let restoreEnv = (): void => {};
  const tables = `bodies-${randomBytes(3).toString("hex")}`;
  let args: string[] = [];
  const agents: AgentProcess[] = [];

  before(async () => {
    restoreEnv = useLocalAwsCredentials();
    ddb = await startDynamoDbLocal();
    dynamo = new DynamoDBClient({ ...LOCAL_AWS, endpoint: ddb.endpoint });
    const url = `dynamodb://us-east-1/${tables}-files<>${tables}-chunks?endpoint=${encodeURIComponent(ddb.endpoint)}`;
    args = ["-bucketURL", url, "-autoCreateTopics=false"];
  });

  after(async () => {
    for (const a of agents) await a.kill("SIGKILL").catch(() => null);
    dynamo?.destroy();
    await ddb?.stop();
    restoreEnv();
  });

  it("commits a file of 300 partitions through a body, and a new agent replays it after a SIGKILL", async () => {
    const first = await spawnAgentProcess(args);
    agents.push(first);
    const kafka = new Kafka({ brokers: [first.bootstrap], logLevel: logLevel.NOTHING });
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: TOPIC, numPartitions: PARTITIONS }], waitForLeaders: true });
    await admin.disconnect();
    const producer = kafka.producer({ allowAutoTopicCreation: false });
    await producer.connect();
    // One request, one record to every partition: one file, its commit an entry of several KB.
    await producer.send({
      topic: TOPIC,
      acks: -1,
      messages: Array.from({ length: PARTITIONS }, (_, p) => ({ partition: p, key: `k${p}`, value: `v${p}` })),
    });
    await producer.disconnect();

    const bodies = await dynamo.send(
      new ScanCommand({
        TableName: `${tables}-files`,
        FilterExpression: "begins_with(pk, :prefix)",
        ExpressionAttributeValues: { ":prefix": { S: `${ENTRY_BODY_KEY}/` } },
        ConsistentRead: true,
      }),
    );
    const stored = (bodies.Items ?? []).map((i) => ({ pk: i.pk!.S!, sk: i.sk!.S!, bytes: i.d!.B!.length }));
    assert.ok(
      stored.some((b) => b.bytes > 1024),
      `a body over 1 KiB in a stripe: ${JSON.stringify(stored)}`,
    );
    const log = await dynamo.send(
      new QueryCommand({
        TableName: `${tables}-files`,
        KeyConditionExpression: "pk = :pk",
        ExpressionAttributeValues: { ":pk": { S: LOG_PK } },
        ConsistentRead: true,
      }),
    );
    const pointers = (log.Items ?? []).filter((i) => i.bpk?.S);
    assert.ok(pointers.length >= 1, "the log's key holds a pointer to it");
    for (const p of pointers) assert.ok(p.d!.B!.length <= 3, "the pointer holds only the stub as its entry");

    // No last snapshot: the next agent folds the entries from the table, the bodies with them.
    await first.kill("SIGKILL");
    const second = await spawnAgentProcess(args);
    agents.push(second);
    const reader = new Kafka({ brokers: [second.bootstrap], logLevel: logLevel.NOTHING });
    const consumer = reader.consumer({ groupId: `g-${randomBytes(3).toString("hex")}` });
    const seen = new Set<string>();
    const misplaced: string[] = [];
    await consumer.connect();
    await consumer.subscribe({ topic: TOPIC, fromBeginning: true });
    const done = new Promise<void>((resolve) => {
      void consumer.run({
        eachMessage: async ({ partition, message }) => {
          const value = message.value!.toString();
          if (value !== `v${partition}`) misplaced.push(`${value} at partition ${partition}`);
          seen.add(value);
          if (seen.size === PARTITIONS) resolve();
        },
      });
    });
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        done,
        new Promise((_, reject) => {
          timer = setTimeout(() => reject(new Error(`read ${seen.size} of ${PARTITIONS} records`)), 90_000);
        }),
      ]);
    } finally {
      clearTimeout(timer);
      await consumer.disconnect();
    }
    assert.equal(seen.size, PARTITIONS);
    assert.deepEqual(misplaced, []);
  });
});
