/**
 * Agents in this process sharing one pair of tables on DynamoDB Local, so one cluster through the
 * metadata log: the set-up of the multi-agent client tests. The AWS SDK reads credentials from the
 * environment, so DynamoDB Local's are put there while the agents run and the previous values are
 * restored by stop().
 */
import { randomBytes } from "node:crypto";
import { LOCAL_AWS, startDynamoDbLocal } from "../../../e2e/support/dynamodb-local.js";
import type { DynamoDbLocal } from "../../../e2e/support/dynamodb-local.js";
import { eventually } from "../../../e2e/support/eventually.js";
import { startTestAgent } from "./agents.js";
import type { TestAgent } from "./agents.js";

const CREDENTIAL_ENV = ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"] as const;

/**
 * Puts DynamoDB Local's credentials in the environment (the AWS SDK reads them there, and agents started
 * in this process after this use them); returns what restores the previous values.
 */
export function useLocalAwsCredentials(): () => void {
  const saved = new Map(CREDENTIAL_ENV.map((k) => [k, process.env[k]] as const));
  process.env.AWS_ACCESS_KEY_ID = LOCAL_AWS.credentials.accessKeyId;
  process.env.AWS_SECRET_ACCESS_KEY = LOCAL_AWS.credentials.secretAccessKey;
  delete process.env.AWS_SESSION_TOKEN;
  delete process.env.AWS_PROFILE;
  return () => {
    for (const [k, v] of saved) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  };
}

export interface DynamoDbAgents {
  readonly ddb: DynamoDbLocal;
  /** In start order (node ids may differ). */
  readonly agents: readonly TestAgent[];
  /** Every agent's bootstrap address, comma-separated. */
  readonly bootstrap: string;
  /** Stops the agents (last started first) and DynamoDB Local, and restores the environment. */
  stop(): Promise<void>;
}

/**
 * Starts DynamoDB Local and `count` agents on tables named after `prefix` (with a random suffix), then
 * waits until every agent lists all of them. `flags` are added to (and may override) the defaults: the
 * tables' bucket URL, -batchTimeout 25ms, no topic auto-creation.
 */
export async function startDynamoDbAgents(
  prefix: string,
  count: number,
  flags: Readonly<Record<string, string>> = {},
): Promise<DynamoDbAgents> {
  const restore = useLocalAwsCredentials();
  let ddb: DynamoDbLocal | null = null;
  const agents: TestAgent[] = [];
  const stop = async () => {
    for (const a of [...agents].reverse()) await a.stop();
    await ddb?.stop();
    restore();
  };
  try {
    ddb = await startDynamoDbLocal();
    const tables = `${prefix}-${randomBytes(3).toString("hex")}`;
    const all = {
      bucketURL: `dynamodb://us-east-1/${tables}-files<>${tables}-chunks?endpoint=${encodeURIComponent(ddb.endpoint)}`,
      batchTimeout: "25ms",
      autoCreateTopics: "false",
      ...flags,
    };
    for (let i = 0; i < count; i++) agents.push(await startTestAgent(all));
    await eventually(() => agents.every((a) => a.running.context.cluster.liveAgents().length === count), {
      timeoutMs: 30_000,
      intervalMs: 50,
      what: `every agent to list all ${count}`,
    });
  } catch (err) {
    await stop();
    throw err;
  }
  return { ddb, agents, bootstrap: agents.map((a) => a.bootstrap).join(","), stop };
}
