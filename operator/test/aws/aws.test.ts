/**
 * The AWS side of the reconciler against DynamoDB Local and moto's S3 server (real servers started
 * here). DynamoDB Local does not enforce IAM, so AccessDenied is covered by the error-mapping test
 * with an error shaped as the SDK throws it.
 */
import assert from "node:assert/strict";
import { setTimeout as sleep } from "node:timers/promises";
import {
  CreateTableCommand,
  DescribeTableCommand,
  DescribeTimeToLiveCommand,
  DynamoDBClient,
  ListTagsOfResourceCommand,
} from "@aws-sdk/client-dynamodb";
import { CreateBucketCommand, S3Client } from "@aws-sdk/client-s3";
import { startDynamoDbLocal, LOCAL_AWS, tableExists } from "../../../e2e/support/dynamodb-local.js";
import type { DynamoDbLocal } from "../../../e2e/support/dynamodb-local.js";
import { startS3Server } from "../../../e2e/support/s3-server.js";
import type { S3Server } from "../../../e2e/support/s3-server.js";
import { Reason } from "../../src/api/conditions.js";
import { resolveSpec } from "../../src/api/resolve.js";
import type { WarpAgent, WarpAgentSpec } from "../../src/api/types.js";
import { reconcileBucket } from "../../src/aws/bucket.js";
import { describeAwsError } from "../../src/aws/errors.js";
import { deleteTables, reconcileTables } from "../../src/aws/tables.js";

function spec(name: string, s: Partial<WarpAgentSpec> = {}) {
  const a: WarpAgent = {
    apiVersion: "warpagent.dev/v1alpha1",
    kind: "WarpAgent",
    metadata: { name, namespace: "ns" },
    spec: {
      region: "us-east-1",
      tables: { files: `${name}-files`, chunks: `${name}-chunks` },
      bucket: { name: `${name}-bucket` },
      ...s,
    },
  };
  const r = resolveSpec(a);
  return { ...r, recordedTables: new Set(r.recordedTables) };
}

type TestSpec = ReturnType<typeof spec>;

/** reconcileTables recording ownership in the spec, as the reconciler does in the WarpAgent's annotations. */
function reconcileRecorded(client: DynamoDBClient, s: TestSpec) {
  return reconcileTables(client, s, { pendingRequeueMs: 100 }, async (_role, table) => {
    s.recordedTables.add(table);
  });
}

async function converge(client: DynamoDBClient, s: ReturnType<typeof spec>) {
  for (let i = 0; i < 50; i++) {
    const r = await reconcileRecorded(client, s);
    if (r.requeueAfterMs === undefined) return r;
    await new Promise((res) => setTimeout(res, 100));
  }
  throw new Error("tables did not converge");
}

describe("AWS reconcile (DynamoDB Local + S3 server)", function () {
  this.timeout(180_000);
  let ddb: DynamoDbLocal;
  let s3srv: S3Server;
  let dynamo: DynamoDBClient;
  let s3: S3Client;

  before(async () => {
    [ddb, s3srv] = await Promise.all([startDynamoDbLocal(), startS3Server()]);
    dynamo = new DynamoDBClient({ ...LOCAL_AWS, endpoint: ddb.endpoint });
    s3 = new S3Client({ ...LOCAL_AWS, endpoint: s3srv.endpoint, forcePathStyle: true });
  });
  after(async () => {
    dynamo?.destroy();
    s3?.destroy();
    await Promise.all([ddb?.stop(), s3srv?.stop()]);
  });

  it("creates both tables with the agent's key schema and TTL, and reports ACTIVE", async () => {
    const s = spec("create");
    const first = await reconcileRecorded(dynamo, s);
    assert.equal(first.condition.status, "False");
    assert.equal(first.condition.reason, Reason.TableCreating);
    assert.deepEqual([...s.recordedTables].sort(), ["create-chunks", "create-files"], "created tables are recorded");
    assert.ok(first.events.some((e) => e.reason === "TableCreated"));
    const done = await converge(dynamo, s);
    assert.equal(done.condition.status, "True", done.condition.message);
    assert.match(done.filesArn!, /table\/create-files$/);
    const chunks = (await dynamo.send(new DescribeTableCommand({ TableName: "create-chunks" }))).Table!;
    assert.deepEqual(chunks.KeySchema, [
      { AttributeName: "pk", KeyType: "HASH" },
      { AttributeName: "sk", KeyType: "RANGE" },
    ]);
    assert.equal(chunks.AttributeDefinitions!.find((a) => a.AttributeName === "sk")!.AttributeType, "N");
    assert.equal(chunks.BillingModeSummary?.BillingMode, "PAY_PER_REQUEST");
    const ttl = await dynamo.send(new DescribeTimeToLiveCommand({ TableName: "create-chunks" }));
    assert.equal(ttl.TimeToLiveDescription?.AttributeName, "expiresAt");
    // DynamoDB Local does not implement tagging (UnknownOperationException): the reconciler must not
    // fail on it, and ownership is the WarpAgent's record. On AWS the tables carry TAG_OWNER etc.
    await assert.rejects(
      dynamo.send(new ListTagsOfResourceCommand({ ResourceArn: chunks.TableArn! })),
      (e: Error) => e.name === "UnknownOperationException",
    );
    const again = await reconcileRecorded(dynamo, s);
    assert.deepEqual(again.events, [], "a converged pass changes nothing");
  });

  it("a table is not created when its ownership cannot be recorded first", async () => {
    const s = spec("unrecorded");
    const r = await reconcileTables(dynamo, s, { pendingRequeueMs: 100 }, async () => {
      throw new Error("403 Forbidden");
    });
    assert.equal(r.condition.reason, Reason.ApplyFailed);
    assert.match(
      r.condition.message,
      /recording table unrecorded-files as owned on the WarpAgent failed, so it was not created or adopted: 403 Forbidden/,
    );
    assert.equal(await tableExists(dynamo, "unrecorded-files"), false);
    assert.equal(await tableExists(dynamo, "unrecorded-chunks"), false);
  });

  it("a table created by someone else between DescribeTable and CreateTable is not an AWS error", async () => {
    // Passes racing on the same new tables (as the operator and agents starting with createTables do).
    // CreateTable is held back until every pass has described the tables, so all but one CreateTable
    // per table answer ResourceInUseException.
    const racing = new DynamoDBClient({ ...LOCAL_AWS, endpoint: ddb.endpoint });
    let described = 0;
    racing.middlewareStack.add(
      (next, context) => async (args) => {
        if (context.commandName === "DescribeTableCommand") {
          try {
            return await next(args);
          } finally {
            described++;
          }
        }
        if (context.commandName === "CreateTableCommand") while (described < 6) await sleep(10);
        return next(args);
      },
      { step: "initialize" },
    );
    try {
      const s = spec("race");
      const passes = await Promise.all([1, 2, 3].map(() => reconcileRecorded(racing, s)));
      for (const r of passes) {
        assert.equal(r.condition.reason, Reason.TableCreating, r.condition.message);
        assert.equal(r.requeueAfterMs, 100);
      }
      const created = passes.flatMap((r) => r.events).filter((e) => e.reason === "TableCreated");
      assert.equal(created.length, 2, "each table is reported created once");
      const done = await converge(racing, s);
      assert.equal(done.condition.status, "True", done.condition.message);
    } finally {
      racing.destroy();
    }
  });

  it("adopts an existing table with the right schema; reports a wrong one naming table and schema", async () => {
    await dynamo.send(
      new CreateTableCommand({
        TableName: "adopt-files",
        KeySchema: [
          { AttributeName: "pk", KeyType: "HASH" },
          { AttributeName: "sk", KeyType: "RANGE" },
        ],
        AttributeDefinitions: [
          { AttributeName: "pk", AttributeType: "S" },
          { AttributeName: "sk", AttributeType: "S" },
        ],
        BillingMode: "PAY_PER_REQUEST",
      }),
    );
    await dynamo.send(
      new CreateTableCommand({
        TableName: "adopt-chunks",
        KeySchema: [{ AttributeName: "id", KeyType: "HASH" }],
        AttributeDefinitions: [{ AttributeName: "id", AttributeType: "S" }],
        BillingMode: "PAY_PER_REQUEST",
      }),
    );
    // Without spec.tables.adopt, an existing table is neither changed nor deleted.
    const notAdopted = spec("adopt", {
      tables: { files: "adopt-files", chunks: "adopt-chunks", deletionPolicy: "Delete" },
    });
    const r0 = await converge(dynamo, notAdopted);
    assert.equal(r0.condition.status, "False");
    assert.match(
      r0.condition.message,
      /table adopt-files already exists and was not created by this WarpAgent; it is left unchanged and never deleted. Set spec.tables.adopt: true to take ownership of it/,
    );
    assert.deepEqual([...notAdopted.recordedTables], [], "nothing is recorded as owned");
    const ttl0 = await dynamo.send(new DescribeTimeToLiveCommand({ TableName: "adopt-files" }));
    assert.notEqual(ttl0.TimeToLiveDescription?.TimeToLiveStatus, "ENABLED", "an unowned table is left unchanged");
    const kept = await deleteTables(dynamo, notAdopted);
    assert.equal(kept.done, true);
    assert.deepEqual(
      kept.events.map((e) => [e.type, e.reason]),
      [
        ["Warning", "TableRetained"],
        ["Warning", "TableRetained"],
      ],
    );
    for (const t of ["adopt-files", "adopt-chunks"])
      assert.ok((await dynamo.send(new DescribeTableCommand({ TableName: t }))).Table, `${t} is not deleted`);

    // With it, the right table is adopted; the wrong one is reported and never adopted.
    const adopting = spec("adopt", {
      tables: { files: "adopt-files", chunks: "adopt-chunks", deletionPolicy: "Delete", adopt: true },
    });
    const r = await converge(dynamo, adopting);
    assert.equal(r.condition.status, "False");
    assert.equal(r.condition.reason, Reason.TableSchemaMismatch);
    assert.match(
      r.condition.message,
      /table adopt-chunks has key schema \[id \(S, HASH\)\], expected the chunks table schema \[pk \(S, HASH\), sk \(N, RANGE\)\]/,
    );
    assert.doesNotMatch(r.condition.message, /adopt-files/, "the files table is adopted as it is");
    assert.deepEqual([...adopting.recordedTables], ["adopt-files"]);
    for (let i = 0; i < 50 && !(await deleteTables(dynamo, adopting)).done; i++) await sleep(100);
    await assert.rejects(
      dynamo.send(new DescribeTableCommand({ TableName: "adopt-files" })),
      (e: Error) => e.name === "ResourceNotFoundException",
      "the adopted table is deleted",
    );
    assert.ok((await dynamo.send(new DescribeTableCommand({ TableName: "adopt-chunks" }))).Table, "never adopted");
  });

  it("applies a billing mode change, one update per pass", async () => {
    const s = spec("billing");
    await converge(dynamo, s);
    const p = spec("billing", {
      tables: {
        files: "billing-files",
        chunks: "billing-chunks",
        billingMode: "Provisioned",
        readCapacityUnits: 5,
        writeCapacityUnits: 7,
      },
    });
    for (const t of s.recordedTables) p.recordedTables.add(t);
    const first = await reconcileRecorded(dynamo, p);
    assert.ok(first.events.filter((e) => e.reason === "TableUpdated").length <= 2);
    const done = await converge(dynamo, p);
    assert.equal(done.condition.status, "True", done.condition.message);
    const t = (await dynamo.send(new DescribeTableCommand({ TableName: "billing-files" }))).Table!;
    assert.equal(t.ProvisionedThroughput?.ReadCapacityUnits, 5);
    assert.equal(t.ProvisionedThroughput?.WriteCapacityUnits, 7);
  });

  it("deletes the tables under the Delete policy and reports done once they are gone", async () => {
    const s = spec("del");
    await converge(dynamo, s);
    for (let i = 0; i < 50; i++) {
      const r = await deleteTables(dynamo, s);
      if (r.done) break;
      await new Promise((res) => setTimeout(res, 100));
    }
    await assert.rejects(
      dynamo.send(new DescribeTableCommand({ TableName: "del-files" })),
      (e: Error) => e.name === "ResourceNotFoundException",
    );
  });

  it("checks the bucket, and creates it only when asked", async () => {
    await s3.send(new CreateBucketCommand({ Bucket: "exists-bucket" }));
    assert.equal((await reconcileBucket(s3, spec("exists"))).condition.reason, Reason.BucketFound);
    const missing = await reconcileBucket(s3, spec("missing"));
    assert.equal(missing.condition.status, "False");
    assert.equal(missing.condition.reason, Reason.BucketNotFound);
    assert.match(missing.condition.message, /missing-bucket does not exist; create it or set spec.bucket.create: true/);
    const created = await reconcileBucket(s3, spec("made", { bucket: { name: "made-bucket", create: true } }));
    assert.equal(created.condition.reason, Reason.BucketCreated);
    assert.equal((await reconcileBucket(s3, spec("made"))).condition.reason, Reason.BucketFound);
  });

  it("AccessDenied names the missing permission and the resource", () => {
    const err = Object.assign(
      new Error("User: arn:aws:iam::1:user/x is not authorized to perform: dynamodb:CreateTable"),
      { name: "AccessDeniedException", $metadata: { httpStatusCode: 400 } },
    );
    const f = describeAwsError(err, "dynamodb:CreateTable", "arn:aws:dynamodb:us-east-1:1:table/t");
    assert.equal(f.reason, Reason.AccessDenied);
    assert.match(f.message, /needs dynamodb:CreateTable on arn:aws:dynamodb:us-east-1:1:table\/t/);
    const s3err = Object.assign(new Error("UnknownError"), { name: "403", $metadata: { httpStatusCode: 403 } });
    assert.match(
      describeAwsError(s3err, "s3:ListBucket", "arn:aws:s3:::b").message,
      /needs s3:ListBucket on arn:aws:s3:::b/,
    );
  });
});
