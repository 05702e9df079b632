/**
 * KIP-848 consumer groups on three agents sharing DynamoDB Local: Java 4.1 consumers with
 * group.protocol=consumer bootstrapped with all three agents find the group's coordinator with
 * FindCoordinator and run the join-and-leave scenario of consumer-group-protocol.test.ts (members
 * joining and leaving over 12 partitions while kafkajs produces): everything consumed, no partition
 * held twice, commits never going back, committed offsets visible through every agent.
 */
import assert from "node:assert/strict";
import { ensureKafkaTools } from "../../../e2e/support/kafka-tools.js";
import type { RunningCommand } from "../../../e2e/support/processes.js";
import type { TestAgent } from "../support/agents.js";
import { startDynamoDbAgents, type DynamoDbAgents } from "../support/dynamodb-agents.js";
import { joinAndLeave, kafkaClient } from "../support/group-consumers.js";

describe("KIP-848 consumer groups on three agents sharing DynamoDB Local", function () {
  this.timeout(900_000);
  let cluster: DynamoDbAgents;
  let agents: readonly TestAgent[] = [];
  const running: RunningCommand[] = [];

  before(async () => {
    await ensureKafkaTools();
    cluster = await startDynamoDbAgents("kip848", 3);
    agents = cluster.agents;
  });

  after(async () => {
    for (const c of running) c.kill();
    await cluster?.stop();
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
