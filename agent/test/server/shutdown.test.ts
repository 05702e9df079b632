/** Regression: stop() used to wait for clients to hang up before closing their connections. */
import assert from "node:assert/strict";
import net from "node:net";
import { startTestAgent } from "../support/agents.js";

describe("agent shutdown", function () {
  this.timeout(30_000);

  it("completes while clients are still connected, and closes their connections", async () => {
    const agent = await startTestAgent();
    const socket = net.connect(agent.port, "127.0.0.1");
    await new Promise<void>((resolve) => socket.once("connect", () => resolve()));
    const closed = new Promise<void>((resolve) => socket.once("close", () => resolve()));
    socket.on("error", () => undefined);
    await agent.stop();
    await closed;
    assert.equal(socket.destroyed, true);
  });
});
