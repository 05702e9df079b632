/** Committed consumer-group offsets, durable in the metadata log (GroupOffsetStore for the coordinator). */
import type { CommittedOffset, GroupOffsetStore } from "../groups/offset-store.js";
import type { MetadataLog } from "./log.js";

export class LogGroupOffsetStore implements GroupOffsetStore {
  constructor(private readonly log: MetadataLog) {}

  async commit(groupId: string, offsets: readonly CommittedOffset[]): Promise<void> {
    const [result] = await this.log.propose([
      {
        type: "commitOffsets",
        group: groupId,
        offsets: offsets.map((o) => ({
          topic: o.topic,
          partition: o.partition,
          offset: Number(o.offset),
          leaderEpoch: o.leaderEpoch,
          metadata: o.metadata,
          time: Number(o.commitTimestamp),
        })),
      },
    ]);
    if (result && result.errorCode !== 0)
      throw new Error(`offset commit for group ${groupId} failed with error ${result.errorCode}`);
  }

  committed(groupId: string): ReadonlyMap<string, ReadonlyMap<number, CommittedOffset>> {
    const group = this.log.state.groupOffsets.get(groupId);
    const out = new Map<string, Map<number, CommittedOffset>>();
    if (!group) return out;
    for (const [topic, partitions] of group) {
      const m = new Map<number, CommittedOffset>();
      for (const [p, o] of partitions) {
        m.set(p, {
          topic,
          partition: p,
          offset: BigInt(o.offset),
          leaderEpoch: o.leaderEpoch,
          metadata: o.metadata,
          commitTimestamp: BigInt(o.time),
        });
      }
      out.set(topic, m);
    }
    return out;
  }

  groupsWithOffsets(): readonly string[] {
    return [...this.log.state.groupOffsets.keys()].sort();
  }

  async deleteGroup(groupId: string): Promise<void> {
    await this.log.propose([{ type: "deleteGroup", group: groupId }]);
  }
}
