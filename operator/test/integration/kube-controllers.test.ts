/**
 * The operator with Kubernetes' own controllers: a real kube-apiserver + etcd and
 * kube-controller-manager (deployment, replicaset, garbage-collector, disruption, namespace and
 * endpointslice controllers), and a PodRunner standing in for the kubelet, one local process per Pod
 * the ReplicaSets create. The agent pods run a small HTTP server answering the readiness probe: what
 * is tested here is rollouts, ownership and garbage collection, not the agent.
 */
import assert from "node:assert/strict";
import { CreateBucketCommand, S3Client } from "@aws-sdk/client-s3";
import type { V1Deployment, V1Service } from "@kubernetes/client-node";
import { LOCAL_AWS, startDynamoDbLocal } from "../../../e2e/support/dynamodb-local.js";
import type { DynamoDbLocal } from "../../../e2e/support/dynamodb-local.js";
import { eventually } from "../../../e2e/support/eventually.js";
import { startControlPlane } from "../../../e2e/support/kube/control-plane.js";
import type { ControlPlane } from "../../../e2e/support/kube/control-plane.js";
import { PodRunner } from "../../../e2e/support/kube/pod-runner.js";
import { startS3Server } from "../../../e2e/support/s3-server.js";
import type { S3Server } from "../../../e2e/support/s3-server.js";
import { getCondition } from "../../src/api/conditions.js";
import type { ConditionType } from "../../src/api/conditions.js";
import { warpAgentCrd } from "../../src/api/crd.js";
import type { Condition, WarpAgent, WarpAgentSpec } from "../../src/api/types.js";
import { deploymentName } from "../../src/desired/labels.js";
import { headlessServiceName } from "../../src/desired/services.js";
import { KubeClient, isNotFound } from "../../src/kube/client.js";
import { DEFAULT_POLICY } from "../../src/api/policy.js";
import { runOperator } from "../../src/main.js";
import type { OperatorHandle } from "../../src/main.js";

const NS = "kcm";
const WA = { apiVersion: "warpagent.dev/v1alpha1", plural: "warpagents" };
const DEPLOYMENTS = { apiVersion: "apps/v1", plural: "deployments", namespace: NS };
const SERVICES = { apiVersion: "v1", plural: "services", namespace: NS };
/** The image entrypoint `warp`: answers /readyz and /healthz on the port given by `-httpPort`. */
const FAKE_AGENT = [
  process.execPath,
  "-e",
  `const a = process.argv; const port = Number(a[a.indexOf("-httpPort") + 1]);
   require("node:http").createServer((q, r) => r.end("ok")).listen(port, "127.0.0.1");`,
  "--",
];

function cond(a: WarpAgent | undefined, type: ConditionType): Condition | undefined {
  return getCondition(a?.status?.conditions, type);
}

describe("operator with kube-controller-manager: rollouts, ownership, garbage collection", function () {
  this.timeout(300_000);
  let cp: ControlPlane;
  let ddb: DynamoDbLocal;
  let s3srv: S3Server;
  let admin: KubeClient;
  let operator: OperatorHandle | undefined;
  let pods: PodRunner;

  const spec = (name: string, s: Partial<WarpAgentSpec> = {}): WarpAgentSpec => ({
    region: "us-east-1",
    tables: { files: `${name}-files`, chunks: `${name}-chunks`, deletionPolicy: "Delete" },
    bucket: { name: "kcm-bucket" },
    batchTimeout: "50ms",
    endpoints: { dynamodb: ddb.endpoint, s3: s3srv.endpoint },
    zones: [{ name: "zone-a" }],
    ...s,
  });
  const applyAgent = (name: string, s: WarpAgentSpec): Promise<WarpAgent> =>
    admin.patch<WarpAgent>(
      { ...WA, namespace: NS, name },
      "apply",
      { apiVersion: WA.apiVersion, kind: "WarpAgent", metadata: { name, namespace: NS }, spec: s },
      "test-user",
    );
  const getAgent = (name: string): Promise<WarpAgent> => admin.get<WarpAgent>({ ...WA, namespace: NS, name });
  const agentWhere = (name: string, what: string, ok: (a: WarpAgent) => boolean): Promise<WarpAgent> =>
    eventually(
      async () => {
        const a = await getAgent(name);
        return a.status?.observedGeneration === a.metadata.generation && ok(a) ? a : undefined;
      },
      { timeoutMs: 90_000, what: `WarpAgent ${name}: ${what}` },
    );
  const waitReady = (name: string): Promise<WarpAgent> =>
    agentWhere(name, "Ready", (a) => cond(a, "Ready")?.status === "True");
  const gone = async (ref: { apiVersion: string; plural: string; namespace: string; name: string }) => {
    try {
      await admin.get(ref);
      return false;
    } catch (err) {
      if (isNotFound(err)) return true;
      throw err;
    }
  };

  before(async () => {
    process.env.AWS_ACCESS_KEY_ID ??= LOCAL_AWS.credentials.accessKeyId;
    process.env.AWS_SECRET_ACCESS_KEY ??= LOCAL_AWS.credentials.secretAccessKey;
    [cp, ddb, s3srv] = await Promise.all([
      startControlPlane({ controllerManager: true }),
      startDynamoDbLocal(),
      startS3Server(),
    ]);
    admin = await KubeClient.fromKubeConfig(cp.adminConfig());
    const s3 = new S3Client({ ...LOCAL_AWS, endpoint: s3srv.endpoint, forcePathStyle: true });
    await s3.send(new CreateBucketCommand({ Bucket: "kcm-bucket" }));
    s3.destroy();
    const crd = warpAgentCrd();
    await admin.patch(
      { apiVersion: "apiextensions.k8s.io/v1", plural: "customresourcedefinitions", name: crd.metadata.name },
      "apply",
      crd,
      "warp-e2e",
    );
    await eventually(() => admin.list({ ...WA }).then(() => true), { timeoutMs: 30_000, what: "warpagents served" });
    await admin.create(
      { apiVersion: "v1", plural: "namespaces" },
      { apiVersion: "v1", kind: "Namespace", metadata: { name: NS } },
    );
    operator = await runOperator({
      kubeconfig: cp.adminConfig(),
      metricsPort: false,
      discoverZones: false,
      aws: { dynamodbEndpoint: ddb.endpoint, s3Endpoint: s3srv.endpoint },
      requeue: { baseDelayMs: 200, maxDelayMs: 2_000, pendingMs: 300 },
      // The default image and the test images (example.com/warp:<tag>) are allowed.
      policy: {
        ...DEFAULT_POLICY,
        allowedImageRepositories: [...DEFAULT_POLICY.allowedImageRepositories, "example.com/warp"],
      },
    });
    pods = new PodRunner({
      admin,
      namespace: NS,
      labelSelector: "app.kubernetes.io/managed-by=warp-operator",
      commands: { warp: FAKE_AGENT },
      cwd: process.cwd(),
    });
    pods.start();
  });

  after(async () => {
    await operator?.stop();
    await pods?.stop();
    await Promise.all([cp?.stop(), ddb?.stop(), s3srv?.stop()]);
  });

  it("an image whose pods never become ready: AgentsReady and Ready False, then RolloutStuck", async () => {
    await applyAgent("roll", spec("roll"));
    await waitReady("roll");
    const dep = deploymentName("roll", "zone-a");
    assert.equal(pods.pods(dep).length, 1, "one pod runs, from the ReplicaSet the deployment controller made");
    // A short progress deadline, set on the Deployment the operator made (a field the operator does not manage).
    await admin.patch(
      { ...DEPLOYMENTS, name: dep },
      "apply",
      {
        apiVersion: "apps/v1",
        kind: "Deployment",
        metadata: { name: dep, namespace: NS },
        spec: { progressDeadlineSeconds: 4 },
      },
      "test-progress-deadline",
    );
    await eventually(
      async () => {
        const d = await admin.get<V1Deployment>({ ...DEPLOYMENTS, name: dep });
        return (
          (d.status?.observedGeneration ?? 0) >= (d.metadata?.generation ?? 0) && d.status?.availableReplicas === 1
        );
      },
      { timeoutMs: 30_000, what: "the deadline change observed" },
    );
    await applyAgent("roll", spec("roll", { image: "example.com/warp:does-not-exist" }));
    // Mid-rollout, as `kubectl rollout status` shows it: the new pod never ready, the old one still serving.
    await eventually(
      async () => {
        const d = await admin.get<V1Deployment>({ ...DEPLOYMENTS, name: dep });
        const st = d.status ?? {};
        return (
          st.observedGeneration === d.metadata?.generation &&
          st.replicas === 2 &&
          st.updatedReplicas === 1 &&
          st.availableReplicas === 1
        );
      },
      { timeoutMs: 30_000, what: "the rollout to be under way with the old pod available" },
    );
    await new Promise((r) => setTimeout(r, 2_000)); // the operator has seen that Deployment status
    const progressing = await getAgent("roll");
    assert.equal(progressing.status?.observedGeneration, progressing.metadata.generation);
    assert.equal(cond(progressing, "AgentsReady")?.status, "False", cond(progressing, "AgentsReady")?.message);
    assert.equal(cond(progressing, "Ready")?.status, "False");
    const stuck = await agentWhere("roll", "RolloutStuck", (a) => cond(a, "AgentsReady")?.reason === "RolloutStuck");
    assert.equal(cond(stuck, "Ready")?.status, "False");
    assert.match(cond(stuck, "AgentsReady")?.message ?? "", /zone-a.*ProgressDeadlineExceeded/);
    // Back to a good image: the rollout completes and the WarpAgent is Ready again.
    await applyAgent("roll", spec("roll"));
    await waitReady("roll");
  });

  it("a user's Service with the WarpAgent's name is never taken over, and survives the WarpAgent's deletion", async () => {
    const userService = {
      apiVersion: "v1",
      kind: "Service",
      metadata: { name: "payments", namespace: NS, labels: { app: "payments-api" } },
      spec: { selector: { app: "payments-api" }, ports: [{ name: "http", port: 80, targetPort: 8080 }] },
    };
    const before = await admin.create<V1Service>(SERVICES, userService);
    await applyAgent("payments", spec("payments"));
    const a = await agentWhere("payments", "Conflict", (x) => cond(x, "AgentsReady")?.reason === "Conflict");
    assert.match(cond(a, "AgentsReady")?.message ?? "", /Service payments/);
    assert.equal(cond(a, "Ready")?.status, "False");
    const dep = deploymentName("payments", "zone-a");
    await eventually(() => pods.pods(dep).length === 1, { timeoutMs: 60_000, what: "the agent pod to run" });
    const after = await admin.get<V1Service>({ ...SERVICES, name: "payments" });
    assert.equal(after.metadata?.resourceVersion, before.metadata?.resourceVersion, "the user's Service is unchanged");
    assert.equal(after.metadata?.ownerReferences, undefined);
    assert.deepEqual(after.spec?.selector, { app: "payments-api" });

    await admin.delete({ ...WA, namespace: NS, name: "payments" });
    await eventually(() => gone({ ...WA, namespace: NS, name: "payments" }), {
      timeoutMs: 60_000,
      what: "the WarpAgent to be deleted",
    });
    // The garbage collector has run on what the WarpAgent owned ...
    await eventually(() => gone({ ...DEPLOYMENTS, name: dep }), {
      timeoutMs: 60_000,
      what: "its Deployment collected",
    });
    await eventually(() => gone({ ...SERVICES, name: headlessServiceName("payments") }), {
      timeoutMs: 60_000,
      what: "its headless Service collected",
    });
    await eventually(() => pods.pods(dep).length === 0, { timeoutMs: 60_000, what: "its pods gone" });
    // ... and not on the user's Service.
    const survivor = await admin.get<V1Service>({ ...SERVICES, name: "payments" });
    assert.equal(survivor.metadata?.uid, before.metadata?.uid);
  });

  it("WarpAgents whose names and zones join to the same text get distinct objects", async () => {
    await applyAgent("coll", spec("coll"));
    await applyAgent("coll-agents", spec("coll-agents"));
    await applyAgent("ab", spec("ab", { zones: [{ name: "c-d" }] }));
    await applyAgent("ab-c", spec("ab-c", { zones: [{ name: "d" }] }));
    for (const n of ["coll", "coll-agents", "ab", "ab-c"]) {
      const a = await waitReady(n);
      assert.equal(cond(a, "AgentsReady")?.reason, "DeploymentsReady", n);
    }
    const owners = async (ref: { apiVersion: string; plural: string; namespace: string }, name: string) =>
      ((await admin.get<V1Service>({ ...ref, name })).metadata?.ownerReferences ?? []).map((o) => o.name);
    for (const n of ["coll", "coll-agents"]) {
      assert.deepEqual(await owners(SERVICES, n), [n], `bootstrap Service ${n}`);
      assert.deepEqual(await owners(SERVICES, headlessServiceName(n)), [n], `headless Service of ${n}`);
    }
    assert.notEqual(deploymentName("ab", "c-d"), deploymentName("ab-c", "d"));
    assert.deepEqual(await owners(DEPLOYMENTS, deploymentName("ab", "c-d")), ["ab"]);
    assert.deepEqual(await owners(DEPLOYMENTS, deploymentName("ab-c", "d")), ["ab-c"]);
    assert.equal(pods.pods(deploymentName("ab", "c-d")).length, 1);
    assert.equal(pods.pods(deploymentName("ab-c", "d")).length, 1);
  });

  it("upgrade: an old-named Deployment serves its zone until the new one has rolled out, then is deleted", async () => {
    // What an operator naming Deployments `<name>-<zone>` and the headless Service `<name>-agents` left.
    const paused = await applyAgent("upg", spec("upg", { paused: true }));
    const owner = {
      apiVersion: WA.apiVersion,
      kind: "WarpAgent",
      name: "upg",
      uid: paused.metadata.uid!,
      controller: true,
      blockOwnerDeletion: true,
    };
    const labels = {
      "app.kubernetes.io/name": "warp-agent",
      "app.kubernetes.io/instance": "upg",
      "app.kubernetes.io/managed-by": "warp-operator",
      "app.kubernetes.io/component": "agent",
      "warpagent.dev/zone": "zone-a",
    };
    await admin.create(DEPLOYMENTS, {
      apiVersion: "apps/v1",
      kind: "Deployment",
      metadata: { name: "upg-zone-a", namespace: NS, labels, ownerReferences: [owner] },
      spec: {
        replicas: 1,
        selector: { matchLabels: labels },
        template: {
          metadata: { labels },
          spec: {
            containers: [
              {
                name: "agent",
                image: "example.com/warp:old",
                command: ["warp"],
                args: ["agent", "-httpPort", "8080"],
                ports: [{ name: "http", containerPort: 8080 }],
                readinessProbe: { httpGet: { path: "/readyz", port: "http" } },
              },
            ],
          },
        },
      },
    });
    await admin.create(SERVICES, {
      apiVersion: "v1",
      kind: "Service",
      metadata: { name: "upg-agents", namespace: NS, labels, ownerReferences: [owner] },
      spec: { clusterIP: "None", selector: labels, ports: [{ name: "http", port: 8080 }] },
    });
    const newName = deploymentName("upg", "zone-a");
    /** Pods of the old Deployment's ReplicaSets (`upg-zone-a-<template hash>`), not of the new one. */
    const oldPods = () => pods.pods("upg-zone-a-").filter((p) => !p.owner.startsWith(newName));
    await eventually(() => oldPods().some((p) => p.ready), {
      timeoutMs: 60_000,
      what: "the old Deployment's pod to be ready",
    });

    // The new Deployment cannot roll out: the old one keeps serving; the old headless Service goes.
    await applyAgent("upg", spec("upg", { image: "example.com/warp:does-not-exist" }));
    await eventually(() => admin.get({ ...DEPLOYMENTS, name: newName }).then(() => true), {
      timeoutMs: 30_000,
      what: "the new Deployment",
    });
    await eventually(() => gone({ ...SERVICES, name: "upg-agents" }), {
      timeoutMs: 30_000,
      what: "the old headless Service deleted",
    });
    await new Promise((r) => setTimeout(r, 3_000));
    await admin.get({ ...DEPLOYMENTS, name: "upg-zone-a" });
    assert.ok(
      oldPods().some((p) => p.ready),
      "the old Deployment still serves the zone",
    );
    assert.equal(cond(await getAgent("upg"), "AgentsReady")?.status, "False");

    // A good image: once the new Deployment has rolled out, the old one is deleted.
    await applyAgent("upg", spec("upg"));
    await waitReady("upg");
    await eventually(() => gone({ ...DEPLOYMENTS, name: "upg-zone-a" }), {
      timeoutMs: 30_000,
      what: "the old Deployment deleted",
    });
    await eventually(() => oldPods().length === 0, { timeoutMs: 60_000, what: "its pod gone" });
    assert.equal(pods.pods(newName).length, 1);
  });
});
