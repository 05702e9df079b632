/**
 * The "range" server-side assignor (group.remote.assignor=range): for each topic, the members subscribed
 * to it, in group-instance-id order (member id for dynamic members, as the classic RangeAssignor orders
 * them since KIP-345), each get one contiguous range of its partitions, the first `partitions % members`
 * one partition more. Members subscribed to the same topics with the same partition counts therefore get
 * the same partition numbers of each topic (co-partitioning), which is what range is chosen for.
 *
 * Unlike Kafka's server-side range assignor this one is not sticky: it depends only on the members and
 * the topics, so a member joining or leaving can move more partitions than strictly needed (each still
 * goes through revocation before it is reassigned).
 */
import type { Assignment, AssignmentSpec, Assignor } from "./types.js";

export const rangeAssignor: Assignor = {
  name: "range",
  assign(spec: AssignmentSpec): Map<string, Assignment> {
    const result = new Map<string, Map<string, Set<number>>>();
    for (const m of spec.members) result.set(m.memberId, new Map());
    const order = (m: { readonly memberId: string; readonly instanceId: string | null }) => m.instanceId ?? m.memberId;
    for (const topic of spec.topics.values()) {
      const members = spec.members
        .filter((m) => m.topicIds.has(topic.id))
        .sort((a, b) => (order(a) < order(b) ? -1 : order(a) > order(b) ? 1 : 0));
      if (members.length === 0) continue;
      const each = Math.floor(topic.partitions / members.length);
      const extra = topic.partitions % members.length;
      members.forEach((m, i) => {
        const start = i * each + Math.min(i, extra);
        const length = each + (i < extra ? 1 : 0);
        if (length === 0) return;
        const set = new Set<number>();
        for (let p = start; p < start + length; p++) set.add(p);
        result.get(m.memberId)!.set(topic.id, set);
      });
    }
    return result;
  },
};
