/**
 * Keeps KIP-848 groups durable: turns a group in memory into its record (consumer-group-record.ts) and
 * back, and writes the record through the GroupOffsetStore (the metadata log) whenever the group changed.
 *
 * A heartbeat that changed its group is answered only once a record holding the change is in the log,
 * as Kafka answers only once the group's records are committed to __consumer_offsets: whatever a member
 * was told (its epoch, its partitions) is what the next coordinator starts from. Heartbeats that change
 * nothing write nothing. Writes are serial per group and coalesce: while one is in flight, later changes
 * wait and go together in the next one, which carries the whole group as it is then.
 */
import { errorMessage, type Logger } from "../../../common/logger.js";
import {
  assignmentFromRecord,
  assignmentRecord,
  memberAssignmentFromRecord,
  type ConsumerGroupRecord,
  type ConsumerMemberRecord,
} from "./consumer-group-record.js";
import { ConsumerGroup, ConsumerMember } from "./consumer-group.js";
import { GroupError } from "./coordinator-io.js";
import type { GroupOffsetStore } from "./offset-store.js";
import type { Assignment } from "./partitions.js";

/** The record of a group as it is in memory. */
export function recordOf(group: ConsumerGroup): ConsumerGroupRecord {
  return {
    groupEpoch: group.groupEpoch,
    assignmentEpoch: group.assignmentEpoch,
    subscriptionHash: group.subscriptionSignature,
    members: [...group.members.values()].map((m): ConsumerMemberRecord => {
      const target = group.targetAssignment.get(m.memberId);
      return {
        memberId: m.memberId,
        instanceId: m.instanceId,
        rackId: m.rackId,
        clientId: m.clientId,
        clientHost: m.clientHost,
        rebalanceTimeoutMs: m.rebalanceTimeoutMs,
        serverAssignor: m.serverAssignor,
        topics: [...m.subscribedTopicNames],
        regex: m.subscribedTopicRegex,
        state: m.assignment.state,
        memberEpoch: m.assignment.memberEpoch,
        previousMemberEpoch: m.assignment.previousMemberEpoch,
        assigned: assignmentRecord(m.assignment.assigned),
        pendingRevocation: assignmentRecord(m.assignment.pendingRevocation),
        target: target ? assignmentRecord(target) : null,
        ...(m.classic
          ? {
              classic: {
                sessionTimeoutMs: m.classic.sessionTimeoutMs,
                protocols: m.classic.protocols.map(
                  (p) => [p.name, Buffer.from(p.metadata).toString("base64")] as const,
                ),
              },
            }
          : {}),
      };
    }),
  };
}

/**
 * A group held at `coordinatorEpoch` with the recorded members, epochs and assignments. Throws if the
 * record gives one partition to two members (no coordinator writes such a record).
 */
export function groupFromRecord(groupId: string, coordinatorEpoch: number, record: ConsumerGroupRecord): ConsumerGroup {
  const group = new ConsumerGroup(groupId, coordinatorEpoch);
  const target = new Map<string, Assignment>();
  for (const r of record.members) {
    const member = new ConsumerMember(r.memberId);
    member.instanceId = r.instanceId;
    member.rackId = r.rackId;
    member.clientId = r.clientId;
    member.clientHost = r.clientHost;
    member.rebalanceTimeoutMs = r.rebalanceTimeoutMs;
    member.serverAssignor = r.serverAssignor;
    member.subscribedTopicNames = [...r.topics];
    member.subscribedTopicRegex = r.regex;
    member.assignment = memberAssignmentFromRecord(r);
    if (r.classic)
      member.classic = {
        sessionTimeoutMs: r.classic.sessionTimeoutMs,
        protocols: r.classic.protocols.map(([name, metadata]) => ({ name, metadata: Buffer.from(metadata, "base64") })),
        joinTimer: null,
        syncTimer: null,
      };
    group.addMember(member);
    if (r.target !== null) target.set(r.memberId, assignmentFromRecord(r.target));
  }
  group.groupEpoch = record.groupEpoch;
  group.assignmentEpoch = record.assignmentEpoch;
  group.subscriptionSignature = record.subscriptionHash;
  group.targetAssignment = target;
  return group;
}

interface Writer {
  /** The group's changeCount the last successful record held. */
  recorded: number;
  inFlight: Promise<number> | null;
  /** The group became a classic group again (migration.ts): its record was removed; nothing more is written. */
  forgotten: boolean;
}

export class ConsumerGroupRecorder {
  private readonly writers = new WeakMap<ConsumerGroup, Writer>();
  private warnedOldAgents = false;

  constructor(
    private readonly store: GroupOffsetStore,
    private readonly log: Logger,
  ) {}

  /** Marks a group's present state as recorded (a group just restored from its record). */
  recorded(group: ConsumerGroup): void {
    this.writer(group).recorded = group.changeCount;
  }

  /**
   * Resolves once the group's state as of this call is in the log: NONE; NOT_COORDINATOR when a newer
   * coordinator epoch refused it; COORDINATOR_NOT_AVAILABLE when the log could not be written (the
   * caller drops the group, so that it is loaded again from what is recorded).
   */
  async record(group: ConsumerGroup): Promise<number> {
    const wanted = group.changeCount;
    const w = this.writer(group);
    while (w.recorded < wanted) {
      if (w.forgotten) return GroupError.NONE;
      if (group.dead) return GroupError.NOT_COORDINATOR;
      if (!w.inFlight)
        w.inFlight = this.write(group, w).finally(() => {
          w.inFlight = null;
        });
      const code = await w.inFlight;
      if (code !== GroupError.NONE) return code;
    }
    return GroupError.NONE;
  }

  /**
   * Removes the record of a group that went back to being a classic group (migration.ts downgrade), after
   * any write in flight; later changes of this group object are not recorded.
   */
  forget(group: ConsumerGroup): void {
    const w = this.writer(group);
    if (w.forgotten) return;
    w.forgotten = true;
    const previous = w.inFlight;
    w.inFlight = (async () => {
      await previous;
      try {
        return await this.store.recordConsumerGroup(group.groupId, group.coordinatorEpoch, null);
      } catch (err) {
        this.log.warn("removing the record of a consumer group turned classic failed", {
          groupId: group.groupId,
          error: errorMessage(err),
        });
        return GroupError.COORDINATOR_NOT_AVAILABLE;
      }
    })().finally(() => {
      w.inFlight = null;
    });
  }

  private writer(group: ConsumerGroup): Writer {
    let w = this.writers.get(group);
    if (!w) this.writers.set(group, (w = { recorded: 0, inFlight: null, forgotten: false }));
    return w;
  }

  private async write(group: ConsumerGroup, w: Writer): Promise<number> {
    const version = group.changeCount;
    const state = group.members.size === 0 ? null : recordOf(group);
    let code: number;
    try {
      code = await this.store.recordConsumerGroup(group.groupId, group.coordinatorEpoch, state);
    } catch (err) {
      this.log.warn("recording the consumer group failed", { groupId: group.groupId, error: errorMessage(err) });
      return GroupError.COORDINATOR_NOT_AVAILABLE;
    }
    if (code === GroupError.UNSUPPORTED_VERSION) {
      // An agent of an older release is live: the group runs from memory, as before, until it is upgraded.
      if (!this.warnedOldAgents)
        this.log.warn(
          "an agent of an older release is running: consumer groups are kept in memory only until every agent is upgraded",
        );
      this.warnedOldAgents = true;
      code = GroupError.NONE;
    }
    if (code === GroupError.NONE) w.recorded = Math.max(w.recorded, version);
    return code;
  }
}
