/**
 * What the KIP-848 consumer-group coordinator (consumer-groups.ts) exchanges with the wire handlers
 * (ConsumerGroupHeartbeat, ConsumerGroupDescribe) and with the agent (its topics): plain objects whose
 * fields mirror the wire fields.
 */
import type { AssignableTopic } from "./assignors/types.js";
import type { ConsumerGroupState } from "./consumer-group.js";
import type { Assignment } from "./partitions.js";

/** The topics a group may subscribe to, read fresh on every call (the agent's folded metadata). */
export interface TopicView {
  byName(name: string): AssignableTopic | undefined;
  byId(id: string): AssignableTopic | undefined;
  names(): Iterable<string>;
}

export const NO_TOPICS: TopicView = {
  byName: () => undefined,
  byId: () => undefined,
  names: () => [],
};

export interface ConsumerHeartbeatInput {
  readonly groupId: string;
  /** v1+: made by the client; v0: "" to have the coordinator make one. */
  readonly memberId: string;
  /** 0 joins, −1 leaves, −2 leaves as a static member that will come back. */
  readonly memberEpoch: number;
  readonly instanceId: string | null;
  readonly rackId: string | null;
  /** −1: unchanged. */
  readonly rebalanceTimeoutMs: number;
  /** null: unchanged. */
  readonly subscribedTopicNames: readonly string[] | null;
  /** null: unchanged (v1+). */
  readonly subscribedTopicRegex: string | null;
  /** null: unchanged. */
  readonly serverAssignor: string | null;
  /** null: unchanged since the last heartbeat. */
  readonly ownedPartitions: Assignment | null;
  readonly clientId: string;
  readonly clientHost: string;
  /** The request's version (v1+ requires a member id). */
  readonly version: number;
}

export interface ConsumerHeartbeatResult {
  readonly errorCode: number;
  readonly errorMessage: string | null;
  readonly memberId: string | null;
  readonly memberEpoch: number;
  readonly heartbeatIntervalMs: number;
  /** The partitions the member may consume; null when unchanged (not sent). */
  readonly assignment: Assignment | null;
}

export interface DescribedTopicPartitions {
  readonly topicId: string;
  readonly topicName: string;
  readonly partitions: readonly number[];
}

export interface DescribedConsumerMember {
  readonly memberId: string;
  readonly instanceId: string | null;
  readonly rackId: string | null;
  readonly memberEpoch: number;
  readonly clientId: string;
  readonly clientHost: string;
  readonly subscribedTopicNames: readonly string[];
  readonly subscribedTopicRegex: string | null;
  readonly assignment: readonly DescribedTopicPartitions[];
  readonly targetAssignment: readonly DescribedTopicPartitions[];
  /** A classic member (JoinGroup/SyncGroup) of the group: ConsumerGroupDescribe v1 MemberType 0, else 1. */
  readonly usesClassicProtocol: boolean;
}

export interface DescribedConsumerGroup {
  readonly groupId: string;
  readonly errorCode: number;
  readonly errorMessage: string | null;
  /** "" on error. */
  readonly state: ConsumerGroupState | "";
  readonly groupEpoch: number;
  readonly assignmentEpoch: number;
  readonly assignorName: string;
  readonly members: readonly DescribedConsumerMember[];
}

export function heartbeatError(errorCode: number, errorMessage: string | null): ConsumerHeartbeatResult {
  return { errorCode, errorMessage, memberId: null, memberEpoch: 0, heartbeatIntervalMs: 0, assignment: null };
}
