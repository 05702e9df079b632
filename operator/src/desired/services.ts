/** The other objects a WarpAgent owns: bootstrap Service, headless agents Service, PDB, ServiceAccount. */
import type { V1PodDisruptionBudget, V1Service, V1ServiceAccount } from "@kubernetes/client-node";
import type { ResolvedSpec } from "../api/resolve.js";
import type { WarpAgent } from "../api/types.js";
import { HTTP_PORT, KAFKA_PORT } from "./deployment.js";
import { agentSelector, commonLabels, hashedName, ownerReference } from "./labels.js";

export function bootstrapServiceName(agentName: string): string {
  return agentName;
}
/** `<agent>-agents-<hash6>`: the hash keeps it apart from the bootstrap Service of a WarpAgent named `<agent>-agents`. */
export function headlessServiceName(agentName: string): string {
  return hashedName("headless", agentName, "agents");
}

/** host:port clients use to bootstrap. */
export function bootstrapAddress(spec: ResolvedSpec): string {
  return `${bootstrapServiceName(spec.name)}.${spec.namespace}.svc:${KAFKA_PORT}`;
}

function meta(agent: WarpAgent, spec: ResolvedSpec, name: string) {
  return { name, namespace: spec.namespace, labels: commonLabels(spec.name), ownerReferences: [ownerReference(agent)] };
}

export function desiredBootstrapService(agent: WarpAgent, spec: ResolvedSpec): V1Service {
  return {
    apiVersion: "v1",
    kind: "Service",
    metadata: meta(agent, spec, bootstrapServiceName(spec.name)),
    spec: {
      type: "ClusterIP",
      selector: agentSelector(spec.name),
      ports: [{ name: "kafka", port: KAFKA_PORT, targetPort: "kafka", protocol: "TCP" }],
    },
  };
}

export function desiredHeadlessService(agent: WarpAgent, spec: ResolvedSpec): V1Service {
  return {
    apiVersion: "v1",
    kind: "Service",
    metadata: meta(agent, spec, headlessServiceName(spec.name)),
    spec: {
      clusterIP: "None",
      selector: agentSelector(spec.name),
      publishNotReadyAddresses: false,
      ports: [
        { name: "kafka", port: KAFKA_PORT, targetPort: "kafka", protocol: "TCP" },
        { name: "http", port: HTTP_PORT, targetPort: "http", protocol: "TCP" },
      ],
    },
  };
}

export function desiredPodDisruptionBudget(agent: WarpAgent, spec: ResolvedSpec): V1PodDisruptionBudget {
  return {
    apiVersion: "policy/v1",
    kind: "PodDisruptionBudget",
    metadata: meta(agent, spec, spec.name),
    spec: { maxUnavailable: 1, selector: { matchLabels: agentSelector(spec.name) } },
  };
}

/** The agents' ServiceAccount, or null when the spec names one of its own. */
export function desiredServiceAccount(agent: WarpAgent, spec: ResolvedSpec): V1ServiceAccount | null {
  if (!spec.createServiceAccount) return null;
  return { apiVersion: "v1", kind: "ServiceAccount", metadata: meta(agent, spec, spec.serviceAccountName) };
}
