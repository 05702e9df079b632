import assert from "node:assert/strict";
import { DEFAULT_POLICY, imageRepository, policyViolations } from "../../src/api/policy.js";
import type { AgentPolicy } from "../../src/api/policy.js";
import { resolveSpec } from "../../src/api/resolve.js";
import type { ResolvedSpec } from "../../src/api/resolve.js";
import type { WarpAgentSpec } from "../../src/api/types.js";

function resolved(spec: Partial<WarpAgentSpec>): ResolvedSpec {
  return resolveSpec({
    apiVersion: "warpagent.dev/v1alpha1",
    kind: "WarpAgent",
    metadata: { name: "wa", namespace: "ns" },
    spec: { region: "us-east-1", tables: { files: "fff", chunks: "ccc" }, bucket: { name: "bkt" }, ...spec },
  });
}

const fields = (spec: Partial<WarpAgentSpec>, policy: AgentPolicy = DEFAULT_POLICY): string[] =>
  policyViolations(resolved(spec), policy).map((v) => v.field);

describe("agent policy", () => {
  it("image repositories: without tag and digest", () => {
    assert.equal(imageRepository("ghcr.io/warp-agent/warp:0.1.0"), "ghcr.io/warp-agent/warp");
    assert.equal(imageRepository("localhost:5000/warp"), "localhost:5000/warp");
    assert.equal(imageRepository(`warp@sha256:${"a".repeat(64)}`), "warp");
  });

  it("by default: the default image, the operator's own service account, no Secrets in env", () => {
    assert.deepEqual(fields({}), []);
    assert.deepEqual(fields({ image: "ghcr.io/warp-agent/warp:9.9.9" }), []);
    assert.deepEqual(fields({ env: [{ name: "A", valueFrom: { fieldRef: { fieldPath: "metadata.name" } } }] }), []);
    assert.deepEqual(fields({ image: "ghcr.io/warp-agent/warp-evil:1" }), ["spec.image"]);
    assert.deepEqual(fields({ image: "docker.io/attacker/anything" }), ["spec.image"]);
    assert.deepEqual(fields({ serviceAccountName: "wa-agent" }), ["spec.serviceAccountName"]);
    assert.deepEqual(fields({ env: [{ name: "S", valueFrom: { secretKeyRef: { name: "s", key: "k" } } }] }), [
      "spec.env[0].valueFrom.secretKeyRef",
    ]);
  });

  it("a wider policy: repository prefixes, service account patterns, Secrets in env", () => {
    const policy: AgentPolicy = {
      allowedImageRepositories: ["registry.example.com/mirror/", "docker.io/library/warp"],
      allowedServiceAccounts: ["warp-*", "irsa"],
      allowSecretEnv: true,
    };
    const ok: Array<Partial<WarpAgentSpec>> = [
      { image: "registry.example.com/mirror/team/warp:1" },
      { image: "docker.io/library/warp:2" },
      { image: "docker.io/library/warp", serviceAccountName: "warp-irsa" },
      {
        image: "docker.io/library/warp",
        serviceAccountName: "irsa",
        env: [{ name: "S", valueFrom: { secretKeyRef: { name: "s", key: "k" } } }],
      },
    ];
    for (const s of ok) assert.deepEqual(fields(s, policy), [], JSON.stringify(s));
    assert.deepEqual(fields({ image: "registry.example.com/mirrorx/warp" }, policy), ["spec.image"]);
    assert.deepEqual(fields({ image: "docker.io/library/warp", serviceAccountName: "irsa2" }, policy), [
      "spec.serviceAccountName",
    ]);
  });
});
