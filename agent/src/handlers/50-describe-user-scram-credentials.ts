/**
 * DescribeUserScramCredentials (50), v0 (flexible): what `kafka-configs --entity-type users --describe`
 * and Admin.describeUserScramCredentials send. Needs DESCRIBE on the cluster (CLUSTER_AUTHORIZATION_FAILED
 * for the whole request otherwise). Answers the mechanisms and iteration counts of each user's SCRAM
 * credentials, never a salt or key. Users come from the users file (which takes precedence, and whose
 * users are described from it) and from the metadata log (AlterUserScramCredentials); the log's tail is
 * read first (at most a second), so credentials created through another agent are listed.
 *
 * No users (null or empty): every user with a credential. Named users: one result each, in request
 * order; RESOURCE_NOT_FOUND for one without credentials, DUPLICATE_RESOURCE for one named twice (Kafka's
 * messages).
 */
import { catchUpWithin } from "../fetch/catch-up.js";
import { SCRAM_MECHANISM_CODES } from "../metadata/scram-credentials.js";
import { ApiKey, ErrorCode } from "../protocol/index.js";
import { defineHandler } from "../server/handler.js";
import type { RequestContext } from "../server/handler.js";
import { clusterAllowed } from "./authorization.js";

/** A user's credentials as the response lists them: the file's for a user it names, else the log's. */
function credentialInfos(ctx: RequestContext, user: string): Array<{ mechanism: number; iterations: number }> {
  const file = ctx.agent.usersFile();
  const described = file.has(user) ? file.describe(user) : ctx.agent.metadata.state.scramCredentials.describe(user);
  return described.map((d) => ({ mechanism: SCRAM_MECHANISM_CODES[d.mechanism], iterations: d.iterations }));
}

defineHandler({ key: ApiKey.DescribeUserScramCredentials, min: 0, max: 0 }, async (req, ctx) => {
  if (!clusterAllowed(ctx, "DESCRIBE"))
    return {
      throttleTimeMs: 0,
      errorCode: ErrorCode.CLUSTER_AUTHORIZATION_FAILED,
      errorMessage: "Cluster authorization failed.",
      results: [],
    };
  await catchUpWithin(ctx.agent.metadata);
  const found = (user: string) => ({
    user,
    errorCode: ErrorCode.NONE,
    errorMessage: null,
    credentialInfos: credentialInfos(ctx, user),
  });

  if (req.users === null || req.users.length === 0) {
    const names = new Set([...ctx.agent.usersFile().names(), ...ctx.agent.metadata.state.scramCredentials.users()]);
    const results = [...names]
      .sort()
      .map(found)
      .filter((r) => r.credentialInfos.length > 0);
    return { throttleTimeMs: 0, errorCode: ErrorCode.NONE, errorMessage: null, results };
  }

  const counts = new Map<string, number>();
  for (const { name } of req.users) counts.set(name, (counts.get(name) ?? 0) + 1);
  const answered = new Set<string>();
  const results = [];
  for (const { name } of req.users) {
    if (answered.has(name)) continue;
    answered.add(name);
    if (counts.get(name)! > 1) {
      results.push({
        user: name,
        errorCode: ErrorCode.DUPLICATE_RESOURCE,
        errorMessage: "Cannot describe SCRAM credentials for the same user twice in a single request",
        credentialInfos: [],
      });
      continue;
    }
    const r = found(name);
    results.push(
      r.credentialInfos.length > 0
        ? r
        : {
            user: name,
            errorCode: ErrorCode.RESOURCE_NOT_FOUND,
            errorMessage: "Attempt to describe a user credential that does not exist",
            credentialInfos: [],
          },
    );
  }
  return { throttleTimeMs: 0, errorCode: ErrorCode.NONE, errorMessage: null, results };
});
