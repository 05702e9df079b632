/**
 * IAM policies (common/iam.ts, `warp iam-policy`): the action lists match the AWS SDK commands the
 * code really sends (nothing missing, nothing extra), docs list the same actions, and every
 * statement is scoped to the given ARNs.
 */
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import {
  AGENT_DYNAMODB_ACTIONS,
  AGENT_S3_BUCKET_ACTIONS,
  AGENT_S3_OBJECT_ACTIONS,
  OPERATOR_DYNAMODB_ACTIONS,
  OPERATOR_S3_BUCKET_ACTIONS,
  OPERATOR_S3_CREATE_BUCKET_ACTIONS,
  agentPolicy,
  operatorPolicy,
} from "../iam.js";
import { buildIamPolicies, formatIamPolicies } from "../../cli/iam-policy.js";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

/** Source files under dir (recursively), tests excluded. */
function sources(dir: string): string[] {
  const out: string[] = [];
  for (const e of fs.readdirSync(path.join(root, dir), { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...sources(p));
    else if (e.name.endsWith(".ts")) out.push(p);
  }
  return out;
}

/** IAM actions authorising the SDK commands constructed in the given source folders. */
function actionsUsed(dirs: string[]): Set<string> {
  // S3 API operations authorised by an action of another name.
  const s3: Record<string, string> = {
    PutObject: "s3:PutObject",
    GetObject: "s3:GetObject",
    HeadObject: "s3:GetObject",
    DeleteObject: "s3:DeleteObject",
    DeleteObjects: "s3:DeleteObject",
    ListObjectsV2: "s3:ListBucket",
    HeadBucket: "s3:ListBucket",
    CreateBucket: "s3:CreateBucket",
  };
  const used = new Set<string>();
  for (const file of dirs.flatMap(sources)) {
    const text = fs.readFileSync(path.join(root, file), "utf8");
    const fromS3 = text.includes("@aws-sdk/client-s3");
    const fromDynamo = text.includes("@aws-sdk/client-dynamodb");
    for (const m of text.matchAll(/new (\w+)Command\(/g)) {
      const op = m[1]!;
      if (fromS3 && s3[op]) used.add(s3[op]);
      else if (fromDynamo) used.add(`dynamodb:${op}`);
      else assert.fail(`${file}: new ${op}Command from an unknown AWS client`);
    }
  }
  return used;
}

const scope = {
  partition: "aws",
  region: "eu-west-1",
  account: "123456789012",
  tables: ["ev-files", "ev-chunks"],
  bucket: "ev-bucket",
  prefix: "events",
};

describe("IAM policies", () => {
  it("the agent's actions are exactly those its store code sends", () => {
    const used = actionsUsed(["agent/src/store"]);
    const granted = new Set<string>([
      ...AGENT_DYNAMODB_ACTIONS,
      ...AGENT_S3_OBJECT_ACTIONS,
      ...AGENT_S3_BUCKET_ACTIONS,
    ]);
    assert.deepEqual([...used].sort(), [...granted].sort());
  });

  it("the operator's actions are exactly those its AWS code sends", () => {
    const used = actionsUsed(["operator/src/aws"]);
    const granted = new Set<string>([
      ...OPERATOR_DYNAMODB_ACTIONS,
      ...OPERATOR_S3_BUCKET_ACTIONS,
      ...OPERATOR_S3_CREATE_BUCKET_ACTIONS,
    ]);
    assert.deepEqual([...used].sort(), [...granted].sort());
  });

  it("docs/storage-format.md lists the agent's DynamoDB actions", () => {
    const doc = fs.readFileSync(path.join(root, "docs/storage-format.md"), "utf8");
    const section = doc.slice(doc.indexOf("### IAM actions used"));
    const listed = new Set(
      [...section.slice(0, section.indexOf("Not used")).matchAll(/`(dynamodb:\w+)`/g)].map((m) => m[1]!),
    );
    assert.deepEqual([...listed].sort(), [...AGENT_DYNAMODB_ACTIONS].sort());
  });

  it("scopes every statement to the tables' and the bucket's ARNs", () => {
    const agent = agentPolicy(scope);
    assert.deepEqual(agent.Statement[0]!.Resource, [
      "arn:aws:dynamodb:eu-west-1:123456789012:table/ev-files",
      "arn:aws:dynamodb:eu-west-1:123456789012:table/ev-chunks",
    ]);
    assert.deepEqual(agent.Statement[1]!.Resource, ["arn:aws:s3:::ev-bucket/events/*"]);
    assert.deepEqual(agent.Statement[2]!.Condition, { StringLike: { "s3:prefix": ["events/*"] } });
    for (const s of [...agent.Statement, ...operatorPolicy(scope, { createBucket: true }).Statement]) {
      for (const r of s.Resource) assert.ok(!r.endsWith(":*") && r !== "*", `${s.Sid} is not scoped: ${r}`);
    }
    assert.ok(
      !operatorPolicy(scope, { createBucket: false }).Statement.some((s) => s.Action.includes("s3:CreateBucket")),
    );
    assert.ok(
      operatorPolicy(scope, { createBucket: true }).Statement.some((s) => s.Action.includes("s3:CreateBucket")),
    );
    assert.equal(agentPolicy({ ...scope, prefix: "" }).Statement[2]!.Condition, undefined);
  });

  describe("warp iam-policy flags", () => {
    const flags = {
      ingestionBucketURL: "dynamodb://us-east-1/a-files<>a-chunks",
      compactionBucketURL: "s3://a-bucket?prefix=p/",
    };

    it("prints both policies by default and one document with -for", () => {
      const both = JSON.parse(formatIamPolicies(buildIamPolicies(flags, {}))) as Record<string, unknown>;
      assert.deepEqual(Object.keys(both).sort(), ["agent", "operator"]);
      const agent = JSON.parse(formatIamPolicies(buildIamPolicies({ ...flags, for: "agent" }, {}))) as {
        Version: string;
        Statement: Array<{ Resource: string[] }>;
      };
      assert.equal(agent.Version, "2012-10-17");
      assert.equal(agent.Statement[0]!.Resource[0], "arn:aws:dynamodb:us-east-1:*:table/a-files");
    });

    it("takes the agent's environment variables", () => {
      const p = buildIamPolicies(
        { for: "operator" },
        {
          WARP_INGESTION_BUCKET_URL: flags.ingestionBucketURL,
          WARP_COMPACTION_BUCKET_URL: flags.compactionBucketURL,
          WARP_IAM_ACCOUNT: "111122223333",
        },
      );
      assert.equal(p.operator!.Statement[0]!.Resource[1], "arn:aws:dynamodb:us-east-1:111122223333:table/a-chunks");
    });

    it("rejects bad input with a message naming the flag", () => {
      assert.throws(
        () => buildIamPolicies({ compactionBucketURL: flags.compactionBucketURL }, {}),
        /-ingestionBucketURL is required/,
      );
      assert.throws(
        () => buildIamPolicies({ ...flags, ingestionBucketURL: "file:///tmp/x" }, {}),
        /-ingestionBucketURL.*dynamodb:\/\//,
      );
      assert.throws(() => buildIamPolicies({ ...flags, compactionBucketURL: "s3://A" }, {}), /-compactionBucketURL/);
      assert.throws(() => buildIamPolicies({ ...flags, account: "12345" }, {}), /-account.*12-digit/);
      assert.throws(() => buildIamPolicies({ ...flags, for: "everyone" }, {}), /-for.*agent, operator or both/);
      assert.throws(() => buildIamPolicies({ ...flags, partition: "azure" }, {}), /-partition/);
    });
  });
});
