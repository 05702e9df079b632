/**
 * Table ownership by tags, the record used on AWS. DynamoDB Local does not implement tagging (its
 * path, ownership recorded in the WarpAgent's annotations, is covered in aws.test.ts), so these run
 * against moto's server, which serves DynamoDB with TagResource / ListTagsOfResource on the same port
 * as its S3 API.
 */
import assert from "node:assert/strict";
import { setTimeout as sleep } from "node:timers/promises";
import {
  CreateTableCommand,
  DescribeTableCommand,
  DynamoDBClient,
  ListTagsOfResourceCommand,
} from "@aws-sdk/client-dynamodb";
import { LOCAL_AWS, tableExists } from "../../../e2e/support/dynamodb-local.js";
import { startS3Server } from "../../../e2e/support/s3-server.js";
import type { S3Server } from "../../../e2e/support/s3-server.js";
import { Reason } from "../../src/api/conditions.js";
import { resolveSpec } from "../../src/api/resolve.js";
import type { ResolvedSpec } from "../../src/api/resolve.js";
import type { WarpAgent, TablesSpec } from "../../src/api/types.js";
import { TAG_MANAGED_BY, TAG_OWNER, TAG_ROLE, deleteTables, ownerTag, reconcileTables } from "../../src/aws/tables.js";

function spec(name: string, uid: string, tables: TablesSpec, recorded: string[] = []): ResolvedSpec {
  const a: WarpAgent = {
    apiVersion: "warpagent.dev/v1alpha1",
    kind: "WarpAgent",
    metadata: { name, namespace: "ns", uid },
    spec: { region: "us-east-1", tables, bucket: { name: "tag-bucket" } },
  };
  return { ...resolveSpec(a), recordedTables: new Set(recorded) };
}

describe("AWS table ownership by tags (moto's DynamoDB)", function () {
  this.timeout(120_000);
  let moto: S3Server;
  let dynamo: DynamoDBClient;

  before(async () => {
    moto = await startS3Server();
    dynamo = new DynamoDBClient({ ...LOCAL_AWS, endpoint: moto.endpoint });
  });
  after(async () => {
    dynamo?.destroy();
    await moto?.stop();
  });

  async function tags(table: string): Promise<Map<string, string>> {
    const arn = (await dynamo.send(new DescribeTableCommand({ TableName: table }))).Table!.TableArn!;
    const out = await dynamo.send(new ListTagsOfResourceCommand({ ResourceArn: arn }));
    return new Map((out.Tags ?? []).map((t) => [t.Key!, t.Value!]));
  }

  async function converge(s: ResolvedSpec) {
    for (let i = 0; i < 50; i++) {
      const r = await reconcileTables(dynamo, s, { pendingRequeueMs: 100 }, async (_role, t) => {
        (s.recordedTables as Set<string>).add(t);
      });
      if (r.requeueAfterMs === undefined) return r;
      await sleep(100);
    }
    throw new Error("tables did not converge");
  }

  /** deleteTables until done; the events of every pass. */
  async function deleteAll(s: ResolvedSpec) {
    const events: Awaited<ReturnType<typeof deleteTables>>["events"] = [];
    for (let i = 0; i < 50; i++) {
      const r = await deleteTables(dynamo, s);
      events.push(...r.events.filter((e) => !events.some((seen) => seen.message === e.message)));
      if (r.done) return { events };
      await sleep(100);
    }
    throw new Error("tables were not deleted");
  }

  async function createForeignTable(name: string, tagged?: string): Promise<void> {
    await dynamo.send(
      new CreateTableCommand({
        TableName: name,
        KeySchema: [
          { AttributeName: "pk", KeyType: "HASH" },
          { AttributeName: "sk", KeyType: "RANGE" },
        ],
        AttributeDefinitions: [
          { AttributeName: "pk", AttributeType: "S" },
          { AttributeName: "sk", AttributeType: "S" },
        ],
        BillingMode: "PAY_PER_REQUEST",
        ...(tagged ? { Tags: [{ Key: TAG_OWNER, Value: tagged }] } : {}),
      }),
    );
  }

  it("tables it creates carry the owner, role and manager tags, and are deleted under Delete", async () => {
    const s = spec("made", "uid-made", { files: "made-files", chunks: "made-chunks", deletionPolicy: "Delete" });
    const r = await converge(s);
    assert.equal(r.condition.status, "True", r.condition.message);
    const t = await tags("made-chunks");
    assert.equal(t.get(TAG_OWNER), ownerTag(s));
    assert.equal(t.get(TAG_OWNER), "ns/made/uid-made");
    assert.equal(t.get(TAG_ROLE), "chunks");
    assert.equal(t.get(TAG_MANAGED_BY), "warp-operator");
    const d = await deleteAll(s);
    assert.deepEqual(
      d.events.map((e) => e.reason),
      ["TableDeleted", "TableDeleted"],
    );
    assert.equal(await tableExists(dynamo, "made-files"), false);
  });

  it("an untagged table is not deleted, even when the WarpAgent's annotations claim it", async () => {
    // With tagging available the tag is the record: an annotation (which any editor of the
    // WarpAgent can write) does not make a table the operator's.
    await createForeignTable("claimed-files");
    const s = spec(
      "claimed",
      "uid-claimed",
      { files: "claimed-files", chunks: "claimed-chunks", deletionPolicy: "Delete" },
      ["claimed-files"],
    );
    const r = await converge(s);
    assert.equal(r.condition.status, "False");
    assert.equal(r.condition.reason, Reason.TableNotOwned, r.condition.message);
    assert.equal((await tags("claimed-files")).get(TAG_OWNER), undefined, "left unchanged: not tagged");
    const d = await deleteAll(s);
    assert.deepEqual(
      d.events.map((e) => [e.type, e.reason]),
      [
        ["Warning", "TableRetained"],
        ["Normal", "TableDeleted"],
      ],
    );
    assert.equal(await tableExists(dynamo, "claimed-files"), true, "the untagged table is kept");
    assert.equal(await tableExists(dynamo, "claimed-chunks"), false, "the table it created is deleted");
  });

  it("a table tagged for another WarpAgent is never taken, even with adopt; the message names the owner", async () => {
    await createForeignTable("other-files", "ns/someone-else/uid-other");
    const s = spec("other", "uid-mine", {
      files: "other-files",
      chunks: "other-chunks",
      deletionPolicy: "Delete",
      adopt: true,
    });
    const r = await converge(s);
    assert.equal(r.condition.status, "False");
    assert.match(r.condition.message, /other-files[\s\S]*ns\/someone-else\/uid-other/);
    assert.equal((await tags("other-files")).get(TAG_OWNER), "ns/someone-else/uid-other", "its tag is kept");
    const d = await deleteAll(s);
    assert.ok(d.events.some((e) => e.reason === "TableRetained" && /ns\/someone-else\/uid-other/.test(e.message)));
    assert.equal(await tableExists(dynamo, "other-files"), true);
  });

  it("adopt tags an untagged table with the right schema, which is then deleted under Delete", async () => {
    await createForeignTable("adopted-files");
    const s = spec("adopted", "uid-adopted", {
      files: "adopted-files",
      chunks: "adopted-chunks",
      deletionPolicy: "Delete",
      adopt: true,
    });
    const r = await converge(s);
    assert.equal(r.condition.status, "True", r.condition.message);
    assert.equal((await tags("adopted-files")).get(TAG_OWNER), "ns/adopted/uid-adopted");
    await deleteAll(s);
    assert.equal(await tableExists(dynamo, "adopted-files"), false, "the adopted table is deleted");
  });
});
