/**
 * What the benchmark measures: agents on the embedded file store, agents on DynamoDB Local (ingestion)
 * + an S3 server (compaction; `WARP_BENCH_S3`), and an Apache Kafka 4.x broker (KRaft, single node) on loopback.
 * Every target is started fresh for its scenario and exposes its bootstrap address, its server
 * processes (for CPU and memory) and, for agents, their Prometheus /metrics.
 */
import { CreateBucketCommand, S3Client } from "@aws-sdk/client-s3";
import { Kafka, logLevel } from "kafkajs";
import { spawnAgentProcess, tempDir, type AgentProcess } from "../../agent/test/support/agents.js";
import { LOCAL_AWS, startDynamoDbLocal, type DynamoDbLocal } from "../../e2e/support/dynamodb-local.js";
import { startKafkaBroker } from "../../e2e/support/kafka-tools.js";
import { freePort } from "../../e2e/support/ports.js";
import {
  MOTO_VERSION,
  VERSITYGW_VERSION,
  isS3ServerKind,
  startS3Server,
  type S3Server,
  type S3ServerKind,
} from "../../e2e/support/s3-server.js";
import { findPids } from "./proc-stats.js";

export type StoreKind = "file" | "dynamodb" | "kafka";

export interface Target {
  readonly store: StoreKind;
  readonly agents: number;
  /** null for Kafka. */
  readonly batchTimeoutMs: number | null;
  readonly label: string;
  readonly bootstrap: string;
  /** The server processes (agents, or the broker's JVM). */
  pids(): number[];
  /** Concatenated /metrics text of every agent ("" for Kafka). */
  metrics(): Promise<string>;
  stop(): Promise<void>;
}

export async function createTopic(bootstrap: string, topic: string, partitions: number): Promise<void> {
  const admin = new Kafka({ brokers: [bootstrap], logLevel: logLevel.NOTHING, retry: { retries: 10 } }).admin();
  await admin.connect();
  try {
    await admin.createTopics({ topics: [{ topic, numPartitions: partitions }], waitForLeaders: true });
  } finally {
    await admin.disconnect();
  }
}

async function agentMetrics(agents: readonly AgentProcess[]): Promise<string> {
  const texts = await Promise.all(
    agents.map(async (a) => (await fetch(`http://127.0.0.1:${a.httpPort}/metrics`)).text()),
  );
  return texts.join("\n");
}

function agentTarget(
  store: StoreKind,
  batchTimeoutMs: number,
  agents: AgentProcess[],
  flags: readonly string[],
  cleanup: () => void,
): Target {
  const extra = flags.length > 0 ? `, ${flags.join(" ")}` : "";
  return {
    store,
    agents: agents.length,
    batchTimeoutMs,
    label: `${store}, ${agents.length} agent${agents.length > 1 ? "s" : ""}, batchTimeout ${batchTimeoutMs}ms${extra}`,
    bootstrap: agents[0]!.bootstrap,
    pids: () => agents.map((a) => a.child.pid!).filter((p) => p !== undefined),
    metrics: () => agentMetrics(agents),
    stop: async () => {
      await Promise.all(agents.map((a) => a.kill("SIGTERM")));
      cleanup();
    },
  };
}

/** One agent on a fresh file:// store, with extra agent `flags` (named in the label). */
export async function startFileTarget(batchTimeoutMs: number, flags: readonly string[] = []): Promise<Target> {
  const dir = tempDir("bench");
  const agent = await spawnAgentProcess([
    "-bucketURL",
    `file://${dir.path}`,
    "-batchTimeout",
    `${batchTimeoutMs}ms`,
    ...flags,
  ]);
  return agentTarget("file", batchTimeoutMs, [agent], flags, () => dir.remove());
}

/** DynamoDB Local and the S3 server, shared by every DynamoDB scenario of a run. */
export interface AwsLocal {
  readonly env: NodeJS.ProcessEnv;
  readonly bucket: string;
  readonly dynamo: DynamoDbLocal;
  readonly s3: S3Server;
  stop(): Promise<void>;
}

/**
 * The S3 server of the DynamoDB targets: `WARP_BENCH_S3`, `versitygw` (default) or `moto`
 * (e2e/support/s3-server.ts says why the bench does not read compacted objects from moto).
 */
export function benchS3Kind(): S3ServerKind {
  const kind = process.env.WARP_BENCH_S3 ?? "versitygw";
  if (!isS3ServerKind(kind)) throw new Error(`WARP_BENCH_S3=${kind}: expected moto or versitygw`);
  return kind;
}

/** The S3 server as the report names it, with its version. */
export function s3ServerDescription(): string {
  return benchS3Kind() === "moto"
    ? `moto ${MOTO_VERSION} (in memory)`
    : `Versity S3 Gateway ${VERSITYGW_VERSION} (POSIX backend on local disk)`;
}

/** DynamoDB Local and the S3 server; at `niceness` (SpawnServerOptions.niceness), if given. */
export async function startAwsLocal(options: { readonly niceness?: number } = {}): Promise<AwsLocal> {
  const { niceness } = options;
  const [dynamo, s3] = await Promise.all([
    startDynamoDbLocal({ niceness }),
    startS3Server({ kind: benchS3Kind(), niceness }),
  ]);
  const bucket = "warp-bench";
  const client = new S3Client({ ...LOCAL_AWS, endpoint: s3.endpoint, forcePathStyle: true });
  await client.send(new CreateBucketCommand({ Bucket: bucket }));
  client.destroy();
  return {
    env: {
      AWS_REGION: "us-east-1",
      AWS_ACCESS_KEY_ID: LOCAL_AWS.credentials.accessKeyId,
      AWS_SECRET_ACCESS_KEY: LOCAL_AWS.credentials.secretAccessKey,
      AWS_ENDPOINT_URL_DYNAMODB: dynamo.endpoint,
      AWS_ENDPOINT_URL_S3: s3.endpoint,
    },
    bucket,
    dynamo,
    s3,
    stop: async () => {
      await Promise.all([dynamo.stop(), s3.stop()]);
    },
  };
}

let dynamoRun = 0;

/** A fresh name for a DynamoDB target's tables and S3 prefix. */
export function dynamoTargetName(count: number, batchTimeoutMs: number): string {
  return `b${++dynamoRun}-${count}a-${batchTimeoutMs}`;
}

export const ZONES = ["us-east-1a", "us-east-1b", "us-east-1c", "us-east-1d"] as const;

/**
 * The arguments of one agent of the DynamoDB target `name` (its tables and S3 prefix) in `zone`, with
 * extra agent `flags`.
 */
export async function dynamoAgentArgs(
  aws: AwsLocal,
  name: string,
  batchTimeoutMs: number,
  zone: string,
  flags: readonly string[] = [],
): Promise<string[]> {
  // Explicit ports: agents that join a DynamoDB cluster with -kafkaPort 0 were seen advertising port 0.
  const port = String(await freePort());
  return [
    "-kafkaPort",
    port,
    "-advertisedPort",
    port,
    "-ingestionBucketURL",
    `dynamodb://us-east-1/${name}-files<>${name}-chunks`,
    "-compactionBucketURL",
    `s3://${aws.bucket}?region=us-east-1&s3ForcePathStyle=true&prefix=${name}/`,
    "-batchTimeout",
    `${batchTimeoutMs}ms`,
    "-availabilityZone",
    zone,
    ...flags,
  ];
}

/** `count` agents (zones a, b, c...) of the DynamoDB target `name`; the first creates the tables. */
export async function startDynamoAgents(
  aws: AwsLocal,
  name: string,
  batchTimeoutMs: number,
  count: number,
  flags: readonly string[] = [],
): Promise<AgentProcess[]> {
  const zone = (i: number) => ZONES[i % ZONES.length]!;
  const first = await spawnAgentProcess(await dynamoAgentArgs(aws, name, batchTimeoutMs, zone(0), flags), aws.env);
  const rest = await Promise.all(
    Array.from({ length: count - 1 }, async (_, i) =>
      spawnAgentProcess(await dynamoAgentArgs(aws, name, batchTimeoutMs, zone(i + 1), flags), aws.env),
    ),
  );
  return [first, ...rest];
}

/** `count` agents (zones a, b, c...) sharing fresh tables and an S3 prefix, with extra agent `flags`. */
export async function startDynamoTarget(
  aws: AwsLocal,
  batchTimeoutMs: number,
  count: number,
  flags: readonly string[] = [],
): Promise<Target> {
  const agents = await startDynamoAgents(aws, dynamoTargetName(count, batchTimeoutMs), batchTimeoutMs, count, flags);
  return agentTarget("dynamodb", batchTimeoutMs, agents, flags, () => undefined);
}

/** A single Kafka 4.x broker (KRaft combined mode) on loopback. */
export async function startKafkaTarget(): Promise<Target> {
  const broker = await startKafkaBroker();
  const pids = findPids("kafka.Kafka", broker.dataDir);
  return {
    store: "kafka",
    agents: 1,
    batchTimeoutMs: null,
    label: "Apache Kafka 4.1.1, 1 broker (KRaft)",
    bootstrap: broker.bootstrap,
    pids: () => pids,
    metrics: async () => "",
    stop: () => broker.stop(),
  };
}
