/**
 * The "uniform" server-side assignor (Kafka's default for KIP-848 groups): every member gets as close to
 * the same number of partitions as its subscriptions allow, and partitions stay where they were.
 *
 *   1. Keep each member's previous partitions that it still subscribes to and that still exist.
 *   2. Hand each partition left over to the least loaded member subscribed to its topic.
 *   3. While a member holds two partitions more than some member that could take one of them, move one
 *      (from the most loaded member first, so that few partitions move).
 *
 * With identical subscriptions the counts end up differing by at most one (Kafka's balance); with
 * different subscriptions a partition only ever goes to a member subscribed to its topic, and the counts
 * are balanced as far as step 3 can reach (Kafka's heterogeneous-subscription assignor balances the same
 * way, by moving partitions from the most to the least loaded member). Deterministic: ties go to the
 * member first in member-id order. Racks are ignored.
 */
import type { Assignment, AssignmentSpec, Assignor, AssignorMember } from "./types.js";

interface Owned {
  readonly member: AssignorMember;
  /** "topicId:partition" of each partition held. */
  readonly partitions: Set<string>;
}

const key = (topicId: string, partition: number): string => `${topicId}:${partition}`;

function parseKey(k: string): [string, number] {
  const i = k.lastIndexOf(":");
  return [k.slice(0, i), Number(k.slice(i + 1))];
}

export const uniformAssignor: Assignor = {
  name: "uniform",
  assign(spec: AssignmentSpec): Map<string, Assignment> {
    const owned = spec.members.map((member): Owned => ({ member, partitions: new Set() }));
    const taken = new Set<string>();
    // 1. Stickiness.
    for (const o of owned) {
      for (const [topicId, partitions] of spec.previous.get(o.member.memberId) ?? new Map<string, Set<number>>()) {
        const topic = spec.topics.get(topicId);
        if (!topic || !o.member.topicIds.has(topicId)) continue;
        for (const p of partitions) {
          const k = key(topicId, p);
          if (p < 0 || p >= topic.partitions || taken.has(k)) continue;
          taken.add(k);
          o.partitions.add(k);
        }
      }
    }
    const eligible = new Map<string, Owned[]>();
    for (const topicId of spec.topics.keys())
      eligible.set(
        topicId,
        owned.filter((o) => o.member.topicIds.has(topicId)),
      );
    const leastLoaded = (topicId: string): Owned | undefined => {
      let best: Owned | undefined;
      for (const o of eligible.get(topicId) ?? []) if (!best || o.partitions.size < best.partitions.size) best = o;
      return best;
    };
    // 2. Partitions nobody kept, topics in name order.
    const topics = [...spec.topics.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const topic of topics) {
      for (let p = 0; p < topic.partitions; p++) {
        const k = key(topic.id, p);
        if (taken.has(k)) continue;
        const to = leastLoaded(topic.id);
        if (!to) continue;
        taken.add(k);
        to.partitions.add(k);
      }
    }
    // 3. Balance, in passes over the members from the most loaded: each move lowers the sum of squared
    // counts, so the passes end; one pass usually suffices. O(partitions × members) per pass.
    for (;;) {
      let moved = false;
      for (const from of [...owned].sort((a, b) => b.partitions.size - a.partitions.size)) {
        for (const k of [...from.partitions].sort()) {
          const to = leastLoaded(parseKey(k)[0]);
          if (to && from.partitions.size > to.partitions.size + 1) {
            from.partitions.delete(k);
            to.partitions.add(k);
            moved = true;
          }
        }
      }
      if (!moved) break;
    }
    const result = new Map<string, Assignment>();
    for (const o of owned) {
      const assignment = new Map<string, Set<number>>();
      for (const k of o.partitions) {
        const [topicId, p] = parseKey(k);
        let set = assignment.get(topicId);
        if (!set) assignment.set(topicId, (set = new Set()));
        set.add(p);
      }
      result.set(o.member.memberId, assignment);
    }
    return result;
  },
};
