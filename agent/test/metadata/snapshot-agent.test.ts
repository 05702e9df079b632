/**
 * An agent on the file store writes metadata snapshots every -metadataSnapshotEntries entries, in binary
 * (it is the log's only reader), and a restarted agent starts from the newest of them.
 */
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { startTestAgent, tempDir } from "../support/agents.js";

describe("metadata snapshots of an agent", () => {
  it("are written every -metadataSnapshotEntries entries, in binary, and a restart starts from them", async () => {
    const dir = tempDir("snapshots");
    const flags = { bucketURL: `file://${dir.path}`, metadataSnapshotEntries: "100" };
    try {
      const agent = await startTestAgent(flags);
      try {
        for (let i = 0; i < 130; i++)
          await agent.running.context.metadata.propose([
            {
              type: "createTopic",
              name: `t${i}`,
              topicId: (i + 1).toString(16).padStart(32, "0"),
              partitions: 1,
              configs: {},
            },
          ]);
        // Written in the background once entry 100 is folded.
        const snapshots = path.join(dir.path, "snapshots");
        let files: string[] = [];
        for (let wait = 0; wait < 100 && files.length === 0; wait++) {
          files = readdirSync(snapshots, { withFileTypes: true })
            .filter((e) => e.isFile() && e.name.endsWith(".bin"))
            .map((e) => e.name);
          if (files.length === 0) await new Promise((r) => setTimeout(r, 20));
        }
        assert.equal(files.length, 1, `one snapshot after 130 entries: ${files.join(", ")}`);
        const index = BigInt(files[0]!.replace(/^snap-0*|\.bin$/g, ""));
        assert.ok(index >= 100n && index < 130n, `snapshot at ${index}`);
        // u32 CRC-32C, then the snapshot: binary format 6 (each topic was numbered in the entry creating it).
        const data = readFileSync(path.join(snapshots, files[0]!)).subarray(4);
        assert.equal(data.toString("latin1", 0, 2), "WS");
        assert.equal(data[2], 6);
      } finally {
        await agent.stop();
      }
      const again = await startTestAgent(flags);
      try {
        const state = again.running.context.metadata.state;
        assert.equal(state.topics.size, 130);
      } finally {
        await again.stop();
      }
    } finally {
      dir.remove();
    }
  });
});
