/**
 * Java consumers for the KIP-848 group tests (agent/test/clients/consumer-group-protocol*.test.ts):
 * agent/test/clients/java/GroupConsumer.java run with Java's source launcher, printing its rebalance
 * listener's events with microsecond timestamps from the host's clock, collected in an EventLog that
 * checks them: no partition held by two members at once, committed offsets never going back.
 */
import assert from "node:assert/strict";
import path from "node:path";
import { Kafka, logLevel } from "kafkajs";
import { eventually } from "../../../e2e/support/eventually.js";
import { runKafkaTool, startJavaProgram } from "../../../e2e/support/kafka-tools.js";
import type { RunningCommand } from "../../../e2e/support/processes.js";

const CONSUMER_SOURCE = path.join(import.meta.dirname, "..", "clients", "java", "GroupConsumer.java");

/** A hang guard, not a threshold: checks every 100 ms for up to three minutes. */
const POLL = { timeoutMs: 180_000, intervalMs: 100 } as const;
export const poll = (what: string) => ({ ...POLL, what });

export interface Event {
  readonly us: bigint;
  readonly kind: string;
  readonly member: string;
  readonly rest: readonly string[];
}

/** Everything the consumers of one test printed, in arrival order. */
export class EventLog {
  readonly events: Event[] = [];

  add(line: string): void {
    const [us, kind, member, ...rest] = line.trim().split(" ");
    if (!us || !kind || !member || !/^\d+$/.test(us)) return;
    this.events.push({ us: BigInt(us), kind, member, rest });
  }

  /** Events in the order they happened (the members' shared clock). */
  ordered(): Event[] {
    return [...this.events].sort((a, b) => (a.us < b.us ? -1 : a.us > b.us ? 1 : 0));
  }

  /** member → partitions it holds now (from its listener's events). */
  holdings(): Map<string, Set<string>> {
    const held = new Map<string, Set<string>>();
    for (const e of this.ordered()) {
      const set = held.get(e.member) ?? new Set<string>();
      held.set(e.member, set);
      const parts = e.rest[0]?.split(",").filter((p) => p !== "") ?? [];
      if (e.kind === "ASSIGNED") for (const p of parts) set.add(p);
      if (e.kind === "REVOKED" || e.kind === "LOST") for (const p of parts) set.delete(p);
      if (e.kind === "CLOSED") set.clear();
    }
    return held;
  }

  values(): Set<string> {
    return new Set(this.events.filter((e) => e.kind === "RECORD").map((e) => e.rest[2]!));
  }

  /** Throws when a partition was assigned to a member while another still held it. */
  assertNoSharedPartition(): void {
    const owner = new Map<string, string>();
    let assignments = 0;
    for (const e of this.ordered()) {
      const parts = e.rest[0]?.split(",").filter((p) => p !== "") ?? [];
      if (e.kind === "ASSIGNED")
        for (const p of parts) {
          const held = owner.get(p);
          assert.ok(held === undefined || held === e.member, `${p} assigned to ${e.member} while ${held} held it`);
          owner.set(p, e.member);
          assignments++;
        }
      if (e.kind === "REVOKED" || e.kind === "LOST")
        for (const p of parts) if (owner.get(p) === e.member) owner.delete(p);
      if (e.kind === "CLOSED") for (const [p, m] of [...owner]) if (m === e.member) owner.delete(p);
    }
    assert.ok(assignments > 0, "some partitions were assigned");
  }

  /** Throws when a partition's committed offset went down. */
  assertCommitsMonotonic(): void {
    const last = new Map<string, bigint>();
    let commits = 0;
    for (const e of this.ordered()) {
      if (e.kind !== "COMMITTED") continue;
      const [p, offset] = [e.rest[0]!, BigInt(e.rest[1]!)];
      const before = last.get(p);
      assert.ok(before === undefined || offset >= before, `${p}: ${e.member} committed ${offset} after ${before}`);
      last.set(p, offset);
      commits++;
    }
    assert.ok(commits > 0, "offsets were committed");
  }
}

export interface JavaMember {
  readonly name: string;
  readonly command: RunningCommand;
  stop(): Promise<void>;
}

export async function startMember(
  log: EventLog,
  bootstrap: string,
  group: string,
  subscription: string,
  name: string,
  props: readonly string[] = [],
): Promise<JavaMember> {
  const command = await startJavaProgram(
    CONSUMER_SOURCE,
    [bootstrap, group, subscription, name, "group.protocol=consumer", ...props],
    { onStdoutLine: (line) => log.add(line), timeoutMs: 900_000 },
  );
  return {
    name,
    command,
    stop: async () => {
      command.endInput("stop\n");
      const r = await command.result;
      assert.equal(r.code, 0, `${name} failed (${r.code}):\n${r.stderr.slice(-3000)}`);
      assert.ok(
        log.events.some((e) => e.kind === "CLOSED" && e.member === name),
        `${name} closed`,
      );
    },
  };
}

/** A kafkajs client; `bootstrap` is host:port, or several joined with commas. */
export function kafkaClient(bootstrap: string): Kafka {
  return new Kafka({ clientId: "kip848-test", brokers: bootstrap.split(","), logLevel: logLevel.NOTHING });
}

/**
 * Waits until `members` (and only they) hold every partition of `topic` between them, each at least
 * one, or exactly `each` when given (the same total can be reached mid-rebalance, before the last
 * revocation, with other counts).
 */
export async function settled(
  log: EventLog,
  members: readonly JavaMember[],
  topic: string,
  partitions: number,
  each?: number,
) {
  await eventually(() => {
    for (const m of members)
      if (log.events.some((e) => e.member === m.name && e.kind === "CLOSED")) throw new Error(`${m.name} exited`);
    const held = log.holdings();
    const all = new Set<string>();
    for (const m of members) {
      const mine = held.get(m.name) ?? new Set();
      if (mine.size === 0 || (each !== undefined && mine.size !== each)) return false;
      for (const p of mine) if (p.startsWith(`${topic}-`)) all.add(p);
    }
    for (const [name, set] of held) if (!members.some((m) => m.name === name) && set.size > 0) return false;
    return all.size === partitions;
  }, poll("the members to share every partition"));
}

/** A kafkajs producer writing 20 records ("v-0", "v-1", ...) every 200 ms until stopped. */
export interface BackgroundProducer {
  /** Values of the records acknowledged so far. */
  readonly acked: ReadonlySet<string>;
  /** Sends `n` more records now and waits for their acknowledgement. */
  produce(n: number): Promise<void>;
  /** Ends the background loop; rejects with a send's failure unless failures were tolerated. */
  stop(): Promise<void>;
  /** Ends the loop, ignoring failures, and disconnects. */
  close(): Promise<void>;
}

/**
 * Starts producing into `topic` in the background. With `tolerateFailures` (an agent killed meanwhile) a
 * failed send is skipped: its records may or may not be stored, and only acknowledged ones count.
 */
export async function startBackgroundProducer(
  kafka: Kafka,
  topic: string,
  options: { readonly tolerateFailures?: boolean } = {},
): Promise<BackgroundProducer> {
  const producer = kafka.producer();
  await producer.connect();
  const acked = new Set<string>();
  let sent = 0;
  const produce = async (n: number) => {
    const messages = Array.from({ length: n }, () => ({ key: `k${sent}`, value: `v-${sent++}` }));
    await producer.send({ topic, acks: -1, messages });
    for (const m of messages) acked.add(m.value);
  };
  let producing = true;
  const loop = (async () => {
    while (producing) {
      try {
        await produce(20);
      } catch (err) {
        if (!options.tolerateFailures) throw err;
      }
      await new Promise((r) => setTimeout(r, 200));
    }
  })();
  const stop = async () => {
    producing = false;
    await loop;
  };
  return {
    acked,
    produce,
    stop,
    close: async () => {
      await stop().catch(() => undefined);
      await producer.disconnect();
    },
  };
}

/** `kafka-consumer-groups --describe --members --verbose`: its output, and the rows of the group's members. */
export async function describeMembers(
  bootstrap: string,
  group: string,
): Promise<{ readonly stdout: string; readonly rows: string[] }> {
  const described = await runKafkaTool(
    "consumer-groups",
    ["--bootstrap-server", bootstrap, "--describe", "--group", group, "--members", "--verbose"],
    { timeoutMs: 120_000 },
  );
  assert.equal(described.code, 0, described.stderr);
  return { stdout: described.stdout, rows: described.stdout.split("\n").filter((l) => l.startsWith(group)) };
}

/** Waits until the group's committed offsets are the topic's high watermarks (an agent's view may trail a moment). */
export async function committedAtHighWatermarks(kafka: Kafka, group: string, topic: string): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    await eventually(async () => {
      const offsets = await admin.fetchOffsets({ groupId: group, topics: [topic] });
      const high = await admin.fetchTopicOffsets(topic);
      return high.every((p) => offsets[0]!.partitions.find((x) => x.partition === p.partition)!.offset === p.high);
    }, poll("the committed offsets to reach the high watermarks"));
  } finally {
    await admin.disconnect();
  }
}

/**
 * The join-and-leave scenario: a 12-partition topic, kafkajs producing in the background, Java members
 * a, b; then c, d (three partitions each, checked with kafka-consumer-groups --describe --members
 * --verbose); a leaves; e joins; b leaves; then everything produced must be consumed, no partition
 * held twice, commits never going back and ending at the high watermarks. `bootstrap` may list agents.
 */
export async function joinAndLeave(options: {
  readonly bootstrap: string;
  readonly group: string;
  readonly topic: string;
  /** Every command started goes here, for the suite to kill in after(). */
  readonly running: RunningCommand[];
}): Promise<void> {
  const { bootstrap, group, topic, running } = options;

  const kafka = kafkaClient(bootstrap);
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic, numPartitions: 12 }] });
  await admin.disconnect();
  // The producer keeps writing in the background while members come and go.
  const producer = await startBackgroundProducer(kafka, topic);
  const log = new EventLog();
  const start = async (name: string) => {
    const m = await startMember(log, bootstrap, group, topic, name);
    running.push(m.command);
    return m;
  };
  try {
    const a = await start("a");
    const b = await start("b");
    await settled(log, [a, b], topic, 12);
    const c = await start("c");
    const d = await start("d");
    // Uniform: three each (waited for, as the counts pass through others while members revoke).
    await settled(log, [a, b, c, d], topic, 12, 3);

    const described = await describeMembers(bootstrap, group);
    const rows = described.rows;
    assert.equal(rows.length, 4, described.stdout);
    for (const name of ["a", "b", "c", "d"]) {
      const row = rows.find((r) => r.split(/\s+/).includes(name));
      assert.ok(row, `member ${name} listed:\n${described.stdout}`);
      // GROUP CONSUMER-ID HOST CLIENT-ID #PARTITIONS CURRENT-EPOCH CURRENT-ASSIGNMENT TARGET-EPOCH TARGET-ASSIGNMENT
      assert.match(row, /\s3\s/, `${name} shows 3 partitions:\n${described.stdout}`);
      assert.match(row, new RegExp(`${topic}:\\d+,\\d+,\\d+`), `${name} shows its partitions:\n${described.stdout}`);
    }
    assert.match(described.stdout, /CURRENT-EPOCH/, described.stdout);

    await a.stop();
    await settled(log, [b, c, d], topic, 12);
    const e = await start("e");
    await settled(log, [b, c, d, e], topic, 12);
    await b.stop();
    await settled(log, [c, d, e], topic, 12);
    await producer.stop();
    await producer.produce(20);
    const want = producer.acked;
    await eventually(() => [...want].every((v) => log.values().has(v)), poll("every record to be consumed"));
    for (const m of [c, d, e]) await m.stop();
    log.assertNoSharedPartition();
    log.assertCommitsMonotonic();
    assert.deepEqual(
      log.events.filter((ev) => ev.kind === "COMMITFAILED").map((ev) => ev.rest.join(" ")),
      [],
      "no commit failed",
    );
    await committedAtHighWatermarks(kafka, group, topic);
  } finally {
    await producer.close();
  }
}
