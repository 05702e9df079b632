/**
 * Bounds on what one metadata command may make the fold allocate. Proposers (the topic service and the
 * admin handlers) refuse requests beyond them with a Kafka error; the fold refuses them again, so an
 * entry that slipped through (an older agent, a hand-written entry) is skipped at the same log position
 * by every agent instead of allocating without bound on each of them, on every replay.
 */

/** Most partitions one topic may have (CreateTopics, CreatePartitions). */
export const MAX_PARTITIONS_PER_TOPIC = 100_000;

/**
 * Most partitions all topics together may have. Every agent holds every partition in memory and in each
 * snapshot (about 300 bytes and 50 bytes of snapshot per empty partition).
 */
export const MAX_PARTITIONS_TOTAL = 1_000_000;

/**
 * Why a topic may not have `count` partitions, or null. `current` is the topic's partition count now
 * (0 for a new topic), `total` the count of all topics' partitions now.
 */
export function partitionCountProblem(count: number, current: number, total: number): string | null {
  if (!Number.isInteger(count) || count < 1 || count > MAX_PARTITIONS_PER_TOPIC)
    return `number of partitions must be between 1 and ${MAX_PARTITIONS_PER_TOPIC}, got ${count}`;
  if (total - current + count > MAX_PARTITIONS_TOTAL)
    return `${count - current} more partitions would make ${total - current + count}, above the cluster's limit of ${MAX_PARTITIONS_TOTAL}`;
  return null;
}

/**
 * Most ACL bindings the cluster may hold. Every agent holds them all in memory (a few hundred bytes each)
 * and in each snapshot, and DeleteAcls filters are matched against each of them.
 */
export const MAX_ACL_BINDINGS = 100_000;

/** Why `adding` more bindings may not join the `current` ones, or null. */
export function aclCountProblem(adding: number, current: number): string | null {
  if (current + adding > MAX_ACL_BINDINGS)
    return `${adding} more ACL bindings would make ${current + adding}, above the cluster's limit of ${MAX_ACL_BINDINGS}`;
  return null;
}

/**
 * Most SCRAM credentials (user and mechanism pairs) the cluster may hold. Every agent holds them in memory
 * (about 250 bytes each) and in each snapshot.
 */
export const MAX_SCRAM_CREDENTIALS = 100_000;

/** Why `adding` more credentials (negative: fewer) may not join the `current` ones, or null. */
export function scramCredentialCountProblem(adding: number, current: number): string | null {
  if (adding > 0 && current + adding > MAX_SCRAM_CREDENTIALS)
    return `${adding} more SCRAM credentials would make ${current + adding}, above the cluster's limit of ${MAX_SCRAM_CREDENTIALS}`;
  return null;
}
