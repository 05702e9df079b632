import assert from "node:assert/strict";
import { InvalidSpecError, resolveSpec } from "../../src/api/resolve.js";
import type { WarpAgent, WarpAgentSpec } from "../../src/api/types.js";
import {
  BATCH_TIMEOUT_RULES,
  BUCKET_NAME_RULES,
  IMAGE_RULE,
  ZONE_NAME_RULE,
  firstBroken,
  parseDurationMs,
} from "../../src/api/validation.js";

function agent(spec: Partial<WarpAgentSpec>): WarpAgent {
  return {
    apiVersion: "warpagent.dev/v1alpha1",
    kind: "WarpAgent",
    metadata: { name: "wa", namespace: "ns" },
    spec: { region: "us-east-1", tables: { files: "fff", chunks: "ccc" }, bucket: { name: "bkt" }, ...spec },
  };
}

describe("spec field rules", () => {
  it("accept the values people use", () => {
    for (const image of [
      "ghcr.io/warp-agent/warp:0.1.0",
      "warp",
      "localhost:5000/team/warp_agent:v1.2.3-rc.1",
      `docker.io/library/warp@sha256:${"a".repeat(64)}`,
    ])
      assert.equal(firstBroken([IMAGE_RULE], image), undefined, image);
    for (const zone of ["us-east-1a", "zone-a", "1", "Zone_B.2"])
      assert.equal(firstBroken([ZONE_NAME_RULE], zone), undefined, zone);
    for (const bucket of ["my-bucket", "my.bucket.1", "abc"])
      assert.equal(firstBroken(BUCKET_NAME_RULES, bucket), undefined, bucket);
    for (const t of ["25ms", "50ms", "1s", "60s"]) assert.equal(firstBroken(BATCH_TIMEOUT_RULES, t), undefined, t);
  });

  it("parse durations in ms and s only, within nine digits", () => {
    assert.equal(parseDurationMs("50ms"), 50);
    assert.equal(parseDurationMs("2s"), 2000);
    assert.equal(parseDurationMs("1m"), null);
    assert.equal(parseDurationMs("9999999999999s"), null);
  });

  it("resolveSpec refuses a stored object the schema would refuse now, naming the field", () => {
    const cases: Array<[Partial<WarpAgentSpec>, RegExp]> = [
      [{ zones: [{ name: "zone a" }] }, /^spec\.zones\[\]\.name: "zone a": zone name must be a label value/],
      [{ image: "" }, /^spec\.image: "": image must be a container image reference/],
      [{ serviceAccountName: "Bad_SA" }, /^spec\.serviceAccountName: .*Kubernetes object name/],
      [{ bucket: { name: "my..bucket" } }, /^spec\.bucket\.name: .*two adjacent periods/],
      [{ bucket: { name: "192.168.1.1" } }, /^spec\.bucket\.name: .*IP address/],
      [{ batchTimeout: "9999999999999s" }, /^spec\.batchTimeout: .*whole number of milliseconds or seconds/],
      [{ batchTimeout: "10ms" }, /^spec\.batchTimeout: .*at least 25ms/],
      [{ env: [{ name: "A B", value: "x" }] }, /^spec\.env\[\]\.name: /],
    ];
    for (const [s, re] of cases)
      assert.throws(
        () => resolveSpec(agent(s)),
        (e: unknown) => e instanceof InvalidSpecError && re.test(e.message),
        JSON.stringify(s),
      );
    assert.equal(resolveSpec(agent({ serviceAccountName: "" })).serviceAccountName, "wa-agent");
  });
});
