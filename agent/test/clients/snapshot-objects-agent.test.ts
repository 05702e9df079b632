/**
 * Metadata snapshots kept in the compaction bucket (docs/metadata-log.md section 6), through agents:
 * an agent on DynamoDB Local with an S3 server as its compaction bucket snapshots after 100 entries and
 * once more when it stops; the snapshot is an object in the bucket and the table holds a reference. A new
 * agent starts from it and serves every record; an agent given only the tables (-bucketURL dynamodb://)
 * refuses to start, naming the object and the flags.
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { DynamoDBClient, GetItemCommand, ScanCommand } from "@aws-sdk/client-dynamodb";
import { CreateBucketCommand, ListObjectsV2Command, S3Client } from "@aws-sdk/client-s3";
import { Kafka, logLevel } from "kafkajs";
import { LOCAL_AWS, startDynamoDbLocal } from "../../../e2e/support/dynamodb-local.js";
import type { DynamoDbLocal } from "../../../e2e/support/dynamodb-local.js";
import { startS3Server } from "../../../e2e/support/s3-server.js";
import type { S3Server } from "../../../e2e/support/s3-server.js";
import { SNAPSHOT_PK, SNAPSHOT_SK } from "../../src/store/dynamodb/metadata.js";
import { decodeSnapshotObjectRef } from "../../src/store/snapshot-objects.js";
import { startTestAgent } from "../support/agents.js";
import { useLocalAwsCredentials } from "../support/dynamodb-agents.js";

const TOPIC = "snapshotted";
const RECORDS = 120;

describe("an agent's metadata snapshots in the compaction bucket (DynamoDB Local, S3 server)", function () {
  this.timeout(180_000);
  let ddb: DynamoDbLocal;
  let s3: S3Server;
  let s3client: S3Client;
  let dynamo: DynamoDBClient;
  let restoreEnv = (): void => {};
  const tables = `snapobj-${randomBytes(3).toString("hex")}`;
  const bucket = `snapobj-${randomBytes(3).toString("hex")}`;
  let tablesUrl = "";
  let flags: Record<string, string> = {};

  before(async () => {
    restoreEnv = useLocalAwsCredentials();
    ddb = await startDynamoDbLocal();
    s3 = await startS3Server();
    s3client = new S3Client({ ...LOCAL_AWS, endpoint: s3.endpoint, forcePathStyle: true });
    dynamo = new DynamoDBClient({ ...LOCAL_AWS, endpoint: ddb.endpoint });
    await s3client.send(new CreateBucketCommand({ Bucket: bucket }));
    tablesUrl = `dynamodb://us-east-1/${tables}-files<>${tables}-chunks?endpoint=${encodeURIComponent(ddb.endpoint)}`;
    flags = {
      ingestionBucketURL: tablesUrl,
      compactionBucketURL: `s3://${bucket}?region=us-east-1&endpoint=${encodeURIComponent(s3.endpoint)}&s3ForcePathStyle=true&prefix=warp`,
      metadataSnapshotEntries: "100",
      autoCreateTopics: "false",
    };
  });

  after(async () => {
    s3client?.destroy();
    dynamo?.destroy();
    await s3?.stop();
    await ddb?.stop();
    restoreEnv();
  });

  it("writes the snapshot as an object, starts a new agent from it, and refuses an agent without the bucket", async () => {
    const first = await startTestAgent(flags);
    try {
      const kafka = new Kafka({ brokers: [first.bootstrap], logLevel: logLevel.NOTHING });
      const admin = kafka.admin();
      await admin.connect();
      await admin.createTopics({ topics: [{ topic: TOPIC, numPartitions: 3 }], waitForLeaders: true });
      await admin.disconnect();
      const producer = kafka.producer();
      await producer.connect();
      // One record a send: an entry each, so that a snapshot comes while producing and another at the stop.
      for (let i = 0; i < RECORDS; i++)
        await producer.send({ topic: TOPIC, messages: [{ key: `k${i}`, value: `v${i}` }] });
      await producer.disconnect();
    } finally {
      await first.stop(); // a graceful stop writes a last snapshot
    }

    const listed = await s3client.send(
      new ListObjectsV2Command({ Bucket: bucket, Prefix: "warp/metadata/snapshots/" }),
    );
    const objects = (listed.Contents ?? []).map((o) => o.Key!);
    assert.equal(objects.length, 1, `one snapshot object, the superseded ones deleted: ${objects.join(", ")}`);
    const pointer = await dynamo.send(
      new GetItemCommand({
        TableName: `${tables}-files`,
        Key: { pk: { S: SNAPSHOT_PK }, sk: { S: SNAPSHOT_SK } },
        ConsistentRead: true,
      }),
    );
    const ref = decodeSnapshotObjectRef(Buffer.from(pointer.Item!.inl!.B!));
    assert.equal(`warp/${ref?.key}`, objects[0], "the table holds a reference to that object");
    const chunks = await dynamo.send(new ScanCommand({ TableName: `${tables}-chunks`, ProjectionExpression: "pk" }));
    assert.equal(
      (chunks.Items ?? []).filter((i) => i.pk?.S?.startsWith("s#")).length,
      0,
      "no snapshot chunked in the table",
    );

    // Given the tables alone, an agent cannot follow the reference: it stops, saying what to give it.
    await assert.rejects(
      startTestAgent({ bucketURL: tablesUrl, autoCreateTopics: "false" }),
      /kept as the object metadata\/snapshots\/\d{20}-[0-9a-f]+ \(\d+ bytes\) in the compaction bucket, which this agent does not open: give it -ingestionBucketURL and -compactionBucketURL/,
    );

    // A new agent starts from the object and serves every record.
    const second = await startTestAgent(flags);
    try {
      const kafka = new Kafka({ brokers: [second.bootstrap], logLevel: logLevel.NOTHING });
      const consumer = kafka.consumer({ groupId: `g-${randomBytes(3).toString("hex")}` });
      const seen = new Set<string>();
      await consumer.connect();
      await consumer.subscribe({ topic: TOPIC, fromBeginning: true });
      const done = new Promise<void>((resolve) => {
        void consumer.run({
          eachMessage: async ({ message }) => {
            seen.add(message.value!.toString());
            if (seen.size === RECORDS) resolve();
          },
        });
      });
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        done,
        new Promise((_, reject) => {
          timer = setTimeout(() => reject(new Error(`read ${seen.size} of ${RECORDS}`)), 60_000);
        }),
      ]).finally(() => clearTimeout(timer));
      await consumer.disconnect();
      assert.equal(seen.size, RECORDS);
    } finally {
      await second.stop();
    }
    // The second agent's last snapshot superseded the first's: only the object the pointer names is left,
    // none when compaction made the state small enough for the table.
    const last = await dynamo.send(
      new GetItemCommand({
        TableName: `${tables}-files`,
        Key: { pk: { S: SNAPSHOT_PK }, sk: { S: SNAPSHOT_SK } },
        ConsistentRead: true,
      }),
    );
    assert.ok(BigInt(last.Item!.idx!.N!) > BigInt(pointer.Item!.idx!.N!), "the second agent wrote a snapshot");
    const lastRef = decodeSnapshotObjectRef(Buffer.from(last.Item!.inl!.B!));
    const left = await s3client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: "warp/metadata/snapshots/" }));
    assert.deepEqual(
      (left.Contents ?? []).map((o) => o.Key),
      lastRef ? [`warp/${lastRef.key}`] : [],
    );
  });
});
