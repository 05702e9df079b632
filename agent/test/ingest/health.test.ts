/**
 * IngestionHealth: a file pending too long or a recent failure without a later success is a problem;
 * a success clears a failure; a failure is forgotten after rememberFailureMs. Clock injected.
 */
import assert from "node:assert/strict";
import { IngestionHealth } from "../../src/ingest/health.js";

describe("ingestion health", () => {
  let now = 0;
  const health = () => new IngestionHealth({ stuckAfterMs: 5_000, rememberFailureMs: 10_000, now: () => now });
  beforeEach(() => {
    now = 1_000_000;
  });

  it("is healthy with nothing written, and while writes complete in time", () => {
    const h = health();
    assert.equal(h.problem(), null);
    const t = h.started();
    now += 4_000;
    assert.equal(h.problem(), null);
    h.succeeded(t);
    assert.equal(h.problem(), null);
  });

  it("reports a write pending longer than stuckAfterMs, until it ends", () => {
    const h = health();
    const stuck = h.started();
    now += 2_000;
    const later = h.started();
    now += 3_500;
    assert.match(h.problem() ?? "", /pending for 5500 ms/, "the oldest pending write counts");
    h.succeeded(later);
    assert.match(h.problem() ?? "", /pending/);
    h.succeeded(stuck);
    assert.equal(h.problem(), null);
  });

  it("orders outcomes by arrival, not by clock: a failure in the same millisecond as a success counts", () => {
    const h = health();
    h.succeeded(h.started());
    h.failed(h.started(), "same millisecond");
    assert.match(h.problem() ?? "", /same millisecond/);
  });

  it("reports a failure until a later success or until it is rememberFailureMs old", () => {
    const h = health();
    h.failed(h.started(), "writing ingestion file x failed: InternalServerError");
    assert.match(h.problem() ?? "", /failed 0 ms ago: writing ingestion file x failed/);
    now += 1_000;
    h.succeeded(h.started());
    assert.equal(h.problem(), null, "a success clears it");

    now += 1_000;
    h.failed(h.started(), "again");
    now += 9_999;
    assert.match(h.problem() ?? "", /again/);
    now += 1;
    assert.equal(h.problem(), null, "forgotten after rememberFailureMs");
  });

  it("takes a file ended without a verdict (lost with the sequencer) as neither a failure nor a success", () => {
    const h = health();
    const lost = h.started();
    now += 6_000;
    assert.match(h.problem() ?? "", /pending/);
    h.ended(lost);
    assert.equal(h.problem(), null, "no longer pending, and not a failure");
    h.failed(h.started(), "the store refused");
    h.ended(h.started());
    assert.match(h.problem() ?? "", /the store refused/, "nor does it clear an earlier failure");
  });
});
