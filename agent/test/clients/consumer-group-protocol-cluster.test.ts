/**
 * KIP-848 consumer groups on three agents sharing DynamoDB Local: Java 4.1 consumers with
 * group.protocol=consumer bootstrapped with all three agents find the group's coordinator with
 * FindCoordinator and run the join-and-leave scenario of consumer-group-protocol.test.ts (members
 * joining and leaving over 12 partitions while kafkajs produces): everything consumed, no partition
 * held twice, commits never going back, committed offsets visible through every agent.
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { LOCAL_AWS, startDynamoDbLocal } from "../../../e2e/support/dynamodb-local.js";
import type { DynamoDbLocal } from "../../../e2e/support/dynamodb-local.js";
import { eventually } from "../../../e2e/support/eventually.js";
import { ensureKafkaTools } from "../../../e2e/support/kafka-tools.js";
import type { RunningCommand } from "../../../e2e/support/processes.js";
import { startTestAgent } from "../support/agents.js";
import type { TestAgent } from "../support/agents.js";
import { joinAndLeave, kafkaClient, poll } from "../support/group-consumers.js";

const CREDENTIAL_ENV = ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"] as const;

describe("KIP-848 consumer groups on three agents sharing DynamoDB Local", function () {
  this.timeout(900_000);
  let ddb: DynamoDbLocal;
  const agents: TestAgent[] = [];
  const running: RunningCommand[] = [];
  const savedEnv = new Map<string, string | undefined>();

  before(async () => {
    for (const k of CREDENTIAL_ENV) savedEnv.set(k, process.env[k]);
    process.env.AWS_ACCESS_KEY_ID = LOCAL_AWS.credentials.accessKeyId;
    process.env.AWS_SECRET_ACCESS_KEY = LOCAL_AWS.credentials.secretAccessKey;
    delete process.env.AWS_SESSION_TOKEN;
    delete process.env.AWS_PROFILE;
    await ensureKafkaTools();
    ddb = await startDynamoDbLocal();
    const tables = `kip848-${randomBytes(3).toString("hex")}`;
    const flags = {
      bucketURL: `dynamodb://us-east-1/${tables}-files<>${tables}-chunks?endpoint=${encodeURIComponent(ddb.endpoint)}`,
      batchTimeout: "25ms",
      autoCreateTopics: "false",
    };
    for (let i = 0; i < 3; i++) agents.push(await startTestAgent(flags));
    await eventually(
      () => agents.every((a) => a.running.context.cluster.liveAgents().length === 3),
      poll("every agent to list all three"),
    );
  });

  after(async () => {
    for (const c of running) c.kill();
    for (const a of agents) await a.stop();
    await ddb?.stop();
    for (const [k, v] of savedEnv) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  });

  it("Java consumers join and leave over 12 partitions through three agents: nothing lost, no partition shared, commits never go back", async () => {
    const group = "kip848-cluster";
    const bootstrap = agents.map((a) => a.bootstrap).join(",");
    await joinAndLeave({ bootstrap, group, topic: "kip848-cluster-orders", running });
    // One agent coordinated the group; every agent reads its offsets from the shared log.
    const coordinators = new Set(agents.map((a) => a.running.context.cluster.coordinatorFor(group).nodeId));
    assert.equal(coordinators.size, 1, "the agents agree on the coordinator");
    for (const a of agents) {
      const admin = kafkaClient(a.bootstrap).admin();
      await admin.connect();
      const offsets = await admin.fetchOffsets({ groupId: group, topics: ["kip848-cluster-orders"] });
      await admin.disconnect();
      assert.equal(offsets[0]!.partitions.length, 12);
      assert.ok(
        offsets[0]!.partitions.every((p) => Number(p.offset) > 0),
        `offsets through ${a.bootstrap}`,
      );
    }
  });
});
