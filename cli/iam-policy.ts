/**
 * `warp iam-policy`: prints least-privilege IAM policies (JSON) for the agent and for the operator,
 * scoped to the ARNs of the given tables and bucket. The tables and bucket are named the way the
 * agent takes them (-ingestionBucketURL dynamodb://region/files<>chunks, -compactionBucketURL
 * s3://bucket?prefix=...), so the same values serve both. Action lists: common/iam.ts.
 *
 *   warp iam-policy -ingestionBucketURL 'dynamodb://us-east-1/events-files<>events-chunks' \
 *     -compactionBucketURL 's3://my-bucket?prefix=events/' -account 123456789012 -for agent
 */
import type { Command } from "commander";
import { type BucketUrl, BucketUrlError, parseBucketUrl } from "../common/bucket-url.js";
import {
  ACCOUNT_PATTERN,
  agentPolicy,
  operatorPolicy,
  PARTITION_PATTERN,
  type PolicyDocument,
  type PolicyScope,
} from "../common/iam.js";
import { ConfigError, flagReader } from "../common/flags/read.js";
import { type FlagSpec, stringFlag } from "../common/flags/spec.js";
import { addFlagOptions, givenFlags } from "./flags.js";

export const IAM_POLICY_FLAGS = {
  ingestionBucketURL: stringFlag({
    name: "ingestionBucketURL",
    env: "WARP_INGESTION_BUCKET_URL",
    defaultText: "",
    valueName: "url",
    help: "The agent's DynamoDB ingestion store: dynamodb://<region>/<files_table><><chunks_table>.",
  }),
  compactionBucketURL: stringFlag({
    name: "compactionBucketURL",
    env: "WARP_COMPACTION_BUCKET_URL",
    defaultText: "",
    valueName: "url",
    help: "The agent's S3 compaction store: s3://<bucket>?prefix=<prefix>.",
  }),
  account: stringFlag({
    name: "account",
    env: "WARP_IAM_ACCOUNT",
    defaultText: "* (any account; the table names still scope the policy)",
    valueName: "id",
    help: "12-digit AWS account id of the tables.",
  }),
  partition: stringFlag({
    name: "partition",
    env: "WARP_IAM_PARTITION",
    defaultText: "aws",
    valueName: "name",
    help: "AWS partition of the ARNs: aws, aws-cn or aws-us-gov.",
  }),
  for: stringFlag({
    name: "for",
    env: "WARP_IAM_FOR",
    defaultText: "both",
    valueName: "who",
    help: "Whose policy to print: agent, operator or both.",
  }),
  createBucket: stringFlag({
    name: "createBucket",
    env: "WARP_IAM_CREATE_BUCKET",
    defaultText: "false",
    valueName: "bool",
    boolean: true,
    help: "Also allow the operator s3:CreateBucket (for WarpAgents with bucket.create: true).",
  }),
} as const;

export const IAM_POLICY_FLAG_LIST: readonly FlagSpec[] = Object.values(IAM_POLICY_FLAGS);

export interface IamPolicies {
  readonly agent?: PolicyDocument;
  readonly operator?: PolicyDocument;
}

/** Builds the policies from flags (keys = flag names) and the environment; throws ConfigError naming the flag. */
export function buildIamPolicies(flags: Record<string, string | undefined>, env: NodeJS.ProcessEnv): IamPolicies {
  const { get, bad, boolean } = flagReader(IAM_POLICY_FLAGS, flags, env);
  /** A required bucket URL flag of the given scheme. */
  const bucketUrl = <Kind extends "dynamodb" | "s3">(
    name: "ingestionBucketURL" | "compactionBucketURL",
    kind: Kind,
    expected: string,
  ): Extract<BucketUrl, { kind: Kind }> => {
    const v = get(name);
    if (!v) throw new ConfigError(`-${name} is required (see warp iam-policy --help)`);
    let url: BucketUrl;
    try {
      url = parseBucketUrl(v.raw);
    } catch (err) {
      throw bad(v, err instanceof BucketUrlError ? err.message : String(err));
    }
    if (url.kind !== kind) throw bad(v, expected);
    return url as Extract<BucketUrl, { kind: Kind }>;
  };

  const ingestion = bucketUrl(
    "ingestionBucketURL",
    "dynamodb",
    "expected a dynamodb:// URL (IAM policies exist only for AWS stores)",
  );
  const compaction = bucketUrl("compactionBucketURL", "s3", "expected an s3:// URL");

  const who = get("for");
  const forWho = who?.raw ?? "both";
  if (!["agent", "operator", "both"].includes(forWho)) throw bad(who!, "expected agent, operator or both");
  const createBucket = boolean("createBucket", false);
  const account = get("account");
  if (account && account.raw !== "*" && !ACCOUNT_PATTERN.test(account.raw))
    throw bad(account, "expected a 12-digit AWS account id");
  const partition = get("partition");
  if (partition && !PARTITION_PATTERN.test(partition.raw)) throw bad(partition, "expected aws, aws-cn or aws-us-gov");

  const scope: PolicyScope = {
    partition: partition?.raw ?? "aws",
    region: ingestion.region,
    account: account?.raw ?? "*",
    tables: [ingestion.filesTable, ingestion.chunksTable],
    bucket: compaction.bucket,
    prefix: compaction.prefix,
  };
  return {
    ...(forWho !== "operator" ? { agent: agentPolicy(scope) } : {}),
    ...(forWho !== "agent" ? { operator: operatorPolicy(scope, { createBucket }) } : {}),
  };
}

/** The text printed: one policy document when one is asked for, else {"agent": ..., "operator": ...}. */
export function formatIamPolicies(p: IamPolicies): string {
  const only = p.agent && !p.operator ? p.agent : p.operator && !p.agent ? p.operator : undefined;
  return `${JSON.stringify(only ?? p, null, 2)}\n`;
}

export function addIamPolicyCommand(program: Command, fail: (message: string) => never): void {
  addFlagOptions(
    program
      .command("iam-policy")
      .description(
        'Print least-privilege IAM policies (JSON) for the agent and the operator, scoped to the tables\' and bucket\'s ARNs. With -for agent or -for operator, one policy document; otherwise {"agent": ..., "operator": ...}.',
      )
      .allowExcessArguments(false),
    IAM_POLICY_FLAG_LIST,
  ).action((_opts: unknown, command: Command) => {
    let policies: IamPolicies;
    try {
      policies = buildIamPolicies(givenFlags(command, IAM_POLICY_FLAG_LIST), process.env);
    } catch (err) {
      fail((err as Error).message);
    }
    process.stdout.write(formatIamPolicies(policies));
  });
}
