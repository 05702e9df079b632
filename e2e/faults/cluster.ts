/**
 * A cluster for fault tests: DynamoDB Local and the S3 server, and agent processes each reaching the
 * stores through its own pair of fault proxies (one for DynamoDB, one for S3), so faults can hit one
 * agent (a partition) or all of them (throttling).
 */
import { CreateBucketCommand, S3Client } from "@aws-sdk/client-s3";
import { Kafka, logLevel } from "kafkajs";
import { spawnAgentProcess } from "../../agent/test/support/agents.js";
import type { AgentProcess } from "../../agent/test/support/agents.js";
import { LOCAL_AWS, startDynamoDbLocal } from "../support/dynamodb-local.js";
import type { DynamoDbLocal, DynamoDbLocalOptions } from "../support/dynamodb-local.js";
import { eventually } from "../support/eventually.js";
import { startFaultProxy } from "../support/fault-proxy.js";
import type { FaultCounts, FaultProxy, FaultRule, PartitionMode } from "../support/fault-proxy.js";
import { startS3Server } from "../support/s3-server.js";
import type { S3Server } from "../support/s3-server.js";

export const ZONES = ["us-east-1a", "us-east-1b", "us-east-1c"] as const;

export interface ClusterOptions {
  readonly agents: number;
  readonly seed: number;
  /** A name for the tables and bucket (unique per test file). */
  readonly name: string;
  readonly dynamo?: DynamoDbLocalOptions;
  /** Extra agent flags. */
  readonly flags?: readonly string[];
}

export interface AgentSlot {
  readonly index: number;
  readonly zone: string;
  readonly dynamoProxy: FaultProxy;
  readonly s3Proxy: FaultProxy;
  /** The running process (replaced by restart()). */
  process: AgentProcess | null;
  /** Output of the slot's earlier (killed) processes. */
  pastOutput: string;
}

export interface FaultCluster {
  readonly ddb: DynamoDbLocal;
  readonly s3: S3Server;
  readonly slots: readonly AgentSlot[];
  bootstrap(): string[];
  /** Applies rules to every proxy of the given service(s) (all agents). */
  setRules(service: "dynamodb" | "s3" | "both", rules: readonly FaultRule[]): void;
  partition(index: number, mode: PartitionMode): void;
  heal(index: number): void;
  /** Sums the proxies' counters. */
  counts(): { dynamodb: FaultCounts; s3: FaultCounts };
  /** Starts agent `index` and waits until every running agent lists every running agent. */
  start(index: number, env?: Record<string, string>): Promise<AgentProcess>;
  kill(index: number): Promise<void>;
  /** Every agent's output (for failure messages), last `chars` characters each. */
  logs(chars?: number): string;
  stop(): Promise<void>;
}

/** How the slot's process ended though the test did not kill it ("code 1", "SIGSEGV"), or null. */
export function exitedUnasked(slot: AgentSlot): string | null {
  const p = slot.process;
  if (!p) return null;
  const { exitCode, signalCode } = p.child;
  if (exitCode === null && signalCode === null) return null;
  return signalCode ?? `code ${exitCode}`;
}

/** "127.0.0.1:PORT", "not running", or how a process the test did not kill ended. */
function describeSlot(slot: AgentSlot): string {
  if (!slot.process) return "not running";
  const exited = exitedUnasked(slot);
  return exited === null ? slot.process.bootstrap : `${slot.process.bootstrap}, exited unasked: ${exited}`;
}

function sumCounts(list: readonly FaultCounts[]): FaultCounts {
  const out = { ...list[0]! };
  for (const c of list.slice(1)) for (const k of Object.keys(out) as Array<keyof FaultCounts>) out[k] += c[k];
  return out;
}

/**
 * An agent advertises port 0 until its first heartbeat after binding (port 0 in tests): wait until each
 * running agent's metadata lists every running agent at its real port.
 */
async function waitForMembers(slots: readonly AgentSlot[], timeoutMs: number): Promise<void> {
  await eventually(
    async () => {
      const running = slots.filter((s) => s.process).map((s) => s.process!.port);
      for (const port of running) {
        const admin = new Kafka({
          clientId: "faults-members",
          brokers: [`127.0.0.1:${port}`],
          logLevel: logLevel.NOTHING,
          retry: { retries: 0 },
        }).admin();
        let seen: number[];
        try {
          await admin.connect();
          seen = (await admin.describeCluster()).brokers.map((b) => b.port);
        } catch (err) {
          throw new Error(`agent :${port}: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
        } finally {
          await admin.disconnect().catch(() => undefined);
        }
        if (!running.every((p) => seen.includes(p)) || seen.includes(0))
          throw new Error(`agent :${port} lists ${seen.join(",")}`);
      }
      return true;
    },
    { what: "the agents to see each other", timeoutMs, intervalMs: 200 },
  );
}

export async function startFaultCluster(options: ClusterOptions): Promise<FaultCluster> {
  const ddb = await startDynamoDbLocal(options.dynamo);
  let s3: S3Server | undefined;
  const slots: AgentSlot[] = [];
  const stopAll = async (): Promise<void> => {
    for (const slot of slots) {
      await slot.process?.kill("SIGKILL");
      await slot.dynamoProxy.close();
      await slot.s3Proxy.close();
    }
    await s3?.stop();
    await ddb.stop();
  };
  try {
    s3 = await startS3Server();
    const bucket = `warp-${options.name}`;
    const client = new S3Client({ ...LOCAL_AWS, endpoint: s3.endpoint, forcePathStyle: true });
    try {
      await client.send(new CreateBucketCommand({ Bucket: bucket }));
    } finally {
      client.destroy();
    }
    for (let i = 0; i < options.agents; i++) {
      slots.push({
        index: i,
        zone: ZONES[i % ZONES.length]!,
        dynamoProxy: await startFaultProxy({
          service: "dynamodb",
          upstream: ddb.endpoint,
          seed: options.seed * 31 + i,
        }),
        s3Proxy: await startFaultProxy({ service: "s3", upstream: s3.endpoint, seed: options.seed * 37 + i }),
        process: null,
        pastOutput: "",
      });
    }
    const server = s3;
    const args = (slot: AgentSlot): string[] => [
      "-ingestionBucketURL",
      `dynamodb://us-east-1/${options.name}-files<>${options.name}-chunks`,
      "-compactionBucketURL",
      `s3://${bucket}?region=us-east-1&s3ForcePathStyle=true`,
      "-batchTimeout",
      "50ms",
      "-availabilityZone",
      slot.zone,
      "-ingestionTTL",
      "10m",
      "-compactionInterval",
      "1s",
      // Every pass compacts what it finds (by default it waits for 4 MiB or 30 s): the faults meet compaction.
      "-compactionMinBytes",
      "0",
      ...(options.flags ?? []),
    ];
    const cluster: FaultCluster = {
      ddb,
      s3: server,
      slots,
      bootstrap: () => slots.filter((s) => s.process).map((s) => s.process!.bootstrap),
      setRules: (service, rules) => {
        for (const s of slots) {
          if (service !== "s3") s.dynamoProxy.setRules(rules);
          if (service !== "dynamodb") s.s3Proxy.setRules(rules);
        }
      },
      partition: (i, mode) => {
        slots[i]!.dynamoProxy.partition(mode);
        slots[i]!.s3Proxy.partition(mode);
      },
      heal: (i) => {
        slots[i]!.dynamoProxy.heal();
        slots[i]!.s3Proxy.heal();
      },
      counts: () => ({
        dynamodb: sumCounts(slots.map((s) => s.dynamoProxy.counts())),
        s3: sumCounts(slots.map((s) => s.s3Proxy.counts())),
      }),
      start: async (i, env = {}) => {
        const slot = slots[i]!;
        slot.process = await spawnAgentProcess(args(slot), {
          ...env,
          AWS_REGION: "us-east-1",
          AWS_ACCESS_KEY_ID: LOCAL_AWS.credentials.accessKeyId,
          AWS_SECRET_ACCESS_KEY: LOCAL_AWS.credentials.secretAccessKey,
          AWS_ENDPOINT_URL_DYNAMODB: slot.dynamoProxy.endpoint,
          AWS_ENDPOINT_URL_S3: slot.s3Proxy.endpoint,
        });
        await waitForMembers(slots, 120_000);
        return slot.process;
      },
      kill: async (i) => {
        const slot = slots[i]!;
        await slot.process?.kill("SIGKILL");
        if (slot.process) slot.pastOutput += `${slot.process.output()}\n[killed with SIGKILL]\n`;
        slot.process = null;
      },
      logs: (chars = 3000) =>
        slots
          .map(
            (s) =>
              `--- agent ${s.index} (${describeSlot(s)})\n${(s.pastOutput + (s.process?.output() ?? "")).slice(-chars)}`,
          )
          .join("\n"),
      stop: stopAll,
    };
    return cluster;
  } catch (err) {
    await stopAll();
    throw err;
  }
}
