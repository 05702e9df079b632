/**
 * e2e/kind/run.sh needs Docker, which this machine lacks; these static checks keep it correct:
 * shellcheck and `bash -n`, every file it names exists, every `--set` it passes is a chart value,
 * the kind config has a control plane and three workers for the three zones the WarpAgent lists,
 * and its Kubernetes manifests pass a server-side dry-run on a real kube-apiserver (with the CRD).
 */
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { parse as parseYaml } from "yaml";
import { aptInstall } from "../support/kcat.js";
import { runCommand, which } from "../support/processes.js";
import { startControlPlane } from "../support/kube/control-plane.js";
import type { ControlPlane } from "../support/kube/control-plane.js";
import { kubectl, kubectlApply } from "../support/kube/helm.js";
import { CHART_DIR, REPO_ROOT } from "../../scripts/sync-chart.js";

const kindDir = path.join(REPO_ROOT, "e2e/kind");
const script = fs.readFileSync(path.join(kindDir, "run.sh"), "utf8");
const manifests = fs
  .readdirSync(path.join(kindDir, "manifests"))
  .filter((f) => f.endsWith(".yaml"))
  .sort();

async function ensureShellcheck(): Promise<string> {
  if (!which("shellcheck")) await aptInstall(["shellcheck"]);
  const bin = which("shellcheck");
  if (!bin) throw new Error("shellcheck is needed to check e2e/kind/run.sh: apt-get install shellcheck");
  return bin;
}

describe("e2e/kind/run.sh (static checks; the run itself needs Docker)", function () {
  this.timeout(300_000);

  it("passes shellcheck and bash -n", async () => {
    const sc = await runCommand(await ensureShellcheck(), [
      "--severity=style",
      "--shell=bash",
      path.join(kindDir, "run.sh"),
    ]);
    assert.equal(sc.code, 0, `shellcheck:\n${sc.stdout}${sc.stderr}`);
    const syntax = await runCommand("bash", ["-n", path.join(kindDir, "run.sh")]);
    assert.equal(syntax.code, 0, syntax.stderr);
    assert.ok(fs.statSync(path.join(kindDir, "run.sh")).mode & 0o100, "run.sh is executable");
  });

  it("names only files that exist", () => {
    const refs = [...script.matchAll(/\$\{here\}\/([\w./-]+)/g)].map((m) => m[1]!);
    assert.ok(refs.length >= 5);
    for (const r of refs)
      assert.ok(fs.existsSync(path.join(kindDir, r)), `run.sh names e2e/kind/${r}, which does not exist`);
    assert.match(script, /\$\{root\}\/charts\/warp-operator/);
    assert.ok(fs.existsSync(path.join(REPO_ROOT, "Dockerfile")));
  });

  it("sets only values the chart has", () => {
    const values = parseYaml(fs.readFileSync(path.join(REPO_ROOT, CHART_DIR, "values.yaml"), "utf8")) as Record<
      string,
      unknown
    >;
    const keys = [...script.matchAll(/--set ([\w.]+)=/g)].map((m) => m[1]!);
    assert.ok(keys.length >= 5);
    for (const key of keys) {
      let node: unknown = values;
      for (const part of key.split(".")) {
        assert.ok(node !== null && typeof node === "object" && part in node, `--set ${key}: not a value of the chart`);
        node = (node as Record<string, unknown>)[part];
      }
    }
  });

  it("creates three workers and labels them into the WarpAgent's three zones", () => {
    const kind = parseYaml(fs.readFileSync(path.join(kindDir, "kind-config.yaml"), "utf8")) as {
      kind: string;
      apiVersion: string;
      nodes: Array<{ role: string }>;
    };
    assert.equal(kind.kind, "Cluster");
    assert.equal(kind.apiVersion, "kind.x-k8s.io/v1alpha4");
    assert.deepEqual(kind.nodes.map((n) => n.role).sort(), ["control-plane", "worker", "worker", "worker"]);
    const labelled = /zones=\(([^)]*)\)/.exec(script)![1]!.split(/\s+/);
    const wa = parseYaml(fs.readFileSync(path.join(kindDir, "manifests/warpagent.yaml"), "utf8")) as {
      spec: { zones: Array<{ name: string }> };
    };
    assert.deepEqual(
      wa.spec.zones.map((z) => z.name),
      labelled,
    );
  });

  describe("its manifests on a real kube-apiserver (server-side dry-run)", () => {
    let cp: ControlPlane;

    before(async () => {
      cp = await startControlPlane();
      await kubectlApply(fs.readFileSync(path.join(REPO_ROOT, "crds/warpagent.dev_warpagents.yaml"), "utf8"), {
        kubeconfig: cp.kubeconfigPath,
      });
      // run.sh creates these before applying the manifests (the LocalStack manifest carries its own).
      for (const ns of ["streaming", "localstack"]) await kubectl(cp.kubeconfigPath, ["create", "namespace", ns]);
      await kubectl(cp.kubeconfigPath, [
        "wait",
        "--for=condition=Established",
        "--timeout=60s",
        "crd/warpagents.warpagent.dev",
      ]);
    });

    after(async () => {
      await cp?.stop();
    });

    for (const file of manifests) {
      it(`accepts manifests/${file}`, async () => {
        const out = await kubectlApply(fs.readFileSync(path.join(kindDir, "manifests", file), "utf8"), {
          kubeconfig: cp.kubeconfigPath,
          dryRun: true,
        });
        assert.match(out, /\(server dry run\)/);
      });
    }
  });
});
