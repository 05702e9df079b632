/**
 * openStores from bucket URLs against real servers: DynamoDB Local for ingestion + metadata, an S3 API
 * server for compaction, each reached through the URL's ?endpoint= and the SDK's default credential chain.
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import {
  CreateBucketCommand,
  DeleteBucketCommand,
  DeleteObjectsCommand,
  ListObjectsV2Command,
  S3Client,
} from "@aws-sdk/client-s3";
import { DeleteTableCommand, DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { parseBucketUrl } from "../../../common/bucket-url.js";
import { openStores } from "../../src/store/open/open-stores.js";
import type { Stores } from "../../src/store/types.js";
import { storeUsage } from "../../src/store/usage.js";
import { startDynamo, startS3, type TestServer } from "./servers.js";

const CREDENTIAL_ENV = ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"] as const;

describe("openStores with dynamodb:// ingestion and s3:// compaction", function () {
  this.timeout(180_000);
  let dynamo: TestServer | null = null;
  let s3: TestServer | null = null;
  const savedEnv = new Map<string, string | undefined>();

  before(async function () {
    dynamo = await startDynamo();
    s3 = await startS3();
    // The stores use the SDK's default credential chain; give it local credentials for these servers.
    for (const k of CREDENTIAL_ENV) savedEnv.set(k, process.env[k]);
    process.env.AWS_ACCESS_KEY_ID = "warplocal";
    process.env.AWS_SECRET_ACCESS_KEY = "warplocal";
    delete process.env.AWS_SESSION_TOKEN;
    delete process.env.AWS_PROFILE;
  });

  after(async function () {
    for (const [k, v] of savedEnv) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
    await dynamo?.stop();
    await s3?.stop();
  });

  /** Fresh tables and bucket, the stores opened from their URLs; `run` gets them and a raw S3 client. */
  async function withStores(run: (stores: Stores, s3c: S3Client, bucket: string) => Promise<void>): Promise<void> {
    const id = randomBytes(4).toString("hex");
    const files = `open-files-${id}`;
    const chunks = `open-chunks-${id}`;
    const bucket = `open-bucket-${id}`;
    const creds = { accessKeyId: "warplocal", secretAccessKey: "warplocal" };
    const s3c = new S3Client({ region: "us-east-1", endpoint: s3!.endpoint, forcePathStyle: true, credentials: creds });
    const ddb = new DynamoDBClient({ region: "us-east-1", endpoint: dynamo!.endpoint, credentials: creds });
    await s3c.send(new CreateBucketCommand({ Bucket: bucket }));
    const stores = await openStores({
      ingestionBucketUrl: parseBucketUrl(
        `dynamodb://us-east-1/${files}<>${chunks}?endpoint=${encodeURIComponent(dynamo!.endpoint)}`,
      ),
      compactionBucketUrl: parseBucketUrl(
        `s3://${bucket}?region=us-east-1&endpoint=${encodeURIComponent(s3!.endpoint)}&s3ForcePathStyle=true&prefix=warp`,
      ),
      createTables: true,
    });
    try {
      await run(stores, s3c, bucket);
    } finally {
      await stores.close();
      const raw = await s3c.send(new ListObjectsV2Command({ Bucket: bucket }));
      const keys = (raw.Contents ?? []).map((o) => ({ Key: o.Key! }));
      if (keys.length) await s3c.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: keys } }));
      await s3c.send(new DeleteBucketCommand({ Bucket: bucket }));
      for (const t of [files, chunks]) await ddb.send(new DeleteTableCommand({ TableName: t })).catch(() => {});
      s3c.destroy();
      ddb.destroy();
    }
  }

  it("opens both, keeps the metadata with ingestion, and each store writes where it should", async function () {
    await withStores(async (stores, s3c, bucket) => {
      assert.equal(stores.ingestion.kind, "dynamodb");
      assert.equal(stores.compaction.kind, "s3");
      assert.equal(stores.metadata.kind, "dynamodb");
      await stores.ingestion.put("ingest/1", Buffer.from("ingestion file"));
      await stores.compaction.put("compacted/1", Buffer.from("compacted object"));
      assert.equal(await stores.metadata.append(1n, Buffer.from("entry")), true);
      assert.deepEqual(await stores.ingestion.get("ingest/1"), Buffer.from("ingestion file"));
      assert.deepEqual(await stores.compaction.get("compacted/1"), Buffer.from("compacted object"));
      await assert.rejects(stores.compaction.get("ingest/1"));
      const raw = await s3c.send(new ListObjectsV2Command({ Bucket: bucket }));
      assert.deepEqual(
        raw.Contents?.map((o) => o.Key),
        ["warp/compacted/1"],
      );
    });
  });

  it("keeps the metadata log's large snapshots in the S3 bucket, not in DynamoDB's write units", async function () {
    await withStores(async (stores, s3c, bucket) => {
      const data = randomBytes(100 * 1024);
      const before = storeUsage.snapshot().dynamoWriteUnits;
      await stores.metadata.putSnapshot({ index: 3n, data });
      const units = storeUsage.snapshot().dynamoWriteUnits - before;
      // In the table the same snapshot takes a write unit per KB: 100 and more.
      assert.ok(units <= 2, `${units} DynamoDB write units for a 100 KB snapshot`);
      const raw = await s3c.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: "warp/metadata/snapshots/" }));
      assert.equal(raw.Contents?.length, 1);
      assert.equal(raw.Contents[0]!.Size, data.length);
      const snap = await stores.metadata.latestSnapshot();
      assert.ok(snap?.data.equals(data));
    });
  });
});
