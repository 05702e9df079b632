/**
 * An agent that meets a metadata log entry it cannot read while running (docs/metadata-log.md, "Entry
 * formats") stops, with the reason, instead of serving a log it no longer follows: the request that
 * found it is answered with a retriable error, and RunningAgent.failed settles once the agent stopped.
 */
import assert from "node:assert/strict";
import { connect } from "node:net";
import { ENTRY_FORMAT } from "../../src/metadata/commands.js";
import { LOG_UNAVAILABLE } from "../../src/metadata/topics.js";
import { MetadataFormatError } from "../../src/metadata/format.js";
import { ErrorCode } from "../../src/protocol/index.js";
import { dropMemStores, openMemStores } from "../../src/store/mem.js";
import { startTestAgent } from "../support/agents.js";

describe("an agent and a metadata log entry it cannot read", () => {
  const name = `unreadable-${process.pid}`;
  after(() => dropMemStores(name));

  it("stops, naming the entry and its format, when its next append meets it", async () => {
    const agent = await startTestAgent({ bucketURL: `mem://${name}` });
    const { topics, metadata: log } = agent.running.context;
    assert.equal((await topics.create("t", 1, {})).errorCode, ErrorCode.NONE);
    // Another agent, of a newer version, took the next index.
    const next = log.state.appliedIndex + 1n;
    const newer = ENTRY_FORMAT.latest + 1;
    assert.ok(await openMemStores(name).metadata.append(next, Buffer.from([0x57, 0x4c, newer, 0, 0])));

    const refused = await topics.create("u", 1, {});
    assert.equal(refused.errorCode, LOG_UNAVAILABLE);
    assert.match(refused.message ?? "", new RegExp(`metadata log entry ${next} has format ${newer}`));
    const error = await agent.running.failed;
    assert.ok(error instanceof MetadataFormatError);
    assert.match(error.message, new RegExp(`newer than this agent reads \\(1-${ENTRY_FORMAT.latest}\\)`));
    assert.equal(log.halted, error);
    assert.equal(log.state.appliedIndex, next - 1n);
    assert.equal(log.state.topics.has("u"), false);
    // Stopped: its Kafka listener is closed.
    await assert.rejects(
      new Promise((resolve, reject) => {
        const socket = connect(agent.port, "127.0.0.1", () => resolve(socket.end()));
        socket.on("error", reject);
      }),
      /ECONNREFUSED/,
    );
  });
});
