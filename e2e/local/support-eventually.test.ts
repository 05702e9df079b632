/**
 * The polling helper every test waits with: what it returns, what counts as "not yet", how often it
 * asks, and what its timeout error says.
 */
import assert from "node:assert/strict";
import { eventually } from "../support/eventually.js";

describe("support: eventually", () => {
  it("returns the check's first value that is not undefined, null or false", async () => {
    const answers: unknown[] = [undefined, null, false, 0, "ignored"];
    let calls = 0;
    const got = await eventually(() => answers[calls++], { what: "an answer", timeoutMs: 5_000, intervalMs: 1 });
    assert.equal(got, 0, "0 and empty strings are values, not 'not yet'");
    assert.equal(calls, 4);
  });

  it("takes async checks and counts a thrown error as not yet", async () => {
    let calls = 0;
    const got = await eventually(
      async () => {
        if (++calls < 3) throw new Error("not ready");
        return { ready: true };
      },
      { what: "readiness", timeoutMs: 5_000, intervalMs: 1 },
    );
    assert.deepEqual(got, { ready: true });
    assert.equal(calls, 3);
  });

  it("waits intervalMs between checks", async () => {
    const at: number[] = [];
    await eventually(() => at.push(Date.now()) >= 3, { what: "three checks", timeoutMs: 5_000, intervalMs: 50 });
    assert.ok(at[2]! - at[0]! >= 95, `checks ${at[1]! - at[0]!} ms and ${at[2]! - at[1]!} ms apart`);
  });

  it("fails after timeoutMs naming what it waited for and the check's last error, kept as the cause", async () => {
    let calls = 0;
    const started = Date.now();
    const err = await eventually(
      () => {
        throw new Error(`attempt ${++calls} refused`);
      },
      { what: "the door to open", timeoutMs: 100, intervalMs: 10 },
    ).then(
      () => assert.fail("resolved"),
      (e: unknown) => e,
    );
    assert.ok(Date.now() - started >= 100);
    assert.ok(err instanceof Error);
    assert.equal(
      err.message,
      `timed out after 100 ms waiting for the door to open; last error: attempt ${calls} refused`,
    );
    assert.ok(err.cause instanceof Error && err.cause.message === `attempt ${calls} refused`);
  });

  it("fails after timeoutMs quoting the check's last value", async () => {
    await assert.rejects(
      eventually(() => null, { what: "a value", timeoutMs: 30, intervalMs: 10 }),
      /^Error: timed out after 30 ms waiting for a value; last value: null$/,
    );
    await assert.rejects(
      eventually(async () => false, { what: "a flag", timeoutMs: 30 }),
      (e: unknown) => e instanceof Error && e.message.endsWith("waiting for a flag; last value: false"),
    );
  });
});
