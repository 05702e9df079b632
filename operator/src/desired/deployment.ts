/**
 * desiredDeployment(agent, spec, zone, replicas): the agent Deployment of one zone, as a pure
 * function of the WarpAgent. The reconciler server-side applies exactly what this returns.
 */
import type { V1Deployment, V1EnvVar, V1ResourceRequirements, V1Volume, V1VolumeMount } from "@kubernetes/client-node";
import { DEFAULT_GRACEFUL_SHUTDOWN_MS } from "../../../agent/src/config/flags.js";
import { formatBucketUrl } from "../../../common/bucket-url.js";
import { parseGoDuration } from "../../../common/flags/values.js";
import type { ResolvedSasl, ResolvedSpec } from "../api/resolve.js";
import type { ResourcesSpec } from "../api/types.js";
import type { WarpAgent } from "../api/types.js";
import {
  LABEL_COMPONENT,
  LABEL_ZONE,
  ZONE_LABEL,
  agentSelector,
  commonLabels,
  deploymentName,
  ownerReference,
} from "./labels.js";

export const KAFKA_PORT = 9092;
export const HTTP_PORT = 8080;
export const AGENT_CONTAINER = "agent";
/** Where the Kafka listener's TLS Secret (tls.crt, tls.key, ca.crt) is mounted in agent pods. */
export const TLS_DIR = "/etc/warp/tls";
/** Where the SASL users file is mounted in agent pods. */
export const SASL_USERS_FILE = "/etc/warp/sasl/users";
/** Where a JWKS from a ConfigMap or Secret (spec.kafka.sasl.oauthbearer.jwks) is mounted in agent pods. */
export const OAUTH_JWKS_FILE = "/etc/warp/oauth/jwks.json";

/** The agent variable of its drain time (flag -gracefulShutdownDuration). */
export const DRAIN_ENV = "WARP_GRACEFUL_SHUTDOWN_DURATION";
/** Time after the drain for the agent to close its stores and exit before the kubelet kills it. */
export const TERMINATION_MARGIN_SECONDS = 15;
/** Requests of the agent container when spec.resources is not set. */
export const DEFAULT_REQUESTS: Readonly<Record<string, string>> = { cpu: "500m", memory: "512Mi" };

/** The pod's grace period: the agent's drain time (spec.env may set it) plus a margin. */
export function terminationGracePeriodSeconds(spec: ResolvedSpec): number {
  const set = spec.env.find((e) => e.name === DRAIN_ENV && e.value !== undefined);
  let drainMs = DEFAULT_GRACEFUL_SHUTDOWN_MS;
  if (set?.value !== undefined) {
    try {
      drainMs = parseGoDuration(set.value);
    } catch {
      // The agent refuses an unparseable value at start-up, naming the variable; keep the default.
    }
  }
  return Math.ceil(drainMs / 1000) + TERMINATION_MARGIN_SECONDS;
}

export function ingestionUrl(spec: ResolvedSpec): string {
  return formatBucketUrl({
    kind: "dynamodb",
    region: spec.region,
    filesTable: spec.filesTable,
    chunksTable: spec.chunksTable,
  });
}

export function compactionUrl(spec: ResolvedSpec): string {
  return formatBucketUrl({
    kind: "s3",
    bucket: spec.bucket,
    region: spec.region,
    forcePathStyle: spec.endpoints.s3 !== undefined,
    prefix: spec.bucketPrefix ? spec.bucketPrefix.replace(/\/?$/, "/") : "",
  });
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
    // The operator alone creates, adopts and deletes the tables: an agent starting while they are
    // being deleted must not create them again.
    "-createTables=false",
    ...listenerSecurityArgs(spec),
  ];
}

/**
 * Flags of the Kafka listener's TLS and SASL, reading the mounted Secrets, and of authorization
 * (docs/security.md).
 */
export function listenerSecurityArgs(spec: ResolvedSpec): string[] {
  const args: string[] = [];
  if (spec.kafkaTls) {
    args.push("-kafkaTLSCertFile", `${TLS_DIR}/tls.crt`, "-kafkaTLSKeyFile", `${TLS_DIR}/tls.key`);
    if (spec.kafkaTls.requireClientCert) args.push("-kafkaTLSClientCAFile", `${TLS_DIR}/ca.crt`);
  }
  if (spec.kafkaSasl) args.push(...saslArgs(spec.kafkaSasl));
  if (spec.kafkaPrincipalMappingRules)
    args.push("-kafkaTLSPrincipalMappingRules", spec.kafkaPrincipalMappingRules.join(","));
  if (spec.kafkaAuthorization) {
    args.push("-authorizationEnabled=true");
    if (spec.kafkaAuthorization.superUsers.length > 0)
      args.push("-superUsers", spec.kafkaAuthorization.superUsers.join(";"));
    if (spec.kafkaAuthorization.allowEveryoneIfNoAclFound) args.push("-allowEveryoneIfNoAclFound=true");
  }
  return args;
}

/** -kafkaSASL* flags: mechanisms, the mounted users file, the OAUTHBEARER checks, re-authentication. */
function saslArgs(sasl: ResolvedSasl): string[] {
  const args = ["-kafkaSASLMechanisms", sasl.mechanisms.join(",")];
  if (sasl.users) args.push("-kafkaSASLUsersFile", SASL_USERS_FILE);
  const o = sasl.oauthBearer;
  if (o) {
    args.push("-kafkaSASLOAuthJwksURL", o.jwks.kind === "url" ? o.jwks.url : `file://${OAUTH_JWKS_FILE}`);
    args.push("-kafkaSASLOAuthJwksRefreshInterval", o.jwksRefreshInterval);
    if (o.issuer !== undefined) args.push("-kafkaSASLOAuthIssuer", o.issuer);
    if (o.audience.length > 0) args.push("-kafkaSASLOAuthAudience", o.audience.join(","));
    args.push("-kafkaSASLOAuthPrincipalClaim", o.principalClaim, "-kafkaSASLOAuthClockSkew", o.clockSkew);
  }
  if (sasl.connectionsMaxReauth !== undefined) args.push("-kafkaConnectionsMaxReauth", sasl.connectionsMaxReauth);
  return args;
}

/** The directory of a file path. */
const dirOf = (file: string): string => file.slice(0, file.lastIndexOf("/"));

/** Volumes (and their mounts) of the agent pod: scratch /tmp, and the listener's Secrets when used. */
export function agentVolumes(spec: ResolvedSpec): { volumes: V1Volume[]; mounts: V1VolumeMount[] } {
  const volumes: V1Volume[] = [{ name: "tmp", emptyDir: { sizeLimit: "64Mi" } }];
  const mounts: V1VolumeMount[] = [{ name: "tmp", mountPath: "/tmp" }];
  if (spec.kafkaTls) {
    volumes.push({ name: "kafka-tls", secret: { secretName: spec.kafkaTls.secretName, defaultMode: 0o440 } });
    mounts.push({ name: "kafka-tls", mountPath: TLS_DIR, readOnly: true });
  }
  const users = spec.kafkaSasl?.users;
  if (users) {
    volumes.push({
      name: "kafka-sasl-users",
      secret: { secretName: users.secretName, defaultMode: 0o440, items: [{ key: users.key, path: "users" }] },
    });
    mounts.push({ name: "kafka-sasl-users", mountPath: dirOf(SASL_USERS_FILE), readOnly: true });
  }
  // The whole directory is mounted (no subPath), so a changed ConfigMap or Secret reaches the pods;
  // the agents read the file again every jwksRefreshInterval and when a token names an unknown key.
  const jwks = spec.kafkaSasl?.oauthBearer?.jwks;
  if (jwks && jwks.kind !== "url") {
    const items = [{ key: jwks.key, path: OAUTH_JWKS_FILE.slice(OAUTH_JWKS_FILE.lastIndexOf("/") + 1) }];
    volumes.push(
      jwks.kind === "configMap"
        ? { name: "kafka-oauth-jwks", configMap: { name: jwks.name, defaultMode: 0o440, items } }
        : { name: "kafka-oauth-jwks", secret: { secretName: jwks.name, defaultMode: 0o440, items } },
    );
    mounts.push({ name: "kafka-oauth-jwks", mountPath: dirOf(OAUTH_JWKS_FILE), readOnly: true });
  }
  return { volumes, mounts };
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
    if (e.valueFrom !== undefined) v.valueFrom = e.valueFrom;
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
  const { volumes, mounts } = agentVolumes(spec);
  const selector = { ...agentSelector(spec.name), [LABEL_ZONE]: zone };
  const labels = { ...commonLabels(spec.name), [LABEL_COMPONENT]: "agent", [LABEL_ZONE]: zone };
  return {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: {
      name: deploymentName(spec.name, zone),
      namespace: spec.namespace,
      labels,
      ownerReferences: [ownerReference(agent)],
    },
    spec: {
      replicas,
      selector: { matchLabels: selector },
      strategy: { type: "RollingUpdate", rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } },
      template: {
        metadata: { labels },
        spec: {
          serviceAccountName: spec.serviceAccountName,
          terminationGracePeriodSeconds: terminationGracePeriodSeconds(spec),
          // Agents of a zone spread over its nodes, so one node going away takes at most its share.
          topologySpreadConstraints: [
            {
              maxSkew: 1,
              topologyKey: "kubernetes.io/hostname",
              whenUnsatisfiable: "ScheduleAnyway",
              labelSelector: { matchLabels: selector },
              matchLabelKeys: ["pod-template-hash"],
            },
          ],
          // The image runs as uid 1000; nothing in the pod may run as root or gain privileges.
          securityContext: {
            runAsNonRoot: true,
            runAsUser: 1000,
            runAsGroup: 1000,
            fsGroup: 1000,
            seccompProfile: { type: "RuntimeDefault" },
          },
          // The root filesystem is read-only: the agent writes nothing locally (DynamoDB + S3); /tmp is scratch.
          volumes,
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
              resources: spec.resources ? resourceRequirements(spec.resources) : { requests: { ...DEFAULT_REQUESTS } },
              securityContext: {
                allowPrivilegeEscalation: false,
                readOnlyRootFilesystem: true,
                capabilities: { drop: ["ALL"] },
              },
              volumeMounts: mounts,
            },
          ],
        },
      },
    },
  };
}
