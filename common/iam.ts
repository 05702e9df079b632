/**
 * Least-privilege IAM policies for the agent and the operator, scoped to the ARNs of the actual
 * tables and bucket. The action lists are the single source: `warp iam-policy` prints them,
 * docs/storage-format.md lists the agent's, and common/test/iam.test.ts checks both lists against
 * the AWS SDK commands the agent and operator code really sends.
 */

/** The agent's DynamoDB actions, all it needs: item access, and the table checks (and creation) at start-up. */
export const AGENT_DYNAMODB_ACTIONS = [
  "dynamodb:DescribeTable",
  "dynamodb:CreateTable",
  "dynamodb:DescribeTimeToLive",
  "dynamodb:UpdateTimeToLive",
  "dynamodb:PutItem",
  "dynamodb:GetItem",
  "dynamodb:UpdateItem",
  "dynamodb:DeleteItem",
  "dynamodb:Query",
  "dynamodb:BatchWriteItem",
  "dynamodb:BatchGetItem",
] as const;

/** Object actions of the agent, on `bucket/prefix*`. */
export const AGENT_S3_OBJECT_ACTIONS = ["s3:PutObject", "s3:GetObject", "s3:DeleteObject"] as const;
/** Bucket actions of the agent (ListObjectsV2), on the bucket, limited to the prefix when there is one. */
export const AGENT_S3_BUCKET_ACTIONS = ["s3:ListBucket"] as const;

/** What the operator calls: table lifecycle (create, adopt, update, delete per policy, tags, TTL). */
export const OPERATOR_DYNAMODB_ACTIONS = [
  "dynamodb:DescribeTable",
  "dynamodb:CreateTable",
  "dynamodb:UpdateTable",
  "dynamodb:DeleteTable",
  "dynamodb:DescribeTimeToLive",
  "dynamodb:UpdateTimeToLive",
  "dynamodb:ListTagsOfResource",
  "dynamodb:TagResource",
] as const;
/** HeadBucket is authorised by s3:ListBucket; CreateBucket only when a WarpAgent sets bucket.create. */
export const OPERATOR_S3_BUCKET_ACTIONS = ["s3:ListBucket"] as const;
export const OPERATOR_S3_CREATE_BUCKET_ACTIONS = ["s3:CreateBucket"] as const;

/** AWS partitions (aws, aws-cn, aws-us-gov) and 12-digit account ids, as ARNs take them. */
export const PARTITION_PATTERN = /^aws(-[a-z]+)*$/;
export const ACCOUNT_PATTERN = /^\d{12}$/;

export interface PolicyScope {
  /** AWS partition: aws, aws-cn, aws-us-gov. */
  readonly partition: string;
  readonly region: string;
  /** 12-digit account id, or "*" when unknown (the table names still scope the policy). */
  readonly account: string;
  readonly tables: readonly string[];
  readonly bucket: string;
  /** Key prefix inside the bucket ("" = whole bucket); normalised to end with "/". */
  readonly prefix: string;
}

export interface PolicyStatement {
  Sid: string;
  Effect: "Allow";
  Action: string[];
  Resource: string[];
  Condition?: Record<string, Record<string, string[]>>;
}

export interface PolicyDocument {
  Version: "2012-10-17";
  Statement: PolicyStatement[];
}

export class PolicyScopeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "PolicyScopeError";
  }
}

export function checkScope(s: PolicyScope): void {
  if (!PARTITION_PATTERN.test(s.partition))
    throw new PolicyScopeError(
      `partition ${JSON.stringify(s.partition)} is not an AWS partition (aws, aws-cn, aws-us-gov)`,
    );
  if (!/^[a-z]{2}(-[a-z]+)+-\d+$/.test(s.region))
    throw new PolicyScopeError(`region ${JSON.stringify(s.region)} is not an AWS region such as us-east-1`);
  if (s.account !== "*" && !ACCOUNT_PATTERN.test(s.account))
    throw new PolicyScopeError(`account ${JSON.stringify(s.account)} is not a 12-digit AWS account id`);
  if (s.tables.length === 0) throw new PolicyScopeError("no DynamoDB table given");
}

function tableArns(s: PolicyScope): string[] {
  return s.tables.map((t) => `arn:${s.partition}:dynamodb:${s.region}:${s.account}:table/${t}`);
}

function bucketArn(s: PolicyScope): string {
  return `arn:${s.partition}:s3:::${s.bucket}`;
}

function normalisedPrefix(prefix: string): string {
  return prefix === "" || prefix.endsWith("/") ? prefix : `${prefix}/`;
}

/** The agent's policy: items of its two tables, objects under its prefix, listing of that prefix. */
export function agentPolicy(s: PolicyScope): PolicyDocument {
  checkScope(s);
  const prefix = normalisedPrefix(s.prefix);
  const list: PolicyStatement = {
    Sid: "WarpAgentListCompactedObjects",
    Effect: "Allow",
    Action: [...AGENT_S3_BUCKET_ACTIONS],
    Resource: [bucketArn(s)],
  };
  if (prefix !== "") list.Condition = { StringLike: { "s3:prefix": [`${prefix}*`] } };
  return {
    Version: "2012-10-17",
    Statement: [
      { Sid: "WarpAgentTables", Effect: "Allow", Action: [...AGENT_DYNAMODB_ACTIONS], Resource: tableArns(s) },
      {
        Sid: "WarpAgentCompactedObjects",
        Effect: "Allow",
        Action: [...AGENT_S3_OBJECT_ACTIONS],
        Resource: [`${bucketArn(s)}/${prefix}*`],
      },
      list,
    ],
  };
}

/** The operator's policy: lifecycle of the tables it manages, and the bucket check (and creation if asked). */
export function operatorPolicy(s: PolicyScope, options: { createBucket: boolean }): PolicyDocument {
  checkScope(s);
  const bucketActions: string[] = [
    ...OPERATOR_S3_BUCKET_ACTIONS,
    ...(options.createBucket ? OPERATOR_S3_CREATE_BUCKET_ACTIONS : []),
  ];
  return {
    Version: "2012-10-17",
    Statement: [
      { Sid: "WarpOperatorTables", Effect: "Allow", Action: [...OPERATOR_DYNAMODB_ACTIONS], Resource: tableArns(s) },
      { Sid: "WarpOperatorBucket", Effect: "Allow", Action: bucketActions, Resource: [bucketArn(s)] },
    ],
  };
}
