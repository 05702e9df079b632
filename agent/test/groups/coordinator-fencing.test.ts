/**
 * Two group coordinators that both believe they coordinate one group (two agents whose cluster views
 * disagree), each on its own MetadataLog over one shared in-memory store, with the real offset store on
 * the log. The later coordinator's epoch fences the earlier one: its commits are refused by the fold,
 * its members are told NOT_COORDINATOR, committed offsets never move backwards, and generations go on
 * from the last one recorded instead of starting again.
 */
import assert from "node:assert/strict";
import winston from "winston";
import {
  GroupCoordinator,
  GroupError,
  type GroupProtocol,
  type JoinGroupResult,
  type SyncGroupResult,
} from "../../src/groups/coordinator.js";
import { LogGroupOffsetStore } from "../../src/metadata/group-offsets.js";
import { MetadataLog } from "../../src/metadata/log.js";
import { MemMetadataStore } from "../../src/store/mem.js";

const silent = winston.createLogger({ silent: true });
const G = "shared-group";
const TOPIC = "t";
const PROTOCOLS: GroupProtocol[] = [{ name: "range", metadata: Buffer.from("t") }];

/** One agent's side: its log, its coordinator, and the member it admitted. */
interface Side {
  readonly log: MetadataLog;
  readonly coordinator: GroupCoordinator;
}

async function openSide(store: MemMetadataStore): Promise<Side> {
  const log = new MetadataLog(store, {
    tailIntervalMs: 0,
    snapshotEveryEntries: 0,
    keepEntriesAfterSnapshot: 10,
    writesSnapshots: () => false,
    logger: silent,
  });
  await log.open();
  const coordinator = new GroupCoordinator({
    offsets: new LogGroupOffsetStore(log),
    log: silent,
    initialRebalanceDelayMs: 0,
  });
  return { log, coordinator };
}

/** One member's JoinGroup without the member-id round trip (JoinGroup v0–v3). */
function join(side: Side, clientId: string): Promise<JoinGroupResult> {
  return side.coordinator.joinGroup({
    groupId: G,
    memberId: "",
    groupInstanceId: null,
    clientId,
    clientHost: "/127.0.0.1",
    sessionTimeoutMs: 30_000,
    rebalanceTimeoutMs: 30_000,
    protocolType: "consumer",
    protocols: PROTOCOLS,
    requireKnownMemberId: false,
    supportSkippingAssignment: false,
  });
}

/** The leader's SyncGroup, assigning the partition to itself. */
function syncAsLeader(side: Side, memberId: string, generationId: number): Promise<SyncGroupResult> {
  return side.coordinator.syncGroup({
    groupId: G,
    generationId,
    memberId,
    groupInstanceId: null,
    protocolType: null,
    protocolName: null,
    assignments: [{ memberId, assignment: Buffer.from(`${TOPIC}-0`) }],
  });
}

/** Joins one member alone and completes its generation as leader; returns member and generation. */
async function joinAndSync(side: Side, clientId: string): Promise<{ memberId: string; generationId: number }> {
  const joined = await join(side, clientId);
  assert.equal(joined.errorCode, GroupError.NONE, `${clientId} joins`);
  const synced = await syncAsLeader(side, joined.memberId, joined.generationId);
  assert.equal(synced.errorCode, GroupError.NONE, `${clientId} gets its assignment`);
  return { memberId: joined.memberId, generationId: joined.generationId };
}

function commit(side: Side, member: { memberId: string; generationId: number }, offset: bigint): Promise<number> {
  return side.coordinator.commitOffsets({
    groupId: G,
    generationId: member.generationId,
    memberId: member.memberId,
    groupInstanceId: null,
    offsets: [{ topic: TOPIC, partition: 0, offset, leaderEpoch: -1, metadata: null }],
  });
}

function heartbeat(side: Side, member: { memberId: string; generationId: number }): number {
  return side.coordinator.heartbeat({
    groupId: G,
    memberId: member.memberId,
    generationId: member.generationId,
    groupInstanceId: null,
  });
}

/** The committed offset of partition 0 as the fold of `side`'s log holds it after catching up. */
async function committed(side: Side): Promise<bigint> {
  await side.log.catchUp();
  return side.coordinator.fetchOffsets(G, [{ topic: TOPIC, partitions: [0] }]).topics[0]!.partitions[0]!.offset;
}

describe("group coordinator fencing across agents", () => {
  let sides: Side[] = [];
  afterEach(async () => {
    for (const s of sides) {
      s.coordinator.close();
      await s.log.close();
    }
    sides = [];
  });

  it("a newer coordinator epoch fences the older coordinator's commits and members; offsets never move back", async () => {
    const store = new MemMetadataStore();
    const a = await openSide(store);
    const b = await openSide(store);
    sides = [a, b];
    // Offsets are kept only for partitions that exist.
    await a.log.propose([{ type: "createTopic", name: TOPIC, topicId: "c".repeat(32), partitions: 1, configs: {} }]);
    const seen: bigint[] = [];
    const sample = async () => seen.push(await committed(a), await committed(b));

    // Agent A coordinates first: its member joins and commits.
    const memberA = await joinAndSync(a, "on-a");
    assert.equal(await commit(a, memberA, 10n), GroupError.NONE);
    await sample();

    // Agent B also believes it coordinates the group (its view differs) and admits a member.
    await b.log.catchUp();
    const memberB = await joinAndSync(b, "on-b");
    assert.ok(
      memberB.generationId > memberA.generationId,
      `B's generation ${memberB.generationId} continues after A's ${memberA.generationId}`,
    );
    assert.equal(await commit(b, memberB, 20n), GroupError.NONE);
    await sample();

    // A has not folded B's entries yet: its member's commit (an older position) reaches the log and is refused.
    assert.equal(await commit(a, memberA, 15n), GroupError.NOT_COORDINATOR);
    await sample();
    assert.equal(await committed(a), 20n);

    // A dropped the group; its member, told NOT_COORDINATOR, finds it unknown here afterwards.
    assert.deepEqual(a.coordinator.groupIds(), []);
    assert.equal(heartbeat(a, memberA), GroupError.UNKNOWN_MEMBER_ID);

    // B carries on.
    assert.equal(heartbeat(b, memberB), GroupError.NONE);
    assert.equal(await commit(b, memberB, 30n), GroupError.NONE);
    await sample();

    for (let i = 1; i < seen.length; i++)
      assert.ok(seen[i]! >= seen[i - 1]!, `committed offsets never move back: ${seen.join(" → ")}`);
    assert.equal(seen[seen.length - 1], 30n);
  });

  it("a fenced coordinator hands out no assignment: the leader's SyncGroup is answered NOT_COORDINATOR", async () => {
    const store = new MemMetadataStore();
    const a = await openSide(store);
    const b = await openSide(store);
    sides = [a, b];
    // Offsets are kept only for partitions that exist.
    await a.log.propose([{ type: "createTopic", name: TOPIC, topicId: "c".repeat(32), partitions: 1, configs: {} }]);
    const joined = await join(a, "on-a");
    assert.equal(joined.errorCode, GroupError.NONE);
    await b.log.catchUp();
    await joinAndSync(b, "on-b");
    // A has not folded B's claim: its generation is refused when it records it, so nobody gets partitions.
    const synced = await syncAsLeader(a, joined.memberId, joined.generationId);
    assert.equal(synced.errorCode, GroupError.NOT_COORDINATOR);
    assert.equal(synced.assignment.length, 0);
    assert.deepEqual(a.coordinator.groupIds(), []);
  });

  it("drops a group as soon as the log shows a newer epoch, answering its waiting members NOT_COORDINATOR once", async () => {
    const store = new MemMetadataStore();
    const a = await openSide(store);
    const b = await openSide(store);
    sides = [a, b];
    // Offsets are kept only for partitions that exist.
    await a.log.propose([{ type: "createTopic", name: TOPIC, topicId: "c".repeat(32), partitions: 1, configs: {} }]);
    // Wired as the agent wires it: a claim in the log drops the group if this coordinator is fenced.
    a.log.listener = { groupCoordinatorChanged: (groupId) => a.coordinator.dropIfFenced(groupId) };
    const first = await joinAndSync(a, "on-a");
    // A second member's JoinGroup waits for the first to rejoin (a rebalance).
    const waiting = join(a, "late-on-a");
    await b.log.catchUp();
    await joinAndSync(b, "on-b");
    await a.log.catchUp();
    assert.equal((await waiting).errorCode, GroupError.NOT_COORDINATOR);
    assert.deepEqual(a.coordinator.groupIds(), []);
    assert.equal(heartbeat(a, first), GroupError.NOT_COORDINATOR, "told to look the coordinator up again");
    assert.equal(heartbeat(a, first), GroupError.UNKNOWN_MEMBER_ID, "then the group is unknown here, as any other");
  });
});
