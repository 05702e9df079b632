/**
 * ACL bindings in the fold (metadata/state.ts, metadata/acls.ts): createAcls adds each binding once,
 * deleteAcls removes what its filters match and answers it per filter, the cluster's limit is enforced by
 * the fold too, a malformed command is skipped the same way everywhere, and snapshots carry the bindings
 * (version 2; a state without bindings still writes version 1, which older agents read) so an agent
 * started from a snapshot decides exactly as one that folded the log.
 */
import assert from "node:assert/strict";
import type { AclBinding, AclFilter } from "../../src/metadata/acls.js";
import type { Command } from "../../src/metadata/commands.js";
import { MAX_ACL_BINDINGS } from "../../src/metadata/limits.js";
import { MetadataLog } from "../../src/metadata/log.js";
import { ClusterState, FoldError } from "../../src/metadata/state.js";
import { decide } from "../../src/security/authorizer.js";
import { MemMetadataStore } from "../../src/store/mem.js";
import { capturedLogger } from "../support/captured-logger.js";

function apply(state: ClusterState, ...commands: Command[]) {
  const index = state.appliedIndex + 1n;
  return state.apply(index, { proposer: "test", seq: Number(index), time: 1_000, commands });
}

const binding = (over: Partial<AclBinding> = {}): AclBinding => ({
  resourceType: "TOPIC",
  resourceName: "orders",
  patternType: "LITERAL",
  principal: "User:alice",
  host: "*",
  operation: "READ",
  permissionType: "ALLOW",
  ...over,
});

const ANY: AclFilter = {
  resourceType: "ANY",
  resourceName: null,
  patternType: "ANY",
  principal: null,
  host: null,
  operation: "ANY",
  permissionType: "ANY",
};

const STRICT = { enabled: true, superUsers: [], allowEveryoneIfNoAclFound: false };
const ALICE = { principal: "User:alice", host: "10.0.0.1" };

describe("ACLs in the metadata fold", () => {
  it("createAcls adds each binding once, in order; deleteAcls removes what its filters match", () => {
    const s = new ClusterState();
    const read = binding();
    const write = binding({ operation: "WRITE", resourceName: "orders-", patternType: "PREFIXED" });
    const [created] = apply(s, { type: "createAcls", acls: [read, write, read] });
    assert.deepEqual(created, { errorCode: FoldError.NONE });
    apply(s, { type: "createAcls", acls: [write] });
    assert.deepEqual(s.acls.bindings(), [read, write]);
    const [deleted] = apply(s, {
      type: "deleteAcls",
      filters: [
        { ...ANY, operation: "WRITE" },
        { ...ANY, principal: "User:bob" },
      ],
    });
    assert.deepEqual(deleted, { errorCode: FoldError.NONE, deletedAcls: [[write], []] });
    assert.deepEqual(s.acls.bindings(), [read]);
    assert.equal(decide(s.acls, STRICT, ALICE, "READ", "TOPIC", "orders").allowed, true);
    assert.equal(decide(s.acls, STRICT, ALICE, "WRITE", "TOPIC", "orders-eu").allowed, false);
  });

  it("refuses (and reports) a createAcls that would take the cluster beyond its limit, adding nothing", () => {
    const s = new ClusterState();
    const refused: string[] = [];
    s.onRefused = (_index, command, message) => refused.push(`${command}: ${message}`);
    const many = Array.from({ length: MAX_ACL_BINDINGS }, (_, i) => binding({ resourceName: `t${i}` }));
    apply(s, { type: "createAcls", acls: many });
    assert.equal(s.acls.size, MAX_ACL_BINDINGS);
    // Existing bindings do not count twice; one more does not fit.
    assert.deepEqual(apply(s, { type: "createAcls", acls: [many[0]!] }), [{ errorCode: FoldError.NONE }]);
    const [result] = apply(s, { type: "createAcls", acls: [binding({ resourceName: "one-more" })] });
    assert.equal(result!.errorCode, FoldError.INVALID_REQUEST);
    assert.match(result!.message!, /above the cluster's limit of 100000/);
    assert.equal(s.acls.size, MAX_ACL_BINDINGS);
    assert.equal(refused.length, 1);
  });

  it("skips a malformed ACL command found in the log: nothing of it applies", () => {
    const s = new ClusterState();
    const [result] = apply(s, {
      type: "createAcls",
      acls: [binding(), { ...binding(), principal: "alice" }],
    });
    assert.equal(result!.errorCode, FoldError.INVALID_REQUEST);
    assert.equal(s.acls.size, 0, "nothing of a malformed command applies");
  });

  it("snapshots carry the bindings (version 2) and restore identical decisions; no bindings: version 1", () => {
    const s = new ClusterState();
    apply(s, { type: "createTopic", name: "orders", topicId: "a".repeat(32), partitions: 1, configs: {} });
    assert.equal((JSON.parse(s.toSnapshot().toString()) as { v: number }).v, 1);
    const bindings = [
      binding(),
      binding({ permissionType: "DENY", host: "10.0.0.9" }),
      binding({ resourceType: "GROUP", resourceName: "g-", patternType: "PREFIXED", principal: "User:*" }),
      binding({ resourceType: "CLUSTER", resourceName: "kafka-cluster", operation: "IDEMPOTENT_WRITE" }),
      binding({ resourceType: "TRANSACTIONAL_ID", resourceName: "*", operation: "WRITE" }),
    ];
    apply(s, { type: "createAcls", acls: bindings });
    const snapshot = s.toSnapshot();
    assert.equal((JSON.parse(snapshot.toString()) as { v: number }).v, 2);
    const restored = ClusterState.fromSnapshot(snapshot);
    assert.deepEqual(restored.acls.bindings(), bindings);
    assert.equal(restored.toSnapshot().toString(), snapshot.toString());
    for (const [session, op, type, name] of [
      [ALICE, "READ", "TOPIC", "orders"],
      [{ ...ALICE, host: "10.0.0.9" }, "READ", "TOPIC", "orders"],
      [{ principal: "User:bob", host: "1.1.1.1" }, "DESCRIBE", "GROUP", "g-1"],
      [ALICE, "IDEMPOTENT_WRITE", "CLUSTER", "kafka-cluster"],
      [ALICE, "WRITE", "TRANSACTIONAL_ID", "tx"],
    ] as const)
      assert.deepEqual(
        decide(restored.acls, STRICT, session, op, type, name),
        decide(s.acls, STRICT, session, op, type, name),
        `${session.principal} ${op} ${type}:${name}`,
      );
    // Deleting everything goes back to version 1.
    apply(s, { type: "deleteAcls", filters: [ANY] });
    assert.equal((JSON.parse(s.toSnapshot().toString()) as { v: number }).v, 1);
  });

  it("refuses a snapshot of a newer version, and one with a malformed binding, naming the problem", () => {
    const s = new ClusterState();
    apply(s, { type: "createAcls", acls: [binding()] });
    const raw = JSON.parse(s.toSnapshot().toString()) as { v: number; acls: unknown[][] };
    assert.throws(
      () => ClusterState.fromSnapshot(Buffer.from(JSON.stringify({ ...raw, v: 99 }))),
      /metadata snapshot has format version 99; this agent reads snapshot format versions 1, 2, 3, 4, 5, 6, 7 and 9\. It was written by a newer agent/,
    );
    const bad = { ...raw, acls: [["TOPIC", "orders", "LITERAL", "User:alice", "*", "READ", "MAYBE"]] };
    assert.throws(() => ClusterState.fromSnapshot(Buffer.from(JSON.stringify(bad))), /snapshot: ACL 0 is malformed/);
  });

  it("two agents on one log agree on the bindings once each has read the entries", async () => {
    const store = new MemMetadataStore();
    const open = async () => {
      const log = new MetadataLog(store, {
        tailIntervalMs: 1_000_000,
        snapshotEveryEntries: 0,
        keepEntriesAfterSnapshot: 10,
        writesSnapshots: () => false,
        logger: capturedLogger().logger,
      });
      await log.open();
      return log;
    };
    const a = await open();
    const b = await open();
    await a.propose([{ type: "createAcls", acls: [binding(), binding({ operation: "WRITE" })] }]);
    const [deleted] = await b.propose([{ type: "deleteAcls", filters: [{ ...ANY, operation: "WRITE" }] }]);
    assert.deepEqual(
      deleted!.deletedAcls,
      [[binding({ operation: "WRITE" })]],
      "b read a's entry before folding its own",
    );
    await a.catchUpNow();
    assert.equal(a.state.toSnapshot().toString(), b.state.toSnapshot().toString());
    assert.deepEqual(a.state.acls.bindings(), [binding()]);
    await a.close();
    await b.close();
  });
});
