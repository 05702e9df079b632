/**
 * The KIP-848 server-side assignors as pure functions: uniform's balance and stickiness with identical
 * and different subscriptions, range's contiguous per-topic ranges in instance-id order.
 */
import assert from "node:assert/strict";
import { rangeAssignor } from "../../src/groups/assignors/range.js";
import type { AssignableTopic, AssignmentSpec, AssignorMember } from "../../src/groups/assignors/types.js";
import { uniformAssignor } from "../../src/groups/assignors/uniform.js";
import { assignmentText, partitionCount, type Assignment } from "../../src/groups/partitions.js";

const T1: AssignableTopic = { id: "11".repeat(16), name: "t1", partitions: 12 };
const T2: AssignableTopic = { id: "22".repeat(16), name: "t2", partitions: 3 };
const topics = (...ts: AssignableTopic[]) => new Map(ts.map((t) => [t.id, t]));
const member = (memberId: string, ts: AssignableTopic[], instanceId: string | null = null): AssignorMember => ({
  memberId,
  instanceId,
  topicIds: new Set(ts.map((t) => t.id)),
});
const name = (id: string) => (id === T1.id ? "t1" : id === T2.id ? "t2" : id);

/** Every partition of the topics goes to exactly one member subscribed to its topic. */
function assertComplete(spec: AssignmentSpec, result: ReadonlyMap<string, Assignment>): void {
  const seen = new Map<string, string>();
  for (const [memberId, a] of result)
    for (const [topicId, set] of a) {
      const m = spec.members.find((x) => x.memberId === memberId)!;
      assert.ok(m.topicIds.has(topicId), `${memberId} got ${topicId} it does not subscribe to`);
      for (const p of set) {
        const k = `${spec.topics.get(topicId)!.name}-${p}`;
        assert.equal(seen.get(k), undefined, `${k} given twice`);
        seen.set(k, memberId);
      }
    }
  for (const t of spec.topics.values())
    if (spec.members.some((m) => m.topicIds.has(t.id)))
      for (let p = 0; p < t.partitions; p++) assert.ok(seen.has(`${t.name}-${p}`), `${t.name}-${p} unassigned`);
}

describe("uniform assignor", () => {
  it("gives four members with the same subscription three of twelve partitions each", () => {
    const spec: AssignmentSpec = {
      members: ["a", "b", "c", "d"].map((id) => member(id, [T1])),
      topics: topics(T1),
      previous: new Map(),
    };
    const result = uniformAssignor.assign(spec);
    assertComplete(spec, result);
    for (const id of ["a", "b", "c", "d"]) assert.equal(partitionCount(result.get(id)!), 3);
  });

  it("keeps partitions where they were: a fifth member takes only what balance needs", () => {
    const four: AssignmentSpec = {
      members: ["a", "b", "c", "d"].map((id) => member(id, [T1])),
      topics: topics(T1),
      previous: new Map(),
    };
    const before = uniformAssignor.assign(four);
    const five: AssignmentSpec = { ...four, members: [...four.members, member("e", [T1])], previous: before };
    const after = uniformAssignor.assign(five);
    assertComplete(five, after);
    const counts = ["a", "b", "c", "d", "e"].map((id) => partitionCount(after.get(id)!));
    assert.ok(Math.max(...counts) - Math.min(...counts) <= 1, `balanced: ${counts.join(",")}`);
    let moved = 0;
    for (const id of ["a", "b", "c", "d"])
      for (const [t, set] of before.get(id)!) for (const p of set) if (!after.get(id)!.get(t)?.has(p)) moved++;
    assert.equal(moved, 2, "12 partitions over 5 members: only 2 move to the new member");
  });

  it("gives a partition only to members subscribed to its topic, balancing what it can", () => {
    const spec: AssignmentSpec = {
      members: [member("a", [T1]), member("b", [T1, T2]), member("c", [T2])],
      topics: topics(T1, T2),
      previous: new Map(),
    };
    const result = uniformAssignor.assign(spec);
    assertComplete(spec, result);
    assert.equal(partitionCount(result.get("c")!), 3, "c takes all of t2");
    assert.equal(partitionCount(result.get("a")!), 6);
    assert.equal(partitionCount(result.get("b")!), 6);
  });

  it("drops previous partitions of topics a member no longer subscribes to, or that are gone", () => {
    const spec: AssignmentSpec = {
      members: [member("a", [T2])],
      topics: topics(T2),
      previous: new Map([
        [
          "a",
          new Map([
            [T1.id, new Set([0, 1])],
            [T2.id, new Set([0, 7])],
          ]),
        ],
      ]),
    };
    const result = uniformAssignor.assign(spec);
    assert.equal(assignmentText(result.get("a")!, name), "t2-0,t2-1,t2-2");
  });

  it("balances a large group within one partition, and a member joining moves only its share", () => {
    const big: AssignableTopic = { id: "33".repeat(16), name: "big", partitions: 1000 };
    const members = Array.from({ length: 60 }, (_, i) => member(`m${String(i).padStart(2, "0")}`, [big]));
    const spec: AssignmentSpec = { members, topics: topics(big), previous: new Map() };
    const before = uniformAssignor.assign(spec);
    assertComplete(spec, before);
    const counts = (r: Map<string, Assignment>) => [...r.values()].map(partitionCount);
    assert.ok(Math.max(...counts(before)) - Math.min(...counts(before)) <= 1);
    const grown: AssignmentSpec = { ...spec, members: [...members, member("new", [big])], previous: before };
    const after = uniformAssignor.assign(grown);
    assertComplete(grown, after);
    assert.ok(Math.max(...counts(after)) - Math.min(...counts(after)) <= 1);
    assert.equal(partitionCount(after.get("new")!), Math.floor(1000 / 61));
  });

  it("is deterministic", () => {
    const spec: AssignmentSpec = {
      members: ["x", "y", "z"].map((id) => member(id, [T1, T2])),
      topics: topics(T1, T2),
      previous: new Map(),
    };
    const texts = (r: Map<string, Assignment>) => [...r].map(([id, a]) => `${id}:${assignmentText(a)}`).join(" ");
    assert.equal(texts(uniformAssignor.assign(spec)), texts(uniformAssignor.assign(spec)));
  });
});

describe("range assignor", () => {
  it("gives each member one contiguous range per topic, the first ones one more, in instance-id order", () => {
    const spec: AssignmentSpec = {
      members: [member("m1", [T1, T2], "i-b"), member("m2", [T1, T2], "i-a"), member("m3", [T1, T2], "i-c")],
      topics: topics({ ...T1, partitions: 7 }, T2),
      previous: new Map(),
    };
    const result = rangeAssignor.assign(spec);
    assertComplete(spec, result);
    assert.equal(assignmentText(result.get("m2")!, name), "t1-0,t1-1,t1-2,t2-0");
    assert.equal(assignmentText(result.get("m1")!, name), "t1-3,t1-4,t2-1");
    assert.equal(assignmentText(result.get("m3")!, name), "t1-5,t1-6,t2-2");
  });

  it("leaves members of other topics out of a topic's ranges", () => {
    const spec: AssignmentSpec = {
      members: [member("a", [T1]), member("b", [T2])],
      topics: topics(T1, T2),
      previous: new Map(),
    };
    const result = rangeAssignor.assign(spec);
    assertComplete(spec, result);
    assert.equal(partitionCount(result.get("a")!), 12);
    assert.equal(partitionCount(result.get("b")!), 3);
  });
});
