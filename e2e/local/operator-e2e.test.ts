/**
 * End to end with no Docker: the story of e2e/kind/run.sh on this machine.
 *
 *   real kube-apiserver + etcd + kube-controller-manager (deployment, replicaset, garbage-collector,
 *     disruption, namespace and endpointslice controllers) ── `helm template` of
 *     charts/warp-operator, applied server-side
 *   Kubernetes' deployment and ReplicaSet controllers make the operator's Pod; PodRunner (stand-in for
 *     the scheduler and the kubelet) runs it as a local process, with its ServiceAccount's token: the
 *     operator has exactly the chart's RBAC
 *   a 3-zone WarpAgent ── the operator creates the tables in DynamoDB Local, checks the bucket in
 *     moto's S3 server, and applies one Deployment per zone
 *   the controllers make a ReplicaSet and a Pod per zone; PodRunner runs one agent process per Pod
 *     (command, args, env, Secret volumes) and writes the Pod's status (Ready from the readiness
 *     probe), the controllers carry it up to the Deployments; the WarpAgent turns Ready
 *   kcat and kafkajs produce and consume through the agents; compaction puts the data in S3;
 *   a spec change is a rolling update by Kubernetes' own controllers: a new ReplicaSet per zone,
 *     its Pod ready before the old one goes;
 *   deleting the WarpAgent (deletionPolicy Delete) makes the operator stop its agents, then remove
 *     its tables; the garbage collector then removes what it owned.
 *
 * Stand-ins, because they cannot run here: there is no kubelet, no scheduler and no container
 * runtime (PodRunner binds each Pod to one node and runs its first container as a local process);
 * pods share one loopback address (ports are remapped, status.podIP is 127.0.0.1); Services do not
 * route (no kube-proxy: clients bootstrap from an agent's port).
 */
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { CreateBucketCommand, ListObjectsV2Command, S3Client } from "@aws-sdk/client-s3";
import type { V1Deployment, V1Pod, V1ReplicaSet } from "@kubernetes/client-node";
import { Kafka, logLevel } from "kafkajs";
import type { Condition, WarpAgent } from "../../operator/src/api/types.js";
import { deploymentName } from "../../operator/src/desired/labels.js";
import { KubeClient } from "../../operator/src/kube/client.js";
import { CHART_DIR, REPO_ROOT } from "../../scripts/sync-chart.js";
import { LOCAL_AWS, startDynamoDbLocal, tableExists as tableExistsIn } from "../support/dynamodb-local.js";
import { getCondition } from "../../operator/src/api/conditions.js";
import type { ConditionType } from "../../operator/src/api/conditions.js";
import type { DynamoDbLocal } from "../support/dynamodb-local.js";
import { runKcat } from "../support/kcat.js";
import { eventually } from "../support/eventually.js";
import { startControlPlane } from "../support/kube/control-plane.js";
import type { ControlPlane } from "../support/kube/control-plane.js";
import type { RunningPod } from "../support/kube/pod-launcher.js";
import { PodRunner } from "../support/kube/pod-runner.js";
import { helmTemplate, kubectl, kubectlApply, writeValuesFile } from "../support/kube/helm.js";
import { makeSigningKey, signJwt } from "../../agent/test/security/oauth-support.js";
import { makeTestCerts } from "../../agent/test/security/support.js";
import { startS3Server } from "../support/s3-server.js";
import type { S3Server } from "../support/s3-server.js";

const OPERATOR_NS = "warp-system";
const APP_NS = "streaming";
const BUCKET = "warp-e2e";
const ZONES = ["zone-a", "zone-b", "zone-c"];
const WA = { apiVersion: "warpagent.dev/v1alpha1", plural: "warpagents" };
const DEPLOYMENTS = { apiVersion: "apps/v1", plural: "deployments", namespace: APP_NS };
/** The image's entrypoint `warp`, run from this checkout. */
const WARP = [process.execPath, "--import", "tsx", path.join(REPO_ROOT, "cli/warp.ts")];

function cond(a: WarpAgent | undefined, type: ConditionType): Condition | undefined {
  return getCondition(a?.status?.conditions, type);
}

describe("local end to end: Helm chart, operator, agents, clients (no Docker)", function () {
  this.timeout(600_000);
  let cp: ControlPlane;
  let ddb: DynamoDbLocal;
  let s3srv: S3Server;
  let admin: KubeClient;
  let dynamo: DynamoDBClient;
  let s3: S3Client;
  let operatorPods: PodRunner;
  let agentPods: PodRunner;

  const agentsOf = (zone: string): RunningPod[] => agentPods.pods(`${deploymentName("events", zone)}-`);
  const kafkaAddress = (p: RunningPod): string => `127.0.0.1:${p.namedPorts.get("kafka")}`;

  const tableExists = (name: string): Promise<boolean> => tableExistsIn(dynamo, name);

  /** The WarpAgent once Ready=True for its current generation. */
  const waitReady = (name: string): Promise<WarpAgent> =>
    eventually(
      async () => {
        const a = await admin.get<WarpAgent>({ ...WA, namespace: APP_NS, name });
        return cond(a, "Ready")?.status === "True" && a.status?.observedGeneration === a.metadata.generation
          ? a
          : undefined;
      },
      { timeoutMs: 240_000, what: `WarpAgent ${name} to be Ready` },
    );

  before(async () => {
    [cp, ddb, s3srv] = await Promise.all([
      startControlPlane({ controllerManager: true }),
      startDynamoDbLocal(),
      startS3Server(),
    ]);
    admin = await KubeClient.fromKubeConfig(cp.adminConfig());
    dynamo = new DynamoDBClient({ ...LOCAL_AWS, endpoint: ddb.endpoint });
    s3 = new S3Client({ ...LOCAL_AWS, endpoint: s3srv.endpoint, forcePathStyle: true });
    await s3.send(new CreateBucketCommand({ Bucket: BUCKET }));

    // What a platform engineer does: a namespace, LocalStack-style credentials, the chart.
    for (const ns of [OPERATOR_NS, APP_NS]) await kubectl(cp.kubeconfigPath, ["create", "namespace", ns]);
    for (const ns of [OPERATOR_NS, APP_NS]) {
      await kubectl(cp.kubeconfigPath, [
        "-n",
        ns,
        "create",
        "secret",
        "generic",
        "aws-credentials",
        `--from-literal=AWS_ACCESS_KEY_ID=${LOCAL_AWS.credentials.accessKeyId}`,
        `--from-literal=AWS_SECRET_ACCESS_KEY=${LOCAL_AWS.credentials.secretAccessKey}`,
      ]);
    }
    const manifests = await helmTemplate(path.join(REPO_ROOT, CHART_DIR), {
      release: "warp",
      namespace: OPERATOR_NS,
      includeCrds: true,
      set: {
        "aws.region": "us-east-1",
        "aws.endpoints.dynamodb": ddb.endpoint,
        "aws.endpoints.s3": s3srv.endpoint,
        "aws.credentialsSecretName": "aws-credentials",
      },
      // The agents read LocalStack-style keys from a Secret: the operator must allow it.
      valuesFiles: [writeValuesFile("agentPolicy:\n  allowSecretEnv: true\n")],
    });
    await kubectlApply(manifests, { kubeconfig: cp.kubeconfigPath });
    await kubectl(cp.kubeconfigPath, [
      "wait",
      "--for=condition=Established",
      "--timeout=60s",
      "crd/warpagents.warpagent.dev",
    ]);

    operatorPods = new PodRunner({
      admin,
      namespace: OPERATOR_NS,
      commands: { warp: WARP },
      cwd: REPO_ROOT,
      serviceAccountKubeconfig: (ns, sa) => cp.serviceAccountKubeconfigPath(ns, sa),
    });
    operatorPods.start();
    await eventually(async () => operatorPods.pods("warp-warp-operator").some((p) => p.ready), {
      timeoutMs: 120_000,
      what: "the operator pod to be ready",
    }).catch((err: Error) => {
      const pod = operatorPods.pods("warp-warp-operator")[0];
      throw new Error(
        `${err.message}; runner errors: ${operatorPods.errors.join("; ") || "none"}; operator log:\n${pod?.process.logTail(30) ?? "(no pod)"}`,
      );
    });
  });

  after(async () => {
    await agentPods?.stop();
    await operatorPods?.stop();
    dynamo?.destroy();
    s3?.destroy();
    await Promise.all([cp?.stop(), ddb?.stop(), s3srv?.stop()]);
  });

  it("the operator runs with the chart's identity: its RBAC, not more", async () => {
    const pod = operatorPods.pods("warp-warp-operator")[0]!;
    assert.ok(pod.env.KUBECONFIG, "the operator pod runs with its ServiceAccount's token");
    const auth = async (verb: string, resource: string, namespace?: string): Promise<boolean> => {
      const review = await admin.create<{ status: { allowed: boolean } }>(
        { apiVersion: "authorization.k8s.io/v1", plural: "subjectaccessreviews" },
        {
          apiVersion: "authorization.k8s.io/v1",
          kind: "SubjectAccessReview",
          spec: {
            user: `system:serviceaccount:${OPERATOR_NS}:warp-warp-operator`,
            groups: ["system:serviceaccounts", `system:serviceaccounts:${OPERATOR_NS}`, "system:authenticated"],
            resourceAttributes: {
              verb,
              resource,
              ...(resource === "warpagents" ? { group: "warpagent.dev" } : {}),
              ...(resource === "deployments" ? { group: "apps" } : {}),
              ...(resource === "leases" ? { group: "coordination.k8s.io" } : {}),
              ...(namespace ? { namespace } : {}),
            },
          },
        },
      );
      return review.status.allowed;
    };
    assert.equal(await auth("watch", "warpagents", APP_NS), true);
    assert.equal(await auth("patch", "deployments", APP_NS), true);
    assert.equal(await auth("update", "leases", OPERATOR_NS), true);
    assert.equal(
      await auth("update", "leases", APP_NS),
      false,
      "the Lease Role is bound in the operator's namespace only",
    );
    assert.equal(await auth("get", "secrets", APP_NS), false);
    assert.equal(await auth("get", "deployments", APP_NS), false, "reads go through list/watch only");
    assert.equal(await auth("update", "deployments", APP_NS), false, "writes are server-side apply patches");
    assert.equal(await auth("delete", "warpagents", APP_NS), false);
  });

  it("brings a 3-zone WarpAgent to Ready", async () => {
    const waYaml = `apiVersion: warpagent.dev/v1alpha1
kind: WarpAgent
metadata: {name: events, namespace: ${APP_NS}}
spec:
  region: us-east-1
  tables: {files: e2e-files, chunks: e2e-chunks, deletionPolicy: Delete}
  bucket: {name: ${BUCKET}, prefix: events/}
  batchTimeout: 50ms
  zones: [{name: zone-a}, {name: zone-b}, {name: zone-c}]
  endpoints: {dynamodb: "${ddb.endpoint}", s3: "${s3srv.endpoint}"}
  env:
    - {name: WARP_AUTO_CREATE_TOPICS, value: "true"}
    - {name: WARP_COMPACTION_INTERVAL, value: 1s}
    - {name: AWS_ACCESS_KEY_ID, valueFrom: {secretKeyRef: {name: aws-credentials, key: AWS_ACCESS_KEY_ID}}}
    - {name: AWS_SECRET_ACCESS_KEY, valueFrom: {secretKeyRef: {name: aws-credentials, key: AWS_SECRET_ACCESS_KEY}}}
`;
    await kubectlApply(waYaml, { kubeconfig: cp.kubeconfigPath });

    agentPods = new PodRunner({
      admin,
      namespace: APP_NS,
      labelSelector: "app.kubernetes.io/managed-by=warp-operator",
      commands: { warp: WARP },
      cwd: REPO_ROOT,
    });
    agentPods.start();

    const ready = await waitReady("events");
    for (const t of ["TablesReady", "BucketReady", "AgentsReady"] as const)
      assert.equal(cond(ready, t)?.status, "True", `${t}: ${cond(ready, t)?.message}`);
    assert.ok(await tableExists("e2e-files"));
    assert.ok(await tableExists("e2e-chunks"));
    const deps = (await admin.list<V1Deployment>({ apiVersion: "apps/v1", plural: "deployments", namespace: APP_NS }))
      .items;
    assert.deepEqual(deps.map((d) => d.metadata!.name).sort(), ZONES.map((z) => deploymentName("events", z)).sort());
    for (const z of ZONES) assert.equal(agentsOf(z).filter((p) => p.ready).length, 1, `zone ${z} runs one ready agent`);
    assert.match(ready.status?.bootstrap ?? "", /^events\.streaming\.svc(\.cluster\.local)?:9092$/);
    // `kubectl get wa` shows what a person needs.
    const table = await kubectl(cp.kubeconfigPath, ["-n", APP_NS, "get", "warpagents"]);
    assert.match(table, /events\s+True\s+3\/3/);
  });

  it("kcat produces through zone a's agent and consumes through zone b's", async () => {
    const lines = Array.from({ length: 200 }, (_, i) => `k${i}:kcat-value-${i}`);
    const produced = await runKcat(
      [
        "-b",
        kafkaAddress(agentsOf("zone-a")[0]!),
        "-X",
        "client.id=e2e-kcat,ws_az=zone-a",
        "-P",
        "-t",
        "e2e-kcat",
        "-K",
        ":",
        "-X",
        "acks=all",
      ],
      { input: `${lines.join("\n")}\n` },
    );
    assert.equal(produced.code, 0, produced.stderr);
    const consumed = await runKcat(
      [
        "-b",
        kafkaAddress(agentsOf("zone-b")[0]!),
        "-X",
        "client.id=e2e-kcat,ws_az=zone-b",
        "-C",
        "-t",
        "e2e-kcat",
        "-o",
        "beginning",
        "-e",
        "-K",
        ":",
        "-q",
      ],
      { timeoutMs: 90_000 },
    );
    assert.equal(consumed.code, 0, consumed.stderr);
    assert.deepEqual(consumed.stdout.trim().split("\n").sort(), [...lines].sort());
  });

  it("kafkajs produces to every agent's zone and a consumer group reads everything back", async () => {
    const kafka = new Kafka({
      clientId: "e2e-kafkajs",
      brokers: ZONES.map((z) => kafkaAddress(agentsOf(z)[0]!)),
      logLevel: logLevel.NOTHING,
    });
    const adminClient = kafka.admin();
    await adminClient.connect();
    await adminClient.createTopics({ topics: [{ topic: "e2e-kafkajs", numPartitions: 6 }], waitForLeaders: true });
    const brokers = (await adminClient.describeCluster()).brokers;
    await adminClient.disconnect();
    assert.equal(brokers.length, 3, "Metadata lists the three agents");

    const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    const sent = new Set<string>();
    for (let batch = 0; batch < 10; batch++) {
      const messages = Array.from({ length: 30 }, (_, i) => ({
        key: `key-${(batch * 30 + i) % 17}`,
        value: `kafkajs-${batch}-${i}`,
      }));
      await producer.send({ topic: "e2e-kafkajs", acks: -1, messages });
      for (const m of messages) sent.add(m.value);
    }
    await producer.disconnect();

    const consumer = kafka.consumer({ groupId: "e2e-group" });
    await consumer.connect();
    await consumer.subscribe({ topic: "e2e-kafkajs", fromBeginning: true });
    const received = new Set<string>();
    await consumer.run({ eachMessage: async ({ message }) => void received.add(message.value!.toString()) });
    try {
      await eventually(() => received.size >= sent.size, {
        timeoutMs: 120_000,
        what: `${sent.size} messages (have ${received.size})`,
      });
    } finally {
      await consumer.disconnect();
    }
    assert.deepEqual([...received].sort(), [...sent].sort());
  });

  it("compaction moves the data into S3, and it still reads back from there", async () => {
    const objects = await eventually(
      async () => {
        const out = await s3.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: "events/" }));
        return (out.KeyCount ?? 0) > 0 ? out.Contents : undefined;
      },
      { timeoutMs: 120_000, what: "compacted objects under s3://warp-e2e/events/" },
    );
    assert.ok(objects.reduce((n, o) => n + (o.Size ?? 0), 0) > 0);
    const consumed = await runKcat(
      ["-b", kafkaAddress(agentsOf("zone-c")[0]!), "-C", "-t", "e2e-kcat", "-o", "beginning", "-e", "-q"],
      { timeoutMs: 90_000 },
    );
    assert.equal(consumed.code, 0, consumed.stderr);
    assert.equal(consumed.stdout.trim().split("\n").length, 200);
  });

  it("a spec change is a rolling update by Kubernetes' own ReplicaSets, no zone unserved; the data is still there", async () => {
    const before = await admin.get<WarpAgent>({ ...WA, namespace: APP_NS, name: "events" });
    const zoneDeployment = (z: string) =>
      admin.get<V1Deployment>({ ...DEPLOYMENTS, name: deploymentName("events", z) });
    const replicaSetsOf = async (dep: V1Deployment): Promise<V1ReplicaSet[]> =>
      (
        await admin.list<V1ReplicaSet>({ apiVersion: "apps/v1", plural: "replicasets", namespace: APP_NS })
      ).items.filter((rs) => rs.metadata?.ownerReferences?.some((o) => o.uid === dep.metadata?.uid));
    const revision = (dep: V1Deployment) => Number(dep.metadata?.annotations?.["deployment.kubernetes.io/revision"]);
    const old = new Map<string, { revision: number; replicaSets: Set<string> }>();
    for (const z of ZONES) {
      const dep = await zoneDeployment(z);
      const replicaSets = new Set((await replicaSetsOf(dep)).map((rs) => rs.metadata!.name!));
      const owners = [...new Set(agentsOf(z).map((p) => p.owner))];
      assert.equal(owners.length, 1, `zone ${z}: its agents run from one ReplicaSet`);
      assert.ok(replicaSets.has(owners[0]!), `zone ${z}: its agent runs from one of its Deployment's ReplicaSets`);
      old.set(z, { revision: revision(dep), replicaSets });
    }

    // While the rollout runs, sample the agent Pods as the apiserver has them: in every zone a Pod
    // that is Ready and not terminating (maxUnavailable 0), and the new Pod beside the old one (maxSurge 1).
    /** Zone → how many samples found it with no serving Pod. */
    const unserved = new Map<string, number>();
    const surged = new Set<string>();
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        const pods = (
          await admin.list<V1Pod>(
            { apiVersion: "v1", plural: "pods", namespace: APP_NS },
            { labelSelector: "app.kubernetes.io/instance=events" },
          )
        ).items;
        for (const z of ZONES) {
          const inZone = pods.filter((p) => p.metadata?.labels?.["warpagent.dev/zone"] === z);
          const serving = inZone.filter(
            (p) =>
              !p.metadata?.deletionTimestamp &&
              p.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True"),
          );
          if (serving.length === 0) unserved.set(z, (unserved.get(z) ?? 0) + 1);
          const owners = new Set(inZone.map((p) => p.metadata?.ownerReferences?.[0]?.name));
          if ([...owners].some((o) => old.get(z)!.replicaSets.has(o ?? "")) && owners.size > 1) surged.add(z);
        }
        await new Promise((r) => setTimeout(r, 100));
      }
    })();
    try {
      await kubectl(cp.kubeconfigPath, [
        "-n",
        APP_NS,
        "patch",
        "warpagent",
        "events",
        "--type=merge",
        "-p",
        JSON.stringify({ spec: { batchTimeout: "100ms" } }),
      ]);
      const ready = await waitReady("events");
      assert.ok(ready.metadata.generation! > before.metadata.generation!, "Ready for the new generation");
      // Each zone has rolled to a new ReplicaSet; the old ones are scaled to zero and their pods stopped.
      for (const z of ZONES) {
        const dep = await zoneDeployment(z);
        const was = old.get(z)!;
        assert.equal(revision(dep), was.revision + 1, `zone ${z}: one new revision`);
        const replicaSets = await replicaSetsOf(dep);
        const fresh = replicaSets.filter((rs) => !was.replicaSets.has(rs.metadata!.name!));
        assert.equal(fresh.length, 1, `zone ${z}: one new ReplicaSet`);
        const args = fresh[0]!.spec?.template?.spec?.containers[0]?.args ?? [];
        assert.equal(args[args.indexOf("-batchTimeout") + 1], "100ms", `zone ${z}: the new template has the change`);
        assert.equal(fresh[0]!.status?.readyReplicas, 1, `zone ${z}: the new ReplicaSet's pod is ready`);
        for (const rs of replicaSets.filter((r) => was.replicaSets.has(r.metadata!.name!)))
          assert.equal(rs.spec?.replicas, 0, `zone ${z}: old ReplicaSet ${rs.metadata?.name} scaled to zero`);
        const agents = await eventually(
          () => {
            const now = agentsOf(z);
            return now.length === 1 && now[0]!.ready ? now : undefined;
          },
          { timeoutMs: 60_000, what: `zone ${z}: the old agent stopped, the new one ready` },
        );
        assert.equal(agents[0]!.owner, fresh[0]!.metadata!.name, `zone ${z}: the agent runs from the new ReplicaSet`);
        assert.equal(agents[0]!.args[agents[0]!.args.indexOf("-batchTimeout") + 1], "100ms");
      }
    } finally {
      sampling = false;
      await sampler;
    }
    assert.deepEqual(Object.fromEntries(unserved), {}, "every zone had a ready agent throughout the rollout");
    assert.deepEqual([...surged].sort(), ZONES, "in every zone the new pod ran beside the old one");

    // The new agents serve what the old ones stored, and take new data.
    const lines = Array.from({ length: 50 }, (_, i) => `after-${i}`);
    const produced = await runKcat(
      ["-b", kafkaAddress(agentsOf("zone-b")[0]!), "-P", "-t", "e2e-kcat", "-X", "acks=all"],
      { input: `${lines.join("\n")}\n` },
    );
    assert.equal(produced.code, 0, produced.stderr);
    const consumed = await runKcat(
      ["-b", kafkaAddress(agentsOf("zone-a")[0]!), "-C", "-t", "e2e-kcat", "-o", "beginning", "-e", "-q"],
      { timeoutMs: 90_000 },
    );
    assert.equal(consumed.code, 0, consumed.stderr);
    const values = consumed.stdout.trim().split("\n");
    assert.equal(values.length, 250, "the 200 records from before the rollout and the 50 after");
    assert.deepEqual(values.filter((v) => v.startsWith("after-")).sort(), [...lines].sort());
  });

  it("a WarpAgent with TLS and SASL/SCRAM: the pods mount the Secrets, kcat connects over SASL_SSL, a wrong password is refused", async () => {
    const certs = await makeTestCerts();
    try {
      const read = (f: string) => fs.readFileSync(f, "utf8");
      await admin.create(
        { apiVersion: "v1", plural: "secrets", namespace: APP_NS },
        {
          apiVersion: "v1",
          kind: "Secret",
          metadata: { name: "secure-tls" },
          type: "kubernetes.io/tls",
          stringData: {
            "tls.crt": read(certs.serverCert),
            "tls.key": read(certs.serverKey),
            "ca.crt": read(certs.caFile),
          },
        },
      );
      await admin.create(
        { apiVersion: "v1", plural: "secrets", namespace: APP_NS },
        {
          apiVersion: "v1",
          kind: "Secret",
          metadata: { name: "secure-users" },
          stringData: { users: "alice:alice-secret\n" },
        },
      );
      await kubectlApply(
        `apiVersion: warpagent.dev/v1alpha1
kind: WarpAgent
metadata: {name: secure, namespace: ${APP_NS}}
spec:
  region: us-east-1
  tables: {files: secure-files, chunks: secure-chunks, deletionPolicy: Delete}
  bucket: {name: ${BUCKET}, prefix: secure/}
  zones: [{name: zone-a}]
  endpoints: {dynamodb: "${ddb.endpoint}", s3: "${s3srv.endpoint}"}
  kafka:
    tls: {secretName: secure-tls}
    sasl: {mechanisms: [SCRAM-SHA-512, PLAIN], usersSecret: {name: secure-users}}
  env:
    - {name: WARP_AUTO_CREATE_TOPICS, value: "true"}
    - {name: AWS_ACCESS_KEY_ID, valueFrom: {secretKeyRef: {name: aws-credentials, key: AWS_ACCESS_KEY_ID}}}
    - {name: AWS_SECRET_ACCESS_KEY, valueFrom: {secretKeyRef: {name: aws-credentials, key: AWS_SECRET_ACCESS_KEY}}}
`,
        { kubeconfig: cp.kubeconfigPath },
      );
      await waitReady("secure");
      const pod = agentPods.pods(deploymentName("secure", "zone-a"))[0]!;
      const sasl = (password: string) => [
        "-X",
        "security.protocol=SASL_SSL",
        "-X",
        `ssl.ca.location=${certs.caFile}`,
        "-X",
        "sasl.mechanisms=SCRAM-SHA-512",
        "-X",
        "sasl.username=alice",
        "-X",
        `sasl.password=${password}`,
      ];
      const produced = await runKcat(
        ["-b", kafkaAddress(pod), ...sasl("alice-secret"), "-P", "-t", "secure-topic", "-X", "acks=all"],
        { input: "one\ntwo\nthree\n" },
      );
      assert.equal(produced.code, 0, produced.stderr);
      const consumed = await runKcat(
        ["-b", kafkaAddress(pod), ...sasl("alice-secret"), "-C", "-t", "secure-topic", "-o", "beginning", "-e", "-q"],
        { timeoutMs: 90_000 },
      );
      assert.equal(consumed.code, 0, consumed.stderr);
      assert.deepEqual(consumed.stdout.trim().split("\n"), ["one", "two", "three"]);
      const wrong = await runKcat(["-b", kafkaAddress(pod), ...sasl("not-the-password"), "-L", "-m", "10"], {
        timeoutMs: 60_000,
      });
      assert.notEqual(wrong.code, 0);
      assert.match(wrong.stderr, /[Aa]uthentication/);
      const plaintext = await runKcat(["-b", kafkaAddress(pod), "-L", "-m", "5"], { timeoutMs: 60_000 });
      assert.notEqual(plaintext.code, 0, "a plaintext client is refused by the TLS listener");
    } finally {
      certs.remove();
      await kubectl(cp.kubeconfigPath, [
        "-n",
        APP_NS,
        "delete",
        "warpagent",
        "secure",
        "--wait=false",
        "--ignore-not-found",
      ]);
    }
  });

  it("a WarpAgent with OAUTHBEARER and a JWKS ConfigMap: the agents verify tokens with the mounted keys; a foreign audience is refused", async () => {
    const certs = await makeTestCerts();
    const key = makeSigningKey("RS256");
    const issuer = "https://idp.example.com/realms/kafka";
    const token = (claims: Record<string, unknown> = {}) => {
      const now = Math.floor(Date.now() / 1000);
      return signJwt({ iss: issuer, aud: "warp-kafka", sub: "orders", iat: now, exp: now + 600, ...claims }, key);
    };
    try {
      const read = (f: string) => fs.readFileSync(f, "utf8");
      await admin.create(
        { apiVersion: "v1", plural: "secrets", namespace: APP_NS },
        {
          apiVersion: "v1",
          kind: "Secret",
          metadata: { name: "oauth-tls" },
          type: "kubernetes.io/tls",
          stringData: { "tls.crt": read(certs.serverCert), "tls.key": read(certs.serverKey) },
        },
      );
      await admin.create(
        { apiVersion: "v1", plural: "configmaps", namespace: APP_NS },
        {
          apiVersion: "v1",
          kind: "ConfigMap",
          metadata: { name: "idp-jwks" },
          data: { "keys.json": JSON.stringify({ keys: [key.jwk] }) },
        },
      );
      await kubectlApply(
        `apiVersion: warpagent.dev/v1alpha1
kind: WarpAgent
metadata: {name: oauth, namespace: ${APP_NS}}
spec:
  region: us-east-1
  tables: {files: oauth-files, chunks: oauth-chunks, deletionPolicy: Delete}
  bucket: {name: ${BUCKET}, prefix: oauth/}
  zones: [{name: zone-a}]
  endpoints: {dynamodb: "${ddb.endpoint}", s3: "${s3srv.endpoint}"}
  kafka:
    tls: {secretName: oauth-tls}
    sasl:
      mechanisms: [OAUTHBEARER]
      oauthbearer:
        jwks: {configMapKeyRef: {name: idp-jwks, key: keys.json}}
        issuer: ${issuer}
        audience: [warp-kafka]
      connectionsMaxReauth: 1h
  env:
    - {name: WARP_AUTO_CREATE_TOPICS, value: "true"}
    - {name: WARP_LOG_LEVEL, value: info}   # refused logins are logged at info, with the reason
    - {name: AWS_ACCESS_KEY_ID, valueFrom: {secretKeyRef: {name: aws-credentials, key: AWS_ACCESS_KEY_ID}}}
    - {name: AWS_SECRET_ACCESS_KEY, valueFrom: {secretKeyRef: {name: aws-credentials, key: AWS_SECRET_ACCESS_KEY}}}
`,
        { kubeconfig: cp.kubeconfigPath },
      );
      await waitReady("oauth");
      const pod = agentPods.pods(deploymentName("oauth", "zone-a"))[0]!;
      const client = (tokenOf: () => string) =>
        new Kafka({
          brokers: [kafkaAddress(pod)],
          clientId: "e2e-oauth",
          logLevel: logLevel.NOTHING,
          ssl: { ca: [read(certs.caFile)] },
          sasl: { mechanism: "oauthbearer", oauthBearerProvider: async () => ({ value: tokenOf() }) },
          retry: { retries: 1 },
        });
      const producer = client(() => token()).producer();
      await producer.connect();
      await producer.send({ topic: "oauth-topic", messages: [{ value: "one" }, { value: "two" }] });
      await producer.disconnect();
      const consumer = client(() => token()).consumer({ groupId: "oauth-group" });
      await consumer.connect();
      await consumer.subscribe({ topic: "oauth-topic", fromBeginning: true });
      const seen: string[] = [];
      await consumer.run({ eachMessage: async ({ message }) => void seen.push(message.value!.toString()) });
      await eventually(async () => seen.length >= 2, { timeoutMs: 60_000, what: "the two records consumed" });
      await consumer.disconnect();
      assert.deepEqual(seen, ["one", "two"]);
      // A token for another application: signed by the same key, refused for its audience. (kafkajs
      // takes the invalid_token challenge for success, as it would from a Kafka broker, so the
      // refusal shows at its first request; the agent logs the reason.)
      const foreign = client(() => token({ aud: "another-app" })).producer();
      await assert.rejects(async () => {
        await foreign.connect();
        await foreign.send({ topic: "oauth-topic", messages: [{ value: "foreign" }] });
      });
      await foreign.disconnect().catch(() => undefined);
      await eventually(async () => /SASL authentication failed.*audience/.test(pod.process.logTail(200)), {
        timeoutMs: 10_000,
        what: "the agent to log the refused audience",
      });
    } finally {
      certs.remove();
      await kubectl(cp.kubeconfigPath, [
        "-n",
        APP_NS,
        "delete",
        "warpagent",
        "oauth",
        "--wait=false",
        "--ignore-not-found",
      ]);
    }
  });

  it("deleting the WarpAgent applies deletionPolicy Delete: its tables go, its objects are owned", async () => {
    const deps = (await admin.list<V1Deployment>({ apiVersion: "apps/v1", plural: "deployments", namespace: APP_NS }))
      .items;
    const zoneDeployments = deps.filter((x) => x.metadata!.name!.startsWith("events-"));
    assert.equal(zoneDeployments.length, ZONES.length, "one Deployment per zone");
    for (const d of zoneDeployments)
      assert.equal(d.metadata!.ownerReferences?.[0]?.name, "events", "the garbage collector removes it with its owner");
    const zoneDeploymentNames = zoneDeployments.map((d) => d.metadata!.name!);
    /** Agent processes of the zone Deployments' ReplicaSets (`<deployment>-<template hash>`) still running. */
    const agentPodsRunning = (): number =>
      zoneDeploymentNames.reduce((n, name) => n + agentPods.pods(`${name}-`).length, 0);
    assert.ok(agentPodsRunning() > 0);
    /** What the WarpAgent owns, directly or through its Deployments, as "plural/name". */
    const owned = async (): Promise<string[]> => {
      const kinds = [
        { apiVersion: "apps/v1", plural: "deployments" },
        { apiVersion: "apps/v1", plural: "replicasets" },
        { apiVersion: "v1", plural: "pods" },
        { apiVersion: "v1", plural: "services" },
        { apiVersion: "policy/v1", plural: "poddisruptionbudgets" },
      ];
      const left: string[] = [];
      for (const k of kinds) {
        const items = (
          await admin.list<{ metadata: { name: string } }>(
            { ...k, namespace: APP_NS },
            { labelSelector: "app.kubernetes.io/instance=events" },
          )
        ).items;
        left.push(...items.map((i) => `${k.plural}/${i.metadata.name}`));
      }
      return left;
    };
    const ownedBefore = await owned();
    for (const plural of ["deployments", "replicasets", "pods", "services", "poddisruptionbudgets"])
      assert.ok(
        ownedBefore.some((o) => o.startsWith(`${plural}/`)),
        `it owns ${plural}: ${ownedBefore.join(", ")}`,
      );
    // The operator stops the agents itself, and deletes the tables only once no agent pod runs.
    await kubectl(cp.kubeconfigPath, ["-n", APP_NS, "delete", "warpagent", "events", "--wait=false"]);
    let podsWhenATableWent = 0;
    await eventually(
      async () => {
        const files = await tableExists("e2e-files");
        const chunks = await tableExists("e2e-chunks");
        if (!files || !chunks) podsWhenATableWent = Math.max(podsWhenATableWent, agentPodsRunning());
        return !files && !chunks;
      },
      { timeoutMs: 120_000, intervalMs: 50, what: "both tables to be deleted" },
    );
    assert.equal(podsWhenATableWent, 0, "no table is deleted while an agent pod runs");
    assert.equal(agentPodsRunning(), 0);
    await eventually(async () => (await admin.list<WarpAgent>({ ...WA, namespace: APP_NS })).items.length === 0, {
      timeoutMs: 60_000,
      what: "the WarpAgent to be gone (finalizer removed)",
    });
    // Kubernetes' garbage collector removes what the WarpAgent owned: the Deployments, then their
    // ReplicaSets and Pods, the Services, the PodDisruptionBudget.
    await eventually(async () => (await owned()).length === 0, {
      timeoutMs: 60_000,
      what: "the WarpAgent's objects to be collected",
    });
    const listed = await s3.send(new ListObjectsV2Command({ Bucket: BUCKET }));
    assert.ok((listed.KeyCount ?? 0) > 0, "the bucket and its data are never deleted");
    assert.deepEqual(operatorPods.errors, []);
    assert.deepEqual(agentPods.errors, []);
  });
});
