/**
 * The real kube-apiserver + etcd harness (e2e/support/kube): CRDs, custom resources, server-side
 * (dry-run) apply, RBAC by client-certificate users, the helm binary, and kube-controller-manager
 * rolling out a Deployment whose Pods the PodRunner runs. The first run builds kube-apiserver,
 * kube-controller-manager, etcd and helm from the Go module proxy (many minutes; cached afterwards).
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { ApiException, ApiextensionsV1Api, CustomObjectsApi } from "@kubernetes/client-node";
import type { KubeConfig, V1Deployment, V1Pod } from "@kubernetes/client-node";
import { KubeClient } from "../../operator/src/kube/client.js";
import { ensureKubeBinaries, HELM_VERSION } from "../support/kube/build.js";
import { eventually } from "../support/eventually.js";
import { applyYaml, startControlPlane } from "../support/kube/control-plane.js";
import type { ControlPlane } from "../support/kube/control-plane.js";
import { NODE_NAME, rewriteMounts } from "../support/kube/pod-launcher.js";
import { PodRunner } from "../support/kube/pod-runner.js";

const execFileP = promisify(execFile);

const NS = "harness-test";
const GROUP = "harness.warp.test";

const CRD_YAML = `
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: widgets.${GROUP}
spec:
  group: ${GROUP}
  scope: Namespaced
  names: { plural: widgets, singular: widget, kind: Widget, listKind: WidgetList }
  versions:
    - name: v1
      served: true
      storage: true
      subresources: { status: {} }
      schema:
        openAPIV3Schema:
          type: object
          properties:
            spec:
              type: object
              required: [size]
              properties:
                size: { type: integer, minimum: 1 }
                colour: { type: string }
            status:
              type: object
              properties:
                ready: { type: boolean }
`;

function widget(name: string, size: number, colour = "blue"): string {
  return `
apiVersion: ${GROUP}/v1
kind: Widget
metadata: { name: ${name}, namespace: ${NS} }
spec: { size: ${size}, colour: ${colour} }
`;
}

interface Widget {
  metadata: { name: string; generation?: number };
  spec: { size: number; colour?: string };
}

async function getWidget(kc: KubeConfig, name: string): Promise<Widget> {
  return (await kc
    .makeApiClient(CustomObjectsApi)
    .getNamespacedCustomObject({ group: GROUP, version: "v1", namespace: NS, plural: "widgets", name })) as Widget;
}

async function listWidgets(kc: KubeConfig): Promise<Widget[]> {
  const list = (await kc
    .makeApiClient(CustomObjectsApi)
    .listNamespacedCustomObject({ group: GROUP, version: "v1", namespace: NS, plural: "widgets" })) as {
    items: Widget[];
  };
  return list.items;
}

async function assertStatus(p: Promise<unknown>, code: number): Promise<void> {
  await assert.rejects(p, (err: unknown) => {
    assert.ok(err instanceof ApiException, `expected an ApiException, got ${String(err)}`);
    assert.equal(err.code, code, `expected HTTP ${code}, got ${err.code}: ${JSON.stringify(err.body)}`);
    return true;
  });
}

describe("kube harness: pod-launcher paths", () => {
  it("rewrites a path, or a file:// URL of a path, under a container mountPath to its host directory", () => {
    const mounts = new Map([
      ["/etc/warp/oauth", "/tmp/pod x/oauth"],
      ["/etc/warp", "/tmp/pod x/warp"],
    ]);
    assert.equal(rewriteMounts("/etc/warp/oauth/jwks.json", mounts), "/tmp/pod x/oauth/jwks.json");
    assert.equal(rewriteMounts("/etc/warp/users", mounts), "/tmp/pod x/warp/users");
    assert.equal(rewriteMounts("file:///etc/warp/oauth/jwks.json", mounts), "file:///tmp/pod%20x/oauth/jwks.json");
    for (const same of ["/etc/warpx/a", "file:///elsewhere/jwks.json", "https://idp.example/etc/warp/oauth"])
      assert.equal(rewriteMounts(same, mounts), same);
  });
});

describe("kube harness: real kube-apiserver + etcd", function () {
  let cp: ControlPlane;

  before(async function () {
    // A cold first run builds kube-apiserver from source: allow up to an hour.
    this.timeout(60 * 60_000);
    cp = await startControlPlane();
  });

  after(async function () {
    this.timeout(60_000);
    await cp?.stop();
  });

  it("creates a namespace and a CRD that becomes Established", async function () {
    this.timeout(120_000);
    const kc = cp.adminConfig();
    await applyYaml(kc, `apiVersion: v1\nkind: Namespace\nmetadata:\n  name: ${NS}\n`);
    await applyYaml(kc, CRD_YAML);
    const ext = kc.makeApiClient(ApiextensionsV1Api);
    await eventually(
      async () => {
        const crd = await ext.readCustomResourceDefinition({ name: `widgets.${GROUP}` });
        return crd.status?.conditions?.some((c) => c.type === "Established" && c.status === "True");
      },
      { timeoutMs: 60_000, what: "CRD widgets to be Established" },
    );
  });

  it("creates a custom resource by server-side apply, validated by the CRD schema", async function () {
    this.timeout(120_000);
    const kc = cp.adminConfig();
    // Discovery of a just-established group can lag a moment behind the Established condition.
    const [applied] = await eventually(() => applyYaml(kc, widget("w1", 3)), {
      timeoutMs: 30_000,
      what: "Widget w1 to be applied",
    });
    assert.equal(applied?.metadata?.name, "w1");
    const w1 = await getWidget(kc, "w1");
    assert.deepEqual(w1.spec, { size: 3, colour: "blue" });
    await assertStatus(applyYaml(kc, widget("w-bad", 0)), 422);
  });

  it("server-side dry-run apply answers the new object but stores nothing", async function () {
    this.timeout(60_000);
    const kc = cp.adminConfig();
    const [dry] = (await applyYaml(kc, widget("w1", 7, "red"), { dryRun: true })) as unknown as Widget[];
    assert.deepEqual(dry?.spec, { size: 7, colour: "red" });
    assert.deepEqual((await getWidget(kc, "w1")).spec, { size: 3, colour: "blue" });

    const [dryNew] = await applyYaml(kc, widget("w-dry", 2), { dryRun: true });
    assert.equal(dryNew?.metadata?.name, "w-dry");
    await assertStatus(getWidget(kc, "w-dry"), 404);
    // Dry run still validates.
    await assertStatus(applyYaml(kc, widget("w1", 0), { dryRun: true }), 422);
  });

  it("RBAC: a user bound to no role is Forbidden; a Role binding grants exactly its verbs", async function () {
    this.timeout(60_000);
    const admin = cp.adminConfig();
    const nobody = await cp.userConfig("nobody");
    await assertStatus(listWidgets(nobody), 403);
    await assertStatus(getWidget(nobody, "w1"), 403);

    await applyYaml(
      admin,
      `
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: { name: widget-reader, namespace: ${NS} }
rules:
  - apiGroups: ["${GROUP}"]
    resources: [widgets]
    verbs: [get, list, watch]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: { name: alice-reads-widgets, namespace: ${NS} }
roleRef: { apiGroup: rbac.authorization.k8s.io, kind: Role, name: widget-reader }
subjects:
  - { apiGroup: rbac.authorization.k8s.io, kind: User, name: alice }
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: { name: readers-read-widgets, namespace: ${NS} }
roleRef: { apiGroup: rbac.authorization.k8s.io, kind: Role, name: widget-reader }
subjects:
  - { apiGroup: rbac.authorization.k8s.io, kind: Group, name: widget-readers }
`,
    );

    const alice = await cp.userConfig("alice");
    // RBAC reads bindings from an informer cache: the grant shows up shortly after it is stored.
    const names = await eventually(async () => (await listWidgets(alice)).map((w) => w.metadata.name), {
      timeoutMs: 30_000,
      what: "alice to be allowed to list widgets",
    });
    assert.deepEqual(names, ["w1"]);
    assert.equal((await getWidget(alice, "w1")).spec.size, 3);
    await assertStatus(applyYaml(alice, widget("w2", 1)), 403);
    await assertStatus(applyYaml(alice, widget("w1", 9)), 403);

    // Group membership comes from the certificate's O fields.
    const bob = await cp.userConfig("bob", ["widget-readers"]);
    assert.deepEqual(
      (await listWidgets(bob)).map((w) => w.metadata.name),
      ["w1"],
    );
    // The role is namespaced: other namespaces stay closed.
    await assertStatus(
      bob
        .makeApiClient(CustomObjectsApi)
        .listNamespacedCustomObject({ group: GROUP, version: "v1", namespace: "default", plural: "widgets" }),
      403,
    );
  });

  it("builds a kubectl that talks to the control plane through the admin kubeconfig", async function () {
    this.timeout(60_000);
    const { kubectl } = await ensureKubeBinaries();
    assert.ok(kubectl, "kubectl was not built (is WARP_BUILD_KUBECTL=0 set?)");
    const { stdout } = await execFileP(kubectl, [
      "--kubeconfig",
      cp.kubeconfigPath,
      "get",
      "widgets",
      "-n",
      NS,
      "-o",
      "name",
    ]);
    assert.equal(stdout.trim(), `widget.${GROUP}/w1`);
  });

  it("builds a working helm that talks to the control plane through a kubeconfig file", async function () {
    this.timeout(60_000);
    const { helm } = await ensureKubeBinaries();
    const { stdout: version } = await execFileP(helm, ["version", "--short"]);
    assert.match(version, new RegExp(`^${HELM_VERSION.replace(/\./g, "\\.")}\\b`));
    const env = { ...process.env, KUBECONFIG: cp.kubeconfigPath };
    const { stdout: list } = await execFileP(helm, ["list", "--namespace", NS, "--output", "json"], { env });
    assert.deepEqual(JSON.parse(list), []);
    // A user with no rights cannot read helm's release secrets.
    const nobodyKubeconfig = await cp.userKubeconfigPath("nobody");
    await assert.rejects(
      execFileP(helm, ["list", "--namespace", NS, "--output", "json"], {
        env: { ...env, KUBECONFIG: nobodyKubeconfig },
      }),
      /forbidden/i,
    );
  });
});

describe("kube harness: kube-controller-manager and the PodRunner", function () {
  this.timeout(180_000);
  let cp: ControlPlane;
  let admin: KubeClient;
  let pods: PodRunner;
  const deployments = { apiVersion: "apps/v1", plural: "deployments", namespace: NS };
  /** A pod that answers its readiness probe on the port given as its only argument. */
  const server = [
    process.execPath,
    "-e",
    'require("node:http").createServer((q, r) => r.end("ok")).listen(Number(process.argv[1]), "127.0.0.1")',
  ];
  const deployment = (image: string) => ({
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name: "web", namespace: NS },
    spec: {
      replicas: 2,
      selector: { matchLabels: { app: "web" } },
      strategy: { type: "RollingUpdate", rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } },
      template: {
        metadata: { labels: { app: "web" } },
        spec: {
          containers: [
            {
              name: "web",
              image,
              command: ["server"],
              args: ["8080"],
              ports: [{ name: "http", containerPort: 8080 }],
              readinessProbe: { httpGet: { path: "/", port: "http" } },
            },
          ],
        },
      },
    },
  });

  before(async function () {
    this.timeout(60 * 60_000);
    cp = await startControlPlane({ controllerManager: true });
    admin = await KubeClient.fromKubeConfig(cp.adminConfig());
    await admin.create(
      { apiVersion: "v1", plural: "namespaces" },
      { apiVersion: "v1", kind: "Namespace", metadata: { name: NS } },
    );
    pods = new PodRunner({ admin, namespace: NS, commands: { server }, cwd: process.cwd() });
    pods.start();
  });

  after(async function () {
    this.timeout(60_000);
    await pods?.stop();
    await cp?.stop();
  });

  it("a Deployment rolls out through a ReplicaSet whose Pods run as processes; deleting it collects them", async () => {
    await admin.patch({ ...deployments, name: "web" }, "apply", deployment("web:1"), "harness-test");
    const available = (n: number, updated: number) =>
      eventually(
        async () => {
          const d = await admin.get<V1Deployment>({ ...deployments, name: "web" });
          const st = d.status ?? {};
          return st.observedGeneration === d.metadata?.generation &&
            st.availableReplicas === n &&
            st.updatedReplicas === updated &&
            st.replicas === n
            ? d
            : undefined;
        },
        { timeoutMs: 60_000, what: `Deployment web: ${n} available, ${updated} updated` },
      );
    await available(2, 2);
    assert.equal(pods.pods("web-").length, 2);
    assert.ok(pods.pods("web-").every((p) => p.ready));
    const pod = (await admin.list<V1Pod>({ apiVersion: "v1", plural: "pods", namespace: NS })).items[0]!;
    assert.equal(pod.spec?.nodeName, NODE_NAME, "bound, as by a scheduler: its deletion is graceful");
    assert.equal(pod.status?.phase, "Running");
    assert.equal(pod.status?.conditions?.find((c) => c.type === "Ready")?.status, "True");

    // An image no node can pull: one new pod stays Pending, both old ones keep serving.
    await admin.patch({ ...deployments, name: "web" }, "apply", deployment("web:does-not-exist"), "harness-test");
    await eventually(
      async () => {
        const d = await admin.get<V1Deployment>({ ...deployments, name: "web" });
        const st = d.status ?? {};
        return st.observedGeneration === d.metadata?.generation && st.replicas === 3 && st.updatedReplicas === 1;
      },
      { timeoutMs: 60_000, what: "the rollout to be under way" },
    );
    const stuck = await eventually(
      async () => {
        const all = (await admin.list<V1Pod>({ apiVersion: "v1", plural: "pods", namespace: NS })).items;
        const fresh = all.filter((p) => p.spec?.containers[0]?.image === "web:does-not-exist");
        return fresh.length === 1 && fresh[0]!.status?.containerStatuses?.[0]?.state?.waiting?.reason === "ErrImagePull"
          ? fresh
          : undefined;
      },
      { timeoutMs: 30_000, what: "the new pod Pending in ErrImagePull" },
    );
    assert.equal(stuck[0]!.status?.phase, "Pending");
    assert.equal(pods.pods("web-").length, 2, "the old pods still run");

    // A good image: the rolling update replaces the pods one by one.
    await admin.patch({ ...deployments, name: "web" }, "apply", deployment("web:2"), "harness-test");
    await available(2, 2);
    await eventually(() => pods.pods("web-").length === 2, { timeoutMs: 30_000, what: "old pods stopped" });

    // Garbage collection: the ReplicaSets and Pods owned by the Deployment go with it.
    await admin.delete({ ...deployments, name: "web" });
    await eventually(
      async () =>
        (await admin.list<V1Pod>({ apiVersion: "v1", plural: "pods", namespace: NS })).items.length === 0 &&
        (await admin.list({ apiVersion: "apps/v1", plural: "replicasets", namespace: NS })).items.length === 0,
      { timeoutMs: 60_000, what: "ReplicaSets and Pods collected" },
    );
    await eventually(() => pods.pods().length === 0, { timeoutMs: 30_000, what: "pod processes stopped" });
    assert.deepEqual(pods.errors, []);
  });
});
