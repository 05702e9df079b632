/**
 * The consumer side of group fault tests: kafkajs consumers in one group that record every record they
 * consume and the assignment each member receives in each generation, and an admin client that samples
 * the group's committed offsets over time. Both report what they saw; the tests judge it.
 */
import { Kafka, logLevel } from "kafkajs";
import type { Admin, Consumer, LogEntry } from "kafkajs";
import type { ConsumedRecord } from "../support/checker.js";
import { eventually } from "../support/eventually.js";

export interface ConsumerGroupOptions {
  readonly brokers: () => string[];
  readonly groupId: string;
  readonly topic: string;
  readonly members: number;
}

/** One member's assignment in one generation, as the member received it from SyncGroup. */
export interface ReceivedAssignment {
  readonly generationId: number;
  readonly memberId: string;
  readonly partitions: readonly number[];
}

/** A partition that two members of one generation were both given. */
export interface DoubleAssignment {
  readonly generationId: number;
  readonly partition: number;
  readonly members: readonly string[];
}

export interface ConsumerGroupRun {
  /** Every record consumed by any member, re-reads included, in consumption order. */
  readonly consumed: ConsumedRecord[];
  readonly assignments: ReceivedAssignment[];
  /** Consumers that crashed without kafkajs restarting them (each was replaced by a new one). */
  readonly replaced: string[];
  /** Resolves once the members consumed `n` records in all (re-reads count); rejects after timeoutMs. */
  waitForConsumed(n: number, timeoutMs: number): Promise<void>;
  /** Resolves once every value in `values` was consumed; rejects after timeoutMs naming how many are missing. */
  waitForValues(values: readonly string[], timeoutMs: number): Promise<void>;
  stop(): Promise<void>;
}

/** Partitions given to more than one member within one generation. */
export function doubleAssignments(assignments: readonly ReceivedAssignment[]): DoubleAssignment[] {
  const owners = new Map<string, { generationId: number; partition: number; members: Set<string> }>();
  for (const a of assignments) {
    for (const partition of a.partitions) {
      const key = `${a.generationId}/${partition}`;
      const entry = owners.get(key) ?? { generationId: a.generationId, partition, members: new Set<string>() };
      entry.members.add(a.memberId);
      owners.set(key, entry);
    }
  }
  return [...owners.values()]
    .filter((o) => o.members.size > 1)
    .map((o) => ({ generationId: o.generationId, partition: o.partition, members: [...o.members] }));
}

/** kafkajs logs "Received assignment" (debug) after each successful SyncGroup, with the generation. */
interface AssignmentLog {
  readonly message?: string;
  readonly generationId?: number;
  readonly memberId?: string;
  readonly memberAssignment?: Record<string, number[]>;
}

export function startConsumerGroup(options: ConsumerGroupOptions): ConsumerGroupRun {
  const consumed: ConsumedRecord[] = [];
  const assignments: ReceivedAssignment[] = [];
  const replaced: string[] = [];
  const consumers = new Map<number, Consumer>();
  let stopping = false;

  const start = async (slot: number): Promise<void> => {
    const kafka = new Kafka({
      clientId: `group-member-${slot}`,
      brokers: options.brokers,
      logLevel: logLevel.DEBUG,
      logCreator: () => (entry: { namespace: string; log: LogEntry["log"] }) => {
        const log = entry.log as AssignmentLog;
        if (entry.namespace !== "ConsumerGroup" || log.message !== "Received assignment") return;
        assignments.push({
          generationId: log.generationId ?? -1,
          memberId: log.memberId ?? "",
          partitions: log.memberAssignment?.[options.topic] ?? [],
        });
      },
      retry: { retries: 5, initialRetryTime: 300, maxRetryTime: 2_000 },
    });
    const consumer = kafka.consumer({
      groupId: options.groupId,
      sessionTimeout: 10_000,
      rebalanceTimeout: 20_000,
      heartbeatInterval: 1_000,
      maxWaitTimeInMs: 500,
      // Few retries: kafkajs retries a dead coordinator's address until it gives up, then restarts the
      // consumer, which looks the coordinator up again.
      retry: { retries: 5, initialRetryTime: 300, maxRetryTime: 2_000 },
    });
    consumers.set(slot, consumer);
    consumer.on(consumer.events.CRASH, (event) => {
      if (event.payload.restart || stopping) return;
      // kafkajs gave up on this consumer: a new one takes its place (and joins as a new member).
      replaced.push(`member ${slot}: ${event.payload.error.message}`);
      void consumer
        .disconnect()
        .catch(() => undefined)
        .then(() => (stopping ? undefined : start(slot)))
        .catch((err: unknown) => replaced.push(`member ${slot} could not start again: ${String(err)}`));
    });
    await consumer.connect();
    await consumer.subscribe({ topic: options.topic, fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ partition, message }) => {
        consumed.push({
          partition,
          offset: BigInt(message.offset),
          key: message.key?.toString() ?? "",
          value: message.value?.toString() ?? "",
        });
      },
    });
  };
  const started = Promise.all(Array.from({ length: options.members }, (_, slot) => start(slot)));

  return {
    consumed,
    assignments,
    replaced,
    waitForConsumed: async (n, timeoutMs) => {
      await started;
      await eventually(
        () => {
          if (consumed.length >= n) return true;
          throw new Error(`${consumed.length} of ${n} records consumed; members replaced: ${replaced.length}`);
        },
        { what: `the group to consume ${n} records`, timeoutMs, intervalMs: 100 },
      );
    },
    waitForValues: async (values, timeoutMs) => {
      await started;
      await eventually(
        () => {
          const seen = new Set(consumed.map((c) => c.value));
          const missing = values.filter((v) => !seen.has(v)).length;
          if (missing === 0) return true;
          throw new Error(`${missing} of ${values.length} records not consumed yet`);
        },
        { what: "the group to consume every acknowledged record", timeoutMs, intervalMs: 200 },
      );
    },
    stop: async () => {
      stopping = true;
      await started.catch(() => undefined);
      await Promise.all([...consumers.values()].map((c) => c.disconnect().catch(() => undefined)));
    },
  };
}

/** A committed offset that was lower than an earlier sample of the same partition. */
export interface BackwardsMove {
  readonly partition: number;
  readonly from: bigint;
  readonly to: bigint;
}

export interface OffsetSampler {
  /** Sampling rounds that got an answer. */
  rounds(): number;
  /** Stops sampling after one last round; returns every decrease seen (per partition, against its highest sample). */
  stop(): Promise<BackwardsMove[]>;
}

/** Samples the group's committed offsets through an admin client, one round every `intervalMs`. */
export function startOffsetSampler(options: {
  readonly brokers: () => string[];
  readonly groupId: string;
  readonly topic: string;
  readonly intervalMs: number;
}): OffsetSampler {
  const admin: Admin = new Kafka({
    clientId: "group-offsets-sampler",
    brokers: options.brokers,
    logLevel: logLevel.NOTHING,
    retry: { retries: 3, initialRetryTime: 200, maxRetryTime: 1_000 },
  }).admin();
  const highest = new Map<number, bigint>();
  const moves: BackwardsMove[] = [];
  let rounds = 0;
  let stopping = false;
  const round = async (): Promise<void> => {
    let answer: Array<{ partition: number; offset: string }>;
    try {
      const [topic] = await admin.fetchOffsets({ groupId: options.groupId, topics: [options.topic] });
      answer = topic?.partitions ?? [];
    } catch {
      // The coordinator is being killed or moving: no sample this round.
      return;
    }
    rounds++;
    for (const p of answer) {
      const offset = BigInt(p.offset);
      const top = highest.get(p.partition);
      if (top !== undefined && offset < top) moves.push({ partition: p.partition, from: top, to: offset });
      if (top === undefined || offset > top) highest.set(p.partition, offset);
    }
  };
  const loop = (async () => {
    await admin.connect();
    while (!stopping) {
      await round();
      await new Promise((r) => setTimeout(r, options.intervalMs));
    }
    await round();
    await admin.disconnect();
  })();
  return {
    rounds: () => rounds,
    stop: async () => {
      stopping = true;
      await loop;
      return moves;
    },
  };
}
