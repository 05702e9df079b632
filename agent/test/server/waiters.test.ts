import assert from "node:assert/strict";
import { PartitionWaiters } from "../../src/server/waiters.js";

describe("partition waiters", () => {
  it("tell the agent when a long poll starts waiting (it wakes its metadata log's tail), not for a poll that does not wait", async () => {
    let woken = 0;
    const waiters = new PartitionWaiters(() => woken++);
    const open = new AbortController();
    await waiters.wait([["t", 0]], 0, open.signal);
    await waiters.wait([], 100, open.signal);
    assert.equal(woken, 0, "a wait of 0 ms or of no partition does not wait");
    const waiting = waiters.wait([["t", 0]], 10_000, open.signal);
    assert.equal(woken, 1);
    assert.equal(waiters.waitingPartitions, 1, "the agent's tailWanted sees the waiting fetch");
    waiters.notify("t", 0);
    await waiting;
    assert.equal(waiters.waitingPartitions, 0);
  });
});
