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
   * for unknown ones.
   */
  async deleteGroups(groupIds: readonly string[]): Promise<DeleteGroupResult[]> {
    const results: DeleteGroupResult[] = [];
    for (const groupId of groupIds) {
      if (this.membership.isClosed) {
        results.push({ groupId, errorCode: GroupError.COORDINATOR_NOT_AVAILABLE });
        continue;
      }
      const group = this.membership.group(groupId);
      const hasOffsets = this.offsets.committed(groupId).size > 0 || this.offsets.groupsWithOffsets().includes(groupId);
      if (group && !group.is("Empty") && !group.is("Dead")) {
        results.push({ groupId, errorCode: GroupError.NON_EMPTY_GROUP });
        continue;
      }
      if (!group && !hasOffsets) {
        results.push({ groupId, errorCode: GroupError.GROUP_ID_NOT_FOUND });
        continue;
      }
      if (group) this.membership.dropGroup(group);
      try {
        if (hasOffsets) await this.offsets.deleteGroup(groupId);
        this.log.info("group deleted", { groupId });
        results.push({ groupId, errorCode: GroupError.NONE });
      } catch (err) {
        this.log.warn("group deletion failed", { groupId, error: errorMessage(err) });
        results.push({ groupId, errorCode: GroupError.COORDINATOR_NOT_AVAILABLE });
      }
    }
    return results;
  }

  /** The state of a group as DescribeGroups would report it. */
  groupState(groupId: string): GroupState {
    return this.describeGroup(groupId).state;
  }
}
