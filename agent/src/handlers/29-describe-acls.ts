/**
 * DescribeAcls (29), v1–3. Needs DESCRIBE on the cluster (CLUSTER_AUTHORIZATION_FAILED otherwise);
 * SECURITY_DISABLED with authorization off. Lists the bindings the filter matches, grouped by resource
 * pattern, as Kafka's AclBindingFilter decides: ANY (and a null name, principal or host) matches
 * anything, MATCH matches the bindings that apply to the named resource (its literal name, the `*`
 * wildcard, prefixes of it). The log's tail is read first (at most a second), so bindings created through
 * another agent are listed. A code Kafka does not define closes the connection, as Kafka does.
 */
import { catchUpWithin } from "../fetch/catch-up.js";
import type { AclBinding } from "../metadata/acls.js";
import { ApiKey, ErrorCode } from "../protocol/index.js";
import { defineHandler } from "../server/handler.js";
import { aclRequestRefusal, bindingToWire, filterFromWire } from "./acl-support.js";
import { clusterAllowed } from "./authorization.js";

defineHandler({ key: ApiKey.DescribeAcls, min: 1, max: 3 }, async (req, ctx) => {
  const { agent } = ctx;
  const filter = filterFromWire("filter", {
    resourceType: req.resourceTypeFilter,
    resourceName: req.resourceNameFilter,
    patternType: req.patternTypeFilter,
    principal: req.principalFilter,
    host: req.hostFilter,
    operation: req.operation,
    permissionType: req.permissionType,
  });
  const refusal = aclRequestRefusal(ctx, clusterAllowed(ctx, "DESCRIBE"));
  if (refusal) return { throttleTimeMs: 0, ...refusal, resources: [] };
  await catchUpWithin(agent.metadata);
  const byPattern = new Map<string, AclBinding[]>();
  for (const b of agent.metadata.state.acls.matching(filter)) {
    const key = JSON.stringify([b.resourceType, b.patternType, b.resourceName]);
    const list = byPattern.get(key);
    if (list) list.push(b);
    else byPattern.set(key, [b]);
  }
  const resources = [...byPattern.keys()].sort().map((key) => {
    const list = byPattern.get(key)!;
    const first = bindingToWire(list[0]!);
    return {
      resourceType: first.resourceType,
      resourceName: first.resourceName,
      patternType: first.patternType,
      acls: list.map((b) => {
        const w = bindingToWire(b);
        return { principal: w.principal, host: w.host, operation: w.operation, permissionType: w.permissionType };
      }),
    };
  });
  return { throttleTimeMs: 0, errorCode: ErrorCode.NONE, errorMessage: null, resources };
});
