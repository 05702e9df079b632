/** In-memory GroupOffsetStore for coordinator and handler tests (the agent's real one is on the metadata log). */
import type { CommittedOffset, GroupOffsetStore } from "../../src/groups/offset-store.js";

export class MemGroupOffsetStore implements GroupOffsetStore {
  private readonly groups = new Map<string, Map<string, Map<number, CommittedOffset>>>();
  /** Test seam: when set, commit() rejects with it. */
  failCommits: Error | null = null;
  commits = 0;

  async commit(groupId: string, offsets: readonly CommittedOffset[]): Promise<void> {
    if (this.failCommits) throw this.failCommits;
    this.commits++;
    let topics = this.groups.get(groupId);
    if (!topics) this.groups.set(groupId, (topics = new Map()));
    for (const o of offsets) {
      let partitions = topics.get(o.topic);
      if (!partitions) topics.set(o.topic, (partitions = new Map()));
      partitions.set(o.partition, o);
    }
  }

  committed(groupId: string): ReadonlyMap<string, ReadonlyMap<number, CommittedOffset>> {
    return this.groups.get(groupId) ?? new Map();
  }

  groupsWithOffsets(): readonly string[] {
    return [...this.groups.keys()];
  }

  async deleteGroup(groupId: string): Promise<void> {
    this.groups.delete(groupId);
  }
}
