/**
 * The admin calls: DescribeGroups, ListGroups and DeleteGroups, over the groups in memory and the groups
 * known only by committed offsets.
 */
import { errorMessage, type Logger } from "../../../common/logger.js";
import {
  EMPTY_BYTES,
  GroupError,
  type DeleteGroupResult,
  type DescribedGroup,
  type ListedGroup,
  type ListGroupsFilter,
} from "./coordinator-io.js";
import type { GroupState } from "./group-state.js";
import type { GroupMembership } from "./membership.js";
import type { GroupOffsetStore } from "./offset-store.js";

export class GroupAdmin {
  constructor(
    private readonly offsets: GroupOffsetStore,
    private readonly membership: GroupMembership,
    private readonly log: Logger,
  ) {}

  describeGroups(groupIds: readonly string[]): DescribedGroup[] {
    return groupIds.map((groupId) => this.describeGroup(groupId));
  }

  private describeGroup(groupId: string): DescribedGroup {
    if (this.membership.isClosed)
      return {
        groupId,
        errorCode: GroupError.COORDINATOR_NOT_AVAILABLE,
        state: "Dead",
        protocolType: "",
        protocolData: "",
        members: [],
      };
    const group = this.membership.group(groupId);
    if (!group) {
      const known = this.offsets.committed(groupId).size > 0;
      return {
        groupId,
        errorCode: GroupError.NONE,
        state: known ? "Empty" : "Dead",
        protocolType: "",
        protocolData: "",
        members: [],
      };
    }
    const stable = group.is("Stable") && group.protocolName !== null;
    const protocol = group.protocolName ?? "";
    return {
      groupId,
      errorCode: GroupError.NONE,
      state: group.state,
      protocolType: group.protocolType ?? "",
      protocolData: stable ? protocol : "",
      members: [...group.members.values()].map((m) => ({
        memberId: m.memberId,
        groupInstanceId: m.groupInstanceId,
        clientId: m.clientId,
        clientHost: m.clientHost,
        metadata: stable ? m.metadataFor(protocol) : EMPTY_BYTES,
        assignment: stable ? m.assignment : EMPTY_BYTES,
      })),
    };
  }

  /** Groups this coordinator holds in memory plus groups known only by committed offsets (Empty). */
  listGroups(filter: ListGroupsFilter = {}): ListedGroup[] {
    if (this.membership.isClosed) return [];
    const states = new Set((filter.states ?? []).map((s) => s.toLowerCase()));
    const types = new Set((filter.types ?? []).map((s) => s.toLowerCase()));
    if (types.size > 0 && !types.has("classic")) return [];
    const listed = new Map<string, ListedGroup>();
    for (const groupId of this.offsets.groupsWithOffsets())
      listed.set(groupId, { groupId, protocolType: "", state: "Empty", groupType: "classic" });
    for (const group of this.membership.groupsInMemory()) {
      if (group.is("Dead")) continue;
      listed.set(group.groupId, {
        groupId: group.groupId,
        protocolType: group.protocolType ?? "",
        state: group.state,
        groupType: "classic",
      });
    }
    return [...listed.values()]
      .filter((g) => states.size === 0 || states.has(g.state.toLowerCase()))
      .sort((a, b) => (a.groupId < b.groupId ? -1 : a.groupId > b.groupId ? 1 : 0));
  }

  /**
   * Deletes Empty groups and their offsets; NON_EMPTY_GROUP for groups with members, GROUP_ID_NOT_FOUND
   * for unknown ones. A group known here only by its offsets is claimed first, and the deletion is
   * written at the coordinator epoch the group is held at: when another agent has claimed the group
   * since (its view of the cluster differed from this one's), the log refuses it and the answer is
   * NOT_COORDINATOR, so the offsets the other coordinator serves stay.
   */
  async deleteGroups(groupIds: readonly string[]): Promise<DeleteGroupResult[]> {
    const results: DeleteGroupResult[] = [];
    for (const groupId of groupIds) results.push({ groupId, errorCode: await this.deleteGroup(groupId) });
    return results;
  }

  private async deleteGroup(groupId: string): Promise<number> {
    if (this.membership.isClosed) return GroupError.COORDINATOR_NOT_AVAILABLE;
    let group = this.membership.group(groupId);
    const hasOffsets = this.offsets.committed(groupId).size > 0 || this.offsets.groupsWithOffsets().includes(groupId);
    if (!group) {
      if (!hasOffsets) return GroupError.GROUP_ID_NOT_FOUND;
      // Known only by its offsets: claim it, so that a coordinator holding it with members is fenced.
      group = await this.membership.loadGroupOrWarn(groupId);
      if (!group) return GroupError.COORDINATOR_NOT_AVAILABLE;
    }
    if (this.membership.dropIfFenced(group)) return GroupError.NOT_COORDINATOR;
    if (!group.is("Empty") && !group.is("Dead")) return GroupError.NON_EMPTY_GROUP;
    // Dropped before the deletion is written: a member joining meanwhile claims the group anew, and the
    // deletion, fenced by the epoch it was held at, is then refused.
    this.membership.dropGroup(group);
    if (!hasOffsets && this.offsets.committed(groupId).size === 0) {
      this.log.info("group deleted", { groupId });
      return GroupError.NONE;
    }
    let errorCode: number;
    try {
      errorCode = await this.offsets.deleteGroup(groupId, group.coordinatorEpoch);
    } catch (err) {
      this.log.warn("group deletion failed", { groupId, error: errorMessage(err) });
      return GroupError.COORDINATOR_NOT_AVAILABLE;
    }
    if (errorCode !== GroupError.NONE) {
      this.log.info("group deletion refused", { groupId, errorCode });
      return errorCode;
    }
    this.log.info("group deleted", { groupId });
    return GroupError.NONE;
  }

  /** The state of a group as DescribeGroups would report it. */
  groupState(groupId: string): GroupState {
    return this.describeGroup(groupId).state;
  }
}
