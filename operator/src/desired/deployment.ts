/**
 * desiredDeployment(agent, spec, zone, replicas): the agent Deployment of one zone, as a pure
 * function of the WarpAgent. The reconciler server-side applies exactly what this returns.
 */
import type { V1Deployment, V1EnvVar, V1ResourceRequirements } from "@kubernetes/client-node";
import { formatBucketUrl } from "../../../common/bucket-url.js";
import type { ResolvedSpec } from "../api/resolve.js";
import type { ResourcesSpec } from "../api/types.js";
import type { WarpAgent } from "../api/types.js";
import { LABEL_COMPONENT, LABEL_ZONE, ZONE_LABEL, agentSelector, commonLabels, deploymentName, ownerReference } from "./labels.js";

export const KAFKA_PORT = 9092;
export const HTTP_PORT = 8080;
export const AGENT_CONTAINER = "agent";

export function ingestionUrl(spec: ResolvedSpec): string {
  return formatBucketUrl({ kind: "dynamodb", region: spec.region, filesTable: spec.filesTable, chunksTable: spec.chunksTable });
}

export function compactionUrl(spec: ResolvedSpec): string {
  return formatBucketUrl({ kind: "s3", bucket: spec.bucket, region: spec.region, forcePathStyle: spec.endpoints.s3 !== undefined, prefix: spec.bucketPrefix ? spec.bucketPrefix.replace(/\/?$/, "/") : "" });
}

export function agentArgs(spec: ResolvedSpec, zone: string): string[] {
  return [
    "agent",
    "-ingestionBucketURL",
    ingestionUrl(spec),
    "-compactionBucketURL",
    compactionUrl(spec),
    "-batchTimeout",
    spec.batchTimeout,
    "-kafkaPort",
    String(KAFKA_PORT),
    "-httpPort",
    String(HTTP_PORT),
    "-availabilityZone",
    zone,
  ];
}

export function agentEnv(spec: ResolvedSpec): V1EnvVar[] {
  const env: V1EnvVar[] = [
    { name: "WARP_ADVERTISED_HOST", valueFrom: { fieldRef: { fieldPath: "status.podIP" } } },
    { name: "AWS_REGION", value: spec.region },
  ];
  if (spec.endpoints.dynamodb) env.push({ name: "AWS_ENDPOINT_URL_DYNAMODB", value: spec.endpoints.dynamodb });
  if (spec.endpoints.s3) env.push({ name: "AWS_ENDPOINT_URL_S3", value: spec.endpoints.s3 });
  const ours = new Set(env.map((e) => e.name));
  for (const e of spec.env) {
    if (ours.has(e.name)) continue; // the operator's own variables win; documented in docs/operator.md
    const v: V1EnvVar = { name: e.name };
    if (e.value !== undefined) v.value = e.value;
    if (e.valueFrom !== undefined) v.valueFrom = e.valueFrom as V1EnvVar["valueFrom"];
    env.push(v);
  }
  return env;
}

function quantities(m: Record<string, string | number>): Record<string, string> {
  return Object.fromEntries(Object.entries(m).map(([k, v]) => [k, String(v)]));
}

export function resourceRequirements(r: ResourcesSpec): V1ResourceRequirements {
  const out: V1ResourceRequirements = {};
  if (r.requests) out.requests = quantities(r.requests);
  if (r.limits) out.limits = quantities(r.limits);
  return out;
}

export function desiredDeployment(agent: WarpAgent, spec: ResolvedSpec, zone: string, replicas: number): V1Deployment {
  const selector = { ...agentSelector(spec.name), [LABEL_ZONE]: zone };
  const labels = { ...commonLabels(spec.name), [LABEL_COMPONENT]: "agent", [LABEL_ZONE]: zone };
  return {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name: deploymentName(spec.name, zone), namespace: spec.namespace, labels, ownerReferences: [ownerReference(agent)] },
    spec: {
      replicas,
      selector: { matchLabels: selector },
      strategy: { type: "RollingUpdate", rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } },
      template: {
        metadata: { labels },
        spec: {
          serviceAccountName: spec.serviceAccountName,
          terminationGracePeriodSeconds: 30,
          // The image runs as uid 1000; nothing in the pod may run as root or gain privileges.
          securityContext: { runAsNonRoot: true, runAsUser: 1000, runAsGroup: 1000, fsGroup: 1000, seccompProfile: { type: "RuntimeDefault" } },
          // The root filesystem is read-only: the agent writes nothing locally (DynamoDB + S3); /tmp is scratch.
          volumes: [{ name: "tmp", emptyDir: { sizeLimit: "64Mi" } }],
          affinity: {
            nodeAffinity: {
              requiredDuringSchedulingIgnoredDuringExecution: {
                nodeSelectorTerms: [{ matchExpressions: [{ key: ZONE_LABEL, operator: "In", values: [zone] }] }],
              },
            },
          },
          containers: [
            {
              name: AGENT_CONTAINER,
              image: spec.image,
              ...(spec.imagePullPolicy ? { imagePullPolicy: spec.imagePullPolicy } : {}),
              command: ["warp"],
              args: agentArgs(spec, zone),
              env: agentEnv(spec),
              ports: [
                { name: "kafka", containerPort: KAFKA_PORT, protocol: "TCP" },
                { name: "http", containerPort: HTTP_PORT, protocol: "TCP" },
              ],
              livenessProbe: { httpGet: { path: "/healthz", port: "http" }, periodSeconds: 10, failureThreshold: 3 },
              readinessProbe: { httpGet: { path: "/readyz", port: "http" }, periodSeconds: 5, failureThreshold: 2 },
              ...(spec.resources ? { resources: resourceRequirements(spec.resources) } : {}),
              securityContext: { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ["ALL"] } },
              volumeMounts: [{ name: "tmp", mountPath: "/tmp" }],
            },
          ],
        },
      },
    },
  };
}
