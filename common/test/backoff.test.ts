import assert from "node:assert/strict";
import { fullJitterMs } from "../backoff.js";

describe("fullJitterMs", () => {
  const backoff = { baseMs: 25, capMs: 2_000 };

  it("waits a random fraction of base * 2^retry", () => {
    assert.equal(
      fullJitterMs(backoff, 0, () => 0),
      0,
    );
    assert.equal(
      fullJitterMs(backoff, 0, () => 0.5),
      12.5,
    );
    assert.equal(
      fullJitterMs(backoff, 3, () => 0.5),
      100,
    );
  });

  it("never waits the cap or longer", () => {
    assert.equal(
      fullJitterMs(backoff, 7, () => 0.5),
      1_000,
    );
    assert.equal(
      fullJitterMs(backoff, 60, () => 0.5),
      1_000,
    );
    for (let retry = 0; retry < 20; retry++) assert.ok(fullJitterMs(backoff, retry) < backoff.capMs);
  });
});
