/**
 * The operator against a real kube-apiserver + etcd (e2e/support/kube), DynamoDB Local and moto's
 * S3 server, running as a user bound ONLY to operator/rbac/clusterrole.yaml (and role.yaml for its Lease). No kubelet or
 * controller-manager runs: the test sets Deployment status where a kubelet and the deployment
 * controller would, and nothing garbage-collects owned objects.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import {
  CreateTableCommand,
  DescribeTableCommand,
  DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
} from "@aws-sdk/client-dynamodb";
import { CreateBucketCommand, S3Client } from "@aws-sdk/client-s3";
import type { V1Deployment } from "@kubernetes/client-node";
import { LOCAL_AWS, startDynamoDbLocal, tableExists as tableExistsIn } from "../../../e2e/support/dynamodb-local.js";
import { getCondition } from "../../src/api/conditions.js";
import type { ConditionType } from "../../src/api/conditions.js";
import type { DynamoDbLocal } from "../../../e2e/support/dynamodb-local.js";
import { eventually } from "../../../e2e/support/eventually.js";
import { applyYaml, startControlPlane } from "../../../e2e/support/kube/control-plane.js";
import type { ControlPlane } from "../../../e2e/support/kube/control-plane.js";
import { startS3Server } from "../../../e2e/support/s3-server.js";
import type { S3Server } from "../../../e2e/support/s3-server.js";
import { warpAgentCrd } from "../../src/api/crd.js";
import type { Condition, WarpAgent, WarpAgentSpec } from "../../src/api/types.js";
import { KubeApiError, KubeClient, resourcePath } from "../../src/kube/client.js";
import type { KubeObject } from "../../src/kube/client.js";
import { deploymentName } from "../../src/desired/labels.js";
import { headlessServiceName } from "../../src/desired/services.js";
import { runOperator } from "../../src/main.js";
import type { OperatorHandle, OperatorOptions } from "../../src/main.js";

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, "../../..");
const OPERATOR_USER = "warp-operator-test";
const WA = { apiVersion: "warpagent.dev/v1alpha1", plural: "warpagents" };

function cond(a: WarpAgent | undefined, type: ConditionType): Condition | undefined {
  return getCondition(a?.status?.conditions, type);
}

describe("operator on a real kube-apiserver", function () {
  this.timeout(300_000);
  let cp: ControlPlane;
  let ddb: DynamoDbLocal;
  let s3srv: S3Server;
  let admin: KubeClient;
  let dynamo: DynamoDBClient;
  let s3: S3Client;
  let opKubeconfigPath: string;
  let operator: OperatorHandle | undefined;
  const extraOperators: OperatorHandle[] = [];

  const baseOptions = (): OperatorOptions => ({
    metricsPort: 0,
    metricsHost: "127.0.0.1",
    discoverZones: true,
    aws: { dynamodbEndpoint: ddb.endpoint, s3Endpoint: s3srv.endpoint },
    requeue: { baseDelayMs: 200, maxDelayMs: 2_000, pendingMs: 300 },
    // Short server-side watch timeouts: every watch ends every few seconds during the whole suite.
    informer: { watchTimeoutSeconds: 2, resyncMs: 60_000, backoffBaseMs: 200, backoffMaxMs: 2_000 },
  });

  async function startOperator(extra: Partial<OperatorOptions> = {}): Promise<OperatorHandle> {
    return runOperator({ ...baseOptions(), kubeconfig: await cp.userConfig(OPERATOR_USER), ...extra });
  }

  function spec(name: string, s: Partial<WarpAgentSpec> = {}): WarpAgentSpec {
    return {
      region: "us-east-1",
      tables: { files: `${name}-files`, chunks: `${name}-chunks` },
      bucket: { name: "warp-it-bucket" },
      batchTimeout: "50ms",
      endpoints: { dynamodb: ddb.endpoint, s3: s3srv.endpoint },
      ...s,
    };
  }

  async function createNamespace(ns: string): Promise<void> {
    await admin.create(
      { apiVersion: "v1", plural: "namespaces" },
      { apiVersion: "v1", kind: "Namespace", metadata: { name: ns } },
    );
  }

  async function applyAgent(ns: string, name: string, s: WarpAgentSpec): Promise<WarpAgent> {
    return admin.patch<WarpAgent>(
      { ...WA, namespace: ns, name },
      "apply",
      { apiVersion: WA.apiVersion, kind: "WarpAgent", metadata: { name, namespace: ns }, spec: s },
      "test-user",
    );
  }

  async function getAgent(ns: string, name: string): Promise<WarpAgent> {
    return admin.get<WarpAgent>({ ...WA, namespace: ns, name });
  }

  async function deployments(ns: string): Promise<V1Deployment[]> {
    return (await admin.list<V1Deployment>({ apiVersion: "apps/v1", plural: "deployments", namespace: ns })).items;
  }

  /** What the deployment controller and kubelets would report once every replica runs the current template. */
  async function markDeploymentsReady(ns: string): Promise<void> {
    for (const d of await deployments(ns)) {
      const n = d.spec?.replicas ?? 1;
      await admin.patch(
        { apiVersion: "apps/v1", plural: "deployments", namespace: ns, name: d.metadata!.name!, subresource: "status" },
        "merge",
        {
          status: {
            observedGeneration: d.metadata!.generation,
            replicas: n,
            updatedReplicas: n,
            readyReplicas: n,
            availableReplicas: n,
          },
        },
        "test-kubelet",
      );
    }
  }

  async function isGone(ns: string, name: string): Promise<boolean> {
    try {
      await getAgent(ns, name);
      return false;
    } catch (err) {
      if (err instanceof KubeApiError && err.code === 404) return true;
      throw err;
    }
  }

  /** Deletes a WarpAgent and waits until it is gone, reporting Deployment status as the deployment controller would. */
  async function deleteAgent(ns: string, name: string): Promise<void> {
    await admin.delete({ ...WA, namespace: ns, name });
    await eventually(
      async () => {
        await markDeploymentsReady(ns);
        return isGone(ns, name);
      },
      { timeoutMs: 60_000, what: `${ns}/${name} to be gone` },
    );
  }

  /** Creates a table with the files table's key schema (what the operator would create) holding one item. */
  async function createFilesLikeTable(name: string): Promise<void> {
    await dynamo.send(
      new CreateTableCommand({
        TableName: name,
        KeySchema: [
          { AttributeName: "pk", KeyType: "HASH" },
          { AttributeName: "sk", KeyType: "RANGE" },
        ],
        AttributeDefinitions: [
          { AttributeName: "pk", AttributeType: "S" },
          { AttributeName: "sk", AttributeType: "S" },
        ],
        BillingMode: "PAY_PER_REQUEST",
      }),
    );
    await dynamo.send(new PutItemCommand({ TableName: name, Item: { pk: { S: "user" }, sk: { S: "data" } } }));
  }

  async function hasUserItem(table: string, key: Record<string, { S: string } | { N: string }>): Promise<boolean> {
    const out = await dynamo.send(new GetItemCommand({ TableName: table, Key: key }));
    return out.Item !== undefined;
  }

  async function waitReady(ns: string, name: string, what: string): Promise<WarpAgent> {
    return eventually(
      async () => {
        const a = await getAgent(ns, name);
        return cond(a, "Ready")?.status === "True" && a.status?.observedGeneration === a.metadata.generation
          ? a
          : undefined;
      },
      { timeoutMs: 60_000, what },
    );
  }

  const tableExists = (name: string): Promise<boolean> => tableExistsIn(dynamo, name);

  before(async () => {
    process.env.AWS_ACCESS_KEY_ID ??= LOCAL_AWS.credentials.accessKeyId;
    process.env.AWS_SECRET_ACCESS_KEY ??= LOCAL_AWS.credentials.secretAccessKey;
    [cp, ddb, s3srv] = await Promise.all([startControlPlane(), startDynamoDbLocal(), startS3Server()]);
    admin = await KubeClient.fromKubeConfig(cp.adminConfig());
    dynamo = new DynamoDBClient({ ...LOCAL_AWS, endpoint: ddb.endpoint });
    s3 = new S3Client({ ...LOCAL_AWS, endpoint: s3srv.endpoint, forcePathStyle: true });
    await s3.send(new CreateBucketCommand({ Bucket: "warp-it-bucket" }));
    const adminKc = cp.adminConfig();
    // Raw server-side apply: client-node's typed serializer (applyYaml) drops `default` and the
    // x-kubernetes-* keys of a CRD schema, which would silently disable defaults and CEL rules.
    const crd = warpAgentCrd();
    await admin.patch(
      { apiVersion: "apiextensions.k8s.io/v1", plural: "customresourcedefinitions", name: crd.metadata.name },
      "apply",
      crd,
      "warp-e2e",
    );
    await eventually(
      async () => {
        const crd = await admin.get<{ status?: { conditions?: Array<{ type: string; status: string }> } }>({
          apiVersion: "apiextensions.k8s.io/v1",
          plural: "customresourcedefinitions",
          name: "warpagents.warpagent.dev",
        });
        return crd.status?.conditions?.some((c) => c.type === "Established" && c.status === "True");
      },
      { timeoutMs: 30_000, what: "the WarpAgent CRD to be Established" },
    );
    // The operator's identity is bound to the shipped ClusterRole, and to the shipped leader-election
    // Role in the Lease's namespace ("default"), and to nothing else.
    await applyYaml(adminKc, fs.readFileSync(path.join(root, "operator/rbac/clusterrole.yaml"), "utf8"));
    await applyYaml(adminKc, fs.readFileSync(path.join(root, "operator/rbac/role.yaml"), "utf8"), {
      namespace: "default",
    });
    await applyYaml(
      adminKc,
      `apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: warp-operator-test}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: warp-operator}
subjects: [{apiGroup: rbac.authorization.k8s.io, kind: User, name: ${OPERATOR_USER}}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: warp-operator-test-leader-election, namespace: default}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: warp-operator-leader-election}
subjects: [{apiGroup: rbac.authorization.k8s.io, kind: User, name: ${OPERATOR_USER}}]
`,
    );
    opKubeconfigPath = await cp.userKubeconfigPath(OPERATOR_USER);
    // The served CRD is the apiserver's view of ours: wait until WarpAgents can be listed.
    await eventually(() => admin.list({ ...WA }).then(() => true), {
      timeoutMs: 30_000,
      what: "warpagents to be served",
    });
    operator = await startOperator({
      leaderElection: {
        enabled: true,
        leaseName: "warp-operator-main",
        leaseNamespace: "default",
        identity: "main",
        retryPeriodMs: 500,
        renewDeadlineMs: 4_000,
        leaseDurationMs: 6_000,
      },
    });
  });

  after(async () => {
    for (const o of extraOperators) await o.stop();
    await operator?.stop();
    dynamo?.destroy();
    s3?.destroy();
    await Promise.all([cp?.stop(), ddb?.stop(), s3srv?.stop()]);
  });

  it("accepts a valid spec and fills in the schema defaults", async () => {
    const created = await admin.request<WarpAgent>("POST", resourcePath({ ...WA, namespace: "default" }), {
      query: { dryRun: "All" },
      body: {
        apiVersion: WA.apiVersion,
        kind: "WarpAgent",
        metadata: { name: "good", namespace: "default" },
        spec: { region: "us-east-1", tables: { files: "aaa", chunks: "bbb" }, bucket: { name: "bkt" } },
      },
    });
    assert.equal(created.spec.batchTimeout, "50ms");
    assert.equal(created.spec.tables.billingMode, "PayPerRequest");
    assert.equal(created.spec.tables.deletionPolicy, "Retain");
    assert.equal(created.spec.replicasPerZone, 1);
    const secured = await admin.request<WarpAgent>("POST", resourcePath({ ...WA, namespace: "default" }), {
      query: { dryRun: "All" },
      body: {
        apiVersion: WA.apiVersion,
        kind: "WarpAgent",
        metadata: { name: "secured", namespace: "default" },
        spec: {
          region: "us-east-1",
          tables: { files: "aaa", chunks: "bbb" },
          bucket: { name: "bkt" },
          kafka: {
            tls: { secretName: "tls", requireClientCert: true },
            authorization: {
              enabled: true,
              superUsers: ["User:admin", "User:CN=ops,O=Example"],
              principalMappingRules: ["RULE:^CN=([^,]+),OU=apps,O=Example$/$1/L", "DEFAULT"],
            },
          },
        },
      },
    });
    assert.equal(secured.spec.kafka?.authorization?.allowEveryoneIfNoAclFound, false, "defaulted");
    assert.equal(secured.spec.kafka?.tls?.requireClientCert, true);
  });

  it("its RBAC is the shipped ClusterRole only: more is denied", async () => {
    const op = await KubeClient.fromKubeConfig(await cp.userConfig(OPERATOR_USER));
    await assert.rejects(
      op.list({ apiVersion: "v1", plural: "secrets" }),
      (e: unknown) => e instanceof KubeApiError && e.code === 403,
    );
    await assert.rejects(
      op.list({ apiVersion: "v1", plural: "pods" }),
      (e: unknown) => e instanceof KubeApiError && e.code === 403,
    );
    await assert.rejects(
      op.delete({ ...WA, namespace: "default", name: "x" }),
      (e: unknown) => e instanceof KubeApiError && e.code === 403,
    );
    // Least privilege: the operator reads only through its informers (list, watch) and writes by
    // server-side apply and merge patches; it never gets, replaces or deletes what it need not.
    const denied: Array<[string, Promise<unknown>]> = [
      ["get a WarpAgent", op.get({ ...WA, namespace: "default", name: "x" })],
      ["get WarpAgent status", op.get({ ...WA, namespace: "default", name: "x", subresource: "status" })],
      ["get a Deployment", op.get({ apiVersion: "apps/v1", plural: "deployments", namespace: "default", name: "x" })],
      ["get a Service", op.get({ apiVersion: "v1", plural: "services", namespace: "default", name: "x" })],
      [
        "delete a ServiceAccount",
        op.delete({ apiVersion: "v1", plural: "serviceaccounts", namespace: "default", name: "x" }),
      ],
      [
        "delete a PodDisruptionBudget",
        op.delete({ apiVersion: "policy/v1", plural: "poddisruptionbudgets", namespace: "default", name: "x" }),
      ],
      ["create a core/v1 Event", op.create({ apiVersion: "v1", plural: "events", namespace: "default" }, {})],
    ];
    for (const [what, call] of denied)
      await assert.rejects(call, (e: unknown) => e instanceof KubeApiError && e.code === 403, what);
  });

  it("three zones: tables, Deployments, Services, PDB; Ready once the Deployments report ready", async () => {
    const ns = "three";
    await createNamespace(ns);
    await applyAgent(ns, "wa", spec("three", { zones: [{ name: "zone-a" }, { name: "zone-b" }, { name: "zone-c" }] }));

    await eventually(async () => (await tableExists("three-files")) && (await tableExists("three-chunks")), {
      timeoutMs: 60_000,
      what: "both tables",
    });
    const chunks = (await dynamo.send(new DescribeTableCommand({ TableName: "three-chunks" }))).Table!;
    assert.deepEqual(chunks.KeySchema, [
      { AttributeName: "pk", KeyType: "HASH" },
      { AttributeName: "sk", KeyType: "RANGE" },
    ]);

    const deps = await eventually(async () => ((await deployments(ns)).length === 3 ? deployments(ns) : undefined), {
      timeoutMs: 60_000,
      what: "three Deployments",
    });
    assert.deepEqual(
      deps.map((d) => d.metadata!.name).sort(),
      ["zone-a", "zone-b", "zone-c"].map((z) => deploymentName("wa", z)).sort(),
    );
    for (const d of deps) {
      const zone = d.metadata!.labels!["warpagent.dev/zone"]!;
      const pod = d.spec!.template.spec!;
      assert.deepEqual(
        pod.affinity!.nodeAffinity!.requiredDuringSchedulingIgnoredDuringExecution!.nodeSelectorTerms[0]!
          .matchExpressions![0]!.values,
        [zone],
      );
      const c = pod.containers[0]!;
      // Accepted by the apiserver as rendered: the grace period outlasts the agent's 30s drain,
      // requests are set, and a zone's agents spread over its nodes.
      assert.equal(pod.terminationGracePeriodSeconds, 45);
      assert.deepEqual(c.resources?.requests, { cpu: "500m", memory: "512Mi" });
      assert.equal(pod.topologySpreadConstraints?.[0]?.topologyKey, "kubernetes.io/hostname");
      assert.deepEqual(pod.topologySpreadConstraints?.[0]?.matchLabelKeys, ["pod-template-hash"]);
      assert.deepEqual(c.command, ["warp"]);
      assert.deepEqual(c.args, [
        "agent",
        "-ingestionBucketURL",
        "dynamodb://us-east-1/three-files<>three-chunks",
        "-compactionBucketURL",
        "s3://warp-it-bucket?region=us-east-1&s3ForcePathStyle=true",
        "-batchTimeout",
        "50ms",
        "-kafkaPort",
        "9092",
        "-httpPort",
        "8080",
        "-availabilityZone",
        zone,
        "-createTables=false",
      ]);
      const env = new Map((c.env ?? []).map((e) => [e.name, e]));
      assert.equal(env.get("WARP_ADVERTISED_HOST")?.valueFrom?.fieldRef?.fieldPath, "status.podIP");
      assert.equal(env.get("AWS_ENDPOINT_URL_DYNAMODB")?.value, ddb.endpoint);
      assert.equal(env.get("AWS_ENDPOINT_URL_S3")?.value, s3srv.endpoint);
      assert.equal(d.metadata!.ownerReferences![0]!.kind, "WarpAgent");
      assert.ok(
        d.metadata!.managedFields!.some((m) => m.manager === "warp-operator" && m.operation === "Apply"),
        "server-side applied by warp-operator",
      );
    }
    const svc = await admin.get<{ spec: { clusterIP?: string } }>({
      apiVersion: "v1",
      plural: "services",
      namespace: ns,
      name: "wa",
    });
    assert.notEqual(svc.spec.clusterIP, "None");
    const headless = await admin.get<{ spec: { clusterIP?: string } }>({
      apiVersion: "v1",
      plural: "services",
      namespace: ns,
      name: headlessServiceName("wa"),
    });
    assert.equal(headless.spec.clusterIP, "None");
    await admin.get({ apiVersion: "policy/v1", plural: "poddisruptionbudgets", namespace: ns, name: "wa" });
    await admin.get({ apiVersion: "v1", plural: "serviceaccounts", namespace: ns, name: "wa-agent" });

    const pending = await eventually(
      async () => {
        const a = await getAgent(ns, "wa");
        return cond(a, "TablesReady")?.status === "True" && cond(a, "AgentsReady") ? a : undefined;
      },
      { timeoutMs: 60_000, what: "TablesReady=True" },
    );
    assert.equal(cond(pending, "AgentsReady")!.status, "False");
    assert.equal(cond(pending, "Ready")!.status, "False");
    assert.deepEqual(pending.metadata.finalizers, ["warpagent.dev/finalizer"]);

    await markDeploymentsReady(ns);
    const ready = await waitReady(ns, "wa", "Ready=True");
    assert.equal(cond(ready, "BucketReady")!.status, "True");
    assert.equal(ready.status!.zoneSummary, "3/3");
    assert.equal(ready.status!.bootstrap, "wa.three.svc:9092");
    assert.match(ready.status!.tables!.filesArn!, /table\/three-files$/);
    assert.deepEqual(
      ready.status!.zones!.map((z) => [z.name, z.replicas, z.readyReplicas]),
      [
        ["zone-a", 1, 1],
        ["zone-b", 1, 1],
        ["zone-c", 1, 1],
      ],
    );
    // kubectl get wa: the printer columns.
    const table = await admin.request<{
      columnDefinitions: Array<{ name: string }>;
      rows: Array<{ cells: unknown[] }>;
    }>("GET", resourcePath({ ...WA, namespace: ns, name: "wa" }), {
      accept: "application/json;as=Table;v=v1;g=meta.k8s.io",
    });
    assert.deepEqual(
      table.columnDefinitions.map((c) => c.name),
      ["Name", "Ready", "Zones", "Bootstrap", "Age"],
    );
    assert.deepEqual(table.rows[0]!.cells.slice(0, 4), ["wa", "True", "3/3", "wa.three.svc:9092"]);

    const events = await admin.list<{ reason: string; involvedObject: { name: string } }>({
      apiVersion: "v1",
      plural: "events",
      namespace: ns,
    });
    const reasons = new Set(events.items.filter((e) => e.involvedObject.name === "wa").map((e) => e.reason));
    for (const r of ["TableCreated", "DeploymentCreated", "AllReady"])
      assert.ok(reasons.has(r), `event ${r} in ${[...reasons].join(",")}`);

    // Status is not rewritten when nothing changes (no hot loop on our own writes).
    const rv = (await getAgent(ns, "wa")).metadata.resourceVersion;
    await new Promise((r) => setTimeout(r, 3_000));
    assert.equal((await getAgent(ns, "wa")).metadata.resourceVersion, rv);
  });

  it("a new batch timeout rolls every Deployment; scaling one zone changes only that zone", async () => {
    const ns = "three";
    const before = new Map((await deployments(ns)).map((d) => [d.metadata!.name!, d.metadata!.generation!]));
    const applied = await applyAgent(
      ns,
      "wa",
      spec("three", {
        batchTimeout: "100ms",
        zones: [{ name: "zone-a" }, { name: "zone-b", replicas: 3 }, { name: "zone-c" }],
      }),
    );
    const deps = await eventually(
      async () => {
        const ds = await deployments(ns);
        return ds.every((d) => d.spec!.template.spec!.containers[0]!.args!.includes("100ms")) ? ds : undefined;
      },
      { timeoutMs: 60_000, what: "every Deployment to carry -batchTimeout 100ms" },
    );
    for (const d of deps)
      assert.ok(d.metadata!.generation! > before.get(d.metadata!.name!)!, `${d.metadata!.name} rolled`);
    assert.deepEqual(
      deps.map((d) => [d.metadata!.name, d.spec!.replicas]).sort(),
      [
        [deploymentName("wa", "zone-a"), 1],
        [deploymentName("wa", "zone-b"), 3],
        [deploymentName("wa", "zone-c"), 1],
      ].sort(),
    );
    const progressing = await eventually(
      async () => {
        const a = await getAgent(ns, "wa");
        return a.status?.observedGeneration === applied.metadata.generation ? a : undefined;
      },
      { timeoutMs: 60_000, what: "observedGeneration to follow the spec" },
    );
    assert.equal(cond(progressing, "Ready")!.status, "False", "not ready until the rollout is reported");
    await markDeploymentsReady(ns);
    const ready = await waitReady(ns, "wa", "Ready=True after the rollout");
    assert.deepEqual(
      ready.status!.zones!.find((z) => z.name === "zone-b"),
      { name: "zone-b", replicas: 3, readyReplicas: 3 },
    );
  });

  it("OAUTHBEARER: the Deployment mounts the JWKS ConfigMap and passes the flags; an oauthbearer change rolls it", async () => {
    const ns = "oauth";
    await createNamespace(ns);
    const sasl = (issuer: string): WarpAgentSpec["kafka"] => ({
      sasl: {
        mechanisms: ["OAUTHBEARER"],
        oauthbearer: { jwks: { configMapKeyRef: { name: "idp-jwks" } }, issuer, audience: ["warp-kafka"] },
        connectionsMaxReauth: "1h",
      },
    });
    const args = (d: V1Deployment) => d.spec!.template.spec!.containers[0]!.args!;
    const flag = (d: V1Deployment, name: string) => args(d)[args(d).indexOf(name) + 1];
    await applyAgent(ns, "wa", spec("oauth", { zones: [{ name: "zone-a" }], kafka: sasl("https://idp.example/a") }));
    const first = await eventually(
      async () => (await deployments(ns)).find((d) => args(d).includes("-kafkaSASLOAuthJwksURL")),
      { timeoutMs: 60_000, what: "the agent Deployment with OAUTHBEARER flags" },
    );
    assert.equal(flag(first, "-kafkaSASLMechanisms"), "OAUTHBEARER");
    assert.equal(flag(first, "-kafkaSASLOAuthJwksURL"), "file:///etc/warp/oauth/jwks.json");
    assert.equal(flag(first, "-kafkaSASLOAuthIssuer"), "https://idp.example/a");
    assert.equal(flag(first, "-kafkaSASLOAuthAudience"), "warp-kafka");
    // The apiserver's defaults reach the agents.
    assert.equal(flag(first, "-kafkaSASLOAuthPrincipalClaim"), "sub");
    assert.equal(flag(first, "-kafkaSASLOAuthClockSkew"), "30s");
    assert.equal(flag(first, "-kafkaSASLOAuthJwksRefreshInterval"), "1h");
    assert.equal(flag(first, "-kafkaConnectionsMaxReauth"), "1h");
    assert.ok(!args(first).includes("-kafkaSASLUsersFile"));
    const pod = first.spec!.template.spec!;
    assert.deepEqual(pod.volumes?.find((v) => v.name === "kafka-oauth-jwks")?.configMap, {
      name: "idp-jwks",
      defaultMode: 0o440,
      items: [{ key: "jwks.json", path: "jwks.json" }],
    });
    assert.deepEqual(
      pod.containers[0]!.volumeMounts?.find((m) => m.name === "kafka-oauth-jwks"),
      { name: "kafka-oauth-jwks", mountPath: "/etc/warp/oauth", readOnly: true },
    );

    await applyAgent(ns, "wa", spec("oauth", { zones: [{ name: "zone-a" }], kafka: sasl("https://idp.example/b") }));
    const rolled = await eventually(
      async () => (await deployments(ns)).find((d) => flag(d, "-kafkaSASLOAuthIssuer") === "https://idp.example/b"),
      { timeoutMs: 60_000, what: "the Deployment to carry the new issuer" },
    );
    assert.equal(rolled.metadata!.name, first.metadata!.name);
    assert.ok(rolled.metadata!.generation! > first.metadata!.generation!, "a new pod template generation");
    await deleteAgent(ns, "wa");
  });

  it("a WarpAgent without spec.endpoints gets the operator's endpoints, so agents use the tables it made", async () => {
    // The operator here runs with its own endpoints (baseOptions; AWS_ENDPOINT_URL_* in a pod): it creates the
    // tables in DynamoDB Local. Its agents must be pointed there too, not at AWS.
    const ns = "endpoints";
    await createNamespace(ns);
    const noEndpoints = spec("endpoints", { zones: [{ name: "zone-a" }] });
    delete noEndpoints.endpoints;
    await applyAgent(ns, "wa", noEndpoints);
    const [dep] = await eventually(
      async () => {
        const ds = await deployments(ns);
        return ds.length === 1 ? ds : undefined;
      },
      { timeoutMs: 30_000, what: "the zone's Deployment" },
    );
    const container = dep!.spec!.template.spec!.containers[0]!;
    const env = new Map((container.env ?? []).map((e) => [e.name, e]));
    assert.equal(env.get("AWS_ENDPOINT_URL_DYNAMODB")?.value, ddb.endpoint);
    assert.equal(env.get("AWS_ENDPOINT_URL_S3")?.value, s3srv.endpoint);
    const bucketUrl = container.args![container.args!.indexOf("-compactionBucketURL") + 1]!;
    assert.match(bucketUrl, /s3ForcePathStyle=true/, "path-style addressing, as for the operator's own calls");
    await eventually(async () => tableExists("endpoints-files"), {
      timeoutMs: 30_000,
      what: "the operator to create the table at that endpoint",
    });
  });

  it("the apiserver rejects invalid specs with a message naming the field", async () => {
    const ns = "default";
    const cases: Array<[string, Partial<WarpAgentSpec> | Record<string, unknown>, RegExp]> = [
      ["batch timeout below 25ms", { batchTimeout: "10ms" }, /spec\.batchTimeout.*at least 25ms/],
      ["empty files table name", { tables: { files: "", chunks: "c-table" } }, /spec\.tables\.files/],
      [
        "unknown billing mode",
        { tables: { files: "aaa", chunks: "bbb", billingMode: "Sometimes" } },
        /spec\.tables\.billingMode.*Unsupported value/,
      ],
      [
        "provisioned without capacities",
        { tables: { files: "aaa", chunks: "bbb", billingMode: "Provisioned" } },
        /spec\.tables\.billingMode.*required when billingMode is Provisioned/,
      ],
      ["a zone name with a space", { zones: [{ name: "zone a" }] }, /spec\.zones\[0\]\.name.*label value.*no spaces/],
      ["an empty image", { image: "" }, /spec\.image.*container image reference/],
      ["an image with spaces", { image: "warp agent:1" }, /spec\.image.*container image reference/],
      [
        "a service account name that is no object name",
        { serviceAccountName: "Bad_SA" },
        /spec\.serviceAccountName.*Kubernetes object name/,
      ],
      [
        "a bucket name with adjacent periods",
        { bucket: { name: "my..bucket" } },
        /spec\.bucket\.name.*two adjacent periods/,
      ],
      ["a bucket name like an IP address", { bucket: { name: "192.168.1.1" } }, /spec\.bucket\.name.*IP address/],
      [
        "an env name with a space",
        { env: [{ name: "MY VAR", value: "x" }] },
        /spec\.env\[0\]\.name.*must not start with a digit/,
      ],
      [
        "a batch timeout beyond any duration",
        { batchTimeout: "9999999999999s" },
        /spec\.batchTimeout.*whole number of milliseconds or seconds/,
      ],
      ["a batch timeout above the agent's limit", { batchTimeout: "61s" }, /spec\.batchTimeout.*at most 60s/],
      [
        "authorization without a super user",
        { kafka: { authorization: { enabled: true } } },
        /spec\.kafka\.authorization\.superUsers.*name at least one super user/,
      ],
      [
        "a super user that is not a User principal",
        { kafka: { authorization: { enabled: true, superUsers: ["admin:x"] } } },
        /spec\.kafka\.authorization\.superUsers\[0\].*User:<name>/,
      ],
      [
        "principal mapping rules without mutual TLS",
        { kafka: { tls: { secretName: "tls" }, authorization: { principalMappingRules: ["DEFAULT"] } } },
        /spec\.kafka\.authorization\.principalMappingRules.*need tls\.requireClientCert: true/,
      ],
      [
        "a principal mapping rule that is neither DEFAULT nor RULE:",
        {
          kafka: {
            tls: { secretName: "tls", requireClientCert: true },
            authorization: { principalMappingRules: ["rule:^CN=(.*)$/$1/"] },
          },
        },
        /spec\.kafka\.authorization\.principalMappingRules\[0\].*DEFAULT or RULE:/,
      ],
    ];
    for (const [what, s, re] of cases) {
      await assert.rejects(
        admin.request("POST", resourcePath({ ...WA, namespace: ns }), {
          query: { dryRun: "All" },
          body: {
            apiVersion: WA.apiVersion,
            kind: "WarpAgent",
            metadata: { name: "bad", namespace: ns },
            spec: { ...spec("bad"), ...s },
          },
        }),
        (e: unknown) => {
          assert.ok(e instanceof KubeApiError && e.code === 422, `${what}: ${String(e)}`);
          assert.match(e.message, re, what);
          assert.doesNotMatch(e.message, /type conversion error/, what);
          return true;
        },
        what,
      );
    }
  });

  it("an object Kubernetes refuses to run is InvalidSpec, not ApplyFailed, and names the field", async () => {
    const ns = "refused";
    await createNamespace(ns);
    await applyAgent(
      ns,
      "wa",
      spec("refused", {
        zones: [{ name: "zone-a" }],
        env: [{ name: "WHERE", valueFrom: { fieldRef: { fieldPath: "spec.noSuchField" } } }],
      }),
    );
    const a = await eventually(
      async () => {
        const a = await getAgent(ns, "wa");
        return cond(a, "AgentsReady") ? a : undefined;
      },
      { timeoutMs: 60_000, what: "AgentsReady" },
    );
    assert.equal(cond(a, "AgentsReady")!.status, "False");
    assert.equal(cond(a, "AgentsReady")!.reason, "InvalidSpec");
    assert.match(cond(a, "AgentsReady")!.message, /fieldPath/);
    assert.match(cond(a, "Ready")!.message, /AgentsReady \(InvalidSpec\)/);
  });

  it("a WarpAgent outside the operator's policy is not applied: Ready=False, PolicyViolation naming field and flag", async () => {
    const ns = "escalate";
    await createNamespace(ns);
    await applyAgent(
      ns,
      "wa",
      spec("escalate", {
        zones: [{ name: "zone-a" }],
        image: "docker.io/attacker/anything",
        serviceAccountName: "cluster-admin-sa",
        env: [{ name: "STOLEN", valueFrom: { secretKeyRef: { name: "db-password", key: "password" } } }],
      }),
    );
    const a = await eventually(
      async () => {
        const a = await getAgent(ns, "wa");
        return cond(a, "Ready") ? a : undefined;
      },
      { timeoutMs: 60_000, what: "a Ready condition" },
    );
    const ready = cond(a, "Ready")!;
    assert.equal(ready.status, "False");
    assert.equal(ready.reason, "PolicyViolation");
    assert.match(ready.message, /spec\.image: image "docker\.io\/attacker\/anything".*-allowedImageRepositories/);
    assert.match(ready.message, /spec\.serviceAccountName: .*"cluster-admin-sa".*-allowedServiceAccounts/);
    assert.match(ready.message, /spec\.env\[0\]\.valueFrom\.secretKeyRef: env STOLEN reads a Secret.*-allowSecretEnv/);
    assert.deepEqual(await deployments(ns), []);
    assert.equal(await tableExists("escalate-files"), false);

    // Back inside the policy (the default image, the operator's own service account, no Secret): applied.
    await admin.request("PUT", resourcePath({ ...WA, namespace: ns, name: "wa" }), {
      body: { ...a, spec: spec("escalate", { zones: [{ name: "zone-a" }] }) },
    });
    const [dep] = await eventually(async () => ((await deployments(ns)).length === 1 ? deployments(ns) : undefined), {
      timeoutMs: 60_000,
      what: "the Deployment once the spec is inside the policy",
    });
    const pod = dep!.spec!.template.spec!;
    assert.equal(pod.serviceAccountName, "wa-agent");
    assert.match(pod.containers[0]!.image!, /^ghcr\.io\/warp-agent\/warp:/);
  });

  it("events.k8s.io Events: one per transition, Normal for progress, a repeat counted in its series", async () => {
    const ns = "events";
    await createNamespace(ns);
    interface Ev {
      type: string;
      reason: string;
      note: string;
      reportingController: string;
      regarding: { name: string; kind: string };
      series?: { count: number; lastObservedTime: string };
    }
    // The WarpAgent's events and every event the operator reported. Not other controllers' events about
    // other objects named "wa": kube-apiserver's ipallocator-repair-controller may report on the Service.
    const listEvents = async (): Promise<Ev[]> =>
      (await admin.list<Ev>({ apiVersion: "events.k8s.io/v1", plural: "events", namespace: ns })).items.filter(
        (e) =>
          e.regarding.name === "wa" &&
          (e.regarding.kind === "WarpAgent" || e.reportingController === "warpagent.dev/warp-operator"),
      );
    const s = spec("events", { zones: [{ name: "zone-a" }] });
    const waitReason = (reason: string) =>
      eventually(
        async () => {
          const a = await getAgent(ns, "wa");
          return cond(a, "Ready")?.reason === reason && a.status?.observedGeneration === a.metadata.generation
            ? a
            : undefined;
        },
        { timeoutMs: 60_000, what: `Ready reason ${reason}` },
      );

    await applyAgent(ns, "wa", { ...s, paused: true });
    await waitReason("Paused");
    await applyAgent(ns, "wa", { ...s, paused: false });
    await eventually(async () => (await listEvents()).some((e) => e.reason === "DeploymentsProgressing"), {
      timeoutMs: 60_000,
      what: "the DeploymentsProgressing event",
    });
    await waitReason("ComponentsNotReady");
    // Let a few reconciles pass over caches that may lag behind the operator's own status writes.
    await new Promise((r) => setTimeout(r, 2_000));
    const once = await listEvents();
    const perKind = new Map<string, number>();
    for (const e of once) perKind.set(`${e.reason}: ${e.note}`, (perKind.get(`${e.reason}: ${e.note}`) ?? 0) + 1);
    for (const [what, n] of perKind) assert.equal(n, 1, `${n} Events ${what}`);
    for (const e of once) {
      assert.equal(e.reportingController, "warpagent.dev/warp-operator");
      assert.equal(e.regarding.kind, "WarpAgent");
      assert.equal(e.series, undefined, `${e.reason} is not a repeat`);
    }
    for (const reason of ["Paused", "DeploymentsProgressing", "ComponentsNotReady", "DeploymentCreated"])
      assert.equal(once.find((e) => e.reason === reason)?.type, "Normal", `${reason} is progress, not a Warning`);

    // The same transition again: the same Event, its series counted up.
    await applyAgent(ns, "wa", { ...s, paused: true });
    await waitReason("Paused");
    const paused = await eventually(
      async () => {
        const p = (await listEvents()).filter((e) => e.reason === "Paused");
        return p.length === 1 && p[0]!.series ? p : undefined;
      },
      { timeoutMs: 30_000, what: "the Paused event's series" },
    );
    assert.equal(paused[0]!.series!.count, 2);
    assert.match(paused[0]!.note, /Ready is Unknown: reconciliation is paused/);
  });

  it("the scale subresource: kubectl scale sets the agents per zone; status and selector come back", async () => {
    const ns = "scale";
    await createNamespace(ns);
    await applyAgent(ns, "wa", spec("scale", { zones: [{ name: "zone-a" }, { name: "zone-b" }] }));
    await eventually(async () => ((await deployments(ns)).length === 2 ? true : undefined), {
      timeoutMs: 60_000,
      what: "two Deployments",
    });
    await markDeploymentsReady(ns);
    await waitReady(ns, "wa", "Ready=True");
    interface Scale {
      spec: { replicas: number };
      status: { replicas: number; selector?: string };
    }
    const scaleRef = { ...WA, namespace: ns, name: "wa", subresource: "scale" };
    const before = await admin.get<Scale>(scaleRef);
    assert.equal(before.spec.replicas, 1);
    assert.equal(before.status.replicas, 1);
    assert.equal(
      before.status.selector,
      "app.kubernetes.io/name=warp-agent,app.kubernetes.io/instance=wa,app.kubernetes.io/component=agent",
    );

    await admin.patch(scaleRef, "merge", { spec: { replicas: 3 } }, "kubectl-scale");
    assert.equal((await getAgent(ns, "wa")).spec.replicasPerZone, 3);
    await eventually(async () => ((await deployments(ns)).every((d) => d.spec?.replicas === 3) ? true : undefined), {
      timeoutMs: 60_000,
      what: "3 replicas in every zone",
    });
    await markDeploymentsReady(ns);
    await eventually(async () => ((await admin.get<Scale>(scaleRef)).status.replicas === 3 ? true : undefined), {
      timeoutMs: 60_000,
      what: "scale status.replicas 3",
    });
  });

  it("an existing table with the wrong key schema gives TablesReady=False naming table and schema", async () => {
    const ns = "wrong";
    await createNamespace(ns);
    await dynamo.send(
      new CreateTableCommand({
        TableName: "wrong-chunks",
        KeySchema: [{ AttributeName: "id", KeyType: "HASH" }],
        AttributeDefinitions: [{ AttributeName: "id", AttributeType: "S" }],
        BillingMode: "PAY_PER_REQUEST",
      }),
    );
    await dynamo.send(new PutItemCommand({ TableName: "wrong-chunks", Item: { id: { S: "user-data" } } }));
    await applyAgent(
      ns,
      "wa",
      spec("wrong", {
        zones: [{ name: "z" }],
        tables: { files: "wrong-files", chunks: "wrong-chunks", deletionPolicy: "Delete" },
      }),
    );
    const a = await eventually(
      async () => {
        const x = await getAgent(ns, "wa");
        return cond(x, "TablesReady")?.reason === "TableSchemaMismatch" ? x : undefined;
      },
      { timeoutMs: 60_000, what: "TablesReady reason TableSchemaMismatch" },
    );
    const c = cond(a, "TablesReady")!;
    assert.equal(c.status, "False");
    assert.match(
      c.message,
      /table wrong-chunks has key schema \[id \(S, HASH\)\], expected the chunks table schema \[pk \(S, HASH\), sk \(N, RANGE\)\]/,
    );
    assert.equal(cond(a, "AgentsReady")?.reason, "DeploymentsProgressing", "the other steps still ran");

    // deletionPolicy Delete deletes only what this WarpAgent created: never the table that was there.
    await deleteAgent(ns, "wa");
    assert.equal(await tableExists("wrong-files"), false, "the table the operator created is deleted");
    assert.ok(
      await hasUserItem("wrong-chunks", { id: { S: "user-data" } }),
      "the pre-existing table and its item stay",
    );
  });

  it("adoption is explicit: an existing table is TableNotOwned and kept, until spec.tables.adopt", async () => {
    const ns = "adopt";
    await createNamespace(ns);
    await createFilesLikeTable("adopt-files");
    const tables = { files: "adopt-files", chunks: "adopt-chunks", deletionPolicy: "Delete" } as const;
    await applyAgent(ns, "wa", spec("adopt", { zones: [{ name: "z" }], tables }));
    const a = await eventually(
      async () => {
        const x = await getAgent(ns, "wa");
        return cond(x, "TablesReady")?.reason === "TableNotOwned" ? x : undefined;
      },
      { timeoutMs: 60_000, what: "TablesReady reason TableNotOwned" },
    );
    assert.match(
      cond(a, "TablesReady")!.message,
      /table adopt-files already exists and was not created by this WarpAgent; .*Set spec.tables.adopt: true/,
    );
    assert.deepEqual(a.metadata.annotations?.["tables.warpagent.dev/files"], undefined);
    assert.equal(a.metadata.annotations?.["tables.warpagent.dev/chunks"], "adopt-chunks", "created: recorded");

    await applyAgent(ns, "wa", spec("adopt", { zones: [{ name: "z" }], tables: { ...tables, adopt: true } }));
    const adopted = await eventually(
      async () => {
        const x = await getAgent(ns, "wa");
        return cond(x, "TablesReady")?.status === "True" ? x : undefined;
      },
      { timeoutMs: 60_000, what: "TablesReady once adopted" },
    );
    assert.equal(adopted.metadata.annotations?.["tables.warpagent.dev/files"], "adopt-files", "adopted: recorded");
    await deleteAgent(ns, "wa");
    assert.equal(await tableExists("adopt-files"), false, "an adopted table is deleted under deletionPolicy Delete");
    assert.equal(await tableExists("adopt-chunks"), false);
  });

  it("region and table names cannot change on a live WarpAgent", async () => {
    const ns = "immutable";
    await createNamespace(ns);
    const s = spec("immutable", { zones: [{ name: "z" }] });
    await applyAgent(ns, "wa", s);
    const cases: Array<[string, Partial<WarpAgentSpec>, RegExp]> = [
      ["region", { region: "eu-west-1" }, /spec\.region: Invalid value.*region cannot be changed after creation/],
      [
        "files table",
        { tables: { ...s.tables, files: "immutable-files-2" } },
        /spec\.tables\.files: Invalid value.*tables\.files cannot be changed after creation \(the old table and its data would be orphaned\)/,
      ],
      [
        "chunks table",
        { tables: { ...s.tables, chunks: "immutable-chunks-2" } },
        /spec\.tables\.chunks: Invalid value.*tables\.chunks cannot be changed after creation/,
      ],
    ];
    for (const [what, change, re] of cases)
      await assert.rejects(
        applyAgent(ns, "wa", { ...s, ...change }),
        (e: unknown) => {
          assert.ok(e instanceof KubeApiError && e.code === 422, `${what}: ${String(e)}`);
          assert.match(e.message, re, what);
          return true;
        },
        what,
      );
    const kept = await getAgent(ns, "wa");
    assert.equal(kept.spec.region, "us-east-1");
    assert.equal(kept.spec.tables.files, "immutable-files");
    // Other table settings still change.
    await applyAgent(ns, "wa", { ...s, tables: { ...s.tables, deletionPolicy: "Delete" } });
    assert.equal((await getAgent(ns, "wa")).spec.tables.deletionPolicy, "Delete");
  });

  it("AWS failures become actionable conditions without stopping the other steps", async () => {
    const ns = "awsfail";
    await createNamespace(ns);
    // Nothing listens on port 1: every DynamoDB call fails. The bucket does not exist.
    await applyAgent(
      ns,
      "wa",
      spec("awsfail", {
        zones: [{ name: "z" }],
        bucket: { name: "no-such-bucket" },
        endpoints: { dynamodb: "http://127.0.0.1:1", s3: s3srv.endpoint },
      }),
    );
    const a = await eventually(
      async () => {
        const x = await getAgent(ns, "wa");
        return cond(x, "TablesReady") && cond(x, "BucketReady") && cond(x, "AgentsReady") ? x : undefined;
      },
      { timeoutMs: 60_000, what: "all conditions" },
    );
    assert.equal(cond(a, "TablesReady")!.reason, "AwsError");
    assert.match(
      cond(a, "TablesReady")!.message,
      /dynamodb:DescribeTable on arn:aws:dynamodb:us-east-1:<account>:table\/awsfail-files failed/,
    );
    assert.equal(cond(a, "BucketReady")!.reason, "BucketNotFound");
    assert.match(
      cond(a, "BucketReady")!.message,
      /bucket no-such-bucket does not exist; create it or set spec.bucket.create: true/,
    );
    assert.equal(cond(a, "AgentsReady")!.reason, "DeploymentsProgressing", "agents were still applied");
    assert.equal((await deployments(ns)).length, 1);
    assert.match(
      cond(a, "Ready")!.message,
      /TablesReady \(AwsError\), BucketReady \(BucketNotFound\), AgentsReady \(DeploymentsProgressing\)/,
    );
  });

  it("deletion: policy Delete stops the agents, then removes the tables, then the finalizer; Retain keeps them", async () => {
    for (const [ns, policy] of [
      ["del", "Delete"],
      ["ret", "Retain"],
    ] as const) {
      await createNamespace(ns);
      await applyAgent(
        ns,
        "wa",
        spec(ns, {
          zones: [{ name: "z" }],
          tables: { files: `${ns}-files`, chunks: `${ns}-chunks`, deletionPolicy: policy },
        }),
      );
      await eventually(
        async () => {
          const a = await getAgent(ns, "wa");
          return (
            cond(a, "TablesReady")?.status === "True" && a.metadata.finalizers?.includes("warpagent.dev/finalizer")
          );
        },
        { timeoutMs: 60_000, what: `${ns}: tables ready with the finalizer set` },
      );
      await markDeploymentsReady(ns);
      await admin.delete({ ...WA, namespace: ns, name: "wa" });
      if (policy === "Delete") {
        // The Deployment still counts a running pod: the operator scales it to zero and waits.
        const stopping = await eventually(
          async () => {
            const a = await getAgent(ns, "wa");
            return cond(a, "Ready")?.reason === "StoppingAgents" ? a : undefined;
          },
          { timeoutMs: 60_000, what: `${ns}: Ready reason StoppingAgents` },
        );
        assert.match(cond(stopping, "Ready")!.message, /stopping the agents before deleting the tables; waiting for /);
        assert.deepEqual(
          (await deployments(ns)).map((d) => d.spec?.replicas),
          [0],
          "the agents are scaled to zero",
        );
        await new Promise((r) => setTimeout(r, 1_000));
        assert.equal(await tableExists(`${ns}-files`), true, "no table is deleted while an agent pod runs");
        assert.equal(await tableExists(`${ns}-chunks`), true);
        assert.equal(await isGone(ns, "wa"), false);
        await markDeploymentsReady(ns); // the deployment controller reports the scale-down done
      }
      await eventually(
        async () => {
          try {
            await getAgent(ns, "wa");
            return false;
          } catch (err) {
            return err instanceof KubeApiError && err.code === 404;
          }
        },
        { timeoutMs: 60_000, what: `${ns}: the WarpAgent to be gone` },
      );
      if (policy === "Delete") {
        assert.equal(await tableExists(`${ns}-files`), false, "files table deleted before the finalizer was removed");
        assert.equal(await tableExists(`${ns}-chunks`), false);
      } else {
        assert.equal(await tableExists(`${ns}-files`), true, "Retain keeps the tables");
        assert.equal(await tableExists(`${ns}-chunks`), true);
      }
    }
  });

  it("watches that end mid-run do not stall the operator", async () => {
    const c = operator!.controller()!;
    const before = c.informerStats().find((s) => s.resource === "warpagents")!;
    // Server-side timeouts (2-4 s) have ended watches all along; also cut every watch from our side.
    c.dropWatches();
    await new Promise((r) => setTimeout(r, 500));
    c.dropWatches();
    const ns = "three";
    await applyAgent(
      ns,
      "wa",
      spec("three", {
        batchTimeout: "75ms",
        zones: [{ name: "zone-a" }, { name: "zone-b", replicas: 3 }, { name: "zone-c" }],
      }),
    );
    await eventually(
      async () => (await deployments(ns)).every((d) => d.spec!.template.spec!.containers[0]!.args!.includes("75ms")),
      {
        timeoutMs: 30_000,
        what: "the change made after the watches were cut to be reconciled",
      },
    );
    const after = c.informerStats().find((s) => s.resource === "warpagents")!;
    assert.ok(after.watches > before.watches + 1, `watches restarted (${before.watches} → ${after.watches})`);
  });

  it("serves /metrics and health endpoints", async () => {
    const base = `http://127.0.0.1:${operator!.metricsPort}`;
    const metrics = await (await fetch(`${base}/metrics`)).text();
    assert.match(metrics, /warp_operator_reconcile_total\{result="success"\} \d+/);
    assert.match(metrics, /warp_operator_leader 1/);
    assert.equal((await fetch(`${base}/healthz`)).status, 200);
    assert.equal((await fetch(`${base}/readyz`)).status, 200);
  });

  it("an operator whose caches cannot sync (no RBAC) is not ready, and still stops", async () => {
    const o = await runOperator({ ...baseOptions(), kubeconfig: await cp.userConfig("nobody") });
    try {
      await new Promise((r) => setTimeout(r, 1_000));
      assert.equal((await fetch(`http://127.0.0.1:${o.metricsPort}/readyz`)).status, 503);
      assert.equal((await fetch(`http://127.0.0.1:${o.metricsPort}/healthz`)).status, 200);
    } finally {
      await o.stop();
    }
  });

  it("without spec.zones, zones come from the nodes' topology labels; a zone whose nodes all went keeps its Deployment", async () => {
    const node = (name: string, zone: string) => ({
      apiVersion: "v1",
      kind: "Node",
      metadata: { name, labels: { "topology.kubernetes.io/zone": zone } },
    });
    await admin.create({ apiVersion: "v1", plural: "nodes" }, node("node-1", "disc-a"));
    await admin.create({ apiVersion: "v1", plural: "nodes" }, node("node-2", "disc-b"));
    await admin.create({ apiVersion: "v1", plural: "nodes" }, node("node-3", "disc-b"));
    const ns = "disc";
    await createNamespace(ns);
    await applyAgent(ns, "wa", spec("disc", { replicasPerZone: 2 }));
    const names = async () =>
      (await deployments(ns))
        .map((d) => `${d.metadata!.name}:${d.spec!.replicas}`)
        .sort()
        .join(",");
    const expected = (...zones: string[]): string =>
      zones
        .map((z) => `${deploymentName("wa", z)}:2`)
        .sort()
        .join(",");
    await eventually(async () => (await names()) === expected("disc-a", "disc-b"), {
      timeoutMs: 30_000,
      what: "one Deployment per discovered zone",
    });
    await admin.create({ apiVersion: "v1", plural: "nodes" }, node("node-4", "disc-c"));
    await eventually(async () => (await names()) === expected("disc-a", "disc-b", "disc-c"), {
      timeoutMs: 30_000,
      what: "a Deployment for the new zone",
    });
    // The last node of disc-a goes (a cluster autoscaler scaled the zone to zero): its Deployment
    // stays, so its pending pods can make the autoscaler bring a node back.
    await admin.delete({ apiVersion: "v1", plural: "nodes", name: "node-1" });
    await admin.create({ apiVersion: "v1", plural: "nodes" }, node("node-5", "disc-d"));
    await eventually(async () => (await names()) === expected("disc-a", "disc-b", "disc-c", "disc-d"), {
      timeoutMs: 30_000,
      what: "a Deployment for disc-d, and disc-a's kept after its last node went",
    });
    // Told: spec.zones names the zones, and disc-a is no longer one of them.
    await applyAgent(
      ns,
      "wa",
      spec("disc", { replicasPerZone: 2, zones: [{ name: "disc-b" }, { name: "disc-c" }, { name: "disc-d" }] }),
    );
    await eventually(async () => (await names()) === expected("disc-b", "disc-c", "disc-d"), {
      timeoutMs: 30_000,
      what: "disc-a's Deployment to be deleted once spec.zones leaves it out",
    });
  });

  it("paused: nothing changes until unpaused; status says so", async () => {
    const ns = "three";
    const zones = [{ name: "zone-a" }, { name: "zone-b", replicas: 3 }, { name: "zone-c" }];
    await applyAgent(ns, "wa", spec("three", { batchTimeout: "80ms", zones, paused: true }));
    const paused = await eventually(
      async () => {
        const a = await getAgent(ns, "wa");
        return cond(a, "Ready")?.reason === "Paused" && a.status?.observedGeneration === a.metadata.generation
          ? a
          : undefined;
      },
      { timeoutMs: 30_000, what: "Ready reason Paused" },
    );
    assert.equal(cond(paused, "Ready")!.status, "Unknown");
    assert.ok(
      (await deployments(ns)).every((d) => !d.spec!.template.spec!.containers[0]!.args!.includes("80ms")),
      "paused: no rollout",
    );
    await applyAgent(ns, "wa", spec("three", { batchTimeout: "80ms", zones, paused: false }));
    await eventually(
      async () => (await deployments(ns)).every((d) => d.spec!.template.spec!.containers[0]!.args!.includes("80ms")),
      { timeoutMs: 30_000, what: "the rollout after unpausing" },
    );
  });

  it("an operator killed mid-reconcile is replaced by one that converges without duplicates", async () => {
    await operator!.stop();
    operator = undefined;
    const ns = "restart";
    await createNamespace(ns);
    // Same node options as this process (mocha runs with --import=tsx).
    const execArgv = process.execArgv.some((a) => a.includes("tsx"))
      ? process.execArgv
      : [...process.execArgv, "--import", "tsx"];
    const child = spawn(process.execPath, [...execArgv, path.join(here, "operator-process.ts")], {
      cwd: root,
      env: {
        ...process.env,
        WARP_TEST_KUBECONFIG: opKubeconfigPath,
        WARP_TEST_DYNAMODB: ddb.endpoint,
        WARP_TEST_S3: s3srv.endpoint,
        WARP_TEST_APPLY_DELAY_MS: "1500",
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let childLog = "";
    child.stdout.on("data", (d: Buffer) => (childLog += d.toString()));
    child.stderr.on("data", (d: Buffer) => (childLog += d.toString()));
    const exited = new Promise<void>((r) => child.on("exit", () => r()));
    try {
      await applyAgent(
        ns,
        "wa",
        spec("restart", { zones: [{ name: "zone-a" }, { name: "zone-b" }, { name: "zone-c" }] }),
      );
      await eventually(async () => (await deployments(ns)).length >= 1, {
        timeoutMs: 90_000,
        what: `the first Deployment from the child operator (log: ${childLog.slice(-2000)})`,
      });
    } finally {
      child.kill("SIGKILL");
      await exited;
    }
    assert.ok((await deployments(ns)).length < 3, "killed before it finished");
    operator = await startOperator();
    await eventually(async () => (await deployments(ns)).length === 3, {
      timeoutMs: 60_000,
      what: "all three Deployments after the restart",
    });
    await markDeploymentsReady(ns);
    await waitReady(ns, "wa", "Ready=True after the restart");
    const names = (await deployments(ns)).map((d) => d.metadata!.name).sort();
    assert.deepEqual(names, ["zone-a", "zone-b", "zone-c"].map((z) => deploymentName("wa", z)).sort());
    const services = await admin.list<KubeObject>({ apiVersion: "v1", plural: "services", namespace: ns });
    assert.deepEqual(services.items.map((s) => s.metadata!.name).sort(), ["wa", headlessServiceName("wa")].sort());
  });

  it("two operator replicas: one leader; the other takes over when it stops", async () => {
    const le = (identity: string): OperatorOptions["leaderElection"] => ({
      enabled: true,
      leaseName: "warp-operator-ha",
      leaseNamespace: "default",
      identity,
      leaseDurationMs: 3_000,
      renewDeadlineMs: 2_000,
      retryPeriodMs: 300,
    });
    await operator?.stop();
    operator = undefined;
    const a = await startOperator({ leaderElection: le("replica-a") });
    const b = await startOperator({ leaderElection: le("replica-b") });
    extraOperators.push(a, b);
    await eventually(() => a.isLeader() || b.isLeader(), { timeoutMs: 30_000, what: "a leader" });
    await new Promise((r) => setTimeout(r, 1_500));
    assert.equal([a, b].filter((o) => o.isLeader()).length, 1, "exactly one leader");
    const leader = a.isLeader() ? a : b;
    const follower = leader === a ? b : a;
    assert.equal(follower.controller(), undefined, "the follower runs no controller");
    const lease = await admin.get<{ spec: { holderIdentity: string } }>({
      apiVersion: "coordination.k8s.io/v1",
      plural: "leases",
      namespace: "default",
      name: "warp-operator-ha",
    });
    assert.equal(lease.spec.holderIdentity, leader === a ? "replica-a" : "replica-b");

    await leader.stop();
    await eventually(() => follower.isLeader(), { timeoutMs: 30_000, what: "the follower to take over" });
    const ns = "three";
    await applyAgent(
      ns,
      "wa",
      spec("three", {
        batchTimeout: "60ms",
        zones: [{ name: "zone-a" }, { name: "zone-b", replicas: 3 }, { name: "zone-c" }],
      }),
    );
    await eventually(
      async () => (await deployments(ns)).every((d) => d.spec!.template.spec!.containers[0]!.args!.includes("60ms")),
      {
        timeoutMs: 30_000,
        what: "the new leader to reconcile",
      },
    );
  });
});
