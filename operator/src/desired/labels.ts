/** Names and labels of the objects the operator owns for a WarpAgent. */
import { createHash } from "node:crypto";
import type { OwnerReference } from "../kube/client.js";
import { API_VERSION, KIND } from "../api/types.js";
import type { WarpAgent } from "../api/types.js";

export const LABEL_NAME = "app.kubernetes.io/name";
export const LABEL_INSTANCE = "app.kubernetes.io/instance";
export const LABEL_MANAGED_BY = "app.kubernetes.io/managed-by";
export const LABEL_COMPONENT = "app.kubernetes.io/component";
export const LABEL_ZONE = "warpagent.dev/zone";
export const APP_NAME = "warp-agent";
export const MANAGED_BY = "warp-operator";
/** Label selector for every object the operator manages (what its informers watch). */
export const MANAGED_SELECTOR = `${LABEL_MANAGED_BY}=${MANAGED_BY}`;
export const ZONE_LABEL = "topology.kubernetes.io/zone";

export function commonLabels(agentName: string): Record<string, string> {
  return { [LABEL_NAME]: APP_NAME, [LABEL_INSTANCE]: agentName, [LABEL_MANAGED_BY]: MANAGED_BY };
}

/** Selector of all agent pods of one WarpAgent. */
export function agentSelector(agentName: string): Record<string, string> {
  return { [LABEL_NAME]: APP_NAME, [LABEL_INSTANCE]: agentName, [LABEL_COMPONENT]: "agent" };
}

/** A selector as a string, e.g. for a scale subresource: "k1=v1,k2=v2". */
export function selectorString(labels: Record<string, string>): string {
  return Object.entries(labels)
    .map(([k, v]) => `${k}=${v}`)
    .join(",");
}

/** A DNS-1123 label built from parts, at most 63 characters (a hash keeps long names unique). */
export function dnsName(...parts: string[]): string {
  const raw = parts.join("-");
  const clean = raw
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, "-")
    .replace(/-+/g, "-")
    .replace(/^-|-$/g, "");
  if (clean === raw && clean.length <= 63) return clean;
  const hash = createHash("sha256").update(raw).digest("hex").slice(0, 8);
  return `${clean.slice(0, 54).replace(/-$/, "")}-${hash}`;
}

/**
 * A DNS-1123 label `<parts joined, sanitised>-<hash6>`, at most 63 characters. The hash is of the
 * parts themselves (not their joined text), so different part lists never give the same name unless
 * their hashes collide: `ab` + `c-d` and `ab-c` + `d` join to the same text but hash apart.
 */
export function hashedName(kind: string, ...parts: string[]): string {
  const hash = createHash("sha256")
    .update(JSON.stringify([kind, ...parts]))
    .digest("hex")
    .slice(0, 6);
  const clean = parts
    .join("-")
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, "-")
    .replace(/-+/g, "-")
    .replace(/^-|-$/g, "");
  return `${clean.slice(0, 63 - hash.length - 1).replace(/-$/, "")}-${hash}`;
}

/** The zone Deployment: `<agent>-<zone>-<hash6 of both>`. */
export function deploymentName(agentName: string, zone: string): string {
  return hashedName("deployment", agentName, zone);
}

export function ownerReference(agent: WarpAgent): OwnerReference {
  return {
    apiVersion: API_VERSION,
    kind: KIND,
    name: agent.metadata.name,
    uid: agent.metadata.uid ?? "",
    controller: true,
    blockOwnerDeletion: true,
  };
}
