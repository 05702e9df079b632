/**
 * Every proposal settles. A catch-up that jumps to a snapshot covering the entry being appended cannot
 * tell whether the entry is in it: the proposal fails with an unknown outcome (it neither hangs nor is
 * appended a second time). A store that never answers fails proposals at their deadline, and close()
 * finishes.
 */
import assert from "node:assert/strict";
import { inspect } from "node:util";
import { componentLogger } from "../../../common/logger.js";
import type { Command } from "../../src/metadata/commands.js";
import { decodeEntry } from "../../src/metadata/entry-codec.js";
import { MetadataLog, type MetadataLogOptions } from "../../src/metadata/log.js";
import { ProposalNotAppliedError, ProposalOutcomeUnknownError } from "../../src/metadata/proposal.js";
import { MemMetadataStore } from "../../src/store/mem.js";
import { openFlakyLog } from "../support/flaky-log.js";

const options: MetadataLogOptions = {
  tailIntervalMs: 0,
  snapshotEveryEntries: 0,
  keepEntriesAfterSnapshot: 10,
  writesSnapshots: () => false,
  logger: componentLogger("test"),
};

const topic = (name: string): Command => ({
  type: "createTopic",
  name,
  topicId: "a".repeat(32),
  partitions: 1,
  configs: {},
});

/** Settles with the proposal's outcome, or "pending" when it has none after `ms`. */
async function outcomeWithin(p: Promise<unknown>, ms: number): Promise<unknown> {
  let timer: NodeJS.Timeout | undefined;
  const pending = new Promise<string>((r) => (timer = setTimeout(() => r("pending"), ms)));
  try {
    return await Promise.race([
      p.then(
        (value) => ({ value }),
        (error: unknown) => ({ error }),
      ),
      pending,
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Runs `during` right after the next append lands, before the appender hears back; the append is then
 * reported as written (`reply` true) or, as when its response is lost and the retry finds the index
 * taken, as a conflict.
 */
class InterleavingStore extends MemMetadataStore {
  during: (() => Promise<void>) | null = null;
  reply = true;
  /** Every entry that landed. */
  readonly landed: Buffer[] = [];
  override async append(index: bigint, data: Buffer): Promise<boolean> {
    const ok = await super.append(index, data);
    if (ok) this.landed.push(data);
    const during = this.during;
    if (!ok || !during) return ok;
    this.during = null;
    await during();
    return this.reply;
  }
}

/** Entries among `appended` that create topic `name`. */
function entriesCreating(name: string, appended: readonly Buffer[]): number {
  return appended.filter((d) => decodeEntry(d).commands.some((c) => c.type === "createTopic" && c.name === name))
    .length;
}

/**
 * Another agent on the same store folds the pending entry, appends three more, snapshots after the
 * second and trims everything below the third: the entry being appended is in the snapshot, gone from
 * the log.
 */
async function otherAgentSnapshotsPast(store: MemMetadataStore): Promise<void> {
  const other = new MetadataLog(store, options);
  await other.open();
  await other.propose([topic("other-1")]);
  await other.propose([topic("other-2")]);
  const covered = other.state.appliedIndex;
  await store.putSnapshot({ index: covered, data: other.state.toSnapshot() });
  await other.propose([topic("other-3")]);
  await store.trim(covered + 1n);
  await other.close();
}

describe("metadata log: proposals always settle", () => {
  it("fails a proposal whose entry a snapshot covered while it was being appended, instead of hanging", async () => {
    const store = new InterleavingStore();
    const log = new MetadataLog(store, options);
    await log.open();
    await log.propose([topic("first")]);
    store.during = async () => {
      await otherAgentSnapshotsPast(store);
      // The tail ticks while the append is in flight: it finds the entries trimmed and loads the snapshot.
      await log.catchUp();
    };
    const outcome = await outcomeWithin(log.propose([topic("mine")]), 2000);
    assert.notEqual(outcome, "pending", "the proposal settles");
    assert.ok((outcome as { error?: unknown }).error instanceof ProposalOutcomeUnknownError, inspect(outcome));
    assert.ok(log.state.topics.has("mine"), "the entry is in the snapshot the log loaded");
    assert.ok(log.state.topics.has("other-3"), "and the log folded on past it");
    const [next] = await log.propose([topic("after")]);
    assert.equal(next!.errorCode, 0, "the log takes proposals again");
    await log.close();
  });

  it("does not append an entry again when a snapshot covers the index whose append reported a conflict", async () => {
    const store = new InterleavingStore();
    const log = new MetadataLog(store, options);
    await log.open();
    await log.propose([topic("first")]);
    store.reply = false;
    store.during = () => otherAgentSnapshotsPast(store);
    const outcome = await outcomeWithin(log.propose([topic("mine")]), 2000);
    assert.ok((outcome as { error?: unknown }).error instanceof ProposalOutcomeUnknownError, inspect(outcome));
    assert.equal(entriesCreating("mine", store.landed), 1, "the entry is in the log once");
    assert.ok(log.state.topics.has("mine"));
    await log.close();
  });

  it("fails proposals at their deadline when the store never answers", async () => {
    const { store, log } = await openFlakyLog({ proposalTimeoutMs: 150 });
    store.hanging = true;
    const [appending, queued] = await Promise.all([
      outcomeWithin(log.propose([topic("a")]), 2000),
      outcomeWithin(log.propose([topic("b")]), 2000),
    ]);
    assert.ok((appending as { error?: unknown }).error instanceof ProposalOutcomeUnknownError, inspect(appending));
    assert.ok((queued as { error?: unknown }).error instanceof ProposalNotAppliedError, "never in an entry");
    assert.notEqual(await outcomeWithin(log.close(), 2000), "pending");
  });

  it("close() finishes while an append hangs, failing what is pending", async () => {
    const { store, log } = await openFlakyLog({ proposalTimeoutMs: 300 });
    store.hanging = true;
    const pending = outcomeWithin(log.propose([topic("a")]), 2000);
    assert.notEqual(await outcomeWithin(log.close(), 2000), "pending", "close() finishes");
    assert.ok(((await pending) as { error?: unknown }).error instanceof ProposalOutcomeUnknownError);
    await assert.rejects(log.propose([topic("b")]), ProposalNotAppliedError);
  });
});
