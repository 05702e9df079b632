/**
 * DescribeClientQuotas (48), v0–1 (v1 flexible). The agents enforce no client quotas, so the answer is
 * always an empty list: true of every entity, and what `kafka-configs --entity-type users --describe`
 * asks for before it lists a user's SCRAM credentials. AlterClientQuotas is not served, so setting a quota
 * fails with UnsupportedVersionException instead of being silently ignored (docs/compatibility.md).
 *
 * Needs DESCRIBE_CONFIGS on the cluster (CLUSTER_AUTHORIZATION_FAILED otherwise), as Kafka. The filter is
 * checked as Kafka checks it (INVALID_REQUEST with a message): entity types `user`, `client-id` and `ip`,
 * each at most once, `ip` alone; match type 0 (exact) with a name, 1 (default) and 2 (any) without.
 */
import { ApiKey, ErrorCode } from "../protocol/index.js";
import { defineHandler } from "../server/handler.js";
import { clusterAllowed } from "./authorization.js";

const ENTITY_TYPES = new Set(["user", "client-id", "ip"]);
const MATCH_EXACT = 0;
const MATCH_DEFAULT = 1;
const MATCH_SPECIFIED = 2;

/** Why a filter is invalid (Kafka's wording where it has one), or null. */
function filterProblem(components: ReadonlyArray<{ entityType: string; matchType: number; match: string | null }>) {
  const types = new Set<string>();
  for (const c of components) {
    if (!ENTITY_TYPES.has(c.entityType)) return `Custom entity type '${c.entityType}' not supported`;
    if (types.has(c.entityType)) return `Duplicate ${c.entityType} filter component entity type`;
    types.add(c.entityType);
    if (c.matchType === MATCH_EXACT && c.match === null) return `Unexpected null match for entity type ${c.entityType}`;
    if ((c.matchType === MATCH_DEFAULT || c.matchType === MATCH_SPECIFIED) && c.match !== null)
      return `Unexpected match for entity type ${c.entityType} with match type ${c.matchType}`;
    if (c.matchType !== MATCH_EXACT && c.matchType !== MATCH_DEFAULT && c.matchType !== MATCH_SPECIFIED)
      return `Unknown match type ${c.matchType}`;
  }
  if (types.has("ip") && types.size > 1)
    return "Invalid entity filter component combination, IP filter component should not be used with user or clientId filter component.";
  return null;
}

defineHandler({ key: ApiKey.DescribeClientQuotas, min: 0, max: 1 }, async (req, ctx) => {
  if (!clusterAllowed(ctx, "DESCRIBE_CONFIGS"))
    return {
      throttleTimeMs: 0,
      errorCode: ErrorCode.CLUSTER_AUTHORIZATION_FAILED,
      errorMessage: "Cluster authorization failed.",
      entries: null,
    };
  const problem = filterProblem(req.components);
  if (problem) return { throttleTimeMs: 0, errorCode: ErrorCode.INVALID_REQUEST, errorMessage: problem, entries: null };
  return { throttleTimeMs: 0, errorCode: ErrorCode.NONE, errorMessage: null, entries: [] };
});
