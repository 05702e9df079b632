/** The coordinator's settings, with Kafka's broker defaults. */

export interface GroupCoordinatorConfig {
  /** group.min.session.timeout.ms (Kafka default 6000). */
  readonly minSessionTimeoutMs: number;
  /** group.max.session.timeout.ms (Kafka default 1800000). */
  readonly maxSessionTimeoutMs: number;
  /** group.initial.rebalance.delay.ms (Kafka default 3000). */
  readonly initialRebalanceDelayMs: number;
  /** group.max.size (Kafka default unbounded). */
  readonly maxGroupSize: number;
  /** How long a new member's JoinGroup may wait before it is dropped (Kafka: 5 minutes). */
  readonly newMemberJoinTimeoutMs: number;
  /** group.consumer.heartbeat.interval.ms: how often KIP-848 members heartbeat (Kafka default 5000). */
  readonly consumerHeartbeatIntervalMs: number;
  /** group.consumer.session.timeout.ms: a KIP-848 member silent this long is removed (Kafka default 45000). */
  readonly consumerSessionTimeoutMs: number;
}

export const DEFAULT_GROUP_CONFIG: GroupCoordinatorConfig = {
  minSessionTimeoutMs: 6_000,
  maxSessionTimeoutMs: 1_800_000,
  initialRebalanceDelayMs: 3_000,
  maxGroupSize: Number.MAX_SAFE_INTEGER,
  newMemberJoinTimeoutMs: 300_000,
  consumerHeartbeatIntervalMs: 5_000,
  consumerSessionTimeoutMs: 45_000,
};
