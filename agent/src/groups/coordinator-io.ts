/**
 * What the coordinator exchanges with the wire handlers: plain inputs and results whose fields mirror the
 * wire fields, the error codes they carry, and the error-shaped JoinGroup/SyncGroup results.
 */
import { ErrorCode } from "../protocol/error-codes.js";
import type { ConsumerGroupState } from "./consumer-group.js";
import type { GroupState } from "./group-state.js";
import type { TransactionRef } from "./offset-store.js";

/** Kafka error codes the coordinator answers with (the protocol layer's table; no copy of it here). */
export const GroupError = ErrorCode;

export interface GroupProtocol {
  readonly name: string;
  readonly metadata: Uint8Array;
}

export interface JoinGroupInput {
  readonly groupId: string;
  /** "" when joining for the first time. */
  readonly memberId: string;
  readonly groupInstanceId: string | null;
  readonly clientId: string;
  readonly clientHost: string;
  readonly sessionTimeoutMs: number;
  /** JoinGroup v0 has none: pass the session timeout. */
  readonly rebalanceTimeoutMs: number;
  readonly protocolType: string;
  readonly protocols: readonly GroupProtocol[];
  /** JoinGroup v4+ (KIP-394): a dynamic member joining with "" gets MEMBER_ID_REQUIRED and an id. */
  readonly requireKnownMemberId: boolean;
  /** JoinGroup v9+ (KIP-814): a rejoining static leader of a stable group may skip the assignment. */
  readonly supportSkippingAssignment: boolean;
  readonly reason?: string | null;
}

export interface JoinGroupMember {
  readonly memberId: string;
  readonly groupInstanceId: string | null;
  readonly metadata: Uint8Array;
}

export interface JoinGroupResult {
  readonly errorCode: number;
  /** −1 on error. */
  readonly generationId: number;
  readonly protocolType: string | null;
  readonly protocolName: string | null;
  /** "" when unknown. */
  readonly leader: string;
  readonly skipAssignment: boolean;
  readonly memberId: string;
  /** All members' metadata for the leader, empty for followers. */
  readonly members: readonly JoinGroupMember[];
}

export interface SyncGroupInput {
  readonly groupId: string;
  readonly generationId: number;
  readonly memberId: string;
  readonly groupInstanceId: string | null;
  /** SyncGroup v5+; null when the request has none. */
  readonly protocolType: string | null;
  readonly protocolName: string | null;
  /** The leader's assignment; empty for followers. */
  readonly assignments: readonly { readonly memberId: string; readonly assignment: Uint8Array }[];
}

export interface SyncGroupResult {
  readonly errorCode: number;
  readonly protocolType: string | null;
  readonly protocolName: string | null;
  readonly assignment: Uint8Array;
}

export interface HeartbeatInput {
  readonly groupId: string;
  readonly generationId: number;
  readonly memberId: string;
  readonly groupInstanceId: string | null;
}

export interface LeavingMember {
  /** "" to remove a static member by its instance id (admin removal). */
  readonly memberId: string;
  readonly groupInstanceId: string | null;
  readonly reason?: string | null;
}

export interface LeaveGroupResult {
  readonly errorCode: number;
  readonly members: readonly {
    readonly memberId: string;
    readonly groupInstanceId: string | null;
    readonly errorCode: number;
  }[];
}

export interface OffsetToCommit {
  readonly topic: string;
  readonly partition: number;
  readonly offset: bigint;
  /** −1 when unknown. */
  readonly leaderEpoch: number;
  readonly metadata: string | null;
}

export interface OffsetCommitInput {
  readonly groupId: string;
  /** −1 with memberId "" is a simple (non-member) commit, accepted while the group is Empty. */
  readonly generationId: number;
  readonly memberId: string;
  readonly groupInstanceId: string | null;
  readonly offsets: readonly OffsetToCommit[];
  /** The OffsetCommit version (KIP-848 members must use v9+); the latest when absent. */
  readonly apiVersion?: number;
  /** TxnOffsetCommit: the offsets are the transaction's, applied when it commits (offset-store.ts). */
  readonly transaction?: TransactionRef;
}

export interface FetchedOffset {
  readonly partition: number;
  /** −1 when nothing is committed. */
  readonly offset: bigint;
  readonly leaderEpoch: number;
  readonly metadata: string | null;
  readonly errorCode: number;
}

export interface FetchedTopicOffsets {
  readonly topic: string;
  readonly partitions: readonly FetchedOffset[];
}

export interface OffsetFetchResult {
  readonly errorCode: number;
  readonly topics: readonly FetchedTopicOffsets[];
}

export interface OffsetDeletePartition {
  readonly topic: string;
  readonly partition: number;
}

export interface OffsetDeleteResult {
  /** A group-level error (the partitions' codes are then meaningless), or NONE. */
  readonly errorCode: number;
  /** One per partition asked, in order: NONE (deleted, or nothing was committed) or GROUP_SUBSCRIBED_TO_TOPIC. */
  readonly partitions: readonly (OffsetDeletePartition & { readonly errorCode: number })[];
}

export interface DescribedMember {
  readonly memberId: string;
  readonly groupInstanceId: string | null;
  readonly clientId: string;
  readonly clientHost: string;
  /** The member's metadata for the selected protocol (Stable groups only; empty otherwise, as in Kafka). */
  readonly metadata: Uint8Array;
  /** The member's assignment (Stable groups only; empty otherwise). */
  readonly assignment: Uint8Array;
}

export interface DescribedGroup {
  readonly groupId: string;
  readonly errorCode: number;
  readonly state: GroupState;
  readonly protocolType: string;
  /** The selected protocol when Stable, "" otherwise. */
  readonly protocolData: string;
  readonly members: readonly DescribedMember[];
}

export interface ListedGroup {
  readonly groupId: string;
  readonly protocolType: string;
  readonly state: GroupState | ConsumerGroupState;
  readonly groupType: "classic" | "consumer";
}

export interface ListGroupsFilter {
  /** Case-insensitive state names; empty or absent = all. */
  readonly states?: readonly string[];
  /** Case-insensitive group types ("classic", "consumer"); empty or absent = all. */
  readonly types?: readonly string[];
}

export interface DeleteGroupResult {
  readonly groupId: string;
  readonly errorCode: number;
}

export const EMPTY_BYTES = new Uint8Array(0);

export type JoinWaiter = (result: JoinGroupResult) => void;
export type SyncWaiter = (result: SyncGroupResult) => void;

export function joinError(memberId: string, errorCode: number): JoinGroupResult {
  return {
    errorCode,
    generationId: -1,
    protocolType: null,
    protocolName: null,
    leader: "",
    skipAssignment: false,
    memberId,
    members: [],
  };
}

export function syncError(errorCode: number): SyncGroupResult {
  return { errorCode, protocolType: null, protocolName: null, assignment: EMPTY_BYTES };
}
