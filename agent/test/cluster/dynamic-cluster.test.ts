import assert from "node:assert/strict";
import { DynamicCluster, rendezvousPick } from "../../src/cluster/dynamic-cluster.js";
import type { MembershipSource } from "../../src/cluster/dynamic-cluster.js";
import type { AgentInfo } from "../../src/cluster/types.js";
import { metadataPartitions } from "../../src/handlers/metadata-partitions.js";

/** A fixed membership (no store): the rendezvous properties do not depend on how members are found. */
class FixedMembers implements MembershipSource {
  private listeners = new Set<(agents: readonly AgentInfo[]) => void>();
  constructor(
    readonly self: AgentInfo,
    private agents: AgentInfo[],
  ) {}
  liveAgents(): readonly AgentInfo[] {
    return this.agents;
  }
  onChange(listener: (agents: readonly AgentInfo[]) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
  set(agents: AgentInfo[]): void {
    this.agents = agents;
    for (const l of this.listeners) l(agents);
  }
}

const agent = (nodeId: number, zone: string | null): AgentInfo => ({ nodeId, host: `h${nodeId}`, port: 9092, zone });
const zones = ["us-east-1a", "us-east-1b", "us-east-1c"];
const nine = Array.from({ length: 9 }, (_, i) => agent(i + 1, zones[i % 3]!));
const partitions = Array.from({ length: 600 }, (_, i) => ({ topic: `topic-${i % 7}`, partition: i }));

function leaders(view: DynamicCluster, zone: string | null): number[] {
  return partitions.map((p) => view.leaderFor(p.topic, p.partition, zone).nodeId);
}

describe("dynamic cluster (rendezvous hashing)", () => {
  it("gives the same leaders and coordinators on every agent that sees the same members", () => {
    const views = nine.map((self) => new DynamicCluster("c", new FixedMembers(self, [...nine].reverse())));
    for (const zone of [null, ...zones, "elsewhere"]) {
      const first = leaders(views[0]!, zone).join();
      for (const v of views) assert.equal(leaders(v, zone).join(), first, `zone ${zone}`);
    }
    const groups = Array.from({ length: 200 }, (_, i) => `g${i}`);
    const coordinators = groups.map((g) => views[0]!.coordinatorFor(g).nodeId).join();
    for (const v of views) assert.equal(groups.map((g) => v.coordinatorFor(g).nodeId).join(), coordinators);
    assert.deepEqual(
      views[4]!.liveAgents().map((a) => a.nodeId),
      [1, 2, 3, 4, 5, 6, 7, 8, 9],
      "sorted by node id",
    );
  });

  it("spreads leadership over a zone's agents only, and over everyone for unknown or no zones", () => {
    const view = new DynamicCluster("c", new FixedMembers(nine[0]!, nine));
    for (const zone of zones) {
      const inZone = new Set(nine.filter((a) => a.zone === zone).map((a) => a.nodeId));
      const got = leaders(view, zone);
      assert.ok(
        got.every((id) => inZone.has(id)),
        `leaders for ${zone} are in ${zone}`,
      );
      assert.deepEqual(new Set(got), inZone, "every agent of the zone leads some partitions");
    }
    assert.deepEqual(new Set(leaders(view, null)), new Set(nine.map((a) => a.nodeId)));
    assert.deepEqual(view.agentsForZone("nowhere"), view.liveAgents());
    assert.deepEqual(
      new Set(partitions.map((p) => view.coordinatorFor(`${p.topic}-${p.partition}`).nodeId)),
      new Set(nine.map((a) => a.nodeId)),
    );
  });

  it("moves only the departed agent's keys when it leaves, and only keys to a newcomer when one joins", () => {
    const members = new FixedMembers(nine[0]!, nine);
    const view = new DynamicCluster("c", members);
    const changes: number[] = [];
    view.onMembershipChange((list) => changes.push(list.length));
    const before = leaders(view, null);
    const groupsBefore = partitions.map((p) => view.coordinatorFor(p.topic + p.partition).nodeId);

    members.set(nine.filter((a) => a.nodeId !== 5));
    assert.deepEqual(changes, [8]);
    const after = leaders(view, null);
    const groupsAfter = partitions.map((p) => view.coordinatorFor(p.topic + p.partition).nodeId);
    before.forEach((id, i) => {
      if (id !== 5) assert.equal(after[i], id, `partition ${i} kept its leader`);
      else assert.notEqual(after[i], 5);
    });
    groupsBefore.forEach((id, i) => {
      if (id !== 5) assert.equal(groupsAfter[i], id);
    });

    members.set([...nine, agent(10, zones[0]!)]);
    const withNew = leaders(view, null);
    before.forEach((id, i) =>
      assert.ok(withNew[i] === id || withNew[i] === 10, `partition ${i} moved only to the newcomer`),
    );
    assert.ok(withNew.includes(10), "the newcomer leads some partitions");
  });

  it("always lists itself, even before its own heartbeat is visible", () => {
    const view = new DynamicCluster("c", new FixedMembers(agent(42, "z"), [agent(1, "z")]));
    assert.deepEqual(
      view.liveAgents().map((a) => a.nodeId),
      [1, 42],
    );
    assert.equal(rendezvousPick("k", [agent(3, null)]).nodeId, 3);
    assert.throws(() => rendezvousPick("k", []));
  });

  it("leaves out another agent until it advertises the port it listens on (port 0: not bound yet)", () => {
    const members = new FixedMembers(agent(1, "z"), [agent(1, "z"), { ...agent(2, "z"), port: 0 }]);
    const view = new DynamicCluster("c", members);
    assert.deepEqual(
      view.liveAgents().map((a) => a.nodeId),
      [1],
    );
    assert.equal(view.coordinatorFor("g").nodeId, 1, "no coordinator nobody can reach");
    members.set([agent(1, "z"), agent(2, "z")]);
    assert.deepEqual(
      view.liveAgents().map((a) => a.nodeId),
      [1, 2],
    );
    // Itself is listed whatever its port (it is the one answering).
    const starting = new DynamicCluster("c", new FixedMembers({ ...agent(3, null), port: 0 }, [agent(1, null)]));
    assert.deepEqual(
      starting.liveAgents().map((a) => a.nodeId),
      [1, 3],
    );
  });
  it("Metadata's partition entries are built once per agent list, and again when members or partitions change", () => {
    const members = new FixedMembers(nine[0]!, nine.slice(0, 6));
    const view = new DynamicCluster("c", members);
    const entries = (topic: string, count: number, zone: string | null) =>
      metadataPartitions(view, topic, count, zone, 7);
    const check = (topic: string, count: number, zone: string | null) => {
      const got = entries(topic, count, zone);
      assert.equal(got.length, count);
      got.forEach((p, i) => {
        const leader = view.leaderFor(topic, i, zone).nodeId;
        assert.deepEqual(
          [p.partitionIndex, p.leaderId, p.leaderEpoch, [...p.replicaNodes], [...p.isrNodes], p.errorCode],
          [i, leader, -1, [leader], [leader], 0],
        );
      });
      return got;
    };
    const first = check("topic-1", 40, "us-east-1a");
    assert.equal(entries("topic-1", 40, "us-east-1a"), first, "the same entries while nothing changed");
    assert.notEqual(check("topic-1", 40, "us-east-1b"), first, "another zone's agents lead there");
    const grown = check("topic-1", 60, "us-east-1a");
    assert.notEqual(grown, first, "partitions were added");
    members.set(nine); // three more agents: some partitions move to them
    const moved = check("topic-1", 60, "us-east-1a");
    assert.notEqual(moved, grown);
    assert.ok(
      moved.some((p, i) => p.leaderId !== grown[i]!.leaderId),
      "some partitions are led by the agents that joined",
    );
    check("topic-1", 60, null);
  });
});
