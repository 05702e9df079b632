import assert from "node:assert/strict";
import { FailureReporter } from "../failure-reporter.js";

describe("FailureReporter", () => {
  let now = 0;
  let lines: string[] = [];
  const reporter = () =>
    new FailureReporter(
      (error, repeats) => lines.push(`failed ${error} +${repeats}`),
      (failures) => lines.push(`recovered after ${failures}`),
      30_000,
      () => now,
    );
  beforeEach(() => {
    now = 0;
    lines = [];
  });

  it("reports the first failure, then the same error at most once per interval with the count between", () => {
    const r = reporter();
    for (let i = 0; i < 600; i++) {
      r.failed("store unreachable"); // every 50 ms for 30 s
      now += 50;
    }
    r.failed("store unreachable");
    assert.deepEqual(lines, ["failed store unreachable +0", "failed store unreachable +599"]);
  });

  it("reports a different error at once, and one recovery line", () => {
    const r = reporter();
    r.failed("a");
    now += 50;
    r.failed("b");
    now += 50;
    r.failed("b");
    r.succeeded();
    r.succeeded();
    assert.deepEqual(lines, ["failed a +0", "failed b +0", "recovered after 3"]);
    r.failed("a");
    assert.equal(lines.at(-1), "failed a +0", "after a recovery the same error is reported again");
  });
});
