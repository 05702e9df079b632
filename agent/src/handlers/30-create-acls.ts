/**
 * CreateAcls (30), v1–3 (the versions Kafka 4 serves; v2+ flexible). Needs ALTER on the cluster
 * (CLUSTER_AUTHORIZATION_FAILED for every creation otherwise); with authorization off every creation
 * answers SECURITY_DISABLED, as a Kafka broker without an authorizer. Each binding is checked strictly
 * (metadata/acls.ts: a TOPIC, GROUP, CLUSTER or TRANSACTIONAL_ID resource, LITERAL or PREFIXED, a
 * `User:` principal, `*` or an IP host, an operation that applies to the resource type, ALLOW or DENY;
 * INVALID_REQUEST with a message otherwise) and the valid ones are added through the metadata log
 * (`createAcls`), so every agent enforces them once it has read the entry (within a tail poll). A binding
 * that exists already succeeds without being added twice. A code Kafka does not define closes the
 * connection, as Kafka does. Beyond the cluster's limit of bindings (metadata/limits.ts) the creations
 * answer INVALID_REQUEST; when the log cannot be written, REQUEST_TIMED_OUT (retriable).
 */
import { errorMessage } from "../../../common/logger.js";
import type { AclBinding } from "../metadata/acls.js";
import { aclKey } from "../metadata/acls.js";
import type { Command } from "../metadata/commands.js";
import { jsonCommandSize } from "../metadata/entry-codec.js";
import { aclCountProblem } from "../metadata/limits.js";
import { FormatNotReadByAllError, ProposalOutcomeUnknownError } from "../metadata/proposal.js";
import { ApiKey, ErrorCode } from "../protocol/index.js";
import { defineHandler } from "../server/handler.js";
import { aclRequestRefusal, bindingFromWire } from "./acl-support.js";
import { clusterAllowed } from "./authorization.js";

/** Bindings per `createAcls` command: well under the log's entry limit (a binding is about 200 bytes). */
const COMMAND_BUDGET_BYTES = 64 * 1024;

defineHandler({ key: ApiKey.CreateAcls, min: 1, max: 3 }, async (req, ctx) => {
  const { agent } = ctx;
  const parsed = req.creations.map((c, i) =>
    bindingFromWire(`creation ${i}`, {
      resourceType: c.resourceType,
      resourceName: c.resourceName,
      patternType: c.resourcePatternType,
      principal: c.principal,
      host: c.host,
      operation: c.operation,
      permissionType: c.permissionType,
    }),
  );
  const refusal = aclRequestRefusal(ctx, clusterAllowed(ctx, "ALTER"));
  if (refusal) return { throttleTimeMs: 0, results: parsed.map(() => refusal) };

  const results: Array<{ errorCode: number; errorMessage: string | null }> = parsed.map((p) =>
    "problem" in p
      ? { errorCode: ErrorCode.INVALID_REQUEST, errorMessage: p.problem }
      : { errorCode: ErrorCode.NONE, errorMessage: null },
  );
  const valid: Array<{ at: number; binding: AclBinding }> = [];
  parsed.forEach((p, at) => {
    if ("binding" in p) valid.push({ at, binding: p.binding });
  });
  if (valid.length === 0) return { throttleTimeMs: 0, results };

  const acls = agent.metadata.state.acls;
  const fresh = new Set(valid.filter((v) => !acls.has(v.binding)).map((v) => aclKey(v.binding)));
  const limit = aclCountProblem(fresh.size, acls.size);
  const fail = (errorCode: number, message: string) => {
    for (const { at } of valid) results[at] = { errorCode, errorMessage: message };
    return { throttleTimeMs: 0, results };
  };
  if (limit) return fail(ErrorCode.INVALID_REQUEST, limit);

  // One command per budget's worth of bindings; each creation's result is its command's.
  const commands: Command[] = [];
  const commandOf: number[] = [];
  let current: AclBinding[] = [];
  let bytes = 0;
  const budget = Math.min(COMMAND_BUDGET_BYTES, agent.metadata.maxCommandBytes);
  for (const { binding } of valid) {
    const size = jsonCommandSize({ type: "createAcls", acls: [binding] });
    if (current.length > 0 && bytes + size > budget) {
      commands.push({ type: "createAcls", acls: current });
      current = [];
      bytes = 0;
    }
    current.push(binding);
    bytes += size;
    commandOf.push(commands.length);
  }
  commands.push({ type: "createAcls", acls: current });

  let folded;
  try {
    folded = await agent.metadata.propose(commands);
  } catch (err) {
    if (err instanceof FormatNotReadByAllError) return fail(ErrorCode.UNSUPPORTED_VERSION, err.message);
    agent.log.warn("CreateAcls: the metadata log could not be written", { error: errorMessage(err) });
    return fail(
      ErrorCode.REQUEST_TIMED_OUT,
      err instanceof ProposalOutcomeUnknownError
        ? `the ACLs may or may not have been created, check and try again: ${errorMessage(err)}`
        : `the metadata log could not be written, try again: ${errorMessage(err)}`,
    );
  }
  valid.forEach(({ at }, i) => {
    const r = folded[commandOf[i]!]!;
    if (r.errorCode !== ErrorCode.NONE) results[at] = { errorCode: r.errorCode, errorMessage: r.message ?? null };
  });
  agent.log.info("ACLs created", {
    conn: ctx.connection.id,
    remote: ctx.connection.remoteAddress,
    bindings: valid.length,
  });
  return { throttleTimeMs: 0, results };
});
