/**
 * SCRAM credentials in the fold (metadata/state.ts, metadata/scram-credentials.ts): alterScramCredentials
 * adds, replaces and deletes one user's credentials all or nothing, a deletion of a missing credential is
 * refused with nothing changed, a malformed command is skipped the same way everywhere, the entry is
 * written at format 5 (which a format 4 reader refuses), and snapshots carry the credentials (version 3;
 * a state without them still writes version 1 or 2, which older agents read).
 */
import assert from "node:assert/strict";
import type { Command } from "../../src/metadata/commands.js";
import { commandProblem, entryFormat } from "../../src/metadata/commands.js";
import { decodeEntry, encodeEntry } from "../../src/metadata/entry-codec.js";
import { MetadataFormatError } from "../../src/metadata/format.js";
import { MAX_SCRAM_CREDENTIALS } from "../../src/metadata/limits.js";
import type { ScramCredentialRecord, ScramMechanismName } from "../../src/metadata/scram-credentials.js";
import { ClusterState, FoldError } from "../../src/metadata/state.js";
import { asReaderOfFormatsUpTo } from "../support/log-entries.js";

function apply(state: ClusterState, ...commands: Command[]) {
  const index = state.appliedIndex + 1n;
  return state.apply(index, { proposer: "test", seq: Number(index), time: 1_000, commands });
}

const b64 = (n: number, fill: number) => Buffer.alloc(n, fill).toString("base64");

const record = (over: Partial<ScramCredentialRecord> = {}): ScramCredentialRecord => ({
  mechanism: "SCRAM-SHA-512",
  iterations: 4096,
  salt: b64(24, 1),
  storedKey: b64(64, 2),
  serverKey: b64(64, 3),
  ...over,
});
const sha256 = (fill: number) =>
  record({ mechanism: "SCRAM-SHA-256", storedKey: b64(32, fill), serverKey: b64(32, fill + 1) });

const alter = (user: string, upsertions: ScramCredentialRecord[], deletions: ScramMechanismName[] = []): Command => ({
  type: "alterScramCredentials",
  user,
  upsertions,
  deletions,
});

describe("SCRAM credentials in the metadata fold", () => {
  it("adds, replaces and deletes a user's credentials; keeps only salt, iterations and keys", () => {
    const s = new ClusterState();
    assert.deepEqual(apply(s, alter("carol", [record(), sha256(7)])), [{ errorCode: FoldError.NONE }]);
    assert.equal(s.scramCredentials.size, 2);
    assert.deepEqual(s.scramCredentials.describe("carol"), [
      { mechanism: "SCRAM-SHA-256", iterations: 4096 },
      { mechanism: "SCRAM-SHA-512", iterations: 4096 },
    ]);
    const c = s.scramCredentials.credential("carol", "SCRAM-SHA-512")!;
    assert.deepEqual(
      [c.salt, c.iterations, c.storedKey, c.serverKey],
      [Buffer.alloc(24, 1), 4096, Buffer.alloc(64, 2), Buffer.alloc(64, 3)],
    );
    apply(s, alter("carol", [record({ iterations: 8192, storedKey: b64(64, 9) })]));
    assert.equal(s.scramCredentials.credential("carol", "SCRAM-SHA-512")!.iterations, 8192);
    assert.deepEqual(s.scramCredentials.credential("carol", "SCRAM-SHA-512")!.storedKey, Buffer.alloc(64, 9));
    assert.equal(s.scramCredentials.size, 2, "replaced, not added");
    apply(s, alter("carol", [], ["SCRAM-SHA-256"]));
    assert.equal(s.scramCredentials.credential("carol", "SCRAM-SHA-256"), undefined);
    apply(s, alter("carol", [], ["SCRAM-SHA-512"]));
    assert.deepEqual([s.scramCredentials.size, s.scramCredentials.users()], [0, []]);
  });

  it("refuses a deletion of a missing credential with RESOURCE_NOT_FOUND, applying nothing of the command", () => {
    const s = new ClusterState();
    const [result] = apply(s, alter("dave", [record()], ["SCRAM-SHA-256"]));
    assert.deepEqual(result, {
      errorCode: FoldError.RESOURCE_NOT_FOUND,
      message: "Attempt to delete a user credential that does not exist",
    });
    assert.equal(s.scramCredentials.size, 0);
  });

  it("skips a malformed command found in the log, naming the problem but never the user", () => {
    const s = new ClusterState();
    const cases: Array<[Command, RegExp]> = [
      [alter("", [record()]), /Username must not be empty/],
      [alter("x", [record({ iterations: 100 })]), /Too few iterations/],
      [alter("x", [record({ iterations: 16385 })]), /Too many iterations/],
      [alter("x", [record({ storedKey: b64(32, 1) })]), /storedKey must be 64 bytes for SCRAM-SHA-512/],
      [alter("x", [record({ salt: "" })]), /salt must be non-empty base64/],
      [alter("x", [record({ serverKey: "not base64!" })]), /serverKey must be non-empty base64/],
      [alter("x", [record(), record()]), /SCRAM-SHA-512 is altered twice/],
      [alter("x", [record()], ["SCRAM-SHA-512"]), /SCRAM-SHA-512 is altered twice/],
      [alter("x", []), /nothing to alter/],
      [{ ...alter("x", []), deletions: ["MD5"] } as unknown as Command, /deletions\[0\] must be SCRAM-SHA-256/],
      [{ ...alter("x", []), upsertions: {} } as unknown as Command, /upsertions must be an array/],
    ];
    for (const [command, message] of cases) {
      assert.match(commandProblem(command) ?? "", message);
      const [result] = apply(s, command);
      assert.equal(result!.errorCode, FoldError.INVALID_REQUEST);
      assert.ok(!result!.message!.includes('"x"'), "the user is not named");
    }
    assert.equal(s.scramCredentials.size, 0);
  });

  it("refuses credentials beyond the cluster's limit", () => {
    const s = new ClusterState();
    for (let i = 0; i < MAX_SCRAM_CREDENTIALS; i++) s.scramCredentials.upsert(`u${i}`, record());
    const [result] = apply(s, alter("one-more", [record()]));
    assert.equal(result!.errorCode, FoldError.INVALID_REQUEST);
    assert.match(result!.message!, /above the cluster's limit of 100000/);
    assert.deepEqual(apply(s, alter("u1", [record({ iterations: 5000 })])), [{ errorCode: FoldError.NONE }]);
  });

  it("is written at entry format 5 in both encodings, which a format 4 reader refuses naming 5", () => {
    const command = alter("carol", [record()]);
    assert.equal(entryFormat([command], "json"), 5);
    assert.equal(entryFormat([command], "binary"), 5);
    const entry = { proposer: "p", seq: 1, commands: [command] };
    const encoded = [encodeEntry(entry, "json"), encodeEntry(entry, "binary")];
    for (const data of encoded) assert.deepEqual(decodeEntry(data), entry);
    asReaderOfFormatsUpTo(4, () => {
      for (const data of encoded)
        assert.throws(
          () => decodeEntry(data, 3n),
          (err: unknown) =>
            err instanceof MetadataFormatError &&
            /^metadata log entry 3 has format 5, newer than this agent reads \(1-4\)/.test(err.message),
        );
    });
  });

  it("snapshots carry the credentials (version 3) and restore them; none: the older versions", () => {
    const s = new ClusterState();
    assert.equal((JSON.parse(s.toSnapshot().toString()) as { v: number }).v, 1);
    apply(s, alter("carol", [record(), sha256(4)]), alter("bob", [sha256(5)]));
    const snapshot = s.toSnapshot();
    assert.equal((JSON.parse(snapshot.toString()) as { v: number }).v, 3);
    const restored = ClusterState.fromSnapshot(snapshot);
    assert.deepEqual(restored.scramCredentials.toRows(), s.scramCredentials.toRows());
    assert.deepEqual(
      restored.scramCredentials.credential("carol", "SCRAM-SHA-512"),
      s.scramCredentials.credential("carol", "SCRAM-SHA-512"),
    );
    apply(s, alter("carol", [], ["SCRAM-SHA-256", "SCRAM-SHA-512"]), alter("bob", [], ["SCRAM-SHA-256"]));
    assert.equal((JSON.parse(s.toSnapshot().toString()) as { v: number }).v, 1, "back to version 1 once none is left");
    const raw = JSON.parse(snapshot.toString()) as { scram: unknown[][] };
    const bad = { ...raw, scram: [["carol", [{ ...record(), iterations: 1 }]]] };
    assert.throws(
      () => ClusterState.fromSnapshot(Buffer.from(JSON.stringify(bad))),
      /snapshot: scram\[0\]\[0\]: Too few iterations/,
    );
    assert.throws(
      () => ClusterState.fromSnapshot(Buffer.from(JSON.stringify({ ...raw, v: 99 }))),
      /format version 99; this agent reads snapshot format versions 1, 2, 3, 4, 5, 6, 7 and 9/,
    );
  });
});
