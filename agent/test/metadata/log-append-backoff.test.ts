/**
 * Agents contending for the metadata log's next index: after an entry's first conflict the log catches
 * up and appends again at once; after its second and later consecutive conflicts it waits a full-jitter
 * backoff first (APPEND_CONFLICT_BACKOFF). Before, it retried at once after every conflict, so agents
 * that collided kept colliding in lockstep.
 */
import assert from "node:assert/strict";
import { setTimeout as sleep } from "node:timers/promises";
import { APPEND_CONFLICT_BACKOFF, type MetadataLog } from "../../src/metadata/log.js";
import { MemMetadataStore } from "../../src/store/mem.js";
import { testMetadataLog } from "../support/metadata-log.js";
import type { LogRecord } from "../../src/store/types.js";

type Event = { readonly kind: "ok" | "conflict" } | { readonly kind: "wait"; readonly ms: number };

const AGENTS = 4;
const COMMITS_PER_AGENT = 25;

/** The mem store with a round trip: every append and read answers a millisecond later. */
class RoundTripStore extends MemMetadataStore {
  override async append(index: bigint, data: Buffer): Promise<boolean> {
    await sleep(1);
    return super.append(index, data);
  }
  override async read(from: bigint, limit: number): Promise<LogRecord[]> {
    await sleep(1);
    return super.read(from, limit);
  }
}

/** A log on `store` whose appends and waits are recorded in `events` (the waits still happen). */
function recordedLog(store: MemMetadataStore, events: Event[]): MetadataLog {
  return testMetadataLog(store, {
    writesSnapshots: () => true,
    onAppend: (result) => events.push({ kind: result }),
    sleep: (ms) => {
      events.push({ kind: "wait", ms });
      return sleep(ms);
    },
  });
}

describe("metadata log append backoff", () => {
  it("waits with growing jitter after repeated conflicts, and appends again at once after a first one", async () => {
    const store = new RoundTripStore();
    const histories: Event[][] = Array.from({ length: AGENTS }, () => []);
    const logs = histories.map((events) => recordedLog(store, events));
    for (const log of logs) await log.open();
    await logs[0]!.propose([{ type: "createTopic", name: "t", topicId: "a".repeat(32), partitions: 1, configs: {} }]);

    // Every agent commits one file at a time, all racing for the same next index.
    await Promise.all(
      logs.map(async (log) => {
        for (let i = 0; i < COMMITS_PER_AGENT; i++) await log.propose([{ type: "allocateProducerId" }]);
      }),
    );

    let repeatedConflicts = 0;
    for (const [agent, events] of histories.entries()) {
      // Consecutive conflicts of the entry being appended (an ok starts the next entry).
      let conflicts = 0;
      for (const [i, event] of events.entries()) {
        const previous = events[i - 1];
        if (event.kind === "wait") {
          assert.ok(conflicts >= 2, `agent ${agent}, event ${i}: a wait after ${conflicts} conflicts`);
          const bound = Math.min(APPEND_CONFLICT_BACKOFF.capMs, APPEND_CONFLICT_BACKOFF.baseMs * 2 ** (conflicts - 2));
          assert.ok(
            event.ms >= 0 && event.ms < bound,
            `agent ${agent}: wait of ${event.ms} ms after ${conflicts} conflicts`,
          );
          continue;
        }
        if (conflicts >= 2)
          assert.equal(
            previous?.kind,
            "wait",
            `agent ${agent}, event ${i}: appended at once after ${conflicts} conflicts`,
          );
        if (conflicts === 1)
          assert.equal(previous?.kind, "conflict", `agent ${agent}, event ${i}: waited after one conflict`);
        if (event.kind === "ok") conflicts = 0;
        else if (++conflicts >= 2) repeatedConflicts++;
      }
      assert.equal(
        events.filter((e) => e.kind === "ok").length,
        COMMITS_PER_AGENT + (agent === 0 ? 1 : 0),
        `agent ${agent}: one successful append per commit`,
      );
    }
    assert.ok(repeatedConflicts > 0, "the agents contended: some entries conflicted more than once");

    for (const log of logs) await log.catchUp();
    const snapshots = logs.map((l) => l.state.toSnapshot().toString());
    for (const s of snapshots) assert.equal(s, snapshots[0], "every agent folded the same log");
    for (const log of logs) await log.close();
  });
});
