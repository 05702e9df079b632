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

const COMMAND = /new (\w+)Command\(/g;

/**
 * The top-level declarations of a module, name → text (prettier starts each at column 0; a comment
 * block goes with the declaration before it, which does not matter for the commands found).
 */
function declarations(text: string): Map<string, string> {
  const out = new Map<string, string>();
  let name: string | undefined;
  for (const line of text.split("\n")) {
    const m = /^(?:export )?(?:async )?(?:function\*?|class|const|let|interface|type) (\w+)/.exec(line);
    if (m) name = m[1]!;
    else if (/^(?:import|export \{|export \*)/.test(line)) name = undefined;
    if (name !== undefined) out.set(name, `${out.get(name) ?? ""}${line}\n`);
  }
  return out;
}

/**
 * The SDK commands a shared module's `names` construct, directly or through the module's other
 * declarations they use: an importer is charged only for what it calls, not for the whole module.
 */
function commandsReachable(file: string, names: readonly string[]): string[] {
  const text = fs.readFileSync(path.join(root, file), "utf8");
  const decls = declarations(text);
  const inDecls = [...decls.values()].reduce((n, d) => n + [...d.matchAll(COMMAND)].length, 0);
  assert.equal(inDecls, [...text.matchAll(COMMAND)].length, `${file}: an SDK command outside a top-level declaration`);
  const seen = new Set<string>();
  const queue = [...names];
  const found: string[] = [];
  while (queue.length > 0) {
    const name = queue.pop()!;
    const decl = decls.get(name);
    if (seen.has(name) || decl === undefined) continue;
    seen.add(name);
    found.push(...[...decl.matchAll(COMMAND)].map((m) => m[1]!));
    for (const other of decls.keys()) if (other !== name && new RegExp(`\\b${other}\\b`).test(decl)) queue.push(other);
  }
  return found;
}

/** IAM action of an SDK operation of the client a file imports. */
function iamAction(file: string, text: string, op: string): string {
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
  if (text.includes("@aws-sdk/client-s3") && s3[op]) return s3[op];
  if (text.includes("@aws-sdk/client-dynamodb")) return `dynamodb:${op}`;
  return assert.fail(`${file}: new ${op}Command from an unknown AWS client`);
}

/**
 * IAM actions authorising the SDK commands constructed in the given source folders, and in the
 * shared modules under common/ they import (only the imported functions and what those use).
 */
function actionsUsed(dirs: string[]): Set<string> {
  const used = new Set<string>();
  for (const file of dirs.flatMap(sources)) {
    const text = fs.readFileSync(path.join(root, file), "utf8");
    for (const m of text.matchAll(COMMAND)) used.add(iamAction(file, text, m[1]!));
    for (const m of text.matchAll(/(?:import|export) (type )?\{([^}]*)\} from "([^"]*\/common\/[^"]+)\.js"/g)) {
      if (m[1]) continue;
      const shared = path.relative(root, path.resolve(root, path.dirname(file), `${m[3]!}.ts`));
      const sharedText = fs.readFileSync(path.join(root, shared), "utf8");
      const names = m[2]!
        .split(",")
        .map(
          (n) =>
            n
              .trim()
              .replace(/^type /, "")
              .split(" as ")[0]!,
        )
        .filter((n) => n !== "");
      for (const op of commandsReachable(shared, names)) used.add(iamAction(shared, sharedText, op));
    }
    assert.doesNotMatch(text, /import \* as \w+ from "[^"]*\/common\//, `${file}: namespace import of a shared module`);
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
