/**
 * A consumer group through a rolling restart: three agents on DynamoDB Local + the S3 server, idempotent
 * producers writing, four kafkajs consumers in one group reading the topic, and each agent in turn killed
 * with SIGKILL and started again. Every agent picks a group's coordinator from its own view of the
 * cluster, and the views disagree for a moment at each change, so the group's coordinator moves (and for
 * a moment may be two agents); the coordinator epoch in the metadata log fences the older one.
 *
 * Afterwards: every acknowledged record was consumed by the group at least once, the committed offsets
 * (sampled through an admin client all along) never went backwards, and no partition was given to two
 * members of one generation (the assignments each member received, by generation). The topic itself reads
 * back clean.
 */
import assert from "node:assert/strict";
import { checkHistory, describeResult } from "../support/checker.js";
import { doubleAssignments, startConsumerGroup, startOffsetSampler } from "./consumer-group.js";
import type { ConsumerGroupRun, OffsetSampler } from "./consumer-group.js";
import type { FaultCluster } from "./cluster.js";
import { faultSuite } from "./fixture.js";
import { SCALE } from "./run.js";

const TOPIC = "group-fencing";
const GROUP = "fenced-consumers";
const PARTITIONS = 8;
const MEMBERS = 4;
/** Records acknowledged, or consumed, between two events of the restart (progress, not time). */
const STEP = 60;

/** The coordinator epochs an agent's output says it claimed for the group ("coordinating group" lines). */
function claimedEpochs(output: string, groupId: string): number[] {
  const epochs: number[] = [];
  for (const line of output.split("\n")) {
    if (!line.includes('"coordinating group"')) continue;
    const entry = JSON.parse(line) as { groupId?: string; coordinatorEpoch?: number };
    if (entry.groupId === groupId && entry.coordinatorEpoch !== undefined) epochs.push(entry.coordinatorEpoch);
  }
  return epochs;
}

/** The running agent that claimed the group's latest coordinator epoch, or null. */
function coordinatingSlot(cluster: FaultCluster, groupId: string): number | null {
  let holder: { slot: number; epoch: number } | null = null;
  for (const slot of cluster.slots) {
    for (const epoch of claimedEpochs(slot.process?.output() ?? "", groupId))
      if (!holder || epoch > holder.epoch) holder = { slot: slot.index, epoch };
  }
  return holder?.slot ?? null;
}

describe("faults: a consumer group through a rolling restart of the agents", function () {
  this.timeout(600_000);
  const suite = faultSuite({ agents: 3, seed: SCALE.seed, name: "group-fencing" });

  it("skips no record, never moves committed offsets back, never gives a partition to two members of a generation", async () => {
    const { cluster } = suite;
    let group: ConsumerGroupRun | undefined;
    let sampler: OffsetSampler | undefined;
    const restarted: number[] = [];
    try {
      const history = await suite.runWorkload(
        { topic: TOPIC, partitions: PARTITIONS, producers: 2, batch: 10, maxRecordsPerProducer: 1_000_000 },
        async (workload) => {
          group = startConsumerGroup({
            brokers: () => cluster.bootstrap(),
            groupId: GROUP,
            topic: TOPIC,
            members: MEMBERS,
          });
          sampler = startOffsetSampler({
            brokers: () => cluster.bootstrap(),
            groupId: GROUP,
            topic: TOPIC,
            intervalMs: 300,
          });
          await group.waitForConsumed(STEP, 120_000);
          while (restarted.length < cluster.slots.length) {
            await workload.waitForAcked(workload.acked() + STEP, 180_000);
            // The group's coordinator goes first whenever it is among the agents still to restart.
            const pending = cluster.slots.map((s) => s.index).filter((i) => !restarted.includes(i));
            const coordinator = coordinatingSlot(cluster, GROUP);
            const victim = coordinator !== null && pending.includes(coordinator) ? coordinator : pending[0]!;
            await cluster.kill(victim);
            // The survivors take over the producers and the group while the agent is down.
            await workload.waitForAcked(workload.acked() + STEP, 180_000);
            await cluster.start(victim);
            restarted.push(victim);
            await group.waitForConsumed(group.consumed.length + STEP, 180_000);
          }
          await workload.waitForAcked(workload.acked() + STEP, 180_000);
        },
      );
      const consumers = group!;
      await consumers
        .waitForValues(
          history.acked.map((a) => a.value),
          180_000,
        )
        .catch(() => undefined); // what is still missing then is reported by the checker below
      const backwards = await sampler!.stop();
      const rounds = sampler!.rounds();
      sampler = undefined;

      const consumedByGroup = checkHistory({
        acked: history.acked,
        indeterminate: history.indeterminate,
        consumed: consumers.consumed,
        idempotent: true,
      });
      const doubles = doubleAssignments(consumers.assignments);
      const generations = new Set(consumers.assignments.map((a) => a.generationId));
      const epochs = cluster.slots.flatMap((slot) =>
        claimedEpochs(slot.pastOutput + (slot.process?.output() ?? ""), GROUP),
      );
      const verdict = await suite.check(TOPIC, history);
      suite.report(verdict, {
        detail:
          `restarted agents ${restarted.join(",")}; group: ${epochs.length} coordinator epochs claimed, ` +
          `${consumers.consumed.length} records consumed, ` +
          `${generations.size} generations (${consumers.assignments.length} assignments received), ` +
          `${rounds} offset samples, ${consumers.replaced.length} consumers replaced`,
        fault: `rolling SIGKILL + restart of agents ${restarted.join(",")} under a ${MEMBERS}-member group`,
        load: `3 agents, 2 idempotent producers, ${PARTITIONS} partitions, ${MEMBERS} kafkajs consumers`,
      });
      const context = () => `${describeResult(consumedByGroup)}\n${cluster.logs()}`;
      assert.equal(consumedByGroup.lost.length, 0, `acknowledged records the group never consumed: ${context()}`);
      assert.equal(consumedByGroup.gaps.length, 0, `offsets the group skipped: ${context()}`);
      assert.deepEqual(backwards, [], `committed offsets moved back: ${context()}`);
      assert.deepEqual(doubles, [], `partitions given to two members of one generation: ${context()}`);
      suite.assertClean(verdict);
      assert.equal(restarted.length, 3, "every agent was restarted");
      assert.ok(rounds > 0, "the committed offsets were sampled");
      assert.ok(generations.size > 1, "the group rebalanced through the restarts");
    } finally {
      await sampler?.stop();
      await group?.stop();
    }
  });
});
