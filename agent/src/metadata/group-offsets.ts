/**
 * Committed consumer-group offsets and coordinator fences, durable in the metadata log (the
 * GroupOffsetStore of the group coordinator; the fold's rules are in group-fence.ts).
 */
import type { ConsumerGroupRecord } from "../groups/consumer-group-record.js";
import type { CommittedOffset, GroupClaim, GroupOffsetStore, GroupWriteFence } from "../groups/offset-store.js";
import type { Command } from "./commands.js";
import { ENTRY_FORMAT } from "./commands.js";
import type { MetadataLog } from "./log.js";
import type { CommandResult } from "./state.js";
import { FormatNotReadByAllError } from "./proposal.js";
import { ErrorCode } from "../protocol/index.js";

export class LogGroupOffsetStore implements GroupOffsetStore {
  constructor(private readonly log: MetadataLog) {}

  private async proposeOne(command: Command): Promise<CommandResult> {
    const [result] = await this.log.propose([command]);
    if (!result) throw new Error(`metadata log returned no result for ${command.type}`);
    return result;
  }

  async commit(groupId: string, offsets: readonly CommittedOffset[], fence: GroupWriteFence): Promise<number> {
    const entries = offsets.map((o) => ({
      topic: o.topic,
      partition: o.partition,
      offset: Number(o.offset),
      leaderEpoch: o.leaderEpoch,
      metadata: o.metadata,
      time: Number(o.commitTimestamp),
    }));
    const { coordinatorEpoch, generationId, transaction } = fence;
    const result = await this.proposeOne(
      transaction
        ? { type: "txnOffsetCommit", ...transaction, group: groupId, offsets: entries, coordinatorEpoch, generationId }
        : { type: "commitOffsets", group: groupId, offsets: entries, coordinatorEpoch, generationId },
    );
    return result.errorCode;
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

  pendingTransactionalOffsets(groupId: string): ReadonlySet<string> {
    const held = new Set<string>();
    for (const offsets of this.log.state.transactions.pendingFor(groupId).values())
      for (const key of offsets.keys()) held.add(key);
    return held;
  }

  groupsWithOffsets(): readonly string[] {
    return [...this.log.state.groupOffsets.keys()].sort();
  }

  async deleteGroup(groupId: string, coordinatorEpoch: number): Promise<number> {
    // Fenced only once every live agent reads fenced deletions (an older one would stop at the entry).
    const fenced = this.log.readersFormat() >= ENTRY_FORMAT.fencedGroupDeletion;
    const result = await this.proposeOne({
      type: "deleteGroup",
      group: groupId,
      ...(fenced ? { coordinatorEpoch } : {}),
    });
    // GROUP_ID_NOT_FOUND: its offsets were gone already, which is what was asked.
    return result.errorCode === ErrorCode.NOT_COORDINATOR ? ErrorCode.NOT_COORDINATOR : ErrorCode.NONE;
  }

  async deleteOffsets(
    groupId: string,
    partitions: readonly { readonly topic: string; readonly partition: number }[],
    coordinatorEpoch: number,
  ): Promise<number> {
    try {
      const result = await this.proposeOne({
        type: "deleteOffsets",
        group: groupId,
        coordinatorEpoch,
        partitions: partitions.map((p) => ({ topic: p.topic, partition: p.partition })),
      });
      return result.errorCode;
    } catch (err) {
      // An agent of a release before OffsetDelete is live: not retriable until it is upgraded.
      if (err instanceof FormatNotReadByAllError) return ErrorCode.UNSUPPORTED_VERSION;
      throw err;
    }
  }

  async claimGroup(groupId: string, coordinator: string): Promise<GroupClaim> {
    const result = await this.proposeOne({ type: "coordinateGroup", group: groupId, coordinator });
    if (result.coordinatorEpoch === undefined || result.generationId === undefined)
      throw new Error(`claiming group ${groupId} failed with error ${result.errorCode}`);
    return {
      coordinatorEpoch: result.coordinatorEpoch,
      lastGenerationId: result.generationId,
      consumerGroup: result.consumerGroup ?? null,
    };
  }

  async recordConsumerGroup(
    groupId: string,
    coordinatorEpoch: number,
    state: ConsumerGroupRecord | null,
  ): Promise<number> {
    try {
      const result = await this.proposeOne({ type: "consumerGroupState", group: groupId, coordinatorEpoch, state });
      return result.errorCode;
    } catch (err) {
      // An agent of a release before durable consumer groups is live: run from memory until it is upgraded.
      if (err instanceof FormatNotReadByAllError) return ErrorCode.UNSUPPORTED_VERSION;
      throw err;
    }
  }

  hasConsumerGroupRecord(groupId: string): boolean {
    return this.log.state.consumerGroups.has(groupId);
  }

  recordedConsumerGroups(): Iterable<readonly [string, ConsumerGroupRecord]> {
    return this.log.state.consumerGroups;
  }

  async recordGeneration(groupId: string, fence: GroupWriteFence): Promise<number> {
    const result = await this.proposeOne({
      type: "groupGeneration",
      group: groupId,
      coordinatorEpoch: fence.coordinatorEpoch,
      generationId: fence.generationId,
    });
    return result.errorCode;
  }

  coordinatorEpoch(groupId: string): number {
    return this.log.state.groupFences.get(groupId)?.epoch ?? 0;
  }
}
