/**
 * Shared by AlterConfigs (33) and IncrementalAlterConfigs (44): checks that the client may alter the
 * resource's configs (ALTER_CONFIGS on the topic, else TOPIC_AUTHORIZATION_FAILED; on the cluster for a
 * broker, else CLUSTER_AUTHORIZATION_FAILED), that it is an existing topic, validates the new values,
 * and applies them through the metadata log (unless validateOnly).
 */
import { validateTopicConfig } from "../metadata/topic-config.js";
import { ErrorCode } from "../protocol/index.js";
import type { RequestContext } from "../server/handler.js";
import { allowed, clusterAllowed } from "./authorization.js";

export const RESOURCE_TOPIC = 2;
export const RESOURCE_BROKER = 4;

export interface ConfigChangeResult {
  readonly resourceType: number;
  readonly resourceName: string;
  readonly errorCode: number;
  readonly errorMessage: string | null;
}

/**
 * `changes` maps keys to new values (null removes the key), or is a message saying why the request's
 * operations cannot be applied. `replace` swaps the whole config (AlterConfigs) instead of merging.
 */
export async function changeTopicConfig(
  ctx: RequestContext,
  resource: { readonly resourceType: number; readonly resourceName: string },
  changes: Readonly<Record<string, string | null>> | string,
  options: { readonly validateOnly: boolean; readonly replace: boolean },
): Promise<ConfigChangeResult> {
  const { agent } = ctx;
  const base = { resourceType: resource.resourceType, resourceName: resource.resourceName };
  if (resource.resourceType === RESOURCE_TOPIC && !allowed(ctx, "ALTER_CONFIGS", "TOPIC", resource.resourceName))
    return { ...base, errorCode: ErrorCode.TOPIC_AUTHORIZATION_FAILED, errorMessage: "Topic authorization failed." };
  if (resource.resourceType === RESOURCE_BROKER && !clusterAllowed(ctx, "ALTER_CONFIGS"))
    return {
      ...base,
      errorCode: ErrorCode.CLUSTER_AUTHORIZATION_FAILED,
      errorMessage: "Cluster authorization failed.",
    };
  if (resource.resourceType !== RESOURCE_TOPIC)
    return { ...base, errorCode: ErrorCode.INVALID_REQUEST, errorMessage: "only topic configs can be altered" };
  if (agent.topics.partitionCount(resource.resourceName) === null) {
    return {
      ...base,
      errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
      errorMessage: `topic ${resource.resourceName} does not exist`,
    };
  }
  if (typeof changes === "string") return { ...base, errorCode: ErrorCode.INVALID_CONFIG, errorMessage: changes };
  for (const [name, value] of Object.entries(changes)) {
    const problem = value === null ? null : validateTopicConfig(name, value);
    if (problem) return { ...base, errorCode: ErrorCode.INVALID_CONFIG, errorMessage: problem };
  }
  if (options.validateOnly) return { ...base, errorCode: ErrorCode.NONE, errorMessage: null };
  const result = await agent.topics.alterConfigs(resource.resourceName, changes, options.replace);
  return { ...base, errorCode: result.errorCode, errorMessage: result.message ?? null };
}
