import assert from "node:assert/strict";
import { InvalidSpecError, resolveSpec } from "../../src/api/resolve.js";
import type { WarpAgent, WarpAgentSpec } from "../../src/api/types.js";
import {
  BATCH_TIMEOUT_RULES,
  BUCKET_NAME_RULES,
  CLOCK_SKEW_RULES,
  CONNECTIONS_MAX_REAUTH_RULES,
  IMAGE_RULE,
  JWKS_REFRESH_RULES,
  JWKS_URL_RULE,
  ZONE_NAME_RULE,
  firstBroken,
  formatDurationMs,
  parseDurationMs,
  parseDurationPartsMs,
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

  it("durations of the listener settings: whole numbers with h, m, s, ms; the bounds of the agent's flags", () => {
    assert.equal(parseDurationPartsMs("1h30m"), 5_400_000);
    assert.equal(parseDurationPartsMs("250ms"), 250);
    assert.equal(parseDurationPartsMs("0s"), 0);
    for (const bad of ["", "0", "30", "1d", "1.5h", "-1s", "1h 30m", "1234567h", "999999h999999h10s"])
      assert.equal(parseDurationPartsMs(bad), null, bad);
    assert.equal(formatDurationMs(7 * 24 * 3_600_000), "168h");
    assert.equal(formatDurationMs(90_000), "90s");
    for (const ok of ["0s", "30s", "10m"]) assert.equal(firstBroken(CLOCK_SKEW_RULES, ok), undefined, ok);
    assert.match(firstBroken(CLOCK_SKEW_RULES, "601s")!.message, /clockSkew must be from 0s to 10m$/);
    for (const ok of ["1s", "1h", "168h"]) assert.equal(firstBroken(JWKS_REFRESH_RULES, ok), undefined, ok);
    for (const bad of ["999ms", "169h", "0s"]) assert.ok(firstBroken(JWKS_REFRESH_RULES, bad), bad);
    for (const ok of ["0s", "1s", "1h30m", "720h"])
      assert.equal(firstBroken(CONNECTIONS_MAX_REAUTH_RULES, ok), undefined, ok);
    for (const bad of ["1ms", "999ms", "721h", "0"]) assert.ok(firstBroken(CONNECTIONS_MAX_REAUTH_RULES, bad), bad);
    // The CEL twin of each rule names the same bounds.
    assert.match(
      CONNECTIONS_MAX_REAUTH_RULES[1]!.cel,
      /duration\('0s'\).*duration\('1000ms'\).*duration\('2592000000ms'\)/,
    );
  });

  it("a JWKS URL is http(s) without credentials", () => {
    for (const ok of ["https://idp.example.com/realms/kafka/protocol/openid-connect/certs", "http://[::1]:8080/jwks"])
      assert.equal(firstBroken([JWKS_URL_RULE], ok), undefined, ok);
    for (const bad of ["file:///jwks.json", "https://u:p@idp/certs", "https://idp/ce rts", "idp.example.com/certs"])
      assert.ok(firstBroken([JWKS_URL_RULE], bad), bad);
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
