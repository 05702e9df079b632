/**
 * What a WarpAgent may ask the operator to run. The operator's identity can create Deployments in
 * every watched namespace; without a policy, anyone allowed to edit a WarpAgent could run any image,
 * under any service account of the namespace, with any Secret in its environment. The policy is the
 * operator's (flags / chart values), never the WarpAgent's (docs/security.md).
 */
import type { ResolvedSpec } from "./resolve.js";
import { DEFAULT_IMAGE } from "./types.js";

export interface AgentPolicy {
  /**
   * Image repositories agents may run. An entry allows the repository it names (any tag or digest);
   * an entry ending in "/" allows every repository below it.
   */
  readonly allowedImageRepositories: readonly string[];
  /**
   * Service accounts a WarpAgent may name in spec.serviceAccountName (exact names; a trailing "*"
   * matches any suffix). Empty: only the one the operator creates (<name>-agent).
   */
  readonly allowedServiceAccounts: readonly string[];
  /** Whether spec.env may read Secrets (valueFrom.secretKeyRef). */
  readonly allowSecretEnv: boolean;
}

/** The repository of an image reference: without its @digest and :tag. */
export function imageRepository(image: string): string {
  const noDigest = image.split("@", 1)[0]!;
  const lastSlash = noDigest.lastIndexOf("/");
  const colon = noDigest.indexOf(":", lastSlash + 1);
  return colon === -1 ? noDigest : noDigest.slice(0, colon);
}

export const DEFAULT_POLICY: AgentPolicy = {
  allowedImageRepositories: [imageRepository(DEFAULT_IMAGE)],
  allowedServiceAccounts: [],
  allowSecretEnv: false,
};

/** The flag that widens each part of the policy (named in violation messages). */
export const POLICY_FLAGS = {
  image: "-allowedImageRepositories",
  serviceAccount: "-allowedServiceAccounts",
  secretEnv: "-allowSecretEnv",
} as const;

export interface PolicyViolation {
  /** The spec field, e.g. "spec.image". */
  readonly field: string;
  readonly message: string;
}

function imageAllowed(image: string, allowed: readonly string[]): boolean {
  const repo = imageRepository(image);
  return allowed.some((a) => (a.endsWith("/") ? repo.startsWith(a) : repo === a));
}

function serviceAccountAllowed(name: string, allowed: readonly string[]): boolean {
  return allowed.some((a) => (a.endsWith("*") ? name.startsWith(a.slice(0, -1)) : name === a));
}

const list = (xs: readonly string[]): string => (xs.length ? xs.join(", ") : "(none)");

/** Every way `spec` leaves `policy`; empty when it stays inside. */
export function policyViolations(spec: ResolvedSpec, policy: AgentPolicy): PolicyViolation[] {
  const out: PolicyViolation[] = [];
  if (!imageAllowed(spec.image, policy.allowedImageRepositories))
    out.push({
      field: "spec.image",
      message: `image ${JSON.stringify(spec.image)} is not in an allowed repository (operator flag ${POLICY_FLAGS.image}: ${list(policy.allowedImageRepositories)})`,
    });
  if (!spec.createServiceAccount && !serviceAccountAllowed(spec.serviceAccountName, policy.allowedServiceAccounts))
    out.push({
      field: "spec.serviceAccountName",
      message: `service account ${JSON.stringify(spec.serviceAccountName)} is not allowed (operator flag ${POLICY_FLAGS.serviceAccount}: ${list(policy.allowedServiceAccounts)}; leave it empty to use the one the operator creates)`,
    });
  if (!policy.allowSecretEnv) {
    spec.env.forEach((e, i) => {
      if (e.valueFrom && "secretKeyRef" in e.valueFrom)
        out.push({
          field: `spec.env[${i}].valueFrom.secretKeyRef`,
          message: `env ${e.name} reads a Secret, which the operator does not allow (operator flag ${POLICY_FLAGS.secretEnv}=false)`,
        });
    });
  }
  return out;
}
