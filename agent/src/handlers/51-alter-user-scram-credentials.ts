/**
 * AlterUserScramCredentials (51), v0 (flexible): what `kafka-configs --entity-type users --alter
 * --add-config 'SCRAM-SHA-512=[password=…]'` and `--delete-config SCRAM-SHA-512` send. Needs ALTER on
 * the cluster (CLUSTER_AUTHORIZATION_FAILED for every user otherwise). One result per user named in the
 * request; a user's changes apply all or nothing, with Kafka's codes and messages:
 *
 *   UNACCEPTABLE_CREDENTIAL   empty user name, too few or too many iterations (Kafka's 4096–16384), an
 *                             empty salt, a salted password of the wrong length, or a user the users file
 *                             names (the file takes precedence: security/credentials.ts)
 *   UNSUPPORTED_SASL_MECHANISM  a mechanism other than SCRAM-SHA-256 (1) and SCRAM-SHA-512 (2)
 *   DUPLICATE_RESOURCE        the same user and mechanism twice in the request
 *   RESOURCE_NOT_FOUND        deleting a credential that does not exist
 *
 * The client sends the salt and SaltedPassword (it never sends the password); StoredKey and ServerKey
 * are computed here and only they, with the salt and iteration count, go into the metadata log
 * (`alterScramCredentials`, one command per user), so every agent accepts the login once it has read the
 * entry. The salted password is zeroed once used. Logs carry counts, never a user name or a key. When the
 * log cannot be written, REQUEST_TIMED_OUT (retriable).
 */
import { errorMessage } from "../../../common/logger.js";
import type { Command } from "../metadata/commands.js";
import { FormatNotReadByAllError, ProposalOutcomeUnknownError } from "../metadata/proposal.js";
import {
  MAX_SCRAM_SALT_BYTES,
  SCRAM_KEY_BYTES,
  scramIterationsProblem,
  scramMechanismName,
  scramUserProblem,
  type ScramCredentialRecord,
  type ScramMechanismName,
} from "../metadata/scram-credentials.js";
import { ApiKey, ErrorCode } from "../protocol/index.js";
import { scramCredentialFromSaltedPassword } from "../security/scram.js";
import { defineHandler } from "../server/handler.js";
import { clusterAllowed } from "./authorization.js";

interface UserResult {
  user: string;
  errorCode: number;
  errorMessage: string | null;
}

interface Refusal {
  readonly errorCode: number;
  readonly errorMessage: string;
}

const refuse = (errorCode: number, errorMessage: string): Refusal => ({ errorCode, errorMessage });

/** Commands per proposal: keeps each entry well under the log's entry limit (a command is about 400 bytes). */
const COMMANDS_PER_PROPOSAL = 100;

defineHandler({ key: ApiKey.AlterUserScramCredentials, min: 0, max: 0 }, async (req, ctx) => {
  const { agent } = ctx;
  // One result per user, in the order users first appear (deletions, then upsertions).
  const order: string[] = [];
  const perUser = new Map<
    string,
    { deletions: ScramMechanismName[]; upsertions: ScramCredentialRecord[]; refusal: Refusal | null }
  >();
  const entry = (user: string) => {
    let found = perUser.get(user);
    if (!found) {
      perUser.set(user, (found = { deletions: [], upsertions: [], refusal: null }));
      order.push(user);
    }
    return found;
  };
  for (const d of req.deletions) entry(d.name);
  for (const u of req.upsertions) entry(u.name);

  const respond = () => ({
    throttleTimeMs: 0,
    results: order.map((user): UserResult => {
      const r = perUser.get(user)!.refusal;
      return { user, errorCode: r?.errorCode ?? ErrorCode.NONE, errorMessage: r?.errorMessage ?? null };
    }),
  });
  const wipe = () => {
    for (const u of req.upsertions) u.saltedPassword.fill(0);
  };

  if (!clusterAllowed(ctx, "ALTER")) {
    wipe();
    for (const e of perUser.values())
      e.refusal = refuse(ErrorCode.CLUSTER_AUTHORIZATION_FAILED, "Cluster authorization failed.");
    return respond();
  }

  // Each user's first problem decides its result (Kafka checks names, then mechanisms, then duplicates).
  const seen = new Map<string, Set<ScramMechanismName>>();
  const alteration = (user: string, code: number): ScramMechanismName | null => {
    const e = perUser.get(user)!;
    if (e.refusal) return null;
    const userProblem = scramUserProblem(user);
    if (userProblem) {
      e.refusal = refuse(ErrorCode.UNACCEPTABLE_CREDENTIAL, userProblem);
      return null;
    }
    const mechanism = scramMechanismName(code);
    if (!mechanism) {
      e.refusal = refuse(ErrorCode.UNSUPPORTED_SASL_MECHANISM, "Unknown SCRAM mechanism");
      return null;
    }
    let mechanisms = seen.get(user);
    if (!mechanisms) seen.set(user, (mechanisms = new Set()));
    if (mechanisms.has(mechanism)) {
      e.refusal = refuse(ErrorCode.DUPLICATE_RESOURCE, "A user credential cannot be altered twice in the same request");
      return null;
    }
    mechanisms.add(mechanism);
    return mechanism;
  };
  for (const d of req.deletions) {
    const mechanism = alteration(d.name, d.mechanism);
    if (mechanism) perUser.get(d.name)!.deletions.push(mechanism);
  }
  for (const u of req.upsertions) {
    const mechanism = alteration(u.name, u.mechanism);
    const e = perUser.get(u.name)!;
    if (!mechanism || e.refusal) continue;
    const iterations = scramIterationsProblem(u.iterations);
    if (iterations) e.refusal = refuse(ErrorCode.UNACCEPTABLE_CREDENTIAL, iterations);
    else if (u.salt.length === 0) e.refusal = refuse(ErrorCode.UNACCEPTABLE_CREDENTIAL, "Salt must not be empty");
    else if (u.salt.length > MAX_SCRAM_SALT_BYTES)
      e.refusal = refuse(ErrorCode.UNACCEPTABLE_CREDENTIAL, `Salt must be at most ${MAX_SCRAM_SALT_BYTES} bytes`);
    else if (u.saltedPassword.length !== SCRAM_KEY_BYTES[mechanism])
      e.refusal = refuse(
        ErrorCode.UNACCEPTABLE_CREDENTIAL,
        `The salted password must be ${SCRAM_KEY_BYTES[mechanism]} bytes for ${mechanism}`,
      );
    else {
      const c = scramCredentialFromSaltedPassword(mechanism, Buffer.from(u.salt), u.iterations, u.saltedPassword);
      e.upsertions.push({
        mechanism,
        iterations: u.iterations,
        salt: c.salt.toString("base64"),
        storedKey: c.storedKey.toString("base64"),
        serverKey: c.serverKey.toString("base64"),
      });
    }
  }
  wipe();

  const file = agent.usersFile();
  const state = agent.metadata.state.scramCredentials;
  const commands: Array<{ user: string; command: Command }> = [];
  for (const user of order) {
    const e = perUser.get(user)!;
    if (e.refusal) continue;
    if (file.has(user)) {
      e.refusal = refuse(
        ErrorCode.UNACCEPTABLE_CREDENTIAL,
        "This user is defined in the agents' users file (-kafkaSASLUsersFile), which takes precedence: change it there",
      );
      continue;
    }
    if (e.deletions.some((m) => !state.credential(user, m))) {
      e.refusal = refuse(ErrorCode.RESOURCE_NOT_FOUND, "Attempt to delete a user credential that does not exist");
      continue;
    }
    commands.push({
      user,
      command: { type: "alterScramCredentials", user, upsertions: e.upsertions, deletions: e.deletions },
    });
  }

  let altered = 0;
  for (let at = 0; at < commands.length; at += COMMANDS_PER_PROPOSAL) {
    const chunk = commands.slice(at, at + COMMANDS_PER_PROPOSAL);
    let folded;
    try {
      folded = await agent.metadata.propose(chunk.map((c) => c.command));
    } catch (err) {
      if (err instanceof FormatNotReadByAllError) {
        for (const c of commands.slice(at))
          perUser.get(c.user)!.refusal = refuse(ErrorCode.UNSUPPORTED_VERSION, err.message);
        break;
      }
      agent.log.warn("AlterUserScramCredentials: the metadata log could not be written", { error: errorMessage(err) });
      const message =
        err instanceof ProposalOutcomeUnknownError
          ? `the credentials may or may not have been altered, check and try again: ${errorMessage(err)}`
          : `the metadata log could not be written, try again: ${errorMessage(err)}`;
      for (const c of commands.slice(at)) perUser.get(c.user)!.refusal = refuse(ErrorCode.REQUEST_TIMED_OUT, message);
      break;
    }
    chunk.forEach((c, i) => {
      const r = folded[i]!;
      if (r.errorCode !== ErrorCode.NONE)
        perUser.get(c.user)!.refusal = refuse(r.errorCode, r.message ?? "not applied");
      else altered++;
    });
  }
  if (altered > 0)
    agent.log.info("SCRAM credentials altered", {
      conn: ctx.connection.id,
      remote: ctx.connection.remoteAddress,
      users: altered,
    });
  return respond();
});
