/**
 * The Helm chart (charts/warp-operator): its copies of single-source files, `helm lint --strict`,
 * what it renders (security settings, RBAC equal to operator/rbac/, the Grafana dashboard's metric
 * names), values.schema.json rejections, and a server-side dry-run of the manifests rendered with
 * default values and with every values file in ci/ against a real kube-apiserver.
 */
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import type { V1ClusterRole, V1Deployment, V1PolicyRule, V1Role } from "@kubernetes/client-node";
import { parseAllDocuments, parse as parseYaml } from "yaml";
import { metricsRegistry } from "../../agent/src/metrics/metrics.js";
import type { WarpAgentSpec } from "../../operator/src/api/types.js";
import { OperatorMetrics } from "../../operator/src/controller/metrics.js";
import { CHART_COPIES, CHART_DIR, REPO_ROOT } from "../../scripts/sync-chart.js";
import { eventually } from "../support/eventually.js";
import { startControlPlane } from "../support/kube/control-plane.js";
import type { ControlPlane } from "../support/kube/control-plane.js";
import { helmLint, helmTemplate, kubectl, kubectlApply, writeValuesFile } from "../support/kube/helm.js";

const chart = path.join(REPO_ROOT, CHART_DIR);
const ciValues = fs
  .readdirSync(path.join(chart, "ci"))
  .filter((f) => f.endsWith(".yaml"))
  .sort()
  .map((f) => path.join(chart, "ci", f));

interface Obj {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string };
  [k: string]: unknown;
}

function docs(yamlText: string): Obj[] {
  return parseAllDocuments(yamlText)
    .map((d) => d.toJS() as Obj | null)
    .filter((o): o is Obj => o !== null);
}

function find<T>(objs: Obj[], kind: string, nameSuffix = ""): T {
  const o = objs.find((x) => x.kind === kind && x.metadata.name.endsWith(nameSuffix));
  assert.ok(o, `no ${kind}${nameSuffix ? ` named *${nameSuffix}` : ""} rendered`);
  return o as unknown as T;
}

function rulesOf(file: string): V1PolicyRule[] {
  return (parseYaml(fs.readFileSync(path.join(REPO_ROOT, file), "utf8")) as { rules: V1PolicyRule[] }).rules;
}

const render = (valuesFiles: string[] = [], set: Record<string, string> = {}) =>
  helmTemplate(chart, { release: "warp", namespace: "warp-system", valuesFiles, set });

describe("Helm chart charts/warp-operator", function () {
  this.timeout(300_000);

  it("ships copies equal to their single sources (npx tsx scripts/sync-chart.ts refreshes them)", () => {
    for (const [source, copy] of CHART_COPIES) {
      assert.equal(
        fs.readFileSync(path.join(REPO_ROOT, copy), "utf8"),
        fs.readFileSync(path.join(REPO_ROOT, source), "utf8"),
        `${copy} differs from ${source}`,
      );
    }
  });

  it("passes helm lint --strict with default values and with every values file in ci/", async () => {
    assert.ok(ciValues.length >= 5, "ci/ holds a values file per documented option");
    await helmLint(chart);
    for (const f of ciValues) await helmLint(chart, [f]);
  });

  it("renders a non-root, read-only, unprivileged operator with leader election and probes", async () => {
    const objs = docs(await render());
    const dep = find<V1Deployment>(objs, "Deployment");
    const pod = dep.spec!.template.spec!;
    const c = pod.containers[0]!;
    assert.equal(pod.securityContext?.runAsNonRoot, true);
    assert.equal(pod.securityContext?.seccompProfile?.type, "RuntimeDefault");
    assert.equal(c.securityContext?.readOnlyRootFilesystem, true);
    assert.equal(c.securityContext?.allowPrivilegeEscalation, false);
    assert.deepEqual(c.securityContext?.capabilities?.drop, ["ALL"]);
    assert.deepEqual(c.command, ["warp"]);
    assert.equal(c.args?.[0], "operator");
    assert.ok(c.args?.includes("-leaderElect=true"));
    assert.ok(c.args?.includes("-leaseNamespace=warp-system"));
    assert.equal(c.readinessProbe?.httpGet?.path, "/readyz");
    assert.equal(c.livenessProbe?.httpGet?.path, "/healthz");
    assert.equal(pod.serviceAccountName, "warp-warp-operator");
    // The agent policy is the narrow one: the chart's own image repository, no named service
    // accounts, no Secrets in a WarpAgent's env.
    assert.ok(c.args?.includes("-allowedImageRepositories=ghcr.io/warp-agent/warp"));
    assert.ok(c.args?.includes("-allowSecretEnv=false"));
    assert.ok(!c.args?.some((a) => a.startsWith("-allowedServiceAccounts")));
    assert.equal(
      c.image,
      `ghcr.io/warp-agent/warp:${(parseYaml(fs.readFileSync(path.join(chart, "Chart.yaml"), "utf8")) as { appVersion: string }).appVersion}`,
    );
    // Optional objects stay off by default.
    for (const kind of ["ServiceMonitor", "PodMonitor", "ConfigMap", "WarpAgent", "PodDisruptionBudget"]) {
      assert.equal(objs.filter((o) => o.kind === kind).length, 0, `${kind} rendered by default`);
    }
  });

  it("grants exactly the rules of operator/rbac/ and nothing else", async () => {
    const objs = docs(await render());
    assert.deepEqual(find<V1ClusterRole>(objs, "ClusterRole").rules, rulesOf("operator/rbac/clusterrole.yaml"));
    assert.deepEqual(find<V1Role>(objs, "Role").rules, rulesOf("operator/rbac/role.yaml"));
    const kinds = objs.map((o) => o.kind).filter((k) => k.includes("Role"));
    assert.deepEqual(kinds.sort(), ["ClusterRole", "ClusterRoleBinding", "Role", "RoleBinding"]);

    // With watchNamespaces: the namespaced rules in a Role per watched namespace, only nodes cluster-wide.
    const scoped = docs(await render([path.join(chart, "ci/high-availability-values.yaml")]));
    const clusterRules = rulesOf("operator/rbac/clusterrole.yaml");
    const nodeRules = clusterRules.filter((r) => r.resources?.includes("nodes"));
    assert.deepEqual(find<V1ClusterRole>(scoped, "ClusterRole").rules, nodeRules);
    const roles = scoped.filter((o) => o.kind === "Role" && !o.metadata.name.endsWith("-leader-election"));
    assert.deepEqual(roles.map((r) => r.metadata.namespace).sort(), ["kafka", "streaming"]);
    for (const r of roles)
      assert.deepEqual(
        (r as unknown as V1Role).rules,
        clusterRules.filter((x) => !x.resources?.includes("nodes")),
      );
    const bindings = scoped.filter((o) => o.kind === "RoleBinding" && !o.metadata.name.endsWith("-leader-election"));
    assert.deepEqual(bindings.map((r) => r.metadata.namespace).sort(), ["kafka", "streaming"]);
    const all = [...rulesOf("operator/rbac/clusterrole.yaml"), ...rulesOf("operator/rbac/role.yaml")];
    for (const r of all) {
      assert.ok(
        !r.resources?.some((x) => x === "*" || x === "secrets" || x === "pods"),
        `rule ${JSON.stringify(r)} is too wide`,
      );
      assert.ok(!r.verbs.includes("*") && !r.apiGroups?.includes("*"), `rule ${JSON.stringify(r)} uses a wildcard`);
    }
  });

  it("renders the options of the ci/ values files as documented", async () => {
    const ha = docs(await render([path.join(chart, "ci/high-availability-values.yaml")]));
    const haDep = find<V1Deployment>(ha, "Deployment");
    assert.equal(haDep.spec!.replicas, 2);
    assert.ok(haDep.spec!.template.spec!.containers[0]!.args!.includes("-namespace=kafka,streaming"));
    find(ha, "PodDisruptionBudget");

    const irsa = docs(await render([path.join(chart, "ci/irsa-values.yaml")]));
    const sa = find<{ metadata: { annotations?: Record<string, string> } }>(irsa, "ServiceAccount");
    assert.equal(
      sa.metadata.annotations?.["eks.amazonaws.com/role-arn"],
      "arn:aws:iam::123456789012:role/warp-operator",
    );

    const existing = docs(await render([path.join(chart, "ci/existing-service-account-values.yaml")]));
    assert.equal(existing.filter((o) => o.kind === "ServiceAccount").length, 0);
    assert.equal(
      find<V1Deployment>(existing, "Deployment").spec!.template.spec!.serviceAccountName,
      "platform-warp-operator",
    );

    const local = docs(await render([path.join(chart, "ci/localstack-values.yaml")]));
    const env = find<V1Deployment>(local, "Deployment").spec!.template.spec!.containers[0]!;
    assert.ok(
      env.env!.some(
        (e) => e.name === "AWS_ENDPOINT_URL_DYNAMODB" && e.value === "http://localstack.localstack.svc:4566",
      ),
    );
    assert.equal(env.envFrom?.[0]?.secretRef?.name, "localstack-credentials");

    const mon = docs(await render([path.join(chart, "ci/monitoring-values.yaml")]));
    find(mon, "ServiceMonitor");
    find(mon, "PodMonitor");
    find(mon, "ConfigMap", "-dashboard");

    const policy = docs(await render([path.join(chart, "ci/agent-policy-values.yaml")]));
    const policyArgs = find<V1Deployment>(policy, "Deployment").spec!.template.spec!.containers[0]!.args!;
    for (const arg of [
      "-allowedImageRepositories=registry.example.com/mirror/warp,registry.example.com/platform/",
      "-allowedServiceAccounts=warp-irsa,team-*",
      "-allowSecretEnv=true",
    ])
      assert.ok(policyArgs.includes(arg), `${arg} in ${policyArgs.join(" ")}`);

    const sample = docs(await render([path.join(chart, "ci/sample-warpagent-values.yaml")]));
    const wa = find<{ spec: { zones: unknown[] } }>(sample, "WarpAgent");
    assert.equal(wa.spec.zones.length, 3);

    const oauth = docs(await render([path.join(chart, "ci/oauthbearer-warpagent-values.yaml")]));
    const secured = find<{ spec: WarpAgentSpec }>(oauth, "WarpAgent");
    assert.deepEqual(secured.spec.kafka?.sasl?.mechanisms, ["OAUTHBEARER", "SCRAM-SHA-512"]);
    assert.equal(secured.spec.kafka?.sasl?.oauthbearer?.issuer, "https://idp.example.com/realms/kafka");
    assert.equal(secured.spec.kafka?.sasl?.connectionsMaxReauth, "1h");
  });

  it("its Grafana dashboard queries only metrics that the agent and the operator export", async () => {
    const dashboard = fs.readFileSync(path.join(chart, "dashboards/warp.json"), "utf8");
    JSON.parse(dashboard);
    const exported = new Set<string>();
    for (const m of await metricsRegistry.getMetricsAsJSON()) exported.add(m.name);
    for (const m of await new OperatorMetrics().registry.getMetricsAsJSON()) exported.add(m.name);
    const used = new Set(
      [...dashboard.matchAll(/\b(warp_[a-z_]+?)(?:_bucket|_sum|_count)?\b[{[(\s]/g)].map((m) => m[1]!),
    );
    assert.ok(used.size >= 15, `dashboard uses ${used.size} metrics`);
    for (const name of used) assert.ok(exported.has(name), `dashboard queries ${name}, which nothing exports`);
  });

  it("rejects values that values.schema.json forbids, naming the key", async () => {
    await assert.rejects(render([], { logLevel: "loud" }), /logLevel/);
    await assert.rejects(render([], { replicaCount: "0" }), /replicaCount/);
    await assert.rejects(render([], { "image.pullPolicy": "Sometimes" }), /pullPolicy/);
    await assert.rejects(render([], { notAValue: "x" }), /notAValue/);
    await assert.rejects(render([], { "serviceAccount.create": "false" }), /serviceAccount/);
    await assert.rejects(
      render([
        path.join(chart, "ci/high-availability-values.yaml"),
        writeValuesFile("leaderElection: {enabled: false}\n"),
      ]),
      /replicaCount > 1 needs leaderElection\.enabled/,
    );
    await assert.rejects(render([], { "agentPolicy.allowedServiceAccounts[0]": "Bad_SA" }), /allowedServiceAccounts/);
  });

  describe("against a real kube-apiserver (server-side dry-run)", () => {
    let cp: ControlPlane;

    before(async () => {
      cp = await startControlPlane();
      // The chart's crds/ (as `helm install` applies them), and stand-ins for the Prometheus
      // Operator's ServiceMonitor/PodMonitor CRDs: their real schemas are not available here, so
      // objects of those kinds are checked for group/version/kind only.
      await kubectlApply(fs.readFileSync(path.join(chart, "crds/warpagent.dev_warpagents.yaml"), "utf8"), {
        kubeconfig: cp.kubeconfigPath,
      });
      await kubectlApply(monitoringStandInCrds(), { kubeconfig: cp.kubeconfigPath });
      // The release namespace, and the namespaces ci/high-availability-values.yaml watches (the chart
      // binds a Role in each; they must exist before the release).
      for (const ns of ["warp-system", "kafka", "streaming"])
        await kubectl(cp.kubeconfigPath, ["create", "namespace", ns]);
      await eventually(
        async () => {
          await kubectl(cp.kubeconfigPath, [
            "wait",
            "--for=condition=Established",
            "--timeout=20s",
            "crd/warpagents.warpagent.dev",
            "crd/servicemonitors.monitoring.coreos.com",
            "crd/podmonitors.monitoring.coreos.com",
          ]);
          return true;
        },
        { timeoutMs: 60_000, what: "CRDs to be established" },
      );
    });

    after(async () => {
      await cp?.stop();
    });

    it("accepts the manifests rendered with default values", async () => {
      const out = await kubectlApply(await render(), { kubeconfig: cp.kubeconfigPath, dryRun: true });
      assert.match(out, /deployment\.apps\/warp-warp-operator serverside-applied \(server dry run\)/);
    });

    for (const file of ciValues) {
      it(`accepts the manifests rendered with ci/${path.basename(file)}`, async () => {
        const out = await kubectlApply(await render([file]), { kubeconfig: cp.kubeconfigPath, dryRun: true });
        assert.match(out, /\(server dry run\)/);
      });
    }

    it("with watchNamespaces, the operator may write only in those namespaces", async () => {
      await kubectl(cp.kubeconfigPath, ["create", "namespace", "elsewhere"]);
      await kubectlApply(await render([path.join(chart, "ci/high-availability-values.yaml")]), {
        kubeconfig: cp.kubeconfigPath,
      });
      const can = async (verb: string, resource: string, namespace?: string): Promise<boolean> => {
        const out = await kubectl(cp.kubeconfigPath, [
          "auth",
          "can-i",
          verb,
          resource,
          "--as=system:serviceaccount:warp-system:warp-warp-operator",
          ...(namespace ? ["-n", namespace] : []),
        ]).catch((err: Error) => err.message);
        return /^yes\s*$/m.test(out);
      };
      assert.equal(await can("patch", "deployments.apps", "streaming"), true);
      assert.equal(await can("watch", "warpagents.warpagent.dev", "kafka"), true);
      assert.equal(await can("patch", "deployments.apps", "elsewhere"), false);
      assert.equal(await can("list", "warpagents.warpagent.dev", "elsewhere"), false);
      assert.equal(await can("list", "nodes"), true);
    });

    it("the sample WarpAgent is validated by the CRD: a bad spec is refused with the field named", async () => {
      const bad = await render([path.join(chart, "ci/sample-warpagent-values.yaml")], {
        "sampleWarpAgent.spec.batchTimeout": "5ms",
      });
      await assert.rejects(kubectlApply(bad, { kubeconfig: cp.kubeconfigPath, dryRun: true }), /batchTimeout/);
      const noJwks = await render([path.join(chart, "ci/oauthbearer-warpagent-values.yaml")], {
        "sampleWarpAgent.spec.kafka.sasl.oauthbearer.jwks.secretKeyRef.name": "idp-jwks",
      });
      await assert.rejects(
        kubectlApply(noJwks, { kubeconfig: cp.kubeconfigPath, dryRun: true }),
        /spec\.kafka\.sasl\.oauthbearer\.jwks.*exactly one of url, configMapKeyRef and secretKeyRef/,
      );
    });
  });
});

function monitoringStandInCrds(): string {
  return ["ServiceMonitor", "PodMonitor"]
    .map((kind) => {
      const plural = `${kind.toLowerCase()}s`;
      return `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: ${plural}.monitoring.coreos.com}
spec:
  group: monitoring.coreos.com
  scope: Namespaced
  names: {kind: ${kind}, plural: ${plural}, singular: ${kind.toLowerCase()}, listKind: ${kind}List}
  versions:
    - name: v1
      served: true
      storage: true
      schema:
        openAPIV3Schema: {type: object, x-kubernetes-preserve-unknown-fields: true}
`;
    })
    .join("---\n");
}
